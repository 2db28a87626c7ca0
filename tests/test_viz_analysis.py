"""Tests for the FCD and spectrogram plots of brainmass.viz (issue 16)."""
import matplotlib

matplotlib.use('Agg')

import brainunit as u  # noqa: E402
import jax  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from brainmass import analysis, datasets, viz  # noqa: E402


from _helpers import close_figures  # noqa: E402,F401  (autouse: no plt.show, figures closed)


@pytest.fixture(params=[False, True], ids=['float32', 'float64'])
def x64(request):
    previous = jax.config.jax_enable_x64
    jax.config.update('jax_enable_x64', request.param)
    try:
        yield request.param
    finally:
        jax.config.update('jax_enable_x64', previous)


RNG = np.random.default_rng(0)
X = RNG.normal(size=(400, 4))
T_SINE = np.arange(20000) * 1e-4                     # 2 s sampled every 0.1 ms


def _colorbar_label(ax):
    artist = (ax.images or ax.collections)[0]
    return artist.colorbar.ax.get_ylabel()


# ----------------------------------------------------------------------------
# plot_fcd
# ----------------------------------------------------------------------------

def test_fcd_image_equals_analysis_fcd(x64):
    data = X * u.mV
    ax = viz.plot_fcd(data, 1 * u.ms, window_size=100, step_size=50)
    assert isinstance(ax, Axes)
    expected = np.asarray(analysis.fcd(data, 100, 50))
    image = np.asarray(ax.images[0].get_array())
    assert image.shape == (7, 7)
    np.testing.assert_array_equal(image, expected)
    assert ax.get_xlabel() == 'window start (s)' and ax.get_ylabel() == 'window start (s)'
    # pixel centres at the window starts 0, 0.05, ..., 0.3 s
    np.testing.assert_allclose(ax.images[0].get_extent(), [-0.025, 0.325, 0.325, -0.025])
    assert _colorbar_label(ax) == 'FC correlation'


def test_fcd_times_samples_matrix_and_signal():
    ax = viz.plot_fcd(X, window_size=100 * u.ms, step_size=50 * u.ms, dt=0.5)   # dt in ms
    np.testing.assert_array_equal(ax.images[0].get_array(), np.asarray(analysis.fcd(X, 200, 100)))
    np.testing.assert_allclose(ax.images[0].get_extent()[:2], [-0.025, 0.125])
    ax = viz.plot_fcd(X, window_size=100, step_size=50, colorbar=False)
    assert ax.get_xlabel() == 'window start (sample)' and len(ax.figure.axes) == 1
    m = np.asarray(analysis.fcd(X, 100, 50))
    fig, ax0 = plt.subplots()
    ax = viz.plot_fcd(m, is_matrix=True, ax=ax0)
    assert ax is ax0 and ax.get_xlabel() == 'window'
    ax = viz.plot_fcd(m, 2 * u.ms, step_size=50, is_matrix=True)
    np.testing.assert_allclose(ax.images[0].get_extent()[:2], [-0.05, 0.65])
    sig = datasets.Signal(X, dt=1.0 * u.ms)
    ax = viz.plot_fcd(sig, window_size=100, step_size=50)
    assert ax.get_xlabel() == 'window start (s)'


def test_fcd_bad_input():
    with pytest.raises(ValueError, match='`data` must be 2-D'):
        viz.plot_fcd(X[:, 0], window_size=10, step_size=5)
    with pytest.raises(ValueError, match='`window_size` = 500 samples is longer'):
        viz.plot_fcd(X, window_size=500, step_size=5)
    with pytest.raises(TypeError, match='`dt` must be a time'):
        viz.plot_fcd(X, 1 * u.mV, window_size=100, step_size=50)
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match='`data` must be finite'):
        viz.plot_fcd(bad, window_size=100, step_size=50)
    with pytest.raises(ValueError, match='`window_size` and `step_size` are required'):
        viz.plot_fcd(X)
    with pytest.raises(ValueError, match='square'):
        viz.plot_fcd(np.zeros((3, 4)), is_matrix=True)
    with pytest.raises(ValueError, match='`step_size` is required'):
        viz.plot_fcd(np.eye(3), 1 * u.ms, is_matrix=True)
    with pytest.raises(TypeError, match='`is_matrix`'):
        viz.plot_fcd(np.eye(3), is_matrix='yes')


# ----------------------------------------------------------------------------
# plot_fcd_distribution
# ----------------------------------------------------------------------------

def test_fcd_distribution_histogram_and_target():
    values = np.asarray(analysis.fcd_distribution(X, 100, 50))
    ax = viz.plot_fcd_distribution(X, window_size=100, step_size=50, bins=10, label='model',
                                   target=values[::-1])
    assert isinstance(ax, Axes)
    heights = np.array([p.get_height() for p in ax.patches[:10]])
    expected, _ = np.histogram(values, bins=np.linspace(-1, 1, 11), density=True)
    np.testing.assert_allclose(heights, expected, rtol=1e-6)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['model', 'target']
    assert ax.get_ylabel() == 'density'
    ax = viz.plot_fcd_distribution(values, bins=4)          # 1-D: values as given
    assert len(ax.patches) == 4 and ax.get_legend() is None


