"""Issue 18: parameters set after a run take effect; init_states=False continues from states set by
hand; NaN/inf inputs are refused as inputs."""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass

N = 4
CONN = np.array([[0., .3, .1, .2], [.2, 0., .4, .1], [.1, .2, 0., .3], [.3, .1, .2, 0.]])
INIT_X = np.array([0.3, -0.2, 0.1, 0.05])


def _net(k=0.5, a=0.1, **kw):
    node = brainmass.HopfStep(N, a=a, w=0.3, init_x=INIT_X)
    return brainmass.Network(node, conn=CONN, coupled_var='x', k=k, **kw)


def _x(sim, **kw):
    return np.asarray(sim.run(5 * u.ms, monitors=lambda m: m.node.x.value, **kw)['output'])


@pytest.mark.parametrize('delayed', [False, True])
def test_network_k_reassigned_after_a_run_takes_effect(delayed):
    kw = dict(distance=np.full((N, N), 4.), speed=2., delay_init=0.05) if delayed else {}
    net = _net(k=0.5, **kw)
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    before = _x(sim)
    net.k = 3.0
    after = _x(sim)
    expected = _x(brainmass.Simulator(_net(k=3.0, **kw), dt=0.1 * u.ms))
    assert np.abs(after - before).max() > 1e-3
    np.testing.assert_allclose(after, expected, rtol=0, atol=1e-6)


def test_node_parameter_reassigned_and_set_value_take_effect():
    net = _net(a=0.1)
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    _x(sim)
    net.node.a = 0.4
    np.testing.assert_allclose(_x(sim), _x(brainmass.Simulator(_net(a=0.4), dt=0.1 * u.ms)), atol=1e-6)
    net.node.a.set_value(jnp.asarray(-0.2))  # a constant Param changed in place
    np.testing.assert_allclose(_x(sim), _x(brainmass.Simulator(_net(a=-0.2), dt=0.1 * u.ms)), atol=1e-6)
    net.k.set_value(jnp.asarray(2.0))
    np.testing.assert_allclose(_x(sim), _x(brainmass.Simulator(_net(a=-0.2, k=2.0), dt=0.1 * u.ms)), atol=1e-6)


def test_unchanged_parameters_do_not_retrace():
    sim = brainmass.Simulator(_net(), dt=0.1 * u.ms)
    _x(sim)
    _x(sim)
    assert sim.trace_count == 1
    sim.model.node.w = 0.5
    _x(sim)
    _x(sim)
    assert sim.trace_count == 2


def test_reassigned_parameter_is_checked_like_the_constructor():
    node = brainmass.FitzHughNagumoStep(2)
    with pytest.raises(ValueError, match='tau'):
        node.tau = -1.0
    with pytest.raises(ValueError, match='tau'):
        node.tau = 3 * u.mV
    node.tau = 40 * u.ms  # converted like the constructor's quantity
    assert float(node.tau.value().to_decimal(u.ms)) == pytest.approx(40.)
    net = _net()
    with pytest.raises(ValueError, match='`k`'):
        net.k = np.ones(N + 1)
    with pytest.raises(TypeError, match='`conn`'):
        net.conn = CONN


def test_constant_conn_set_value_rebuilds_the_delay_plan():
    kw = dict(distance=np.full((N, N), 4.), speed=2., delay_init=0.05)
    net = _net(**kw)
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    _x(sim)
    W2 = CONN[::-1].copy()
    np.fill_diagonal(W2, 0.)
    net.conn.set_value(jnp.asarray(W2, dtype=brainstate.environ.dftype()))
    node = brainmass.HopfStep(N, a=0.1, w=0.3, init_x=INIT_X)
    fresh = brainmass.Network(node, conn=W2, coupled_var='x', k=0.5, **kw)
    np.testing.assert_allclose(_x(sim), _x(brainmass.Simulator(fresh, dt=0.1 * u.ms)), atol=1e-6)


def test_init_states_false_on_a_new_simulator_uses_states_set_by_hand():
    node = brainmass.HopfStep(N, a=0.1, w=0.3)
    brainstate.nn.init_all_states(node)
    node.x.value = jnp.asarray(INIT_X, dtype=brainstate.environ.dftype())
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(2 * u.ms, monitors=['x'], init_states=False)
    ref = brainmass.Simulator(brainmass.HopfStep(N, a=0.1, w=0.3, init_x=INIT_X), dt=0.1 * u.ms).run(
        2 * u.ms, monitors=['x'])
    np.testing.assert_allclose(res['x'], ref['x'], atol=1e-7)


def test_init_states_false_names_what_is_missing_or_mismatched():
    node = brainmass.HopfStep(N)
    with pytest.raises(ValueError, match="no state 'x'"):
        brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms, init_states=False)
    brainstate.nn.init_all_states(node, batch_size=3)
    with pytest.raises(ValueError, match='batch_size'):
        brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms, init_states=False)
    out = brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms, init_states=False, batch_size=3, monitors=['x'])
    assert out['x'].shape == (10, 3, N)


def test_init_states_false_refuses_a_network_sized_for_another_dt():
    net = _net(distance=np.full((N, N), 4.), speed=2.)
    brainmass.Simulator(net, dt=0.1 * u.ms).run(1 * u.ms)
    with pytest.raises(ValueError, match='init_states=True'):
        brainmass.Simulator(net, dt=0.2 * u.ms).run(1 * u.ms, init_states=False)


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_refused_as_inputs(bad):
    node = brainmass.HopfStep(2)
    arr = np.zeros((10, 2))
    arr[4, 1] = bad
    with pytest.raises(ValueError, match=r'`inputs` must be finite; got .* at index \(4, 1\)'):
        brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms, inputs=arr)
    with pytest.raises(ValueError, match='`inputs item 1` must be finite'):
        brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms, inputs=(0.1, bad))




def test_bold_parameter_reassigned_is_checked_and_takes_effect():
    node = brainmass.HopfStep(2, a=0.1, w=0.3, init_x=np.array([0.5, -0.5]))
    sim = brainmass.Simulator(node, dt=1.0 * u.ms)
    mon = brainmass.BOLDMonitor('x')
    first = np.asarray(sim.run(300 * u.ms, monitors={'bold': mon})['bold'])
    mon.bold.tau = 0.5 * u.second
    second = np.asarray(sim.run(300 * u.ms, monitors={'bold': mon})['bold'])
    expected = np.asarray(sim.run(300 * u.ms, monitors={'bold': brainmass.BOLDMonitor('x', tau=0.5 * u.second)})['bold'])
    assert np.abs(first - second).max() > 0
    np.testing.assert_allclose(second, expected, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match='rho'):
        mon.bold.rho = 2.0
