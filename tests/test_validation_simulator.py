"""Bad input to the Simulator, its monitors and the observation layer: clear errors, raised in
Python before anything is compiled, that name the argument and say what was expected."""
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass.observation import (BOLDSignal, DoubleExponentialHRFKernel, FirstOrderVolterraHRFKernel,
                                   GammaHRFKernel, HRFBold, MixtureOfGammasHRFKernel, TemporalAverage)
from brainmass.orchestration.simulator import InputUnitError

ms = u.ms
DT = 0.1 * ms


def sim(node=None):
    return brainmass.Simulator(brainmass.HopfStep(2) if node is None else node, dt=DT)


# ------------------------------------------------------------------ inputs: shapes
@pytest.mark.parametrize('inputs, match', [
    (jnp.ones((10, 3)), r'`inputs` has shape \(10, 3\).*HopfStep has state shape \(2,\) \(2 regions\)'),
    (jnp.ones(3), r'`inputs` has shape \(3,\): 3 time steps.*run has 10 steps.*expected shape \(10,\) or \(10, 2\)'),
    (jnp.ones((10, 4, 2)), r'`inputs` has shape \(10, 4, 2\).*batch_size=B'),
    ((0.5, jnp.ones((10, 3))), r'`inputs` item 1 has shape \(10, 3\)'),
    (lambda i, t: jnp.ones(5), r'`inputs` \(callable output\) has shape \(5,\).*\(2 regions\)'),
])
def test_inputs_with_the_wrong_region_count_name_inputs_and_the_shapes(inputs, match):
    s = sim()
    with pytest.raises(ValueError, match=match):
        s.run(1 * ms, inputs=inputs)
    if not callable(inputs):
        assert s.trace_count == 0                       # raised before any trace


@pytest.mark.parametrize('inputs, match', [
    (jnp.ones((10, 3, 2)), r'`inputs` has shape \(10, 3, 2\).*batch_size=4.*\(\) or \(2,\) or \(4, 2\)'),
    (jnp.ones((4, 2)), r'4 time steps.*run has 10 steps.*\(10, 4, 2\)'),
])
def test_inputs_with_a_wrong_batch_shape(inputs, match):
    s = sim()
    with pytest.raises(ValueError, match=match):
        s.run(1 * ms, inputs=inputs, batch_size=4)
    assert s.trace_count == 0


def test_a_per_region_vector_is_pointed_to_the_forms_that_take_it():
    with pytest.raises(ValueError, match=r'lambda i, t: values.*broadcast_to\(values, \(10, 2\)\)'):
        sim().run(1 * ms, inputs=jnp.array([0.1, 0.2]))


@pytest.mark.parametrize('inputs, batch_size', [
    (0.5, None), (jnp.full(10, 0.5), None), (jnp.full((10, 2), 0.5), None), (jnp.full((10, 1), 0.5), None),
    ((0.5, jnp.ones((10, 2))), None), ((None, 0.5), None), (lambda i, t: jnp.full(2, 0.5), None),
    (lambda i, t: None, None), (jnp.ones((10, 3, 2)), 3), (jnp.ones((10, 2)), 3), (0.5 * jnp.ones(10), 3),
])
def test_every_valid_form_of_inputs_still_runs(inputs, batch_size):
    out = sim().run(1 * ms, inputs=inputs, batch_size=batch_size)['output']
    assert out.shape == ((10, 2) if batch_size is None else (10, batch_size, 2))


def test_network_inputs_still_run():
    net = brainmass.Network(brainmass.HopfStep(2), conn=np.ones((2, 2)), coupled_var='x')
    assert sim(net).run(1 * ms, inputs=jnp.ones((10, 2)), monitors=['node.x'])['node.x'].shape == (10, 2)


def test_non_numeric_inputs_and_too_many_inputs():
    with pytest.raises(TypeError, match=r'`inputs` must be a number, an array of numbers or a quantity'):
        sim().run(1 * ms, inputs='abc')
    with pytest.raises(TypeError, match=r'`inputs` gives 3 inputs, but HopfStep.update takes at most 2'):
        sim().run(1 * ms, inputs=(1., 1., 1.))
    net = brainmass.Network(brainmass.HopfStep(2), conn=np.ones((2, 2)), coupled_var='x')
    with pytest.raises(TypeError, match=r'coupling current, so `inputs` may give at most 1'):
        sim(net).run(1 * ms, inputs=(1., 1.))
    with pytest.raises(TypeError, match=r'called as inputs\(i, t\)'):
        sim().run(1 * ms, inputs=lambda i: 1.)


