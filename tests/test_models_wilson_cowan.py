"""Wilson-Cowan variants: right-hand sides, reduction to WilsonCowanStep, integrators, noise, networks."""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq, fsolve

import brainmass
from brainmass.models.wilson_cowan import WilsonCowanStep
from brainmass.models.wilson_cowan_variants import (
    WilsonCowanAdaptiveStep, WilsonCowanDelayedStep, WilsonCowanDivisiveInputStep, WilsonCowanDivisiveStep,
    WilsonCowanLinearStep, WilsonCowanLogisticStep, WilsonCowanNoSaturationStep, WilsonCowanSimplifiedStep,
    WilsonCowanSymmetricStep, WilsonCowanThreePopulationStep)

from _helpers import distinct_methods, mag, precision

DT = 0.1 * u.ms
VARIANTS = [WilsonCowanNoSaturationStep, WilsonCowanSymmetricStep, WilsonCowanSimplifiedStep,
            WilsonCowanLinearStep, WilsonCowanLogisticStep, WilsonCowanDivisiveStep, WilsonCowanDivisiveInputStep,
            WilsonCowanDelayedStep, WilsonCowanAdaptiveStep, WilsonCowanThreePopulationStep]
#: one trainable parameter per class for the gradient test
TRAINABLE = {WilsonCowanSymmetricStep: 'a', WilsonCowanSimplifiedStep: 'w_exc'}


def per_ms(q):
    return np.asarray(q.to_decimal(u.ms ** -1))


# ------------------------------------------------ numpy transcription of the equations
def S(z):
    return 1. / (1. + np.exp(-z))


def F(x, a, th):
    return S(a * (x - th)) - S(-a * th)


def relu_F(x, a, th):
    return np.maximum(a * (x - th), 0.) - np.maximum(-a * th, 0.)


BASE = dict(tau_E=1., tau_I=1., a_E=1.2, theta_E=2.8, a_I=1.0, theta_I=4.0, wEE=12., wIE=4., wEI=13.,
            wII=11., r=1.)


def wc_reference(cls, s, I):
    """d/dt (per ms) of every state of ``cls`` at default parameters, written from the equations."""
    p = BASE
    rE, rI = s['rE'], s['rI']
    IE, II = I['rE'], I['rI']
    sat_E, sat_I = 1. - rE, 1. - rI
    xE = p['wEE'] * rE - p['wIE'] * rI + IE
    xI = p['wEI'] * rE - p['wII'] * rI + II
    FE = lambda x: F(x, 1.2, 2.8)
    FI = lambda x: F(x, 1.0, 4.0)
    out = {}
    if cls is WilsonCowanNoSaturationStep:
        sat_E = sat_I = 1.
    elif cls is WilsonCowanSymmetricStep:
        FI = FE
    elif cls is WilsonCowanSimplifiedStep:
        xE = 8. * rE - 12. * rI + IE
        xI = 8. * rE - 12. * rI + II
    elif cls is WilsonCowanLinearStep:
        FE = lambda x: relu_F(x, 1.2, 2.8)
        FI = lambda x: relu_F(x, 1.0, 4.0)
    elif cls is WilsonCowanLogisticStep:
        FE = lambda x: S(1.2 * (x - 2.8))
        FI = lambda x: S(1.0 * (x - 4.0))
    elif cls is WilsonCowanDivisiveStep:
        xE = (12. * rE + IE) / (1. + 1. * rI) - 4. * rI
    elif cls is WilsonCowanDivisiveInputStep:
        xE = 12. * rE - 4. * rI + IE / (1. + np.abs(IE) / 1.)
        xI = 13. * rE - 11. * rI + II / (1. + np.abs(II) / 1.)
    elif cls is WilsonCowanAdaptiveStep:
        xE, xI = xE - s['aE'], xI - s['aI']
        out['aE'] = (-s['aE'] + 1.0 * rE + I['aE']) / 100.
        out['aI'] = (-s['aI'] + 0.0 * rI + I['aI']) / 80.
    elif cls is WilsonCowanThreePopulationStep:
        rM = s['rM']
        xE, xI = xE - 2. * rM, xI - 2. * rM
        xM = 10. * rE - 0. * rI - 0. * rM + I['rM']
        out['rM'] = (-rM + (1. - rM) * F(xM, 1.0, 4.0)) / 2.
    out['rE'] = -rE + sat_E * FE(xE)
    out['rI'] = -rI + sat_I * FI(xI)
    return out


