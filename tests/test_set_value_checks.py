"""A constant set with `param.set_value(...)` after construction is checked before the next run, as the
constructor checks it (it used to run with a negative time constant, a NaN weight, ...)."""
import brainstate
import brainunit as u
import numpy as np
import pytest

import brainmass


def test_a_node_constant_set_out_of_range_is_refused_before_the_run():
    node = brainmass.WilsonCowanStep(2)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    first = np.asarray(sim.run(1 * u.ms, inputs=1.0)['output'])
    node.tau_E.set_value(-1.0)
    with pytest.raises(ValueError, match='`tau_E` of WilsonCowanStep must be positive'):
        sim.run(1 * u.ms, inputs=1.0)
    with pytest.raises(ValueError, match='`tau_E` of WilsonCowanStep must be positive'):
        brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms)  # a new Simulator too
    node.tau_E.set_value(1.0)  # back to the default: the same result as before
    np.testing.assert_array_equal(np.asarray(sim.run(1 * u.ms, inputs=1.0)['output']), first)
    node.a_E.set_value(np.nan)
    with pytest.raises(ValueError, match='`a_E` of WilsonCowanStep'):
        sim.run(1 * u.ms)


def test_network_k_and_conn_set_with_set_value_are_checked():
    with brainstate.environ.context(dt=0.1 * u.ms):
        net = brainmass.Network(brainmass.HopfStep(2), conn=np.ones((2, 2)), coupled_var='x',
                                distance=np.full((2, 2), 5.), speed=5.)
        sim = brainmass.Simulator(net)
        sim.run(1 * u.ms)
        net.conn.set_value(np.array([[0., np.nan], [1., 0.]]))
        with pytest.raises(ValueError, match='`conn` contains NaN or inf'):
            sim.run(1 * u.ms)
        net.conn.set_value(np.ones((2, 2)))  # the Network dropped the diagonal of the conn it was built with
        with pytest.raises(ValueError, match='nonzero diagonal.*self_connection=False'):
            sim.run(1 * u.ms)
        net.conn.set_value(np.array([[0., 2.], [1., 0.]]))
        net.k.set_value(np.inf)
        with pytest.raises(ValueError, match='`k` must be finite'):
            sim.run(1 * u.ms)
        net.k.set_value(0.5)
        assert sim.run(1 * u.ms)['output'].shape == (10, 2)


def test_trainable_parameters_are_left_to_their_transforms_and_user_constants_are_checked():
    trained = brainmass.WilsonCowanStep(2, tau_E=brainstate.nn.Param(2.0, t=brainstate.nn.SoftplusT(0.), fit=True))
    brainmass.Simulator(trained, dt=0.1 * u.ms).run(1 * u.ms)
    trained.check_params()  # the transform keeps it > 0: nothing to refuse
    own = brainstate.nn.Param(2.0, fit=False)  # a constant Param the user holds and changes
    node = brainmass.WilsonCowanStep(2, tau_E=own)
    node.check_params()
    own.set_value(-2.0)
    with pytest.raises(ValueError, match='`tau_E` of WilsonCowanStep must be positive'):
        node.check_params()


def test_a_laplacian_networks_conn_keeps_its_diagonal():
    with brainstate.environ.context(dt=0.1 * u.ms):
        W = np.array([[0., 1., 0.5], [1., 0., 0.2], [0.5, 0.2, 0.]])
        net = brainmass.Network(brainmass.HopfStep(3), conn=W, coupling='laplacian', coupled_var='x',
                                distance=np.full((3, 3), 5.), speed=5.)
        sim = brainmass.Simulator(net)
        sim.run(1 * u.ms)
        net.conn.set_value(net.conn.value())  # the same Laplacian (degrees on the diagonal): accepted
        assert sim.run(1 * u.ms)['output'].shape == (10, 3)
