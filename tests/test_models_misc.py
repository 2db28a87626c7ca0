"""Lorenz, Linear, ThresholdLinear, Kuramoto and HORN: equations, signatures, contract."""

import brainstate
import braintools
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass.models.horn import HORNSeqLayer, HORNSeqNetwork, HORNStep
from brainmass.models.kuramoto import KuramotoNetwork
from brainmass.models.linear import LinearStep, ThresholdLinearStep
from brainmass.models.lorenz import LorenzStep

from _helpers import distinct_methods, mag, rhs


RNG = np.random.default_rng(7)


def rand(n=5, scale=1.0, low=None):
    if low is not None:
        return RNG.uniform(low, scale, size=n).astype(np.float32)
    return (RNG.normal(size=n) * scale).astype(np.float32)


# ------------------------------------------------- 1. right-hand sides vs numpy

def test_lorenz_rhs_matches_numpy():
    x, y, z = rand(scale=10), rand(scale=10), rand(scale=10)
    ix, iy, iz = rand(), rand(), rand()
    s, r, b = 9., 25., 2.5
    d = rhs(LorenzStep(5, sigma=s, rho=r, beta=b), dict(x=x, y=y, z=z), ix, iy, iz)
    np.testing.assert_allclose(d['x'], s * (y - x) + ix, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(d['y'], x * (r - z) - y + iy, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(d['z'], x * y - b * z + iz, rtol=1e-5, atol=1e-4)


def test_linear_rhs_and_units():
    x, ix = rand(), rand()
    d = rhs(LinearStep(5, gamma=-0.3), dict(x=x), ix)
    np.testing.assert_allclose(d['x'], -0.3 * x + ix, rtol=1e-6, atol=1e-7)
    assert float(LinearStep(1).gamma.value().to_decimal(u.kHz)) == -10.
    assert float(LinearStep(1, gamma=-10 * u.Hz).gamma.value().to_decimal(u.kHz)) == pytest.approx(-0.01)


def test_threshold_linear_rhs_matches_numpy():
    E, I = rand(8, 30., low=0.), rand(8, 30., low=0.)
    iE, iI = rand(8, 60.), rand(8, 60.)
    p = dict(tau_E=18., tau_I=9., beta_E=0.07, beta_I=0.3, wEE=20., wIE=18., wEI=11., wII=13., eta=0.68, h=0.4)
    d = rhs(ThresholdLinearStep(8, **p), dict(E=E, I=I), iE, iI)
    s = 1 + p['eta'] * p['h']
    cur_E = s * (p['wEE'] * E + iE) - p['wIE'] * I
    cur_I = s * (p['wEI'] * E + iI) - p['wII'] * I
    assert np.any(cur_E < 0) and np.any(cur_E > 0)  # both sides of the threshold are exercised
    np.testing.assert_allclose(d['E'], (-E + p['beta_E'] * np.maximum(cur_E, 0)) / p['tau_E'], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d['I'], (-I + p['beta_I'] * np.maximum(cur_I, 0)) / p['tau_I'], rtol=1e-5, atol=1e-5)


def test_kuramoto_rhs_matches_double_sum():
    n = 6
    theta, inp = RNG.uniform(0, 2 * np.pi, n).astype(np.float32), rand(n, 0.1)
    omega, K, alpha = rand(n, 0.05), 0.3, 0.4
    A = RNG.uniform(0, 1, (n, n)).astype(np.float32)
    for conn, normalize, exclude in [(A, True, True), (A, False, False), (None, True, True), (None, False, False)]:
        net = KuramotoNetwork(n, omega=omega, K=K, alpha=alpha, conn=conn, normalize_by_n=normalize,
                              exclude_self=exclude)
        d = rhs(net, dict(theta=theta), inp)['theta']
        W = np.ones((n, n)) if conn is None else A
        ref = np.empty(n)
        for i in range(n):
            js = [j for j in range(n) if not (exclude and j == i)]
            s = sum(W[i, j] * np.sin(theta[j] - theta[i] - alpha) for j in js)
            ref[i] = omega[i] + K * s / (n if normalize else 1) + inp[i]
        np.testing.assert_allclose(d, ref, rtol=1e-5, atol=1e-6)


def test_kuramoto_frequencies_in_hz_are_converted():
    net = KuramotoNetwork(3, omega=10 * u.Hz)
    np.testing.assert_allclose(mag(net.omega.value()), 2 * np.pi * 0.01, rtol=1e-6)
    drawn = KuramotoNetwork(2000, omega_mean=10 * u.Hz, omega_std=2 * u.Hz)
    w = mag(drawn.omega.value())
    assert w.shape == (2000,)
    assert np.mean(w) == pytest.approx(2 * np.pi * 0.01, rel=0.02)
    assert np.std(w) == pytest.approx(2 * np.pi * 0.002, rel=0.08)
    with pytest.raises(ValueError, match='either'):
        KuramotoNetwork(3, omega=0.1, omega_mean=10 * u.Hz)
    with pytest.raises(ValueError, match='shape'):
        KuramotoNetwork(3, conn=np.ones((2, 2)))


def test_horn_rhs_matches_numpy():
    x, y, inp, ix = rand(), rand(), rand(), rand()
    p = dict(alpha=0.3, omega=0.25, gamma=0.02, v=0.5)
    d = rhs(HORNStep(5, **p), dict(x=x, y=y), inp, ix)
    np.testing.assert_allclose(d['x'], y + ix, rtol=1e-6, atol=1e-7)
    ref = p['alpha'] * np.tanh(inp + p['v'] * x) - 2 * p['gamma'] * y - p['omega'] ** 2 * x
    np.testing.assert_allclose(d['y'], ref, rtol=1e-5, atol=1e-6)


# ------------------------------------------------- 2. dynamical signatures

def test_lorenz_largest_lyapunov_exponent():
    dt, d0, steps, n_int = 0.01, 1e-4, 10, 1500
    node = LorenzStep(2, method='rk4', init_x=1., init_y=1., init_z=20.)
    brainstate.nn.init_all_states(node)
    names = ('x', 'y', 'z')

    def advance(n):
        brainstate.transform.for_loop(lambda i: node.update(), jnp.arange(n))

    def separation():
        diff = jnp.stack([getattr(node, v).value[1] - getattr(node, v).value[0] for v in names])
        return diff, jnp.sqrt(jnp.sum(diff ** 2))

    def renormalise(_):
        advance(steps)
        diff, d = separation()
        for k, v in enumerate(names):
            s = getattr(node, v)
            s.value = s.value.at[1].set(s.value[0] + diff[k] * d0 / d)
        return jnp.log(d / d0)

    with brainstate.environ.context(dt=dt * u.ms):
        advance(2000)  # 20 ms onto the attractor
        node.x.value = node.x.value.at[1].set(node.x.value[0] + d0)
        node.y.value = node.y.value.at[1].set(node.y.value[0])
        node.z.value = node.z.value.at[1].set(node.z.value[0])
        logs = brainstate.transform.jit(lambda: brainstate.transform.for_loop(renormalise, jnp.arange(n_int)))()
    lam = float(jnp.sum(logs)) / (n_int * steps * dt)
    # published largest exponent 0.906 per time unit (= per ms here)
    assert lam == pytest.approx(0.906, abs=0.12)


def test_linear_exact_exponential_decay():
    gamma, x0 = -0.05, 1.5
    t = np.arange(1, 1001) * 0.1
    exact = x0 * np.exp(gamma * t)
    res = brainmass.Simulator(LinearStep(1, gamma=gamma, init_x=x0), dt=0.1 * u.ms).run(100 * u.ms)
    np.testing.assert_allclose(mag(res['output'])[:, 0], exact, rtol=2e-5)
    res = brainmass.Simulator(LinearStep(1, gamma=gamma, init_x=x0, method='rk4'), dt=0.1 * u.ms).run(100 * u.ms)
    np.testing.assert_allclose(mag(res['output'])[:, 0], exact, rtol=0, atol=1e-6)
    # constant input: x* = -I / gamma
    res = brainmass.Simulator(LinearStep(1, gamma=-0.5), dt=0.1 * u.ms).run(100 * u.ms, inputs=2.0)
    assert float(mag(res['output'])[-1, 0]) == pytest.approx(4.0, rel=1e-5)


def test_threshold_linear_decays_to_rest_without_input():
    node = ThresholdLinearStep(2, init_E=np.array([10., 40.]), init_I=np.array([5., 0.]))
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(600 * u.ms, monitors=['E', 'I'])
    E, I = mag(res['E']), mag(res['I'])
    assert np.all(E >= 0) and np.all(I >= 0)
    assert np.all(E[-1] < 1e-3) and np.all(I[-1] < 1e-3)


def test_threshold_linear_fixed_point_with_constant_input():
    iE, iI, h, eta = 20., 5., 0.5, 0.68
    bE, bI, wEE, wIE, wEI, wII = 0.066, 0.351, 24.3, 19.7, 12.2, 12.5
    s = 1 + eta * h
    M = np.array([[1 - bE * s * wEE, bE * wIE], [-bI * s * wEI, 1 + bI * wII]])
    E_star, I_star = np.linalg.solve(M, [bE * s * iE, bI * s * iI])
    assert E_star > 0 and I_star > 0
    node = ThresholdLinearStep(1, h=h, method='rk4')
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(800 * u.ms, inputs=(iE, iI), monitors=['E', 'I'])
    assert float(mag(res['E'])[-1, 0]) == pytest.approx(E_star, rel=1e-4)
    assert float(mag(res['I'])[-1, 0]) == pytest.approx(I_star, rel=1e-4)


def test_kuramoto_seed_snippet_runs():
    brainstate.environ.set(dt=0.1 * u.ms)
    net = brainmass.KuramotoNetwork(in_size=100, omega_mean=10 * u.Hz) if hasattr(brainmass, 'KuramotoNetwork') \
        else KuramotoNetwork(in_size=100, omega_mean=10 * u.Hz)
    net.init_all_states()
    Rs = []
    for i in range(20):
        R = jnp.abs(jnp.mean(jnp.exp(1j * net.theta.value)))
        Rs.append(float(R))
        net.update()
    theta = mag(net.theta.value)
    assert theta.shape == (100,) and np.all((theta >= 0) & (theta < 2 * np.pi))
    assert np.all(np.isfinite(Rs)) and float(net.order_parameter()) == pytest.approx(Rs[-1], abs=1e-5)


def test_kuramoto_order_parameter_transition_at_critical_coupling():
    n, delta = 400, 0.05  # Lorentzian half-width (rad/ms): K_c = 2 delta
    omega = delta * np.tan(np.pi * (np.arange(1, n + 1) - 0.5) / n - np.pi / 2)  # deterministic quantiles
    K_c = 2 * delta
    R = {}
    for factor in (0.5, 10.):
        net = KuramotoNetwork(n, omega=omega.astype(np.float32), K=factor * K_c, method='rk4')
        res = brainmass.Simulator(net, dt=0.1 * u.ms).run(300 * u.ms, monitors={'R': lambda m: m.order_parameter()},
                                                          transient=200 * u.ms)
        R[factor] = float(np.mean(mag(res['R'])))
    assert R[0.5] < 0.15
    # Ott-Antonsen: R = sqrt(1 - K_c / K) on the locked branch
    assert R[10.] == pytest.approx(np.sqrt(1 - 1 / 10.), abs=0.04)


def test_horn_free_oscillation_matches_damped_oscillator():
    om, ga, x0 = 2 * np.pi / 28, 0.01, 1.0
    node = HORNStep(1, init_x=x0, method='rk4')
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(100 * u.ms, monitors=['x'])
    t = np.arange(1, 1001) * 0.1
    wd = np.sqrt(om ** 2 - ga ** 2)
    exact = x0 * np.exp(-ga * t) * (np.cos(wd * t) + ga / wd * np.sin(wd * t))
    np.testing.assert_allclose(mag(res['x'])[:, 0], exact, atol=1e-5)


def test_horn_layer_step_is_the_papers_symplectic_euler():
    layer = HORNSeqLayer(2, 4, alpha=0.3, v=0.2)
    brainstate.nn.init_all_states(layer, batch_size=3)
    Win, bin_ = mag(layer.i2h.weight.value['weight']), mag(layer.i2h.weight.value['bias'])
    Whh, bhh = mag(layer.h2h.weight.value['weight']), mag(layer.h2h.weight.value['bias'])
    s_seq = RNG.normal(size=(5, 3, 2)).astype(np.float32)
    x = np.zeros((3, 4))
    y = np.zeros((3, 4))
    om2, ga = (2 * np.pi / 28) ** 2, 0.01
    for s in s_seq:
        drive = s @ Win + bin_ + (y @ Whh + bhh) / 2.0  # 1/sqrt(4)
        y = y + 1.0 * (0.3 * np.tanh(drive + 0.2 * x) - 2 * ga * y - om2 * x)
        x = x + 1.0 * y
        out = mag(layer.update(jnp.asarray(s)))
        np.testing.assert_allclose(out, x, rtol=1e-5, atol=1e-6)


def test_horn_seq_network_learns_to_remember_the_first_input():
    T, B = 12, 64
    rng = np.random.default_rng(0)
    first = rng.choice([-1., 1.], size=B)
    xs = rng.normal(0, 0.3, size=(T, B, 1))
    xs[0, :, 0] = first
    xs = jnp.asarray(xs, dtype=jnp.float32)
    labels = jnp.asarray(first > 0, dtype=jnp.int32)

    net = HORNSeqNetwork(num_in=1, num_hidden=16, num_out=2)
    assert net.predict(xs).shape == (B, 2)
    weights = net.states(brainstate.ParamState)
    opt = braintools.optim.Adam(lr=3e-2)
    opt.register_trainable_weights(weights)

    def loss_fn():
        logits = net.predict(xs)
        return braintools.metric.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    @brainstate.transform.jit
    def train_step():
        grads, loss = brainstate.transform.grad(loss_fn, weights, return_value=True)()
        opt.update(grads)
        return loss

    losses = [float(train_step()) for _ in range(40)]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.5 * losses[0]


# ------------------------------------------------- 3. integrators and gradients

INTEGRATOR_CASES = [
    # Lorenz is fast in per-ms units (eigenvalue ~ -22.8 /ms near the origin): low-order explicit schemes
    # are unstable at dt = 0.1 ms, so it is checked at dt = 0.01 ms (see the module docstring).
    (LorenzStep, {}, 0.01),
    (LinearStep, {'init_x': 1.0}, 0.1),
    (ThresholdLinearStep, {'init_E': 5.0}, 0.1),
    (KuramotoNetwork, {'K': 0.2, 'omega': 0.06}, 0.1),
    (HORNStep, {'init_x': 0.5}, 0.1),
]


@pytest.mark.parametrize('cls, kwargs, dt', INTEGRATOR_CASES, ids=lambda v: getattr(v, '__name__', None))
def test_every_integrator_gives_finite_output(cls, kwargs, dt):
    for method in distinct_methods():
        node = cls(2, method=method, **kwargs)
        res = brainmass.Simulator(node, dt=dt * u.ms).run(100 * u.ms, inputs=0.5, on_divergence='ignore')
        assert np.all(np.isfinite(mag(res['output']))), method


@pytest.mark.parametrize('cls, name, value, kwargs, dt', [
    (LorenzStep, 'sigma', 10., {}, 0.01),
    (LinearStep, 'gamma', -0.2, {'init_x': 1.0}, 0.1),
    (ThresholdLinearStep, 'beta_E', 0.066, {'init_E': 5.0, 'init_I': 1.0}, 0.1),
    (KuramotoNetwork, 'K', 0.2, {}, 0.1),
    (HORNStep, 'omega', 0.2, {'init_x': 0.5}, 0.1),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_gradient_wrt_trainable_parameter(cls, name, value, kwargs, dt):
    node = cls(2, **{name: brainstate.nn.Param(value, fit=True)}, **kwargs)
    sim = brainmass.Simulator(node, dt=dt * u.ms)
    params = node.states(brainstate.ParamState)
    assert len(params) == 1

    def loss():
        return jnp.mean(u.get_magnitude(sim.run(5 * u.ms, inputs=0.5)['output']))

    g = float(list(brainstate.transform.grad(loss, grad_states=params)().values())[0])
    assert np.isfinite(g) and g != 0.


# ------------------------------------------------- 4. noise and networks

@pytest.mark.parametrize('cls, var, kwargs', [
    (LorenzStep, 'x', {}),
    (LinearStep, 'x', {}),
    (ThresholdLinearStep, 'E', {'init_E': 2.0}),
    (KuramotoNetwork, 'theta', {'K': 0.1}),
    (HORNStep, 'y', {}),
], ids=lambda v: getattr(v, '__name__', None))
def test_noise_and_network(cls, var, kwargs):
    brainstate.environ.set(dt=0.1 * u.ms)
    dt = 0.01 * u.ms if cls is LorenzStep else 0.1 * u.ms
    brainstate.random.seed(3)
    quiet = brainmass.Simulator(cls(2, **kwargs), dt=dt).run(5 * u.ms, monitors=[var])[var]
    brainstate.random.seed(3)
    noisy_node = cls(2, **kwargs, **{f'noise_{var}': brainmass.OUProcess(2, sigma=0.01)})
    noisy = brainmass.Simulator(noisy_node, dt=dt).run(5 * u.ms, monitors=[var])[var]
    assert np.all(np.isfinite(mag(noisy))) and not np.allclose(mag(noisy), mag(quiet))

    conn = np.random.default_rng(1).uniform(0, 0.2, size=(3, 3))
    net = brainmass.Network(cls(3, **kwargs), conn=conn, coupled_var=var, k=0.5)
    res = brainmass.Simulator(net, dt=dt).run(5 * u.ms, monitors=[f'node.{var}'])
    values = mag(res[f'node.{var}'])
    assert values.shape[1:] == (3,) and np.all(np.isfinite(values))
