"""The parameters a sweep can set: their dotted paths in a model, and the swept parameter of a group's model."""
from __future__ import annotations

import collections

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from ..._core.step import StepModel
from ..._core.units import unit_name
from ...network.network import Network

__all__ = ['parameter_paths', 'param_refs', 'Swept']


def _children(obj):
    if isinstance(obj, dict):
        return [(str(k), v, k) for k, v in obj.items()]
    if isinstance(obj, (list, tuple)):
        return [(str(i), v, i) for i, v in enumerate(obj)]
    try:
        items = list(vars(obj).items())
    except TypeError:
        return []
    return [(k, v, k) for k, v in items if not k.startswith('_')] + [(k, v, k) for k, v in items if k.startswith('_')]


def param_refs(model) -> dict:
    """``{path: (param, [(owner, key), ...])}``: every ``brainstate.nn.Param`` of ``model`` (constant or
    trainable) under its shortest attribute path, with every place that holds it."""
    found = {}
    seen = {id(model)}
    queue = collections.deque([((), model)])
    while queue:
        path, obj = queue.popleft()
        for name, child, key in _children(obj):
            if isinstance(child, brainstate.nn.Param):
                entry = found.setdefault(id(child), ['.'.join(path + (name,)), child, []])
                entry[2].append((obj, key))
            elif isinstance(child, brainstate.State):
                continue
            elif id(child) not in seen and isinstance(child, (brainstate.graph.Node, dict, list, tuple)):
                seen.add(id(child))
                queue.append((path + (name,), child))
    return {path: (param, refs) for path, param, refs in found.values()}


def parameter_paths(model) -> dict:
    """The parameters a sweep can set: ``{path: brainstate.nn.Param}``, sorted by path.

    Paths are the shortest dotted attribute paths, as the Fitter names them: ``'k'``
    for a Network's coupling strength, ``'node.a'`` for a node parameter. Constant and
    trainable parameters are both listed.

    Examples
    --------
    >>> import brainmass, brainstate, brainunit as u, numpy as np
    >>> brainstate.environ.set(dt=0.1 * u.ms)
    >>> net = brainmass.Network(brainmass.HopfStep(2), conn=np.ones((2, 2)), coupled_var='x')
    >>> list(brainmass.sweep.parameter_paths(net))
    ['conn', 'k', 'node.a', 'node.beta', 'node.w']
    """
    return {path: param for path, (param, _) in sorted(param_refs(model).items())
            if not any(part.startswith('_') for part in path.split('.'))}


class Swept:
    """One swept parameter of a group's model: where it lives, its unit, its shapes."""

    def __init__(self, path, axis, param, refs, model):
        self.path, self.axis, self.param, self.refs = path, axis, param, refs
        value = param.value()
        self.unit = u.get_unit(value) if isinstance(value, u.Quantity) else None
        self.shape = tuple(u.math.shape(value))
        self.magnitudes = _axis_in_unit(axis, self.unit, path)
        self.batch_trailing = _batch_trailing(path, model)
        self.state = None

    def install(self, dtype):
        """Swap the parameter (every reference to it) for a trainable one; returns the undo list."""
        init = jnp.zeros(self.shape, dtype=dtype)
        new = brainstate.nn.Param(init if self.unit is None else u.Quantity(init, unit=self.unit), fit=True)
        undo = []
        for k, (owner, key) in enumerate(self.refs):
            current = owner[key] if isinstance(owner, (dict, list, tuple)) else getattr(owner, key)
            if current is new:
                continue
            if isinstance(owner, tuple):
                raise ValueError(f'sweep: cannot set {self.path!r}: it is held in a tuple.')
            try:
                if isinstance(owner, (dict, list)):
                    owner[key] = new
                else:
                    setattr(owner, key, new)
            except (TypeError, ValueError) as err:
                raise type(err)(f'sweep: cannot set parameter {self.path!r}: {err}') from err
            undo.append((owner, key, current))
        self.state = new.val
        return undo

    def write(self, v, batch):
        """Write the values ``v`` (one per point of the batch, or a scalar) into the trainable parameter."""
        if batch is None:
            value = jnp.broadcast_to(v, self.shape)
        else:
            value = jnp.reshape(v, (batch,) + (1,) * self.batch_trailing)
        self.state.value = value if self.unit is None else u.Quantity(value, unit=self.unit)


def _axis_in_unit(axis, unit, path):
    """The axis values as magnitudes in the parameter's unit (plain numbers are read in it)."""
    if axis.unit is None:
        return axis.magnitudes.astype(float)
    if unit is None:
        if not axis.unit.has_same_dim(u.UNITLESS):
            raise ValueError(f'axis {path!r} is in {unit_name(1 * axis.unit)}, but the parameter {path!r} is '
                             f'dimensionless: give plain numbers.')
        return np.asarray(u.maybe_decimal(u.Quantity(axis.magnitudes.astype(float), unit=axis.unit)), dtype=float)
    if not axis.unit.has_same_dim(unit):
        raise ValueError(f'axis {path!r} is in {unit_name(1 * axis.unit)}, but the parameter {path!r} is in '
                         f'{unit_name(1 * unit)}.')
    return np.asarray(u.Quantity(axis.magnitudes.astype(float), unit=axis.unit).to_decimal(unit), dtype=float)


def _batch_trailing(path, model):
    """Trailing singleton axes of a parameter holding one row per batch member, or None when the model's
    own batch axis does not take this parameter (only a Network's ``k`` and node parameters do)."""
    parts = path.split('.')
    if isinstance(model, Network):
        if parts == ['k']:
            return 1
        if len(parts) == 2 and parts[0] == 'node':
            model, parts = model.node, parts[1:]
    if isinstance(model, StepModel) and len(parts) == 1 and parts[0] in model.__dict__.get('_param_checks', {}):
        return len(model.varshape)
    return None
