r"""Objective builders on spectral features: a log-PSD distance and a peak-frequency match.

Each builder checks its settings when called and returns a pure
``f(prediction, target) -> scalar`` (a plain number, a loss: lower is better)
that works under ``jax.jit`` and ``jax.grad``. ``prediction`` and ``target``
are ``(..., T, N)`` series (time axis -2, regions last) with the same ``N``;
their numbers of samples may differ (the spectra are compared, on the grid
``nperseg`` sets), and leading batch axes broadcast. A target in another unit
is converted to the prediction's unit; incompatible units raise ValueError.
The callables carry the attributes :class:`~brainmass.Fitter` reads:
``higher_is_better = False``, ``time_flexible = True``,
``target_kind = 'timeseries'`` and ``validate_target`` (a concrete target must
be finite).
"""
from __future__ import annotations

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.units import unit_phrase
from .._core.validation import check_values, numeric_magnitude, single_number
from ._inputs import frequency_hz, sampling_interval
from ._numerics import rms
from .spectral import band_slice, psd_arrays, check_peak_method, peak_indices

__all__ = ['log_psd_distance', 'peak_frequency_match']


def _validate_target(target):
    arr = numeric_magnitude(target, '`target`', 'an array (..., T, N) or a Quantity')
    if arr is not None:
        check_values(arr, 'target')


def _objective(f, name):
    f.__name__ = f.__qualname__ = name
    f.higher_is_better = False
    f.time_flexible = True
    f.target_kind = 'timeseries'
    f.validate_target = _validate_target
    return f


def _check_settings(dt, fmin, fmax):
    sampling_interval(dt)
    for value, name in ((fmin, 'fmin'), (fmax, 'fmax')):
        if value is not None:
            frequency_hz(value, name)


def _spectra(prediction, target, dt, fmin, fmax, welch):
    """Band-limited PSD magnitudes of both (the target's in the prediction's unit) and the bin width in Hz."""
    fp, pp, unit_p = psd_arrays(prediction, dt, *welch)
    ft, pt, unit_t = psd_arrays(target, dt, *welch)
    if fp.shape != ft.shape:
        raise ValueError(f'prediction and target give different frequency grids ({fp.size} and {ft.size} bins): '
                         f'with nperseg=None a series shorter than 256 samples sets nperseg to its length; '
                         f'give nperseg explicitly.')
    try:
        np.broadcast_shapes(pp.shape, pt.shape)
    except ValueError:
        raise ValueError(f'prediction and target must have the same number of regions N and broadcastable batch '
                         f'axes; got spectra of shapes {pp.shape} and {pt.shape} (from the series '
                         f'{np.shape(u.get_magnitude(prediction))} and {np.shape(u.get_magnitude(target))}).') from None
    if not unit_t.has_same_dim(unit_p):
        raise ValueError(f'`target` is {unit_phrase(unit_t)} but `prediction` is {unit_phrase(unit_p)}: their '
                         f'units are incompatible.')
    factor = 1.0 if unit_t.is_unitless else float((1.0 * unit_t).to_decimal(unit_p))
    band = band_slice(fp, fmin, fmax, 'The band [fmin, fmax]')
    return pp[..., band, :], pt[..., band, :] * factor ** 2, float(fp[1] - fp[0])


def _log10_floored(p, floor):
    level = jax.lax.stop_gradient(jnp.mean(p, axis=-2, keepdims=True))
    return jnp.log10(p + floor * level + jnp.finfo(p.dtype).tiny)


