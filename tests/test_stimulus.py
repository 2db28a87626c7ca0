"""brainmass.stimulus: stimulus kinds, composition, routing in a Network, gradients, errors."""
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass import stimulus as S

from _helpers import mag, precision

DT = 0.1


def values(stim, steps):
    return np.stack([np.asarray(mag(stim.value_at(i, i * DT * u.ms))) for i in steps])


# ------------------------------------------------------------------ kinds
def test_step_edges_and_weights():
    st = S.Step(1.0 * u.ms, 2.0, duration=2.0 * u.ms, weights=[1., 0.5])
    np.testing.assert_allclose(values(st, [9, 10, 29, 30]), [[0, 0], [2, 1], [2, 1], [0, 0]])


def test_pulse_train_period_width_count():
    pt = S.PulseTrain(onset=1.0, amplitude=3.0, width=0.5, period=2.0, n=2)
    got = values(pt, [9, 10, 14, 15, 30, 34, 35, 50])
    np.testing.assert_allclose(got, [0, 3, 3, 0, 3, 3, 0, 0])
    same = S.PulseTrain(onset=1.0, amplitude=3.0, width=0.5, frequency=500 * u.Hz, n=2)
    np.testing.assert_allclose(values(same, range(60)), values(pt, range(60)))


def test_sinusoid_and_ramp_match_formulas():
    sn = S.Sinusoid(2.0, frequency=50 * u.Hz, phase=0.3, onset=1.0)
    t = np.arange(40) * DT
    want = np.where(t >= 1.0, 2.0 * np.sin(2 * np.pi * 50e-3 * (t - 1.0) + 0.3), 0.)
    np.testing.assert_allclose(values(sn, range(40)), want, atol=1e-5)
    rp = S.Ramp(onset=1.0, duration=2.0, start=1.0, stop=3.0)
    want = np.where(t < 1.0 - 1e-9, 0., 1.0 + 2.0 * np.clip((t - 1.0) / 2.0, 0, 1))
    np.testing.assert_allclose(values(rp, range(40)), want, atol=1e-5)


def test_data_stimulus_hold_and_linear():
    data = np.array([[0., 10.], [1., 20.], [2., 30.]])
    hold = S.DataStimulus(data, dt=0.5)
    np.testing.assert_allclose(values(hold, [0, 4, 5, 9, 10, 30]), data[[0, 0, 1, 1, 2, 2]])
    lin = S.DataStimulus(data[:, 0], dt=0.5 * u.ms, interpolation='linear')
    np.testing.assert_allclose(values(lin, [0, 2, 5, 7, 30]), [0, 0.4, 1, 1.4, 2], atol=1e-5)


def test_noise_white_is_seeded_with_given_statistics():
    nz = S.NoiseStimulus(2000, sigma=0.5, mean=1.0)
    brainstate.random.seed(3)
    a = np.asarray(nz.value_at(0, 0.))
    brainstate.random.seed(3)
    np.testing.assert_array_equal(a, np.asarray(nz.value_at(0, 0.)))
    assert abs(a.mean() - 1.0) < 0.05 and abs(a.std() - 0.5) < 0.05


def test_ou_noise_runs_in_simulator_with_batch():
    node = brainmass.LinearStep(3, gamma=-0.1)
    nz = S.NoiseStimulus(3, sigma=1.0, tau=1.0 * u.ms, batch_size=2)
    out = brainmass.Simulator(node, dt=DT * u.ms).run(2 * u.ms, inputs=nz, batch_size=2)['output']
    assert out.shape == (20, 2, 3) and np.all(np.isfinite(out)) and np.std(np.asarray(out)[-1]) > 0


def test_sum_and_sequence():
    a, b = S.Step(0., 1.0), S.Step(2.0, 5.0)
    np.testing.assert_allclose(values(a + b, [0, 19, 20]), [1, 1, 6])
    seq = S.Sequence([(S.Step(0., 1.0), 1.0 * u.ms), (S.Step(0.5, 7.0), None)])
    np.testing.assert_allclose(values(seq, [0, 9, 10, 14, 15, 40]), [1, 1, 0, 0, 7, 7])
    then = S.Step(0., 1.0).then(S.Step(0.5, 7.0), at=1.0)
    np.testing.assert_allclose(values(then, range(40)), values(seq, range(40)))


@pytest.mark.parametrize('bits', [32, 64])
def test_simulator_step_on_node_matches_closed_form(bits):
    """dx/dt = g x + I(t) with a step I, exp-Euler (exact for piecewise-constant input)."""
    with precision(bits):
        g, a = -0.5, 2.0
        node = brainmass.LinearStep(2, gamma=g)
        st = S.Step(1.0, a, weights=[1.0, 0.25])
        out = np.asarray(brainmass.Simulator(node, dt=DT * u.ms).run(3 * u.ms, inputs=st)['output'])
        k = np.arange(1, 31)  # state after step k; the input is on from step 10 (t = 1 ms)
        on = np.clip(k - 10, 0, None) * DT
        want = (a / -g) * (1 - np.exp(g * on))[:, None] * np.array([1.0, 0.25])
        np.testing.assert_allclose(out, want, rtol=1e-4 if bits == 32 else 1e-10, atol=1e-6)
        assert out.dtype == (np.float64 if bits == 64 else np.float32)


