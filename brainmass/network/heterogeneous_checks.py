"""Argument checks of :class:`~brainmass.network.heterogeneous.MixedNode`: its groups, their indices,
coupled variables and units, ``gain`` and ``scale``. Each raises ValueError / TypeError naming the argument."""
from __future__ import annotations

import keyword

import brainstate
import brainunit as u
import numpy as np

from .._core.step import StepModel
from .._core.units import magnitude, unit_name, unit_phrase
from .._core.validation import broadcasts_to, short_repr
from .checks import coupled_terms

__all__ = ['check_groups', 'check_cover', 'check_group_dict', 'check_group_name', 'group_terms', 'coupled_unit',
           'common_unit', 'check_gain', 'check_scale', 'terms_text']

_GROUP_FORM = ("{name: (indices, node, coupled_var)}, e.g. {'cortex': ([0, 1, 2], brainmass.WilsonCowanStep(3), "
               "'rE')}")


def check_groups(groups):
    """``{name: (indices, node, coupled_var)}``: the groups checked one by one, indices as int64 arrays."""
    from .heterogeneous import MixedNode  # a group cannot be a MixedNode (imported here: that module imports this)
    if not isinstance(groups, dict) or not groups:
        raise TypeError(f'`groups` must be a non-empty dict {_GROUP_FORM}; got {short_repr(groups)}.')
    specs, seen = {}, {}
    for name, spec in groups.items():
        where = f'`groups[{name!r}]`'
        if not isinstance(name, str):
            raise TypeError(f'`groups`: group names must be strings; got {short_repr(name)}.')
        if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
            raise TypeError(f'{where} must be a tuple (indices, node, coupled_var) (coupled_var may be left out '
                            f'when the model declares one); got {short_repr(spec)}.')
        indices, node = spec[0], spec[1]
        if not isinstance(node, StepModel) or isinstance(node, MixedNode):
            raise TypeError(f'{where}: the node must be a brainmass *Step model (e.g. brainmass.HopfStep(n)); got '
                            f'{type(node).__name__}.')
        if id(node) in seen:
            raise ValueError(f'{where}: its node is also the node of group {seen[id(node)]!r}; give each group its '
                             f'own model instance.')
        seen[id(node)] = name
        coupled_var = spec[2] if len(spec) == 3 else getattr(type(node), 'coupled_var', None)
        if not isinstance(coupled_var, str):
            raise TypeError(f'{where}: name the coupled variable of its {type(node).__name__}, (indices, node, '
                            f'coupled_var) with coupled_var one of its states ({", ".join(node.state_vars)}); got '
                            f'{short_repr(coupled_var)}.')
        idx = _check_indices(indices, where)
        shape = tuple(node.varshape)
        if len(shape) != 1 or shape[0] != len(idx):
            raise ValueError(f'{where}: its {type(node).__name__} has in_size {node.in_size!r} but the group has '
                             f'{len(idx)} regions: build it with in_size={len(idx)}.')
        specs[name] = (idx, node, coupled_var)
    return specs


def _check_indices(indices, where):
    if isinstance(indices, (str, bytes)) or indices is None:
        raise TypeError(f'{where}: the indices must be a 1-D sequence of region numbers (ints); got '
                        f'{short_repr(indices)}.')
    arr = np.asarray(list(indices) if isinstance(indices, range) else indices)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f'{where}: the indices must be integers (region numbers); got dtype {arr.dtype}.')
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f'{where}: the indices must be a non-empty 1-D sequence; got shape {arr.shape}.')
    if np.any(arr < 0):
        raise ValueError(f'{where}: the indices must be >= 0; got {arr[arr < 0][0]}.')
    values, counts = np.unique(arr, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f'{where}: region {values[counts > 1][0]} is listed twice.')
    return arr.astype(np.int64)


def check_cover(specs, n):
    owner = {}
    for g, (idx, _, _) in specs.items():
        for i in idx:
            if int(i) in owner:
                raise ValueError(f'`groups`: region {int(i)} is in both {owner[int(i)]!r} and {g!r}; the groups\' '
                                 f'indices must be disjoint.')
            owner[int(i)] = g
    missing = sorted(set(range(n)) - set(owner))
    if missing:
        beyond = sorted(i for i in owner if i >= n)
        raise ValueError(f'`groups`: the indices must cover the regions 0 .. {n - 1} (the groups hold {n}); '
                         f'missing {missing[:5]}{"..." if len(missing) > 5 else ""}, out of range '
                         f'{beyond[:5]}{"..." if len(beyond) > 5 else ""}.')


