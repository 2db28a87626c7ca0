r"""Spectra and phases: Welch PSD, peak frequency, band power, Hilbert phase.

A series is ``(..., T, N)`` (time axis -2, regions last, any leading batch
axes). The sampling interval ``dt`` is a time Quantity or a plain number of
milliseconds. Frequencies come back in Hz; a PSD keeps the unit of the series,
squared, per Hz (``mV**2 / Hz``; plain series give ``1 / Hz``, shown as ``s``).
Frequency arguments (``fmin``, ``fmax``, ``band``) are Quantities or plain
numbers of Hz. NaN in a region propagates to that region's results.
"""
from __future__ import annotations

import functools

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import scipy.signal

from .._core.validation import check_bool, check_choice, short_repr, single_number
from ._inputs import frequency_hz, sampling_interval, segments, series

__all__ = ['welch_psd', 'peak_frequency', 'band_power', 'hilbert_phase']

_DEFAULT_NPERSEG = 256  # scipy.signal.welch's default
_METHODS = ('parabolic', 'softmax')


# ---------------------------------------------------------------------------- Welch

def _segments(xt, nperseg, step):
    """``(..., T)`` -> ``(..., S, nperseg)`` overlapping segments (static layout)."""
    n_seg = (xt.shape[-1] - nperseg) // step + 1
    if nperseg % step == 0:  # each segment is nperseg // step consecutive blocks: slices, no gather
        r = nperseg // step
        blocks = xt[..., :(n_seg + r - 1) * step].reshape(*xt.shape[:-1], n_seg + r - 1, step)
        return jnp.concatenate([blocks[..., k:k + n_seg, :] for k in range(r)], axis=-1)
    idx = np.arange(n_seg)[:, None] * step + np.arange(nperseg)[None, :]
    return xt[..., idx]


@functools.partial(jax.jit, static_argnums=(2, 3))
def _welch(x, win, nperseg, step, scale):
    # the series' own mean first (each segment's mean is removed anyway): a segment mean of 1000 + noise in
    # float32 is off by ~1000 eps, which leaked into the 0 Hz and first bins (up to 8e-4 relative)
    x = x - jnp.mean(x, axis=-2, keepdims=True)
    seg = _segments(jnp.swapaxes(x, -1, -2), nperseg, step)     # (..., N, S, nperseg)
    seg = (seg - jnp.mean(seg, axis=-1, keepdims=True)) * win.astype(x.dtype)
    spec = jnp.fft.rfft(seg, axis=-1)
    power = jnp.mean(spec.real ** 2 + spec.imag ** 2, axis=-2) * jnp.asarray(scale, x.dtype)
    last = power.shape[-1] - (1 if nperseg % 2 == 0 else 0)    # DC and Nyquist are not doubled
    power = power.at[..., 1:last].multiply(2.0)
    return jnp.swapaxes(power, -1, -2)                          # (..., F, N)


def _window(window, nperseg):
    if isinstance(window, (str, tuple)):
        try:
            return np.asarray(scipy.signal.get_window(window, nperseg), dtype=float)
        except (ValueError, TypeError) as err:
            raise ValueError(f'`window` {window!r} is not a window scipy.signal.get_window knows '
                             f'(e.g. \'hann\', \'hamming\', \'boxcar\', (\'tukey\', 0.25)): {err}') from err
    expected = f'a window name or a finite, nonzero 1-D array of length nperseg = {nperseg}'
    try:
        win = None if isinstance(window, u.Quantity) else np.asarray(window, dtype=float)
    except (TypeError, ValueError):
        win = None
    if win is None:
        raise TypeError(f'`window` must be {expected}; got {short_repr(window)}.')
    if win.shape != (nperseg,) or not np.all(np.isfinite(win)) or not np.any(win):
        raise ValueError(f'`window` must be {expected}; got an array of shape {win.shape}.')
    return win


