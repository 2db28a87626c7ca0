"""Compiled programs cached on the model (brainmass._core.compile_cache) and shared by its Simulators.

Every check compares against an independent run: a freshly built model traced on its own
(bit for bit), or the value a changed parameter must give.
"""
import gc
import weakref

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass._core.compile_cache import ModelPrograms, cached_program, callable_key, model_programs, model_signature
from _helpers import precision

DT = 0.1 * u.ms
X0 = np.array([0.3, -0.2, 0.1])


def _net(k=0.5, noise=False, conn=None):
    """3 Hopf nodes, delays of 10-20 steps (so the blocked, prefetching program runs)."""
    node = brainmass.HopfStep(3, a=0.1, w=0.3, init_x=X0, init_y=0.05)
    if noise:
        node.noise_x = brainmass.OUProcess(3, sigma=0.05)
    dist = np.array([[0., 1., 2.], [1., 0., 1.5], [2., 1.5, 0.]]) * u.mm
    conn = np.ones((3, 3)) * 0.2 if conn is None else conn
    return brainmass.Network(node, conn=conn, distance=dist, speed=1. * u.mm / u.ms,
                             coupled_var='x', k=k)


def _x(sim, **kw):
    return np.asarray(sim.run(kw.pop('duration', 8 * u.ms), monitors=kw.pop('monitors', ['node.x']), **kw)['node.x'])


@pytest.mark.parametrize('bits', [32, 64])
def test_a_new_simulator_reuses_the_program_and_gives_the_same_values(bits):
    with precision(bits):
        net = _net()
        first = brainmass.Simulator(net, dt=DT)
        x1 = _x(first)
        again = brainmass.Simulator(net, dt=DT)
        x2 = _x(again)
        fresh = _x(brainmass.Simulator(_net(), dt=DT))  # another model: traced on its own
    assert (first.trace_count, again.trace_count) == (1, 0)
    assert x1.dtype == (np.float64 if bits == 64 else np.float32)
    np.testing.assert_array_equal(x2, x1)
    np.testing.assert_array_equal(x2, fresh)
    assert len(model_programs(net)) == 1 and model_programs(net).traces == 1


def test_seeded_noisy_runs_are_reproducible_across_simulators():
    net = _net(noise=True)
    brainstate.random.seed(3)
    x1 = _x(brainmass.Simulator(net, dt=DT))
    brainstate.random.seed(3)
    sim = brainmass.Simulator(net, dt=DT)
    x2 = _x(sim)
    brainstate.random.seed(3)
    fresh = _x(brainmass.Simulator(_net(noise=True), dt=DT))
    assert sim.trace_count == 0
    np.testing.assert_array_equal(x2, x1)
    np.testing.assert_array_equal(x2, fresh)
    brainstate.random.seed(4)
    assert not np.array_equal(_x(brainmass.Simulator(net, dt=DT)), x1)  # the noise is drawn, not compiled in


def test_a_changed_constant_parameter_is_traced_again_by_a_new_simulator():
    net = _net(k=0.5)
    x1 = _x(brainmass.Simulator(net, dt=DT))
    net.k = 2.0
    sim = brainmass.Simulator(net, dt=DT)
    x2 = _x(sim)
    assert sim.trace_count == 1
    np.testing.assert_array_equal(x2, _x(brainmass.Simulator(_net(k=2.0), dt=DT)))
    assert np.abs(x2 - x1).max() > 1e-3
    # set_value on a constant replaces its value object: traced again as well
    net.node.a.set_value(0.3)
    sim = brainmass.Simulator(net, dt=DT)
    x3 = _x(sim)
    ref = _net(k=2.0)
    ref.node.a = 0.3
    assert sim.trace_count == 1
    np.testing.assert_array_equal(x3, _x(brainmass.Simulator(ref, dt=DT)))


def test_a_new_simulator_after_conn_set_value_runs_the_new_weights():
    """The constant check is the model's, not the Simulator's: a new Simulator rebuilds the delay plan."""
    w2 = np.array([[0., 1., 0.], [0., 0., 1.], [1., 0., 0.]])
    net = _net()
    _x(brainmass.Simulator(net, dt=DT))
    net.conn.set_value(w2)
    x = _x(brainmass.Simulator(net, dt=DT))
    ref = _x(brainmass.Simulator(_net(conn=w2), dt=DT))
    np.testing.assert_array_equal(x, ref)
    before_first_run = _net()
    before_first_run.conn.set_value(w2)  # changed before the model's first run: the plan follows too
    np.testing.assert_array_equal(_x(brainmass.Simulator(before_first_run, dt=DT)), ref)


