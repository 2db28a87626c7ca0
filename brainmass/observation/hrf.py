r"""Haemodynamic response kernels and the convolution BOLD monitor.

The linear route from neural activity :math:`s(t)` to BOLD:

.. math::

    y(t) = k_1 V_0 \int_0^{L} h(\tau)\, \bar s(t - \tau)\, d\tau ,

where :math:`\bar s` is the activity averaged over short windows
(:class:`TemporalAverage`), :math:`h` an HRF kernel (:class:`HRFKernel`) and
:math:`L` the kernel's support. :class:`HRFBold` evaluates the integral as a
Riemann sum on the averaged grid, so its amplitude does not depend on the
averaging window.

Time conventions
----------------
* HRF kernels are functions of time in **seconds** (the natural unit of
  haemodynamics): plain numbers are seconds, quantities are converted.
* Simulation times (``dt``, ``period``, ``downsample_period``) follow the
  library convention: plain numbers are **milliseconds**, quantities are
  converted.

The kernels are defined in :mod:`brainmass.observation.hrf_kernels` and
importable from here.
"""
from __future__ import annotations

import functools
from typing import Optional

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.units import magnitude
from .._core.validation import as_numeric, check_choice
from ._checks import NUMBER_KINDS, REL_TOL, period_ms, positive_time, ratio
from .hrf_kernels import (DoubleExponentialHRFKernel, FirstOrderVolterraHRFKernel, GammaHRFKernel, HRFKernel,
                          MixtureOfGammasHRFKernel)

__all__ = ['HRFKernel', 'FirstOrderVolterraHRFKernel', 'GammaHRFKernel',
           'DoubleExponentialHRFKernel', 'MixtureOfGammasHRFKernel',
           'TemporalAverage', 'HRFBold']


# --------------------------------------------------------------- temporal average
class TemporalAverage:
    r"""Means over consecutive, non-overlapping windows of length ``period``.

    .. math::

        \bar s_m = \frac{1}{n} \sum_{i=mn}^{(m+1)n - 1} s_i, \qquad n = \frac{\text{period}}{dt} .

    ``(signal, dt) -> averages``: ``signal`` has time on its first axis
    (``(T,)``, ``(T, N)``, ...); the result has ``T // n`` rows (a trailing
    partial window is dropped) and keeps the signal's unit.

    ==========  =======  =====  ==================================================
    parameter   default  unit   meaning
    ==========  =======  =====  ==================================================
    period      4        ms     window length (plain numbers are ms)
    arg_name    'period' -      keyword only: the argument named in error messages
                                (HRFBold passes 'downsample_period')
    ==========  =======  =====  ==================================================

    Raises ``ValueError`` when ``period`` is not positive, when it is not an
    integer multiple of ``dt`` (relative tolerance 1e-6; the message names both
    values) or when the signal is shorter than one window.

    Examples
    --------
    >>> import jax.numpy as jnp, brainunit as u
    >>> from brainmass.observation import TemporalAverage
    >>> TemporalAverage(0.3 * u.ms)(jnp.arange(7.), 0.1 * u.ms)
    Array([1., 4.], dtype=float32)
    """

    def __init__(self, period=4. * u.ms, *, arg_name='period'):
        self._name = arg_name  # the argument that set the window (HRFBold's downsample_period), for errors
        self.period_ms = period_ms(period, arg_name)

    def window(self, dt) -> int:
        """Number of ``dt`` steps in one window."""
        return ratio(self.period_ms, period_ms(dt, 'dt'), self._name, 'dt')

    def __call__(self, signal, dt):
        n = self.window(dt)
        shape = u.math.shape(signal)
        if len(shape) == 0:
            raise ValueError('`signal` must have time on its first axis: shape (T,), (T, N), ...; got a scalar.')
        T = shape[0]
        m = T // n
        if m == 0:
            raise ValueError(f'the signal has {T} steps, fewer than one averaging window of {n} steps '
                             f'({self._name} {self.period_ms:g} ms).')
        windows = u.math.reshape(signal[:m * n], (m, n) + tuple(u.math.shape(signal)[1:]))
        values = u.get_magnitude(windows)
        if isinstance(values, np.ndarray) and values.dtype.kind == 'f':
            # numpy adds a strided axis one value at a time: accumulate in float64 (a float32 window of
            # 40,000 steps was 5e-5 off), return the input's dtype
            mean = np.mean(values, axis=1, dtype=np.float64).astype(values.dtype)
            return mean * u.get_unit(windows) if isinstance(windows, u.Quantity) else mean
        return u.math.mean(windows, axis=1)

    def __repr__(self):
        return f'TemporalAverage(period={self.period_ms:g} ms)'