# ------------------------------------------------------------------ network routing
def _net():
    W = np.array([[0., 0.5], [0.3, 0.]])
    return brainmass.Network(brainmass.HopfStep(2), conn=W, coupled_var='x', k=1.0)


class _ManualNet(brainmass.Network):
    """The stimulus added to the coupling current by hand."""

    stim = None

    def coupling_current(self, as_function=False):
        c = super().coupling_current(as_function)
        env = brainstate.environ
        v = self.stim.value_at(env.get('i'), env.get('t'))
        return (lambda s: c(s) + v) if callable(c) else c + v


@pytest.mark.parametrize('bits', [32, 64])
def test_network_stimulus_drives_coupled_variable(bits):
    with precision(bits):
        st = S.Sinusoid(1.0, 100 * u.Hz, weights=[1.0, -2.0]) + S.Step(1.0, 0.5)
        got = brainmass.Simulator(_net(), dt=DT * u.ms).run(5 * u.ms, inputs=st)['output']
        W = np.array([[0., 0.5], [0.3, 0.]])
        manual = _ManualNet(brainmass.HopfStep(2), conn=W, coupled_var='x', k=1.0)
        manual.stim = st
        want = brainmass.Simulator(manual, dt=DT * u.ms).run(5 * u.ms)['output']
        plain = brainmass.Simulator(_net(), dt=DT * u.ms).run(5 * u.ms, inputs=lambda i, t: st.value_at(i, t))
        np.testing.assert_allclose(mag(got), mag(want), rtol=1e-6, atol=1e-7)
        assert not np.allclose(mag(got), mag(plain['output']))  # a plain callable still drives y


def test_network_named_target_equals_plain_input():
    st = S.Sinusoid(1.0, 100 * u.Hz)
    got = brainmass.Simulator(_net(), dt=DT * u.ms).run(5 * u.ms, inputs=st.to('y'))['output']
    want = brainmass.Simulator(_net(), dt=DT * u.ms).run(5 * u.ms, inputs=lambda i, t: st.value_at(i, t))
    np.testing.assert_allclose(mag(got), mag(want['output']), rtol=1e-6, atol=1e-7)
    got2 = brainmass.Simulator(_net(), dt=DT * u.ms).run(5 * u.ms, inputs=S.Sinusoid(1.0, 100 * u.Hz,
                                                                                        target='y_inp'))
    np.testing.assert_allclose(mag(got2['output']), mag(got), rtol=1e-6)


# ------------------------------------------------------------------ gradients
def test_grad_wrt_step_amplitude_matches_finite_difference():
    def loss(a):
        node = brainmass.LinearStep(2, gamma=-0.2)
        out = brainmass.Simulator(node, dt=DT * u.ms).run(3 * u.ms, inputs=S.Step(1.0, a))['output']
        return jnp.sum(out ** 2)

    with precision(64):
        g = jax.grad(loss)(1.5)
        fd = (loss(1.5 + 1e-4) - loss(1.5 - 1e-4)) / 2e-4
        np.testing.assert_allclose(g, fd, rtol=1e-6)


