"""The axes of a sweep and the grid they span (:class:`Space`).

An axis is a 1-D list of scalar values (numbers, or numbers in a unit): an even
grid, a geometric grid, sorted uniform random draws, or explicit values. A
:class:`Space` names its axes (a parameter path such as ``'k'`` / ``'node.a'``,
or an argument of a model factory) and spans their outer product; points are
numbered in C order (the last axis varies fastest).
"""
from __future__ import annotations

import itertools
import numbers

import brainunit as u
import numpy as np

from ..._core.display import value_text
from ..._core.units import unit_name
from ..._core.validation import check_int_at_least

__all__ = ['Axis', 'Space', 'grid', 'log_grid', 'random', 'values']


class Axis:
    """One axis of a :class:`Space`: 1-D scalar values, optionally in a unit.

    Build axes with :func:`grid`, :func:`log_grid`, :func:`random` or :func:`values`.

    Attributes
    ----------
    kind : str
        ``'grid'``, ``'log_grid'``, ``'random'`` or ``'values'``.
    magnitudes : numpy.ndarray
        The values as plain numbers (in ``unit`` when one is set).
    unit : brainunit.Unit or None
        ``None``: plain numbers, read in the unit of the parameter they set.

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> brainmass.sweep.grid(0.0, 0.5, 6)
    Axis(grid, 6 values: 0, 0.1, 0.2, 0.3, 0.4, 0.5)
    >>> brainmass.sweep.log_grid(1.0, 100.0, 3, unit=u.mm / u.ms).values
    Quantity([  1.  10. 100.], "mm / ms")
    """

    def __init__(self, kind, magnitudes, unit=None):
        self.kind = kind
        self.magnitudes = np.asarray(magnitudes)
        self.magnitudes.setflags(write=False)
        self.unit = unit

    def __len__(self):
        return int(self.magnitudes.shape[0])

    @property
    def values(self):
        """The values: a numpy array, or a Quantity when the axis has a unit."""
        return self.magnitudes.copy() if self.unit is None else u.Quantity(self.magnitudes, unit=self.unit)

    def value(self, i):
        """Value ``i``: a Python number, or a scalar Quantity when the axis has a unit."""
        v = self.magnitudes[i].item()
        return v if self.unit is None else u.Quantity(v, unit=self.unit)

    def unit_text(self):
        return '' if self.unit is None else value_text(u.Quantity(1., unit=self.unit))[1:].lstrip()

    def __repr__(self):
        n = len(self)
        unit = self.unit_text()
        shown = ', '.join(f'{v:.4g}' for v in self.magnitudes[:6])
        if n > 6:
            shown += f', ..., {self.magnitudes[-1]:.4g}'
        return f'Axis({self.kind}, {n} value{"s" if n != 1 else ""}: {shown}{" " + unit if unit else ""})'


def _scalar(value, name, unit, fn):
    """``value`` (a number or scalar Quantity) as a float magnitude in ``unit``; returns (magnitude, unit)."""
    if isinstance(value, u.Quantity):
        if np.ndim(u.get_mantissa(value)) != 0:
            raise ValueError(f'`{name}` of sweep.{fn}() must be a single number; got shape '
                             f'{tuple(np.shape(u.get_mantissa(value)))}.')
        if unit is None:
            unit = u.get_unit(value)
        if not u.get_unit(value).has_same_dim(unit):
            raise ValueError(f'`{name}` of sweep.{fn}() is in {unit_name(value)}, but the axis is in '
                             f'{unit_name(1 * unit)}.')
        magnitude = float(np.asarray(value.to_decimal(unit)))
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        magnitude = float(value)
    elif isinstance(value, np.ndarray) and value.ndim == 0 and np.issubdtype(value.dtype, np.number):
        magnitude = float(value)
    else:
        raise TypeError(f'`{name}` of sweep.{fn}() must be a number or a scalar Quantity; got {value!r:.60}.')
    if not np.isfinite(magnitude):
        raise ValueError(f'`{name}` of sweep.{fn}() must be finite; got {value}.')
    return magnitude, unit


def _check_unit(unit, fn):
    if unit is not None and not isinstance(unit, u.Unit):
        raise TypeError(f'`unit` of sweep.{fn}() must be a brainunit Unit (e.g. u.ms) or None; got {unit!r:.60}.')
    return unit


def _ends(start, stop, unit, fn, names=('start', 'stop')):
    unit = _check_unit(unit, fn)
    a, unit = _scalar(start, names[0], unit, fn)
    b, unit = _scalar(stop, names[1], unit, fn)
    return a, b, unit


