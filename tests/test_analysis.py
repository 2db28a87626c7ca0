"""brainmass.analysis against independent references: numpy, scipy, hand loops, analytic cases."""
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
from _helpers import jax_flag, x64  # noqa: F401 (x64: a fixture)

from brainmass import analysis as bma


@pytest.fixture
def only_x64():
    with jax_flag('jax_enable_x64', True):
        yield


def noise(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def tol(x64, f32, f64=1e-10):
    return f64 if x64 else f32


def sines(freqs, n_time=2000, dt_s=1e-3, phases=None):
    t = np.arange(n_time)[:, None] * dt_s
    phases = np.zeros(len(freqs)) if phases is None else np.asarray(phases)
    return np.sin(2 * np.pi * np.asarray(freqs) * t + phases)


# ---------------------------------------------------------------------------- FC / FCD

def test_fc_matches_corrcoef_and_batch_loop(x64):
    x = noise(2, 3, 60, 4)
    out = np.asarray(bma.fc(x))
    assert out.shape == (2, 3, 4, 4)
    assert out.dtype == (np.float64 if x64 else np.float32)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(out[i, j], np.corrcoef(x[i, j].T), atol=tol(x64, 2e-6))


def test_fc_strips_units_and_handles_constant_and_nan_columns():
    x = noise(50, 3)
    np.testing.assert_allclose(bma.fc(x * u.mV), bma.fc(x), atol=1e-6)
    x[:, 1] = 2.0                                             # constant region: zeros, no NaN
    out = np.asarray(bma.fc(x))
    assert np.all(out[1] == 0) and np.all(out[:, 1] == 0) and np.isfinite(out).all()
    x[3, 2] = np.nan                                          # NaN propagates to its row / column
    out = np.asarray(bma.fc(x))
    assert np.isnan(out[2]).all() and np.isfinite(out[0, :2]).all()


def hand_fcd(x, window, step):
    rows, cols = np.triu_indices(x.shape[1], k=1)
    vecs = [np.corrcoef(x[s:s + window].T)[rows, cols] for s in range(0, len(x) - window + 1, step)]
    return np.corrcoef(np.asarray(vecs))


def test_fcd_matches_a_hand_loop_with_batch_axes(x64):
    x = noise(2, 90, 4, seed=1)
    out = np.asarray(bma.fcd(x, 20, 7))
    assert out.shape == (2, 11, 11)
    for b in range(2):
        np.testing.assert_allclose(out[b], hand_fcd(x[b], 20, 7), atol=tol(x64, 5e-5))
    dist = np.asarray(bma.fcd_distribution(x, 20, 7))
    rows, cols = np.triu_indices(11, k=1)
    np.testing.assert_allclose(dist, out[:, rows, cols])


def test_fcd_window_as_time_with_dt():
    x = noise(90, 4, seed=2)
    a = bma.fcd(x, 2.0 * u.second, 0.7 * u.second, dt=100 * u.ms)
    np.testing.assert_allclose(a, bma.fcd(x, 20, 7), atol=1e-6)
    b = bma.fcd(x, 2.0 * u.second, 7, dt=100.0)               # plain dt: ms
    np.testing.assert_allclose(b, a, atol=1e-6)


def test_objectives_fc_and_fcd_are_these(x64):
    """brainmass.objectives computes its FC and FCD with brainmass.analysis (one implementation)."""
    from brainmass import objectives as obj
    x = noise(120, 4, seed=3)
    np.testing.assert_allclose(obj.fcd_distribution(x, 20, 10), bma.fcd_distribution(x, 20, 10),
                               atol=tol(x64, 1e-6, 1e-14))
    assert float(obj.fc_matrix_rmse()(x, bma.fc(x))) <= tol(x64, 1e-6, 1e-14)


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(window_size=100, step_size=5), ValueError, 'window_size'),          # longer than T
    (dict(window_size=80, step_size=30), ValueError, 'at least 2'),           # one window
    (dict(window_size=1, step_size=1), ValueError, 'window_size'),
    (dict(window_size=20.0, step_size=5), TypeError, 'window_size'),
    (dict(window_size=2 * u.second, step_size=5), ValueError, 'dt'),          # time without dt
    (dict(window_size=25 * u.ms, step_size=5, dt=10 * u.ms), ValueError, 'whole'),
    (dict(window_size=20 * u.mV, step_size=5, dt=1 * u.ms), TypeError, 'time'),
    (dict(window_size=20, step_size=5, dt=1 * u.mV), TypeError, 'dt'),
])
def test_fcd_argument_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        bma.fcd(noise(90, 4), **kwargs)


