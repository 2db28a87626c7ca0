"""Fit the global coupling k of a noisy resting-state network to its FC and FCD.

A resting-state model: 8 Hopf nodes just below the bifurcation (a = -0.1 / ms,
10 Hz), driven by white noise, on the bundled ``example_connectome`` with
conduction delays (10 mm/ms). The "empirical" data: x at k = 1, 1 ms sampling,
4 independent 10 s runs (1 s transient dropped each) pooled into one (40000, 8)
recording, with one noise realisation. The fit simulates the same way with
*another* realisation, as with real data, so only statistics can match; the
objective is

    (1 - corr(FC_model, FC_data)) + W1(FCD_model, FCD_data)

(``objectives.fc_corr(as_loss=True)`` + ``objectives.fcd_wasserstein``: the FC
pattern and the distribution of the FC dynamics over 1 s windows, 0.2 s apart).
k starts at 0.5; differential evolution (``backend='nevergrad'``) searches
k in [0, 3] - each generation of 16 candidates is one vmapped batch of
simulations. Every evaluation uses the same noise stream (the state of
``brainstate.random`` when ``fit`` starts), so the objective is deterministic;
FC estimated from 40 s is itself noisy, so k is recovered only to within about
10-40 % depending on the realisations. (The objective is differentiable too:
``backend='grad'`` works - with k alone the Fitter differentiates in forward mode,
whose memory does not grow with the 40,000 steps; with more parameters add
``Simulator.run(..., checkpoint=True)`` - but gradient steps through 40,000 noisy
steps cost more time than this example allows on 2 CPU cores.)

Run::

    python examples/fit_fc.py                # well under a minute on 2 CPU cores
"""
import braintools
import brainstate
import brainunit as u
import numpy as np

import brainmass
from brainmass import objectives
from brainmass.orchestration.fitter import Fitter

DT = 1.0 * u.ms
K_TRUE = 1.0
N_RUNS = 4  # independent realisations pooled into one recording
WINDOW, STEP = 1000, 200  # FCD windows, in samples (1 ms)


def make_model(k):
    """(net, predict): the noisy Hopf network, k trainable (SoftplusT: k >= 0).

    ``predict`` runs ``N_RUNS`` independent 10 s realisations in one batched
    simulation and pools them along time: a (N_RUNS * 10000, 8) recording.
    """
    brainstate.environ.set(dt=DT)
    conn = brainmass.datasets.load_dataset('example_connectome')
    n = conn.n_regions
    node = brainmass.HopfStep(n, a=-0.1, w=2 * np.pi * 10 * u.Hz,
                              noise_x=brainmass.GaussianNoise(n, sigma=0.05),
                              noise_y=brainmass.GaussianNoise(n, sigma=0.05))
    net = brainmass.Network(node, conn=conn.weights, distance=conn.distances, speed=10 * u.mm / u.ms,
                            coupled_var='x', k=brainstate.nn.Param(k, t=brainstate.nn.SoftplusT(0.)),
                            delay_init=braintools.init.Constant(0.))
    sim = brainmass.Simulator(net, dt=DT)

    def predict(model):
        x = sim.run(11 * u.second, monitors=['node.x'], transient=1 * u.second, batch_size=N_RUNS)['node.x']
        return x.transpose(1, 0, 2).reshape(-1, n)  # (T, runs, N) -> (runs * T, N)
    return net, predict


def fc(x):
    return np.corrcoef(np.asarray(x).T)[np.triu_indices(x.shape[1], 1)]


def main():
    brainstate.random.seed(1)  # the "empirical" noise realisation
    net, predict = make_model(K_TRUE)
    data = np.asarray(predict(net))

    brainstate.random.seed(0)  # a different realisation for the model
    net, predict = make_model(0.5 * K_TRUE)
    objective = objectives.combine((1.0, objectives.fc_corr(as_loss=True)),
                                   (1.0, objectives.fcd_wasserstein(window_size=WINDOW, step_size=STEP)))
    fitter = Fitter(net, {'method': 'DE', 'n_sample': 16, 'seed': 0}, predict=predict, objective=objective,
                    backend='nevergrad', search_space={'k': (0., 3.)})
    result = fitter.fit(data, n_steps=8, verbose=True)

    print(result)
    k = float(result.best_params['k'])
    fit_fc = fc(result.prediction)
    print(f'data: {data.shape[0]} samples x {data.shape[1]} regions, mean FC {fc(data).mean():.3f}')
    print(f'k: true {K_TRUE:.3f}  start {0.5 * K_TRUE:.3f}  recovered {k:.3f}  error {abs(k - K_TRUE) / K_TRUE:.1%}')
    print(f'FC correlation model vs data: {np.corrcoef(fit_fc, fc(data))[0, 1]:.3f}; mean FC {fit_fc.mean():.3f}')


if __name__ == '__main__':
    main()
