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

__all__ = ['is_traced', 'time_to_ms', 'as_quantity', 'in_unit', 'same_dim', 'unit_name', 'unit_phrase', 'strip',
           'magnitude', 'to_unit', 'param_magnitude']


def is_traced(x) -> bool:
    """True when ``x`` (or any leaf of it) is a JAX tracer, i.e. not concrete."""
    leaves = jax.tree_util.tree_leaves(u.get_mantissa(x) if isinstance(x, u.Quantity) else x)
    return any(isinstance(leaf, jax.core.Tracer) for leaf in leaves)


def time_to_ms(value, name: str = 'time'):
    """Return a time as a plain number (or array) of milliseconds.

    Plain numbers are read as milliseconds; quantities must carry time units (TypeError otherwise).
    """
    return to_unit(value, u.ms, name, what='a time', example='0.1 * u.ms', error=TypeError)


def magnitude(x):
    """Magnitude of a quantity in its own unit, whatever that is; anything else passes through.

    For values whose unit is known or irrelevant (a signal's unit is stripped). To read a value
    in a given unit use :func:`to_unit`.

    Examples
    --------
    >>> import brainunit as u
    >>> from brainmass._core.units import magnitude
    >>> float(magnitude(3. * u.mV)), magnitude(2.)
    (3.0, 2.0)
    """
    return u.get_magnitude(x) if isinstance(x, u.Quantity) else x


def to_unit(value, unit, name: str, *, what: str, example: str, owner=None, error=ValueError):
    """Magnitude of ``value`` in ``unit``: quantities are converted, plain numbers are already in it.

    A quantity of another dimension raises ``error`` (default ValueError):
    ``"`name` [of owner] must be <what> (e.g. <example>); got a quantity in <its unit>."``

    Examples
    --------
    >>> import brainunit as u
    >>> from brainmass._core.units import to_unit
    >>> float(to_unit(2. * u.second, u.ms, 'period', what='a time', example='4 * u.ms'))
    2000.0
    >>> to_unit(4. * u.mV, u.ms, 'period', what='a time', example='4 * u.ms')
    Traceback (most recent call last):
    ...
    ValueError: `period` must be a time (e.g. 4 * u.ms); got a quantity in mV.
    """
    if not isinstance(value, u.Quantity):
        return value
    if not u.get_unit(value).has_same_dim(unit):
        label = f'`{name}`' if owner is None else f'`{name}` of {owner}'
        raise error(f'{label} must be {what} (e.g. {example}); got a quantity in {unit_name(value)}.')
    return u.get_magnitude(value.to(unit))


def param_magnitude(value, unit, name: str, owner: str):
    """A model parameter as a plain magnitude in ``unit`` (``None``: dimensionless).

    Plain numbers are already in ``unit``; quantities are converted (a dimensionless quantity
    such as ``0.641 / (u.ms * u.Hz)`` is read as its decimal value, 641). A quantity of another
    dimension raises ValueError: ``"`name` of owner must be in units of <unit>; got <its unit>."``,
    or ``"... is dimensionless; got a quantity in <its unit>."``.

    Examples
    --------
    >>> import brainunit as u
    >>> from brainmass._core.units import param_magnitude
    >>> float(param_magnitude(0.98 * u.second, u.second, 'tau', 'BOLDSignal'))
    0.98
    """
    if not isinstance(value, u.Quantity):
        return value
    unit = None if unit is None else u.get_unit(unit)
    if unit is None or unit.is_unitless:
        if not same_dim(u.get_unit(value), None):
            raise ValueError(f'`{name}` of {owner} is dimensionless; got a quantity in {unit_name(value)}.')
        return u.maybe_decimal(value)
    if not u.get_unit(value).has_same_dim(unit):
        raise ValueError(f'`{name}` of {owner} must be in units of {unit}; got {unit_name(value)}.')
    return u.get_magnitude(value.to(unit))


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
