"""Generate ``example_signal.npz`` (bundled as ``brainmass/datasets/data/example_signal.npz``) with our own simulator.

A delay-coupled Hopf network on the bundled 8-region connectome, run from a
fixed initial state with no noise, so the generating parameters can be
recovered exactly (see examples/fit_gradient.py):

* node: ``HopfStep(8, a=0.1, w=0.3)`` (a in 1/ms, w in rad/ms), init_x below,
  init_y = 0;
* network: diffusive coupling on x, k = 0.05, speed 10 mm/ms, delay history 0;
* dt = 0.1 ms, 300 ms simulated, the first 100 ms discarded, x recorded every
  10 steps (1 ms sampling) -> ``signal`` of shape (200, 8).

Run::

    python examples/make_example_signal.py                 # writes ./example_signal.npz
    python examples/make_example_signal.py --out brainmass/datasets/data/example_signal.npz

(the second line, from the repository root, refreshes the bundled file).
"""
from pathlib import Path

import brainstate
import braintools
import brainunit as u
import numpy as np

import brainmass

PARAMS = dict(a=0.1, w=0.3, k=0.05, speed_mm_per_ms=10.0, dt_sim_ms=0.1, transient_ms=100.0, duration_ms=300.0,
              sample_every=10)
INIT_X = np.array([0.5, -0.3, 0.2, 0.4, -0.5, 0.1, -0.2, 0.3])


def simulate(a=PARAMS['a'], k=PARAMS['k']):
    """The generating simulation (also used by the fitting examples and tests)."""
    conn = brainmass.datasets.load_dataset('example_connectome')
    brainstate.environ.set(dt=PARAMS['dt_sim_ms'] * u.ms)
    node = brainmass.HopfStep(8, a=a, w=PARAMS['w'], init_x=INIT_X)
    net = brainmass.Network(node, conn=conn.weights, distance=conn.distances,
                            speed=PARAMS['speed_mm_per_ms'] * u.mm / u.ms, coupled_var='x', k=k,
                            delay_init=braintools.init.Constant(0.))
    sim = brainmass.Simulator(net, dt=PARAMS['dt_sim_ms'] * u.ms)
    res = sim.run(PARAMS['duration_ms'] * u.ms, monitors=['node.x'], transient=PARAMS['transient_ms'] * u.ms,
                  sample_every=PARAMS['sample_every'])
    return np.asarray(u.get_magnitude(res['node.x'])), conn


def main(out='example_signal.npz'):
    """Simulate and write the signal to ``out`` (default: the current working directory)."""
    signal, conn = simulate()
    fc = np.corrcoef(signal.T)
    out = Path(out)
    np.savez(out, signal=signal.astype(np.float32), dt_ms=np.float64(PARAMS['dt_sim_ms'] * PARAMS['sample_every']),
             labels=np.asarray(conn.labels).astype(str), fc=fc.astype(np.float32), param_init_x=INIT_X,
             **{f'param_{k}': np.float64(v) for k, v in PARAMS.items()})
    print(f'wrote {out}: signal {signal.shape}, mean |FC| off-diagonal '
          f'{np.abs(fc[~np.eye(len(fc), dtype=bool)]).mean():.3f}')


if __name__ == '__main__':
    import argparse
    parser = argparse.ArgumentParser(description='Generate the example Hopf-network signal (.npz).')
    parser.add_argument('--out', type=Path, default=Path('example_signal.npz'),
                        help='output file (default: ./example_signal.npz)')
    main(parser.parse_args().out)