def _welch_setup(n_time, dt, nperseg, noverlap, window):
    """Static Welch settings: ``(dt_s, nperseg, step, window array)``."""
    dt_s = sampling_interval(dt)
    n, overlap = segments(n_time, dt_s, nperseg, noverlap, min(_DEFAULT_NPERSEG, n_time), 'ts')
    return dt_s, n, n - overlap, _window(window, n)


def psd_arrays(ts, dt, nperseg, noverlap, window):
    """``(freqs [Hz] numpy, psd magnitude (..., F, N), unit of ts)``."""
    x, unit = series(ts, 'ts', min_time=2)
    dt_s, n, step, win = _welch_setup(x.shape[-2], dt, nperseg, noverlap, window)
    scale = dt_s / float(np.sum(win * win))   # 1 / (fs * sum(w^2)), fs in Hz
    psd = _welch(x, jnp.asarray(win), n, step, scale)
    return np.fft.rfftfreq(n, dt_s), psd, unit


def welch_psd(ts, dt, nperseg=None, noverlap=None, window='hann'):
    r"""Power spectral density by Welch's method, along the time axis (-2).

    Equal to ``scipy.signal.welch(ts, fs=1/dt, nperseg, noverlap, window,
    detrend='constant', scaling='density', axis=-2)`` (one-sided): the series
    is cut into segments of ``nperseg`` samples overlapping by ``noverlap``,
    each segment's mean is removed, the segment is multiplied by the window
    :math:`w`, and

    .. math::  P(f_k) = \frac{c_k}{f_s \sum_n w_n^2} \,\frac{1}{S}\sum_{s=1}^{S}
               \Big|\sum_n w_n x^{(s)}_n e^{-2\pi i k n / n_\text{seg}}\Big|^2,

    with :math:`c_k = 2` except at 0 Hz and at the Nyquist frequency
    (:math:`c_k = 1`). Differentiable in ``ts``.

    Parameters
    ----------
    ts : array_like or Quantity, shape (..., T, N)
        Time series; any leading batch axes.
    dt : Quantity or float
        Sampling interval (plain numbers: ms).
    nperseg : int or Quantity, optional
        Segment length in samples, or a time (then a whole number of ``dt``).
        Default: 256 samples, or ``T`` when shorter (scipy's default). The
        frequency resolution is ``1 / (nperseg * dt)``; a ``nperseg`` longer
        than the series raises ValueError.
    noverlap : int or Quantity, optional
        Overlap of consecutive segments (default ``nperseg // 2``).
    window : str, tuple or array_like
        A window name for ``scipy.signal.get_window`` (default ``'hann'``,
        periodic as in scipy), or the window itself, length ``nperseg``.

    Returns
    -------
    freqs : Quantity, shape (F,)
        ``F = nperseg // 2 + 1`` frequencies, in Hz.
    psd : Quantity, shape (..., F, N)
        In (unit of ``ts``)\ :sup:`2` / Hz.

    Examples
    --------
    >>> import brainunit as u
    >>> import numpy as np
    >>> from brainmass.analysis import welch_psd
    >>> t = np.arange(2000) * 1e-3                      # 2 s at dt = 1 ms
    >>> x = np.sin(2 * np.pi * 10 * t)[:, None] * u.mV
    >>> freqs, psd = welch_psd(x, dt=1 * u.ms, nperseg=500)
    >>> psd.shape, str(psd.unit)
    ((251, 1), 'mV^2 / Hz')
    >>> float(freqs[np.argmax(psd.mantissa[:, 0])].to_decimal(u.Hz))
    10.0
    """
    freqs, psd, unit = psd_arrays(ts, dt, nperseg, noverlap, window)
    return u.Quantity(freqs, unit=u.Hz), u.Quantity(psd, unit=unit ** 2 / u.Hz)


# ---------------------------------------------------------------------------- band selection