def test_dt_batch_size_and_monitors_give_their_own_programs():
    net = _net()
    runs = [dict(dt=DT), dict(dt=0.05 * u.ms), dict(dt=DT, batch_size=2), dict(dt=DT, monitors=['node.x', 'node.y'])]
    for i, kw in enumerate(runs):
        kw = dict(kw)
        dt = kw.pop('dt')
        first = brainmass.Simulator(net, dt=dt)
        out = _x(first, **kw)
        again = brainmass.Simulator(net, dt=dt)
        np.testing.assert_array_equal(_x(again, **kw), out)
        assert (first.trace_count, again.trace_count) == (1, 0), kw
        assert len(model_programs(net)) == i + 1
        assert out.shape == ((160,) if dt is not DT else (80,)) + ((2, 3) if 'batch_size' in kw else (3,))
        np.testing.assert_array_equal(out, _x(brainmass.Simulator(_net(), dt=dt), **kw))
    # the program of a batch size is kept while the states are: running another batch size in
    # between makes new states (the Network's buffer has another shape), hence one more trace
    sim = brainmass.Simulator(net, dt=DT)
    _x(sim, batch_size=2)
    assert sim.trace_count == 1


def test_the_cache_goes_with_the_model_and_holds_no_simulator():
    net = _net()
    sim = brainmass.Simulator(net, dt=DT)
    sim.run(2 * u.ms, monitors={'x': lambda m: m.node.x.value, 'y': 'node.y'})
    cache = weakref.ref(model_programs(net))
    sim_ref = weakref.ref(sim)
    del sim
    gc.collect()
    assert sim_ref() is None and cache() is not None  # the model keeps its programs, not the Simulator
    assert brainmass.Simulator(net, dt=DT).run(2 * u.ms, monitors={'x': lambda m: m.node.x.value,
                                                                    'y': 'node.y'}) is not None
    net_ref = weakref.ref(net)
    del net
    gc.collect()
    assert net_ref() is None and cache() is None


def test_a_callable_that_refers_to_the_model_keeps_its_program_on_the_simulator():
    net = _net()
    sim = brainmass.Simulator(net, dt=DT)
    for _ in range(2):
        sim.run(2 * u.ms, monitors={'x': lambda m: net.node.x.value})
    assert sim.trace_count == 1 and len(model_programs(net)) == 0  # not in the model's cache
    assert repr(sim) == 'Simulator(model=Network, dt=0.1 ms, 1 cached program)'
    net_ref = weakref.ref(net)
    del net, sim
    gc.collect()
    assert net_ref() is None


def test_brainstate_jit_keys_on_argument_shapes_not_on_state_objects():
    """Why the model's signature holds its State objects: a jitted function keeps the states it traced."""
    holder = brainstate.nn.Module()
    holder.s = brainstate.State(jnp.zeros(2))
    f = brainstate.transform.jit(lambda: holder.s.value + 1.)
    np.testing.assert_array_equal(f(), [1., 1.])
    holder.s = brainstate.State(jnp.full(2, 5.))  # what init_all_states does
    np.testing.assert_array_equal(f(), [1., 1.])  # still the old state
    assert model_signature(holder) != model_signature(brainstate.nn.Module())


def test_states_made_again_are_traced_again_and_continued_from():
    net = _net()
    brainmass.Simulator(net, dt=DT).run(2 * u.ms)
    brainstate.nn.init_all_states(net)  # new State objects, set by hand below
    net.node.x.value = jnp.asarray([0.1, 0.2, -0.3])
    sim = brainmass.Simulator(net, dt=DT)
    x = _x(sim, init_states=False)
    assert sim.trace_count == 1
    np.testing.assert_array_equal(x[-1], np.asarray(net.node.x.value))  # the program wrote the new states
    ref = _net()
    brainstate.nn.init_all_states(ref)
    ref.node.x.value = jnp.asarray([0.1, 0.2, -0.3])
    np.testing.assert_array_equal(x, _x(brainmass.Simulator(ref, dt=DT), init_states=False))


def test_a_changed_structure_is_traced_again():
    net = _net()
    first = brainmass.Simulator(net, dt=DT)
    x1 = _x(first)
    net.node.noise_x = brainmass.OUProcess(3, sigma=0.05)
    assert not np.array_equal(_x(first), x1) and first.trace_count == 2  # the same Simulator sees it too
    sim = brainmass.Simulator(net, dt=DT)
    assert not np.array_equal(_x(sim), x1) and sim.trace_count == 0
    net.node.noise_x = None  # the states are made again (a module went): traced again, the first numbers
    sim = brainmass.Simulator(net, dt=DT)
    np.testing.assert_array_equal(_x(sim), x1)
    assert sim.trace_count == 1
    net.node.method = 'rk4'  # a plain setting the trace reads
    sim = brainmass.Simulator(net, dt=DT)
    x4 = _x(sim)
    assert sim.trace_count == 1 and not np.array_equal(x4, x1)


_SCALE = 2.0


