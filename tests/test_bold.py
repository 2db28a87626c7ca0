"""Balloon-Windkessel BOLDSignal: fixed point, impulse response, steady state,
accuracy against scipy, units, warnings and gradients."""
import warnings

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from brainmass.observation import BOLDSignal, FIELD_STRENGTHS, bold_from_trace

DEFAULTS = dict(gamma=0.41, k=0.65, alpha=0.32, tau=0.98, rho=0.34)
# SPM12 / DCM haemodynamic priors (Stephan et al. 2007): a slower transit time.
SPM_PRIORS = dict(gamma=0.32, k=0.64, tau=2.0)


def _np_rhs(z_of_t, gamma=0.41, k=0.65, alpha=0.32, tau=0.98, rho=0.34):
    def rhs(t, s):
        x, f, v, q = s
        z = z_of_t(t)
        return [z - k * x - gamma * (f - 1.), x, (f - v ** (1 / alpha)) / tau,
                (f * (1 - (1 - rho) ** (1 / f)) / rho - v ** (1 / alpha) * q / v) / tau]
    return rhs


def _classic_bold(q, v, rho=0.34, V0=0.02):
    return V0 * (7 * rho * (1 - q) + 2 * (1 - q / v) + (2 * rho - 0.2) * (1 - v))


def _impulse(n_steps, dt_ms=10., width_s=0.5):
    z = np.zeros((n_steps, 1), np.float32)
    z[:int(round(width_s * 1000 / dt_ms))] = 1.
    return jnp.asarray(z)


# --------------------------------------------------------------------- rest
@pytest.mark.parametrize('field_strength', [None, '1.5T', '3T'])
def test_rest_is_a_fixed_point_and_reads_zero(field_strength):
    bold = BOLDSignal(3, field_strength=field_strength)
    bold.init_state()
    assert np.all(np.asarray(bold.bold()) == 0.)
    derivs = bold.derivative(bold.x.value, bold.f.value, bold.v.value, bold.q.value, 0.)
    for d in derivs:
        assert np.all(np.asarray(d) == 0.)
    with brainstate.environ.context(dt=10 * u.ms):
        for _ in range(5):
            y = bold.update(jnp.zeros(3))
    assert np.all(np.asarray(y) == 0.)
    for name in 'fvq':
        assert np.all(np.asarray(getattr(bold, name).value) == 1.)


def test_states_and_batch_shapes():
    bold = BOLDSignal((2, 3), init=1.)
    bold.init_state(batch_size=4)
    assert bold.x.value.shape == (4, 2, 3)
    assert np.all(np.asarray(bold.x.value) == 0.) and np.all(np.asarray(bold.q.value) == 1.)
    with brainstate.environ.context(dt=10 * u.ms):
        assert bold.update(jnp.ones((4, 2, 3))).shape == (4, 2, 3)
    bold.reset_state(batch_size=4)
    assert np.all(np.asarray(bold.bold()) == 0.)


# ---------------------------------------------------------------- responses
def test_impulse_response_default_parameters_matches_scipy():
    """With the default (Friston 2000) parameters the BOLD peak is ~3.2 s after onset."""
    T, dt = 2500, 10.
    y = np.asarray(BOLDSignal(1).simulate(_impulse(T), dt * u.ms))[:, 0]
    t = (np.arange(T) + 1) * dt / 1000.
    ts = np.linspace(0, 25, 2501)
    sol = solve_ivp(_np_rhs(lambda t_: 1. if t_ < 0.5 else 0.), (0, 25), [0, 1, 1, 1],
                    t_eval=ts, rtol=1e-9, atol=1e-12, max_step=0.01)
    y_ref = _classic_bold(sol.y[3], sol.y[2])
    assert abs(t[np.argmax(y)] - ts[np.argmax(y_ref)]) <= 0.02
    assert 2.8 <= t[np.argmax(y)] <= 3.6
    assert y.min() < 0. and t[np.argmin(y)] > t[np.argmax(y)]


def test_impulse_response_peaks_4_to_6_s_with_undershoot():
    """Brief impulse (z=1 for 0.5 s, dt=10 ms) with the SPM/DCM priors (tau=2 s)."""
    T, dt = 3000, 10.
    y = np.asarray(BOLDSignal(1, **SPM_PRIORS).simulate(_impulse(T), dt * u.ms))[:, 0]
    t = (np.arange(T) + 1) * dt / 1000.
    t_peak = t[np.argmax(y)]
    assert 4. <= t_peak <= 6., t_peak
    after = y[t > t_peak + 2.]
    assert after.min() < -0.05 * y.max()          # negative post-stimulus undershoot
    assert abs(y[-1]) < 0.05 * y.max()            # and back towards rest


