"""Notebook polish (issue 17, item 5): reprs with units, HTML reprs, the Fitter's progress bar,
one-line CLI errors, examples that write only into the working directory, 'µV' labels."""
import os
import pathlib
import subprocess
import sys

import brainstate
import brainunit as u
import numpy as np
import pytest

import brainmass
from brainmass.datasets import Connectome, Signal
from brainmass.orchestration.fitter import Fitter

#: the tree whose examples are checked (BRAINMASS_POLISH_ROOT=/old/tree checks another one)
ROOT = pathlib.Path(os.environ.get('BRAINMASS_POLISH_ROOT', pathlib.Path(__file__).parents[1]))


# ----------------------------------------------------------------------------- reprs
def test_node_repr_shows_parameter_values_with_units():
    text = repr(brainmass.HopfStep(4, a=0.2))
    assert text == "HopfStep(in_size=(4,), a=0.2 kHz, w=0.2 kHz, beta=1 kHz, method='exp_euler')"
    assert '\n' not in repr(brainmass.JansenRitStep(3))
    assert 'Ae=3.25 mV' in repr(brainmass.JansenRitStep(3))


def test_node_repr_summarises_arrays_and_marks_trainable():
    node = brainmass.HopfStep(4, a=np.array([0.1, 0.2, 0.3, 0.4]) * u.Hz,
                              w=brainstate.nn.Param(0.3, fit=True))
    text = repr(node)
    assert 'a=(4,) 0.0001..0.0004 kHz' in text
    assert 'w=0.3 (fit)' in text


def test_simulator_repr_shows_model_dt_and_cached_programs():
    sim = brainmass.Simulator(brainmass.HopfStep(2), dt=0.1 * u.ms)
    assert repr(sim) == 'Simulator(model=HopfStep, dt=0.1 ms, 0 cached programs)'
    sim.run(1 * u.ms)
    assert repr(sim) == 'Simulator(model=HopfStep, dt=0.1 ms, 1 cached program)'


def test_network_html_repr_lists_nodes_coupling_k_delays_lookahead():
    net = brainmass.Network(brainmass.HopfStep(3), conn=np.ones((3, 3)), distance=np.full((3, 3), 5.0),
                            speed=1.0, coupled_var='x', k=0.25)
    html = net._repr_html_()
    for text in ('<table', '3 x HopfStep', 'DiffusiveCoupling', '0.25', '>x<', 'max 50 steps (5 ms',
                 f'{net.lookahead} steps'):
        assert text in html


def test_connectome_and_signal_html_reprs_are_escaped():
    conn = Connectome(np.array([[0., 2.], [1., 0.]]), distances=np.array([[0., 20.], [20., 0.]]) * u.mm,
                      labels=['<b>A&', 'B'], name='a<script>')
    html = conn._repr_html_()
    assert '&lt;b&gt;A&amp;' in html and '<script>' not in html and 'a&lt;script&gt;' in html
    assert '(2, 2) 0..20 mm' in html and 'regions' in html
    sig = Signal(np.zeros((10, 2)) * u.mV, dt=1 * u.ms, name='s')
    html = sig._repr_html_()
    assert '<table' in html and '1 ms' in html and '10 ms' in html and 'mV' in html


# ----------------------------------------------------------------------------- fitting
class _One(brainstate.nn.Module):
    def __init__(self):
        super().__init__()
        self.p = brainstate.nn.Param(0.2 * u.ms)


def _loss(m):
    return (u.get_magnitude(m.p.value().to(u.ms)) - 0.5) ** 2


def test_fit_result_html_repr_and_progress_bar(capsys):
    import braintools
    result = Fitter(_One(), braintools.optim.Adam(lr=0.05), loss_fn=_loss).fit(n_steps=20, progress=True)
    err = capsys.readouterr().err
    assert '\r[Fitter:grad] |' in err and '20/20' in err and err.endswith('\n')
    html = result._repr_html_()
    for text in ('grad', 'best loss', 'best p', ' ms', 'steps', 'ran to the end'):
        assert text in html
    with pytest.raises(TypeError, match='`progress` must be a bool'):
        Fitter(_One(), loss_fn=_loss).fit(n_steps=2, progress='yes')


