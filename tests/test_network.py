"""Networks: couplings, Laplacians, delays, batching, bad input."""
import warnings

import braintools
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import brainmass
from brainmass._core.step import StepModel
from brainmass.network.plan import DensePlan

from _helpers import mag


def random_w(n, seed=0, density=1.0):
    rng = np.random.default_rng(seed)
    W = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < density)
    W = (W + W.T) / 2
    np.fill_diagonal(W, 0.)
    return W


# ------------------------------------------------------------ kernels
@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    n = 6
    W = rng.uniform(0, 1, (n, n))
    X = rng.normal(size=(n, n))  # delayed source read, X[i, j] = x_j as seen by i
    y = rng.normal(size=n)
    return W, X, y


def test_kernels_match_numpy_formulas(data):
    W, X, y = data
    s = (W * X).sum(1)
    sig = lambda z: 1 / (1 + np.exp(-z))
    cases = {
        'diffusive': (brainmass.diffusive_coupling(X, y, W, k=0.7), 0.7 * (W * (X - y[:, None])).sum(1)),
        'additive': (brainmass.additive_coupling(X, W, k=0.7, b=0.2), 0.7 * s + 0.2),
        'sigmoidal': (brainmass.sigmoidal_coupling(X, W, k=0.7, a=1.5, b=0.1, slope=2., midpoint=0.3),
                      0.7 * sig(2. * (1.5 * s + 0.1 - 0.3))),
        'tanh': (brainmass.hyperbolic_tangent_coupling(X, W, k=0.5, scale=2.), 0.5 * np.tanh(2 * s)),
        'jr': (brainmass.sigmoidal_jansen_rit_coupling(X * 5 + 6, W, k=1.3, cmin=0.001, cmax=0.005, midpoint=6.,
                                                       r=0.56),
               1.3 * (W * (0.001 + 0.004 / (1 + np.exp(0.56 * (6. - (X * 5 + 6)))))).sum(1)),
    }
    for name, (got, expect) in cases.items():
        np.testing.assert_allclose(np.asarray(got), expect, rtol=1e-5, atol=1e-6, err_msg=name)
    flat = brainmass.additive_coupling(X.reshape(-1), W)
    np.testing.assert_allclose(np.asarray(flat), s, rtol=1e-5)


def test_coupling_classes_match_kernels_on_arrays(data):
    W, X, y = data
    classes = [
        (brainmass.DiffusiveCoupling(conn=W, k=0.7), 0.7 * (W * (X - y[:, None])).sum(1)),
        (brainmass.AdditiveCoupling(conn=W, k=0.7, b=0.2), 0.7 * (W * X).sum(1) + 0.2),
        (brainmass.HyperbolicTangentCoupling(conn=W, k=0.5, scale=2.0), 0.5 * np.tanh(2 * (W * X).sum(1))),
    ]
    for c, expect in classes:
        np.testing.assert_allclose(np.asarray(c(X, y)), expect, rtol=1e-5, atol=1e-6)


def test_old_style_diffusive_on_vectors():
    W = np.ones((3, 3)) * 0.05
    np.fill_diagonal(W, 0)
    c = brainmass.DiffusiveCoupling(conn=W, k=0.2)
    c.init_all_states()
    x = jnp.array([1., 2., 4.])
    np.testing.assert_allclose(np.asarray(c(x, x)), 0.2 * (W @ np.asarray(x) - W.sum(1) * np.asarray(x)), rtol=1e-6)