def test_fcd_distribution_bad_input():
    with pytest.raises(ValueError, match='`window_size` and `step_size` are required'):
        viz.plot_fcd_distribution(X)
    with pytest.raises(ValueError, match='1-D `data` is read as FCD values'):
        viz.plot_fcd_distribution(X[:, 0], window_size=100, step_size=50)
    with pytest.raises(ValueError, match=r'in \[-1, 1\]'):
        viz.plot_fcd_distribution(np.array([0.5, 2.0]))
    with pytest.raises(ValueError, match='`target` must be finite'):
        viz.plot_fcd_distribution(X, window_size=100, step_size=50, target=np.array([0.1, np.nan]))
    with pytest.raises(ValueError, match='`bins` must be >= 1'):
        viz.plot_fcd_distribution(X, window_size=100, step_size=50, bins=0)
    with pytest.raises(ValueError, match='longer than'):
        viz.plot_fcd_distribution(X, window_size=1000, step_size=50)


# ----------------------------------------------------------------------------
# plot_spectrogram
# ----------------------------------------------------------------------------

def _peak_hz(ax) -> float:
    mesh = ax.collections[0]
    power = np.asarray(mesh.get_array())                   # (F, S)
    y_edges = mesh.get_coordinates()[:, 0, 1]
    centres = 0.5 * (y_edges[:-1] + y_edges[1:])
    return float(centres[np.argmax(power.mean(axis=1))])


def test_spectrogram_peak_at_10_hz_and_labels(x64):
    x = np.sin(2 * np.pi * 10 * T_SINE)
    ax = viz.plot_spectrogram(x * u.uvolt, 0.1 * u.ms, fmax=50 * u.Hz)
    assert isinstance(ax, Axes)
    assert _peak_hz(ax) == pytest.approx(10.0)
    assert ax.get_xlabel() == 'time (s)' and ax.get_ylabel() == 'frequency (Hz)'
    assert _colorbar_label(ax) == 'power (µV²/Hz)'
    times = ax.collections[0].get_coordinates()[0, :, 0]
    assert times[0] < 0.3 and times[-1] > 1.7                # seconds, over the 2 s signal
    assert np.asarray(ax.collections[0].get_array()).shape[0] == 26   # 0..50 Hz in 2 Hz bins


def test_spectrogram_region_nperseg_linear_and_signal():
    x = np.stack([np.sin(2 * np.pi * f * T_SINE) for f in (10, 40)], axis=1)
    ax = viz.plot_spectrogram(x * u.mV, 0.1, region=1, nperseg=2500, log=False)
    assert _peak_hz(ax) == pytest.approx(40.0)
    assert _colorbar_label(ax) == 'power (mV²/Hz)'
    ax = viz.plot_spectrogram(x, 0.1 * u.ms, nperseg=250 * u.ms, noverlap=0)
    assert _colorbar_label(ax) == 'power (1/Hz)' and ax.collections[0].get_array().shape[1] == 8
    sig = datasets.Signal(x[:, :1] * u.uvolt, dt=0.1 * u.ms)
    assert _peak_hz(viz.plot_spectrogram(sig)) == pytest.approx(10.0)


def test_spectrogram_bad_input():
    x = np.sin(2 * np.pi * 10 * T_SINE)
    with pytest.raises(ValueError, match='`signal` must be 1-D or 2-D'):
        viz.plot_spectrogram(np.zeros((10, 2, 2)), 0.1 * u.ms)
    with pytest.raises(TypeError, match='`dt` must be a time'):
        viz.plot_spectrogram(x, 1 * u.mV)
    with pytest.raises(ValueError, match='`signal` must be finite'):
        viz.plot_spectrogram(np.r_[x, np.nan], 0.1 * u.ms)
    with pytest.raises(ValueError, match='`nperseg` = 30000 samples is longer'):
        viz.plot_spectrogram(x, 0.1 * u.ms, nperseg=30000)
    with pytest.raises(ValueError, match='`noverlap` must be smaller'):
        viz.plot_spectrogram(x, 0.1 * u.ms, nperseg=100, noverlap=100)
    with pytest.raises(ValueError, match='`region` must be in'):
        viz.plot_spectrogram(x, 0.1 * u.ms, region=1)
    with pytest.raises(TypeError, match='`region`'):
        viz.plot_spectrogram(x, 0.1 * u.ms, region=0.5)
    with pytest.raises(ValueError, match='`fmax`'):
        viz.plot_spectrogram(x, 0.1 * u.ms, fmax=0.5 * u.Hz)
    with pytest.raises(ValueError, match='`fmax` must be a frequency'):
        viz.plot_spectrogram(x, 0.1 * u.ms, fmax=1 * u.ms)
    with pytest.raises(ValueError, match='log=False'):
        viz.plot_spectrogram(np.ones(1000), 0.1 * u.ms)
    with pytest.raises(ValueError, match='`cmap`'):
        viz.plot_spectrogram(x, 0.1 * u.ms, cmap='no-such-map')