# ------------------------------------------------------------------ HRF BOLD
def _conv_full(x, h, method):
    """Causal full convolution of every column of ``x`` (L, N) with ``h`` (K,)."""
    L, K = x.shape[0], h.shape[0]
    if method == 'direct':
        conv = lambda col: jnp.convolve(col, h, mode='full', precision=jax.lax.Precision.HIGHEST)
        return jax.vmap(conv, in_axes=1, out_axes=1)(x)
    n = L + K - 1
    nfft = 1 << (n - 1).bit_length()
    spec = jnp.fft.rfft(x, nfft, axis=0) * jnp.fft.rfft(h, nfft)[:, None]
    return jnp.fft.irfft(spec, nfft, axis=0)[:n]


def _window_means(x, window):
    m = x.shape[0] // window
    return jnp.mean(x[:m * window].reshape((m, window) + x.shape[1:]), axis=1)


@functools.partial(jax.jit, static_argnames=('window', 'start', 'end', 'step', 'first', 'method'))
def _pipeline(x, hist, h, *, window, start, end, step, first, method):
    """Average, prepend history, convolve, keep ``[start:end]``, sample every ``step``."""
    xbar = _window_means(x, window)
    if hist is not None and hist.shape[0]:
        xbar = jnp.concatenate([_window_means(hist, window), xbar], axis=0)
    full = _conv_full(xbar, h.astype(xbar.dtype), method)
    return full[start:end][first::step]


