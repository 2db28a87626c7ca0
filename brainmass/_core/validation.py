"""One place for argument checks that raise clear errors before any compile."""
from __future__ import annotations

import numbers
from typing import Iterable

import brainstate
import brainunit as u
import numpy as np

from .units import is_traced

__all__ = ['check_in_size', 'check_choice', 'check_int_at_least',
           'format_choices', 'as_numeric', 'check_values', 'check_fits_shape',
           'check_bool', 'broadcasts_to', 'short_repr', 'numeric_magnitude', 'checked_param',
           'single_number', 'Default']


class Default(float):
    """A number used as an argument's default that remembers it was not given.

    ``isinstance(k, Default)`` tells an argument left at its default from the same number
    passed explicitly; it is a ``float`` (its repr is the number's, so signatures read as usual).

    Examples
    --------
    >>> from brainmass._core.validation import Default
    >>> def f(k=Default(1.0)):
    ...     return 'default' if isinstance(k, Default) else 'given'
    >>> f(), f(1.0), Default(1.0)
    ('default', 'given', 1.0)
    """

    __slots__ = ()


def format_choices(choices: Iterable[str]) -> str:
    return ', '.join(repr(c) for c in choices)


def check_in_size(in_size) -> tuple:
    """Validate ``in_size`` (an int >= 1 or a tuple of them) and return a tuple."""
    sizes = in_size if isinstance(in_size, (tuple, list)) else (in_size,)
    if len(sizes) == 0:
        raise ValueError('`in_size` must be a positive int or a non-empty tuple of positive ints; got ().')
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (numbers.Integral, np.integer)):
            raise TypeError(f'`in_size` must be a positive int or a tuple of positive ints; got {in_size!r}.')
        if s < 1:
            raise ValueError(f'`in_size` must be >= 1 in every dimension; got {in_size!r}.')
    return tuple(int(s) for s in sizes)


def check_choice(value, choices, name: str):
    """Raise ValueError listing the choices when ``value`` is not one of them."""
    if value not in choices:
        raise ValueError(f'Unknown `{name}` {value!r}; choose one of: {format_choices(choices)}.')
    return value


def check_int_at_least(value, minimum: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f'`{name}` must be an int >= {minimum}; got {value!r}.')
    if value < minimum:
        raise ValueError(f'`{name}` must be >= {minimum}; got {value}.')
    return int(value)


# ---------------------------------------------------------------- parameter values
# Helpers for model / noise parameters. They run once, in Python, at construction and
# only look at *concrete* values: a JAX tracer, or a trainable brainstate.nn.Param (whose
# value a transform keeps in range and a fit may change), passes untouched.

#: what a parameter may be, for TypeError messages
PARAM_KINDS = 'a number, a list or array of numbers, a Quantity or a brainstate.nn.Param'
#: what an initial value may be
INIT_KINDS = 'a number, a list or array of numbers, a Quantity or an initializer (e.g. braintools.init.Uniform)'


def _label(name: str, owner=None) -> str:
    return f'`{name}`' if owner is None else f'`{name}` of {owner}'


def describe(value, unit: str = '') -> str:
    """A short text of a value for error messages (first entries of large arrays)."""
    arr = np.asarray(value)
    text = ' '.join(np.array2string(arr, threshold=6, edgeitems=2, precision=6).split()) if arr.ndim \
        else repr(arr.item())
    return f'{text} {unit}'.rstrip() if unit else text


def as_numeric(value, name: str, owner=None, kinds: str = PARAM_KINDS):
    """Convert lists / tuples of numbers (or quantities) to an array; reject non-numbers.

    Raises TypeError naming the argument for None, strings, complex numbers and other
    objects that are not numbers. Arrays, quantities and tracers pass unchanged.
    """
    if isinstance(value, (list, tuple)):
        try:
            value = u.math.asarray(value)
        except Exception as err:  # ragged, mixed units, strings, ...
            raise TypeError(f'{_label(name, owner)} must be {kinds}; got a {type(value).__name__} '
                            f'that is not an array of numbers.') from err
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f'{_label(name, owner)} must be {kinds}; got {value!r}.')
    mantissa = u.get_mantissa(value) if isinstance(value, u.Quantity) else value
    dtype = getattr(mantissa, 'dtype', None)
    if dtype is None:
        if not isinstance(mantissa, numbers.Real):
            if isinstance(mantissa, numbers.Number):
                raise TypeError(f'{_label(name, owner)} must be real; got {value!r}.')
            raise TypeError(f'{_label(name, owner)} must be {kinds}; got {type(value).__name__}.')
        return value
    kind = np.dtype(dtype).kind
    if kind == 'c':
        raise TypeError(f'{_label(name, owner)} must be real; got a complex array.')
    if kind not in 'biuf':
        raise TypeError(f'{_label(name, owner)} must be {kinds}; got an array of dtype {dtype}.')
    return value