@pytest.mark.parametrize('cls', [c for c in VARIANTS if c is not WilsonCowanDelayedStep])
def test_rhs_matches_numpy_transcription(cls):
    rng = np.random.default_rng(1)
    node = cls(5)
    with brainstate.environ.context(dt=DT):
        brainstate.nn.init_all_states(node)
        state = {v: rng.uniform(0.05, 0.9, 5) for v in cls.state_vars}
        inputs = {v: rng.normal(0.5, 1.0, 5) for v in cls.state_vars}
        got = node.derivative({v: jnp.asarray(x) for v, x in state.items()}, 0. * u.ms,
                              *[jnp.asarray(inputs[v]) for v in cls.state_vars])
    expect = wc_reference(cls, state, inputs)
    assert set(got) == set(cls.state_vars)
    for v in cls.state_vars:
        np.testing.assert_allclose(per_ms(got[v]), expect[v], rtol=2e-5, atol=1e-6, err_msg=v)


# ---------------------------------------------- every variant reduces to the base model
def _run(node, inputs, monitors=('rE', 'rI'), T=60 * u.ms):
    return brainmass.Simulator(node, dt=DT).run(T, inputs=inputs, monitors=list(monitors))


REDUCTIONS = [
    (lambda: WilsonCowanNoSaturationStep(2, init_rE=0.2),
     lambda: WilsonCowanStep(2, r=0., init_rE=0.2)),
    (lambda: WilsonCowanSymmetricStep(2, tau=2. * u.ms, a=1.1, theta=3.0, init_rE=0.2),
     lambda: WilsonCowanStep(2, tau_E=2. * u.ms, tau_I=2. * u.ms, a_E=1.1, a_I=1.1, theta_E=3., theta_I=3.,
                             init_rE=0.2)),
    (lambda: WilsonCowanSimplifiedStep(2, w_exc=8., w_inh=12., init_rE=0.2),
     lambda: WilsonCowanStep(2, wEE=8., wEI=8., wIE=12., wII=12., init_rE=0.2)),
    (lambda: WilsonCowanDivisiveStep(2, wIE_div=0., init_rE=0.2),
     lambda: WilsonCowanStep(2, init_rE=0.2)),
    (lambda: WilsonCowanDivisiveInputStep(2, sigma_E=None, sigma_I=None, init_rE=0.2),
     lambda: WilsonCowanStep(2, init_rE=0.2)),
    (lambda: WilsonCowanDelayedStep(2, delay_EE=0., delay_IE=0., delay_EI=0., delay_II=0., init_rE=0.2),
     lambda: WilsonCowanStep(2, init_rE=0.2)),
    (lambda: WilsonCowanAdaptiveStep(2, b_E=0., b_I=0., init_rE=0.2),
     lambda: WilsonCowanStep(2, init_rE=0.2)),
    (lambda: WilsonCowanThreePopulationStep(2, wME=0., wMI=0., init_rE=0.2),
     lambda: WilsonCowanStep(2, init_rE=0.2)),
]


@pytest.mark.parametrize('variant, base', REDUCTIONS, ids=[  # Linear, Logistic: a different transfer
    c.__name__ for c in VARIANTS if c not in (WilsonCowanLinearStep, WilsonCowanLogisticStep)])
def test_variant_reduces_to_wilson_cowan(variant, base):
    drive = np.random.default_rng(2).normal(1.0, 0.5, (600, 2))
    a, b = _run(variant(), drive), _run(base(), drive)
    for v in ('rE', 'rI'):
        np.testing.assert_allclose(mag(a[v]), mag(b[v]), rtol=1e-6, atol=1e-7)
    assert np.ptp(mag(a['rE'])) > 0.05  # a non-trivial trajectory


# --------------------------------------------------------- dynamical signatures
def _steady(node, P, T=400 * u.ms, monitors=('rE', 'rI')):
    res = brainmass.Simulator(node, dt=DT).run(T, inputs=P, monitors=list(monitors))
    return {k: float(mag(v)[-1, 0]) for k, v in res.items() if k != 'ts'}


