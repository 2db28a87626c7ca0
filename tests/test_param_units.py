"""Node parameters read back as quantities in their declared units (issue 18)."""
import inspect

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass._core.step import MODEL_REGISTRY
from brainmass import FitzHughNagumoStep, HopfStep, WilsonCowanStep


def _declared(node):
    """``{name: unit}`` of the node's parameters declared with a unit."""
    return {name: c['unit'] for name, c in node._param_checks.items()
            if c['unit'] is not None and not c['unit'].is_unitless}


def _default(cls, name):
    for klass in cls.__mro__:  # a subclass may pass its parents' parameters through **kwargs
        params = inspect.signature(klass.__init__).parameters
        if name in params and params[name].default is not inspect.Parameter.empty:
            return params[name].default
    return None


@pytest.mark.parametrize('name', sorted(MODEL_REGISTRY))
def test_every_unit_parameter_reads_back_as_its_declared_quantity(name):
    cls = MODEL_REGISTRY[name]
    node = cls(2)
    declared = _declared(node)
    for pname, c in node._param_checks.items():
        value = getattr(node, pname).value()
        if pname not in declared:
            assert not isinstance(value, u.Quantity), (name, pname, value)  # dimensionless: plain
            continue
        unit = declared[pname]
        assert isinstance(value, u.Quantity) and u.get_unit(value) == unit, (name, pname, value)
        np.testing.assert_array_equal(u.get_magnitude(value), node.magnitude(pname))
        assert str(unit) in repr(getattr(node, pname))
        default = _default(cls, pname)
        if default is None:
            continue
        expect = default.to_decimal(unit) if isinstance(default, u.Quantity) else default
        np.testing.assert_allclose(value.to_decimal(unit), expect, rtol=1e-6, err_msg=f'{name}.{pname}')


def test_the_issue_examples():
    assert FitzHughNagumoStep(2, tau=2 * u.ms).tau.value() == 2. * u.ms
    assert u.get_unit(FitzHughNagumoStep(2, tau=2.0).tau.value()) == u.ms
    tau = FitzHughNagumoStep(2, tau=0.002 * u.second).tau.value()   # another unit: converted to ms
    assert u.get_unit(tau) == u.ms and float(tau.to_decimal(u.ms)) == pytest.approx(2.)
    a = HopfStep(1, a=0.25).a.value()                                # plain numbers: the declared unit
    assert u.get_unit(a) == u.kHz and float(a.to_decimal(u.kHz)) == 0.25
    assert repr(FitzHughNagumoStep(1, tau=2 * u.ms).tau) == 'UnitConst(2. ms)'
    a_E = WilsonCowanStep(1, a_E=1.5).a_E.value()                    # dimensionless: a plain array
    assert not isinstance(a_E, u.Quantity) and float(a_E) == 1.5


@pytest.fixture(params=[32, 64])
def precision(request):
    """Run a test in float32 and in float64 (jax_enable_x64 + brainstate precision)."""
    old = jax.config.jax_enable_x64
    jax.config.update('jax_enable_x64', request.param == 64)
    brainstate.environ.set(precision=request.param)
    try:
        yield request.param
    finally:
        brainstate.environ.set(precision=32)
        jax.config.update('jax_enable_x64', old)


def test_read_back_in_float32_and_float64(precision):
    tau = FitzHughNagumoStep(2, tau=0.002 * u.second).tau.value()
    assert u.get_magnitude(tau).dtype == (np.float64 if precision == 64 else np.float32)
    assert float(tau.to_decimal(u.ms)) == pytest.approx(2., rel=1e-14 if precision == 64 else 1e-6)
    node = HopfStep(2, a=[0.1, 0.2], init_x=0.1)
    x = brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms)['output']
    assert x.dtype == (np.float64 if precision == 64 else np.float32) and np.all(np.isfinite(x))