def band_slice(freqs, fmin, fmax, what):
    """Static slice of ``freqs`` (Hz) inside ``[fmin, fmax]`` (fmin None: the first nonzero bin)."""
    lo = freqs[1] if fmin is None and freqs.size > 1 else (0.0 if fmin is None else frequency_hz(fmin, 'fmin'))
    hi = freqs[-1] if fmax is None else frequency_hz(fmax, 'fmax')
    if hi < lo:
        default = ', the default: the lowest nonzero frequency' if fmin is None else ''
        raise ValueError(f'`fmax` ({hi:g} Hz) must be >= `fmin` ({lo:g} Hz{default}).')
    inside = np.flatnonzero((freqs >= lo - 1e-9 * freqs[-1]) & (freqs <= hi + 1e-9 * freqs[-1]))
    if inside.size < 1:
        df = freqs[1] - freqs[0] if freqs.size > 1 else float('nan')
        raise ValueError(f'{what} [{lo:g}, {hi:g}] Hz contains no frequency of the spectrum (0 to {freqs[-1]:g} '
                         f'Hz in steps of {df:g} Hz); widen it or change nperseg / dt.')
    return slice(int(inside[0]), int(inside[-1]) + 1)


def _any_nan(p, axis):
    return jnp.any(jnp.isnan(p), axis=axis)


@jax.jit
def _parabolic_peak(p):
    """Fractional index of the maximum along axis -2, refined by a parabola through 3 bins of log power."""
    n = p.shape[-2]
    k = jnp.argmax(p, axis=-2)
    logp = jnp.log(jnp.maximum(p, jnp.finfo(p.dtype).tiny))
    take = lambda i: jnp.take_along_axis(logp, jnp.clip(i, 0, n - 1)[..., None, :], axis=-2)[..., 0, :]
    a, b, c = take(k - 1), take(k), take(k + 1)
    denom = a - 2.0 * b + c
    ok = (k > 0) & (k < n - 1) & (denom < 0)
    delta = jnp.where(ok, 0.5 * (a - c) / jnp.where(ok, denom, -1.0), 0.0)
    index = k.astype(p.dtype) + delta
    return jnp.where(_any_nan(p, -2), jnp.nan, index)


@jax.jit
def _softmax_peak(p, temperature):
    """Softmax-weighted mean index along axis -2, weights ``(p / max p) ** (1 / temperature)``."""
    tiny = jnp.finfo(p.dtype).tiny
    logp = jnp.log(jnp.maximum(p, tiny))
    w = jax.nn.softmax(logp / temperature, axis=-2)
    index = jnp.sum(w * jnp.arange(p.shape[-2], dtype=p.dtype)[:, None], axis=-2)
    return jnp.where(_any_nan(p, -2), jnp.nan, index)


def peak_indices(psd, method, temperature):
    """Fractional peak index along axis -2 of a PSD magnitude ``(..., F, N)``."""
    if method == 'parabolic':
        return _parabolic_peak(psd)
    return _softmax_peak(psd, temperature)


def check_peak_method(method, temperature):
    check_choice(method, _METHODS, 'method')
    if method == 'softmax':
        return single_number(temperature, 'temperature', kinds='a positive number', positive=True)
    return None