@pytest.mark.parametrize('func, x, words', [
    (bma.fc, noise(50), 'shape'),                            # 1-D
    (bma.fc, noise(50, 1), 'at least 2 regions'),
    (lambda x: bma.fcd(x, 10, 5), noise(50, 2), 'at least 3 regions'),
    (bma.hilbert_phase, np.ones(5) * 1j, None),
    (bma.fc, 'abc', None),
])
def test_series_errors(func, x, words):
    error = TypeError if words is None else ValueError
    with pytest.raises(error, match=words or 'ts'):
        func(x)


# ---------------------------------------------------------------------------- Welch

@pytest.mark.parametrize('n_time, nperseg, noverlap, window', [
    (500, 100, None, 'hann'),        # step divides nperseg (slices)
    (500, 101, 30, 'hamming'),       # odd nperseg, general step (gather)
    (300, None, None, 'hann'),       # scipy's default: min(256, T)
    (400, 64, 0, ('tukey', 0.25)),
])
def test_welch_matches_scipy(x64, n_time, nperseg, noverlap, window):
    x = noise(2, n_time, 3, seed=3)
    freqs, psd = bma.welch_psd(x * u.mV, 2 * u.ms, nperseg=nperseg, noverlap=noverlap, window=window)
    f_ref, p_ref = scipy.signal.welch(x, fs=500.0, nperseg=nperseg, noverlap=noverlap, window=window, axis=-2)
    np.testing.assert_allclose(freqs.to_decimal(u.Hz), f_ref, rtol=1e-12)
    assert psd.unit.has_same_dim(u.mV ** 2 / u.Hz) and psd.shape == p_ref.shape
    np.testing.assert_allclose(psd.to_decimal(u.mV ** 2 / u.Hz), p_ref, rtol=tol(x64, 2e-4, 1e-9),
                               atol=tol(x64, 2e-6 * p_ref.max(), 0))


def test_welch_array_window_time_nperseg_and_plain_units():
    x = noise(400, 2, seed=4)
    win = scipy.signal.get_window('blackman', 80)
    freqs, psd = bma.welch_psd(x, 0.5, nperseg=40 * u.ms, noverlap=20, window=win)   # dt 0.5 ms
    _, p_ref = scipy.signal.welch(x, fs=2000.0, nperseg=80, noverlap=20, window=win, axis=0)
    assert psd.unit.has_same_dim(u.second)                                    # 1 / Hz
    np.testing.assert_allclose(psd.to_decimal(u.second), p_ref, rtol=2e-4, atol=1e-7)
    assert float(freqs[-1].to_decimal(u.Hz)) == 1000.0


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(dt=1 * u.ms, nperseg=600), ValueError, 'nperseg'),
    (dict(dt=1 * u.ms, nperseg=50, noverlap=50), ValueError, 'noverlap'),
    (dict(dt=1 * u.mV), TypeError, 'dt'),
    (dict(dt=-1.0), ValueError, 'dt'),
    (dict(dt=None), TypeError, 'dt'),
    (dict(dt=1 * u.ms, window='nope'), ValueError, 'window'),
    (dict(dt=1 * u.ms, nperseg=50, window=np.ones(10)), ValueError, 'window'),
    (dict(dt=1 * u.ms, nperseg=50, window={'a': 1}), TypeError, 'window'),
])
def test_welch_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        bma.welch_psd(noise(500, 2), **kwargs)


def test_traced_dt_is_refused():
    with pytest.raises(TypeError, match='concrete'):
        jax.jit(lambda dt: bma.welch_psd(noise(100, 2), dt)[1].mantissa)(1.0)


def test_welch_nan_propagates_to_its_region():
    x = noise(300, 2)
    x[10, 0] = np.nan
    _, psd = bma.welch_psd(x, 1 * u.ms, nperseg=100)
    assert np.isnan(psd.mantissa[:, 0]).all() and np.isfinite(psd.mantissa[:, 1]).all()


# ---------------------------------------------------------------------------- peak frequency / band power

