"""Foundation: the *Step contract, integrators, noise, Simulator."""

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

import brainmass
from brainmass._core.step import StepModel

from _helpers import mag


# ----------------------------------------------------------------- Hopf
def test_hopf_limit_cycle_radius_and_frequency():
    a, w = 0.25, 0.3
    node = brainmass.HopfStep(1, a=a, w=w, init_x=0.1, method='rk4')
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(600 * u.ms, monitors=['x', 'y'], transient=400 * u.ms)
    x, y = mag(res['x'])[:, 0], mag(res['y'])[:, 0]
    radius = np.sqrt(x ** 2 + y ** 2)
    assert np.allclose(radius, np.sqrt(a), rtol=0.01)
    phase = np.unwrap(np.arctan2(y, x))
    omega = (phase[-1] - phase[0]) / ((len(phase) - 1) * 0.1)  # rad / ms
    assert omega == pytest.approx(w, rel=1e-3)


def test_hopf_origin_stable_below_bifurcation():
    node = brainmass.HopfStep(1, a=-0.1, w=0.3, init_x=0.5)
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(200 * u.ms, monitors=['x', 'y'])
    r = np.hypot(mag(res['x']), mag(res['y']))[:, 0]
    assert r[-1] < 1e-6 and r[-1] < r[0]


def test_hopf_accepts_frequency_quantity():
    node = brainmass.HopfStep(1, w=2 * jnp.pi * 10 * u.Hz)
    assert float(node.w.value().to_decimal(u.kHz)) == pytest.approx(2 * np.pi * 0.01, rel=1e-6)


# -------------------------------------------------------------- Wilson-Cowan
def _wc_residual(rE, rI, P):
    S = lambda z: 1 / (1 + np.exp(-z))
    F = lambda x, a, th: S(a * (x - th)) - S(-a * th)
    e = -rE + (1 - rE) * F(12 * rE - 4 * rI + P, 1.2, 2.8)
    i = -rI + (1 - rI) * F(13 * rE - 11 * rI, 1.0, 4.0)
    return e, i


def test_wilson_cowan_fixed_point_satisfies_steady_state():
    P = 0.5
    node = brainmass.WilsonCowanStep(1)
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(300 * u.ms, inputs=(P,), monitors=['rE', 'rI'])
    rE, rI = mag(res['rE'])[-1, 0], mag(res['rI'])[-1, 0]
    e, i = _wc_residual(float(rE), float(rI), P)
    assert abs(e) < 1e-5 and abs(i) < 1e-5
    assert rE > 0


def test_wilson_cowan_silent_without_input():
    node = brainmass.WilsonCowanStep(3)
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms)
    assert np.allclose(mag(res['output']), 0.)


# ------------------------------------------------------------------- MPR
def _mpr_fixed_points(eta=-5., J=15., Delta=1.):
    # tau = 1 ms; R = tau r (dimensionless); v = -Delta / (2 pi R)
    g = lambda R: (Delta / (2 * np.pi * R)) ** 2 + eta + J * R - (np.pi * R) ** 2
    grid = np.linspace(1e-4, 3, 30001)
    vals = g(grid)
    roots = [brentq(g, grid[k], grid[k + 1]) for k in np.nonzero(np.sign(vals[:-1]) != np.sign(vals[1:]))[0]]
    return roots


def test_mpr_stationary_state_matches_analytic_fixed_point():
    roots = _mpr_fixed_points()
    assert len(roots) == 3  # low focus, saddle, high focus (bistable)
    node = brainmass.MontbrioPazoRoxinStep(1, method='rk4')
    res = brainmass.Simulator(node, dt=0.01 * u.ms).run(100 * u.ms, monitors=['r', 'v'])
    r_khz = mag(res['r'].to(u.kHz))[-1, 0]
    v = mag(res['v'])[-1, 0]
    assert r_khz == pytest.approx(roots[0], rel=1e-3)
    assert v == pytest.approx(-1 / (2 * np.pi * roots[0]), rel=1e-3)
    assert u.get_unit(res['r']) == u.Hz


def test_mpr_every_r_term_scales_with_tau():
    node = brainmass.MontbrioPazoRoxinStep(1, tau=2. * u.ms)
    brainstate.nn.init_all_states(node)
    r, v = 0.05 * u.kHz, -1.3
    d = node.derivative({'r': r, 'v': v}, 0. * u.ms)
    tau, delta = 2.0, 1.0  # ms, kHz
    expect = (delta / np.pi + 2 * 0.05 * v) / tau  # kHz / ms
    assert mag(d['r'].to(u.kHz / u.ms)) == pytest.approx(expect, rel=1e-5)