def peak_frequency(ts, dt, fmin=None, fmax=None, *, nperseg=None, noverlap=None, window='hann',
                   method='parabolic', temperature=0.1):
    r"""Frequency of the largest Welch-PSD value of each region, in ``[fmin, fmax]``.

    ``method='parabolic'`` (default): the bin :math:`k` of the maximum, refined
    by the vertex of the parabola through the log power of bins
    :math:`k-1, k, k+1` (:math:`L = \log P`; Gaussian interpolation, far less
    biased than a parabola through :math:`P` with a Hann window),

    .. math::  f = f_k + \frac{1}{2}\,\frac{L_{k-1} - L_{k+1}}{L_{k-1} - 2L_k + L_{k+1}}\,\Delta f

    (no refinement when :math:`k` is the first or last bin of the band). Its
    gradient with respect to ``ts`` is that of the refinement: it exists, but
    does not see peaks in other bins.

    ``method='softmax'``: a differentiable estimate that sees the whole band,
    the mean frequency weighted by :math:`\mathrm{softmax}(\log P / \tau)`,
    i.e. weights :math:`\propto P^{1/\tau}` (``temperature`` :math:`\tau`).
    Small :math:`\tau` approaches the bin of the maximum (no sub-bin
    refinement); larger :math:`\tau` pulls the estimate towards the centre of
    mass of the spectrum. Use it for gradient fitting.

    Parameters
    ----------
    ts, dt
        Time series ``(..., T, N)`` and sampling interval, as in :func:`welch_psd`.
    fmin, fmax : Quantity or float, optional
        The band searched (plain numbers: Hz). Default: from the lowest nonzero
        frequency (0 Hz is left out) to the Nyquist frequency.
    nperseg, noverlap, window
        Welch settings, as in :func:`welch_psd`.
    method : {'parabolic', 'softmax'}
    temperature : float
        :math:`\tau > 0` of ``method='softmax'`` (natural-log units of power).

    Returns
    -------
    Quantity, shape (..., N)
        In Hz; NaN for a region whose spectrum holds NaN.

    Examples
    --------
    >>> import brainunit as u
    >>> import numpy as np
    >>> from brainmass.analysis import peak_frequency
    >>> t = np.arange(4000) * 1e-3
    >>> x = np.stack([np.sin(2 * np.pi * 10.3 * t), np.sin(2 * np.pi * 22 * t)], axis=-1)
    >>> np.round(peak_frequency(x, 1 * u.ms, nperseg=1000).to_decimal(u.Hz), 1)
    Array([10.3, 22. ], dtype=float32)
    """
    temperature = check_peak_method(method, temperature)
    freqs, psd, _ = psd_arrays(ts, dt, nperseg, noverlap, window)
    band = band_slice(freqs, fmin, fmax, 'The band [fmin, fmax]')
    index = peak_indices(psd[..., band, :], method, temperature)
    return u.Quantity(freqs[band.start] + index * (freqs[1] - freqs[0]), unit=u.Hz)


def band_power(ts, dt, band=(8 * u.Hz, 12 * u.Hz), *, nperseg=None, noverlap=None, window='hann',
               relative=False):
    r"""Power of each region in a frequency band, from the Welch PSD.

    .. math::  P_\text{band} = \Delta f \sum_{f_k \in [f_\text{lo}, f_\text{hi}]} P(f_k)

    (the rectangle rule over the bins in the band, both edges included);
    ``relative=True`` divides by the same sum over all frequencies. Differentiable.

    Parameters
    ----------
    ts, dt
        Time series ``(..., T, N)`` and sampling interval, as in :func:`welch_psd`.
    band : (lo, hi)
        Band edges, Quantities or plain numbers of Hz (default alpha, 8-12 Hz).
        It must contain at least one frequency bin.
    nperseg, noverlap, window
        Welch settings, as in :func:`welch_psd`.
    relative : bool
        Return the fraction of the total power instead.

    Returns
    -------
    Quantity or jax.Array, shape (..., N)
        In (unit of ``ts``)\ :sup:`2` (a plain fraction when ``relative``).

    Examples
    --------
    >>> import brainunit as u
    >>> import numpy as np
    >>> from brainmass.analysis import band_power
    >>> t = np.arange(4000) * 1e-3
    >>> x = np.sin(2 * np.pi * 10 * t)[:, None]          # power 1/2
    >>> round(float(band_power(x, 1 * u.ms, (8, 12), nperseg=1000, relative=True)[0]), 3)
    1.0
    """
    relative = check_bool(relative, 'relative')
    if isinstance(band, (str, bytes)) or not hasattr(band, '__len__') or len(band) != 2:
        raise TypeError(f'`band` must be a pair (lo, hi) of frequencies, e.g. (8 * u.Hz, 12 * u.Hz); got {band!r}.')
    lo, hi = frequency_hz(band[0], 'band[0]'), frequency_hz(band[1], 'band[1]')
    if hi <= lo:
        raise ValueError(f'`band` must have lo < hi; got ({lo:g}, {hi:g}) Hz.')
    freqs, psd, unit = psd_arrays(ts, dt, nperseg, noverlap, window)
    sel = band_slice(freqs, lo, hi, '`band`')
    power = jnp.sum(psd[..., sel, :], axis=-2)
    if relative:
        return power / jnp.sum(psd, axis=-2)
    return u.Quantity(power * (freqs[1] - freqs[0]), unit=unit ** 2)


