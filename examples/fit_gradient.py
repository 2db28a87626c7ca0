"""Recover the global coupling k and the node parameter a of a delay-coupled network by gradients.

The data: ``brainmass.datasets.load_dataset('example_signal')`` - x of 8 Hopf
nodes on the bundled ``example_connectome`` (delays from the tract lengths),
generated noise-free by ``examples/make_example_signal.py`` with the
parameters stored in ``Signal.params`` (k = 0.05, a = 0.1). When the file is
missing, the same simulation is run here to make the data (and the script says so).

k and a start 50 % off and are fitted with Adam in two stages: first on
phase-free features (FC + oscillation amplitude, whose landscape is wide),
then on the time-series RMSE (exact, but flat once the runs dephase).
``Fitter`` finds the trainable parameters (``brainstate.nn.Param(..., t=...)``)
by itself, and the model is traced and compiled once per fit.

Run::

    python examples/fit_gradient.py          # well under a minute on 2 CPU cores
"""
import braintools
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

import brainmass
from brainmass import objectives
from brainmass.orchestration.fitter import Fitter

#: the generating settings of example_signal (examples/make_example_signal.py)
SETTINGS = dict(a=0.1, w=0.3, k=0.05, speed_mm_per_ms=10.0, dt_sim_ms=0.1, transient_ms=100.0, duration_ms=300.0,
                sample_every=10, init_x=np.array([0.5, -0.3, 0.2, 0.4, -0.5, 0.1, -0.2, 0.3]))


def load_data():
    """(target (T, N), settings incl. the true k and a, source)."""
    try:
        sig = brainmass.datasets.load_dataset('example_signal')
    except FileNotFoundError:
        print('example_signal.npz is missing: generating the same data here (k = 0.05, a = 0.1).')
        settings = dict(SETTINGS)
        net, run = make_model(settings, settings['k'], settings['a'])
        return np.asarray(run(net)), settings, 'synthetic (example_signal settings)'
    settings = {**SETTINGS, **sig.params}
    return np.asarray(u.get_magnitude(sig.signal), dtype=np.float32), settings, 'example_signal'


def make_model(s, k, a):
    """The example_signal network with trainable k (SoftplusT: k >= 0) and a (SigmoidT: -1 < a < 1).

    Returns ``(net, predict)``; ``predict(net)`` simulates and returns the sampled x.
    """
    dt = s['dt_sim_ms'] * u.ms
    brainstate.environ.set(dt=dt)
    conn = brainmass.datasets.load_dataset('example_connectome')
    node = brainmass.HopfStep(conn.n_regions, a=brainstate.nn.Param(a, t=brainstate.nn.SigmoidT(-1., 1.)),
                              w=s['w'], init_x=np.asarray(s['init_x']), init_y=0.)
    net = brainmass.Network(node, conn=conn.weights, distance=conn.distances,
                            speed=s['speed_mm_per_ms'] * u.mm / u.ms, coupled_var='x',
                            k=brainstate.nn.Param(k, t=brainstate.nn.SoftplusT(0.)),
                            delay_init=braintools.init.Constant(0.))
    sim = brainmass.Simulator(net, dt=dt)

    def predict(model):
        return sim.run(s['duration_ms'] * u.ms, monitors=['node.x'], transient=s['transient_ms'] * u.ms,
                       sample_every=int(s['sample_every']))['node.x']
    return net, predict


def amplitude_mse(prediction, target):
    """Mismatch of each region's oscillation amplitude (standard deviation): phase-free."""
    return jnp.mean((jnp.std(prediction, axis=0) - jnp.std(target, axis=0)) ** 2)


def main():
    target, s, source = load_data()
    true = dict(k=float(s['k']), a=float(s['a']))
    net, predict = make_model(s, 0.5 * true['k'], 0.5 * true['a'])  # start 50 % off

    # Stage 1 - phase-free features: the time-series error is flat (the runs dephase) once k is more
    # than ~10 % off, but FC and the oscillation amplitude change smoothly with k and a.
    coarse = objectives.combine((1.0, objectives.fc_rmse()), (10.0, amplitude_mse))
    stage1 = Fitter(net, braintools.optim.Adam(lr=0.05), predict=predict, objective=coarse).fit(
        target, n_steps=150, verbose=True)
    # Stage 2 - the time series itself, from where stage 1 left the model.
    stage2 = Fitter(net, braintools.optim.Adam(lr=0.01), predict=predict,
                    objective=objectives.timeseries_rmse()).fit(target, n_steps=100, verbose=True)

    print(stage1)
    print(stage2)
    print(f'data: {source}, {target.shape[0]} samples x {target.shape[1]} regions')
    for name, path in (('k', 'k'), ('a', 'node.a')):
        mid, got = float(stage1.best_params[path]), float(stage2.best_params[path])
        print(f'{name}: true {true[name]:.4f}  start {0.5 * true[name]:.4f}  after stage 1 {mid:.4f}  '
              f'recovered {got:.4f}  error {abs(got - true[name]) / abs(true[name]):.2%}')


if __name__ == '__main__':
    main()
