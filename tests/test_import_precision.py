"""float64 asked for before `import brainmass` stays on (importing brainstate resets jax_enable_x64)."""
import subprocess
import sys


def _run(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)


def test_x64_set_before_the_import_is_kept():
    proc = _run("import jax; jax.config.update('jax_enable_x64', True)\n"
                "import brainmass, brainstate, brainunit as u\n"
                "node = brainmass.HopfStep(1, init_x=0.1)\n"
                "out = brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms)['output']\n"
                "print(jax.config.jax_enable_x64, brainstate.environ.get_precision(), u.get_magnitude(out).dtype)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['True', '64', 'float64']


def test_default_stays_float32():
    proc = _run("import brainmass, brainstate, jax\nprint(jax.config.jax_enable_x64, brainstate.environ.get_precision())")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ['False', '32']