# ------------------------------------------------------------ integrators
class _Rotation(StepModel):
    """dx = -y, dy = x (per ms): exact solution is a rotation."""
    state_vars = ('x', 'y')

    def __init__(self, method):
        super().__init__(1, method=method, init=dict(x=1., y=0.))

    def dx(self, y):
        return -y / u.ms

    def dy(self, x):
        return x / u.ms


@pytest.mark.parametrize('method', brainmass.list_methods())
def test_integrator_order_of_convergence(method):
    from brainmass._core.integrators import ORDERS
    jax.config.update('jax_enable_x64', True)
    brainstate.environ.set(precision=64)
    try:
        errors = []
        # 8th-order schemes reach float64 rounding at dt = 0.1 ms: halve from 0.8
        for dt in ((0.8, 0.4) if ORDERS[method] > 5 else (0.2, 0.1)):
            model = _Rotation(method)
            res = brainmass.Simulator(model, dt=dt * u.ms).run(4. * u.ms, monitors=['x', 'y'])
            x, y = float(mag(res['x'])[-1, 0]), float(mag(res['y'])[-1, 0])
            errors.append(np.hypot(x - np.cos(4.), y - np.sin(4.)))
        order = np.log2(errors[0] / errors[1])
        assert order == pytest.approx(ORDERS[method], abs=0.35), (method, errors)
    finally:
        brainstate.environ.set(precision=32)
        jax.config.update('jax_enable_x64', False)


def test_unknown_method_lists_choices():
    with pytest.raises(ValueError, match="Unknown `method` 'rk9'.*'exp_euler'"):
        brainmass.HopfStep(2, method='rk9')


# ------------------------------------------------------------------ noise
def test_ou_stationary_mean_and_variance():
    ou = brainmass.OUProcess(2000, mean=0.3, sigma=0.2, tau=5. * u.ms)
    res = brainmass.Simulator(ou, dt=0.1 * u.ms).run(100 * u.ms)
    x = mag(res['output'])[-200:]
    # independent regions: the sample over regions at one time is iid stationary
    assert x[-1].mean() == pytest.approx(0.3, abs=4 * 0.2 / np.sqrt(2000))
    assert x[-1].var() == pytest.approx(0.04, rel=0.1)
    lag = 50  # 5 ms = one tau
    corr = np.mean((x[-1] - 0.3) * (x[-1 - lag] - 0.3)) / 0.04
    assert corr == pytest.approx(np.exp(-1), abs=0.08)


def test_white_noise_increment_scales_with_sqrt_dt():
    sigma = 0.5
    for dt in (0.1, 0.025):
        node = brainmass.LinearStep(5000, gamma=0., noise_x=brainmass.GaussianNoise(5000, sigma=sigma)) \
            if hasattr(brainmass, 'LinearStep') else None
        if node is None:
            pytest.skip('LinearStep not available')
        res = brainmass.Simulator(node, dt=dt * u.ms).run(10 * u.ms)
        x = mag(res['output'])[-1]
        assert x.var() == pytest.approx(sigma ** 2 * 10, rel=0.08)


def test_seeded_runs_are_bit_reproducible_and_batch_members_independent():
    def run():
        brainstate.random.seed(42)
        node = brainmass.HopfStep(3, a=-0.05, noise_x=brainmass.OUProcess(3, sigma=0.1))
        return mag(brainmass.Simulator(node, dt=0.1 * u.ms).run(20 * u.ms, batch_size=4,
                                                               monitors=['x'])['x'])
    a, b = run(), run()
    assert a.shape == (200, 4, 3)
    assert np.array_equal(a, b)
    assert not np.allclose(a[:, 0], a[:, 1])


def test_noise_unit_must_match_variable():
    with pytest.raises(ValueError, match='noise_r.*Hz'):
        brainmass.MontbrioPazoRoxinStep(2, noise_r=brainmass.OUProcess(2, sigma=0.1))
    node = brainmass.MontbrioPazoRoxinStep(2, noise_r=brainmass.OUProcess(2, sigma=0.1 * u.Hz))
    assert node.noise_r is not None
    with pytest.raises(TypeError, match='noise_x'):
        brainmass.HopfStep(2, noise_x=0.1)