def check_values(value, name: str, owner=None, *, unit: str = '', positive: bool = False,
                 nonnegative: bool = False, allow_inf: bool = False):
    """Raise ValueError when a concrete (plain) value has NaN/inf or the wrong sign.

    ``positive``: every entry > 0 (time constants, rate constants); ``nonnegative``:
    every entry >= 0. ``unit`` only labels the value in the message. Tracers pass.
    """
    if is_traced(value):
        return value
    arr = np.asarray(u.get_magnitude(value))
    if arr.dtype.kind not in 'biuf' or arr.size == 0:
        return value
    arr = arr.astype(float)
    for bad, what in ((np.isnan(arr) if allow_inf else ~np.isfinite(arr), 'not NaN' if allow_inf else 'finite'),
                      (~(arr > 0) if positive else None, 'positive (> 0)'),
                      (~(arr >= 0) if nonnegative else None, '>= 0')):
        if bad is not None and np.any(bad):
            raise ValueError(f'{_label(name, owner)} must be {what}; got {_offending(arr, bad, unit)}.')
    return value


def single_number(value, name: str, owner=None, *, kinds: str, unit: str = '', **checks) -> float:
    """A single real, finite number (a magnitude already in its unit) as a float.

    TypeError for non-numbers, ValueError for arrays and for values that fail
    :func:`check_values` (``checks``: ``positive``, ``nonnegative``); both name the argument.
    """
    value = as_numeric(value, name, owner, kinds=kinds)
    if np.ndim(value) != 0:
        raise ValueError(f'{_label(name, owner)} must be a single value; got shape {np.shape(value)}.')
    check_values(value, name, owner, unit=unit, **checks)
    return float(np.asarray(value))


def _offending(arr, bad, unit):
    """The value (small arrays) or its first offending entry and index (large arrays)."""
    if arr.size <= 6:
        return describe(arr, unit)
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return f'{describe(arr[index], unit)} at index {index}'


def short_repr(value) -> str:
    """``repr(value)`` cut to 60 characters, with the type: ``'1' (str)``."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + '...'
    return f'{text} ({type(value).__name__})'


def numeric_magnitude(value, label: str, expected: str):
    """The magnitude of a number / array / Quantity as a numpy array (None when traced).

    ``label`` names the argument in the TypeError raised for strings, None, bools and other
    non-numbers: ``f'{label} must be {expected}; got ...'``.
    """
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None:
        raise TypeError(f'{label} must be {expected}; got {short_repr(value)}.')
    mag = u.get_magnitude(value)
    if is_traced(mag):
        return None
    try:
        arr = np.asarray(mag)
    except (TypeError, ValueError) as err:
        raise TypeError(f'{label} must be {expected}; got {short_repr(value)}.') from err
    if arr.dtype.kind not in 'iuf':
        raise TypeError(f'{label} must be {expected}; got {short_repr(value)} (dtype {arr.dtype}).')
    return arr


def check_bool(value, name: str, meaning: str = ''):
    """``value`` as a bool; TypeError otherwise (a string such as 'no' would read as True)."""
    if not isinstance(value, (bool, np.bool_)):
        what = f'a bool ({meaning})' if meaning else 'a bool (True or False)'
        raise TypeError(f'`{name}` must be {what}; got {value!r}.')
    return bool(value)


def broadcasts_to(shape, target) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` without changing it."""
    try:
        return tuple(np.broadcast_shapes(tuple(shape), tuple(target))) == tuple(target)
    except ValueError:
        return False


def check_fits_shape(shape, varshape, name: str, owner=None, what: str = 'in_size', batch_axis: bool = False):
    """Raise ValueError unless ``shape`` broadcasts to ``varshape`` without changing it.

    ``batch_axis``: one extra leading axis is allowed, ``(B,) + varshape`` (one value per
    batch member of a ``run(batch_size=B)``, e.g. a parameter sweep in one program).
    """
    shape, varshape = tuple(shape), tuple(varshape)
    n = len(varshape)
    core = shape[len(shape) - n:] if batch_axis and len(shape) == n + 1 else shape
    if not broadcasts_to(core, varshape):
        alternatives = f'a scalar or an array of shape {varshape}'
        if batch_axis:
            alternatives += f', or (B,) + {varshape} for B batch members (run with batch_size=B)'
        raise ValueError(f'{_label(name, owner)} has shape {shape}, which does not broadcast to {what} '
                         f'{varshape}: give {alternatives}.')


def checked_param(value, varshape, name: str, owner=None, *, unit: str = '', **checks):
    """Check a parameter and wrap it with ``brainstate.nn.Param.init(value, varshape)``.

    ``value``: a plain number / array (already in the parameter's unit), an initializer
    (called with ``varshape``) or a ``brainstate.nn.Param`` (returned as is). Its shape
    must fit ``varshape`` (one leading batch axis allowed); concrete values are checked
    with :func:`check_values` (``checks``: ``positive``, ``nonnegative``, ``allow_inf``),
    except those of a trainable Param, which a transform keeps in range.
    """
    if isinstance(value, brainstate.nn.Param):
        param, current, check = value, value.value(), not value.fit
    elif callable(value):  # an initializer, called with the node's shape
        param = brainstate.nn.Param.init(value, varshape)
        current, check = param.value(), True
    else:
        param, current, check = None, value, True
    check_fits_shape(u.math.shape(current), varshape, name, owner, batch_axis=True)
    if check:
        check_values(u.get_magnitude(current), name, owner, unit=unit, **checks)
    return param if param is not None else brainstate.nn.Param.init(value, varshape)