@pytest.mark.parametrize('z0', [0.2, 1.0])
def test_sustained_drive_reaches_analytic_fixed_point(z0):
    p = DEFAULTS
    bold = BOLDSignal(1)
    bold.init_state()
    z = jnp.full((9000, 1), z0)                        # 90 s at dt = 10 ms
    with brainstate.environ.context(dt=10 * u.ms):
        brainstate.transform.for_loop(bold.update, z)
    f = 1. + z0 / p['gamma']
    v = f ** p['alpha']
    q = v * (1. - (1. - p['rho']) ** (1. / f)) / p['rho']
    assert abs(float(bold.x.value[0])) < 1e-4
    for name, ref in dict(f=f, v=v, q=q).items():
        got = float(getattr(bold, name).value[0])
        assert abs(got - ref) <= 1e-4 * abs(ref), (name, got, ref)
    assert abs(float(bold.bold()[0]) - _classic_bold(q, v)) <= 1e-4 * abs(_classic_bold(q, v))


_LEVELS = [(1.0, 1.0), (0.0, 4.0), (0.5, 5.0), (0.2, 4.0)]   # (drive, duration in s)


@pytest.fixture(scope='module')
def scipy_reference():
    """solve_ivp (rtol 1e-8) of a piecewise-constant drive, one call per segment."""
    dt = 0.01
    state, t0, ts, ys = [0., 1., 1., 1.], 0., [], []
    for z, span in _LEVELS:
        n = int(round(span / dt))
        t_eval = t0 + dt * np.arange(1, n + 1)
        sol = solve_ivp(_np_rhs(lambda t, z=z: z), (t0, t_eval[-1]), state, t_eval=t_eval,
                        rtol=1e-8, atol=1e-10)
        ts.append(t_eval)
        ys.append(_classic_bold(sol.y[3], sol.y[2]))
        state, t0 = sol.y[:, -1], t_eval[-1]
    zs = np.concatenate([np.full(int(round(s / dt)), z) for z, s in _LEVELS])
    return dt, zs.astype(np.float32)[:, None], np.concatenate(ys)


@pytest.mark.parametrize('method,tol', [('rk4', 1e-4), ('heun', 1e-3), ('euler', 3e-2)])
def test_trajectory_matches_solve_ivp(scipy_reference, method, tol):
    dt, zs, y_ref = scipy_reference
    y = np.asarray(bold_from_trace(jnp.asarray(zs), dt * u.second, method=method))[:, 0]
    err = np.max(np.abs(y - y_ref)) / np.max(np.abs(y_ref))
    assert err < tol, err


def test_simulate_equals_stepping_update():
    z = jnp.asarray(np.random.default_rng(0).uniform(0, 1, (300, 2)), jnp.float32)
    bold = BOLDSignal(2)
    bold.init_state()
    with brainstate.environ.context(dt=5 * u.ms):
        stepped = brainstate.transform.for_loop(bold.monitor_step, z)
    offline = bold.simulate(z, 5 * u.ms)
    stepped, offline = np.asarray(stepped), np.asarray(offline)
    np.testing.assert_allclose(stepped, offline, rtol=0, atol=1e-4 * np.abs(offline).max())


def test_dt_units_plain_ms_and_seconds_agree():
    outs = []
    for dt in (10 * u.ms, 0.01 * u.second, 10.):
        bold = BOLDSignal(1)
        bold.init_state()
        with brainstate.environ.context(dt=dt):
            for _ in range(20):
                y = bold.update(jnp.ones(1))
        outs.append(float(y[0]))
    np.testing.assert_allclose(outs, outs[0], rtol=1e-6)


# ------------------------------------------------------------------- params
def test_parameters_accept_quantities_and_reject_wrong_units():
    a = BOLDSignal(1, gamma=0.41 / u.second, k=0.65 / u.second,
                   tau=980 * u.ms).parameters_dict()
    b = BOLDSignal(1).parameters_dict()
    for key in ('gamma', 'k', 'tau'):
        np.testing.assert_allclose(np.asarray(a[key]), np.asarray(b[key]), rtol=1e-6)
    with pytest.raises(ValueError, match='tau'):
        BOLDSignal(1, tau=1 * u.mV)
    with pytest.raises(ValueError, match='gamma'):
        BOLDSignal(1, gamma=0.41 * u.second)
    with pytest.raises(ValueError, match='gamma'):
        BOLDSignal(3, gamma=jnp.ones(2))