def test_colored_noise_spectrum_slope():
    from scipy.signal import welch
    noise = brainmass.PinkNoise(64, sigma=1.0)
    res = brainmass.Simulator(noise, dt=1. * u.ms).run(4096 * u.ms)
    f, p = welch(mag(res['output']), fs=1.0, axis=0, nperseg=1024)
    p = p.mean(axis=1)
    band = (f > 0.005) & (f < 0.2)
    slope = np.polyfit(np.log(f[band]), np.log(p[band]), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.25)


# -------------------------------------------------------------- Simulator
def test_simulator_result_contract():
    node = brainmass.HopfStep(in_size=1, a=0.25, w=0.3)
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(200 * u.ms, monitors=['x'])
    assert sorted(res) == ['ts', 'x'] and res['x'].shape == (2000, 1)
    assert u.get_unit(res['ts']) == u.ms
    assert mag(res['ts'])[0] == pytest.approx(0.1) and mag(res['ts'])[-1] == pytest.approx(200.)


def test_transient_and_sample_every():
    node = brainmass.HopfStep(2, init_x=0.2)
    full = brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, monitors=['x'])
    part = brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, monitors=['x'], transient=10 * u.ms,
                                                        sample_every=5)
    assert part['x'].shape == (80, 2)
    np.testing.assert_allclose(mag(part['x']), mag(full['x'])[104::5], rtol=1e-6)
    np.testing.assert_allclose(mag(part['ts']), mag(full['ts'])[104::5], rtol=1e-6)


def test_second_run_reuses_compiled_program():
    node = brainmass.HopfStep(4, init_x=0.1)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    r1 = sim.run(20 * u.ms, monitors=lambda m: m.x.value)
    r2 = sim.run(20 * u.ms, monitors=lambda m: m.x.value)
    assert sim.trace_count == 1
    np.testing.assert_array_equal(mag(r1['output']), mag(r2['output']))
    sim.run(30 * u.ms, monitors=lambda m: m.x.value)
    assert sim.trace_count == 2


def test_inputs_array_and_callable():
    node = brainmass.WilsonCowanStep(2)
    n = 100
    drive = jnp.ones((n, 2)) * 0.8
    a = brainmass.Simulator(node, dt=0.1 * u.ms).run(10 * u.ms, inputs=drive)
    b = brainmass.Simulator(node, dt=0.1 * u.ms).run(10 * u.ms, inputs=lambda i, t: jnp.ones(2) * 0.8)
    np.testing.assert_allclose(mag(a['output']), mag(b['output']), rtol=1e-6)
    with pytest.raises(ValueError, match='99 time steps.*100 steps'):
        brainmass.Simulator(node, dt=0.1 * u.ms).run(10 * u.ms, inputs=drive[:99])


def test_gradient_through_run_matches_finite_differences():
    node = brainmass.HopfStep(1, a=brainstate.nn.Param(0.2), w=0.3, init_x=0.1)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    params = node.states(brainstate.ParamState)

    def loss():
        return jnp.mean(u.get_magnitude(sim.run(30 * u.ms, monitors=['x'])['x']) ** 2)

    grad = brainstate.transform.grad(loss, grad_states=params)()
    g = float(list(grad.values())[0])

    def at(a):
        node.a.set_value(a)
        return float(loss())
    h = 1e-2
    fd = (at(0.2 + h) - at(0.2 - h)) / (2 * h)
    assert g == pytest.approx(fd, rel=1e-2)


