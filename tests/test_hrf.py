"""HRF kernels, TemporalAverage and the convolution monitor HRFBold."""
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from brainmass.observation import (DoubleExponentialHRFKernel, FirstOrderVolterraHRFKernel,
                                   GammaHRFKernel, HRFBold, HRFKernel, MixtureOfGammasHRFKernel,
                                   TemporalAverage)

T_GRID = np.linspace(0., 30., 3001)


# ------------------------------------------------------------------ kernels
def test_volterra_matches_formula_and_integral():
    h = FirstOrderVolterraHRFKernel(tau_s=0.8, tau_f=0.4)
    w = np.sqrt(1 / 0.4 - 1 / (4 * 0.8 ** 2))
    ref = np.exp(-0.5 * T_GRID / 0.8) * np.sin(w * T_GRID) / (3 * w)
    np.testing.assert_allclose(np.asarray(h(T_GRID)), ref, atol=1e-6)
    t = np.linspace(0, 40, 40001)
    assert abs(np.trapezoid(np.asarray(h(t)), t) - 0.4 / 3) < 1e-4      # integral tau_f / 3
    with pytest.raises(ValueError, match='tau_s'):
        FirstOrderVolterraHRFKernel(tau_s=0.1, tau_f=1.)


def test_gamma_kernel_peak_and_normalisation():
    h = GammaHRFKernel(tau=1.08, n=3, a=0.1)
    ref = 0.1 * stats.gamma.pdf(T_GRID, a=3, scale=1.08)
    np.testing.assert_allclose(np.asarray(h(T_GRID)), ref, atol=1e-6)
    assert abs(float(h.peak_time()) - 2 * 1.08) < 0.01
    peak = GammaHRFKernel(normalize='peak')
    assert abs(float(peak(2 * 1.08)) - 0.1) < 1e-6                       # TVB: peak = a
    raw = GammaHRFKernel(factorial=False)
    np.testing.assert_allclose(np.asarray(raw(T_GRID)), 2 * ref, rtol=1e-5, atol=1e-7)


def test_double_exponential_peak_is_a():
    h = DoubleExponentialHRFKernel()
    g = lambda t: 0.1 * np.exp(-t / 7.22) * np.sin(2 * np.pi * 0.03 * t) \
        - 0.1 * np.exp(-t / 7.4) * np.sin(2 * np.pi * 0.12 * t)
    grid = np.linspace(0, 20, 4001)
    ref = 0.1 * g(T_GRID) / g(grid).max()
    np.testing.assert_allclose(np.asarray(h(T_GRID)), ref, atol=1e-6)
    assert abs(float(jnp.max(h(grid))) - 0.1) < 1e-6


def test_spm_double_gamma_peak_and_undershoot():
    h = MixtureOfGammasHRFKernel()
    ref = stats.gamma.pdf(T_GRID, 6) - stats.gamma.pdf(T_GRID, 16) / 6
    np.testing.assert_allclose(np.asarray(h(T_GRID)), ref, atol=1e-6)
    values = np.asarray(h(T_GRID))
    assert abs(T_GRID[values.argmax()] - 5.) < 0.05                     # (a1 - 1) b
    t_min = T_GRID[values.argmin()]
    assert 14. < t_min < 17. and values.min() < 0.                      # undershoot near 15 s
    assert abs(float(MixtureOfGammasHRFKernel(normalize='peak')(5.)) - 1.) < 1e-3
    t = np.linspace(0, 32, 32001)
    area = np.trapezoid(np.asarray(MixtureOfGammasHRFKernel(normalize='area')(t)), t)
    assert abs(area - 1.) < 1e-3


def test_kernel_time_units_causality_and_errors():
    h = MixtureOfGammasHRFKernel()
    v = float(h(5.))
    assert float(h(5 * u.second)) == pytest.approx(v, rel=1e-6)
    assert float(h(5000 * u.ms)) == pytest.approx(v, rel=1e-6)
    assert float(h(-1.)) == 0.
    with pytest.raises(ValueError, match='time'):
        h(5 * u.mV)
    with pytest.raises(ValueError, match='normalize'):
        GammaHRFKernel(normalize='max')
    with pytest.raises(NotImplementedError):
        HRFKernel()(1.)


def test_kernel_differentiable_in_time_and_parameters():
    h = MixtureOfGammasHRFKernel()
    g = jax.grad(lambda t: h(t))(4.)
    fd = (float(h(4.01)) - float(h(3.99))) / 0.02
    assert abs(float(g) - fd) < 1e-2 * abs(fd)
    f = lambda tau: GammaHRFKernel(tau=tau)(2.)
    g = jax.grad(f)(1.08)
    fd = (float(f(1.09)) - float(f(1.07))) / 0.02
    assert abs(float(g) - fd) < 1e-2 * abs(fd)
    assert jax.jit(lambda t: FirstOrderVolterraHRFKernel()(t))(jnp.ones(3)).shape == (3,)


# ----------------------------------------------------------- temporal average
def test_temporal_average_of_ramp_is_window_means():
    x = jnp.arange(103.)
    out = TemporalAverage(1 * u.ms)(x, 0.1 * u.ms)                       # windows of 10 steps
    ref = np.arange(10) * 10 + 4.5                                      # trailing 3 dropped
    assert out.shape == (10,)
    np.testing.assert_array_equal(np.asarray(out), ref)
    two = TemporalAverage(1.)(jnp.stack([x, 2 * x], 1), 0.1)           # plain numbers are ms
    np.testing.assert_array_equal(np.asarray(two), np.stack([ref, 2 * ref], 1))