def test_grad_through_network_and_param_amplitude():
    def loss(a):
        out = brainmass.Simulator(_net(), dt=DT * u.ms).run(2 * u.ms, inputs=S.Step(0.5, a))['output']
        return jnp.sum(u.get_magnitude(out))

    with precision(64):
        g = jax.grad(loss)(0.7)
        fd = (loss(0.7 + 1e-5) - loss(0.7 - 1e-5)) / 2e-5
        np.testing.assert_allclose(g, fd, rtol=1e-5)
        assert abs(g) > 1e-3
        amp = brainstate.nn.Param.init(jnp.asarray(0.7))
        np.testing.assert_allclose(loss(amp), loss(0.7))


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize('make, err, word', [
    (lambda: S.Step('1 ms', 1.0), TypeError, 'onset'),
    (lambda: S.Step(1.0 * u.mV, 1.0), TypeError, 'onset'),
    (lambda: S.Step(1.0, 1.0, duration=-1.0), ValueError, 'duration'),
    (lambda: S.Step(1.0, 'a'), TypeError, 'amplitude'),
    (lambda: S.PulseTrain(0., 1., 3.0, period=2.0), ValueError, 'width'),
    (lambda: S.PulseTrain(0., 1., 1.0), TypeError, 'period'),
    (lambda: S.Sinusoid(1.0, frequency=1 * u.ms), TypeError, 'frequency'),
    (lambda: S.Ramp(0., 1.0, 0. * u.mV, 1. * u.second), ValueError, 'stop'),
    (lambda: S.Step(0., 1.0, weights=np.ones((2, 2))), ValueError, 'weights'),
    (lambda: S.Step(0., 1.0, target=3), TypeError, 'target'),
    (lambda: S.Step(0., 1.0 * u.mV) + S.Step(0., 1.0), ValueError, 'units'),
    (lambda: S.Step(0., 1.0, weights=[1, 2]) + S.Step(0., 1.0, weights=[1, 2, 3]), ValueError, 'region'),
    (lambda: S.Sequence([(S.Step(), None), (S.Step(), 1.0)]), TypeError, 'duration'),
    (lambda: S.Sequence([(S.Step(), -1.0), (S.Step(), None)]), ValueError, 'duration'),
    (lambda: S.DataStimulus(np.ones((2, 2, 2)), 1.0), ValueError, 'data'),
    (lambda: S.NoiseStimulus(3, tau=0.), ValueError, 'tau'),
])
def test_bad_arguments_are_refused(make, err, word):
    with pytest.raises(err, match=word):
        make()


def test_weights_of_wrong_region_count_refused_by_run():
    node = brainmass.LinearStep(2)
    with pytest.raises(ValueError, match='inputs'):
        brainmass.Simulator(node, dt=DT * u.ms).run(1 * u.ms, inputs=S.Step(0., 1.0, weights=[1., 2., 3.]))


def test_unknown_target_refused():
    with pytest.raises(ValueError, match="target` 'z'"):
        brainmass.Simulator(_net(), dt=DT * u.ms).run(1 * u.ms, inputs=S.Step(0., 1.0).to('z'))
    with pytest.raises(ValueError, match='routed by a Network'):
        brainmass.Simulator(brainmass.HopfStep(2), dt=DT * u.ms).run(1 * u.ms, inputs=S.Step(0., 1.).to('y'))


def test_stimulus_is_immutable():
    st = S.Step(0., 1.0)
    with pytest.raises(AttributeError, match='immutable'):
        st.amplitude = 2.0


def test_quantity_stimulus_on_plain_custom_input_refused():
    """Jansen-Rit reads its inputs itself (plain per-ms rates): a stimulus in Hz cannot be added silently."""
    net = brainmass.Network(brainmass.JansenRitStep(2), conn=np.full((2, 2), 0.1), coupled_var='M',
                            coupling='sigmoidal_jansen_rit', k=0.1)
    with pytest.raises(ValueError, match="E_inp"):
        brainmass.Simulator(net, dt=DT * u.ms).run(1 * u.ms, inputs=S.Step(0., 100 * u.Hz))
    out = brainmass.Simulator(net, dt=DT * u.ms).run(1 * u.ms, inputs=S.Step(0., 0.1))['output']
    assert np.all(np.isfinite(mag(out)))


def test_stimulus_unit_checked_against_the_driven_variable():
    node = brainmass.MontbrioPazoRoxinStep(2)
    W = np.full((2, 2), 0.1)
    net = brainmass.Network(node, conn=W, coupled_var='r', k=0.1)
    with pytest.raises(ValueError, match='dimensionless'):
        brainmass.Simulator(net, dt=DT * u.ms).run(1 * u.ms, inputs=S.Step(0., 1.0 * u.mV))


def test_data_stimulus_keeps_units_and_bad_weights_named():
    d = S.DataStimulus(np.array([[1., 2.], [3., 4.]]) * u.mV, dt=1.0, interpolation='linear')
    v = d.value_at(5, 0.5 * u.ms)
    assert u.get_unit(v) == u.mV
    np.testing.assert_allclose(u.get_magnitude(v), [2., 3.])
    for bad in (['a', 'b'], [1., 2.] * u.mV):
        with pytest.raises(ValueError, match='weights'):
            S.Step(0., 1.0, weights=bad)


def test_single_input_node_network_takes_a_stimulus():
    W = np.array([[0., 0.5], [0.3, 0.]])
    st = S.Step(0.5, 1.0, weights=[1.0, 2.0])
    got = brainmass.Simulator(brainmass.Network(brainmass.LinearStep(2, gamma=-0.5), conn=W, coupled_var='x', k=1.0),
                              dt=DT * u.ms).run(2 * u.ms, inputs=st)['output']
    manual = _ManualNet(brainmass.LinearStep(2, gamma=-0.5), conn=W, coupled_var='x', k=1.0)
    manual.stim = st
    want = brainmass.Simulator(manual, dt=DT * u.ms).run(2 * u.ms)['output']
    np.testing.assert_allclose(mag(got), mag(want), rtol=1e-6)
