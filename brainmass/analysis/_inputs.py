"""Argument checks and conversions shared by the analysis functions.

Everything here runs in Python, before anything is compiled: shapes, sampling
intervals, window lengths and frequencies are static. Only the time series may
be traced (so the analysis functions work under ``jax.jit`` / ``jax.grad``).
"""
from __future__ import annotations

import numbers

import brainunit as u
import jax.numpy as jnp
import numpy as np

from .._core.units import is_traced, time_to_ms, unit_name
from .._core.validation import as_numeric, check_int_at_least, short_repr, single_number

__all__ = ['series', 'sampling_interval', 'samples', 'frequency_hz', 'window_starts']

SERIES_KINDS = 'an array of shape (..., T, N) (time axis -2, regions last) or a Quantity'
TIME_KINDS = 'a time (e.g. 0.1 * u.ms) or a number of milliseconds'


def series(x, name: str = 'ts', min_time: int = 1, min_regions: int = 1):
    """The magnitude of a ``(..., T, N)`` series as a floating JAX array, and its unit.

    Integer and bool arrays become the default float dtype. Raises TypeError for
    non-numbers and complex values, ValueError for fewer than 2 dimensions or
    fewer than ``min_time`` samples / ``min_regions`` regions.
    """
    x = as_numeric(x, name, kinds=SERIES_KINDS)
    unit = u.get_unit(x)
    arr = jnp.asarray(u.get_magnitude(x))
    if not jnp.issubdtype(arr.dtype, jnp.floating):
        arr = arr.astype(jnp.result_type(float))
    if arr.ndim < 2:
        raise ValueError(f'`{name}` must have shape (..., T, N) (time axis -2, regions last); got shape '
                         f'{arr.shape}. For one region use x[:, None].')
    n_time, n_regions = arr.shape[-2:]
    if n_time < min_time:
        raise ValueError(f'`{name}` needs at least {min_time} samples along the time axis (-2); '
                         f'got shape {arr.shape}.')
    if n_regions < min_regions:
        raise ValueError(f'`{name}` needs at least {min_regions} regions (last axis); got shape {arr.shape}.')
    return arr, unit


def sampling_interval(dt, name: str = 'dt') -> float:
    """``dt`` (a time Quantity, or a plain number of milliseconds) in seconds, as a float."""
    if isinstance(dt, (bool, np.bool_)) or dt is None or isinstance(dt, (str, bytes)):
        raise TypeError(f'`{name}` must be {TIME_KINDS}; got {short_repr(dt)}.')
    if is_traced(dt):
        raise TypeError(f'`{name}` must be a concrete value (it sets the frequency grid); got a traced value.')
    ms = time_to_ms(dt, name)
    return single_number(ms, name, kinds=TIME_KINDS, unit='ms', positive=True) / 1000.0


def samples(value, name: str, dt_s: float | None, minimum: int, dt_name: str = 'dt') -> int:
    """A length given as an int number of samples or as a time Quantity (with ``dt``).

    A time must be a whole number of samples (to 1e-6); ``dt_s`` is the sampling
    interval in seconds (None when no ``dt`` was given).
    """
    if not isinstance(value, u.Quantity):
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral, np.integer)):
            raise TypeError(f'`{name}` must be an int number of samples or a time Quantity (e.g. 2 * u.second); '
                            f'got {value!r}.')
        return check_int_at_least(value, minimum, name)
    if not u.get_unit(value).has_same_dim(u.second):
        raise TypeError(f'`{name}` must be an int number of samples or a time Quantity; got a quantity in '
                        f'{unit_name(value)}.')
    if dt_s is None:
        raise ValueError(f'`{name}` is a time ({value}); give `{dt_name}` too, to convert it to samples.')
    seconds = single_number(u.get_magnitude(value.to(u.second)), name, kinds=TIME_KINDS)
    n = seconds / dt_s
    if abs(n - round(n)) > 1e-6 * max(1.0, abs(n)):
        raise ValueError(f'`{name}` = {value} is {n:.6g} samples of {dt_name} = {dt_s * 1e3:g} ms, not a whole '
                         f'number; give an int number of samples (e.g. {max(round(n), minimum)}) or a multiple '
                         f'of {dt_name}.')
    return check_int_at_least(int(round(n)), minimum, f'{name} (in samples)')


def segments(n_time: int, dt_s, nperseg, noverlap, default: int, series: str) -> tuple:
    """``(nperseg, noverlap)`` in samples for segments of a ``series`` of ``n_time`` samples.

    ``nperseg`` / ``noverlap``: ints or times (None: ``default`` samples, half overlap); a
    segment longer than the series, or an overlap not shorter than it, is a ValueError.
    """
    n = default if nperseg is None else samples(nperseg, 'nperseg', dt_s, 2)
    if n > n_time:
        raise ValueError(f'`nperseg` = {n} samples is longer than `{series}` (T = {n_time} samples).')
    overlap = n // 2 if noverlap is None else samples(noverlap, 'noverlap', dt_s, 0)
    if overlap >= n:
        raise ValueError(f'`noverlap` must be smaller than `nperseg` = {n}; got {overlap}.')
    return n, overlap


def frequency_hz(value, name: str) -> float:
    """A frequency (a Quantity in Hz-compatible units, or a plain number of Hz) as a float >= 0."""
    kinds = 'a frequency (e.g. 8 * u.Hz) or a number of Hz'
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f'`{name}` must be {kinds}; got {value!r}.')
    if isinstance(value, u.Quantity):
        if not u.get_unit(value).has_same_dim(u.Hz):
            raise TypeError(f'`{name}` must be {kinds}; got a quantity in {unit_name(value)}.')
        value = u.get_magnitude(value.to(u.Hz))
    return single_number(value, name, kinds=kinds, unit='Hz', nonnegative=True)


def window_starts(n_time: int, window: int, step: int, name: str = 'ts', minimum: int = 2) -> np.ndarray:
    """Start indices ``0, step, 2 step, ... <= T - window`` (static); at least ``minimum`` windows."""
    if window > n_time:
        raise ValueError(f'`window_size` = {window} samples is longer than `{name}` (T = {n_time} samples).')
    starts = np.arange(0, n_time - window + 1, step)
    if starts.size < minimum:
        raise ValueError(f'`{name}` (T = {n_time}) gives {starts.size} window(s) of {window} samples with step '
                         f'{step}; at least {minimum} are needed. Use a longer series or a smaller window/step.')
    return starts

