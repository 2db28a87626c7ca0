"""Bad arguments to the node models and noise processes fail at construction.

Every check runs once, in Python, in the constructor: the error names the
argument and what was expected, before anything is compiled. Construct-only
(one tiny run at most).
"""
import braintools
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass import HopfStep, JansenRitStep, MontbrioPazoRoxinStep, WilsonCowanStep
from brainmass.models.jansen_rit import JansenRitTR
from brainmass.models.wong_wang import WongWangExcInhStep, WongWangStep, fic_tuning

from _helpers import mag


# ------------------------------------------------------------------ shapes
@pytest.mark.parametrize('value', [jnp.ones((3, 2)), jnp.ones(2), jnp.ones((1, 3, 1)), jnp.ones((2, 2, 3))])
def test_parameter_shape_must_not_change_the_node_shape(value):
    shape = tuple(value.shape)
    with pytest.raises(ValueError, match=rf'`a` of HopfStep has shape \({shape[0]},.*in_size \(3,\)'):
        HopfStep(3, a=value)


def test_a_leading_batch_axis_gives_one_parameter_row_per_batch_member():
    """(B, N) or (B, 1): a parameter sweep in one batched run (each member matches its own run)."""
    a = jnp.array([[0.1], [0.5]])
    node = HopfStep(3, a=a, init_x=0.1)
    x = mag(brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms, monitors=['x'], batch_size=2)['x'])
    assert x.shape == (10, 2, 3)
    for b in range(2):
        single = HopfStep(3, a=float(a[b, 0]), init_x=0.1)
        ref = mag(brainmass.Simulator(single, dt=0.1 * u.ms).run(1 * u.ms, monitors=['x'])['x'])
        np.testing.assert_allclose(x[:, b], ref, rtol=1e-6)
    assert HopfStep(3, a=jnp.ones((4, 3))).a.value().shape == (4, 3)
    assert brainmass.OUProcess(2, sigma=jnp.ones((5, 1))).sigma.value().shape == (5, 1)


def test_parameter_shapes_that_fit_are_kept():
    assert HopfStep(3, a=jnp.ones(3)).a.value().shape == (3,)
    assert HopfStep(3, a=jnp.ones(1)).a.value().shape == (1,)
    assert HopfStep((3, 2), a=jnp.ones((1, 2))).a.value().shape == (1, 2)
    assert HopfStep(3, a=braintools.init.Uniform(0., 1.)).a.value().shape == (3,)


def test_param_objects_are_shape_checked_and_otherwise_untouched():
    with pytest.raises(ValueError, match='`tau_E` of WilsonCowanStep has shape \\(2, 2, 2\\)'):
        WilsonCowanStep(2, tau_E=brainstate.nn.Param(jnp.ones((2, 2, 2))))
    # a trainable Param (with or without a transform) keeps its object and its states
    a = brainstate.nn.Param(0.1, t=brainstate.nn.SigmoidT(-1., 1.))
    node = HopfStep(2, a=a)
    assert node.a is a and len(node.states(brainstate.ParamState)) == 1
    tau = brainstate.nn.Param(1.0, t=brainstate.nn.SoftplusT(0.))
    assert WilsonCowanStep(2, tau_E=tau).tau_E is tau
    # a constant (non-trainable) Param is checked like a plain value
    with pytest.raises(ValueError, match='`tau_E` of WilsonCowanStep must be positive'):
        WilsonCowanStep(2, tau_E=brainstate.nn.Const(-1.0))


# ------------------------------------------------------------------- types
def test_lists_and_tuples_are_per_region_arrays():
    np.testing.assert_allclose(HopfStep(2, a=[0.1, 0.2]).a.value().to_decimal(u.kHz), [0.1, 0.2], rtol=1e-6)
    w = HopfStep(2, w=(1 * u.kHz, 2 * u.kHz)).w.value().to_decimal(u.kHz)
    np.testing.assert_allclose(w, [1., 2.], rtol=1e-6)
    node = HopfStep(2, init_x=[0.1, 0.2])
    brainstate.nn.init_all_states(node)
    np.testing.assert_allclose(node.x.value, [0.1, 0.2], rtol=1e-6)
    noise = brainmass.OUProcess(2, sigma=[0.1, 0.2])
    np.testing.assert_allclose(noise.sigma.value(), [0.1, 0.2], rtol=1e-6)