# ------------------------------------------------------------------ inputs: units
def test_inputs_in_the_wrong_unit_name_inputs_and_the_expected_unit():
    node = brainmass.MontbrioPazoRoxinStep(2)
    s = brainmass.Simulator(node, dt=0.01 * ms)
    with pytest.raises(InputUnitError, match=r"`inputs` is in mV, but it drives 'r'.*must be in Hz") as err:
        s.run(0.1 * ms, inputs=1 * u.mV)
    assert isinstance(err.value, ValueError) and isinstance(err.value, u.UnitMismatchError)
    assert s.trace_count == 0
    with pytest.raises(ValueError, match=r"`inputs` item 1 is in mV, but it drives 'v'.*dimensionless"):
        s.run(0.1 * ms, inputs=(0. * u.Hz, 1 * u.mV))
    with pytest.raises(ValueError, match=r"`inputs` \(callable output\) is in mV.*must be in Hz"):
        s.run(0.1 * ms, inputs=lambda i, t: 1 * u.mV)
    assert s.run(0.1 * ms, inputs=(0.5 * u.Hz, 0.1))['output'].shape == (10, 2)   # the right units run


# ------------------------------------------------------------------ times and flags
@pytest.mark.parametrize('duration', [float('nan') * ms, float('inf') * ms, float('inf') * u.second])
def test_non_finite_duration(duration):
    with pytest.raises(ValueError, match='`duration` must be a finite time'):
        sim().run(duration)


def test_non_finite_plain_duration_still_asks_for_units():
    with pytest.raises(TypeError, match='`duration` must carry time units'):
        sim().run(float('nan'))


@pytest.mark.parametrize('dt, error, match', [
    (float('inf') * ms, ValueError, '`dt` must be a finite time step'),
    (float('nan') * ms, ValueError, '`dt` must be a finite time step'),
    (0. * ms, ValueError, r'`dt` must be > 0'),
    (-0.1 * ms, ValueError, r'`dt` must be > 0'),
    (jnp.array([0.1, 0.2]) * ms, ValueError, '`dt` must be a single time step'),
    (0.1, TypeError, '`dt` must carry time units'),
])
def test_bad_dt(dt, error, match):
    with pytest.raises(error, match=match):
        brainmass.Simulator(brainmass.HopfStep(2), dt=dt)


@pytest.mark.parametrize('flag', ['init_states', 'jit', 'progress'])
@pytest.mark.parametrize('value', ['no', 'False', None, 1])
def test_string_flags_are_not_read_as_true(flag, value):
    with pytest.raises(TypeError, match=f'`{flag}` must be a bool'):
        sim().run(1 * ms, **{flag: value})


def test_checkpoint_of_the_wrong_type():
    with pytest.raises(TypeError, match='`checkpoint` must be False, True'):
        sim().run(1 * ms, checkpoint='yes')
    with pytest.raises(ValueError, match='`checkpoint` must be False, True'):   # still a ValueError too
        sim().run(1 * ms, checkpoint='no')


def test_divergence_between_samples_says_first_seen_at_sample():
    node = brainmass.HopfStep(2, a=1.0, beta=-1.0, init_x=1.0)
    with pytest.raises(brainmass.SimulationDivergedError,
                       match=r"monitor 'x' became .*first seen at sample t = .*at or before"):
        brainmass.Simulator(node, dt=DT).run(5 * ms, monitors=['x'], sample_every=10)


# ------------------------------------------------------------------ in-loop monitors
@pytest.mark.parametrize('monitor', [brainmass.BOLDMonitor, brainmass.AverageMonitor])
def test_observer_of_an_unknown_state_lists_the_states(monitor):
    s = sim()
    with pytest.raises(ValueError, match=r"`source` 'z' of \w+Monitor is not a state of HopfStep. "
                                         r"Available states: x, y\."):
        s.run(1 * ms, sample_every=5, monitors={'m': monitor('z')})
    assert s.trace_count == 0


