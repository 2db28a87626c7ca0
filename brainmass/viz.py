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
import re
from typing import Optional, Sequence

import brainunit as u
import numpy as np

from ._core.display import micro
from ._core.validation import check_bool, check_int_at_least
from .datasets._types import Connectome, Signal

__all__ = ['plot_timeseries', 'plot_phase_portrait', 'plot_connectivity',
           'plot_functional_connectivity', 'plot_power_spectrum',
           'plot_fcd', 'plot_fcd_distribution', 'plot_spectrogram', 'plot_sweep']


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
    """The unit of ``x`` as text (micro prefix as 'µ': ``'µV'``), or '' when dimensionless."""
    if isinstance(x, u.Quantity):
        unit = u.get_unit(x)
        if not unit.is_unitless:
            return micro(str(unit))
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


def _power_label(signal) -> str:
    """``'power (µV²/Hz)'``: the label of a power spectral density of ``signal`` (compound units
    in parentheses, ``'power ((mV/ms)²/Hz)'``)."""
    unit = _unit_str(signal)
    unit = f'({unit})' if re.search(r'[ /*]', unit) else unit
    return f'power ({unit}²/Hz)' if unit else 'power (1/Hz)'


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
    ax.set_ylabel(_power_label(signal))
    _annotate_spectrum(ax, freqs, psd, fs / n, annotate_peak)
    return ax


# ----------------------------------------------------------------------------
# FCD and spectrogram
# ----------------------------------------------------------------------------

#: default spectrogram segment: 0.5 s (2 Hz bins), or a quarter of a shorter signal
_SPECTROGRAM_SECONDS = 0.5


