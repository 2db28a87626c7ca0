"""Plotting helpers for neural-mass simulations (matplotlib).

Every function draws on the given ``ax`` (or a new figure), returns the Axes,
and never calls ``plt.show()``, so it is safe on a headless machine. Inputs
may be numpy or JAX arrays or brainunit quantities: units are stripped for
plotting and written into the axis labels. The data types of
:mod:`brainmass.datasets` (:class:`~brainmass.datasets.Connectome`,
:class:`~brainmass.datasets.Signal`) are accepted where they make sense.

Examples
--------
>>> import numpy as np, brainunit as u
>>> from brainmass import viz
>>> x = np.sin(np.linspace(0, 10, 200))[:, None] * np.ones(3)
>>> ax = viz.plot_timeseries(x, ts=np.arange(200) * 0.1 * u.ms)
>>> ax.get_xlabel()
'time (ms)'
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import brainunit as u
import numpy as np

from .datasets._types import Connectome, Signal

__all__ = ['plot_timeseries', 'plot_phase_portrait', 'plot_connectivity',
           'plot_functional_connectivity', 'plot_power_spectrum']


# ----------------------------------------------------------------------------
# Helpers (private)
# ----------------------------------------------------------------------------

def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _, ax = plt.subplots()
    return ax


def _unit_str(x) -> str:
    """The unit of ``x`` as text, or '' when dimensionless."""
    if isinstance(x, u.Quantity):
        unit = u.get_unit(x)
        if not unit.is_unitless:
            return str(unit)
    return ''


def _array(x, name: str, ndims=(1, 2)) -> np.ndarray:
    """``x`` without units as a float numpy array, checking its number of dimensions."""
    try:
        arr = np.asarray(u.get_magnitude(x), dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f'`{name}` must be a numeric array; got {type(x).__name__} ({err}).') from None
    if arr.ndim not in ndims:
        want = ' or '.join(f'{d}-D' for d in ndims)
        raise ValueError(f'`{name}` must be {want}; got shape {arr.shape}.')
    return arr


def _labels(labels, n: int, name: str = 'labels') -> Optional[list]:
    if labels is None:
        return None
    labels = [str(s) for s in labels]
    if len(labels) != n:
        raise ValueError(f'`{name}` must hold one label per region ({n}); got {len(labels)}.')
    return labels


def _with_unit(text: str, unit: str) -> str:
    return f'{text} ({unit})' if unit else text


def _dt_seconds(dt) -> float:
    """A sampling step in seconds; plain numbers are milliseconds."""
    if isinstance(dt, u.Quantity) and not u.get_unit(dt).is_unitless:
        if u.get_dim(dt) != u.get_dim(u.second):
            raise ValueError(f'`dt` must be a time (e.g. 0.1 * u.ms); got a quantity in {u.get_unit(dt)}.')
        value = np.asarray(u.get_magnitude(dt.to(u.second)), dtype=float)
    else:
        value = np.asarray(u.get_magnitude(dt), dtype=float) * 1e-3
    if value.size != 1 or not np.isfinite(value).all() or float(value.reshape(())) <= 0:
        raise ValueError(f'`dt` must be a scalar time step > 0; got {dt!r}.')
    return float(value.reshape(()))


def _matrix_ticks(ax, labels, n: int) -> None:
    if labels is None:
        return
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(labels, rotation=90, fontsize='small')
    ax.set_yticklabels(labels, fontsize='small')


# ----------------------------------------------------------------------------
# Public plotting functions
# ----------------------------------------------------------------------------

def plot_timeseries(signal, ts=None, *, labels: Optional[Sequence[str]] = None, ax=None):
    """Plot one or many time series against time.

    Parameters
    ----------
    signal : array_like, Quantity or Signal, shape (T,) or (T, N)
        The trajectories, one column per region. A
        :class:`~brainmass.datasets.Signal` brings its own times and labels.
    ts : array_like or Quantity, shape (T,), optional
        Sample times. A quantity sets the x-label unit, e.g. ``'time (ms)'``;
        without ``ts`` the x-axis counts steps.
    labels : sequence of str, optional
        One legend entry per column.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, brainunit as u
    >>> from brainmass import viz
    >>> ax = viz.plot_timeseries(np.random.rand(100, 2), ts=np.arange(100) * u.ms,
    ...                          labels=['A', 'B'])
    """
    if isinstance(signal, Signal):
        ts = signal.ts if ts is None else ts
        labels = list(signal.labels) if labels is None else labels
        signal = signal.signal
    y = _array(signal, 'signal')
    y2 = y[:, None] if y.ndim == 1 else y
    labels = _labels(labels, y2.shape[1])
    if ts is None:
        t, xlabel = np.arange(y2.shape[0]), 'step'
    else:
        t = _array(ts, 'ts', ndims=(1,))
        if t.shape[0] != y2.shape[0]:
            raise ValueError(f'`ts` must have one time per row of `signal` ({y2.shape[0]}); '
                             f'got {t.shape[0]}.')
        xlabel = _with_unit('time', _unit_str(ts))
    ax = _axes(ax)
    lines = ax.plot(t, y2, linewidth=1.0)
    ax.set_xlabel(xlabel)
    if _unit_str(signal):
        ax.set_ylabel(_with_unit('signal', _unit_str(signal)))
    if labels is not None:
        for line, lab in zip(lines, labels):
            line.set_label(lab)
        ax.legend(fontsize='small', ncol=max(1, math.ceil(len(labels) / 10)))
    return ax


def plot_phase_portrait(x, y, *, ax=None):
    """Plot a trajectory in the (x, y) phase plane.

    Parameters
    ----------
    x, y : array_like or Quantity, shape (T,) or (T, N)
        The two state variables over time; ``N`` columns draw ``N`` curves.
        A marker shows each trajectory's start.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass import viz
    >>> t = np.linspace(0, 20, 500)
    >>> ax = viz.plot_phase_portrait(np.cos(t) * np.exp(-t / 10), np.sin(t) * np.exp(-t / 10))
    """
    xa, ya = _array(x, 'x'), _array(y, 'y')
    if xa.shape != ya.shape:
        raise ValueError(f'`x` and `y` must have the same shape; got {xa.shape} and {ya.shape}.')
    xa = xa[:, None] if xa.ndim == 1 else xa
    ya = ya[:, None] if ya.ndim == 1 else ya
    ax = _axes(ax)
    for i in range(xa.shape[1]):
        (line,) = ax.plot(xa[:, i], ya[:, i], linewidth=1.0)
        ax.plot(xa[0, i], ya[0, i], 'o', color=line.get_color(), markersize=4)
    ax.set_xlabel(_with_unit('x', _unit_str(x)))
    ax.set_ylabel(_with_unit('y', _unit_str(y)))
    return ax


def plot_connectivity(matrix, *, labels: Optional[Sequence[str]] = None, ax=None,
                      cmap: str = 'viridis', colorbar: bool = True):
    """Draw a connectivity (or distance) matrix as a labelled heatmap.

    Parameters
    ----------
    matrix : array_like, Quantity or Connectome, shape (N, N)
        The matrix; a quantity's unit labels the colour bar. A
        :class:`~brainmass.datasets.Connectome` plots its weights with its labels.
    labels : sequence of str, optional
        Region names for both axes' ticks.
    ax : matplotlib.axes.Axes, optional
    cmap : str
        Matplotlib colour map.
    colorbar : bool
        Add a colour bar.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from brainmass import datasets, viz
    >>> conn = datasets.load_dataset('example_connectome')
    >>> ax = viz.plot_connectivity(conn.distances, labels=list(conn.labels))
    """
    if isinstance(matrix, Connectome):
        labels = list(matrix.labels) if labels is None else labels
        matrix = matrix.weights
    m = _array(matrix, 'matrix', ndims=(2,))
    if m.shape[0] != m.shape[1]:
        raise ValueError(f'`matrix` must be square (N, N); got shape {m.shape}.')
    labels = _labels(labels, m.shape[0])
    ax = _axes(ax)
    im = ax.imshow(m, cmap=cmap, interpolation='nearest')
    _matrix_ticks(ax, labels, m.shape[0])
    if colorbar:
        cb = ax.figure.colorbar(im, ax=ax)
        if _unit_str(matrix):
            cb.set_label(_unit_str(matrix))
    return ax


def plot_functional_connectivity(data, *, is_matrix: bool = False,
                                 labels: Optional[Sequence[str]] = None, ax=None):
    """Plot functional connectivity (Pearson correlation between regions).

    Parameters
    ----------
    data : array_like, Quantity or Signal
        A (T, N) trajectory, whose FC is computed with
        :func:`braintools.metric.functional_connectivity`; or, with
        ``is_matrix=True``, an (N, N) FC matrix. A
        :class:`~brainmass.datasets.Signal` plots its ``fc``.
    is_matrix : bool
        Treat ``data`` as a precomputed FC matrix.
    labels : sequence of str, optional
        Region names for the ticks.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        A heatmap with the ``RdBu_r`` colour map on [-1, 1] and a colour bar.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass import viz
    >>> ax = viz.plot_functional_connectivity(np.random.rand(200, 4))
    """
    if isinstance(data, Signal):
        labels = list(data.labels) if labels is None else labels
        data, is_matrix = data.fc, True
    if is_matrix:
        fc = _array(data, 'data', ndims=(2,))
        if fc.shape[0] != fc.shape[1]:
            raise ValueError(f'`data` must be a square (N, N) FC matrix with is_matrix=True; '
                             f'got shape {fc.shape}.')
    else:
        x = _array(data, 'data', ndims=(2,))
        if x.shape[0] < 2:
            raise ValueError(f'`data` must be a (T, N) trajectory with T >= 2; got shape {x.shape}.')
        import braintools
        fc = np.asarray(braintools.metric.functional_connectivity(x), dtype=float)
    labels = _labels(labels, fc.shape[0])
    ax = _axes(ax)
    im = ax.imshow(fc, cmap='RdBu_r', vmin=-1.0, vmax=1.0, interpolation='nearest')
    _matrix_ticks(ax, labels, fc.shape[0])
    ax.figure.colorbar(im, ax=ax).set_label('Pearson r')
    return ax


#: default Welch segment: 4 s (0.25 Hz bins), or the whole signal when it is shorter
_SEGMENT_SECONDS = 4.0
#: longest default segment, in samples (bounds the FFT size for finely sampled signals)
_MAX_NPERSEG = 2 ** 18


def _frequency_hz(value, name: str) -> float:
    """A positive frequency in Hz; plain numbers are Hz."""
    if isinstance(value, u.Quantity) and not u.get_unit(value).is_unitless:
        if u.get_dim(value) != u.get_dim(u.Hz):
            raise ValueError(f'`{name}` must be a frequency (e.g. 0.5 * u.Hz); got a quantity in '
                             f'{u.get_unit(value)}.')
        value = value.to(u.Hz)
    arr = np.asarray(u.get_magnitude(value), dtype=float)
    if arr.size != 1 or not np.isfinite(arr).all() or float(arr.reshape(())) <= 0:
        raise ValueError(f'`{name}` must be a single frequency > 0 (e.g. 0.5 * u.Hz); got {value!r}.')
    return float(arr.reshape(()))


def _segment_length(n_times: int, fs: float, resolution, nperseg) -> int:
    """Samples per Welch segment: from ``nperseg``, from ``resolution``, or the default."""
    if resolution is not None and nperseg is not None:
        raise ValueError('Pass either `resolution` or `nperseg`, not both.')
    if nperseg is not None:
        if isinstance(nperseg, bool) or not isinstance(nperseg, (int, np.integer)):
            raise TypeError(f'`nperseg` must be an int >= 2 (samples per segment); got {nperseg!r}.')
        n, what = int(nperseg), f'`nperseg` = {nperseg}'
        if n < 2:
            raise ValueError(f'`nperseg` must be >= 2; got {nperseg}.')
    elif resolution is not None:
        df = _frequency_hz(resolution, 'resolution')
        n = int(math.ceil(fs / df - 1e-9))
        what = f'`resolution` = {df:g} Hz (segments of 1/resolution = {1 / df:g} s, {n} samples)'
    else:
        return max(2, min(n_times, int(round(_SEGMENT_SECONDS * fs)), _MAX_NPERSEG))
    if n > n_times:
        raise ValueError(f'{what} needs a longer signal: it has {n_times} samples '
                         f'({n_times / fs:g} s); pass a coarser `resolution` or a smaller `nperseg`.')
    return n


def _peak_hz(freqs: np.ndarray, power: np.ndarray) -> Optional[float]:
    """The frequency of the largest power above 0 Hz, refined between bins (log-parabolic fit)."""
    positive = np.flatnonzero(freqs > 0)
    if positive.size == 0 or not np.any(power[positive] > 0):
        return None
    k = int(positive[np.argmax(power[positive])])
    if k == 0 or k == len(freqs) - 1 or np.any(power[k - 1:k + 2] <= 0):
        return float(freqs[k])
    a, b, c = np.log(power[k - 1:k + 2])
    curvature = a - 2 * b + c
    shift = 0.5 * (a - c) / curvature if curvature < 0 else 0.0
    return float(freqs[k] + shift * (freqs[1] - freqs[0]))


def _peak_text(value: float, bin_width: float) -> str:
    """``value`` in Hz with the decimals the bin width resolves (1 for 0.1-1 Hz bins)."""
    decimals = max(0, int(math.ceil(-math.log10(bin_width))))
    return f'{value:.{decimals}f} Hz'


def _annotate_spectrum(ax, freqs, psd, bin_width: float, annotate_peak: bool) -> None:
    """Write the bin width in the corner and, optionally, mark the peak of the summed spectrum."""
    ax.text(0.99, 0.99, f'bin width {bin_width:.3g} Hz', transform=ax.transAxes,
            ha='right', va='top', fontsize='small')
    total = psd.sum(axis=1)
    peak = _peak_hz(freqs, total) if annotate_peak else None
    if peak is None:
        return
    k = int(np.argmin(np.abs(freqs - peak)))
    ax.annotate(f'peak {_peak_text(peak, bin_width)}', xy=(freqs[k], psd[k].max()),
                xytext=(0, 12), textcoords='offset points', ha='center', fontsize='small',
                arrowprops={'arrowstyle': '->', 'linewidth': 0.8})


def plot_power_spectrum(signal, dt=None, *, ax=None, loglog: bool = True, resolution=None,
                        nperseg: Optional[int] = None, annotate_peak: bool = True):
    """Plot the power spectral density of each column (Welch's method).

    The frequency resolution (bin width) is ``1 / segment duration``. By
    default the segments are 4 s long (0.25 Hz bins), or the whole signal
    when it is shorter (bins of ``1 / duration``), whatever the sampling step:
    a 2 s recording sampled every 0.1 ms has 0.5 Hz bins, enough to place a
    10.9 Hz alpha peak. ``resolution`` or ``nperseg`` choose it explicitly.
    The bin width is written in the upper right corner, and the peak of the
    spectrum summed over columns is marked with its frequency (refined between
    bins by a parabola through the log power of the three highest bins).

    Parameters
    ----------
    signal : array_like, Quantity or Signal, shape (T,) or (T, N)
        The time series, finite; a :class:`~brainmass.datasets.Signal` brings its ``dt``.
    dt : Quantity or float
        The sampling step; plain numbers are milliseconds.
    ax : matplotlib.axes.Axes, optional
    loglog : bool
        Log-log axes (the zero-frequency bin is left out).
    resolution : Quantity or float, optional
        The bin width wanted, a frequency (plain numbers are Hz): segments of
        ``1 / resolution`` seconds. The signal must be at least that long.
    nperseg : int, optional
        Samples per Welch segment (bin width ``1 / (nperseg * dt)``), instead
        of ``resolution``.
    annotate_peak : bool
        Mark the spectral peak (above 0 Hz) with its frequency.

    Returns
    -------
    matplotlib.axes.Axes
        Frequency in Hz on the x-axis, one line per column.

    Raises
    ------
    ValueError
        For a bad shape, a non-finite signal, a ``dt`` that is not a positive
        time, a ``resolution`` that is not a positive frequency, or a segment
        longer than the signal.

    Examples
    --------
    >>> import numpy as np, brainunit as u
    >>> from brainmass import viz
    >>> t = np.arange(20000) * 1e-4  # 2 s sampled every 0.1 ms
    >>> ax = viz.plot_power_spectrum(np.sin(2 * np.pi * 10.9 * t), 0.1 * u.ms)
    >>> [t.get_text() for t in ax.texts]
    ['bin width 0.5 Hz', 'peak 10.9 Hz']
    """
    from scipy.signal import welch
    if isinstance(signal, Signal):
        dt = signal.dt if dt is None else dt
        signal = signal.signal
    if dt is None:
        raise ValueError('`dt` is required: the sampling step, e.g. 0.1 * u.ms.')
    y = _array(signal, 'signal')
    y2 = y[:, None] if y.ndim == 1 else y
    if y2.shape[0] < 2:
        raise ValueError(f'`signal` needs at least 2 time points; got shape {y.shape}.')
    if not np.isfinite(y2).all():
        raise ValueError(f'`signal` must be finite; it holds {int((~np.isfinite(y2)).sum())} NaN/inf value(s).')
    fs = 1.0 / _dt_seconds(dt)
    n = _segment_length(y2.shape[0], fs, resolution, nperseg)
    freqs, psd = welch(y2, fs=fs, nperseg=n, axis=0)
    keep = freqs > 0 if loglog else slice(None)
    ax = _axes(ax)
    ax.plot(freqs[keep], psd[keep], linewidth=1.0)
    if loglog:
        ax.set_xscale('log')
        ax.set_yscale('log')
    ax.set_xlabel('frequency (Hz)')
    unit = _unit_str(signal)
    ax.set_ylabel(f'power ({unit}$^2$/Hz)' if unit else 'power (1/Hz)')
    _annotate_spectrum(ax, freqs, psd, fs / n, annotate_peak)
    return ax