def test_linear_steady_state_solves_threshold_linear_equations():
    P = 4.0
    got = _steady(WilsonCowanLinearStep(1, method='rk4'), P)

    def resid(x):
        rE, rI = x
        return [-rE + (1 - rE) * relu_F(12 * rE - 4 * rI + P, 1.2, 2.8),
                -rI + (1 - rI) * relu_F(13 * rE - 11 * rI, 1.0, 4.0)]
    rE, rI = fsolve(resid, [got['rE'], got['rI']])
    assert np.allclose(resid([rE, rI]), 0, atol=1e-10)
    assert got['rE'] == pytest.approx(rE, rel=1e-4) and got['rI'] == pytest.approx(rI, rel=1e-4)
    assert 0 < rE < 1  # bounded by 1/r


def _logistic_fixed_points(P):
    """Steady states of WilsonCowanLogisticStep at default parameters and E input P, in float64: r_I(r_E) by
    brentq (the r_I equation is monotone in r_I), then the roots of the r_E equation on a grid + brentq."""
    def rI_of(rE):
        return brentq(lambda rI: -rI + (1 - rI) * S(13 * rE - 11 * rI - 4.0), 0., 1., xtol=1e-16, rtol=1e-15)

    def g(rE):
        return -rE + (1 - rE) * S(1.2 * (12 * rE - 4 * rI_of(rE) + P - 2.8))
    grid = np.linspace(0., 1., 401)
    vals = [g(x) for x in grid]
    roots = [brentq(g, a, b, xtol=1e-16, rtol=1e-15)
             for a, b, va, vb in zip(grid[:-1], grid[1:], vals[:-1], vals[1:]) if va * vb < 0]
    return [(rE, rI_of(rE)) for rE in roots]


def _logistic_jacobian(rE, rI, P):
    """d(drE/dt, drI/dt)/d(rE, rI) per ms at default parameters (tau = 1 ms), S' = S (1 - S)."""
    zE, zI = 1.2 * (12 * rE - 4 * rI + P - 2.8), 13 * rE - 11 * rI - 4.0
    dE, dI = S(zE) * (1 - S(zE)), S(zI) * (1 - S(zI))
    return np.array([[-1 - S(zE) + (1 - rE) * dE * 1.2 * 12, -(1 - rE) * dE * 1.2 * 4],
                     [(1 - rI) * dI * 13, -1 - S(zI) - (1 - rI) * dI * 11]])


@pytest.mark.parametrize('bits', [32, 64])
def test_logistic_fixed_points_and_decay_rate(bits):
    """F(0) = S(-a theta) > 0, so with no input rest is not a steady state. At I_E = 0 the default node is
    bistable (scipy: a low and a high stable state, an unstable one between), at I_E = 1 monostable. Node 0
    starts at rest and settles on the low state, node 1 (rE = 0.5) on the high one, node 2 (I_E = 1) on its
    only one; node 0 approaches its state at the slowest eigenvalue of the Jacobian there."""
    low, saddle, high = _logistic_fixed_points(0.)
    (driven,) = _logistic_fixed_points(1.)
    lam = np.linalg.eigvals(_logistic_jacobian(*low, 0.))
    assert np.all(lam.real < 0) and np.max(np.linalg.eigvals(_logistic_jacobian(*saddle, 0.)).real) > 0
    slowest = -np.max(lam.real)  # 0.22 per ms; the other mode (1.26 per ms) is gone after 20 ms
    with precision(bits):
        node = WilsonCowanLogisticStep(3, init_rE=np.array([0., 0.5, 0.]), method='rk4')
        res = brainmass.Simulator(node, dt=DT).run(300 * u.ms, inputs=lambda i, t: np.array([0., 0., 1.]),
                                                   monitors=['rE', 'rI'])
        rE, rI = mag(res['rE']), mag(res['rI'])
    assert rE.dtype == (np.float64 if bits == 64 else np.float32)
    # float32 stalls within ~2e-7 of the fixed point (the step falls below half an ulp)
    atol = 1e-10 if bits == 64 else 1e-6
    np.testing.assert_allclose(rE[-1], [low[0], high[0], driven[0]], rtol=0, atol=atol)
    np.testing.assert_allclose(rI[-1], [low[1], high[1], driven[1]], rtol=0, atol=atol)
    # decay rate of |rE - rE*| (rk4: the flow's rate); float32 earlier, before round-off dominates
    t0, t1, rtol = (40., 70., 1e-4) if bits == 64 else (20., 40., 1e-2)
    dev = np.abs(rE[:, 0] - low[0])
    i0, i1 = int(round(t0 / 0.1)) - 1, int(round(t1 / 0.1)) - 1  # sample k is at t = (k + 1) dt
    assert np.log(dev[i0] / dev[i1]) / (t1 - t0) == pytest.approx(slowest, rel=rtol)