def test_observer_source_on_a_submodule_gets_a_hint():
    net = brainmass.Network(brainmass.HopfStep(2), conn=np.ones((2, 2)), coupled_var='x')
    with pytest.raises(ValueError, match=r"'x' lives on a submodule: pass 'node.x'"):
        sim(net).run(1 * ms, monitors={'b': brainmass.BOLDMonitor('x')})


def test_bold_monitor_in_size_and_parameters():
    s = sim()
    with pytest.raises(ValueError, match=r'`in_size` of BOLDMonitor is \(5,\).*\(HopfStep has 2 regions\)'):
        s.run(1 * ms, monitors={'b': brainmass.BOLDMonitor('x', in_size=5)})
    assert s.trace_count == 0
    with pytest.raises(ValueError, match=r'`bold` of BOLDMonitor has in_size \(3,\)'):
        s.run(1 * ms, monitors={'b': brainmass.BOLDMonitor('x', bold=BOLDSignal(3))})
    with pytest.raises(TypeError, match=r"unexpected BOLDSignal parameter\(s\) 'gama'; accepted: gamma"):
        brainmass.BOLDMonitor('x', gama=0.3)
    with pytest.raises(TypeError, match='`bold` must be a brainmass.BOLDSignal'):
        brainmass.BOLDMonitor('x', bold='balloon')
    with pytest.raises(ValueError, match='`in_size` must be >= 1'):
        brainmass.BOLDMonitor('x', in_size=0)
    with pytest.raises(TypeError, match=r"in-loop monitor \(BOLDMonitor\) needs a name"):
        s.run(1 * ms, monitors=[brainmass.BOLDMonitor('x')])


def test_bold_monitor_with_in_size_and_a_bad_parameter_value():
    with pytest.raises(ValueError, match=r'`tau` of BOLDSignal must be > 0'):
        sim().run(1 * ms, monitors={'b': brainmass.BOLDMonitor('x', in_size=2, tau=-1.)})


# ------------------------------------------------------------------ HRFBold: downsample_period
@pytest.mark.parametrize('kwargs, error, match', [
    (dict(downsample_period=0 * ms), ValueError, r'`downsample_period` must be > 0'),
    (dict(downsample_period=-4.), ValueError, r'`downsample_period` must be > 0'),
    (dict(downsample_period=float('inf') * ms), ValueError, r'`downsample_period` must be finite'),
    (dict(downsample_period=4 * u.mV), ValueError, r'`downsample_period` must be a time'),
    (dict(downsample_period='4ms'), TypeError, r'`downsample_period` must be a number or a time'),
    (dict(period=1 * ms, downsample_period=4 * ms), ValueError,
     r'`downsample_period` \(4 ms\) must not be longer than `period` \(1 ms\)'),
    (dict(period=1000 * ms, downsample_period=3 * ms), ValueError,
     r'`period` \(1000 ms\) must be a positive integer multiple of `downsample_period` \(3 ms\)'),
    (dict(period=0 * ms), ValueError, r'`period` must be > 0'),
    (dict(hrf_length=-1.), ValueError, r'`hrf_length` of HRFBold must be > 0'),
    (dict(k_1='5.6'), TypeError, r'`k_1` of HRFBold must be a number'),
])
def test_hrf_bold_blames_the_right_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        HRFBold(**kwargs)


def test_hrf_bold_window_not_a_multiple_of_dt_names_downsample_period():
    monitor = HRFBold(period=12 * ms, downsample_period=4 * ms, convolution_mode='same')
    with pytest.raises(ValueError, match=r'`downsample_period` \(4 ms\) must be a positive integer multiple '
                                         r'of `dt` \(3 ms\)'):
        monitor(jnp.ones((40, 2)), 3 * ms)
    with pytest.raises(ValueError, match=r'fewer than one averaging window.*downsample_period'):
        monitor(jnp.ones((3, 2)), 1 * ms)
    with pytest.raises(ValueError, match=r'`period` \(0.25 ms\) must be a positive integer multiple of `dt`'):
        TemporalAverage(0.25 * ms)(jnp.ones(10), 0.1 * ms)     # TemporalAverage itself: `period`