@pytest.mark.parametrize('sample_every', [1, 3])
def test_checkpointed_runs_give_the_plain_values_and_gradients(sample_every):
    """checkpoint=True (two-level segments) and an int base (brainstate's multi-level loop) change
    memory, not results: the same recorded values and the same reverse-mode gradient."""
    node = brainmass.HopfStep(2, a=brainstate.nn.Param(0.2), w=0.3, init_x=0.1)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    params = node.states(brainstate.ParamState)
    values, grads = {}, {}
    for checkpoint in (False, True, 4):
        def loss():
            x = u.get_magnitude(sim.run(23.7 * u.ms, monitors=['x'], sample_every=sample_every,
                                        transient=0.5 * u.ms, checkpoint=checkpoint)['x'])
            return jnp.mean(x ** 2), x

        grad, values[checkpoint] = brainstate.transform.grad(loss, grad_states=params, has_aux=True)()
        grads[checkpoint] = float(list(grad.values())[0])
    assert values[False].shape == ((237 - 5) // sample_every, 2)
    for checkpoint in (True, 4):
        np.testing.assert_allclose(values[checkpoint], values[False], rtol=1e-6, atol=1e-7)
        assert grads[checkpoint] == pytest.approx(grads[False], rel=1e-5)


@pytest.mark.parametrize('n', [1, 2, 9, 10, 17])
def test_segmented_for_loop_is_the_loop(n):
    """Segments of ceil(sqrt(n)) iterations plus a plain tail: the loop's outputs, states and gradient."""
    from brainmass._core.transforms import segmented_for_loop

    total = brainstate.State(jnp.zeros(3))
    xs = brainstate.ParamState(jnp.linspace(0.1, 1., n * 3).reshape(n, 3))

    def body(i, x):
        total.value = jnp.sin(total.value + x * i)
        return total.value * 2.

    def loss_of(loop):
        def loss():
            total.value = jnp.zeros(3)
            out = loop(body, jnp.arange(n), xs.value)
            return jnp.sum(out ** 2) + jnp.sum(total.value), out
        return brainstate.transform.grad(loss, grad_states=[xs], has_aux=True)

    plain = lambda f, i, x: brainstate.transform.for_loop(f, i, x)
    (grad,), out = loss_of(plain)()
    (grad_s,), out_s = loss_of(segmented_for_loop)()
    assert out_s.shape == (n, 3)
    np.testing.assert_allclose(out_s, out, rtol=1e-5, atol=1e-6)  # compiled separately: rounding
    np.testing.assert_allclose(grad_s, grad, rtol=1e-4, atol=1e-5)  # recomputed: float32 rounding


def test_divergence_is_reported_with_time_and_place():
    node = brainmass.HopfStep(2, a=1.0, beta=-1.0, init_x=1.0)
    with pytest.raises(brainmass.SimulationDivergedError, match=r"monitor 'x' became .* at t ="):
        brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, monitors=['x'])
    with pytest.warns(RuntimeWarning, match='diverged'):
        brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, monitors=['x'], on_divergence='warn')


# --------------------------------------------------------------- bad input
@pytest.mark.parametrize('in_size', [0, -3, (2, 0), 2.5])
def test_bad_in_size(in_size):
    with pytest.raises((ValueError, TypeError), match='in_size'):
        brainmass.HopfStep(in_size)


def test_parameter_of_wrong_shape():
    with pytest.raises(ValueError, match='`a` of HopfStep has shape \\(3,\\)'):
        brainmass.HopfStep(4, a=np.ones(3))
    node = brainmass.HopfStep(3, a=np.array([0.1, 0.2, 0.3]))  # per-region array is fine
    assert node.a.value().shape == (3,)


def test_bad_dt():
    node = brainmass.HopfStep(1)
    with pytest.raises(TypeError, match='`dt` must carry time units'):
        brainmass.Simulator(node, dt=0.1)
    with pytest.raises(ValueError, match='`dt` must be > 0'):
        brainmass.Simulator(node, dt=-0.1 * u.ms)
    with pytest.raises(TypeError, match='`dt` must be a time'):
        brainmass.Simulator(node, dt=0.1 * u.mV)


def test_missing_dt_says_how_to_set_it():
    brainstate.environ.pop('dt')
    with pytest.raises(ValueError, match=r'`dt` is missing.*environ.set\(dt='):
        brainmass.Simulator(brainmass.HopfStep(1))


def test_repeated_runs_count_steps_like_the_first():
    sim = brainmass.Simulator(brainmass.HopfStep(1), dt=0.1 * u.ms)
    for duration, n in [(2 * u.ms, 20), (2.0 * u.ms, 20), (0.003 * u.second, 30), (2 * u.ms, 20)]:
        assert sim.run(duration, monitors=['x'])['x'].shape == (n, 1)
    res = sim.run(3 * u.ms, monitors=['x'], transient=1 * u.ms, sample_every=0.2 * u.ms)
    assert res['x'].shape == (10, 1)
    for _ in range(2):  # the warning comes on every call, pointing at the caller
        with pytest.warns(UserWarning, match='not a multiple of dt') as caught:
            sim.run(1.05 * u.ms, monitors=['x'])
        assert caught[0].filename == __file__