def test_monitor_lambdas_are_keyed_by_code_closure_and_globals():
    global _SCALE
    net = _net()
    r1 = brainmass.Simulator(net, dt=DT).run(2 * u.ms, monitors={'s': lambda m: m.node.x.value * _SCALE})['s']
    sim = brainmass.Simulator(net, dt=DT)
    r2 = sim.run(2 * u.ms, monitors={'s': lambda m: m.node.x.value * _SCALE})['s']
    assert sim.trace_count == 0  # the same code and globals: the same program
    np.testing.assert_array_equal(r2, r1)
    _SCALE = 3.0
    try:
        sim = brainmass.Simulator(net, dt=DT)
        r3 = sim.run(2 * u.ms, monitors={'s': lambda m: m.node.x.value * _SCALE})['s']
    finally:
        _SCALE = 2.0
    assert sim.trace_count == 1
    np.testing.assert_allclose(r3, 1.5 * np.asarray(r1), rtol=1e-6)
    scale, other = np.ones(3), np.ones(3)  # numpy arrays are keyed by content (a trace bakes them in)
    assert callable_key(lambda m: m * scale) == callable_key(lambda m: m * other)
    before = callable_key(lambda m: m * scale)
    scale[0] = 2.0                         # edited in place: another key
    assert callable_key(lambda m: m * scale) != before


def test_cached_program_builds_once_per_key_and_keeps_the_latest():
    node = brainmass.HopfStep(1)
    built = []

    def build(tag):
        built.append(tag)
        return lambda: tag

    assert cached_program(node, 'a', lambda: build('a'))() == 'a'
    assert cached_program(node, 'a', lambda: build('again'))() == 'a'
    cache = model_programs(node)
    cache.max_programs = 2
    cached_program(node, 'b', lambda: build('b'))
    cache.get('a')  # used: 'b' is now the oldest
    cached_program(node, 'c', lambda: build('c'))
    assert built == ['a', 'b', 'c'] and 'a' in cache and 'b' not in cache and len(cache) == 2
    assert isinstance(cache, ModelPrograms) and model_programs(node) is cache
    with pytest.raises(TypeError, match='model'):
        model_programs([1, 2])


def test_a_node_declares_whether_its_inputs_take_the_unit_of_their_variable():
    class CurrentDriven(brainmass.HopfStep):
        def input_in_unit_of(self, var, value):  # reads nA inputs to the dimensionless x
            if isinstance(value, u.Quantity):
                value = u.get_magnitude(value.to(u.nA))
            return super().input_in_unit_of(var, value)

    class Declared(CurrentDriven):
        inputs_in_state_units = True

    assert brainmass.HopfStep.inputs_in_state_units and not CurrentDriven.inputs_in_state_units
    assert Declared.inputs_in_state_units
    with pytest.raises(brainmass.InputUnitError, match='x'):  # refused before any trace
        brainmass.Simulator(Declared(1), dt=DT).run(1 * u.ms, inputs=0.1 * u.nA)
    res = brainmass.Simulator(CurrentDriven(1, init_x=0.1), dt=DT).run(1 * u.ms, inputs=0.1 * u.nA,
                                                                       monitors=['x'])
    ref = brainmass.Simulator(brainmass.HopfStep(1, init_x=0.1), dt=DT).run(1 * u.ms, inputs=0.1, monitors=['x'])
    np.testing.assert_array_equal(res['x'], ref['x'])


def test_exp_euler_step_sees_an_input_array_edited_in_place():
    """brainstate 0.5.4's vector_grad reused the old derivative when the right-hand side closed over a
    numpy array edited in place; exp_euler (the default) now takes the Jacobian itself."""
    import brainmass, brainstate, brainunit as u, numpy as np

    def last(drive):
        with brainstate.environ.context(dt=0.1 * u.ms):
            node = brainmass.HopfStep(2, a=0.1, w=0.2, init_x=0.1)
            brainstate.nn.init_all_states(node)
            for _ in range(10):
                out = node.update(drive)
        return np.asarray(out)

    drive = np.zeros(2)
    before = last(drive)
    drive[:] = [1.0, 2.0]
    np.testing.assert_array_equal(last(drive), last(np.array([1.0, 2.0])))
    assert not np.array_equal(before, last(drive))


def test_compiled_run_sees_an_input_array_edited_in_place():
    """JAX 0.10 caches a trace's numpy constants by identity while a program using them lives: an array
    an `inputs` callable returns, edited in place since an earlier run, must still be read anew."""
    import brainmass, brainunit as u, numpy as np

    def make(d):
        return lambda i, t: d

    drive = np.zeros(2)
    brainmass.Simulator(brainmass.HopfStep(2, a=0.1, w=0.2, init_x=0.1, method='rk4'), dt=0.1 * u.ms).run(
        1 * u.ms, inputs=make(drive), monitors=['x'])
    drive[:] = [1.0, 2.0]
    edited = brainmass.Simulator(brainmass.HopfStep(2, a=0.1, w=0.2, init_x=0.1, method='rk4'), dt=0.1 * u.ms).run(
        1 * u.ms, inputs=make(drive), monitors=['x'])['x']
    fresh = brainmass.Simulator(brainmass.HopfStep(2, a=0.1, w=0.2, init_x=0.1, method='rk4'), dt=0.1 * u.ms).run(
        1 * u.ms, inputs=make(np.array([1.0, 2.0])), monitors=['x'])['x']
    np.testing.assert_array_equal(np.asarray(edited), np.asarray(fresh))
