"""Network trust fixes (issue 18, network part): exact dt re-sizing, float64 paths, delay histories
(units, deterministic default), bad input named at construction, masked Laplacians, batched kernels,
in_size forms."""
import braintools
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import precision

import brainmass
from brainmass.network.plan import SparsePlan


def _hopf_network(n=8, k=0.5, delays=(1., 15.), coupling='diffusive', **kw):
    """Hopf nodes starting at x = 0.3, delays drawn in [delays[0], delays[1]] ms (None: instantaneous)."""
    rng = np.random.default_rng(0)
    W = rng.uniform(0, 1, (n, n)) / n
    D = None if delays is None else rng.uniform(*delays, (n, n))
    node = brainmass.HopfStep(n, a=0.2, w=0.3, init_x=braintools.init.Constant(0.3))
    return brainmass.Network(node, conn=W, distance=None if D is None else (D + D.T) / 2,
                             speed=None if D is None else 1., coupling=coupling, coupled_var='x', k=k, **kw)


def _x(net, dt=0.1, duration=20., **run):
    res = brainmass.Simulator(net, dt=dt * u.ms).run(duration * u.ms, monitors=['node.x'], **run)
    return np.asarray(u.get_magnitude(res['node.x']))


@pytest.fixture
def float64():
    with precision(64):
        yield


# ------------------------------------------------------------ item 1: re-sized for the run's dt
@pytest.mark.parametrize('built, run', [(0.1, 1.0), (1.0, 0.1)])
def test_network_resized_for_the_run_dt_equals_one_built_at_it(built, run):
    brainstate.environ.set(dt=built * u.ms)
    resized = _x(_hopf_network(), dt=run)
    brainstate.environ.set(dt=run * u.ms)
    native = _x(_hopf_network(), dt=run)
    np.testing.assert_allclose(resized, native, rtol=0, atol=1e-6)


def test_stepping_under_another_dt_than_the_buffer_was_sized_for_is_an_error():
    net = _hopf_network(n=3)
    brainstate.nn.init_all_states(net)  # sized for dt = 0.1 ms
    with brainstate.environ.context(dt=1.0 * u.ms, i=0, t=0. * u.ms):
        with pytest.raises(ValueError, match=r'sized for dt = 0.1 ms, but it steps with dt = 1 ms'):
            net()
        brainstate.nn.reset_all_states(net)  # a reset under the new dt re-sizes the buffer
        net()
    assert net.max_delay_steps == net.delay_steps().max() and net._plan.dt_ms == 1.0


# ------------------------------------------------------------ item 2: float64
@pytest.mark.parametrize('case', ['instantaneous', 'one step', 'lookahead', 'sparse', 'batch', 'batch lookahead'])
def test_network_paths_run_in_float64(float64, case):
    delays = {'instantaneous': None, 'lookahead': (0.5, 0.9), 'batch lookahead': (0.5, 0.9)}.get(case, (0.1, 0.1))
    if case == 'sparse':
        W = np.zeros((6, 6))
        W[0, 1] = W[2, 3] = W[4, 5] = 0.5
        node = brainmass.HopfStep(6, a=0.2, w=0.3, init_x=braintools.init.Constant(0.3))
        net = brainmass.Network(node, conn=W, distance=np.full((6, 6), 0.1), speed=1., coupled_var='x', k=0.5)
        assert isinstance(net._plan, SparsePlan)
    else:
        net = _hopf_network(n=4, delays=delays)
    batch = case.startswith('batch')
    x = _x(net, duration=2., batch_size=2 if batch else None)
    assert x.dtype == np.float64 and np.all(np.isfinite(x))
    assert x.shape == ((20, 2, 4) if batch else (20, 6 if case == 'sparse' else 4))


@pytest.mark.parametrize('delays', [(0.1, 0.1), (0.5, 0.9)])
def test_float64_gradient_wrt_k_matches_finite_differences(float64, delays):
    net = _hopf_network(n=4, delays=delays, k=brainstate.nn.Param(0.5, fit=True))
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)

    def loss():
        return jnp.mean(u.get_magnitude(sim.run(3 * u.ms, monitors=['node.x'])['node.x']) ** 2)

    params = net.states(brainstate.ParamState)
    (grad,) = brainstate.transform.grad(loss, grad_states=params)().values()
    h = 1e-6
    net.k.set_value(0.5 + h)
    up = float(loss())
    net.k.set_value(0.5 - h)
    down = float(loss())
    np.testing.assert_allclose(float(grad), (up - down) / (2 * h), rtol=1e-5)


# ------------------------------------------------------------ items 3, 4: delay histories
def _mpr_network(delay_init):
    W = np.full((3, 3), 0.1)
    return brainmass.Network(brainmass.MontbrioPazoRoxinStep(3), conn=W, distance=np.full((3, 3), 0.3), speed=1.,
                             coupled_var='r', k=0.1, delay_init=delay_init)