def test_laplacian_connectivity_row_sums_and_equivalence():
    W = random_w(8)
    L = np.asarray(brainmass.laplacian_connectivity(W))
    np.testing.assert_allclose(L, np.diag(W.sum(1)) - W, atol=1e-6)
    assert np.abs(L.sum(1)).max() < 1e-5
    L_rw = np.asarray(brainmass.laplacian_connectivity(W, normalize='rw'))
    assert np.abs(L_rw.sum(1)).max() < 1e-5
    d = W.sum(1)
    L_sym = np.asarray(brainmass.laplacian_connectivity(W, normalize='sym'))
    np.testing.assert_allclose(L_sym, np.eye(8) - W / np.sqrt(np.outer(d, d)), atol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no float64 truncation warnings
        brainmass.laplacian_connectivity(W.astype(np.float64), normalize='sym')
    p = brainmass.LaplacianConnParam(W)
    np.testing.assert_allclose(np.asarray(p.value()), np.diag(W.sum(1)) - W, atol=1e-6)


def test_laplacian_network_equals_diffusive_on_symmetric_w():
    W = random_w(6)
    D = random_w(6, seed=3) * 50 + 10
    out = {}
    for c in ('diffusive', 'laplacian'):
        node = brainmass.HopfStep(6, a=0.1, w=0.3, init_x=braintools.init.Constant(0.2))
        net = brainmass.Network(node, conn=W, distance=D, speed=10 * u.mm / u.ms, coupling=c, coupled_var='x',
                                k=0.4, delay_init=braintools.init.Constant(0.1))
        out[c] = mag(brainmass.Simulator(net, dt=0.1 * u.ms).run(30 * u.ms, monitors=['node.x'])['node.x'])
    np.testing.assert_allclose(out['diffusive'], out['laplacian'], rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------- delays
class _Clock(StepModel):
    """c counts time (dc/dt = 1 per ms); `received` stores each step's input."""
    state_vars = ('c',)

    def __init__(self, n):
        super().__init__(n, method='euler')

    def init_state(self, batch_size=None, **kw):
        super().init_state(batch_size)
        self.received = brainstate.ShortTermState(jnp.zeros(self.varshape))

    def dc(self):
        return jnp.ones(self.varshape) / u.ms

    def update(self, inp=0.):
        self.received.value = jnp.broadcast_to(inp, self.varshape)
        return super().update()


@pytest.mark.parametrize('delay_steps', [0, 1, 7])
def test_delay_of_d_steps_delivers_value_from_d_steps_earlier(delay_steps):
    W = np.array([[0., 0.], [1., 0.]])  # node 0 -> node 1
    D = np.array([[0., 1.], [1., 0.]]) * delay_steps * 0.1  # ms (plain distance / plain speed)
    net = brainmass.Network(_Clock(2), conn=W, distance=D, speed=1.0, coupling='additive', coupled_var='c',
                            delay_init=braintools.init.Constant(-1.0))
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(3 * u.ms, monitors=lambda m: m.node.received.value)
    got = mag(res['output'])[:, 1]
    n = np.arange(30)
    expect = np.where(n >= delay_steps, (n - delay_steps) * 0.1, -1.0)
    np.testing.assert_allclose(got, expect, atol=1e-5)


def test_delay_rounding_is_half_up_and_resizes_with_dt():
    W = np.array([[0., 1.], [1., 0.]])
    D = np.array([[0., 0.26], [0.34, 0.]])  # ms
    net = brainmass.Network(brainmass.HopfStep(2), conn=W, distance=D, speed=1.0, coupled_var='x')
    assert net.delay_steps().tolist() == [[0, 3], [3, 0]]  # 2.6 -> 3, 3.4 -> 3
    brainmass.Simulator(net, dt=0.05 * u.ms).run(1 * u.ms)
    assert net.delay_steps().tolist() == [[0, 5], [7, 0]]  # 5.2 -> 5, 6.8 -> 7


def _hopf_rhs(x, y, a, w, inp_x):
    g = a - x ** 2 - y ** 2
    return g * x - w * y + inp_x, g * y + w * x


def test_two_node_network_matches_solve_ivp():
    W = np.array([[0., 0.8], [0.3, 0.]])
    k, a, w = 0.5, 0.1, 0.3
    node = brainmass.HopfStep(2, a=a, w=w, init_x=np.array([0.3, -0.2]), init_y=np.array([0.1, 0.2]), method='rk4')
    net = brainmass.Network(node, conn=W, coupled_var='x', k=k)
    res = brainmass.Simulator(net, dt=0.01 * u.ms).run(20 * u.ms, monitors=['node.x', 'node.y'])

    def f(t, s):
        x, y = s[:2], s[2:]
        c = k * (W @ x - W.sum(1) * x)
        dx, dy = _hopf_rhs(x, y, a, w, c)
        return np.concatenate([dx, dy])
    sol = solve_ivp(f, (0, 20), [0.3, -0.2, 0.1, 0.2], t_eval=mag(res['ts']), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mag(res['node.x']), sol.y[:2].T, atol=2e-5)


def test_coupled_difference_of_states_follows_the_integrator_stages():
    # diffusive coupling on x - y: the self term is re-evaluated at every rk4 stage
    W = np.array([[0., 0.8], [0.3, 0.]])
    k, a, w = 0.5, 0.1, 0.3
    node = brainmass.HopfStep(2, a=a, w=w, init_x=np.array([0.3, -0.2]), init_y=np.array([0.1, 0.2]), method='rk4')
    net = brainmass.Network(node, conn=W, coupled_var='x - y', k=k)
    res = brainmass.Simulator(net, dt=0.01 * u.ms).run(20 * u.ms, monitors=['node.x', 'node.y'])

    def f(t, s):
        x, y = s[:2], s[2:]
        v = x - y
        dx, dy = _hopf_rhs(x, y, a, w, k * (W @ v - W.sum(1) * v))
        return np.concatenate([dx, dy])
    sol = solve_ivp(f, (0, 20), [0.3, -0.2, 0.1, 0.2], t_eval=mag(res['ts']), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mag(res['node.x']), sol.y[:2].T, atol=2e-5)
    np.testing.assert_allclose(mag(res['node.y']), sol.y[2:].T, atol=2e-5)


def test_delayed_network_matches_float64_reference_loop():
    n, dt, steps = 5, 0.1, 300
    W = random_w(n, seed=4) / n
    rng = np.random.default_rng(5)
    dist = rng.uniform(5, 40, (n, n))
    dist = (dist + dist.T) / 2
    a, w, k, h0 = 0.2, 0.3, 0.6, 0.05
    x0 = rng.uniform(-0.5, 0.5, n)
    node = brainmass.HopfStep(n, a=a, w=w, init_x=x0, method='euler')
    net = brainmass.Network(node, conn=W, distance=dist * u.mm, speed=10 * u.mm / u.ms, coupled_var='x', k=k,
                            delay_init=braintools.init.Constant(h0))
    got = mag(brainmass.Simulator(net, dt=dt * u.ms).run(steps * dt * u.ms, monitors=['node.x'])['node.x'])

    d = np.floor(dist / 10 / dt + 0.5).astype(int)
    np.fill_diagonal(d, 0)
    x, y = x0.astype(np.float64), np.zeros(n)
    hist = []
    out = []
    for step in range(steps):
        hist.append(x.copy())
        delayed = np.array([[hist[step - d[i, j]][j] if step - d[i, j] >= 0 else h0 for j in range(n)]
                            for i in range(n)])
        c = k * ((W * delayed).sum(1) - W.sum(1) * x)
        dx, dy = _hopf_rhs(x, y, a, w, c)
        x, y = x + dt * dx, y + dt * dy
        out.append(x.copy())
    np.testing.assert_allclose(got, np.array(out), rtol=1e-4, atol=1e-5)


def test_sparse_path_equals_dense_path():
    n = 30
    W = random_w(n, seed=7, density=0.08)
    assert np.count_nonzero(W) < 0.2 * W.size
    dist = random_w(n, seed=8) * 100 + 5
    out = []
    for conn in (W, brainstate.nn.Param(jnp.asarray(W, dtype=jnp.float32))):  # constant -> sparse; trainable -> dense
        node = brainmass.HopfStep(n, a=0.1, w=0.3, init_x=braintools.init.Constant(0.2))
        net = brainmass.Network(node, conn=conn, distance=dist, speed=10.0, coupled_var='x', k=0.5,
                                delay_init=braintools.init.Constant(0.05))
        out.append(mag(brainmass.Simulator(net, dt=0.1 * u.ms).run(20 * u.ms, monitors=['node.x'])['node.x']))
    assert isinstance(net._plan, DensePlan)  # the trainable conn's plan
    np.testing.assert_allclose(out[0], out[1], rtol=1e-5, atol=1e-6)


def test_seeded_network_runs_are_bit_reproducible_with_random_history():
    W = random_w(5)
    dist = random_w(5, seed=2) * 50 + 10

    def run():
        brainstate.random.seed(123)
        node = brainmass.HopfStep(5, noise_x=brainmass.OUProcess(5, sigma=0.05))
        net = brainmass.Network(node, conn=W, distance=dist, speed=10.0, coupled_var='x')
        return mag(brainmass.Simulator(net, dt=0.1 * u.ms).run(20 * u.ms, monitors=['node.x'])['node.x'])
    np.testing.assert_array_equal(run(), run())


def test_batch_members_match_unbatched_run_and_are_independent_with_noise():
    W = random_w(4)
    dist = random_w(4, seed=2) * 50 + 10

    def build(noise=None):
        node = brainmass.HopfStep(4, a=0.1, init_x=braintools.init.Constant(0.1), noise_x=noise)
        return brainmass.Network(node, conn=W, distance=dist, speed=10.0, coupled_var='x',
                                 delay_init=braintools.init.Constant(0.0))
    single = mag(brainmass.Simulator(build(), dt=0.1 * u.ms).run(10 * u.ms, monitors=['node.x'])['node.x'])
    batched = mag(brainmass.Simulator(build(), dt=0.1 * u.ms).run(10 * u.ms, monitors=['node.x'],
                                                                 batch_size=3)['node.x'])
    assert batched.shape == (100, 3, 4)
    for b in range(3):
        np.testing.assert_allclose(batched[:, b], single, rtol=1e-5, atol=1e-7)
    noisy = mag(brainmass.Simulator(build(brainmass.OUProcess(4, sigma=0.1)), dt=0.1 * u.ms).run(
        10 * u.ms, monitors=['node.x'], batch_size=3)['node.x'])
    assert not np.allclose(noisy[:, 0], noisy[:, 1])


def test_instantaneous_when_distance_or_speed_alone():
    W = random_w(3)
    with pytest.warns(UserWarning, match='instantaneous'):
        net = brainmass.Network(brainmass.HopfStep(3), conn=W, distance=np.ones((3, 3)), coupled_var='x')
    assert net.max_delay_steps == 0
    with pytest.warns(UserWarning, match='instantaneous'):
        net = brainmass.Network(brainmass.HopfStep(3), conn=W, speed=5.0, coupled_var='x')
    assert net.max_delay_steps == 0


def test_network_attributes_noise_and_extra_inputs():
    W = random_w(3)
    node = brainmass.WilsonCowanStep(3)
    net = brainmass.Network(node, conn=W, coupled_var='rE', k=0.1, noise=brainmass.OUProcess(3, sigma=0.01))
    assert net.n_node == 3 and net.node is node and isinstance(net.coupling, brainmass.DiffusiveCoupling)
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(10 * u.ms, inputs=(jnp.ones((100, 3)) * 0.5,),
                                                      monitors=['node.rI'])
    assert mag(res['node.rI']).mean() > 0.005  # the I input (second) was forwarded after the coupling current


def test_trainable_k_and_conn():
    W = random_w(4)
    node = brainmass.HopfStep(4, a=0.1, init_x=braintools.init.Constant(0.2))
    net = brainmass.Network(node, conn=brainstate.nn.Param(jnp.asarray(W, jnp.float32)), coupled_var='x',
                            k=brainstate.nn.Param(0.5, t=brainstate.nn.SoftplusT(0.)))
    params = net.states(brainstate.ParamState)
    assert {'.'.join(map(str, k)) for k in params} >= {'k.val'}
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)

    def loss():
        return jnp.mean(u.get_magnitude(sim.run(5 * u.ms, monitors=['node.x'])['node.x']) ** 2)
    grads = brainstate.transform.grad(loss, grad_states=params)()
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads.values())