def test_adaptation_fixed_point_and_rate_reduction():
    P, b = 1.5, 1.5
    got = _steady(WilsonCowanAdaptiveStep(1, b_E=b, method='rk4'), P, T=1500 * u.ms,
                  monitors=('rE', 'rI', 'aE', 'aI'))

    def resid(x):
        rE, rI = x
        return [-rE + (1 - rE) * F(12 * rE - 4 * rI - b * rE + P, 1.2, 2.8),
                -rI + (1 - rI) * F(13 * rE - 11 * rI, 1.0, 4.0)]
    rE, rI = fsolve(resid, [got['rE'], got['rI']])
    assert got['rE'] == pytest.approx(rE, rel=1e-3)
    assert got['aE'] == pytest.approx(b * rE, rel=1e-3) and got['aI'] == pytest.approx(0., abs=1e-7)
    unadapted = _steady(WilsonCowanStep(1, method='rk4'), P)
    assert got['rE'] < unadapted['rE']


def test_divisive_inhibition_lowers_gain():
    P = 1.5
    res = brainmass.Simulator(WilsonCowanDivisiveStep(3, wIE_div=jnp.array([0., 2., 8.])), dt=DT).run(
        400 * u.ms, inputs=P)
    rates = mag(res['output'])[-1]
    assert rates[0] > rates[1] > rates[2] > 0


def test_divisive_input_saturates_at_sigma():
    # with sigma = 0.5 a huge input acts like an input of 0.5
    big = _steady(WilsonCowanDivisiveInputStep(1, sigma_E=0.5, sigma_I=None), 1e6)
    ref = _steady(WilsonCowanStep(1), 0.5)
    assert big['rE'] == pytest.approx(ref['rE'], rel=1e-4)


