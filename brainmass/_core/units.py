"""Unit helpers shared by every layer.

Conventions (documented once, used everywhere):

* a plain-number *time* is in milliseconds;
* a plain-number *rate* is per millisecond unless a model says otherwise;
* a plain-number state/input value is read in the unit of its variable.
"""
from __future__ import annotations

import brainunit as u
import jax
import numpy as np

__all__ = ['is_traced', 'time_to_ms', 'as_quantity', 'in_unit', 'same_dim', 'unit_name', 'unit_phrase', 'strip']


def is_traced(x) -> bool:
    """True when ``x`` (or any leaf of it) is a JAX tracer, i.e. not concrete."""
    leaves = jax.tree_util.tree_leaves(u.get_mantissa(x) if isinstance(x, u.Quantity) else x)
    return any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)


def time_to_ms(value, name: str = 'time'):
    """Return a time as a plain number (or array) of milliseconds.

    Plain numbers are read as milliseconds; quantities must carry time units.
    """
    if isinstance(value, u.Quantity):
        if not u.get_unit(value).has_same_dim(u.ms):
            raise TypeError(f"`{name}` must be a time (e.g. 0.1 * u.ms); got a quantity in "
                            f"{unit_name(value)}.")
        return u.get_magnitude(value.to(u.ms))
    return value


def as_quantity(value, unit):
    """Attach ``unit`` to a plain number; convert a quantity to ``unit``."""
    if unit is None or (isinstance(unit, u.Unit) and unit.is_unitless):
        return u.get_magnitude(value) if isinstance(value, u.Quantity) else value
    if isinstance(value, u.Quantity):
        return value.in_unit(unit) if hasattr(value, 'in_unit') else value.to(unit)
    return value * unit


def in_unit(value, unit, name: str = 'value'):
    """Magnitude of ``value`` expressed in ``unit`` (plain numbers pass through)."""
    if isinstance(value, u.Quantity):
        if not same_dim(u.get_unit(value), unit):
            raise ValueError(f"`{name}` has unit {unit_name(value)}, expected something "
                             f"convertible to {unit}.")
        return u.get_magnitude(value.to(unit))
    return value


def same_dim(unit_a, unit_b) -> bool:
    """Whether two units (or unitless markers: None / 1) share a dimension."""
    a = u.UNITLESS if unit_a is None else u.get_unit(unit_a)
    b = u.UNITLESS if unit_b is None else u.get_unit(unit_b)
    return a.has_same_dim(b)


def unit_name(x) -> str:
    """Readable unit of a value ('dimensionless' for plain numbers)."""
    unit = u.get_unit(x) if x is not None else u.UNITLESS
    return 'dimensionless' if unit.is_unitless else str(unit)


def unit_phrase(unit) -> str:
    """``'in mV'``, or ``'dimensionless (plain numbers)'``, for error messages."""
    unit = u.UNITLESS if unit is None else u.get_unit(unit)
    return 'dimensionless (plain numbers)' if unit.is_unitless else f'in {unit}'


def strip(x):
    """Magnitude of a quantity as a numpy array (plain arrays pass through)."""
    return np.asarray(u.get_magnitude(x))