def test_mpr_network_carries_hz():
    W = random_w(3)
    net = brainmass.Network(brainmass.MontbrioPazoRoxinStep(3), conn=W, coupled_var='r', k=0.1)
    res = brainmass.Simulator(net, dt=0.01 * u.ms).run(2 * u.ms, monitors=['node.r'])
    assert u.get_unit(res['node.r']) == u.Hz


def test_direct_construction_from_prefetch():
    N = 8
    W = random_w(N)
    nodes = brainmass.HopfStep(in_size=N, a=0.2, w=0.3)
    delays = jnp.ones((N, N)) * (1.0 * u.ms)
    x_src = nodes.prefetch_delay('x', (delays, brainmass.delay_index(N)), init=braintools.init.Constant(0.0))
    x_self = nodes.prefetch('x')
    coupling = brainmass.DiffusiveCoupling(x_src, x_self, conn=W, k=0.5)
    brainstate.nn.init_all_states(nodes)
    brainstate.nn.init_all_states(coupling)
    with brainstate.environ.context(i=0, t=0. * u.ms):
        current = coupling.update()
    assert current.shape == (8,)


# ------------------------------------------------------------ bad input
def test_bad_network_inputs():
    node = brainmass.HopfStep(3)
    W = random_w(3)
    with pytest.raises(ValueError, match='square'):
        brainmass.Network(node, conn=np.ones((3, 2)), coupled_var='x')
    with pytest.raises(ValueError, match='3 regions'):
        brainmass.Network(node, conn=np.ones((4, 4)), coupled_var='x')
    with pytest.raises(ValueError, match='NaN'):
        brainmass.Network(node, conn=np.full((3, 3), np.nan), coupled_var='x')
    with pytest.warns(UserWarning, match='negative'):
        brainmass.Network(node, conn=-W, coupled_var='x')
    with pytest.raises(ValueError, match='distance.*shape'):
        brainmass.Network(node, conn=W, distance=np.ones((2, 2)), speed=1.0, coupled_var='x')
    with pytest.raises(ValueError, match='distance.*NaN'):
        brainmass.Network(node, conn=W, distance=np.full((3, 3), np.inf), speed=1.0, coupled_var='x')
    with pytest.raises(ValueError, match='speed'):
        brainmass.Network(node, conn=W, distance=np.ones((3, 3)), speed=0.0, coupled_var='x')
    with pytest.raises(ValueError, match='speed.*length/time'):
        brainmass.Network(node, conn=W, distance=np.ones((3, 3)) * u.mm, speed=10.0, coupled_var='x')
    with pytest.raises(ValueError, match="Unknown `coupling` 'difusive'.*'diffusive'"):
        brainmass.Network(node, conn=W, coupling='difusive', coupled_var='x')
    with pytest.raises(ValueError, match="'a' is a parameter of HopfStep; its states are: x, y"):
        brainmass.Network(node, conn=W, coupled_var='a')


def test_missing_dt_for_delays_is_a_clear_error():
    brainstate.environ.pop('dt')
    with pytest.raises(ValueError, match=r'brainstate.environ.set\(dt='):
        brainmass.Network(brainmass.HopfStep(3), conn=random_w(3), distance=np.ones((3, 3)) * 10, speed=1.0,
                          coupled_var='x')


def test_monitor_on_node_state_says_how():
    net = brainmass.Network(brainmass.HopfStep(3), conn=random_w(3), coupled_var='x')
    with pytest.raises(ValueError) as err:
        brainmass.Simulator(net, dt=0.1 * u.ms).run(1 * u.ms, monitors=['x'])
    msg = str(err.value)
    assert "'node.x'" in msg and 'm.node.x.value' in msg and '\n' not in msg