# ---------------------------------------------------------------------------- Hilbert

_TAN_PI_8 = 0.41421356237309503


@jax.custom_jvp
def _atan2_f32(y, x):
    """``arctan2`` for float32 with Cephes' ``atanf`` polynomial (error ~2e-7 rad, like XLA's, 10x faster on CPU)."""
    ax, ay = jnp.abs(x), jnp.abs(y)
    hi, lo = jnp.maximum(ax, ay), jnp.minimum(ax, ay)
    a = jnp.where(hi > 0, lo / jnp.where(hi > 0, hi, 1.0), 0.0)      # in [0, 1]
    big = a > _TAN_PI_8
    a = jnp.where(big, (a - 1.0) / (a + 1.0), a)                      # in [-tan(pi/8), tan(pi/8)]
    z = a * a
    r = (((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * a + a
    r = jnp.where(big, r + np.pi / 4, r)
    r = jnp.where(ay > ax, np.pi / 2 - r, r)
    r = jnp.where(x < 0, np.pi - r, r)
    return jnp.where(y < 0, -r, r).astype(y.dtype)


@_atan2_f32.defjvp
def _atan2_jvp(primals, tangents):
    y, x = primals
    dy, dx = tangents
    r2 = x * x + y * y
    ok = r2 > 0
    return _atan2_f32(y, x), jnp.where(ok, (x * dy - y * dx) / jnp.where(ok, r2, 1.0), 0.0)


def _angle(im, re):
    return _atan2_f32(im, re) if im.dtype == jnp.float32 else jnp.arctan2(im, re)


def analytic_parts(x):
    """Real and imaginary parts of ``scipy.signal.hilbert(x, axis=-2)``.

    The real part is ``x`` itself; the imaginary part, the Hilbert transform, is
    ``irfft(-i * X)`` with the 0 Hz and Nyquist bins removed (two real FFTs).
    """
    n = x.shape[-2]
    mask = np.ones(n // 2 + 1)
    mask[0] = 0.0
    if n % 2 == 0:
        mask[-1] = 0.0
    spec = jnp.fft.rfft(jnp.swapaxes(x, -1, -2), axis=-1)
    mask = jnp.asarray(mask, spec.real.dtype)
    spec = jax.lax.complex(spec.imag * mask, -spec.real * mask)   # -i * X
    return x, jnp.swapaxes(jnp.fft.irfft(spec, n=n, axis=-1), -1, -2).astype(x.dtype)


@jax.jit
def _hilbert_phase(x):
    re, im = analytic_parts(x)
    return _angle(im, re)


def hilbert_phase(ts):
    r"""Instantaneous phase of each region: the angle of the analytic signal.

    The analytic signal :math:`x + i\,\mathcal{H}[x]` is built with the FFT
    along the time axis (-2), exactly as ``scipy.signal.hilbert(ts, axis=-2)``:
    positive frequencies doubled, negative ones removed, no padding. The phase
    (radians, in :math:`(-\pi, \pi]`) is meaningful for narrow-band,
    zero-mean signals: remove the mean (and band-pass) first; the series is
    used as given. Differentiable; NaN propagates to the whole region.

    Parameters
    ----------
    ts : array_like or Quantity, shape (..., T, N)
        Time series, any leading batch axes. Units are stripped.

    Returns
    -------
    jax.Array, shape (..., T, N)

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.analysis import hilbert_phase
    >>> t = np.arange(1000) * 1e-3
    >>> x = np.cos(2 * np.pi * 5 * t)[:, None]            # 5 whole cycles
    >>> phase = hilbert_phase(x)
    >>> bool(np.allclose(np.cos(phase[:, 0]), x[:, 0], atol=1e-4))
    True
    """
    x, _ = series(ts, 'ts', min_time=1)
    return _hilbert_phase(x)