def test_peak_frequency_of_sines(x64):
    x = sines([10.0, 10.3, 22.7], n_time=4000)
    f = bma.peak_frequency(x, 1 * u.ms, nperseg=1000).to_decimal(u.Hz)
    np.testing.assert_allclose(f, [10.0, 10.3, 22.7], atol=0.03)
    soft = bma.peak_frequency(x, 1 * u.ms, nperseg=1000, method='softmax', temperature=0.05).to_decimal(u.Hz)
    np.testing.assert_allclose(soft, [10.0, 10.3, 22.7], atol=0.35)
    banded = bma.peak_frequency(x[:, :1] + 2 * x[:, 2:], 1 * u.ms, 5 * u.Hz, 15, nperseg=1000)
    np.testing.assert_allclose(banded.to_decimal(u.Hz), [10.0], atol=0.03)   # the larger 22.7 Hz is out of band


def test_peak_frequency_batch_equals_loop_and_nan():
    x = np.stack([sines([8.0, 12.0], 1000), sines([15.0, 30.0], 1000)]) + 0.1 * noise(2, 1000, 2)
    f = bma.peak_frequency(x, 1 * u.ms, nperseg=500).mantissa
    for b in range(2):
        np.testing.assert_allclose(f[b], bma.peak_frequency(x[b], 1 * u.ms, nperseg=500).mantissa, atol=1e-5)
    x[0, 5, 1] = np.nan
    f = np.asarray(bma.peak_frequency(x, 1 * u.ms, nperseg=500).mantissa)
    assert np.isnan(f[0, 1]) and np.isfinite(f[0, 0])


@pytest.mark.parametrize('kwargs, error, words', [
    (dict(fmin=30, fmax=20), ValueError, 'fmax'),
    (dict(fmin=10.2, fmax=10.4), ValueError, 'no frequency'),
    (dict(fmin=1 * u.ms), TypeError, 'fmin'),
    (dict(method='argmax'), ValueError, 'method'),
    (dict(method='softmax', temperature=0.0), ValueError, 'temperature'),
])
def test_peak_frequency_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        bma.peak_frequency(noise(1000, 2), 1 * u.ms, nperseg=1000, **kwargs)


def test_band_power_matches_scipy_and_sine_power(x64):
    x = 3.0 * sines([10.0], 4000) + noise(4000, 1, seed=5)
    power = bma.band_power(x * u.mV, 1 * u.ms, (8 * u.Hz, 12 * u.Hz), nperseg=1000)
    f, p = scipy.signal.welch(x, fs=1000.0, nperseg=1000, axis=0)
    ref = p[(f >= 8) & (f <= 12)].sum(0) * (f[1] - f[0])
    np.testing.assert_allclose(power.to_decimal(u.mV ** 2), ref, rtol=tol(x64, 1e-4, 1e-9))
    pure = bma.band_power(3.0 * sines([10.0], 4000) * u.mV, 1 * u.ms, (8 * u.Hz, 12 * u.Hz), nperseg=1000)
    np.testing.assert_allclose(pure.to_decimal(u.mV ** 2), 4.5, rtol=1e-5)                 # A^2 / 2
    rel = bma.band_power(x, 1 * u.ms, (8, 12), nperseg=1000, relative=True)
    np.testing.assert_allclose(rel, ref / (p.sum(0) * (f[1] - f[0])), rtol=tol(x64, 1e-4, 1e-9))


@pytest.mark.parametrize('band, error', [((12, 8), ValueError), (8, TypeError), ((8, 12, 16), TypeError),
                                         ((8 * u.ms, 12 * u.ms), TypeError)])
def test_band_power_errors(band, error):
    with pytest.raises(error, match='band'):
        bma.band_power(noise(1000, 2), 1 * u.ms, band, nperseg=1000)


# ---------------------------------------------------------------------------- Hilbert / Kuramoto

@pytest.mark.parametrize('n_time', [200, 201])
def test_hilbert_phase_matches_scipy(x64, n_time):
    x = noise(2, n_time, 3, seed=6)
    phase = np.asarray(bma.hilbert_phase(x * u.mV))
    ref = np.angle(scipy.signal.hilbert(x, axis=-2))
    assert phase.shape == x.shape
    np.testing.assert_allclose(np.angle(np.exp(1j * (phase - ref))), 0, atol=tol(x64, 2e-5, 1e-10))