def test_delayed_matches_numpy_euler_dde():
    d = dict(EE=0.5, IE=1.2, EI=2.0, II=0.3)  # ms -> 5, 12, 20, 3 steps
    node = WilsonCowanDelayedStep(1, delay_EE=d['EE'] * u.ms, delay_IE=d['IE'] * u.ms, delay_EI=d['EI'] * u.ms,
                                  delay_II=d['II'] * u.ms, init_rE=0.3, init_rI=0.1, method='euler')
    P = 1.5
    res = _run(node, P, T=40 * u.ms)
    n, dt = 400, 0.1
    steps = {k: int(round(v / dt)) for k, v in d.items()}
    rE, rI = [0.3], [0.1]
    past = lambda xs, k: xs[max(len(xs) - 1 - k, 0)]
    for _ in range(n):
        xE = 12 * past(rE, steps['EE']) - 4 * past(rI, steps['IE']) + P
        xI = 13 * past(rE, steps['EI']) - 11 * past(rI, steps['II'])
        e = rE[-1] + dt * (-rE[-1] + (1 - rE[-1]) * F(xE, 1.2, 2.8))
        i = rI[-1] + dt * (-rI[-1] + (1 - rI[-1]) * F(xI, 1.0, 4.0))
        rE.append(e)
        rI.append(i)
    np.testing.assert_allclose(mag(res['rE'])[:, 0], rE[1:], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(mag(res['rI'])[:, 0], rI[1:], rtol=1e-4, atol=1e-6)


def test_delays_reshape_dynamics_and_reset_between_runs():
    node = WilsonCowanDelayedStep(1, delay_IE=3. * u.ms, delay_EI=3. * u.ms)
    sim = brainmass.Simulator(node, dt=DT)
    a = sim.run(100 * u.ms, inputs=1.5, monitors=['rE'])
    b = sim.run(100 * u.ms, inputs=1.5, monitors=['rE'])  # reset, same compiled program
    np.testing.assert_array_equal(mag(a['rE']), mag(b['rE']))
    c = _run(WilsonCowanStep(1), 1.5, monitors=('rE',), T=100 * u.ms)
    assert np.max(np.abs(mag(a['rE']) - mag(c['rE']))) > 1e-2


def test_three_population_steady_state():
    P = 1.5
    got = _steady(WilsonCowanThreePopulationStep(1, method='rk4'), P, monitors=('rE', 'rI', 'rM'))

    def resid(x):
        rE, rI, rM = x
        return [-rE + (1 - rE) * F(12 * rE - 4 * rI - 2 * rM + P, 1.2, 2.8),
                -rI + (1 - rI) * F(13 * rE - 11 * rI - 2 * rM, 1.0, 4.0),
                -rM + (1 - rM) * F(10 * rE, 1.0, 4.0)]
    sol = fsolve(resid, [got['rE'], got['rI'], got['rM']])
    np.testing.assert_allclose([got['rE'], got['rI'], got['rM']], sol, rtol=1e-3)


# --------------------------------------------------- integrators, gradients, noise, network


@pytest.mark.parametrize('cls', VARIANTS)
def test_every_integrator_runs_finite(cls):
    for method in distinct_methods():
        res = brainmass.Simulator(cls(2, method=method), dt=DT).run(100 * u.ms, inputs=1.0)
        out = mag(res['output'])
        assert out.shape == (1000, 2) and np.all(np.isfinite(out)), method


@pytest.mark.parametrize('cls', VARIANTS)
def test_gradient_through_a_network(cls):
    """A trainable parameter of the node, in a 3-node Network coupled on rE."""
    brainstate.environ.set(dt=DT)
    n = 3
    name = TRAINABLE.get(cls, 'wEE')
    value = {'a': 1.2, 'w_exc': 8.}.get(name, 12.)
    node = cls(n, init_rE=0.5, method='euler', **{name: brainstate.nn.Param(value, fit=True)})
    conn = np.random.default_rng(3).uniform(0.1, 1.0, (n, n))
    net = brainmass.Network(node, conn=conn, coupled_var='rE', k=0.2)
    sim = brainmass.Simulator(net, dt=DT)
    params = node.states(brainstate.ParamState)
    assert len(params) == 1

    def loss():
        res = sim.run(10 * u.ms, inputs=0.5, monitors={'rE': 'node.rE'})  # in a Network, inputs go to rI
        rE = u.get_magnitude(res['rE'])
        return jnp.mean(rE), rE

    grads, rE = brainstate.transform.grad(loss, grad_states=params, has_aux=True)()
    g = np.asarray(list(grads.values())[0])
    assert np.all(np.isfinite(g)) and np.any(g != 0)
    rE = np.asarray(rE)
    assert rE.shape == (100, n) and np.all(np.isfinite(rE)) and np.ptp(rE) > 1e-3


@pytest.mark.parametrize('cls', VARIANTS)
def test_noise_on_rE(cls):
    n = 3
    node = cls(n, noise_E=brainmass.OUProcess(n, sigma=0.1, tau=1. * u.ms))
    drive = 4.0 if cls is WilsonCowanLinearStep else 1.0  # above the threshold-linear model's threshold
    out = mag(brainmass.Simulator(node, dt=DT).run(30 * u.ms, inputs=drive)['output'])
    assert np.all(np.isfinite(out))
    assert np.std(out[-1]) > 1e-6  # identical nodes, independent noise (exactly equal without it)


def test_noise_aliases_and_init_spellings():
    node = WilsonCowanThreePopulationStep(2, noise_M=brainmass.GaussianNoise(2, sigma=0.01), rM_init=0.3)
    assert node.noise_rM is node.noise_M
    brainstate.nn.init_all_states(node)
    assert np.allclose(mag(node.rM.value), 0.3)
    node = WilsonCowanSymmetricStep(2, noise_rE=brainmass.GaussianNoise(2, sigma=0.01))
    assert node.noise_E is not None
    with pytest.raises(ValueError, match='noise_rE'):
        WilsonCowanAdaptiveStep(2, noise_E=brainmass.GaussianNoise(2, sigma=0.01 * u.mV))