@pytest.mark.parametrize('value, match', [
    ('0.25', "`a` of HopfStep must be a number, a list or array of numbers, a Quantity or a "
             "brainstate.nn.Param; got '0.25'"),
    (None, '`a` of HopfStep must be a number.*got None'),
    ({'a': 1}, '`a` of HopfStep must be a number.*got dict'),
    ([1., [2., 3.]], '`a` of HopfStep must be a number.*got a list that is not an array of numbers'),
    (1 + 2j, '`a` of HopfStep must be real'),
])
def test_non_numeric_parameters_raise_type_error(value, match):
    with pytest.raises(TypeError, match=match):
        HopfStep(2, a=value)


def test_dimensionless_parameter_rejects_a_unit():
    with pytest.raises(ValueError, match='`a_E` of WilsonCowanStep is dimensionless; got a quantity in mV'):
        WilsonCowanStep(2, a_E=1 * u.mV)
    assert float(WilsonCowanStep(1, a_E=u.Quantity(1.5)).a_E.value()) == 1.5


def test_initial_values_are_checked_at_construction():
    with pytest.raises(TypeError, match="`init_x` of HopfStep must be a number.*initializer.*got 'zero'"):
        HopfStep(2, init_x='zero')
    with pytest.raises(ValueError, match=r'`init_x` of HopfStep has shape \(3,\).*in_size \(2,\)'):
        HopfStep(2, init_x=jnp.ones(3))
    with pytest.raises(ValueError, match=r'`init_x` of HopfStep has shape \(5,\)'):
        HopfStep(2, x_init=jnp.ones(5))          # the alias spelling
    with pytest.raises(ValueError, match='`init_x` of HopfStep must be finite; got nan'):
        HopfStep(2, init_x=jnp.nan)
    with pytest.raises(ValueError, match='`init_r` of MontbrioPazoRoxinStep has unit mV, expected Hz'):
        MontbrioPazoRoxinStep(2, init_r=1 * u.mV)
    # initializers and a leading batch axis are still accepted
    HopfStep(2, init_x=braintools.init.Uniform(0., 1.))
    node = HopfStep(2, init_x=jnp.ones((4, 2)))
    brainstate.nn.init_all_states(node, batch_size=4)
    assert node.x.value.shape == (4, 2)


# ---------------------------------------------------------------- NaN / inf
@pytest.mark.parametrize('kwargs, match', [
    (dict(a=float('nan')), '`a` of HopfStep must be finite; got nan'),
    (dict(a=jnp.array([0.1, jnp.nan])), r'`a` of HopfStep must be finite; got \[0.1 nan\]'),
    (dict(w=float('inf')), '`w` of HopfStep must be finite; got inf'),
    (dict(beta=jnp.ones(2).at[1].set(-jnp.inf)), '`beta` of HopfStep must be finite'),
])
def test_nan_and_inf_parameters_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        HopfStep(2, **kwargs)


def test_large_arrays_name_the_first_offending_entry():
    with pytest.raises(ValueError, match=r'`tau_E` of WilsonCowanStep must be positive \(> 0\); '
                                         r'got -2.0 ms at index \(3,\)'):
        WilsonCowanStep(20, tau_E=jnp.ones(20).at[3].set(-2.) * u.ms)


def test_infinite_semi_saturation_stays_allowed():
    node = brainmass.WilsonCowanDivisiveInputStep(2, sigma_E=None, sigma_I=jnp.inf)
    assert np.isinf(node.sigma_E.value()) and np.isinf(node.sigma_I.value())
    with pytest.raises(ValueError, match='`sigma_E` of WilsonCowanDivisiveInputStep must be positive'):
        brainmass.WilsonCowanDivisiveInputStep(2, sigma_E=0.)