def grid(start, stop, num, *, unit=None) -> Axis:
    """``num`` evenly spaced values from ``start`` to ``stop``, both included (``numpy.linspace``).

    Parameters
    ----------
    start, stop : float or Quantity
        The ends (Quantities: converted to ``unit``, or to ``start``'s unit).
    num : int
        Number of values (>= 1).
    unit : brainunit.Unit, optional
        The unit of plain-number ends. Without it and without Quantities the values
        are plain numbers, read in the unit of the parameter they set.

    Returns
    -------
    Axis

    Examples
    --------
    >>> import brainmass
    >>> brainmass.sweep.grid(0.0, 1.0, 5).values
    array([0.  , 0.25, 0.5 , 0.75, 1.  ])
    """
    num = check_int_at_least(num, 1, 'num')
    a, b, unit = _ends(start, stop, unit, 'grid')
    return Axis('grid', np.linspace(a, b, num), unit)


def log_grid(start, stop, num, *, unit=None) -> Axis:
    """``num`` geometrically spaced values from ``start`` to ``stop`` (both > 0, both included).

    Parameters are those of :func:`grid`.

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> brainmass.sweep.log_grid(1.0, 1000.0, 4).values
    array([   1.,   10.,  100., 1000.])
    """
    num = check_int_at_least(num, 1, 'num')
    a, b, unit = _ends(start, stop, unit, 'log_grid')
    if a <= 0 or b <= 0:
        raise ValueError(f'`start` and `stop` of sweep.log_grid() must be > 0; got {start} and {stop}.')
    return Axis('log_grid', np.geomspace(a, b, num), unit)


def random(low, high, num, *, seed=0, log=False, unit=None) -> Axis:
    """``num`` values drawn uniformly from ``[low, high)`` with ``seed``, sorted ascending.

    Parameters
    ----------
    low, high : float or Quantity
        The range (``low < high``).
    num : int
        Number of draws (>= 1).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``: the same seed gives the same values.
    log : bool, default False
        Draw uniformly in ``log(value)`` (``low`` > 0).
    unit : brainunit.Unit, optional
        As in :func:`grid`.

    Examples
    --------
    >>> import brainmass, numpy as np
    >>> ax = brainmass.sweep.random(0.0, 1.0, 4, seed=1)
    >>> bool(np.all(np.diff(ax.values) > 0)), len(ax)
    (True, 4)
    """
    num = check_int_at_least(num, 1, 'num')
    seed = check_int_at_least(seed, 0, 'seed')
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f'`log` of sweep.random() must be a bool; got {log!r}.')
    a, b, unit = _ends(low, high, unit, 'random', names=('low', 'high'))
    if not a < b:
        raise ValueError(f'sweep.random() needs `low` < `high`; got low={low}, high={high}.')
    rng = np.random.default_rng(seed)
    if log:
        if a <= 0:
            raise ValueError(f'sweep.random(log=True) needs `low` > 0; got {low}.')
        draws = np.exp(rng.uniform(np.log(a), np.log(b), num))
    else:
        draws = rng.uniform(a, b, num)
    return Axis('random', np.sort(draws), unit)


def values(values, *, unit=None) -> Axis:
    """An axis of explicit values: a list / 1-D array of numbers, or a 1-D Quantity.

    Parameters
    ----------
    values : sequence of numbers, array or Quantity
        One scalar per point (non-empty, finite). A list of scalar Quantities is
        converted to the first one's unit.
    unit : brainunit.Unit, optional
        The unit of plain numbers (Quantities are converted to it).

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> brainmass.sweep.values([-0.1, 0.0, 0.1])
    Axis(values, 3 values: -0.1, 0, 0.1)
    >>> brainmass.sweep.values([5., 10.] * u.ms).unit
    Unit("ms")
    """
    unit = _check_unit(unit, 'values')
    if isinstance(values, Axis):
        return values
    if isinstance(values, (list, tuple)) and any(isinstance(v, u.Quantity) for v in values):
        mags = []
        for k, v in enumerate(values):
            m, unit = _scalar(v, f'values[{k}]', unit, 'values')
            mags.append(m)
        arr = np.asarray(mags)
    elif isinstance(values, u.Quantity):
        if unit is None:
            unit = u.get_unit(values)
        if not u.get_unit(values).has_same_dim(unit):
            raise ValueError(f'`values` of sweep.values() are in {unit_name(values)}, but `unit` is '
                             f'{unit_name(1 * unit)}.')
        arr = np.asarray(values.to_decimal(unit))
    else:
        if isinstance(values, (str, bytes, dict, set)) or values is None:
            raise TypeError(f'`values` of sweep.values() must be a list or 1-D array of numbers (or a Quantity); '
                            f'got {type(values).__name__}.')
        try:
            arr = np.asarray(values)
        except (TypeError, ValueError):
            arr = np.asarray([], dtype=object)
        if arr.dtype == object or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f'`values` of sweep.values() must be numbers (or a Quantity); got {values!r:.80}.')
    if arr.ndim != 1:
        raise ValueError(f'`values` of sweep.values() must be 1-D: one scalar per point; got shape {arr.shape}.')
    if arr.size == 0:
        raise ValueError('`values` of sweep.values() is empty: an axis needs at least one value.')
    if np.iscomplexobj(arr) or not np.all(np.isfinite(arr)):
        raise ValueError(f'`values` of sweep.values() must be finite real numbers; got {arr!r:.80}.')
    return Axis('values', arr, unit)


