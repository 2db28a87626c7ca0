"""Claims of the documentation that a trust audit corrected, pinned to what the code does.

Each test names the page and the claim it checks. The numerical agreement claims of
``docs/analysis.md`` (Welch and Hilbert phase against scipy, to float rounding) and
``docs/objectives.md`` (FC against ``np.corrcoef``, to float rounding) are covered by
``tests/test_analysis.py`` and ``tests/test_objectives.py``.
"""
import warnings

import braintools
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass import objectives
from brainmass.orchestration.run_plan import RunPlan


# ------------------------------------------------------------------ docs/simulator.md
def _plan(duration, transient=None, sample_every=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        plan = RunPlan.build(duration, transient, sample_every, 0.1 * u.ms)
    return plan, [str(w.message) for w in caught]


def test_duration_rounding_warns_only_beyond_one_part_in_a_million():
    # simulator.md: "rounded to the nearest whole step, with a warning when it is off by more
    # than one part in 10^6 (so from 5 x 10^5 steps on, up to half a step is rounded away silently)"
    plan, msgs = _plan(0.35 * u.ms)                      # 3.5 steps: nearest (3), with a warning
    assert plan.n_steps == 3 and len(msgs) == 1 and '`duration`' in msgs[0]
    plan, msgs = _plan(0.3 * u.ms)                       # 2.9999999999999996 steps: a multiple
    assert plan.n_steps == 3 and msgs == []
    plan, msgs = _plan(100000.05 * u.ms)                 # 1e6 + 0.5 steps: rounded, no warning
    assert plan.n_steps == 1_000_000 and msgs == []
    plan, msgs = _plan(10 * u.ms, transient=1.05 * u.ms, sample_every=0.25 * u.ms)
    assert (plan.n_transient, plan.sample_every) == (10, 2)
    assert len(msgs) == 2 and '`transient`' in msgs[0] and '`sample_every`' in msgs[1]


def test_batch_member_equals_single_run_to_rounding():
    # simulator.md: "Each batch member equals the run with that single value to float rounding
    # (not bit for bit ...)"
    brainstate.environ.set(dt=0.1 * u.ms)
    w = np.array([[0., 1., .5], [1., 0., .2], [.5, .2, 0.]])
    d = np.array([[0., 2., 3.], [2., 0., 1.5], [3., 1.5, 0.]]) * u.mm

    def net(k):
        return brainmass.Network(brainmass.HopfStep(3, a=0.2, w=0.3, init_x=0.1), conn=w, distance=d,
                                 speed=1. * u.mm / u.ms, coupled_var='x', k=k)

    ks = np.array([0.1, 0.7])
    batched = np.asarray(brainmass.Simulator(net(jnp.asarray(ks).reshape(2, 1))).run(
        20 * u.ms, monitors=['node.x'], batch_size=2)['node.x'])
    for i, k in enumerate(ks):
        single = np.asarray(brainmass.Simulator(net(float(k))).run(20 * u.ms, monitors=['node.x'])['node.x'])
        np.testing.assert_allclose(batched[:, i], single, rtol=0, atol=1e-6)


# ------------------------------------------------------------------ docs/fitting.md, Fitter docstrings
def _fit_setup():
    brainstate.environ.set(dt=0.1 * u.ms)
    node = brainmass.HopfStep(2, a=brainstate.nn.Param(0.05, t=brainstate.nn.SigmoidT(-1., 1.)),
                              w=brainstate.nn.Param(0.25, t=brainstate.nn.SigmoidT(0.1, 0.5)), init_x=0.1)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    target = brainmass.Simulator(brainmass.HopfStep(2, a=0.1, w=0.3, init_x=0.1), dt=0.1 * u.ms).run(
        10 * u.ms, monitors=['x'], sample_every=5)['x']
    return node, sim, target


def test_best_loss_is_the_loss_the_model_holds_and_best_params_round_trip_to_rounding():
    # fitting.md: "`best_loss` ... exactly the loss of the parameters the model holds after the fit
    # (`fitter.evaluate()[0]`); writing `best_params` back ... can change the loss in its last bits"
    node, sim, target = _fit_setup()
    fitter = brainmass.Fitter(node, braintools.optim.Adam(lr=0.02),
                              predict=lambda m: sim.run(10 * u.ms, monitors=['x'], sample_every=5)['x'],
                              objective=objectives.timeseries_rmse())
    result = fitter.fit(target, n_steps=3)
    assert float(fitter.evaluate()[0]) == float(result.best_loss)
    again = float(fitter.evaluate(result.best_params)[0])
    assert again == pytest.approx(float(result.best_loss), rel=1e-4)


def test_a_second_fit_reuses_the_trace():
    # fitter/__init__.py: "traced and built at most once per fit - `Simulator.trace_count` grows by
    # one the first time; a later fit of the same model with the same settings ... adds none"
    node, sim, target = _fit_setup()

    def predict(m):
        return sim.run(10 * u.ms, monitors=['x'], sample_every=5)['x']

    first = brainmass.Fitter(node, braintools.optim.Adam(lr=0.02), predict=predict)
    first.fit(target, n_steps=1)
    assert sim.trace_count == 1 and first.trace_count == 1
    first.fit(target, n_steps=1)
    second = brainmass.Fitter(node, braintools.optim.Adam(lr=0.02), predict=predict)
    second.fit(target, n_steps=1)
    assert sim.trace_count == 1 and first.trace_count == 1 and second.trace_count == 0
