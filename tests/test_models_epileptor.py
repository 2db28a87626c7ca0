"""Epileptor (Jirsa et al. 2014, TVB parameterisation)."""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

import brainmass
from brainmass.models.epileptor import EpileptorStep

from _helpers import distinct_methods, mag

VARS = ('x1', 'y1', 'z', 'x2', 'y2', 'g')
INIT = [-1.6, -12., 3.2, -1., 0., -0.16]


def per_ms(q):
    return np.asarray(u.maybe_decimal(q * u.ms))


def epileptor_rhs(s, x0=-1.6, I=(0.,) * 6, a=1., b=3., c=1., d=5., r=3.5e-4, Iext=3.1, Iext2=0.45, tau=10.,
                  aa=6., bb=2., tt=1., modification=False):
    """Jirsa et al. (2014) Eq. 1 with TVB's names; inputs I added inside each bracket."""
    x1, y1, z, x2, y2, g = s
    f1 = np.where(x1 < 0, a * x1 ** 3 - b * x1 ** 2, (x2 - 0.6 * (z - 4) ** 2) * x1)
    f2 = np.where(x2 < -0.25, 0., aa * (x2 + 0.25))
    h = x0 + 3. / (1. + np.exp(-(x1 + 0.5) / 0.1)) if modification else 4. * (x1 - x0)
    return np.array([
        tt * (y1 - f1 - z + Iext + I[0]),
        tt * (c - d * x1 ** 2 - y1 + I[1]),
        tt * r * (h - z + I[2]),
        tt * (-y2 + x2 - x2 ** 3 + Iext2 + bb * g - 0.3 * (z - 3.5) + I[3]),
        tt * (-y2 + f2 + I[4]) / tau,
        tt * (-0.01 * (g - 0.1 * x1) + I[5]),
    ])


# ------------------------------------------------------------ 1. right-hand side
@pytest.mark.parametrize('modification', [False, True])
def test_rhs_matches_paper_equations(modification):
    rng = np.random.default_rng(0)
    n = 8
    state = np.stack([rng.uniform(-2, 1, n), rng.uniform(-15, 1, n), rng.uniform(2, 5, n),
                      rng.uniform(-1.5, 0.5, n), rng.uniform(-0.5, 1.5, n), rng.uniform(-0.3, 0.1, n)])
    inputs = rng.normal(0, 0.3, (6, n))
    x0 = rng.uniform(-2.5, -1.5, n)
    node = EpileptorStep(n, x0=x0, tt=1.3, modification=modification)
    with brainstate.environ.context(dt=0.05 * u.ms):
        brainstate.nn.init_all_states(node)
        d = node.derivative({v: jnp.asarray(state[k]) for k, v in enumerate(VARS)}, 0. * u.ms, *inputs)
    expected = epileptor_rhs(state, x0=x0, I=inputs, tt=1.3, modification=modification)
    for k, v in enumerate(VARS):
        np.testing.assert_allclose(per_ms(d[v]), expected[k], rtol=2e-5, atol=1e-6, err_msg=v)


def test_output_is_x2_minus_x1_and_network_inputs_enter_via_K():
    # c_pop1 enters x1 as Kvf * c_pop1 and z as Ks * c_pop1; c_pop2 enters x2 as Kf * c_pop2
    node = EpileptorStep(3, Kvf=0.5, Ks=-2., Kf=0.3, method='euler')
    ref = EpileptorStep(3, method='euler')
    with brainstate.environ.context(dt=0.05 * u.ms):
        brainstate.nn.init_all_states(node)
        brainstate.nn.init_all_states(ref)
        assert np.allclose(mag(node.output()), INIT[3] - INIT[0])
        out = node.update(jnp.ones(3), jnp.ones(3))
        ref.update(x1_inp=0.5, z_inp=-2., x2_inp=0.3)
    for v in VARS:
        np.testing.assert_allclose(mag(getattr(node, v).value), mag(getattr(ref, v).value), rtol=1e-6, err_msg=v)
    np.testing.assert_allclose(mag(out), mag(node.x2.value) - mag(node.x1.value))


# ------------------------------------------------------ 2. dynamical signature
def _onsets(t, x1):
    up = x1 > 0
    return t[1:][(~up[:-1]) & up[1:]]


def _seizures(onsets, gap=200.):
    """Group fast-discharge onsets into seizures separated by quiet gaps."""
    if len(onsets) == 0:
        return []
    starts = [onsets[0]] + list(onsets[1:][np.diff(onsets) > gap])
    return starts