def test_readout_constants():
    rho = 0.34
    p = BOLDSignal(1).parameters_dict()
    np.testing.assert_allclose([p['k1'], p['k2'], p['k3']], [7 * rho, 2., 2 * rho - 0.2], rtol=1e-6)
    c = FIELD_STRENGTHS['3T']
    p3 = BOLDSignal(1, field_strength='3T').parameters_dict()
    np.testing.assert_allclose(p3['k1'], 4.3 * c['nu0'] * rho * c['TE'], rtol=1e-6)
    np.testing.assert_allclose(p3['k3'], 1 - c['epsilon'], rtol=1e-6)
    p_override = BOLDSignal(1, field_strength='1.5T', k2=0.5).parameters_dict()
    assert float(p_override['k2']) == 0.5
    with pytest.raises(ValueError, match='field_strength'):
        BOLDSignal(1, field_strength='7T')
    with pytest.raises(ValueError, match='method'):
        BOLDSignal(1, method='dopri')


def test_missing_dt_is_a_clear_error():
    bold = BOLDSignal(1)
    bold.init_state()
    with pytest.raises(ValueError, match='dt'):
        with brainstate.environ.context(dt=None):
            bold.update(1.)


# ------------------------------------------------------------------ warnings
def test_negative_or_nan_drive_warns_once_and_states_stay_finite():
    bold = BOLDSignal(1)
    bold.init_state()
    with brainstate.environ.context(dt=10 * u.ms):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            for _ in range(3):
                bold.update(jnp.array([-50.]))
        assert sum(issubclass(w.category, RuntimeWarning) for w in caught) == 1
    with pytest.warns(RuntimeWarning, match='NaN'):
        BOLDSignal(1)._drive(jnp.array([jnp.nan]))
    with pytest.warns(RuntimeWarning):
        ys = BOLDSignal(1).simulate(-20. * jnp.ones((3000, 1)), 10 * u.ms)
    assert bool(jnp.all(jnp.isfinite(ys)))


def test_no_warning_when_traced():
    bold = BOLDSignal(1)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        out = jax.jit(lambda z: bold.simulate(z, 10 * u.ms))(-jnp.ones((10, 1)))
    assert out.shape == (10, 1)


# ----------------------------------------------------------------- gradients
def _rel_err(a, b):
    return abs(float(a) - float(b)) / max(abs(float(b)), 1e-12)


def test_gradient_through_for_loop_matches_finite_differences():
    bold = BOLDSignal(2, method='euler')
    bold.init_state()
    base = jnp.asarray(np.random.default_rng(1).uniform(0.2, 1., (400, 2)), jnp.float32)

    def loss(theta):
        bold.reset_state()
        with brainstate.environ.context(dt=10 * u.ms):
            ys = brainstate.transform.for_loop(bold.update, base * theta)
        return jnp.sum(ys ** 2) * 1e3

    g = brainstate.transform.grad(loss, argnums=0)(0.7)
    eps = 1e-2
    fd = (loss(0.7 + eps) - loss(0.7 - eps)) / (2 * eps)
    assert _rel_err(g, fd) < 1e-2


def test_gradient_wrt_trainable_parameter_matches_finite_differences():
    z = jnp.asarray(np.random.default_rng(2).uniform(0., 1., (400, 1)), jnp.float32)

    def loss_of(gamma):
        return jnp.sum(BOLDSignal(1, gamma=gamma, method='heun').simulate(z, 10 * u.ms)) * 10.

    bold = BOLDSignal(1, gamma=brainstate.nn.Param(jnp.asarray(0.41)), method='heun')
    params = bold.states(brainstate.ParamState)
    g = brainstate.transform.grad(lambda: jnp.sum(bold.simulate(z, 10 * u.ms)) * 10.,
                                  grad_states=params)()
    g = list(jax.tree_util.tree_leaves(g))[0]
    eps = 1e-2
    fd = (loss_of(0.41 + eps) - loss_of(0.41 - eps)) / (2 * eps)
    assert _rel_err(g, fd) < 1e-2