def log_psd_distance(dt, fmin=None, fmax=None, *, nperseg=None, noverlap=None, window='hann', floor=1e-10):
    r"""Build a root-mean-square distance between log10 Welch spectra.

    .. math::  d = \sqrt{\operatorname{mean}_{k, j}\big(\log_{10} \tilde P^{p}_{kj}
               - \log_{10} \tilde P^{t}_{kj}\big)^2},
               \qquad \tilde P = P + \epsilon\,\langle P \rangle_k + \text{tiny}

    over the frequencies :math:`f_k \in [f_\text{min}, f_\text{max}]`, the
    regions :math:`j` (and batch members). :math:`P` is :func:`welch_psd`; the
    floor (:math:`\epsilon` = ``floor`` times each region's mean in-band power,
    plus the smallest normal float) keeps a bin of zero power finite. Scaling
    both series by the same factor leaves ``d`` unchanged; :math:`d = 1` is one
    decade of mismatch on average.

    Parameters
    ----------
    dt : Quantity or float
        Sampling interval of both series (plain numbers: ms).
    fmin, fmax : Quantity or float, optional
        The band compared (plain numbers: Hz). Default: the lowest nonzero
        frequency (0 Hz left out) to the Nyquist frequency.
    nperseg, noverlap, window
        Welch settings, as in :func:`welch_psd` (give ``nperseg`` when the two
        series have different lengths below 256 samples).
    floor : float
        :math:`\epsilon > 0`, relative to the mean in-band power.

    Returns
    -------
    callable
        ``f(prediction, target)`` -> a scalar ``jax.Array`` (decades).

    Examples
    --------
    >>> import brainunit as u
    >>> import numpy as np
    >>> from brainmass.analysis import log_psd_distance
    >>> x = np.random.default_rng(0).normal(size=(2000, 2))
    >>> loss = log_psd_distance(1 * u.ms, 1 * u.Hz, 100 * u.Hz, nperseg=500)
    >>> float(loss(x, x)), round(float(loss(10 * x, x)), 3), loss.higher_is_better
    (0.0, 2.0, False)
    """
    _check_settings(dt, fmin, fmax)
    floor = single_number(floor, 'floor', kinds='a positive number', positive=True)
    welch = (nperseg, noverlap, window)

    def distance(prediction, target):
        pp, pt, _ = _spectra(prediction, target, dt, fmin, fmax, welch)
        return rms(_log10_floored(pp, floor) - _log10_floored(pt, floor))

    return _objective(distance, 'log_psd_distance')


def peak_frequency_match(dt, fmin=None, fmax=None, *, nperseg=None, noverlap=None, window='hann',
                         method='parabolic', temperature=0.1):
    r"""Build a root-mean-square difference of peak frequencies, in Hz.

    .. math::  d = \sqrt{\operatorname{mean}_j \big(f^{p}_j - f^{t}_j\big)^2}

    with :math:`f_j` the :func:`peak_frequency` of region :math:`j` (and batch
    member) in ``[fmin, fmax]``. For gradient fitting use
    ``method='softmax'``: the parabolic peak only moves within its bin.

    Parameters
    ----------
    dt : Quantity or float
        Sampling interval of both series (plain numbers: ms).
    fmin, fmax : Quantity or float, optional
        The band searched (plain numbers: Hz); default as in :func:`peak_frequency`.
    nperseg, noverlap, window
        Welch settings, as in :func:`welch_psd`.
    method : {'parabolic', 'softmax'}
    temperature : float
        The softmax temperature, as in :func:`peak_frequency`.

    Returns
    -------
    callable
        ``f(prediction, target)`` -> a scalar ``jax.Array``, in Hz (a plain number).

    Examples
    --------
    >>> import brainunit as u
    >>> import numpy as np
    >>> from brainmass.analysis import peak_frequency_match
    >>> t = np.arange(4000)[:, None] * 1e-3
    >>> loss = peak_frequency_match(1 * u.ms, 2 * u.Hz, 40 * u.Hz, nperseg=1000)
    >>> round(float(loss(np.sin(2 * np.pi * 12 * t), np.sin(2 * np.pi * 10 * t))), 2)
    2.0
    """
    _check_settings(dt, fmin, fmax)
    temperature = check_peak_method(method, temperature)
    welch = (nperseg, noverlap, window)

    def match(prediction, target):
        pp, pt, df = _spectra(prediction, target, dt, fmin, fmax, welch)
        return rms((peak_indices(pp, method, temperature) - peak_indices(pt, method, temperature)) * df)

    return _objective(match, 'peak_frequency_match')