def test_kuramoto_analytic_cases():
    x = sines([10.0, 10.0, 10.0], 1000, phases=[0.3, 0.3, 0.3]) * np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(bma.kuramoto_order(x, kind='signal')[20:-20], 1.0, atol=1e-5)
    n = 64
    spread = np.tile(np.arange(n) * 2 * np.pi / n, (5, 1)) + np.arange(5)[:, None]
    np.testing.assert_allclose(bma.kuramoto_order(spread, kind='phase'), 0.0, atol=1e-5)
    np.testing.assert_allclose(bma.synchrony(spread, kind='phase'), 0.0, atol=1e-5)
    theta = 2 * np.pi * np.arange(1000)[:, None] * 1e-3 * np.array([10.0, 11.0])   # R = |cos(pi t)|
    r = np.abs(np.cos(np.pi * np.arange(1000) * 1e-3))
    np.testing.assert_allclose(bma.kuramoto_order(theta, kind='phase'), r, atol=1e-5)
    np.testing.assert_allclose(bma.metastability(theta, kind='phase'), r.std(), atol=1e-5)


def test_order_parameter_of_signals_matches_numpy(x64):
    x = noise(3, 300, 5, seed=7) + 4.0                                      # an offset: removed for 'signal'
    theta = np.angle(scipy.signal.hilbert(x - x.mean(-2, keepdims=True), axis=-2))
    r = np.abs(np.exp(1j * theta).mean(-1))
    np.testing.assert_allclose(bma.kuramoto_order(x * u.mV, kind='signal'), r, atol=tol(x64, 2e-5))
    np.testing.assert_allclose(bma.kuramoto_order(theta, kind='phase'), r, atol=tol(x64, 2e-6))
    np.testing.assert_allclose(bma.synchrony(x, kind='signal'), r.mean(-1), atol=tol(x64, 2e-5))
    np.testing.assert_allclose(bma.metastability(x, kind='signal'), r.std(-1), atol=tol(x64, 2e-5))


def test_kuramoto_kind_errors_and_nan():
    theta = noise(20, 3)
    with pytest.raises(TypeError, match='kind'):
        bma.metastability(theta)
    with pytest.raises(ValueError, match='kind'):
        bma.synchrony(theta, kind='phases')
    with pytest.raises(TypeError, match='radians'):
        bma.kuramoto_order(theta * u.mV, kind='phase')
    theta[4, 1] = np.nan
    r = np.asarray(bma.kuramoto_order(theta, kind='phase'))
    assert np.isnan(r[4]) and np.isfinite(np.delete(r, 4)).all()
    assert np.isnan(bma.kuramoto_order(theta, kind='signal')).all()        # the FFT spreads it over time


# ---------------------------------------------------------------------------- gradients

def finite_difference(f, x, direction, eps=1e-6):
    return (f(x + eps * direction) - f(x - eps * direction)) / (2 * eps)


@pytest.mark.parametrize('name, loss', [
    ('fc', lambda x: jnp.sum(bma.fc(x) * jnp.arange(16.0).reshape(4, 4))),
    ('fcd', lambda x: jnp.sum(bma.fcd_distribution(x, 20, 10) ** 2)),
    ('welch', lambda x: jnp.sum(jnp.log(bma.welch_psd(x, 1 * u.ms, nperseg=32)[1].mantissa))),
    ('band_power', lambda x: jnp.sum(bma.band_power(x, 1 * u.ms, (50, 150), nperseg=32).mantissa)),
    ('peak', lambda x: jnp.sum(bma.peak_frequency(x, 1 * u.ms, nperseg=32, method='softmax').mantissa)),
    ('hilbert', lambda x: jnp.sum(jnp.sin(bma.hilbert_phase(x)))),
    ('metastability', lambda x: bma.metastability(x, kind='signal')),
])
def test_gradients_match_finite_differences(only_x64, name, loss):
    x = jnp.asarray(noise(64, 4, seed=8))
    direction = jnp.asarray(noise(64, 4, seed=9))
    grad = jax.grad(loss)(x)
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(jnp.vdot(grad, direction), finite_difference(loss, x, direction), rtol=1e-5)