def check_group_dict(value, name, specs):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f'`{name}` must be a dict {{group: value}}; got {short_repr(value)}.')
    unknown = [g for g in value if g not in specs]
    if unknown:
        raise ValueError(f'`{name}` names {unknown[0]!r}, which is not a group; the groups are '
                         f'{", ".join(map(repr, specs))}.')
    return dict(value)


def check_group_name(node, name):
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith('_'):
        raise ValueError(f'`groups`: group name {name!r} must be a Python identifier not starting with _ (it is '
                         f'the attribute node.{name}).')
    if hasattr(type(node), name) or name in node.__dict__ or name in ('coupled', 'state_vars'):
        raise ValueError(f'`groups`: group name {name!r} is taken by an attribute of MixedNode; choose another.')


def group_terms(g, node, coupled_var):
    try:
        terms = coupled_terms(node, coupled_var)
    except ValueError as err:
        raise ValueError(f'`groups[{g!r}]`: {err}') from None
    units = {var: node.unit_of(var) for _, var in terms}
    first = units[terms[0][1]]
    odd = [var for var, unit in units.items() if not unit.has_same_dim(first)]
    if odd:
        raise ValueError(f'`groups[{g!r}]`: the coupled variable {coupled_var!r} mixes units ({terms[0][1]!r} is '
                         f'{unit_phrase(first)}, {odd[0]!r} {unit_phrase(units[odd[0]])}).')
    return terms


def coupled_unit(g, node, terms, scale):
    unit = node.unit_of(terms[0][1])
    if scale is not None and isinstance(scale, u.Quantity):
        unit = unit * u.get_unit(scale)
    return u.UNITLESS if unit.has_same_dim(u.UNITLESS) else unit


def common_unit(units, terms, scale):
    names = list(units)
    first = units[names[0]]
    odd = [g for g in names if not units[g].has_same_dim(first)]
    if odd:
        def text(g):
            var = terms_text(terms[g])
            conv = ' (times its scale)' if g in scale else ''
            return f'{g!r} couples {var!r}{conv}, {unit_phrase(units[g])}'
        target = 'a plain number' if first.is_unitless else str(first)
        raise ValueError(f'`groups`: the coupled variables carry different units: {text(names[0])}; {text(odd[0])}. '
                         f'A MixedNode couples one quantity: convert explicitly with `scale` (e.g. '
                         f'scale={{{odd[0]!r}: factor}}, a factor whose unit turns it into {target}), or couple '
                         f'variables of one unit.')
    return first


def check_gain(value, g, n):
    what = f'`gain[{g!r}]`'
    return _check_factor(value, what, n, allow_unit=False)


def check_scale(value, g, n):
    return _check_factor(value, f'`scale[{g!r}]`', n, allow_unit=True)


def _check_factor(value, what, n, allow_unit):
    if isinstance(value, (str, bytes, bool, np.bool_)) or value is None or isinstance(value, brainstate.nn.Param):
        raise TypeError(f'{what} must be a number or an array of numbers (one per region of the group); got '
                        f'{short_repr(value)}.')
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    if isinstance(value, u.Quantity):
        if not allow_unit and not u.get_unit(value).has_same_dim(u.UNITLESS):
            raise ValueError(f'{what} must be dimensionless (it multiplies the coupling current; a unit conversion '
                             f'of the coupled variable goes into `scale`); got a quantity in {unit_name(value)}.')
        if u.get_unit(value).has_same_dim(u.UNITLESS):
            value = u.maybe_decimal(value)
    mag = magnitude(value)
    try:
        arr = np.asarray(mag, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f'{what} must be a number or an array of numbers; got {short_repr(value)}.') from None
    if not broadcasts_to(arr.shape, (n,)):
        raise ValueError(f'{what} has shape {arr.shape}; give a number or one value per region of the group ({n},).')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{what} must be finite; got {short_repr(value)}.')
    if isinstance(value, u.Quantity):
        return value
    return arr if arr.ndim else float(arr)


def terms_text(terms):
    text = ''
    for sign, var in terms:
        text += (var if sign > 0 else f'-{var}') if not text else (f' + {var}' if sign > 0 else f' - {var}')
    return text