def _finite(arr: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(arr).all():
        raise ValueError(f'`{name}` must be finite; it holds {int((~np.isfinite(arr)).sum())} NaN/inf value(s).')
    return arr


def _fcd_matrix(data, dt, window_size, step_size, is_matrix: bool):
    """``(FCD matrix, step between window starts in samples or None, dt in s or None)``."""
    from .analysis import fcd
    from .analysis._inputs import samples, sampling_interval
    dt_s = None if dt is None else sampling_interval(dt)
    if is_matrix:
        m = _finite(_array(data, 'data', ndims=(2,)), 'data')
        if m.shape[0] != m.shape[1]:
            raise ValueError(f'`data` must be a square (W, W) FCD matrix with is_matrix=True; got shape {m.shape}.')
        step = None if step_size is None else samples(step_size, 'step_size', dt_s, 1)
        if dt_s is not None and step is None:
            raise ValueError('`step_size` is required with `dt` and is_matrix=True: it places the windows in time.')
        return m, step, dt_s
    if window_size is None or step_size is None:
        raise ValueError('`window_size` and `step_size` are required to compute the FCD of a (T, N) series '
                         '(or pass an FCD matrix with is_matrix=True).')
    _finite(_array(data, 'data', ndims=(2,)), 'data')
    m = np.asarray(fcd(data, window_size, step_size, dt), dtype=float)
    return m, samples(step_size, 'step_size', dt_s, 1), dt_s


def plot_fcd(data, dt=None, *, window_size=None, step_size=None, is_matrix: bool = False, ax=None,
             cmap: str = 'viridis', colorbar: bool = True):
    """Plot the functional connectivity dynamics (FCD) matrix.

    Entry ``(k, l)`` is the correlation between the FC of windows ``k`` and
    ``l`` (see :func:`brainmass.analysis.fcd`). Both axes show the window
    start times: in seconds when ``dt`` is given, else in samples.

    Parameters
    ----------
    data : array_like, Quantity or Signal
        A (T, N) series (``N >= 3``, finite), whose FCD is computed with
        :func:`brainmass.analysis.fcd`; or, with ``is_matrix=True``, a (W, W)
        FCD matrix. A :class:`~brainmass.datasets.Signal` brings its ``dt``.
    dt : Quantity or float, optional
        The sampling step (plain numbers are milliseconds).
    window_size, step_size : int or Quantity
        Window length and shift between windows, in samples or as times
        (then ``dt`` is required). Both are required for a series; with
        ``is_matrix=True`` only ``step_size`` is used, to place the windows
        (required when ``dt`` is given; without it the axes count windows).
    is_matrix : bool
        Treat ``data`` as a precomputed FCD matrix.
    ax : matplotlib.axes.Axes, optional
    cmap : str
        Matplotlib colour map.
    colorbar : bool
        Add a colour bar (labelled ``'FC correlation'``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For a wrong shape, NaN/inf, a window longer than the series, fewer
        than 2 windows, or missing ``window_size`` / ``step_size``.
    TypeError
        For a ``dt`` that is not a time, or window sizes that are neither int
        samples nor times.

    Examples
    --------
    >>> import numpy as np, brainunit as u
    >>> from brainmass import viz
    >>> x = np.random.default_rng(0).normal(size=(1000, 4))
    >>> ax = viz.plot_fcd(x, 1 * u.ms, window_size=200, step_size=50)
    >>> ax.get_xlabel()
    'window start (s)'
    """
    if isinstance(data, Signal):
        dt = data.dt if dt is None else dt
        data = data.signal
    m, step, dt_s = _fcd_matrix(data, dt, window_size, step_size, check_bool(is_matrix, 'is_matrix'))
    if step is None:
        spacing, label = 1.0, 'window'
    else:
        spacing, label = (step * dt_s, 'window start (s)') if dt_s is not None else (step, 'window start (sample)')
    edges = (np.array([0, m.shape[0]]) - 0.5) * spacing
    ax = _axes(ax)
    im = ax.imshow(m, cmap=cmap, interpolation='nearest', extent=(edges[0], edges[1], edges[1], edges[0]))
    ax.set_xlabel(label)
    ax.set_ylabel(label)
    if check_bool(colorbar, 'colorbar'):
        ax.figure.colorbar(im, ax=ax).set_label('FC correlation')
    return ax


def _fcd_values(data, name: str, dt, window_size, step_size) -> np.ndarray:
    """FCD values: computed from a (T, N) series, or a 1-D array of values in [-1, 1] as given."""
    from .analysis import fcd_distribution
    if isinstance(data, Signal):
        dt = data.dt if dt is None else dt
        data = data.signal
    arr = _finite(_array(data, name), name)
    if arr.ndim == 2:
        if window_size is None or step_size is None:
            raise ValueError(f'`window_size` and `step_size` are required to compute the FCD of `{name}` '
                             f'(a (T, N) series).')
        return np.asarray(fcd_distribution(data, window_size, step_size, dt), dtype=float)
    if name == 'data' and (window_size is not None or step_size is not None):
        raise ValueError('1-D `data` is read as FCD values; `window_size` and `step_size` apply only to a '
                         '(T, N) series (for one region use x[:, None]; the FCD needs N >= 3).')
    if np.any(np.abs(arr) > 1.0 + 1e-6):
        raise ValueError(f'1-D `{name}` is read as FCD values, which are correlations in [-1, 1]; '
                         f'got values from {arr.min():g} to {arr.max():g}.')
    return arr


def plot_fcd_distribution(data, dt=None, *, window_size=None, step_size=None, target=None, ax=None,
                          bins: int = 50, label: Optional[str] = None):
    """Plot the distribution of the FCD values (the upper triangle of the FCD matrix).

    A density histogram on fixed bins over [-1, 1], so that histograms drawn
    on the same Axes (a model against a target) are comparable.

    Parameters
    ----------
    data : array_like, Quantity or Signal
        A (T, N) series (``N >= 3``, finite), whose values are computed with
        :func:`brainmass.analysis.fcd_distribution`; or a 1-D array of FCD
        values (e.g. an empirical distribution), in [-1, 1].
    dt : Quantity or float, optional
        The sampling step (plain numbers are milliseconds); needed only for
        window sizes given as times.
    window_size, step_size : int or Quantity
        The FCD windows (see :func:`brainmass.analysis.fcd`); required for a
        (T, N) series (``data`` or ``target``).
    target : array_like, Quantity or Signal, optional
        A target to compare with, in the same forms as ``data`` (a series
        uses the same windows and ``dt``); drawn as an outline labelled
        ``'target'``.
    ax : matplotlib.axes.Axes, optional
    bins : int
        Number of bins over [-1, 1].
    label : str, optional
        Legend entry of ``data``; a legend is drawn when a label or a target is given.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For a wrong shape, NaN/inf, 1-D values outside [-1, 1], a window
        longer than the series, or missing ``window_size`` / ``step_size``.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass import viz
    >>> rng = np.random.default_rng(0)
    >>> ax = viz.plot_fcd_distribution(rng.normal(size=(1000, 4)), window_size=200, step_size=50,
    ...                                target=rng.normal(size=(1000, 4)), label='model')
    """
    bins = check_int_at_least(bins, 1, 'bins')
    values = _fcd_values(data, 'data', dt, window_size, step_size)
    edges = np.linspace(-1.0, 1.0, bins + 1)
    ax = _axes(ax)
    ax.hist(values, bins=edges, density=True, alpha=0.6, label=label)
    if target is not None:
        ax.hist(_fcd_values(target, 'target', dt, window_size, step_size), bins=edges, density=True,
                histtype='step', linewidth=1.5, color='k', label='target')
    ax.set_xlabel('FCD value (FC correlation)')
    ax.set_ylabel('density')
    if label is not None or target is not None:
        ax.legend(fontsize='small')
    return ax


def _spectrogram_column(y2: np.ndarray, region) -> np.ndarray:
    """The column ``region`` of a (T, N) array, or all columns when ``region`` is None."""
    if region is None:
        return y2
    if isinstance(region, bool) or not isinstance(region, (int, np.integer)):
        raise TypeError(f'`region` must be None or an int column index; got {region!r}.')
    if not 0 <= region < y2.shape[1]:
        raise ValueError(f'`region` must be in [0, {y2.shape[1] - 1}] (the signal has {y2.shape[1]} '
                         f'column(s)); got {region}.')
    return y2[:, [int(region)]]


def _spectrogram_segments(n_times: int, dt_s: float, nperseg, noverlap) -> tuple:
    """``(nperseg, noverlap)`` in samples: given (ints or times) or the defaults."""
    from .analysis._inputs import segments
    default = max(2, min(int(round(_SPECTROGRAM_SECONDS / dt_s)), n_times // 4, _MAX_NPERSEG))
    return segments(n_times, dt_s, nperseg, noverlap, default, 'signal')


def _power_colours(power: np.ndarray, log: bool, cmap):
    """``(norm, cmap)``: a LogNorm from the smallest positive to the largest power (zero power
    drawn in the lowest colour), or a linear scale (None)."""
    if not log:
        return None, cmap
    import matplotlib
    from matplotlib.colors import LogNorm
    positive = power[power > 0]
    if positive.size == 0:
        raise ValueError('`signal` has no power above zero (a constant signal?); pass log=False '
                         'to draw it on a linear colour scale.')
    if isinstance(cmap, str):
        if cmap not in matplotlib.colormaps:
            raise ValueError(f'`cmap` must be a matplotlib colour map name (e.g. \'viridis\'); got {cmap!r}.')
        cmap = matplotlib.colormaps[cmap]
    return LogNorm(vmin=float(positive.min()), vmax=float(positive.max())), cmap.with_extremes(bad=cmap(0.0))


def plot_spectrogram(signal, dt=None, *, region: Optional[int] = None, nperseg=None, noverlap=None,
                     fmax=None, ax=None, log: bool = True, cmap: str = 'viridis'):
    """Plot the time-frequency power of a signal (short-time Fourier transform).

    The power spectral density of sliding Hann-windowed segments
    (``scipy.signal.spectrogram``, mean removed per segment), drawn at the
    segment centres: time in s on the x-axis, frequency in Hz on the y-axis,
    the colour bar in (unit of the signal)²/Hz. The frequency resolution is
    ``1 / (nperseg * dt)``.

    Parameters
    ----------
    signal : array_like, Quantity or Signal, shape (T,) or (T, N)
        The time series, finite; a :class:`~brainmass.datasets.Signal` brings its ``dt``.
    dt : Quantity or float
        The sampling step; plain numbers are milliseconds.
    region : int, optional
        The column to draw; by default the power averaged over all columns.
    nperseg : int or Quantity, optional
        Samples per segment, or a time (a whole number of ``dt``). Default:
        0.5 s (2 Hz bins), or a quarter of the signal when it is shorter than 2 s.
    noverlap : int or Quantity, optional
        Overlap of consecutive segments (default ``nperseg // 2``).
    fmax : Quantity or float, optional
        Highest frequency drawn (plain numbers are Hz); default the Nyquist frequency.
    ax : matplotlib.axes.Axes, optional
    log : bool
        Logarithmic colour scale (from the smallest positive to the largest power).
    cmap : str
        Matplotlib colour map.

    Returns
    -------
    matplotlib.axes.Axes
        Holding one QuadMesh, whose array is the power (frequency x time).

    Raises
    ------
    ValueError
        For a bad shape, NaN/inf, a segment longer than the signal, an
        out-of-range ``region``, an ``fmax`` below the first frequency bin,
        or a constant signal with ``log=True``.
    TypeError
        For a ``dt`` that is not a time.

    Examples
    --------
    >>> import numpy as np, brainunit as u
    >>> from brainmass import viz
    >>> t = np.arange(20000) * 1e-4  # 2 s sampled every 0.1 ms
    >>> ax = viz.plot_spectrogram(np.sin(2 * np.pi * 10 * t) * u.uvolt, 0.1 * u.ms, fmax=50 * u.Hz)
    >>> ax.collections[0].colorbar.ax.get_ylabel()
    'power (µV²/Hz)'
    """
    from scipy.signal import spectrogram
    from .analysis._inputs import sampling_interval
    if isinstance(signal, Signal):
        dt = signal.dt if dt is None else dt
        signal = signal.signal
    y = _finite(_array(signal, 'signal'), 'signal')
    y2 = _spectrogram_column(y[:, None] if y.ndim == 1 else y, region)
    dt_s = sampling_interval(dt)
    n, overlap = _spectrogram_segments(y2.shape[0], dt_s, nperseg, noverlap)
    freqs, times, power = spectrogram(y2.T, fs=1.0 / dt_s, nperseg=n, noverlap=overlap, mode='psd')
    power = power.mean(axis=0)                                   # (F, S)
    if fmax is not None:
        keep = freqs <= _frequency_hz(fmax, 'fmax')
        if keep.sum() < 2:
            raise ValueError(f'`fmax` = {fmax} is below the first frequency bin ({freqs[1]:g} Hz).')
        freqs, power = freqs[keep], power[keep]
    ax = _axes(ax)
    norm, cmap = _power_colours(power, check_bool(log, 'log'), cmap)
    mesh = ax.pcolormesh(times, freqs, power, shading='nearest', cmap=cmap, norm=norm)
    ax.set_xlabel('time (s)')
    ax.set_ylabel('frequency (Hz)')
    ax.figure.colorbar(mesh, ax=ax).set_label(_power_label(signal))
    return ax


def _axis_label(name: str, axis) -> str:
    unit = axis.unit_text()
    return f'{name} ({micro(unit)})' if unit else name


def _tick_text(values: np.ndarray) -> list:
    return [f'{v:.3g}' for v in values]


def plot_sweep(result, metric: str, *, x: Optional[str] = None, ax=None, cmap: str = 'viridis',
               mark_best: bool = True, higher_is_better: bool = True, colorbar: bool = True):
    """Plot a scalar metric of a sweep over its one or two axes (a line or a heat map).

    Parameters
    ----------
    result : brainmass.sweep.SweepResult
        A sweep over one or two axes (reduce larger spaces first, or sweep a slice).
    metric : str
        A scalar metric of ``result``.
    x : str, optional
        The axis on the horizontal axis of a 2-D map (default: the second axis, so the
        array's rows go up the vertical axis). Cells sit at their grid index, labelled with
        the axis values, so log grids are evenly spaced.
    ax : matplotlib.axes.Axes, optional
    cmap : str
        Matplotlib colour map (2-D maps).
    mark_best : bool
        Mark the best point (NaN points skipped) with a white star (2-D) or a dot (1-D).
    higher_is_better : bool
        Which end of the metric is best, for ``mark_best``.
    colorbar : bool
        Add a colour bar labelled with the metric (and its unit) to a 2-D map.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For an unknown metric or axis, a metric that is not a scalar per point, or a space
        of more than two axes.
    TypeError
        When ``result`` is not a sweep result.

    Examples
    --------
    >>> import brainmass, brainunit as u, jax.numpy as jnp
    >>> from brainmass import sweep, viz
    >>> node = brainmass.HopfStep(2, init_x=0.1)
    >>> res = sweep.run(node, sweep.Space(a=sweep.grid(-0.2, 0.2, 3), w=[0.2, 0.3]), duration=5 * u.ms,
    ...                 dt=0.1 * u.ms, monitors=['x'], metrics={'var': lambda r: jnp.var(r['x'])})
    >>> ax = viz.plot_sweep(res, 'var')
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('w', 'a')
    """
    space = getattr(result, 'space', None)
    if space is None or not hasattr(result, 'metrics'):
        raise TypeError(f'`result` must be a brainmass.sweep.SweepResult; got {type(result).__name__}.')
    if metric not in result.metrics:
        raise ValueError(f'`metric` {metric!r} is not a metric of the sweep; it has '
                         f'{", ".join(map(repr, result.metrics))}.')
    dims = result.dims
    values = np.asarray(u.get_magnitude(result[metric]), dtype=float)
    if values.ndim != len(dims):
        raise ValueError(f'`metric` {metric!r} has shape {values.shape[len(dims):]} at each point; '
                         f'plot_sweep plots a scalar per point.')
    if len(dims) > 2:
        raise ValueError(f'plot_sweep draws one or two axes; the sweep has {len(dims)} ({", ".join(dims)}). '
                         f'Plot a slice (e.g. result[metric][:, :, 0]) with matplotlib, or sweep fewer axes.')
    if x is not None and x not in dims:
        raise ValueError(f'`x` must be one of the sweep axes {dims}; got {x!r}.')
    mark_best = check_bool(mark_best, 'mark_best')
    best = result.best(metric, higher_is_better) if mark_best and np.isfinite(values).any() else None
    label = _with_unit(metric, _unit_str(result[metric]))
    ax = _axes(ax)
    if len(dims) == 1:
        axis = space.axes[dims[0]]
        ax.plot(axis.magnitudes, values, marker='o')
        ax.set_xlabel(_axis_label(dims[0], axis))
        ax.set_ylabel(label)
        if best is not None:
            ax.plot(axis.magnitudes[best['index'][0]], values[best['index']], 'o', color='tab:red', ms=9)
        return ax
    xname = dims[1] if x is None else x
    yname = dims[0] if xname == dims[1] else dims[1]
    grid = values if xname == dims[1] else values.T
    xa, ya = space.axes[xname], space.axes[yname]
    mesh = ax.pcolormesh(np.arange(len(xa)), np.arange(len(ya)), grid, shading='nearest', cmap=cmap)
    ax.set_xticks(np.arange(len(xa)), _tick_text(xa.magnitudes))
    ax.set_yticks(np.arange(len(ya)), _tick_text(ya.magnitudes))
    ax.set_xlabel(_axis_label(xname, xa))
    ax.set_ylabel(_axis_label(yname, ya))
    if best is not None:
        index = dict(zip(dims, best['index']))
        ax.plot(index[xname], index[yname], marker='*', color='white', ms=14, mec='black')
    if check_bool(colorbar, 'colorbar'):
        ax.figure.colorbar(mesh, ax=ax).set_label(label)
    return ax
