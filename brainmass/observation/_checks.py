"""Time and parameter checks shared by the observation models (HRF kernels, HRFBold, BOLDSignal).

Time conventions: HRF kernels are functions of time in seconds (plain numbers are seconds);
simulation times (``dt``, ``period``, ``downsample_period``) follow the library, plain numbers
are milliseconds. Quantities are converted in both cases.
"""
from __future__ import annotations

import brainunit as u
import numpy as np

from .._core.units import is_traced, magnitude, to_unit
from .._core.validation import as_numeric

#: what a kernel / BOLD parameter may be, for TypeError messages
NUMBER_KINDS = 'a number, an array of numbers or a quantity'
#: tolerance when checking that one period is a multiple of another
REL_TOL = 1e-6


def as_time(value, name: str, plain_unit):
    """A time as a plain number in ``plain_unit`` (u.second or u.ms); ValueError for another quantity."""
    return to_unit(value, plain_unit, name, what='a time', example='4 * u.ms')


def as_rate(value, name):
    """A frequency as plain Hz (plain numbers are Hz); ValueError for another quantity."""
    return to_unit(value, u.Hz, name, what='a frequency', example='0.03 * u.Hz')


def seconds(value, name: str = 'time', plain: str = 'ms'):
    """A time as plain seconds; plain numbers are read as ``plain`` ('ms' or 's')."""
    if isinstance(value, u.Quantity):
        return as_time(value, name, u.second)
    return value / 1000. if plain == 'ms' else value


def period_ms(value, name: str) -> float:
    """A concrete, positive, finite period in ms (plain numbers are ms)."""
    return positive_time(value, name, u.ms)


def positive_time(value, name: str, plain_unit, owner=None) -> float:
    """A concrete, positive, finite scalar time as a float in ``plain_unit`` (plain numbers are in it)."""
    label = f'`{name}`' if owner is None else f'`{name}` of {owner}'
    plain = as_time(value, name, plain_unit)
    if is_traced(plain):
        raise ValueError(f'{label} must be a concrete time (it sets static shapes), not a traced value.')
    as_numeric(plain, name, owner, kinds='a number or a time quantity (e.g. 4 * u.ms)')
    arr = np.asarray(plain)
    if arr.ndim != 0:
        raise ValueError(f'{label} must be a single time (a scalar); got shape {arr.shape}.')
    t = float(arr)
    if not np.isfinite(t):
        raise ValueError(f'{label} must be finite; got {value!r}.')
    if not t > 0:
        raise ValueError(f'{label} must be > 0; got {value!r}.')
    return t


def check_range(value, name, owner, low=0., high=None, *, closed_low=False, why=''):
    """ValueError unless every entry of a concrete value lies in the range (``> low`` or ``>= low``,
    ``< high``), NaN included; traced values pass untouched (checked only where they are concrete)."""
    if is_traced(value):
        return value
    as_numeric(value, name, owner, kinds=NUMBER_KINDS)
    arr = np.asarray(magnitude(value), dtype=float)
    ok = arr >= low if closed_low else arr > low
    if high is not None:
        ok = ok & (arr < high)
    if arr.size and not np.all(ok):
        if high is None:
            rng = f'{">=" if closed_low else ">"} {low:g}'
        else:
            rng = f'in {"[" if closed_low else "("}{low:g}, {high:g})'
        shown = repr(float(arr)) if arr.ndim == 0 else np.array2string(arr, threshold=6, edgeitems=2)
        raise ValueError(f'`{name}` of {owner} must be {rng}{why}; got {shown}.')
    return value


def ratio(period_ms: float, step_ms: float, name: str, step_name: str) -> int:
    """``period / step`` as an int >= 1, or a ValueError naming both values."""
    n = period_ms / step_ms
    k = int(round(n))
    if k < 1 or abs(n - k) > REL_TOL * max(n, 1.):
        raise ValueError(f'`{name}` ({period_ms:g} ms) must be a positive integer multiple of '
                         f'`{step_name}` ({step_ms:g} ms); their ratio is {n:g}.')
    return k
