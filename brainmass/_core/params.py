"""Parameters changed after construction take effect.

A model's constant parameters (``brainstate.nn.Param`` with ``fit=False``) are
compiled into a run's program as constants. Two ways of changing one after a
run must therefore reach the next run instead of being ignored:

* assigning the attribute, ``node.a = 0.3`` or ``net.k = 2.0``: the owner
  (a class using :class:`ReassignableParams`) checks the new value as its
  constructor did and stores a new ``Param``;
* ``param.set_value(v)`` on a constant ``Param``, which replaces its value.

:func:`params_epoch` counts attribute assignments of the first kind; the
Simulator compares the constant parameters' values it compiled with
(:class:`ConstantParams`) before every run and re-traces when one changed.
Trainable parameters are states, read by the program at every run: changing
them never re-traces.

A constant parameter declared with a unit is a :class:`UnitConst`: it stores the
magnitude in that unit (what the program compiles and :class:`ConstantParams`
compares) and reads back as a quantity, ``node.tau.value() -> 2. ms``.
"""
from __future__ import annotations

import brainstate
import brainunit as u

from .units import in_unit
from .validation import broadcasts_to

__all__ = ['ReassignableParams', 'ConstantParams', 'UnitConst', 'constant_values', 'same_values',
           'params_epoch']

_EPOCH = [0]


def params_epoch() -> int:
    """How many parameter attributes were reassigned so far (in this process)."""
    return _EPOCH[0]


class ReassignableParams:
    """Mixin: assigning to an attribute that holds a ``brainstate.nn.Param`` re-checks the value.

    ``obj.name = value`` calls ``obj._reassigned_param(name, value, old)``, which returns the
    ``Param`` to store (or raises a ValueError / TypeError naming the attribute). The default
    accepts a ``Param`` or a value of the old parameter's shape and unit.
    """

    def __setattr__(self, name, value):
        old = self.__dict__.get(name)
        if isinstance(old, brainstate.nn.Param) and value is not old:
            value = self._reassigned_param(name, value, old)
            _EPOCH[0] += 1
        super().__setattr__(name, value)

    def _reassigned_param(self, name, value, old):
        shape = tuple(u.math.shape(old.value()))
        new = value if isinstance(value, brainstate.nn.Param) else brainstate.nn.Param.init(value)
        got = tuple(u.math.shape(new.value()))
        if not broadcasts_to(got, shape):
            raise ValueError(f'`{name}` of {type(self).__name__} has shape {shape}; the new value has shape '
                             f'{got}, which does not broadcast to it.')
        old_unit, new_unit = u.get_unit(old.value()), u.get_unit(new.value())
        if not old_unit.has_same_dim(new_unit):
            raise ValueError(f'`{name}` of {type(self).__name__} is in {old_unit}; the new value is in '
                             f'{new_unit}.')
        return new


class UnitConst(brainstate.nn.Const):
    """A constant parameter in a declared unit: stored as a magnitude, read as a quantity.

    ``value()`` returns ``Quantity(magnitude, unit)`` (no arithmetic: the compiled
    program holds the same constant as a plain ``Const``); :meth:`magnitude` the
    stored number. ``set_value`` takes a quantity (converted to ``unit``; another
    dimension is a ValueError) or a plain number (read in ``unit``).

    Parameters
    ----------
    magnitude : array_like
        The value as a plain number / array in ``unit``.
    unit : brainunit.Unit
        The declared unit.

    Examples
    --------
    >>> import brainunit as u
    >>> from brainmass._core.params import UnitConst
    >>> UnitConst(2., u.ms)
    UnitConst(2. ms)
    >>> UnitConst(2., u.ms).value()
    Quantity(2., "ms")
    """

    def __init__(self, magnitude, unit):
        super().__init__(magnitude)
        self.unit = unit

    def magnitude(self):
        """The stored value, a plain array in ``unit``."""
        return super().value()

    def value(self):
        """The value as a quantity in ``unit``."""
        return u.Quantity(self.magnitude(), unit=self.unit)

    def set_value(self, value):
        """Replace the value: a quantity (converted to ``unit``) or a plain number in ``unit``."""
        super().set_value(in_unit(value, self.unit, 'value'))

    def __repr__(self):
        return f'{type(self).__name__}({self.value()})'


def constant_params(module) -> tuple:
    """The constant (non-trainable) ``Param``s of ``module`` and its sub-modules."""
    return tuple(p for p in module.nodes(brainstate.nn.Param).values() if not isinstance(p.val, brainstate.State))


def constant_values(module) -> tuple:
    """The values of ``module``'s constant parameters (the objects, for :func:`same_values`)."""
    return tuple(p.val for p in constant_params(module))


def same_values(old, new) -> bool:
    """Whether two :func:`constant_values` results hold the very same value objects."""
    return len(old) == len(new) and all(a is b for a, b in zip(old, new))


class ConstantParams:
    """The constant parameters a compiled program of ``model`` was traced with.

    :meth:`changed` (called before every run; ~1 us unless a parameter attribute was
    reassigned somewhere since the last call, when the model's parameters are looked up
    again) says whether any constant parameter of the model now holds another value than
    at the previous call. The values are held (compared by identity), so a freed array's
    id can never be mistaken for the old value.
    """

    def __init__(self, model):
        self.model = model
        self._epoch = None
        self._params = ()
        self._values = None

    def changed(self) -> bool:
        if self._epoch != params_epoch():
            self._params = constant_params(self.model)
            self._epoch = params_epoch()
        values = tuple(p.val for p in self._params)
        old, self._values = self._values, values
        return old is not None and not same_values(old, values)
