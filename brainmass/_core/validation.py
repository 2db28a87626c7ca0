"""One place for argument checks that raise clear errors before any compile."""
from __future__ import annotations

import numbers
from typing import Iterable

import numpy as np

__all__ = ['check_in_size', 'check_choice', 'check_positive', 'check_int_at_least',
           'format_choices']


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


def check_positive(value, name: str):
    """Raise ValueError unless every element of the (plain) value is > 0."""
    arr = np.asarray(value)
    if arr.size and not np.all(arr > 0):
        raise ValueError(f'`{name}` must be > 0; got {value!r}.')
    return value


def check_int_at_least(value, minimum: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f'`{name}` must be an int >= {minimum}; got {value!r}.')
    if value < minimum:
        raise ValueError(f'`{name}` must be >= {minimum}; got {value}.')
    return int(value)