# ---------------------------------------------------- time and rate constants
@pytest.mark.parametrize('make, match', [
    (lambda: WilsonCowanStep(2, tau_E=-1 * u.ms), r'`tau_E` of WilsonCowanStep must be positive \(> 0\); got -1.0 ms'),
    (lambda: WilsonCowanStep(2, tau_I=0.), '`tau_I` of WilsonCowanStep must be positive'),
    (lambda: MontbrioPazoRoxinStep(2, tau=0 * u.ms), '`tau` of MontbrioPazoRoxinStep must be positive'),
    (lambda: MontbrioPazoRoxinStep(2, delta=-1.), '`delta` of MontbrioPazoRoxinStep must be >= 0'),
    (lambda: JansenRitStep(2, be=0.), '`be` of JansenRitStep must be positive'),
    (lambda: JansenRitStep(2, bi=-50 * u.Hz), '`bi` of JansenRitStep must be positive.*-0.05 kHz'),
    (lambda: WongWangStep(1, tau_S=0 * u.ms), '`tau_S` of WongWangStep must be positive'),
    (lambda: WongWangStep(1, d=0.), '`d` of WongWangStep must be positive'),
    (lambda: WongWangExcInhStep(1, tau_i=-1.), '`tau_i` of WongWangExcInhStep must be positive'),
    (lambda: brainmass.CoombesByrneStep(2, Delta=-1.), '`Delta` of CoombesByrneStep must be >= 0'),
    (lambda: brainmass.EpileptorStep(2, r=-1e-4), '`r` of EpileptorStep must be >= 0'),
    (lambda: brainmass.EpileptorStep(2, tt=0.), '`tt` of EpileptorStep must be positive'),
    (lambda: brainmass.LarterBreakspearStep(2, tau_K=0.), '`tau_K` of LarterBreakspearStep must be positive'),
    (lambda: brainmass.Generic2dOscillatorStep(2, tau=0.), '`tau` of Generic2dOscillatorStep must be positive'),
    (lambda: brainmass.FitzHughNagumoStep(2, tau=0.), '`tau` of FitzHughNagumoStep must be positive'),
    (lambda: brainmass.WilsonCowanAdaptiveStep(2, tau_aE=0.), '`tau_aE` of WilsonCowanAdaptiveStep must be'),
    (lambda: brainmass.WilsonCowanDelayedStep(2, delay_EE=float('inf')), '`delay_EE`.*finite time >= 0'),
])
def test_time_and_rate_constants_must_be_positive(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_signs_that_are_legitimate_stay_allowed():
    assert float(HopfStep(2, a=-0.1, beta=-1.0).beta.value().to_decimal(u.kHz)) == -1.0     # subcritical Hopf
    assert float(MontbrioPazoRoxinStep(2, delta=0.).delta.value().to_decimal(u.kHz)) == 0.  # homogeneous population
    assert float(brainmass.EpileptorStep(2, r=0.).r.value().to_decimal(u.kHz)) == 0.        # frozen slow variable
    assert float(brainmass.LinearStep(2, gamma=-0.1).gamma.value().to_decimal(u.kHz)) == pytest.approx(-0.1)


def test_traced_values_are_not_checked():
    def build(a):
        return HopfStep(2, a=a, init_x=a).a.value().to_decimal(u.kHz)
    out = jax.jit(build)(jnp.array([0.1, -0.2]))
    np.testing.assert_allclose(out, [0.1, -0.2], rtol=1e-6)


# -------------------------------------------------------------------- noise
def test_noise_size_must_match_the_node():
    with pytest.raises(ValueError, match=r'`noise_x` has size \(3,\), but HopfStep has in_size \(2,\).*'
                                         r'OUProcess\(2, ...\)'):
        HopfStep(2, noise_x=brainmass.OUProcess(3, sigma=0.1))
    node = HopfStep(2)
    with pytest.raises(ValueError, match='`noise_y` has size'):
        node.noise_y = brainmass.GaussianNoise((2, 1), sigma=0.1)
    HopfStep(2, noise_x=brainmass.OUProcess(1, sigma=0.1))   # one shared process broadcasts


@pytest.mark.parametrize('make, error, match', [
    (lambda: brainmass.OUProcess(2, sigma=jnp.ones((2, 3))), ValueError, r'`sigma` of OUProcess has shape \(2, 3\)'),
    (lambda: brainmass.OUProcess(2, sigma=jnp.nan), ValueError, '`sigma` of OUProcess must be finite'),
    (lambda: brainmass.OUProcess(2, sigma=-1.), ValueError, '`sigma` of OUProcess must be >= 0'),
    (lambda: brainmass.OUProcess(2, tau=0.), ValueError, '`tau` of OUProcess must be positive.*0.0 ms'),
    (lambda: brainmass.OUProcess(2, sigma='0.1'), TypeError, '`sigma` of OUProcess must be a number'),
    (lambda: brainmass.ColoredNoise(2, beta='pink'), TypeError, '`beta` of ColoredNoise must be a number'),
])
def test_noise_parameters(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ------------------------------------------------------------- JansenRitTR
@pytest.mark.parametrize('kwargs, error, match', [
    (dict(dt=0), ValueError, r'`dt` of JansenRitTR must be positive \(> 0\); got 0.0 ms'),
    (dict(dt=-0.1 * u.ms), ValueError, '`dt` of JansenRitTR must be positive'),
    (dict(tr=float('nan')), ValueError, '`tr` of JansenRitTR must be finite'),
    (dict(tr='1ms'), TypeError, '`tr` of JansenRitTR must be a time'),
    (dict(tr=1. * u.ms, dt=0.3 * u.ms), ValueError, 'whole multiple of `dt`'),
    (dict(conn=np.array([[0., np.nan], [1., 0.]])), ValueError, '`conn` of JansenRitTR must be finite'),
])
def test_tr_model_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        JansenRitTR(2, **kwargs)


# --------------------------------------------------------------- Wong-Wang
def test_get_decision_before_a_run():
    node = WongWangStep(1)
    with pytest.raises(RuntimeError, match=r'get_decision\(\) has no run to read.*init_state'):
        node.get_decision()
    brainstate.nn.init_all_states(node)
    choice, when = node.get_decision()
    assert int(choice[0]) == 0 and np.isnan(u.get_magnitude(when)[0])


def test_rate_arguments_of_wong_wang():
    with pytest.raises(ValueError, match='`threshold` of WongWangStep must be a rate.*got a quantity in mV'):
        WongWangStep(1, threshold=15 * u.mV)
    node = WongWangStep(1)
    brainstate.nn.init_all_states(node)
    with pytest.raises(ValueError, match='`threshold`.*must be a rate'):
        node.get_decision(threshold=15 * u.mV)
    with pytest.raises(ValueError, match='`target_rate` of fic_tuning must be a rate'):
        fic_tuning(WongWangExcInhStep(2), target_rate=3 * u.ms)


def test_scaled_dimensionless_quantities_are_converted():
    # gamma_e is per ms per Hz: the quantity is converted to that unit, plain numbers are in it
    node = WongWangExcInhStep(1, gamma_e=0.641e-3 / (u.ms * u.Hz))
    assert float(node.gamma_e.value().to_decimal(u.kHz / u.Hz)) == pytest.approx(0.641e-3)
    assert float(WongWangExcInhStep(1).gamma_e.value().to_decimal(u.kHz / u.Hz)) == pytest.approx(0.641e-3)
    # a dimensionless parameter takes a dimensionless quantity at its decimal value
    assert float(WilsonCowanStep(1, a_E=2000 * u.mV / u.volt).a_E.value()) == pytest.approx(2.)
