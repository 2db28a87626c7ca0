"""Recover k and a of the example_signal network with nevergrad and with scipy.

Same data and model as ``fit_gradient.py`` (8 delay-coupled Hopf nodes;
``example_signal``, or the same simulation when the file is missing), fitted
with the two other ``Fitter`` back ends:

1. ``backend='nevergrad'``: differential evolution searches the box
   k in [0, 0.2], a in [0, 0.3] (``search_space``; a SigmoidT/SoftplusT-bounded
   parameter gets its box from its transform) on phase-free features (FC +
   oscillation amplitude). Each generation of 16 candidates is ONE vmapped
   batch of simulations;
2. ``backend='scipy'``: L-BFGS-B with exact JAX gradients polishes on the
   time-series RMSE, started from where nevergrad left the model.

Run::

    python examples/fit_gradient_free.py     # well under a minute on 2 CPU cores
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fit_gradient import amplitude_mse, load_data, make_model  # noqa: E402

from brainmass import objectives  # noqa: E402
from brainmass.orchestration.fitter import Fitter  # noqa: E402


def main():
    target, s, source = load_data()
    true = dict(k=float(s['k']), a=float(s['a']))
    net, predict = make_model(s, 0.5 * true['k'], 0.5 * true['a'])  # start 50 % off

    coarse = objectives.combine((1.0, objectives.fc_rmse()), (10.0, amplitude_mse))
    search = Fitter(net, {'method': 'DE', 'n_sample': 16, 'seed': 0}, predict=predict, objective=coarse,
                    backend='nevergrad', search_space={'k': (0., 0.2), 'node.a': (0., 0.3)})
    ng_result = search.fit(target, n_steps=20, verbose=True)

    polish = Fitter(net, 'L-BFGS-B', predict=predict, objective=objectives.timeseries_rmse(), backend='scipy')
    sp_result = polish.fit(target, n_steps=30, verbose=True)

    print(ng_result)
    print(sp_result)
    print(f'data: {source}; {ng_result.n_evaluations} nevergrad + {sp_result.n_evaluations} scipy evaluations')
    for name, path in (('k', 'k'), ('a', 'node.a')):
        mid, got = float(ng_result.best_params[path]), float(sp_result.best_params[path])
        print(f'{name}: true {true[name]:.4f}  nevergrad {mid:.4f}  scipy {got:.4f}  '
              f'error {abs(got - true[name]) / abs(true[name]):.2%}')


if __name__ == '__main__':
    main()