def test_recurrent_seizures_above_threshold_fixed_point_below():
    x0 = np.array([-1.6, -2.4])
    node = EpileptorStep(2, x0=x0, method='rk4')
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(4500 * u.ms, monitors=['x1', 'z'], sample_every=2)
    t = mag(res['ts'])
    x1, z = mag(res['x1']), mag(res['z'])
    # x0 = -1.6: recurrent seizures (clusters of fast discharges) paced by the slow z
    starts = _seizures(_onsets(t, x1[:, 0]))
    assert len(starts) == 3
    # seizure onsets of the same trajectory from scipy (LSODA, tight tolerances): 387, 2320, 4253 ms
    np.testing.assert_allclose(starts, [387.1, 2320.3, 4253.5], atol=5.)
    assert z[:, 0].max() - z[:, 0].min() > 1.  # z oscillates slowly between ~2.85 and ~4.14
    # x0 = -2.4: no discharge, settles on the interictal fixed point (analytic, x1 < 0 branch)
    assert (x1[:, 1] > 0).sum() == 0
    # fixed point: y1 = c - d x1^2, z = 4 (x1 - x0), 0 = y1 - (x1^3 - 3 x1^2) - z + Iext
    x1_fp = brentq(lambda v: 1 - 5 * v ** 2 - (v ** 3 - 3 * v ** 2) - 4 * (v + 2.4) + 3.1, -3., 0.)
    assert x1[-1, 1] == pytest.approx(x1_fp, abs=2e-3)
    assert z[-1, 1] == pytest.approx(4 * (x1_fp + 2.4), abs=5e-3)


def test_short_trajectory_matches_solve_ivp():
    node = EpileptorStep(1, x0=-1.6, method='rk4')
    res = brainmass.Simulator(node, dt=0.05 * u.ms).run(400 * u.ms, monitors=list(VARS))
    t = mag(res['ts'])
    onset = lambda t_, s: s[0]
    onset.terminal = True
    sol = solve_ivp(lambda t_, s: epileptor_rhs(s), [0, 400], INIT, method='LSODA', rtol=1e-10, atol=1e-12,
                    dense_output=True, events=onset, max_step=0.5)
    # the interictal approach to the first seizure, then its onset time (x1 crossing 0, ~387 ms)
    before = t < sol.t_events[0][0] - 5.
    ref = sol.sol(t[before])
    for k, v in enumerate(VARS):
        np.testing.assert_allclose(mag(res[v])[before, 0], ref[k], atol=1e-3, err_msg=v)
    assert _onsets(t, mag(res['x1'])[:, 0])[0] == pytest.approx(sol.t_events[0][0], abs=0.2)


# ------------------------------------------- 3. integrators and gradients
def test_every_integrator_runs_finite():
    for method in distinct_methods():
        node = EpileptorStep(2, method=method)
        out = mag(brainmass.Simulator(node, dt=0.1 * u.ms).run(100 * u.ms)['output'])
        assert out.shape == (1000, 2) and np.all(np.isfinite(out)), method


def test_gradient_wrt_trainable_parameter():
    node = EpileptorStep(2, x0=brainstate.nn.Param(-1.6, fit=True))
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    params = node.states(brainstate.ParamState)

    def loss():
        return jnp.mean(u.get_magnitude(sim.run(5 * u.ms)['output']))

    grads = brainstate.transform.grad(loss, grad_states=params)()
    g = np.asarray(list(grads.values())[0])
    assert np.all(np.isfinite(g)) and np.any(g != 0)


# ------------------------------------------------------ 4. noise and networks
def test_noise_on_a_state_variable():
    node = EpileptorStep(2, noise_x2=brainmass.OUProcess(2, sigma=0.01))
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, monitors=['x2'])
    x2 = mag(res['x2'])
    assert np.all(np.isfinite(x2)) and not np.allclose(x2[:, 0], x2[:, 1])


def test_runs_in_a_network_with_permittivity_coupling():
    brainstate.environ.set(dt=0.1 * u.ms)
    conn = np.random.default_rng(0).uniform(0, 1, (3, 3))
    node = EpileptorStep(3, x0=np.array([-1.6, -2.2, -2.4]), Ks=-0.5)
    net = brainmass.Network(node, conn=conn, coupled_var='x1', coupling='diffusive', k=1.0)
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(20 * u.ms)
    out = mag(res['output'])
    assert out.shape == (200, 3) and np.all(np.isfinite(out))
