"""Coombes-Byrne (QIF mean field with conductance synapses) and Larter-Breakspear."""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

import brainmass
from brainmass.models.coombes_byrne import CoombesByrneStep
from brainmass.models.larter_breakspear import LarterBreakspearStep

from _helpers import distinct_methods, mag

DT = 0.1 * u.ms
MODELS = [CoombesByrneStep, LarterBreakspearStep]


def per_ms(q):
    return np.asarray(q.to_decimal(u.ms ** -1))


# ------------------------------------------------------------------- Coombes-Byrne
def cb_rhs(r, v, Delta=1., eta=2., k=1., v_syn=-4., tau=1., I_r=0., I_v=0.):
    dr = (Delta / np.pi + 2 * r * v - k * r * r + I_r) / tau
    dv = (v * v + eta - (np.pi * r) ** 2 + k * r * (v_syn - v) + I_v) / tau
    return np.array([dr, dv])


def test_cb_rhs_matches_numpy_transcription():
    rng = np.random.default_rng(0)
    r, v = rng.uniform(0.01, 2, 6), rng.uniform(-3, 2, 6)
    I_v, I_r = rng.normal(0, 1, 6), rng.normal(0, 0.1, 6)
    node = CoombesByrneStep(6, Delta=0.7, eta=-1.5, k=2.0, v_syn=-3., tau=2. * u.ms)
    with brainstate.environ.context(dt=DT):
        brainstate.nn.init_all_states(node)
        got = node.derivative({'r': jnp.asarray(r), 'v': jnp.asarray(v)}, 0. * u.ms, jnp.asarray(I_v),
                              jnp.asarray(I_r))  # positional inputs: (v_inp, r_inp)
    dr, dv = cb_rhs(r, v, 0.7, -1.5, 2.0, -3., 2., I_r, I_v)
    np.testing.assert_allclose(per_ms(got['r']), dr, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(per_ms(got['v']), dv, rtol=1e-5, atol=1e-6)


def cb_fixed_point(Delta=1., eta=2., k=1., v_syn=-4.):
    """r' = 0 gives v(r) = (k r^2 - Delta/pi) / (2 r); v' = 0 then is one equation in r."""
    v_of = lambda r: (k * r * r - Delta / np.pi) / (2 * r)
    g = lambda r: cb_rhs(r, v_of(r), Delta, eta, k, v_syn)[1]
    grid = np.linspace(1e-3, 5, 20001)
    roots = [brentq(g, grid[i], grid[i + 1]) for i in np.nonzero(np.sign(g(grid[:-1])) != np.sign(g(grid[1:])))[0]]
    return [(r, v_of(r)) for r in roots]


def test_cb_converges_to_the_analytic_stable_focus():
    (r0, v0), = cb_fixed_point()
    eps = 1e-6  # Jacobian by central differences of the numpy RHS
    J = np.stack([(cb_rhs(*(np.array([r0, v0]) + e)) - cb_rhs(*(np.array([r0, v0]) - e))) / (2 * eps)
                  for e in np.eye(2) * eps], axis=1)
    lam = np.linalg.eigvals(J)
    assert np.all(lam.real < 0) and np.all(np.abs(lam.imag) > 0)  # a stable focus
    res = brainmass.Simulator(CoombesByrneStep(1, method='rk4'), dt=0.01 * u.ms).run(
        30 * u.ms, monitors=['r', 'v'])
    assert mag(res['r'])[-1, 0] == pytest.approx(r0, rel=1e-4)
    assert mag(res['v'])[-1, 0] == pytest.approx(v0, rel=1e-4, abs=1e-5)


def test_cb_trajectory_matches_solve_ivp():
    ts = np.arange(1, 1001) * 0.01
    ref = solve_ivp(lambda t, y: cb_rhs(*y), (0, 10), [0.1, -2.], t_eval=ts, rtol=1e-10, atol=1e-12)
    res = brainmass.Simulator(CoombesByrneStep(1, method='rk4'), dt=0.01 * u.ms).run(
        10 * u.ms, monitors=['r', 'v'])
    np.testing.assert_allclose(mag(res['r'])[:, 0], ref.y[0], atol=2e-5)
    np.testing.assert_allclose(mag(res['v'])[:, 0], ref.y[1], atol=2e-5)


def test_cb_time_constant_scales_every_term():
    slow, fast = CoombesByrneStep(1, tau=4. * u.ms), CoombesByrneStep(1)
    with brainstate.environ.context(dt=DT):
        brainstate.nn.init_all_states(slow)
        brainstate.nn.init_all_states(fast)
        s = {'r': jnp.array([0.4]), 'v': jnp.array([-0.7])}
        a, b = slow.derivative(s, 0. * u.ms), fast.derivative(s, 0. * u.ms)
    for var in ('r', 'v'):
        np.testing.assert_allclose(per_ms(a[var]) * 4., per_ms(b[var]), rtol=1e-6)


# ----------------------------------------------------------------- Larter-Breakspear
LB = dict(gCa=1.1, gK=2.0, gL=0.5, gNa=6.7, TCa=-0.01, TK=0.0, TNa=0.3, d_Ca=0.15, d_K=0.3, d_Na=0.15,
          VCa=1.0, VK=-0.7, VL=-0.5, VNa=0.53, phi=0.7, tau_K=1.0, aee=0.4, aei=2.0, aie=2.0, ane=1.0,
          ani=0.4, b=0.1, C=0.1, Iext=0.3, rNMDA=0.25, VT=0.0, d_V=0.65, ZT=0.0, d_Z=0.7, QV_max=1.0,
          QZ_max=1.0, t_scale=1.0)


def lb_rhs(V, W, Z, c=0., IW=0., IZ=0., p=LB):
    """Breakspear et al. (2003) / TVB equations, written out independently (per ms)."""
    half = lambda x, T, d: 0.5 * (1 + np.tanh((x - T) / d))
    mCa, mNa, mK = half(V, p['TCa'], p['d_Ca']), half(V, p['TNa'], p['d_Na']), half(V, p['TK'], p['d_K'])
    QV, QZ = p['QV_max'] * half(V, p['VT'], p['d_V']), p['QZ_max'] * half(Z, p['ZT'], p['d_Z'])
    C, aee, rN = p['C'], p['aee'], p['rNMDA']
    dV = (-(p['gCa'] + (1 - C) * rN * aee * QV + C * rN * aee * c) * mCa * (V - p['VCa'])
          - p['gK'] * W * (V - p['VK']) - p['gL'] * (V - p['VL'])
          - (p['gNa'] * mNa + (1 - C) * aee * QV + C * aee * c) * (V - p['VNa'])
          - p['aie'] * Z * QZ + p['ane'] * p['Iext'])
    dW = p['phi'] * (mK - W) / p['tau_K']
    dZ = p['b'] * (p['ani'] * p['Iext'] + p['aei'] * V * QV)
    ts = p['t_scale']
    return np.array([ts * dV, ts * dW + IW, ts * dZ + IZ])


def test_lb_rhs_matches_numpy_transcription():
    rng = np.random.default_rng(1)
    n = 6
    V, W, Z = rng.uniform(-0.6, 0.5, n), rng.uniform(0, 0.6, n), rng.uniform(-0.3, 0.3, n)
    c, IW, IZ = rng.uniform(0, 1, n), rng.normal(0, 0.1, n), rng.normal(0, 0.1, n)
    params = dict(LB, aee=0.5, C=0.3, t_scale=1.5)
    node = LarterBreakspearStep(n, **params)
    with brainstate.environ.context(dt=DT):
        brainstate.nn.init_all_states(node)
        got = node.derivative({'V': jnp.asarray(V), 'W': jnp.asarray(W), 'Z': jnp.asarray(Z)}, 0. * u.ms,
                              jnp.asarray(c), jnp.asarray(IW), jnp.asarray(IZ))
    expect = lb_rhs(V, W, Z, c, IW, IZ, params)
    for k, var in enumerate('VWZ'):
        np.testing.assert_allclose(per_ms(got[var]), expect[k], rtol=1e-5, atol=1e-6, err_msg=var)


def test_lb_trajectory_matches_solve_ivp():
    # 60 ms: the first fast excursions; later the float32 run drifts in spike timing (sensitive dynamics)
    ts = np.arange(1, 1201) * 0.05
    ref = solve_ivp(lambda t, y: lb_rhs(*y), (0, 60), [0., 0., 0.], t_eval=ts, rtol=1e-10, atol=1e-12)
    res = brainmass.Simulator(LarterBreakspearStep(1, method='rk4'), dt=0.05 * u.ms).run(
        60 * u.ms, monitors=['V', 'W', 'Z'])
    for k, var in enumerate('VWZ'):
        np.testing.assert_allclose(mag(res[var])[:, 0], ref.y[k], atol=1e-4, err_msg=var)


def test_lb_default_set_sustains_a_bounded_oscillation_on_the_reference_attractor():
    """Isolated node, default set: a bounded mixed-mode oscillation (no fixed point), same extremes as solve_ivp."""
    ref = solve_ivp(lambda t, y: lb_rhs(*y), (0, 1500), [0., 0., 0.], rtol=1e-8, atol=1e-10, max_step=0.25)
    V_ref = ref.y[0][ref.t > 500]
    res = brainmass.Simulator(LarterBreakspearStep(2, method='rk4'), dt=0.1 * u.ms).run(
        1500 * u.ms, transient=500 * u.ms)
    V = mag(res['output'])[:, 0]
    assert np.all(np.isfinite(V)) and np.all(np.abs(V) < 1.)
    assert np.ptp(V) > 0.5  # large excursions persist: not a fixed point
    assert V.min() == pytest.approx(V_ref.min(), abs=0.01) and V.max() == pytest.approx(V_ref.max(), abs=0.01)


def test_lb_network_with_jr_sigmoid_is_breakspear_coupling():
    """SigmoidalJansenRitCoupling(cmin=0, cmax=QV_max, midpoint=VT, r=2/d_V) gives c_i = sum_j W_ij Q_V(V_j)."""
    brainstate.environ.set(dt=DT)
    n = 4
    W = np.random.default_rng(2).uniform(0, 1, (n, n))
    np.fill_diagonal(W, 0.)
    V = np.array([-0.4, -0.1, 0.2, 0.35])
    node = LarterBreakspearStep(n, init_V=V)
    coupling = brainmass.SigmoidalJansenRitCoupling(cmin=0., cmax=1., midpoint=0., r=2. / 0.65)
    net = brainmass.Network(node, conn=W, coupling=coupling, coupled_var='V', k=1.0)
    brainstate.nn.init_all_states(net)
    QV = 0.5 * (1 + np.tanh(V / 0.65))
    np.testing.assert_allclose(mag(net.coupling_current()), W @ QV, rtol=1e-5)
    res = brainmass.Simulator(net, dt=DT).run(100 * u.ms, monitors={'V': 'node.V'})
    assert np.all(np.isfinite(mag(res['V'])))


# ------------------------------------------------ integrators, gradient, noise, network


@pytest.mark.parametrize('cls', MODELS)
def test_every_integrator_runs_finite(cls):
    for method in distinct_methods():
        out = mag(brainmass.Simulator(cls(2, method=method), dt=DT).run(100 * u.ms)['output'])
        assert out.shape == (1000, 2) and np.all(np.isfinite(out)), method


@pytest.mark.parametrize('cls, name, value', [(CoombesByrneStep, 'eta', 2.0), (LarterBreakspearStep, 'aee', 0.4)])
def test_gradient_wrt_trainable_parameter(cls, name, value):
    node = cls(2, method='heun', **{name: brainstate.nn.Param(value, fit=True)})
    sim = brainmass.Simulator(node, dt=DT)
    params = node.states(brainstate.ParamState)
    grads = brainstate.transform.grad(lambda: jnp.mean(u.get_magnitude(sim.run(20 * u.ms)['output'])),
                                      grad_states=params)()
    g = np.asarray(list(grads.values())[0])
    assert np.all(np.isfinite(g)) and np.any(g != 0)


@pytest.mark.parametrize('cls, var', [(CoombesByrneStep, 'r'), (LarterBreakspearStep, 'V')])
def test_noise_and_network(cls, var):
    brainstate.environ.set(dt=DT)
    n = 3
    node = cls(n, **{f'noise_{var}': brainmass.OUProcess(n, sigma=0.01)})
    conn = np.random.default_rng(3).uniform(0.1, 1.0, (n, n))
    net = brainmass.Network(node, conn=conn, coupled_var=var, k=0.1)
    out = mag(brainmass.Simulator(net, dt=DT).run(100 * u.ms, monitors={var: f'node.{var}'})[var])
    assert out.shape == (1000, n) and np.all(np.isfinite(out))
    solo = mag(brainmass.Simulator(cls(n), dt=DT).run(100 * u.ms)['output'])
    assert np.max(np.abs(out - solo)) > 1e-4  # noise and coupling act
