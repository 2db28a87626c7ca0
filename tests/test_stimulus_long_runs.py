"""Stimulus edges, phases and samples stay exact in long float32 runs (they are computed from the step number).

The reference is numpy in float64 from ``t = i * dt`` with the documented rules. At the step numbers used
here (10 minutes to 1 hour at dt = 0.1 ms) float32's spacing of ``t`` is 0.06-0.25 ms, more than half a
step: computed from ``t``, pulse edges moved by a step (4 of 200 steps wrong at 10 minutes).
"""
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass.stimulus as S

DT = 0.1
STARTS = [100, 6_000_000, 36_000_000]  # 10 ms, 10 min, 1 h at dt = 0.1 ms


def _values(stim, i0, precision, n=400):
    """The stimulus at steps i0 .. i0 + n - 1, evaluated as the Simulator does (traced int32 i, t = i * dt)."""
    with brainstate.environ.context(dt=DT * u.ms, precision=precision):
        i = jnp.arange(i0, i0 + n, dtype=jnp.int32)
        out = jax.jit(lambda i: stim.value_at(i, i * (DT * u.ms)))(i)
    return np.asarray(u.get_magnitude(out)), np.arange(i0, i0 + n) * DT  # values, t in ms (float64)


def _pulses(t, onset, period, width):
    s = t - onset + DT / 2
    k = np.floor(s / period)
    return ((s >= 0) & (s - k * period < width)).astype(float)


@pytest.mark.parametrize('precision', [32, 64])
@pytest.mark.parametrize('i0', STARTS)
@pytest.mark.parametrize('period', [10.0, 7.3, 142.857])  # whole steps, and not
def test_pulse_train_edges(i0, period, precision):
    got, t = _values(S.PulseTrain(onset=2.0, width=1.0, period=period), i0, precision)
    np.testing.assert_array_equal(got, _pulses(t, 2.0, period, 1.0))


@pytest.mark.parametrize('precision', [32, 64])
@pytest.mark.parametrize('i0', STARTS)
def test_sinusoid_phase(i0, precision):
    got, t = _values(S.Sinusoid(amplitude=1.0, frequency=7.3, phase=0.4, onset=1.0), i0, precision)
    want = np.where(t >= 1.0 - DT / 2, np.sin(2 * np.pi * 7.3e-3 * (t - 1.0) + 0.4), 0.)
    np.testing.assert_allclose(got, want, atol=2e-5 if precision == 32 else 1e-9)


@pytest.mark.parametrize('i0', STARTS)
def test_step_ramp_and_sequence_edges(i0):
    onset = i0 * DT + 3.04  # an edge inside the window, 0.4 step past a whole step
    got, t = _values(S.Step(onset=onset, duration=5.0), i0, 32)
    np.testing.assert_array_equal(got, ((t >= onset - DT / 2) & (t < onset + 5.0 - DT / 2)).astype(float))
    got, t = _values(S.Ramp(onset=onset, duration=10.0, start=0., stop=1.), i0, 32)
    want = np.where(t >= onset - DT / 2, np.clip((t - onset) / 10.0, 0, 1), 0.)
    np.testing.assert_allclose(got, want, atol=1e-6)
    seq = S.Sequence([(S.Step(amplitude=1.), onset), (S.PulseTrain(width=0.5, period=2.0, amplitude=2.), None)])
    got, t = _values(seq, i0, 32)
    first = (t < onset - DT / 2).astype(float)
    second = np.where(t >= onset - DT / 2, 2 * _pulses(t - onset, 0.0, 2.0, 0.5), 0.)
    np.testing.assert_array_equal(got, first + second)


@pytest.mark.parametrize('i0', STARTS)
@pytest.mark.parametrize('interpolation', ['hold', 'linear'])
def test_data_stimulus_samples(i0, interpolation):
    data_dt = 0.7  # ms: not a whole number of steps
    n_samples = int((i0 + 400) * DT / data_dt) + 2
    data = np.sin(np.arange(n_samples) * 0.01)
    got, t = _values(S.DataStimulus(data, dt=data_dt, interpolation=interpolation), i0, 32)
    if interpolation == 'hold':
        want = data[np.floor((t + DT / 2) / data_dt).astype(int)]
    else:
        pos = t / data_dt
        k = np.floor(pos).astype(int)
        want = data[k] + (data[k + 1] - data[k]) * (pos - k)
    np.testing.assert_allclose(got, want, atol=2e-6)


@pytest.mark.parametrize('tau_ms', [0.2, 5.0])
def test_ou_noise_stimulus_has_the_stated_std_and_correlation_time(tau_ms):
    """Stationary std sigma and lag-1 correlation exp(-dt / tau) for any dt / tau (the Euler update it replaced gave
    std 1.15 sigma and correlation 0.5 instead of 0.61 at dt / tau = 0.5)."""
    stim = S.NoiseStimulus(200, sigma=2.0, tau=tau_ms * u.ms)
    brainstate.random.seed(11)
    with brainstate.environ.context(dt=DT * u.ms):
        values = brainstate.transform.for_loop(lambda i: stim.value_at(i, i * (DT * u.ms)), jnp.arange(6000))
    x = np.asarray(values, dtype=np.float64)[1000:]  # stationary after 1000 steps (>= 20 tau)
    assert abs(x.std() / 2.0 - 1) < 0.02
    rho = np.mean(x[1:] * x[:-1]) / np.mean(x * x)
    assert abs(rho - np.exp(-DT / tau_ms)) < 0.01