class Space:
    """The grid of a sweep: named axes whose outer product gives the points.

    An axis is an :class:`Axis` (:func:`grid`, :func:`log_grid`, :func:`random`,
    :func:`values`) or anything :func:`values` takes. A name is a parameter path of
    the model (``'k'``, ``'node.a'``: see :func:`parameter_paths`) or an argument of
    a model factory. The point order is C order over the axes as given.

    Parameters
    ----------
    axes : dict, optional
        ``{name: axis}`` (use it for dotted names such as ``'node.a'``).
    **named
        More axes by keyword, after those of ``axes``.

    Examples
    --------
    >>> import brainmass
    >>> from brainmass import sweep
    >>> space = sweep.Space({'node.a': [-0.1, 0.1]}, k=sweep.grid(0.0, 0.2, 3))
    >>> space.shape, space.size
    ((2, 3), 6)
    >>> space.point(4)
    {'node.a': 0.1, 'k': 0.1}
    """

    def __init__(self, axes=None, /, **named):
        if axes is not None and not isinstance(axes, dict):
            raise TypeError(f'`axes` of sweep.Space must be a dict {{name: axis}}; got {type(axes).__name__}.')
        items = list((axes or {}).items())
        for name, axis in named.items():
            if axes is not None and name in axes:
                raise ValueError(f'sweep.Space: axis {name!r} is given twice.')
            items.append((name, axis))
        if not items:
            raise ValueError('sweep.Space needs at least one axis, e.g. Space(k=sweep.grid(0.0, 0.5, 8)).')
        self._axes = {}
        for name, axis in items:
            if not isinstance(name, str) or not name or name.startswith('.') or name.endswith('.'):
                raise ValueError(f'sweep.Space: an axis name must be a non-empty parameter path or factory '
                                 f'argument such as "k" or "node.a"; got {name!r}.')
            self._axes[name] = axis if isinstance(axis, Axis) else values(axis)

    @property
    def names(self) -> tuple:
        """The axis names, in order (the dims of the result)."""
        return tuple(self._axes)

    @property
    def axes(self) -> dict:
        """``{name: Axis}``."""
        return dict(self._axes)

    @property
    def shape(self) -> tuple:
        return tuple(len(a) for a in self._axes.values())

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self):
        return self.size

    def __getitem__(self, name) -> Axis:
        return self._axes[name]

    def __contains__(self, name):
        return name in self._axes

    @property
    def coords(self) -> dict:
        """``{name: values}`` (numpy arrays, or Quantities for axes with a unit)."""
        return {name: axis.values for name, axis in self._axes.items()}

    def point(self, i) -> dict:
        """Point ``i`` (C order) as ``{name: value}``."""
        check_int_at_least(i, 0, 'i')
        if i >= self.size:
            raise IndexError(f'point {i} is outside the space of {self.size} points.')
        index = np.unravel_index(i, self.shape)
        return {name: axis.value(int(j)) for (name, axis), j in zip(self._axes.items(), index)}

    def points(self):
        """Every point, in C order, as ``{name: value}`` dicts (a generator)."""
        axes = list(self._axes.items())
        for index in itertools.product(*(range(len(a)) for _, a in axes)):
            yield {name: axis.value(j) for (name, axis), j in zip(axes, index)}

    def __repr__(self):
        body = ', '.join(f'{name}={len(a)}' + (f' [{a.unit_text()}]' if a.unit is not None else '')
                         for name, a in self._axes.items())
        return f'Space({body}; {self.size} points)'
