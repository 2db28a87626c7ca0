"""A new Fitter of the same model reuses the traced objective an earlier one left in the model's
compile cache (brainmass._core.compile_cache), and re-traces whenever anything the trace read changed.

Every check compares against an independent run: the same fit on a freshly built model (bit for bit).
"""
import gc
import weakref

import braintools
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass import Fitter
from brainmass._core.compile_cache import model_programs
from brainmass.objectives import timeseries_rmse
from _helpers import precision

DT = 0.1 * u.ms
X0 = np.array([0.3, -0.2, 0.1])


def _net(k=None, w=0.3):
    node = brainmass.HopfStep(3, a=0.1, w=w, init_x=X0, init_y=0.05)
    k = brainstate.nn.Param(0.3, t=brainstate.nn.SoftplusT(0.), fit=True) if k is None else k
    return brainmass.Network(node, conn=np.ones((3, 3)) * 0.2, coupled_var='x', k=k)


def _setup(**kw):
    net = _net(**kw)
    sim = brainmass.Simulator(net, dt=DT)
    predict = lambda m: sim.run(3 * u.ms, monitors=['node.x'])['node.x']
    return net, sim, predict


TARGET = np.asarray(brainmass.Simulator(_net(k=0.6), dt=DT).run(3 * u.ms, monitors=['node.x'])['node.x'])


def _fit(net, predict, target=TARGET, **kw):
    fitter = Fitter(net, braintools.optim.Adam(lr=0.05), predict=predict, **kw)
    result = fitter.fit(target, n_steps=2)
    return fitter, result


def _fitter_keys(net):
    return [k for k in model_programs(net)._programs if k[0] == 'Fitter']


def _same(r1, r2):
    assert np.array_equal(r1.history, r2.history)
    assert r1.best_loss == r2.best_loss
    for k in r1.best_params:
        assert np.array_equal(np.asarray(r1.best_params[k]), np.asarray(r2.best_params[k]))


def test_a_new_fitter_reuses_the_trace_and_gives_the_fresh_models_values():
    net, sim, predict = _setup()
    f1, r1 = _fit(net, predict)
    assert f1.trace_count == 1
    traces = model_programs(net).traces
    net.k.set_value(0.3)
    f2, r2 = _fit(net, predict)
    assert f2.trace_count == 0 and model_programs(net).traces == traces
    fresh_net, _, fresh_predict = _setup()
    _, r3 = _fit(fresh_net, fresh_predict)
    _same(r2, r3)
    _same(r1, r3)
    assert f2.evaluate()[0] == r2.best_loss  # the reused program is the canonical one
    loss_of, theta0 = f2.make_loss(TARGET)
    assert f2.trace_count == 0 and np.isfinite(float(loss_of(theta0)))


def test_a_changed_constant_re_traces():
    net, sim, predict = _setup()
    _fit(net, predict)
    net.k.set_value(0.3)
    net.node.w = 0.4
    f2, r2 = _fit(net, predict)
    assert f2.trace_count == 1
    fresh_net, _, fresh_predict = _setup(w=0.4)
    _same(r2, _fit(fresh_net, fresh_predict)[1])


def test_another_target_shape_objective_or_transient_re_traces():
    net, sim, predict = _setup()
    mean_gap = lambda p, t: jnp.mean((jnp.mean(p, 0) - jnp.mean(t, 0)) ** 2)
    mean_gap.time_flexible = True  # compares time averages: any number of samples
    f1, _ = _fit(net, predict, objective=mean_gap)
    f2, _ = _fit(net, predict, target=TARGET[:20], objective=mean_gap)  # another target shape
    assert (f1.trace_count, f2.trace_count) == (1, 1)
    f3, _ = _fit(net, predict, objective=timeseries_rmse())  # another objective
    assert f3.trace_count == 1
    f4, _ = _fit(net, predict, target=TARGET[10:], transient=10)  # another transient
    assert f4.trace_count == 1
    f5, _ = _fit(net, predict, objective=timeseries_rmse())  # the default-style objective again: reused
    assert f5.trace_count == 0
    assert len(_fitter_keys(net)) == 4


def test_another_parameter_set_transform_or_bounds_re_traces():
    net, sim, predict = _setup()
    _fit(net, predict)
    # another transform (other bounds), on the same model: re-traced, equal to a fresh model's fit
    for t in (brainstate.nn.SigmoidT(0., 1.), brainstate.nn.SigmoidT(0., 2.)):
        net.k = brainstate.nn.Param(0.3, t=t, fit=True)
        f, r = _fit(net, predict)
        assert f.trace_count == 1
        fresh_net, _, fresh_predict = _setup(k=brainstate.nn.Param(0.3, t=t, fit=True))
        _same(r, _fit(fresh_net, fresh_predict)[1])
    # another parameter set: node.a trainable too
    net.node.a = brainstate.nn.Param(0.1, fit=True)
    f, _ = _fit(net, predict)
    assert f.trace_count == 1 and set(f.parameters) == {'k', 'node.a'}
    # another search range (with the same transform) re-traces too
    net2, _, predict2 = _setup()
    _fit(net2, predict2)
    f, _ = _fit(net2, predict2, search_space={'k': (0.1, 2.)})
    assert f.trace_count == 1