def test_temporal_average_keeps_units_and_validates():
    out = TemporalAverage(0.2 * u.ms)(jnp.arange(4.) * u.mV, 0.1 * u.ms)
    assert u.get_unit(out) == u.mV
    with pytest.raises(ValueError, match='period'):
        TemporalAverage(0 * u.ms)
    with pytest.raises(ValueError, match='period'):
        TemporalAverage(-1.)
    with pytest.raises(ValueError, match=r'0\.25 ms.*0\.1 ms'):
        TemporalAverage(0.25 * u.ms)(jnp.ones(10), 0.1 * u.ms)
    with pytest.raises(ValueError, match='fewer than one'):
        TemporalAverage(4 * u.ms)(jnp.ones(3), 1 * u.ms)
    TemporalAverage(0.3 * u.ms).window(0.1 * u.ms)                      # 0.3/0.1 within tolerance


# ------------------------------------------------------------------ HRFBold
def _random_signal(T, N=3, seed=0):
    return jnp.asarray(np.random.default_rng(seed).uniform(0, 1, (T, N)), jnp.float32)


@pytest.mark.parametrize('mode', ['valid', 'same', 'full'])
def test_fft_and_direct_agree(mode):
    x = _random_signal(12_000)                                          # 12 s at 1 ms
    kw = dict(period=100 * u.ms, downsample_period=4 * u.ms, convolution_mode=mode,
              kernel=MixtureOfGammasHRFKernel(duration=8.))
    a = np.asarray(HRFBold(method='fft', **kw)(x, 1 * u.ms))
    b = np.asarray(HRFBold(method='direct', **kw)(x, 1 * u.ms))
    assert a.shape == b.shape
    assert np.max(np.abs(a - b)) <= 1e-5 * np.max(np.abs(b))


def test_constant_signal_gives_constant_bold():
    kernel = FirstOrderVolterraHRFKernel()
    monitor = HRFBold(period=500 * u.ms, convolution_mode='same', kernel=kernel)
    y = np.asarray(monitor(jnp.ones((30_000, 2)), 1 * u.ms))           # 30 s
    times = np.asarray(monitor.sample_times(30_000, 1 * u.ms).to(u.second).mantissa)
    assert y.shape == (60, 2) and times.shape == (60,)
    steady = y[times > 20.]
    np.testing.assert_allclose(steady, steady[0, 0], rtol=1e-5)
    expected = 5.6 * 0.02 * 0.4 / 3                                     # k1 V0 int h
    assert abs(steady[0, 0] - expected) < 1e-3 * expected
    valid = np.asarray(HRFBold(period=500 * u.ms)(jnp.ones((30_000, 2)), 1 * u.ms))
    np.testing.assert_allclose(valid, steady[0, 0], rtol=1e-5)


def test_amplitude_independent_of_downsample_period():
    t = np.arange(40_000) * 1e-3                                        # 40 s at 1 ms
    x = jnp.asarray(1. + np.sin(2 * np.pi * 0.05 * t) + 0.5 * np.sin(2 * np.pi * 0.3 * t),
                    jnp.float32)
    outs = [np.asarray(HRFBold(period=1000 * u.ms, downsample_period=d * u.ms,
                               kernel=MixtureOfGammasHRFKernel())(x, 1 * u.ms)) for d in (2, 10)]
    for other in outs[1:]:
        assert other.shape == outs[0].shape
        assert np.max(np.abs(other - outs[0])) < 0.01 * np.max(np.abs(outs[0]))


def test_history_is_the_past_of_the_signal():
    x = _random_signal(12_000, N=2, seed=3)
    kw = dict(period=200 * u.ms, kernel=MixtureOfGammasHRFKernel(duration=6.))
    whole = np.asarray(HRFBold(convolution_mode='same', **kw)(x, 1 * u.ms))
    split = np.asarray(HRFBold(convolution_mode='same', history=x[:5000], **kw)(x[5000:], 1 * u.ms))
    np.testing.assert_allclose(split, whole[25:], rtol=1e-4, atol=1e-6)


def test_shapes_units_and_errors():
    x = jnp.ones(25_000)
    y = HRFBold()(x * u.Hz, 1 * u.ms)                                   # unit stripped
    assert not isinstance(y, u.Quantity) and y.ndim == 1
    assert y.shape[0] == HRFBold().sample_times(25_000, 1 * u.ms).shape[0]
    with pytest.raises(ValueError, match='convolution_mode'):
        HRFBold(convolution_mode='causal')
    with pytest.raises(ValueError, match='method'):
        HRFBold(method='overlap')
    with pytest.raises(ValueError, match='downsample_period'):
        HRFBold(period=1001 * u.ms)
    with pytest.raises(ValueError, match='kernel support'):
        HRFBold()(jnp.ones(1000), 1 * u.ms)
    with pytest.raises(TypeError, match='kernel'):
        HRFBold(kernel=lambda t: t)
    with pytest.raises(ValueError, match='shape'):
        HRFBold()(jnp.ones((10, 2, 2)), 1 * u.ms)


def test_jit_and_gradient_match_finite_differences():
    x = _random_signal(12_000, N=2, seed=5)
    monitor = HRFBold(period=200 * u.ms, kernel=MixtureOfGammasHRFKernel(duration=8.))
    loss = jax.jit(lambda theta: jnp.sum(monitor(x * theta, 1 * u.ms) ** 2) * 1e2)
    g = float(jax.grad(loss)(0.8))
    eps = 1e-2
    fd = (float(loss(0.8 + eps)) - float(loss(0.8 - eps))) / (2 * eps)
    assert abs(g - fd) < 1e-2 * abs(fd)
