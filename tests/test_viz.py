"""Tests for brainmass.viz: every helper returns its Axes, strips units, rejects bad shapes."""
import matplotlib

matplotlib.use('Agg')

import braintools  # noqa: E402
import brainunit as u  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from brainmass import datasets, viz  # noqa: E402


from _helpers import close_figures  # noqa: E402,F401  (autouse: no plt.show, figures closed)


RNG = np.random.default_rng(0)
X = RNG.normal(size=(300, 4))


# ----------------------------------------------------------------------------
# plot_timeseries
# ----------------------------------------------------------------------------

def test_timeseries_quantities_and_labels():
    ts = jnp.arange(300) * 0.1 * u.ms
    ax = viz.plot_timeseries(jnp.asarray(X) * u.mV, ts=ts, labels=['a', 'b', 'c', 'd'])
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == 'time (ms)' and ax.get_ylabel() == 'signal (mV)'
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['a', 'b', 'c', 'd']
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.arange(300) * 0.1, rtol=1e-6)
    np.testing.assert_allclose(ax.lines[2].get_ydata(), X[:, 2], rtol=1e-6)


def test_timeseries_1d_no_ts_and_given_ax():
    fig, ax0 = plt.subplots()
    ax = viz.plot_timeseries(X[:, 0], ax=ax0)
    assert ax is ax0 and len(ax.lines) == 1 and ax.get_xlabel() == 'step'
    ax = viz.plot_timeseries(X, ts=np.arange(300) * 1e-3 * u.second)
    assert ax.get_xlabel() == 'time (s)' and ax.get_legend() is None


def test_timeseries_bad_input():
    with pytest.raises(ValueError, match='`signal` must be 1-D or 2-D'):
        viz.plot_timeseries(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match='`ts`'):
        viz.plot_timeseries(X, ts=np.arange(10))
    with pytest.raises(ValueError, match='`labels`'):
        viz.plot_timeseries(X, labels=['a'])


def test_timeseries_of_signal_dataset():
    sig = datasets.Signal(X, dt=0.5 * u.ms, labels=list('wxyz'))
    ax = viz.plot_timeseries(sig)
    assert ax.get_xlabel() == 'time (ms)' and len(ax.lines) == 4


# ----------------------------------------------------------------------------
# plot_phase_portrait
# ----------------------------------------------------------------------------

def test_phase_portrait():
    t = np.linspace(0, 20, 400)
    ax = viz.plot_phase_portrait(np.cos(t) * u.mV, jnp.asarray(np.sin(t)))
    assert isinstance(ax, Axes) and ax.get_xlabel() == 'x (mV)' and ax.get_ylabel() == 'y'
    ax = viz.plot_phase_portrait(X[:, :2], X[:, 2:])
    assert len(ax.lines) == 4  # one curve + one start marker per column
    with pytest.raises(ValueError, match='same shape'):
        viz.plot_phase_portrait(X[:, 0], X[:10, 0])
    with pytest.raises(ValueError, match='`x`'):
        viz.plot_phase_portrait(np.zeros((2, 2, 2)), np.zeros((2, 2, 2)))


# ----------------------------------------------------------------------------
# plot_connectivity
# ----------------------------------------------------------------------------

def test_connectivity_with_quantity_and_labels():
    conn = datasets.load_dataset('example_connectome')
    ax = viz.plot_connectivity(conn.distances, labels=list(conn.labels))
    assert isinstance(ax, Axes)
    assert [t.get_text() for t in ax.get_xticklabels()] == [f'R{i}' for i in range(8)]
    np.testing.assert_allclose(ax.images[0].get_array(), u.get_magnitude(conn.distances))
    assert ax.figure.axes[-1].get_ylabel() == 'mm'  # colour bar label
    ax = viz.plot_connectivity(conn, colorbar=False, cmap='magma')
    assert len(ax.figure.axes) == 1 and ax.images[0].get_cmap().name == 'magma'
    assert ax.get_yticklabels()[0].get_text() == 'R0'


def test_connectivity_bad_input():
    with pytest.raises(ValueError, match='`matrix` must be 2-D'):
        viz.plot_connectivity(np.ones(4))
    with pytest.raises(ValueError, match='`matrix` must be square'):
        viz.plot_connectivity(np.ones((2, 3)))
    with pytest.raises(ValueError, match='`labels`'):
        viz.plot_connectivity(np.ones((3, 3)), labels=['a'])


# ----------------------------------------------------------------------------
# plot_functional_connectivity
# ----------------------------------------------------------------------------

def test_functional_connectivity_from_timeseries():
    ax = viz.plot_functional_connectivity(jnp.asarray(X) * u.Hz, labels=list('abcd'))
    im = ax.images[0]
    np.testing.assert_allclose(im.get_array(), braintools.metric.functional_connectivity(X), atol=1e-6)
    assert im.get_clim() == (-1.0, 1.0) and im.get_cmap().name == 'RdBu_r'
    assert len(ax.figure.axes) == 2  # heatmap + colour bar


def test_functional_connectivity_matrix_and_signal():
    fc = np.corrcoef(X, rowvar=False)
    ax = viz.plot_functional_connectivity(fc, is_matrix=True)
    np.testing.assert_allclose(ax.images[0].get_array(), fc)
    ax = viz.plot_functional_connectivity(datasets.Signal(X, dt=1.0))
    np.testing.assert_allclose(ax.images[0].get_array(), fc)
    with pytest.raises(ValueError, match='`data` must be 2-D'):
        viz.plot_functional_connectivity(X[:, 0])
    with pytest.raises(ValueError, match='square'):
        viz.plot_functional_connectivity(X, is_matrix=True)


# ----------------------------------------------------------------------------
# plot_power_spectrum
# ----------------------------------------------------------------------------

def _peak(ax):
    line = ax.lines[0]
    return line.get_xdata()[np.argmax(line.get_ydata())]


def test_power_spectrum_peak_in_hz():
    t = np.arange(4000) * 1e-3                      # seconds, dt = 1 ms
    x = np.sin(2 * np.pi * 40 * t) * u.mV
    ax = viz.plot_power_spectrum(x, 1 * u.ms)
    assert isinstance(ax, Axes) and ax.get_xlabel() == 'frequency (Hz)'
    assert ax.get_xscale() == 'log' and 'mV' in ax.get_ylabel()
    assert abs(_peak(ax) - 40) < 5
    assert abs(_peak(viz.plot_power_spectrum(u.get_magnitude(x), 1.0)) - 40) < 5    # plain = ms
    assert abs(_peak(viz.plot_power_spectrum(u.get_magnitude(x), 1e-3 * u.second)) - 40) < 5
    ax = viz.plot_power_spectrum(np.stack([u.get_magnitude(x)] * 3, 1), 1 * u.ms, loglog=False)
    assert len(ax.lines) == 3 and ax.get_xscale() == 'linear'


def test_power_spectrum_bad_input():
    with pytest.raises(ValueError, match='`signal` must be 1-D or 2-D'):
        viz.plot_power_spectrum(np.zeros((4, 4, 4)), 1 * u.ms)
    with pytest.raises(ValueError, match='`dt` must be a time'):
        viz.plot_power_spectrum(X, 1 * u.mV)
    with pytest.raises(ValueError, match='`dt`'):
        viz.plot_power_spectrum(X, -1.0)
    with pytest.raises(ValueError, match='`dt` is required'):
        viz.plot_power_spectrum(X)