# ----------------------------------------------------------------------------- CLI
def _cli(*args, cwd):
    return subprocess.run([sys.executable, '-m', 'brainmass', *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)  # the brainmass this interpreter imports (PYTHONPATH kept)


@pytest.mark.parametrize('args,message', [
    (('demo', '--duration', '5'), '--duration'),
    (('demo', '--duration', 'abc'), '--duration'),
    (('demo', '--duration', '1e9'), '--duration'),  # was an XLA abort
    (('demo', '--duration', '1e12'), '--duration'),  # was an OverflowError traceback
    (('demo', '--out', 'figure.txt'), '--out'),
    (('nonsense',), 'invalid choice'),
])
def test_cli_errors_are_one_line_exit_2(tmp_path, args, message):
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('brainmass: error: ') and message in lines[0]
    assert 'Traceback' not in proc.stderr


def test_cli_demo_short_duration_runs(tmp_path, monkeypatch, capsys):
    from brainmass.__main__ import main
    monkeypatch.chdir(tmp_path)
    assert main(['demo', '--duration', '50']) == 0
    assert (tmp_path / 'brainmass_demo.png').stat().st_size > 0
    assert 'simulated 50 ms' in capsys.readouterr().out


# ----------------------------------------------------------------------------- examples
def test_connectome_generator_writes_only_into_the_working_directory(tmp_path):
    bundled = ROOT / 'brainmass' / 'datasets' / 'data' / 'example_connectome.npz'
    before = bundled.stat().st_mtime_ns
    proc = subprocess.run([sys.executable, '-W', 'error::DeprecationWarning',
                           str(ROOT / 'examples' / 'make_example_connectome.py')],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ['example_connectome.npz']
    assert bundled.stat().st_mtime_ns == before
    with np.load(tmp_path / 'example_connectome.npz') as f, np.load(bundled) as g:
        np.testing.assert_array_equal(f['weights'], g['weights'])


def test_signal_generator_defaults_to_the_working_directory():
    import importlib.util
    import inspect
    spec = importlib.util.spec_from_file_location('mksig', ROOT / 'examples' / 'make_example_signal.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert inspect.signature(mod.main).parameters['out'].default == 'example_signal.npz'


def test_eeg_example_labels_microvolts():
    text = (ROOT / 'examples' / 'eeg_jansen_rit.py').read_text(encoding='utf-8')
    assert 'uV' not in text and 'µV' in text


# ----------------------------------------------------------------------------- µV
def test_viz_labels_use_the_micro_sign():
    import matplotlib.pyplot as plt
    x = np.linspace(0., 1., 300)[:, None] * np.ones(2) * u.uvolt
    ax = brainmass.viz.plot_timeseries(x, ts=np.arange(300) * u.usecond)
    assert ax.get_ylabel() == 'signal (µV)' and ax.get_xlabel() == 'time (µs)'
    ax = brainmass.viz.plot_power_spectrum(np.sin(np.arange(300.))[:, None] * u.uvolt, dt=1 * u.ms)
    assert ax.get_ylabel() == 'power (µV²/Hz)'
    plt.close('all')


def test_value_text_writes_micro_units():
    from brainmass._core.step import value_text
    assert value_text(2.5 * u.uvolt) == '2.5 µV'
    assert value_text(np.array([1., 3.]) * u.usecond) == '(2,) 1..3 µs'


def test_resting_state_example_prints_no_deprecation_warning():
    import importlib.util
    import warnings
    spec = importlib.util.spec_from_file_location('rsbold', ROOT / 'examples' / 'resting_state_bold.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with warnings.catch_warnings():
        warnings.simplefilter('error', DeprecationWarning)
        fc, bold = mod.guide_style(simulation_time=4)
    assert np.asarray(bold).shape == (2, 8)
