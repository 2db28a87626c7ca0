"""Trainable parameters of a model, their bounds, and the flat vectors the back ends search.

:func:`trainable_parameters` finds the ``brainstate.ParamState`` of every trainable
parameter; :class:`Layout` packs their unconstrained values into one flat vector (and the
constrained values into another, for box searches) and back.
"""
from __future__ import annotations

import collections
import dataclasses
from typing import Any, Dict, List

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ['FitParameter', 'trainable_parameters', 'transform_bounds']


# =============================================================================
# parameter discovery and bounds
# =============================================================================
@dataclasses.dataclass(eq=False)
class FitParameter:
    """One trainable parameter found in a model.

    Attributes
    ----------
    path : str
        Dotted path in the model (``'k'``, ``'node.a'``): the shortest attribute
        path to the ``Param`` (its ``.val`` state) or to a bare ``ParamState``.
    state : brainstate.ParamState
        The state holding the unconstrained value.
    param : brainstate.nn.Param or None
        The owning ``Param`` (``None`` for a bare ``ParamState``).
    bounds : tuple
        ``(lower, upper)`` of the constrained value implied by the transform
        (``None`` where unbounded), as magnitudes in the value's unit.
    """
    path: str
    state: Any
    param: Any = None
    bounds: tuple = (None, None)

    @property
    def transform(self):
        return None if self.param is None else self.param.t

    def value(self):
        """The constrained value (``param.value()``, or the state's value)."""
        return self.state.value if self.param is None else self.param.value()

    def forward(self, x):
        return x if self.param is None else self.param.t.forward(x)

    def inverse(self, y):
        return y if self.param is None else self.param.t.inverse(y)

    def __repr__(self):
        t = 'none' if self.param is None else repr(self.param.t)
        return f'FitParameter({self.path!r}, shape={tuple(u.math.shape(self.value()))}, transform={t})'


def trainable_parameters(model) -> Dict[str, FitParameter]:
    """Find the trainable parameters (``brainstate.ParamState``) of a model.

    Parameters
    ----------
    model : brainstate.nn.Module
        A ``*Step`` model, a :class:`~brainmass.Network`, or any module.

    Returns
    -------
    dict
        ``{path: FitParameter}`` sorted by path; ``path`` is the shortest
        dotted attribute path (``'k'`` for a Network's coupling strength,
        ``'node.a'`` for a node parameter).

    Examples
    --------
    >>> import brainmass, brainstate
    >>> node = brainmass.HopfStep(2, a=brainstate.nn.Param(0.2, t=brainstate.nn.SigmoidT(-1., 1.)))
    >>> list(trainable_parameters(node))
    ['a']
    >>> trainable_parameters(node)['a'].bounds
    (-1.0, 1.0)
    """
    found: Dict[int, tuple] = {}
    for path, state, owner in _walk_states(model):
        if isinstance(state, brainstate.ParamState) and id(state) not in found:
            found[id(state)] = (path, state, owner)
    # anything brainstate sees that the walk missed (custom graph nodes)
    for path, state in model.states(brainstate.ParamState).items():
        if id(state) not in found:
            found[id(state)] = (tuple(str(p) for p in path), state, None)
    out = {}
    for path, state, owner in found.values():
        param = owner if isinstance(owner, brainstate.nn.Param) and owner.val is state else None
        if param is not None and path[-1] == 'val':
            path = path[:-1]
        name = '.'.join(path) if path else '<root>'
        bounds = magnitude_bounds(transform_bounds(param.t), param.value()) if param is not None \
            else (None, None)
        out[name] = FitParameter(name, state, param, bounds)
    return dict(sorted(out.items()))


def _children(obj):
    if isinstance(obj, dict):
        return [(str(k), v) for k, v in obj.items()]
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj)]
    try:
        items = vars(obj).items()
    except TypeError:
        return []
    public = [(k, v) for k, v in items if not k.startswith('_')]
    private = [(k, v) for k, v in items if k.startswith('_')]
    return public + private


def _walk_states(model):
    """Breadth-first (shortest paths first) walk yielding ``(path, state, owner)``."""
    seen = {id(model)}
    queue = collections.deque([((), model)])
    while queue:
        path, obj = queue.popleft()
        for name, child in _children(obj):
            if isinstance(child, brainstate.State):
                yield path + (name,), child, obj
            elif id(child) not in seen and isinstance(child, (brainstate.graph.Node, dict, list, tuple)):
                seen.add(id(child))
                queue.append((path + (name,), child))


def transform_bounds(t) -> tuple:
    """``(lower, upper)`` of the values a brainstate transform can produce.

    ``None`` marks an open side. Unknown transforms give ``(None, None)``.

    Examples
    --------
    >>> import brainstate
    >>> transform_bounds(brainstate.nn.SigmoidT(0., 2.))
    (0.0, 2.0)
    >>> transform_bounds(brainstate.nn.SoftplusT(0.))
    (0.0, None)
    """
    nn = brainstate.nn
    if isinstance(t, (nn.SigmoidT, nn.TanhT, nn.SoftsignT, nn.ScaledSigmoidT)):
        return t.lower, t.lower + t.width
    if isinstance(t, nn.ClipT):
        return t.lower, t.upper
    if isinstance(t, nn.NegSoftplusT):  # stores its upper bound as `lower`
        return None, t.lower
    if isinstance(t, (nn.SoftplusT, nn.LogT, nn.ExpT)):
        return t.lower, None
    if isinstance(t, nn.ReluT):
        return t.lower_bound, None
    if isinstance(t, nn.PositiveT):
        return 0., None
    if isinstance(t, nn.NegativeT):
        return None, 0.
    return None, None