def test_float32_gradients_are_finite_and_agree_with_float64():
    """The float32 path (a polynomial arctan2 with its own JVP) against float64's jnp.arctan2."""
    x = noise(64, 3, seed=10)
    loss = lambda x: jnp.sum(jnp.sin(bma.hilbert_phase(x)) * jnp.arange(3.0))
    g32 = np.asarray(jax.grad(loss)(jnp.asarray(x, jnp.float32)))
    with jax_flag('jax_enable_x64', True):
        g64 = np.asarray(jax.grad(loss)(jnp.asarray(x)))
    np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-3 * np.abs(g64).max())


def test_gradients_finite_at_degenerate_points():
    synced = jnp.zeros((10, 3))                                         # R = 1 everywhere: std 0
    assert np.isfinite(jax.grad(lambda t: bma.metastability(t, kind='phase'))(synced)).all()
    spread = jnp.tile(jnp.arange(4) * jnp.pi / 2, (10, 1))              # R = 0: |z| at 0
    assert np.isfinite(jax.grad(lambda t: bma.synchrony(t, kind='phase'))(spread)).all()
    constant = jnp.ones((30, 3)).at[:, 0].set(jnp.linspace(0, 1, 30))
    assert np.isfinite(jax.grad(lambda x: bma.fc(x).sum())(constant)).all()


def test_jit_and_vmap():
    x = jnp.asarray(noise(3, 200, 4, seed=11), jnp.float32)
    jitted = jax.jit(lambda x: bma.welch_psd(x, 1 * u.ms, nperseg=50)[1].mantissa)
    np.testing.assert_allclose(jitted(x), bma.welch_psd(x, 1 * u.ms, nperseg=50)[1].mantissa, rtol=1e-6)
    np.testing.assert_allclose(jax.vmap(bma.fc)(x), bma.fc(x), atol=1e-6)


# ---------------------------------------------------------------------------- objectives

def test_log_psd_distance():
    x = noise(1000, 3, seed=12)
    loss = bma.log_psd_distance(1 * u.ms, 2 * u.Hz, 200 * u.Hz, nperseg=200)
    assert (loss.higher_is_better, loss.time_flexible, loss.target_kind) == (False, True, 'timeseries')
    assert float(loss(x, x)) == 0.0
    np.testing.assert_allclose(loss(10 * x, x), 2.0, rtol=1e-5)                     # two decades
    np.testing.assert_allclose(loss(x * u.mV, (x * u.mV).to(u.volt)), 0.0, atol=1e-5)
    np.testing.assert_allclose(loss(np.stack([x, x]), x[:800]), loss(x, x[:800]), rtol=1e-6)   # batch, other T
    f, p = scipy.signal.welch(x, fs=1000.0, nperseg=200, axis=0)
    _, q = scipy.signal.welch(x[:, ::-1] * 2, fs=1000.0, nperseg=200, axis=0)
    band = (f >= 2) & (f <= 200)
    ref = np.sqrt(np.mean((np.log10(p[band]) - np.log10(q[band])) ** 2))
    np.testing.assert_allclose(loss(x, x[:, ::-1] * 2), ref, rtol=1e-4)
    assert np.isfinite(jax.grad(lambda y: loss(y, x))(jnp.asarray(2 * x, jnp.float32))).all()
    with pytest.raises(ValueError, match='incompatible'):
        loss(x * u.mV, x * u.ms)
    with pytest.raises(ValueError, match='regions'):
        loss(x, x[:, :2])
    with pytest.raises(ValueError, match='target'):
        loss.validate_target(np.full((10, 2), np.nan))
    with pytest.raises(TypeError, match='dt'):
        bma.log_psd_distance(1 * u.mV)


def test_peak_frequency_match():
    p, t = sines([12.0, 20.0], 4000), sines([10.0, 20.0], 4000)
    loss = bma.peak_frequency_match(1 * u.ms, 2 * u.Hz, 40 * u.Hz, nperseg=1000)
    np.testing.assert_allclose(loss(p, t), np.sqrt(2.0 ** 2 / 2), atol=1e-3)
    assert loss.higher_is_better is False and float(loss(t, t)) == 0.0
    soft = bma.peak_frequency_match(1 * u.ms, 2, 40, nperseg=1000, method='softmax')
    grad = jax.grad(lambda y: soft(y, t))(jnp.asarray(p + 0.1 * noise(4000, 2), jnp.float32))
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0
    with pytest.raises(ValueError, match='method'):
        bma.peak_frequency_match(1 * u.ms, method='max')