@pytest.mark.parametrize('delay_init', [braintools.init.Constant(0.1 * u.kHz),
                                        lambda shape: jnp.full(shape, 0.1) * u.kHz])
def test_delay_init_returning_a_quantity_is_converted_to_the_coupled_unit(delay_init):
    net = _mpr_network(delay_init)
    brainstate.nn.init_all_states(net)
    np.testing.assert_allclose(np.asarray(net.buffer.value), 100.)  # r is in Hz


def test_delay_init_returning_another_dimension_names_delay_init():
    net = _mpr_network(braintools.init.Constant(0.1 * u.mV))
    with pytest.raises(ValueError, match=r"`delay_init` gives a history in mV, but the coupled variable 'r'"):
        brainstate.nn.init_all_states(net)


def test_default_history_is_deterministic():
    runs = []
    for seed in (1, 2):
        brainstate.random.seed(seed)
        runs.append(_x(_hopf_network(n=4), duration=5.))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_default_history_holds_the_initial_value_of_the_coupled_expression():
    net = _hopf_network(n=4, coupling='additive')
    brainstate.nn.init_all_states(net)
    np.testing.assert_allclose(np.asarray(net.buffer.value), 0.3)
    with brainstate.environ.context(i=0, t=0. * u.ms):
        current = net.coupling_current()  # every delayed read at t = 0 gives 0.3
    W = np.asarray(net.conn.value())
    np.testing.assert_allclose(np.asarray(current), 0.5 * (W * 0.3).sum(1), rtol=1e-6)
    # a difference of states, per batch member
    node = brainmass.WilsonCowanStep(3, init_rE=np.array([[0.3], [0.5]]), init_rI=0.1)
    net = brainmass.Network(node, conn=np.full((3, 3), 0.1), distance=np.full((3, 3), 0.3), speed=1.,
                            coupled_var='rE - rI')
    brainstate.nn.init_all_states(net, batch_size=2)
    buf = np.asarray(net.buffer.value)  # (N, 2L, B)
    np.testing.assert_allclose(buf[..., 0], 0.2, rtol=1e-6)
    np.testing.assert_allclose(buf[..., 1], 0.4, rtol=1e-6)


def test_explicit_delay_initializers_still_work():
    net = _hopf_network(n=3, delays=(0.3, 0.3), delay_init=braintools.init.Constant(-0.2))
    brainstate.nn.init_all_states(net)
    np.testing.assert_allclose(np.asarray(net.buffer.value), -0.2)


# ------------------------------------------------------------ item 5: bad input
def _build(**kw):
    base = dict(conn=np.full((3, 3), 0.1), coupled_var='x', k=0.5)
    base.update(kw)
    return brainmass.Network(brainmass.HopfStep(base.pop('n', 3)), **base)


def test_complex_conn_is_a_type_error_naming_conn():
    with pytest.raises(TypeError, match='`conn` must be real'):
        _build(conn=np.full((3, 3), 0.1) + 0j)
    with pytest.raises(TypeError, match='`conn` must be real'):
        brainmass.DiffusiveCoupling(conn=np.ones((3, 3)) + 1j)


@pytest.mark.parametrize('kw, name', [
    (dict(k=0.5 + 1j), '`k`'),
    (dict(distance=np.ones((3, 3)) + 0j, speed=1.), '`distance`'),
    (dict(distance=np.ones((3, 3)), speed=1. + 0j), '`speed`'),
])
def test_complex_inputs_are_type_errors_naming_them(kw, name):
    with pytest.raises(TypeError, match=name):
        _build(**kw)


def test_k_in_a_unit_the_node_input_cannot_take_names_k():
    with pytest.raises(ValueError, match=r"`k` is in mV.*drives 'x' of HopfStep.*dimensionless"):
        _build(k=2 * u.mV)
    _build(k=2 * u.mV / u.mV)  # dimensionless quantities are fine


def test_delay_beyond_int32_steps_names_distance_and_speed():
    with pytest.raises(ValueError, match=r'`distance` / `speed` give a delay of 1e\+10 ms, i.e. 1e\+11 steps'):
        _build(distance=np.full((3, 3), 1e10), speed=1.)


def test_delay_buffer_too_large_is_refused_at_construction():
    with pytest.raises(ValueError, match=r'would hold 152,000,000,152 values \(76 regions x 2 x 1000000001 '
                                         r'slots, .* GiB\) for a longest delay of 1,000,000,000 steps'):
        _build(n=76, conn=np.full((76, 76), 0.01), distance=np.full((76, 76), 1e8), speed=1.)


def test_batched_k_needs_a_matching_batch_size():
    net = _hopf_network(n=3, delays=(0.3, 0.3), k=np.array([[0.1], [0.5]]))
    with pytest.raises(ValueError, match=r'`k` has shape \(2, 1\).*no `batch_size`: run with batch_size=2'):
        _x(net, duration=1.)
    with pytest.raises(ValueError, match=r'`k` has 2 rows .* `batch_size` is 3'):
        _x(net, duration=1., batch_size=3)
    assert _x(net, duration=1., batch_size=2).shape == (10, 2, 3)