def test_reassignment_and_set_value_keep_the_unit():
    node = HopfStep(2)
    node.a = 0.3
    assert node.a.value() == 0.3 * u.kHz
    node.a = 200 * u.Hz
    assert float(node.a.value().to_decimal(u.kHz)) == pytest.approx(0.2)
    node = FitzHughNagumoStep(2)
    node.tau.set_value(0.004 * u.second)                             # a quantity: converted
    assert float(node.tau.value().to_decimal(u.ms)) == pytest.approx(4.)
    node.tau.set_value(5.)                                           # a plain number: in ms
    assert node.tau.value() == 5. * u.ms
    with pytest.raises(ValueError, match='ms'):
        node.tau.set_value(3 * u.mV)


def test_set_value_reaches_the_next_run():
    node = HopfStep(1, a=0.1, w=0.05, init_x=0.1)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    first = sim.run(2 * u.ms)['output']
    node.a.set_value(-100 * u.Hz)
    second = sim.run(2 * u.ms)['output']
    expect = brainmass.Simulator(HopfStep(1, a=-0.1, w=0.05, init_x=0.1), dt=0.1 * u.ms).run(2 * u.ms)['output']
    np.testing.assert_allclose(second, expect, rtol=1e-6)
    assert not np.allclose(first, second)


def test_a_users_param_is_kept_and_read_in_the_declared_unit():
    a = brainstate.nn.Param(0.1, t=brainstate.nn.SoftplusT(0.))
    node = HopfStep(2, a=a)
    assert node.a is a and float(node.magnitude('a')) == pytest.approx(0.1)
    hz = brainstate.nn.Param(100. * u.Hz)                            # a quantity in another unit
    node = HopfStep(2, a=hz)
    assert node.a is hz and float(node.magnitude('a')) == pytest.approx(0.1)
    run = lambda n: brainmass.Simulator(n, dt=0.1 * u.ms).run(5 * u.ms)['output']
    np.testing.assert_allclose(run(HopfStep(2, a=hz, init_x=0.1)), run(HopfStep(2, a=0.1, init_x=0.1)),
                               rtol=1e-6)
    with pytest.raises(ValueError, match='`a` of HopfStep must be in units of kHz; got ms'):
        HopfStep(2, a=brainstate.nn.Param(2. * u.ms))
    with pytest.raises(ValueError, match='`a_E` of WilsonCowanStep is dimensionless'):
        WilsonCowanStep(2, a_E=brainstate.nn.Param(2. * u.ms))


def _loss_and_grad(a):
    node = HopfStep(2, a=a, w=0.05, init_x=0.1, init_y=0.)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    loss = lambda: jnp.sum(sim.run(5 * u.ms)['output'][-1] ** 2)
    return loss(), brainstate.transform.grad(loss, grad_states=[a.val])()[0]


def test_gradients_through_a_trainable_parameter():
    loss, grad = _loss_and_grad(brainstate.nn.Param(0.1))            # kHz, as plain numbers
    loss_hz, grad_hz = _loss_and_grad(brainstate.nn.Param(100. * u.Hz))
    assert float(loss_hz) == pytest.approx(float(loss), rel=1e-6)
    np.testing.assert_allclose(u.get_magnitude(grad_hz), 1e-3 * grad, rtol=1e-5)  # d/d(Hz) = d/d(kHz) / 1000
    eps = 1e-3                                                       # against a difference of constants
    run = lambda a: brainmass.Simulator(HopfStep(2, a=a, w=0.05, init_x=0.1, init_y=0.), dt=0.1 * u.ms)
    diff = [jnp.sum(run(0.1 + s * eps).run(5 * u.ms)['output'][-1] ** 2) for s in (1., -1.)]
    assert float(grad) == pytest.approx(float(diff[0] - diff[1]) / (2 * eps), rel=2e-2)


def test_the_fitter_finds_the_users_trainable_under_its_path():
    import braintools
    a = brainstate.nn.Param(0.1, t=brainstate.nn.SoftplusT(0.))
    net = brainmass.Network(HopfStep(2, a=a, w=0.05), conn=[[0., 1.], [1., 0.]], coupled_var='x')
    fitter = brainmass.Fitter(net, braintools.optim.Adam(lr=0.01), predict=lambda m: m.node.x.value,
                              objective=brainmass.objectives.timeseries_rmse())
    assert list(fitter.parameters) == ['node.a']
    assert fitter.parameters['node.a'].param is a
    assert float(fitter.current_params()['node.a']) == pytest.approx(0.1)   # a plain number, as before