class HRFBold:
    r"""BOLD by convolution with an HRF kernel, sampled every ``period``.

    ``(signal, dt) -> bold``. The pipeline:

    1. optional ``history`` (past signal, same ``dt``) is prepended as the
       signal's past;
    2. :class:`TemporalAverage` over ``downsample_period`` windows
       (:math:`\Delta` seconds each) gives :math:`\bar s_m`;
    3. the kernel is sampled at :math:`h_j = h(j\Delta)`,
       :math:`j = 0..K-1`, :math:`K = \mathrm{round}(L/\Delta)` over its
       support :math:`L` (``hrf_length``, default the kernel's ``duration``);
    4. a causal convolution, scaled by the sample spacing (a Riemann sum of
       the continuous convolution, so the amplitude does **not** depend on
       ``downsample_period``):

       .. math::

           y_m = k_1 V_0\, \Delta \sum_{j=0}^{K-1} h_j\, \bar s_{m-j} ;

    5. samples at whole multiples of ``period`` after the signal's start.

    :math:`y_m` is the BOLD at the end of averaging window :math:`m`. The
    signal before its start (and after its end, for ``'full'``) is zero
    unless ``history`` gives it. ``convolution_mode``:

    * ``'valid'``: only times whose whole kernel support lies inside
      history + signal (drops the first :math:`L` s when there is no history);
    * ``'same'``: one value per averaging window of the signal, aligned with
      it (causal; unlike ``numpy``'s centred ``'same'``);
    * ``'full'``: as ``'same'`` plus the :math:`L` s decay after the end.

    :meth:`sample_times` gives the time of every output sample. The signal
    may be ``(T,)`` or ``(T, N)`` and may carry a unit, which is stripped:
    the result is a plain, dimensionless array (``(S,)`` or ``(S, N)``)
    whose scale is :math:`k_1 V_0` times the kernel's integral times the
    signal's magnitude. With :class:`FirstOrderVolterraHRFKernel` (the
    default kernel; integral :math:`\tau_f/3`) a constant unit signal
    gives :math:`k_1 V_0 \tau_f / 3 \approx 0.0149`. To get the bare
    convolution set ``k_1=1, V_0=1``. Unlike TVB's Bold monitor no ``-1``
    offset is subtracted for the Volterra kernel: zero activity gives zero
    BOLD.

    ``method='fft'`` (default) and ``'direct'`` give the same result (to
    float round-off); both use only ``jax.numpy``, have static shapes, and
    are differentiable and jit-safe (``dt`` and periods must be concrete).

    ==================  ==================  =====  ==========================================
    parameter           default             unit   meaning
    ==================  ==================  =====  ==========================================
    k_1                 5.6                 -      read-out coefficient
    V_0                 0.02                -      resting blood volume fraction
    period              1000 ms             ms     output sampling period (TR)
    downsample_period   4 ms                ms     averaging window :math:`\Delta`
    kernel              Volterra            -      an :class:`HRFKernel`
    convolution_mode    'valid'             -      'valid', 'same' or 'full'
    method              'fft'               -      'fft' or 'direct'
    history             None                -      past signal, (H,) or (H, N), same dt
    hrf_length          kernel.duration     s      kernel support :math:`L`
    ==================  ==================  =====  ==========================================

    References
    ----------
    Sanz Leon, P. et al. (2013). The Virtual Brain: a simulator of primate
    brain network dynamics. *Front. Neuroinform.* 7, 10 (Bold monitor).
    Friston, K. J. et al. (2000). *NeuroImage* 12, 466-477.

    Examples
    --------
    >>> import jax.numpy as jnp, brainunit as u
    >>> from brainmass.observation import HRFBold
    >>> monitor = HRFBold(period=500 * u.ms, downsample_period=4 * u.ms)
    >>> bold = monitor(jnp.ones((30_000, 2)), 1 * u.ms)     # 30 s of a constant signal
    >>> bold.shape                   # samples at 20, 20.5, ..., 30 s ('valid': 20 s kernel)
    (21, 2)
    """

    def __init__(self, k_1=5.6, V_0=0.02, period=1000. * u.ms, downsample_period=4. * u.ms,
                 kernel: Optional[HRFKernel] = None, convolution_mode='valid', method='fft',
                 history=None, *, hrf_length=None):
        self.k_1 = as_numeric(k_1, 'k_1', 'HRFBold', kinds=NUMBER_KINDS)
        self.V_0 = as_numeric(V_0, 'V_0', 'HRFBold', kinds=NUMBER_KINDS)
        self.period_ms = period_ms(period, 'period')
        self.average = TemporalAverage(downsample_period, arg_name='downsample_period')
        if self.average.period_ms > self.period_ms * (1. + REL_TOL):
            raise ValueError(f'`downsample_period` ({self.average.period_ms:g} ms) must not be longer than '
                             f'`period` ({self.period_ms:g} ms): the output is sampled every period from '
                             f'averages over downsample_period windows.')
        self.kernel = FirstOrderVolterraHRFKernel() if kernel is None else kernel
        if not isinstance(self.kernel, HRFKernel):
            raise TypeError(f'`kernel` must be an HRFKernel (e.g. MixtureOfGammasHRFKernel()); '
                            f'got {type(kernel).__name__}.')
        self.convolution_mode = check_choice(convolution_mode, ('valid', 'same', 'full'),
                                             'convolution_mode')
        self.method = check_choice(method, ('fft', 'direct'), 'method')
        self.history = history
        length = self.kernel.duration if hrf_length is None else hrf_length
        self.hrf_length_s = positive_time(length, 'hrf_length', u.second, 'HRFBold')
        self.step = ratio(self.period_ms, self.average.period_ms, 'period', 'downsample_period')
        self.n_kernel = max(int(round(self.hrf_length_s * 1000. / self.average.period_ms)), 1)

    @property
    def downsample_s(self) -> float:
        return self.average.period_ms / 1000.

    # -- layout (static, Python ints)
    def _layout(self, n_signal, n_history):
        """(first window index, end index) of the kept outputs in the full convolution."""
        K = self.n_kernel
        if self.convolution_mode == 'valid':
            start, end = max(n_history, K - 1), n_history + n_signal
            if end <= start:
                raise ValueError(f"convolution_mode='valid' needs history + signal of at least the "
                                 f'kernel support ({self.hrf_length_s:g} s = {K} windows of '
                                 f'{self.average.period_ms:g} ms); got {n_history + n_signal} windows. '
                                 f"Give a longer signal, a `history`, or use 'same'.")
        elif self.convolution_mode == 'same':
            start, end = n_history, n_history + n_signal
        else:
            start, end = n_history, n_history + n_signal + K - 1
        return start, end

    def _first_sample(self, offset):
        """Index of the first kept output whose end time is a multiple of ``period``."""
        return (self.step - (offset + 1) % self.step) % self.step

    def sample_times(self, n_steps, dt, history_steps=None):
        """Times (a quantity in ms, from the signal's start) of the output samples of a signal of ``n_steps``.

        ``history_steps``: the steps of history before the signal; None (the default) takes those of
        the ``history`` given to the constructor (0 without one), as a call without ``history`` does.
        """
        if history_steps is None:
            history_steps = 0 if self.history is None else int(np.shape(magnitude(self.history))[0])
        n_win = n_steps // self.average.window(dt)
        n_hist = history_steps // self.average.window(dt) if history_steps else 0
        start, end = self._layout(n_win, n_hist)
        offset = start - n_hist
        first = self._first_sample(offset)
        idx = np.arange(first, end - start, self.step)
        return (offset + idx + 1) * self.average.period_ms * u.ms

    # -- evaluation
    def __call__(self, signal, dt, history=None):
        history = self.history if history is None else history
        x, squeeze = self._prepare(signal)
        n = self.average.window(dt)
        if x.shape[0] < n:
            raise ValueError(f'the signal has {x.shape[0]} steps, fewer than one averaging window of '
                             f'{n} steps (downsample_period {self.average.period_ms:g} ms).')
        hist = None if history is None else self._prepare_history(history, n, x.shape[1:])
        n_hist = 0 if hist is None else hist.shape[0] // n
        start, end = self._layout(x.shape[0] // n, n_hist)
        h = self.kernel.sample(self.downsample_s, self.n_kernel)
        kept = _pipeline(x, hist, h, window=n, start=start, end=end, step=self.step,
                         first=self._first_sample(start - n_hist), method=self.method)
        y = self.k_1 * self.V_0 * self.downsample_s * kept
        return y[:, 0] if squeeze else y

    @staticmethod
    def _prepare(signal):
        x = jnp.asarray(magnitude(signal))
        if x.ndim not in (1, 2):
            raise ValueError(f'`signal` must have shape (T,) or (T, N); got {x.shape}.')
        x = x.astype(jnp.result_type(float, x.dtype))
        return (x[:, None], True) if x.ndim == 1 else (x, False)

    @staticmethod
    def _prepare_history(history, window, tail):
        hist = jnp.asarray(magnitude(history))
        hist = hist[:, None] if hist.ndim == 1 else hist
        if hist.shape[1:] != tail:
            raise ValueError(f'`history` must have shape (H,) + {tail}; got {hist.shape}.')
        m = hist.shape[0] // window
        hist = hist[hist.shape[0] - m * window:]        # drop the oldest partial window
        return hist.astype(jnp.result_type(float, hist.dtype))

    def __repr__(self):
        return (f'HRFBold(k_1={self.k_1}, V_0={self.V_0}, period={self.period_ms:g} ms, '
                f'downsample_period={self.average.period_ms:g} ms, kernel={self.kernel!r}, '
                f'convolution_mode={self.convolution_mode!r}, method={self.method!r})')