# ------------------------------------------------------------ item 6: masked Laplacian
@pytest.mark.parametrize('normalize', [None, 'sym', 'rw'])
def test_masked_laplacian_is_the_laplacian_of_the_masked_weights(normalize):
    rng = np.random.default_rng(2)
    W = rng.uniform(0.1, 1., (5, 5))
    M = (rng.uniform(size=(5, 5)) < 0.6).astype(float)
    Wm = W * M
    deg = Wm.sum(1)
    expect = {None: np.diag(deg) - Wm,
              'sym': np.eye(5) - Wm / np.sqrt(np.outer(deg, deg)),
              'rw': np.eye(5) - Wm / deg[:, None]}[normalize]
    p = brainmass.LaplacianConnParam(W, normalize=normalize, mask=M)
    np.testing.assert_allclose(np.asarray(p.value()), expect, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(p.weights()), Wm, rtol=1e-6)
    with pytest.raises(ValueError, match='`mask` must have the shape of the weights'):
        brainmass.LaplacianConnParam(W, normalize=normalize, mask=np.ones((4, 4)))


def test_trainable_masked_laplacian_gets_no_gradient_on_masked_out_edges():
    W = np.ones((4, 4)) - np.eye(4)
    M = np.array([[0, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=float)
    p = brainmass.LaplacianConnParam(W, mask=M, t=brainstate.nn.SoftplusT(0.), fit=True)
    node = brainmass.HopfStep(4, a=0.2, w=0.3, init_x=np.array([0.1, 0.3, -0.2, 0.4]))
    net = brainmass.Network(node, conn=p, coupling='additive', coupled_var='x', k=0.5)
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)

    def loss():
        return jnp.mean(u.get_magnitude(sim.run(2 * u.ms, monitors=['node.x'])['node.x']) ** 2)

    grads = brainstate.transform.grad(loss, grad_states={'conn': p.val})()
    g = np.asarray(grads['conn'])
    assert np.all(g[M == 0] == 0) and np.any(g[M == 1] != 0)


# ------------------------------------------------------------ item 7: batched functional forms
@pytest.mark.parametrize('kernel', ['diffusive', 'additive', 'sigmoidal', 'tanh', 'jansen_rit'])
@pytest.mark.parametrize('flat', [False, True])
def test_coupling_functions_take_leading_batch_axes(kernel, flat):
    rng = np.random.default_rng(3)
    B, N = 3, 4
    W = rng.uniform(size=(N, N))
    X = rng.normal(size=(B, N, N)) + 6.
    y = rng.normal(size=(B, N))
    f = {'diffusive': lambda x, s: brainmass.diffusive_coupling(x, s, W, k=0.5),
         'additive': lambda x, s: brainmass.additive_coupling(x, W, k=0.5, b=0.1),
         'sigmoidal': lambda x, s: brainmass.sigmoidal_coupling(x, W, k=0.5, slope=0.3),
         'tanh': lambda x, s: brainmass.hyperbolic_tangent_coupling(x, W, scale=0.1),
         'jansen_rit': lambda x, s: brainmass.sigmoidal_jansen_rit_coupling(x, W)}[kernel]
    got = np.asarray(f(X.reshape(B, N * N) if flat else X, y))
    expect = np.stack([np.asarray(f(X[b], y[b])) for b in range(B)])
    assert got.shape == (B, N)
    np.testing.assert_allclose(got, expect, rtol=1e-6)


def test_diffusive_coupling_names_mismatched_batch_axes():
    with pytest.raises(ValueError, match=r'`y` has batch axes \(4,\) but `delayed_x` has \(2,\)'):
        brainmass.diffusive_coupling(np.ones((2, 3, 3)), np.ones((4, 3)), np.ones((3, 3)))


# ------------------------------------------------------------ item 8: in_size forms
def test_network_takes_a_node_with_in_size_tuple():
    node = brainmass.HopfStep((3,), a=0.2, w=0.3, init_x=braintools.init.Constant(0.3))
    net = brainmass.Network(node, conn=np.full((3, 3), 0.1), distance=np.full((3, 3), 0.3), speed=1.,
                            coupled_var='x', noise=brainmass.OUProcess((3,), sigma=0.01))
    assert net.n_node == 3 and _x(net, duration=1., batch_size=2).shape == (10, 2, 3)
    with pytest.raises(ValueError, match=r'`node` must be sized for N regions, in_size=N or \(N,\); got a node '
                                         r'of shape \(3, 2\)'):
        brainmass.Network(brainmass.HopfStep((3, 2)), conn=np.full((3, 3), 0.1), coupled_var='x')