def test_bad_run_arguments():
    node = brainmass.HopfStep(1)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    with pytest.raises(ValueError, match='shorter than dt'):
        sim.run(0.01 * u.ms)
    with pytest.warns(UserWarning, match='not a multiple of dt'):
        sim.run(1.05 * u.ms)
    with pytest.raises(ValueError, match='transient'):
        sim.run(10 * u.ms, transient=10 * u.ms)
    with pytest.raises(ValueError, match='transient'):
        sim.run(10 * u.ms, transient=-1 * u.ms)
    with pytest.raises(ValueError, match='sample_every'):
        sim.run(10 * u.ms, sample_every=0)
    with pytest.raises(TypeError, match='duration'):
        sim.run(10)
    for bad in (1, 2.5, 'yes'):
        with pytest.raises(ValueError, match='`checkpoint` must be False, True'):
            sim.run(10 * u.ms, checkpoint=bad)


def test_unknown_monitor_lists_states_in_one_line():
    node = brainmass.HopfStep(1)
    with pytest.raises(ValueError) as err:
        brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms, monitors=['z'])
    msg = str(err.value)
    assert "Unknown monitor 'z'" in msg and 'x, y' in msg and '\n' not in msg


# ------------------------------------- dynamical signatures on either side of a bifurcation
_WC72 = dict(wEE=16., wIE=12., wEI=15., wII=3., a_E=1.3, theta_E=4., a_I=2., theta_I=3.7)  # Wilson & Cowan 1972


def _wc72_rhs(t, s, P):
    S = lambda z: 1 / (1 + np.exp(-z))
    F = lambda x, a, th: S(a * (x - th)) - S(-a * th)
    rE, rI = s
    return [-rE + (1 - rE) * F(16 * rE - 12 * rI + P, 1.3, 4.0), -rI + (1 - rI) * F(15 * rE - 3 * rI, 2.0, 3.7)]


@pytest.mark.parametrize('P, oscillates', [(1.25, True), (2.5, False)])
def test_wilson_cowan_limit_cycle_and_fixed_point_either_side_of_the_hopf(P, oscillates):
    # the only fixed point is an unstable focus at P = 1.25 (limit cycle) and a stable one at
    # P = 2.5; the Hopf bifurcation lies near P = 1.95 (eigenvalues of the numpy Jacobian)
    ref = solve_ivp(_wc72_rhs, (0, 300), [0.1, 0.05], args=(P,), t_eval=np.arange(1, 3001) * 0.1,
                    rtol=1e-9, atol=1e-11)
    node = brainmass.WilsonCowanStep(1, init_rE=0.1, init_rI=0.05, method='rk4', **_WC72)
    rE = mag(brainmass.Simulator(node, dt=0.1 * u.ms).run(300 * u.ms, inputs=(P,))['output'])[:, 0]
    late, late_ref = rE[2000:], ref.y[0][2000:]
    if oscillates:
        assert np.ptp(late_ref) > 0.1
        assert np.ptp(late) == pytest.approx(np.ptp(late_ref), rel=0.02)
        crossings = lambda x: np.sum(np.diff(np.sign(x - x.mean())) > 0)  # cycles in the last 100 ms
        assert abs(crossings(late) - crossings(late_ref)) <= 1
    else:
        assert np.ptp(late) < 1e-4
        np.testing.assert_allclose(late[-1], late_ref[-1], atol=1e-5)
        e, i = _wc72_rhs(0., [float(late[-1]), float(node.rI.value[0])], P)
        assert abs(e) < 1e-5 and abs(i) < 1e-5


def test_mpr_bistability_two_stable_states():
    # eta = -5, J = 15, Delta = 1 (tau = 1 ms): a low-activity and a high-activity stable focus;
    # the initial condition decides which one the population settles on
    low, _, high = _mpr_fixed_points()
    ends = []
    for r0, v0 in ((0.05, -1 / (2 * np.pi * 0.05)), (1.0, 0.0)):  # r in kHz
        node = brainmass.MontbrioPazoRoxinStep(1, method='rk4', init_r=r0 * u.kHz, init_v=v0)
        res = brainmass.Simulator(node, dt=0.01 * u.ms).run(100 * u.ms, monitors=['r'])
        ends.append(mag(res['r'].to(u.kHz))[-1, 0])
    assert ends[0] == pytest.approx(low, rel=1e-3)
    assert ends[1] == pytest.approx(high, rel=1e-3)