def test_the_cache_does_not_keep_the_model_alive():
    net, sim, predict = _setup()
    fitter, result = _fit(net, predict)
    assert len(_fitter_keys(net)) == 1
    ref = weakref.ref(net)
    del net, sim, predict, fitter, result
    gc.collect()
    assert ref() is None


def test_a_predict_that_holds_the_model_keeps_its_program_on_the_fitter():
    net = model = _net()
    predict = lambda m: brainmass.Simulator(model, dt=DT).run(3 * u.ms, monitors=['node.x'])['node.x']
    fitter, r1 = _fit(net, predict)
    assert fitter.trace_count == 1 and not _fitter_keys(net)
    net.k.set_value(0.3)
    r2 = fitter.fit(TARGET, n_steps=2)  # the Fitter's own program is reused
    assert fitter.trace_count == 1
    _same(r1, r2)
    ref = weakref.ref(net)
    del net, model, predict, fitter, r1, r2
    gc.collect()
    assert ref() is None


# ------------------------------------------------------------------ Network.init_state without eager compiles
def _jnp_history(net, batch_size):
    """The buffer as the jnp formula builds it (the reference)."""
    L, n = net._plan.L, net.n_node
    shape = (L, n) if batch_size is None else (L, n, batch_size)
    dtype = brainstate.environ.dftype()
    if net.delay_init is None:
        value = jnp.asarray(net.node.x.value)
        hist = jnp.broadcast_to(value if value.ndim < 2 else value.T, shape)
    elif callable(net.delay_init):
        hist = net.delay_init(shape)
    else:
        value = jnp.asarray(net.delay_init)
        hist = jnp.broadcast_to(value if batch_size is None else value[..., None], shape)
    hist = jnp.swapaxes(jnp.asarray(hist, dtype=dtype), 0, 1)
    return jnp.concatenate([hist, hist], axis=1)


@pytest.mark.parametrize('bits', [32, 64])
def test_init_state_builds_the_same_buffer_with_numpy(bits):
    dist = np.array([[0., 1., 2.], [1., 0., 1.5], [2., 1.5, 0.]]) * u.mm
    rng = np.random.default_rng(0)
    with precision(bits):
        dtype = brainstate.environ.dftype()
        for delay_init in (None, 'array', 'callable'):
            for batch_size in (None, 2):
                node = brainmass.HopfStep(3, a=0.1, w=0.3, init_x=np.array([0.3, -0.2, 0.1]) / 3.)
                net = brainmass.Network(node, conn=np.ones((3, 3)) * 0.2, distance=dist,
                                        speed=1. * u.mm / u.ms, coupled_var='x')
                L = net._plan.L
                if delay_init == 'array':
                    net.delay_init = rng.normal(size=(L, 3)) / 7.
                elif delay_init == 'callable':
                    net.delay_init = lambda shape: jnp.full(shape, 0.1) / 3.
                brainstate.nn.init_all_states(net, batch_size=batch_size)
                buffer = net.buffer.value
                assert isinstance(buffer, jax.Array) and buffer.dtype == dtype
                assert np.array_equal(np.asarray(buffer), np.asarray(_jnp_history(net, batch_size)))
                assert net.pointer.value.dtype == jnp.int32 and int(net.pointer.value) == 0
                if net.lookahead > 1:
                    assert net.block_values.value.dtype == dtype and not np.any(np.asarray(net.block_values.value))


SCALE = 1.0


def _scaled(x):
    return x * SCALE


def test_a_global_read_by_a_helper_of_predict_is_part_of_the_key():
    global SCALE
    net, sim, predict = _setup()
    scaled = lambda m: _scaled(predict(m))
    f1, r1 = _fit(net, scaled)
    net.k.set_value(0.3)
    SCALE = 2.0
    try:
        f2, r2 = _fit(net, scaled)
    finally:
        SCALE = 1.0
    assert (f1.trace_count, f2.trace_count) == (1, 1) and r2.best_loss != r1.best_loss


def test_another_back_end_reuses_the_trace_and_matches_a_fresh_model():
    net, sim, predict = _setup()
    _fit(net, predict)
    net.k.set_value(0.3)
    fitter = Fitter(net, 'L-BFGS-B', predict=predict, backend='scipy')
    result = fitter.fit(TARGET, n_steps=2)
    assert fitter.trace_count == 0
    fresh_net, _, fresh_predict = _setup()
    fresh = Fitter(fresh_net, 'L-BFGS-B', predict=fresh_predict, backend='scipy').fit(TARGET, n_steps=2)
    _same(result, fresh)