# ------------------------------------------------------------------ positive parameters
@pytest.mark.parametrize('name, value, match', [
    ('tau', 0., r'`tau` of BOLDSignal must be > 0 \(a time constant\); got 0.0'),
    ('tau', -0.5 * u.second, r'`tau` of BOLDSignal must be > 0'),
    ('gamma', -0.41, r'`gamma` of BOLDSignal must be > 0'),
    ('k', 0., r'`k` of BOLDSignal must be > 0'),
    ('alpha', 0., r"`alpha` of BOLDSignal must be > 0 \(Grubb's exponent\)"),
    ('rho', 1.5, r'`rho` of BOLDSignal must be in \(0, 1\) \(the resting oxygen extraction fraction\)'),
    ('rho', 0., r'`rho` of BOLDSignal must be in \(0, 1\)'),
    ('V0', -0.02, r'`V0` of BOLDSignal must be > 0'),
    ('tau', jnp.array([1., float('nan')]), r'`tau` of BOLDSignal must be > 0'),
])
def test_bold_parameters_out_of_range(name, value, match):
    with pytest.raises(ValueError, match=match):
        BOLDSignal(2, **{name: value})


def test_bold_traced_and_trainable_parameters_are_not_checked():
    BOLDSignal(2, tau=brainstate.nn.Param(jnp.asarray(-1.)))           # trainable: left to the fit
    with pytest.raises(ValueError, match=r'`tau` of BOLDSignal must be > 0'):
        BOLDSignal(2, tau=brainstate.nn.Param(jnp.asarray(-1.), fit=False))   # a fixed Param is a constant
    f = lambda tau: jnp.sum(BOLDSignal(1, tau=tau).simulate(jnp.ones((5, 1)), 10 * ms))
    assert jax.eval_shape(jax.grad(f), 0.98).shape == ()              # traced: not checked
    with pytest.raises(TypeError, match=r'`k` of BOLDSignal must be a number'):
        BOLDSignal(2, k='0.65')
    with pytest.raises(ValueError, match=r'`dt` of BOLDSignal.simulate must be > 0'):
        BOLDSignal(2).simulate(jnp.ones((5, 2)), 0 * ms)


def test_bold_update_with_the_wrong_size():
    bold = BOLDSignal(2)
    bold.init_state()
    with brainstate.environ.context(dt=1 * ms):
        with pytest.raises(ValueError, match=r'`z` of BOLDSignal.update has shape \(3,\).*in_size \(2,\)'):
            bold.update(jnp.ones(3))


@pytest.mark.parametrize('make, match', [
    (lambda: GammaHRFKernel(tau=0.), r'`tau` of GammaHRFKernel must be > 0'),
    (lambda: GammaHRFKernel(tau=-1 * u.second), r'`tau` of GammaHRFKernel must be > 0'),
    (lambda: GammaHRFKernel(n=0), r'`n` of GammaHRFKernel must be >= 1'),
    (lambda: FirstOrderVolterraHRFKernel(tau_s=0.), r'`tau_s` of FirstOrderVolterraHRFKernel must be > 0'),
    (lambda: FirstOrderVolterraHRFKernel(tau_f=-0.4), r'`tau_f` of FirstOrderVolterraHRFKernel must be > 0'),
    (lambda: DoubleExponentialHRFKernel(tau1=0.), r'`tau1` of DoubleExponentialHRFKernel must be > 0'),
    (lambda: DoubleExponentialHRFKernel(f2=-0.1), r'`f2` of DoubleExponentialHRFKernel must be > 0'),
    (lambda: MixtureOfGammasHRFKernel(b=0.), r'`b` of MixtureOfGammasHRFKernel must be > 0'),
    (lambda: MixtureOfGammasHRFKernel(a1=0.5), r'`a1` of MixtureOfGammasHRFKernel must be >= 1'),
    (lambda: GammaHRFKernel(duration=-5.), r'`duration` of GammaHRFKernel must be > 0'),
])
def test_kernel_parameters_out_of_range(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_kernel_parameters_under_a_trace_are_not_checked():
    assert np.isfinite(float(jax.jit(lambda tau: GammaHRFKernel(tau=tau)(1.))(1.08)))
    assert np.isfinite(float(jax.grad(lambda b: MixtureOfGammasHRFKernel(b=b)(5.))(1.)))
    with pytest.raises(TypeError, match=r'`tau` of GammaHRFKernel must be a number'):
        GammaHRFKernel(tau='1')


def test_a_monitor_returning_a_non_array_names_the_monitor():
    with pytest.raises(TypeError, match="monitor 'm' returned str"):
        sim().run(1 * ms, monitors={'m': lambda m: 'abc'})