def magnitude_bounds(bounds, value):
    unit = u.get_unit(value)

    def mag(b):
        if b is None:
            return None
        if isinstance(b, u.Quantity):
            b = b.to_decimal(unit) if not unit.is_unitless else u.get_magnitude(b)
        arr = np.asarray(b, dtype=float)
        return float(arr) if arr.ndim == 0 else arr
    return mag(bounds[0]), mag(bounds[1])


# =============================================================================
# flat vectors <-> parameter states
# =============================================================================
class Layout:
    """Packs the parameters into one flat vector and back.

    The unconstrained layout follows the states' shapes; the constrained one
    (for box searches) follows ``param.value()``'s shapes. Both hold magnitudes;
    units are re-attached on the way back.
    """

    def __init__(self, params: List[FitParameter]):
        self.params = params
        self.dtype = brainstate.environ.dftype()
        self.u_shapes = [tuple(u.math.shape(p.state.value)) for p in params]
        self.u_units = [u.get_unit(p.state.value) for p in params]
        values = [p.value() for p in params]
        self.c_shapes = [tuple(u.math.shape(v)) for v in values]
        self.c_units = [u.get_unit(v) for v in values]
        self.u_offsets = np.cumsum([0] + [int(np.prod(s)) for s in self.u_shapes])
        self.c_offsets = np.cumsum([0] + [int(np.prod(s)) for s in self.c_shapes])
        self.size = int(self.u_offsets[-1])
        self.c_size = int(self.c_offsets[-1])

    # -------------------------------------------------------- unconstrained
    def split(self, flat):
        out = []
        for i, shape in enumerate(self.u_shapes):
            part = flat[self.u_offsets[i]:self.u_offsets[i + 1]].reshape(shape)
            out.append(attach(part, self.u_units[i]))
        return out

    def write(self, flat):
        """Write an unconstrained flat vector into the parameter states."""
        for p, value in zip(self.params, self.split(flat)):
            p.state.value = value

    def read(self):
        """The current unconstrained flat vector (a jax array)."""
        parts = [jnp.ravel(jnp.asarray(u.get_magnitude(p.state.value), dtype=self.dtype)) for p in self.params]
        return jnp.concatenate(parts)

    # ---------------------------------------------------------- constrained
    def to_constrained(self, flat):
        parts = []
        for p, value in zip(self.params, self.split(flat)):
            parts.append(jnp.ravel(jnp.asarray(u.get_magnitude(p.forward(value)), dtype=self.dtype)))
        return jnp.concatenate(parts)

    def to_unconstrained(self, flat_c):
        parts = []
        for i, p in enumerate(self.params):
            part = flat_c[self.c_offsets[i]:self.c_offsets[i + 1]].reshape(self.c_shapes[i])
            part = open_clip(part, p.bounds)
            value = p.inverse(attach(part, self.c_units[i]))
            parts.append(jnp.ravel(jnp.asarray(u.get_magnitude(value), dtype=self.dtype)))
        return jnp.concatenate(parts)

    def c_slices(self):
        return [(p, slice(self.c_offsets[i], self.c_offsets[i + 1]), self.c_shapes[i])
                for i, p in enumerate(self.params)]


def attach(value, unit):
    return value if unit is None or unit.is_unitless else value * unit


def open_clip(x, bounds, rel=1e-6):
    """Keep ``x`` strictly inside a transform's bounds (its inverse is infinite there).

    The gradient passes straight through, so a box optimizer sitting on a bound
    still sees the slope that pulls it back inside.
    """
    lo, hi = bounds
    if lo is None and hi is None:
        return x
    return x + jax.lax.stop_gradient(_clip_open(x, lo, hi, rel) - x)


def _clip_open(x, lo, hi, rel):
    width = None if lo is None or hi is None else np.asarray(hi) - np.asarray(lo)
    if lo is not None:
        margin = rel * (width if width is not None else np.maximum(np.abs(lo), 1.))
        x = jnp.maximum(x, jnp.asarray(lo + margin, dtype=x.dtype))
    if hi is not None:
        margin = rel * (width if width is not None else np.maximum(np.abs(hi), 1.))
        x = jnp.minimum(x, jnp.asarray(hi - margin, dtype=x.dtype))
    return x


def describe_transform(p):
    """'no transform' or 'transform <repr>' of a FitParameter (for error messages)."""
    return 'no transform' if p.param is None else f'transform {p.param.t!r}'


def search_projection(layout, search_space):
    """Clip parameters with a search_space range into it (constrained space), or None."""
    ranged = [p for p in layout.params if p.path in search_space]
    if not ranged:
        return None

    def project(flat):
        parts = []
        for i, (p, value) in enumerate(zip(layout.params, layout.split(flat))):
            if p.path in search_space:
                lo, hi = search_space[p.path]
                c = u.get_magnitude(p.forward(value))
                c = jnp.clip(c, lo, hi)
                c = open_clip(jnp.asarray(c, dtype=layout.dtype), p.bounds)
                value = p.inverse(attach(c, layout.c_units[i]))
            parts.append(jnp.ravel(jnp.asarray(u.get_magnitude(value), dtype=layout.dtype)))
        return jnp.concatenate(parts)
    return project


def box_arrays(layout, boxes):
    """Constrained box as two flat float arrays (nan where open); ``boxes``: ``{path: (lower, upper)}``."""
    lo = np.full(layout.c_size, np.nan)
    hi = np.full(layout.c_size, np.nan)
    for p, sl, shape in layout.c_slices():
        blo, bhi = boxes[p.path]
        if blo is not None:
            lo[sl] = np.broadcast_to(np.asarray(blo, dtype=float), shape).ravel()
        if bhi is not None:
            hi[sl] = np.broadcast_to(np.asarray(bhi, dtype=float), shape).ravel()
    return lo, hi
