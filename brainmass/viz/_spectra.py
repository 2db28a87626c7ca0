"""Power spectra (Welch) and spectrograms (short-time Fourier transform)."""
from __future__ import annotations

import math
import re
from typing import Optional

import brainunit as u
import numpy as np

from .._core.validation import check_bool
from ..datasets._types import Signal
from ._common import as_array, check_finite, get_axes, unit_str

__all__ = ['plot_power_spectrum', 'plot_spectrogram']


def _power_label(signal) -> str:
    """``'power (µV²/Hz)'``: the label of a power spectral density of ``signal`` (compound units
    in parentheses, ``'power ((mV/ms)²/Hz)'``)."""
    unit = unit_str(signal)
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
    y = as_array(signal, 'signal')
    y2 = y[:, None] if y.ndim == 1 else y
    if y2.shape[0] < 2:
        raise ValueError(f'`signal` needs at least 2 time points; got shape {y.shape}.')
    if not np.isfinite(y2).all():
        raise ValueError(f'`signal` must be finite; it holds {int((~np.isfinite(y2)).sum())} NaN/inf value(s).')
    fs = 1.0 / _dt_seconds(dt)
    n = _segment_length(y2.shape[0], fs, resolution, nperseg)
    freqs, psd = welch(y2, fs=fs, nperseg=n, axis=0)
    keep = freqs > 0 if loglog else slice(None)
    ax = get_axes(ax)
    ax.plot(freqs[keep], psd[keep], linewidth=1.0)
    if loglog:
        ax.set_xscale('log')
        ax.set_yscale('log')
    ax.set_xlabel('frequency (Hz)')
    ax.set_ylabel(_power_label(signal))
    _annotate_spectrum(ax, freqs, psd, fs / n, annotate_peak)
    return ax


#: default spectrogram segment: 0.5 s (2 Hz bins), or a quarter of a shorter signal
_SPECTROGRAM_SECONDS = 0.5


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
    from ..analysis._inputs import segments
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
    from ..analysis._inputs import sampling_interval
    if isinstance(signal, Signal):
        dt = signal.dt if dt is None else dt
        signal = signal.signal
    y = check_finite(as_array(signal, 'signal'), 'signal')
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
    ax = get_axes(ax)
    norm, cmap = _power_colours(power, check_bool(log, 'log'), cmap)
    mesh = ax.pcolormesh(times, freqs, power, shading='nearest', cmap=cmap, norm=norm)
    ax.set_xlabel('time (s)')
    ax.set_ylabel('frequency (Hz)')
    ax.figure.colorbar(mesh, ax=ax).set_label(_power_label(signal))
    return ax
