r"""The Fitter: fit the trainable parameters of a model with one of three back ends.

Every back end drives the same **pure** function of one flat vector,

.. math::  \ell(\theta) = \text{objective}\big(\text{predict}(\text{model}[\theta]),\ \text{target}\big),

where :math:`\theta` concatenates the *unconstrained* values of the model's
trainable parameters (the ``brainstate.ParamState`` inside every
``brainstate.nn.Param(..., fit=True)``). It is built once per :meth:`Fitter.fit`:

1. the user's ``predict`` / ``loss_fn`` runs **once** under
   ``brainstate.transform.StatefulFunction`` with :math:`\theta` written into
   the parameter states, giving one jaxpr (the simulation is traced and built
   exactly once per fit - ``Simulator.trace_count`` grows by one);
2. the jaxpr, fed with the states' values at the start of the fit, is a pure
   JAX function; every back end transforms it without tracing Python again:
   ``jax.value_and_grad`` ('grad', 'scipy'), ``jax.vmap`` over a population
   ('nevergrad').

Gradients: ``gradient='auto'`` (default) differentiates one parameter value in
forward mode (the Jacobian by ``jax.jvp``, transposed for ``jax.grad``:
cheaper than reverse mode through a long loop, and no memory per step) and
several in reverse mode; ``'forward'`` / ``'reverse'`` force one.

Back ends
---------
``'grad'``
    A ``braintools.optim`` optimizer (default ``Adam(lr=1e-2)``) steps
    :math:`\theta`; ``n_steps`` optimizer steps.
``'nevergrad'``
    A nevergrad optimizer (default differential evolution, ``'DE'``) searches
    the box of the constrained values; each generation of ``n_sample``
    candidates (default 16) is evaluated as one ``jax.vmap``-ed batch (a loop
    when the model cannot be vmapped); ``n_steps`` generations.
``'scipy'``
    ``scipy.optimize.minimize`` with a bounded method (default ``'L-BFGS-B'``
    with exact JAX gradients), started from the current values; ``n_steps``
    iterations.

Boxes for the gradient-free back ends come from the parameters' bounding
transforms (``SigmoidT(lower, upper)``, ``SoftplusT(lower)``, ...) or from
``search_space={'k': (0., 2.)}``.

Randomness: every evaluation starts from the same initial condition and the
same random stream - the state of ``brainstate.random`` when ``fit`` starts
(common random numbers), so a noisy model gives a deterministic objective.
Seed it with ``brainstate.random.seed(...)`` before ``fit``.
"""
from __future__ import annotations

import collections
import dataclasses
import inspect
import math
import sys
import time
import warnings
from typing import Any, Dict, List, Optional

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.transforms import derivatives_by_forward_mode, uses_primitive
from .._core.units import is_traced, unit_phrase
from .._core.validation import broadcasts_to, check_bool, check_int_at_least, format_choices, numeric_magnitude
from .objectives import UnitMismatchError, _weight_sign

__all__ = ['Fitter', 'FitResult', 'FitParameter', 'trainable_parameters', 'transform_bounds',
           'BACKENDS', 'GRADIENTS', 'SCIPY_METHODS', 'DEFAULT_N_SAMPLE', 'STOP_REASONS']

BACKENDS = ('grad', 'nevergrad', 'scipy')
#: how the gradient of the loss is computed ('auto': forward mode for one parameter value, else reverse)
GRADIENTS = ('auto', 'forward', 'reverse')
#: scipy.optimize.minimize methods that honour box bounds
SCIPY_METHODS = ('L-BFGS-B', 'TNC', 'SLSQP', 'trust-constr', 'Nelder-Mead', 'Powell', 'COBYLA', 'COBYQA')
_SCIPY_GRADIENT_METHODS = ('L-BFGS-B', 'TNC', 'SLSQP', 'trust-constr')
#: keys of the nevergrad `optimizer` dict ('popsize' is the old name of 'n_sample')
_NEVERGRAD_OPTIONS = ('method', 'n_sample', 'popsize', 'seed')
_SCIPY_BOX = ("the Fitter builds scipy's `bounds` itself, one (low, high) per parameter value, from the "
              "parameters' bounding transforms (e.g. brainstate.nn.SigmoidT(low, high)); narrow them with "
              "search_space={path: (low, high)} instead.")
#: scipy.optimize.minimize arguments the scipy back end sets itself
_SCIPY_RESERVED = {
    'bounds': _SCIPY_BOX,
    'x0': 'the start is the model\'s current parameter values (set them with Fitter.set_params).',
    'fun': 'the function minimised is the objective of the prediction.',
    'jac': 'gradients come from JAX for the gradient methods (see `gradient`).',
    'callback': 'use the Fitter\'s `callbacks` instead.',
    'args': 'the objective takes no extra arguments.',
    'hess': 'Hessians are not supported.',
    'hessp': 'Hessians are not supported.',
    'constraints': 'constraints are not supported (only the box of search_space / the transforms).',
}
#: candidates per nevergrad generation when the `optimizer` dict does not say
DEFAULT_N_SAMPLE = 16
_NG_BAD_LOSS = 1e20  # nevergrad refuses losses >= 5e20; non-finite losses are told as this
#: the loss form of the similarity objectives (higher_is_better: the Fitter minimises)
_SIMILARITIES = {'fc_corr': 'fc_corr(as_loss=True)', 'cosine_sim': 'cosine_sim(as_loss=True)',
                 'fcd': 'fcd(..., as_loss=True)', 'fc_matrix_corr': 'fc_matrix_corr(as_loss=True)'}
#: why a fit ended before n_steps (FitResult.stop_reason)
STOP_REASONS = ('callback', 'non-finite loss', 'interrupted')
_HOW_TO_MARK = ('mark one as trainable, e.g. brainmass.HopfStep(N, a=brainstate.nn.Param(0.2, '
                't=brainstate.nn.SoftplusT(0.), fit=True)) or Network(..., k=brainstate.nn.Param(value, '
                't=brainstate.nn.SoftplusT(0.), fit=True))')


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
        bounds = _magnitude_bounds(transform_bounds(param.t), param.value()) if param is not None \
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


def _magnitude_bounds(bounds, value):
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
class _Layout:
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
            out.append(_attach(part, self.u_units[i]))
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
            part = _open_clip(part, p.bounds)
            value = p.inverse(_attach(part, self.c_units[i]))
            parts.append(jnp.ravel(jnp.asarray(u.get_magnitude(value), dtype=self.dtype)))
        return jnp.concatenate(parts)

    def c_slices(self):
        return [(p, slice(self.c_offsets[i], self.c_offsets[i + 1]), self.c_shapes[i])
                for i, p in enumerate(self.params)]


def _attach(value, unit):
    return value if unit is None or unit.is_unitless else value * unit


def _open_clip(x, bounds, rel=1e-6):
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


# =============================================================================
# the pure objective
# =============================================================================
class _Program:
    """One traced evaluation ``(theta, target) -> (loss, prediction)`` and its compiled variants."""

    def __init__(self, fitter, target):
        self.fitter = fitter
        self.layout = fitter._layout
        self.target = target
        x0 = self.layout.read()
        self.x0 = x0
        sf = brainstate.transform.StatefulFunction(fitter._evaluate_in_trace)
        fitter.trace_count += 1
        sf.make_jaxpr(x0, target)
        key = sf.get_arg_cache_key(x0, target)
        self.states = tuple(sf.get_states_by_cache(key))
        self.state_values = tuple(s.value for s in self.states)
        self.jaxpr = sf.get_jaxpr_by_cache(key)
        self.out_treedef = sf.get_out_treedef_by_cache(key)
        self.gradient_mode = self._gradient_mode(fitter)
        self.differentiable = (derivatives_by_forward_mode(self.__call__) if self.gradient_mode == 'forward'
                               else self.__call__)
        self.canonical = None  # the compiled evaluation whose values are reported

    def _gradient_mode(self, fitter):
        """The fitter's mode, unless the computation holds a ``custom_vjp`` function (jax cannot
        differentiate those in forward mode): then 'auto' takes reverse mode and 'forward' raises."""
        mode = fitter._mode_by_size()
        if mode == 'forward' and uses_primitive(self.jaxpr, 'custom_vjp_call', 'custom_vjp_call_jaxpr'):
            if fitter.gradient == 'forward':
                raise ValueError("gradient='forward' cannot differentiate this model: its computation contains a "
                                 "jax.custom_vjp function, which has no forward-mode derivative; use "
                                 "gradient='reverse' (or 'auto', which picks it).")
            mode = 'reverse'
        return mode

    def __call__(self, flat, target):
        """The pure function: ``(loss, prediction)``; no Python tracing of the model."""
        leaves = jax.tree.flatten(((flat, target), {}, self.state_values))[0]
        outs = jax.core.eval_jaxpr(self.jaxpr.jaxpr, self.jaxpr.consts, *leaves)
        return self.out_treedef.unflatten(outs)[0]

    # compiled variants (built lazily, each compiled once by XLA)
    @property
    def value_and_grad(self):
        if not hasattr(self, '_vg'):
            self._vg = jax.jit(jax.value_and_grad(self.differentiable, has_aux=True))
        return self._vg

    @property
    def value(self):
        if not hasattr(self, '_value'):
            self._value = jax.jit(self.__call__)
        return self._value

    @property
    def batch(self):
        """``(thetas (B, n), target) -> (losses (B,), prediction of the best row)``, one vmapped program."""
        if not hasattr(self, '_batch'):
            def batch(thetas, target):
                losses, preds = jax.vmap(self.__call__, in_axes=(0, None))(thetas, target)
                best = jnp.argmin(jnp.where(jnp.isfinite(losses), losses, jnp.inf))
                return losses, jax.tree.map(lambda p: p[best], preds)
            self._batch = jax.jit(batch)
        return self._batch

    def evaluate(self, flat):
        """Canonical ``(loss, prediction)`` at an unconstrained vector (concrete).

        The same compiled function the back end used, so the best parameters
        give exactly the reported best loss.
        """
        if self.canonical == 'vg':
            (loss, pred), _ = self.value_and_grad(flat, self.target)
        elif isinstance(self.canonical, tuple):  # ('batch', n_sample)
            losses, pred = self.batch(jnp.tile(flat[None], (self.canonical[1], 1)), self.target)
            loss = losses[0]
        else:
            loss, pred = self.value(flat, self.target)
        return float(loss), pred


# =============================================================================
# result
# =============================================================================
@dataclasses.dataclass(repr=False, eq=False)
class FitResult:
    """What :meth:`Fitter.fit` returns.

    Attributes
    ----------
    backend : str
        ``'grad'``, ``'nevergrad'`` or ``'scipy'``.
    best_loss : float
        The lowest loss found; it is the loss of ``best_params`` (re-evaluating
        them with :meth:`Fitter.evaluate` gives exactly this value).
    best_params : dict
        ``{path: constrained value}`` (``'k'``, ``'node.a'``), the values that
        produced ``best_loss``; the model is left holding them.
    history : numpy.ndarray
        The loss after every step ('grad'), the best loss so far after every
        generation ('nevergrad'), or the loss at every iteration ('scipy').
    n_steps : int
        Steps / generations / iterations actually done (fewer when stopped early:
        see ``stop_reason``).
    prediction : array or None
        The prediction at ``best_params`` (after ``transient``); ``None`` with ``loss_fn``.
    optimizer : object
        The optimizer used: the braintools optimizer, or the nevergrad / scipy method name.
    raw : object
        Back-end specific: ``{'initial_loss', 'best_step', ...}`` ('grad'), the nevergrad
        optimizer ('nevergrad'), the ``scipy.optimize.OptimizeResult`` ('scipy').
    model : brainstate.nn.Module
        The fitted model (holding ``best_params``).
    initial_loss : float
        The loss at the starting parameters (nan for 'nevergrad', which starts from a population).
    n_evaluations : int
        Number of loss evaluations.
    wall_time : float
        Seconds spent in ``fit`` (tracing and compiling included).
    stop_reason : str or None
        Why the fit ended before ``n_steps``: ``'callback'`` (a callback returned
        True), ``'non-finite loss'`` ('grad'), ``'interrupted'`` (a
        ``KeyboardInterrupt``: the partial result kept as ``Fitter.result``);
        ``None`` when it ran to the end (or scipy's method converged).
    """
    backend: str
    best_loss: float
    best_params: Dict[str, Any]
    history: np.ndarray
    n_steps: int
    prediction: Any
    optimizer: Any
    raw: Any
    model: Any
    initial_loss: float = float('nan')
    n_evaluations: int = 0
    wall_time: float = 0.
    stop_reason: Optional[str] = None

    def __repr__(self):
        params = ', '.join(f'{k!r}: {_short(v)}' for k, v in self.best_params.items())
        hist = self.history
        h = f'[{hist[0]:.4g} ... {hist[-1]:.4g}] ({hist.size} values)' if hist.size else '[]'
        opt = self.optimizer if isinstance(self.optimizer, (str, type(None))) else type(self.optimizer).__name__
        stop = '' if self.stop_reason is None else f', stop_reason={self.stop_reason!r}'
        return (f'FitResult(backend={self.backend!r}, optimizer={opt!r}, n_steps={self.n_steps}{stop},\n'
                f'          best_loss={self.best_loss:.6g}, initial_loss={self.initial_loss:.6g},\n'
                f'          best_params={{{params}}},\n'
                f'          history={h}, n_evaluations={self.n_evaluations}, '
                f'wall_time={self.wall_time:.2f} s)')

    def _repr_html_(self) -> str:
        """A small HTML table for notebooks: backend, losses, best parameters (with units), steps, stop reason."""
        from .._core.display import html_table, value_text
        rows = [('backend', self.backend), ('best loss', f'{self.best_loss:.6g}'),
                ('initial loss', f'{self.initial_loss:.6g}'),
                *((f'best {k}', value_text(v)) for k, v in self.best_params.items()),
                ('steps', self.n_steps), ('evaluations', self.n_evaluations),
                ('stop_reason', self.stop_reason or 'ran to the end'),
                ('wall time', f'{self.wall_time:.2f} s')]
        return html_table('FitResult', rows)

    def save(self, path) -> str:
        """Write the result to an ``.npz`` file (read it back with :meth:`FitResult.load`).

        Saved: ``backend``, ``best_loss``, ``best_params`` (with units), ``history``,
        ``n_steps``, ``stop_reason``, ``prediction``, ``initial_loss``, ``n_evaluations``,
        ``wall_time`` and the package versions. Not saved: the live ``model``,
        ``optimizer`` and ``raw`` (they load as ``None``). Returns the path written.
        """
        from ..datasets._io import save_fit
        return save_fit(path, {f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    @classmethod
    def load(cls, path) -> 'FitResult':
        """Read a result written by :meth:`FitResult.save` (``model``, ``optimizer``, ``raw``: ``None``)."""
        from ..datasets._io import load_fit
        return cls(**load_fit(path), optimizer=None, raw=None, model=None)


class _Progress:
    """What a back end has found so far (kept outside it, so an interrupted fit keeps its best)."""

    def __init__(self):
        self.best_loss, self.best_x, self.prediction, self.best_step = float('inf'), None, None, 0
        self.history: List[float] = []
        self.initial_loss = float('nan')
        self.n_evaluations = 0
        self.optimizer = self.raw = self.stop_reason = None

    def offer(self, loss, x, prediction, step):
        """Keep ``x`` when its loss is finite and lower than the best so far."""
        if math.isfinite(loss) and loss < self.best_loss:
            self.best_loss, self.best_x, self.prediction, self.best_step = loss, x, prediction, step


def _short(v):
    mag = np.asarray(u.get_magnitude(v))
    unit = u.get_unit(v)
    text = f'{float(mag):.6g}' if mag.size == 1 else np.array2string(mag.ravel(), precision=4, threshold=6)
    return text if unit.is_unitless else f'{text} {unit}'


# =============================================================================
# the Fitter
# =============================================================================
class Fitter:
    r"""Fit the trainable parameters of a model (or a Network) to data.

    Parameters
    ----------
    model : brainstate.nn.Module
        The model; its trainable parameters (``brainstate.nn.Param(value, t=...,
        fit=True)``) are found automatically.
    optimizer : optional
        'grad': a ``braintools.optim`` optimizer (default ``Adam(lr=1e-2)``).
        'nevergrad': a method name (``'DE'`` default, ``'TwoPointsDE'``, ``'CMA'``,
        ``'PSO'``, ``'NGOpt'``, any of ``nevergrad.optimizers.registry``) or a dict
        ``{'method': 'CMA', 'n_sample': 16, 'seed': 0}``: ``n_sample`` candidates per
        generation (``'popsize'`` is accepted as its old name); ``None`` means
        ``{'method': 'DE', 'n_sample': 16, 'seed': 0}`` (:data:`DEFAULT_N_SAMPLE`).
        'scipy': a method name (``'L-BFGS-B'`` default; one of :data:`SCIPY_METHODS`)
        or a dict ``{'method': ..., 'tol': ..., <any minimize option>}`` (not ``bounds``,
        ``x0``, ``jac`` or ``callback``: the Fitter sets those; boxes come from the
        transforms and ``search_space``).
    loss_fn : callable, optional
        ``loss_fn(model) -> scalar``; then ``fit()`` takes no target.
    objective : callable, optional
        ``f(prediction, target) -> scalar`` to minimise (a :mod:`brainmass.objectives`
        loss); default ``timeseries_rmse()`` when ``predict`` is given.
    predict : callable, optional
        ``predict(model) -> prediction`` (time on the first axis), e.g.
        ``lambda m: sim.run(200 * u.ms, monitors=['node.x'])['node.x']``. A
        ``Simulator.run`` dict with one monitor is accepted as is.
    backend : {'grad', 'nevergrad', 'scipy'}, default 'grad'
    callbacks : callable or list of callables, optional
        ``cb(info)`` after every step / generation / iteration, with ``info`` a dict:
        ``'step'``, ``'loss'`` and ``'params'`` (``{path: constrained value}``) of that
        step (for 'nevergrad': the generation's best candidate), ``'best_loss'`` and
        ``'best_params'`` so far (``None`` before a finite loss), ``'n_evaluations'``
        and ``'backend'``. Return ``True`` to stop (``FitResult.stop_reason ==
        'callback'``). The old ``cb(step, loss, params)`` still works but is deprecated
        (a ``DeprecationWarning`` when the Fitter is built).
    transient : int or Quantity, optional
        Samples (int) or time dropped from the start of the prediction before the objective.
    search_space : dict, optional
        ``{path: (low, high)}`` ranges of constrained values. Required by the
        gradient-free back ends for parameters whose transform leaves them
        unbounded; with 'grad' the parameter is projected into the range after every step.
    gradient : {'auto', 'forward', 'reverse'}, default 'auto'
        How derivatives of the loss are computed ('grad', 'scipy' and :meth:`make_loss`).
        'reverse': reverse mode through the simulation. 'forward': the Jacobian by
        forward mode (one tangent pass per parameter value; nothing stored per step), also
        under ``jax.grad``. 'auto': forward mode when one parameter
        value is fitted (cheaper: ~2.5x the forward run instead of ~3.4x on the benchmark
        network), reverse mode otherwise, and also when the computation contains a
        ``jax.custom_vjp`` function (no forward-mode derivative). The gradients agree
        to rounding.

    Attributes
    ----------
    parameters : dict
        ``{path: FitParameter}`` being fitted.
    trace_count : int
        How many times the model's ``predict`` / ``loss_fn`` was traced (one per fit).
    gradient_mode : str
        The mode ``gradient`` resolves to: 'forward' or 'reverse'.
    result : FitResult or None
        The last fit's result. When a fit is interrupted (``KeyboardInterrupt``, e.g.
        Ctrl-C) it holds the partial result (``stop_reason='interrupted'``, the steps
        done, the best parameters so far, which the model is left holding) and the
        interrupt is re-raised.

    Notes
    -----
    The simulation is traced once per :meth:`fit` (``Simulator.run`` re-initialises
    the states every call, so every evaluation starts from the same initial
    condition); every evaluation uses the random stream ``brainstate.random`` had when
    ``fit`` started. For long rollouts pass ``checkpoint=True`` to ``Simulator.run``
    inside ``predict``: reverse-mode memory then grows sub-linearly with duration.

    Examples
    --------
    >>> import brainmass, brainstate, brainunit as u, numpy as np
    >>> brainstate.environ.set(dt=0.1 * u.ms)
    >>> node = brainmass.HopfStep(2, a=0.2, w=0.3, init_x=0.1)
    >>> net = brainmass.Network(node, conn=np.ones((2, 2)) * 0.5, coupled_var='x',
    ...                         k=brainstate.nn.Param(0.5, t=brainstate.nn.SoftplusT(0.)))
    >>> sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    >>> predict = lambda m: sim.run(20 * u.ms, monitors=['node.x'])['node.x']
    >>> target = predict(net)                        # synthetic data at k = 0.5
    >>> net.k.set_value(0.3)
    >>> fitter = Fitter(net, braintools.optim.Adam(lr=0.05), predict=predict)  # doctest: +SKIP
    >>> result = fitter.fit(target, n_steps=100)                               # doctest: +SKIP
    >>> result.best_params['k']                                                # doctest: +SKIP
    Array(0.5..., dtype=float32)
    """

    def __init__(self, model, optimizer=None, *, loss_fn=None, objective=None, predict=None, backend='grad',
                 callbacks=None, transient=None, search_space=None, gradient='auto'):
        if not isinstance(model, brainstate.nn.Module):
            raise TypeError(f'`model` must be a brainstate module (a *Step model or a Network); '
                            f'got {type(model).__name__}.')
        if not isinstance(backend, str) or backend not in BACKENDS:
            raise ValueError(f'Unknown `backend` {backend!r}; choose one of: {format_choices(BACKENDS)}.')
        if not isinstance(gradient, str) or gradient not in GRADIENTS:
            raise ValueError(f'Unknown `gradient` {gradient!r}; choose one of: {format_choices(GRADIENTS)}.')
        self.model = model
        self.gradient = gradient
        self.backend = backend
        self.loss_fn, self.predict, self.objective = _check_mode(loss_fn, predict, objective)
        self.callbacks, self._callback_styles = _check_callbacks(callbacks)
        self.transient = _check_transient(transient)
        self.parameters = trainable_parameters(model)
        if not self.parameters:
            raise ValueError(f'{type(model).__name__} has no trainable parameters (no brainstate.ParamState): '
                             f'{_HOW_TO_MARK}.')
        self.search_space = _check_search_space(search_space, self.parameters)
        self.optimizer = _check_optimizer(optimizer, backend)
        self._layout = _Layout(list(self.parameters.values()))
        self._boxes = self._make_boxes()
        self._ng_pad = _nevergrad_padding(self.optimizer, self._layout.c_size) if backend == 'nevergrad' else 0
        self.trace_count = 0
        self._program: Optional[_Program] = None
        self._holder = None
        self.result: Optional[FitResult] = None

    @property
    def gradient_mode(self) -> str:
        """'forward' or 'reverse': how the loss is differentiated (see ``gradient``)."""
        if self._program is not None:
            return self._program.gradient_mode
        return self._mode_by_size()

    def _mode_by_size(self):
        if self.gradient == 'auto':
            return 'forward' if self._layout.size == 1 else 'reverse'
        return self.gradient

    # ------------------------------------------------------------------ public
    def fit(self, target=None, n_steps=100, *, verbose=False, progress=False) -> FitResult:
        """Run the optimisation and leave the model holding the best parameters.

        Parameters
        ----------
        target : array or Quantity, optional
            Data the prediction is compared with (required with ``predict``; not
            allowed with ``loss_fn``). It must have the prediction's shape (after
            ``transient``); the time-series FC / FCD objectives only need the same number
            of regions; ``fc_matrix_*`` objectives take the ``(N, N)`` FC matrix and
            ``fcd_distribution_*`` ones the FCD values (or matrix).
        n_steps : int, default 100
            Optimizer steps ('grad'), generations ('nevergrad': ``n_steps * n_sample``
            evaluations) or iterations ('scipy').
        verbose : bool, default False
            Print progress (about ten lines per fit).
        progress : bool, default False
            Show a one-line text progress bar on stderr (step, loss, best loss, elapsed
            time), updated in place; it replaces ``verbose``'s progress lines. No
            extra dependency (no tqdm).

        Returns
        -------
        FitResult
            Also kept as :attr:`result`. A ``KeyboardInterrupt`` during the fit leaves the
            partial result there (and the best parameters so far in the model) and is re-raised.
        """
        n_steps = check_int_at_least(n_steps, 1, 'n_steps')
        report = 'bar' if check_bool(progress, 'progress') else check_bool(verbose, 'verbose')
        target = self._check_target(target)
        start = time.perf_counter()
        self.result = None
        program = _Program(self, target)
        self._program = program
        runner = {'grad': self._fit_grad, 'nevergrad': self._fit_nevergrad, 'scipy': self._fit_scipy}[self.backend]
        if verbose:
            mode = f', {self.gradient_mode}-mode gradient' if self.backend != 'nevergrad' else ''
            print(f'[Fitter:{self.backend}] fitting {", ".join(self.parameters)} '
                  f'({self._layout.size} values{mode}), n_steps={n_steps}', flush=True)
        progress = _Progress()
        try:
            runner(program, n_steps, report, progress)
        except KeyboardInterrupt:
            if progress.best_x is not None:
                progress.stop_reason = 'interrupted'
                self.result = self._finish(progress, start, verbose)
            raise
        finally:
            if report == 'bar':
                print(file=sys.stderr, flush=True)  # end the bar's line
        self.result = self._finish(progress, start, verbose)
        return self.result

    def _finish(self, progress, start, verbose):
        """Write the best parameters into the model and build the FitResult."""
        self._layout.write(progress.best_x)
        raw = progress.raw
        if self.backend == 'grad':
            raw = dict(initial_loss=progress.initial_loss, best_step=progress.best_step,
                       best_theta=np.asarray(progress.best_x))
        result = FitResult(
            backend=self.backend, best_loss=progress.best_loss, best_params=self.current_params(),
            history=np.asarray(progress.history, dtype=float), n_steps=len(progress.history),
            prediction=progress.prediction, optimizer=progress.optimizer, raw=raw, model=self.model,
            initial_loss=progress.initial_loss, n_evaluations=progress.n_evaluations,
            wall_time=time.perf_counter() - start, stop_reason=progress.stop_reason)
        if verbose:
            how = 'interrupted' if progress.stop_reason == 'interrupted' else 'done'
            print(f'[Fitter:{self.backend}] {how} after {result.n_steps} steps, {result.wall_time:.2f} s: best '
                  f'loss {result.best_loss:.6g}, '
                  f'{", ".join(f"{k}={_short(v)}" for k, v in result.best_params.items())}', flush=True)
        return result

    def evaluate(self, params=None):
        """Re-evaluate the last fit's objective: ``(loss, prediction)``.

        Uses the same compiled function that produced ``FitResult.best_loss``, so
        evaluating the best parameters gives exactly ``best_loss``.

        Parameters
        ----------
        params : dict, optional
            ``{path: constrained value}`` written into the model first (they stay
            there); default: the model's current values.
        """
        if self._program is None:
            raise RuntimeError('Fitter.evaluate() needs a fit first: call fit(target) (or make_loss(target)).')
        if params is not None:
            self.set_params(params)
        if self._program.canonical is None:
            self._program.canonical = 'value'
        return self._program.evaluate(self._layout.read())

    def make_loss(self, target=None):
        """The pure objective of the unconstrained parameter vector.

        Returns
        -------
        loss_of : callable
            ``loss_of(theta) -> scalar``, a pure JAX function (jit / grad / jvp /
            vmap-safe) of the flat unconstrained vector; it traces the model once,
            here. ``jax.grad`` of it uses :attr:`gradient_mode` (forward or reverse mode).
        theta0 : jax.Array
            The current unconstrained vector (parameters in :attr:`parameters` order).

        Examples
        --------
        >>> loss_of, theta0 = fitter.make_loss(target)         # doctest: +SKIP
        >>> jax.grad(loss_of)(theta0)                          # doctest: +SKIP
        """
        target = self._check_target(target)
        program = _Program(self, target)
        self._program = program
        return (lambda theta: program.differentiable(theta, program.target)[0]), program.x0

    def current_params(self) -> dict:
        """``{path: constrained value}`` the model holds now."""
        return {path: p.value() for path, p in self.parameters.items()}

    def set_params(self, params: dict):
        """Write constrained values ``{path: value}`` into the model.

        Every value is checked before any is written: numeric and finite, a scalar or of the
        parameter's shape, in its unit (plain numbers are read in it) and strictly inside the
        values its transform can take; otherwise a ``ValueError`` (``TypeError`` for a
        non-number) names ``params[path]``.
        """
        if not isinstance(params, dict):
            raise TypeError(f'`params` must be a dict {{path: value}}; got {type(params).__name__}.')
        checked = []  # every value is checked before any is written
        for path, value in params.items():
            p = self._param(path, 'params')
            checked.append((p, _check_param_value(path, p, value)))
        for p, value in checked:
            if p.param is None:
                p.state.value = value
            else:
                p.param.set_value(value)

    def __repr__(self):
        return (f'Fitter(model={type(self.model).__name__}, backend={self.backend!r}, '
                f'parameters={list(self.parameters)}, gradient={self.gradient!r})')

    # -------------------------------------------------------------- checks
    def _param(self, path, argname):
        if path not in self.parameters:
            raise ValueError(_unknown_param(path, self.parameters, argname))
        return self.parameters[path]

    def _check_target(self, target):
        if self.loss_fn is not None:
            if target is not None:
                raise TypeError('`target` is not used with `loss_fn` (loss_fn(model) computes the loss itself); '
                                'call fit() without a target, or use predict= and objective=.')
            return None
        if target is None:
            raise TypeError('fit() needs a `target` to compare the prediction with (predict= was given).')
        if callable(target):
            raise TypeError('`target` must be an array (the data), not a callable.')
        mag = u.get_magnitude(target)
        try:
            arr = np.asarray(mag, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f'`target` must be numeric (an array or Quantity); got {type(target).__name__}.') from err
        for bad, what in ((np.isnan(arr), 'NaN'), (np.isinf(arr), 'inf')):
            if bad.any():
                where = tuple(int(i) for i in np.argwhere(bad)[0])
                raise ValueError(f'`target` contains {int(bad.sum())} {what} value(s) (first at index {where}); '
                                 f'clean or mask the data before fitting.')
        validate = getattr(self.objective, 'validate_target', None)
        if callable(validate):  # the objective's checks of a concrete target (e.g. an FC matrix where a
            validate(target)    # time series is expected): the target is traced inside the fit
        if isinstance(target, u.Quantity):
            return u.Quantity(jnp.asarray(arr, dtype=brainstate.environ.dftype()), unit=u.get_unit(target))
        return jnp.asarray(arr, dtype=brainstate.environ.dftype())

    def _make_boxes(self):
        """Per-parameter (lower, upper) of the constrained search box (magnitudes)."""
        boxes = {}
        for path, p in self.parameters.items():
            lo, hi = self.search_space.get(path, p.bounds)
            if path in self.search_space:
                _check_range_in_bounds(path, (lo, hi), p)
            elif self.backend == 'nevergrad' and (lo is None or hi is None):
                raise ValueError(
                    f"Parameter {path!r} is unbounded ({_describe_t(p)}), so the 'nevergrad' back end has no box "
                    f"to search: give a range, e.g. search_space={{{path!r}: (low, high)}}, or a bounded "
                    f"transform such as brainstate.nn.SigmoidT(low, high).")
            boxes[path] = (lo, hi)
        return boxes

    # ------------------------------------------------------------- in trace
    def _evaluate_in_trace(self, flat, target):
        """Runs once per fit under StatefulFunction: write theta, predict, compare."""
        self._layout.write(flat)
        if self.loss_fn is not None:
            return _scalar_loss(self.loss_fn(self.model), f'`loss_fn` {_name(self.loss_fn)}(model)'), None
        prediction, ts = _unwrap_prediction(self.predict(self.model))
        prediction = _drop_transient(prediction, ts, self.transient)
        _check_shapes(prediction, target, self.objective, self.transient)
        try:
            loss = self.objective(prediction, target)
        except u.UnitMismatchError as err:
            pu, tu = u.get_unit(prediction), u.get_unit(target)
            if pu.has_same_dim(tu):
                raise  # a unit error of the objective itself (e.g. combine() terms): its own message
            raise UnitMismatchError(
                f'`target` is {unit_phrase(tu)} but the prediction (what `predict` returns) is '
                f'{unit_phrase(pu)}, and the objective {getattr(self.objective, "__name__", "")}() cannot '
                f'compare them. Give the target in units of the same kind as the prediction (or return the '
                f'prediction in the target\'s unit); plain numbers on one side need plain numbers on the '
                f'other.') from err
        return _scalar_loss(loss, f'the objective {_name(self.objective)}(prediction, target)'), prediction

    # ------------------------------------------------------------- helpers
    def _params_of(self, flat):
        """``{path: constrained value}`` of an unconstrained vector (for callbacks)."""
        return {p.path: (p.forward(v) if p.param is not None else v)
                for p, v in zip(self._layout.params, self._layout.split(jnp.asarray(flat)))}

    def _callback(self, progress, step, loss, flat_fn, legacy_best=False):
        """Call the callbacks after a step; True (and ``progress.stop_reason``) when one asks to stop.

        ``legacy_best``: old three-argument callbacks get the best loss and parameters so far
        (what 'nevergrad' always passed them) instead of this step's.
        """
        if not self.callbacks:
            return False
        params = self._params_of(flat_fn())
        best = None if progress.best_x is None else self._params_of(progress.best_x)
        info = dict(step=step, loss=loss, params=params, best_loss=progress.best_loss, best_params=best,
                    n_evaluations=progress.n_evaluations, backend=self.backend)
        legacy = (step, progress.best_loss, best) if legacy_best else (step, loss, params)
        stop = False
        for cb, style in zip(self.callbacks, self._callback_styles):
            if style == 'legacy' and legacy[2] is None:
                continue  # nothing finite yet to show an old-style callback
            stop = bool(cb(dict(info)) if style == 'info' else cb(*legacy)) or stop
        if stop:
            progress.stop_reason = 'callback'
        return stop

    def _c_box(self):
        """Constrained box as two flat float arrays (nan where open)."""
        lo = np.full(self._layout.c_size, np.nan)
        hi = np.full(self._layout.c_size, np.nan)
        for p, sl, shape in self._layout.c_slices():
            blo, bhi = self._boxes[p.path]
            if blo is not None:
                lo[sl] = np.broadcast_to(np.asarray(blo, dtype=float), shape).ravel()
            if bhi is not None:
                hi[sl] = np.broadcast_to(np.asarray(bhi, dtype=float), shape).ravel()
        return lo, hi

    # ================================================================ grad
    def _fit_grad(self, program, n_steps, verbose, progress):
        import braintools
        opt = self.optimizer if self.optimizer is not None else braintools.optim.Adam(lr=1e-2)
        progress.optimizer = opt
        if self._holder is None:
            self._holder = brainstate.ParamState(program.x0)
        holder = self._holder
        holder.value = program.x0
        _check_fresh_optimizer(opt, holder)
        opt.register_trainable_weights({'theta': holder})
        project = self._projection()

        @brainstate.transform.jit
        def update(grads):
            opt.step({'theta': grads})
            if project is not None:
                holder.value = project(holder.value)

        program.canonical = 'vg'
        vg = program.value_and_grad
        target = program.target
        x = holder.value
        (loss, pred), grads = vg(x, target)
        loss = float(loss)
        progress.n_evaluations = 1
        if not math.isfinite(loss):
            raise FloatingPointError(f'The loss at the starting parameters is {loss}: check the model, the '
                                     f'parameters ({self._describe_current()}) and the target.')
        progress.initial_loss = loss
        progress.offer(loss, x, pred, 0)
        reporter = _Reporter('grad', n_steps, verbose)
        for step in range(1, n_steps + 1):
            update(grads)
            x = holder.value
            (loss, pred), grads = vg(x, target)
            loss = float(loss)
            progress.n_evaluations += 1
            progress.history.append(loss)
            progress.offer(loss, x, pred, step)
            reporter(step, loss, progress.best_loss)
            if not math.isfinite(loss):
                warnings.warn(f'The loss became {loss} at step {step}; stopping (the best parameters, from step '
                              f'{progress.best_step}, are kept). Lower the learning rate or bound the parameters.',
                              RuntimeWarning, stacklevel=3)
                progress.stop_reason = 'non-finite loss'
                break
            if self._callback(progress, step, loss, lambda: x):
                break

    def _projection(self):
        """Clip parameters with a search_space range into it (constrained space), or None."""
        ranged = [p for p in self._layout.params if p.path in self.search_space]
        if not ranged:
            return None
        layout = self._layout

        def project(flat):
            parts = []
            for i, (p, value) in enumerate(zip(layout.params, layout.split(flat))):
                if p.path in self.search_space:
                    lo, hi = self.search_space[p.path]
                    c = u.get_magnitude(p.forward(value))
                    c = jnp.clip(c, lo, hi)
                    c = _open_clip(jnp.asarray(c, dtype=layout.dtype), p.bounds)
                    value = p.inverse(_attach(c, layout.c_units[i]))
                parts.append(jnp.ravel(jnp.asarray(u.get_magnitude(value), dtype=layout.dtype)))
            return jnp.concatenate(parts)
        return project

    # =========================================================== nevergrad
    def _fit_nevergrad(self, program, n_steps, verbose, progress):
        import nevergrad as ng
        opts = dict(self.optimizer)
        method, n_sample, seed = opts['method'], opts['n_sample'], opts['seed']
        layout = self._layout
        lo, hi = self._c_box()
        x0c = np.asarray(layout.to_constrained(program.x0), dtype=float)
        x0c = np.clip(x0c, lo, hi)
        if self._ng_pad:  # a 1-D CMA searches 2-D with an unused second coordinate (see _nevergrad_padding)
            lo, hi, x0c = np.append(lo, 0.), np.append(hi, 1.), np.append(x0c, .5)
        parametrization = ng.p.Array(init=x0c, lower=lo, upper=hi)
        if seed is not None:
            parametrization.random_state.seed(seed)
        ng_opt = _nevergrad_optimizer(ng, method, n_sample)(parametrization=parametrization,
                                                           budget=n_steps * n_sample, num_workers=n_sample)
        progress.optimizer, progress.raw = method, ng_opt
        target, dtype = program.target, layout.dtype
        to_u = jax.jit(jax.vmap(layout.to_unconstrained))
        program.canonical = ('batch', n_sample)

        def evaluate(thetas):
            if program.canonical != 'value':
                try:
                    losses, pred = program.batch(thetas, target)
                    return np.asarray(losses, dtype=float), pred
                except Exception as err:  # noqa: BLE001 - models that cannot be vmapped
                    warnings.warn(f'Evaluating the population with jax.vmap failed ({type(err).__name__}: '
                                  f'{str(err)[:300]}); evaluating the candidates one by one.', RuntimeWarning,
                                  stacklevel=4)
                    program.canonical = 'value'
            outs = [program.value(theta, target) for theta in thetas]
            losses = np.asarray([float(o[0]) for o in outs])
            ok = np.where(np.isfinite(losses), losses, np.inf)
            return losses, outs[int(np.argmin(ok))][1]

        reporter = _Reporter('nevergrad', n_steps, verbose)
        for gen in range(1, n_steps + 1):
            cands = [ng_opt.ask() for _ in range(n_sample)]
            values = np.stack([c.value for c in cands])[:, :layout.c_size]
            thetas = to_u(jnp.asarray(values, dtype=dtype))
            losses, pred = evaluate(thetas)
            for c, loss in zip(cands, losses):
                ng_opt.tell(c, float(loss) if np.isfinite(loss) else _NG_BAD_LOSS)
            progress.n_evaluations += n_sample
            i = int(np.argmin(np.where(np.isfinite(losses), losses, np.inf)))
            progress.offer(float(losses[i]), thetas[i], pred, gen)
            progress.history.append(progress.best_loss)
            reporter(gen, float(losses[i]), progress.best_loss)
            if self._callback(progress, gen, float(losses[i]), lambda: thetas[i], legacy_best=True):
                break
        if progress.best_x is None:
            raise FloatingPointError('Every candidate gave a non-finite loss: check the model, the search box '
                                     f'{self._boxes} and the target.')

    # =============================================================== scipy
    def _fit_scipy(self, program, n_steps, verbose, progress):
        import scipy.optimize
        opts = dict(self.optimizer)
        method = opts.pop('method')
        tol = opts.pop('tol', None)
        opts.update(opts.pop('options', None) or {})  # {'options': {...}} as minimize() spells it
        if method == 'TNC':
            opts.setdefault('maxfun', n_steps)
        else:
            opts.setdefault('maxiter', n_steps)
        layout, dtype, target = self._layout, self._layout.dtype, program.target
        lo, hi = self._c_box()
        bounds = [(None if np.isnan(a) else float(a), None if np.isnan(b) else float(b)) for a, b in zip(lo, hi)]
        x0c = np.asarray(layout.to_constrained(program.x0), dtype=float)
        x0c = np.clip(x0c, np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi))
        to_u = jax.jit(layout.to_unconstrained)
        pullback = jax.jit(lambda xc, g: jax.vjp(layout.to_unconstrained, xc)[1](g)[0])
        use_grad = method in _SCIPY_GRADIENT_METHODS
        program.canonical = 'vg' if use_grad else 'value'
        progress.optimizer = method
        seen: Dict[bytes, float] = {}
        start_key = np.asarray(x0c, dtype=float).tobytes()

        def fun(xc64):
            xc = jnp.asarray(xc64, dtype=dtype)
            x = to_u(xc)
            if use_grad:
                (loss, pred), g = program.value_and_grad(x, target)
            else:
                loss, pred = program.value(x, target)
            loss = float(loss)
            progress.n_evaluations += 1
            key = np.asarray(xc64, dtype=float).tobytes()
            seen[key] = loss
            if key == start_key:
                progress.initial_loss = loss
            progress.offer(loss, x, pred, len(progress.history))
            value = loss if math.isfinite(loss) else 1e30
            if not use_grad:
                return value
            grad = np.asarray(pullback(xc, g), dtype=float)
            return value, (grad if math.isfinite(loss) else np.zeros_like(grad))

        history = progress.history
        reporter = _Reporter('scipy', n_steps, verbose)

        def callback(xk, *args):
            key = np.asarray(xk, dtype=float).tobytes()
            loss = seen[key] if key in seen else (fun(xk)[0] if use_grad else fun(xk))
            history.append(float(loss))
            reporter(len(history), float(loss), progress.best_loss)
            if self._callback(progress, len(history), float(loss), lambda: to_u(jnp.asarray(xk, dtype=dtype))):
                raise StopIteration

        try:  # a misspelt option keeps scipy's "Unknown solver options" warning
            res = scipy.optimize.minimize(fun, x0c, jac=use_grad, method=method, bounds=bounds, tol=tol,
                                          callback=callback, options=opts)
        except StopIteration:  # methods whose callbacks scipy does not wrap
            res = scipy.optimize.OptimizeResult(message='`callback` raised `StopIteration`.', success=False,
                                                nit=len(history))
        progress.raw = res
        if progress.best_x is None:
            raise FloatingPointError('Every evaluation gave a non-finite loss: check the model and the target.')
        if not history:
            history.append(progress.best_loss)

    def _describe_current(self):
        return ', '.join(f'{k}={_short(v)}' for k, v in self.current_params().items())


# =============================================================================
# helpers
# =============================================================================
class _Reporter:
    """Prints about ten progress lines per fit when verbose; ``verbose='bar'``: a text bar on stderr."""

    def __init__(self, backend, n_steps, verbose):
        self.backend, self.n_steps, self.verbose = backend, n_steps, verbose
        self.every = max(1, n_steps // 10)
        self.word = {'grad': 'step', 'nevergrad': 'generation', 'scipy': 'iteration'}[backend]
        self.start = time.perf_counter()

    def __call__(self, step, loss, best):
        if self.verbose == 'bar':
            self._bar(step, loss, best)
        elif self.verbose and (step % self.every == 0 or step == self.n_steps or step == 1):
            print(f'[Fitter:{self.backend}] {self.word} {step:>5d}/{self.n_steps}  loss {loss:.6g}  '
                  f'best {best:.6g}  ({time.perf_counter() - self.start:.1f} s)', flush=True)


    def _bar(self, step, loss, best, width=24):
        if step % max(1, self.n_steps // 100) and step != self.n_steps and step != 1:
            return
        done = int(width * min(step, self.n_steps) / self.n_steps)
        sys.stderr.write(f'\r[Fitter:{self.backend}] |{"#" * done}{"." * (width - done)}| {step}/{self.n_steps} '
                         f'loss {loss:.4g} best {best:.4g} ({time.perf_counter() - self.start:.1f} s)')
        sys.stderr.flush()


def _check_mode(loss_fn, predict, objective):
    if loss_fn is not None:
        if not callable(loss_fn):
            raise TypeError(f'`loss_fn` must be a callable loss_fn(model) -> scalar; got {type(loss_fn).__name__}.')
        if predict is not None or objective is not None:
            raise TypeError('Give either `loss_fn` (loss_fn(model) -> scalar) or `predict` (+ `objective`), '
                            'not both.')
        return loss_fn, None, None
    if predict is None:
        raise TypeError('Fitter needs `predict` (predict(model) -> prediction, compared with the target by '
                        '`objective`) or `loss_fn` (loss_fn(model) -> scalar).')
    if not callable(predict):
        raise TypeError(f'`predict` must be a callable predict(model) -> prediction; got {type(predict).__name__}.')
    if objective is None:
        from .objectives import timeseries_rmse
        objective = timeseries_rmse()
    if not callable(objective):
        raise TypeError(f'`objective` must be a callable f(prediction, target) -> scalar; got '
                        f'{type(objective).__name__}.')
    problem = _similarity_problem(objective)
    if problem:
        raise ValueError(problem)
    return None, predict, objective


def _name(f):
    return getattr(f, '__name__', type(f).__name__)


def _similarity_problem(objective):
    """Why the Fitter cannot minimise ``objective`` (a similarity, or one in a combine()), or None."""
    name = _name(objective)
    if getattr(objective, 'higher_is_better', False):
        use = _SIMILARITIES.get(name, 'its loss form')
        return f'`objective` {name}() is a similarity (higher is better) but the Fitter minimises: use {use}.'
    for i, (w, f) in enumerate(getattr(objective, 'terms', ())):
        if getattr(f, 'higher_is_better', False) and _weight_sign(w) > 0:
            use = _SIMILARITIES.get(_name(f), 'its loss form')
            return (f'`objective` {name}(): combine() term {i} ({_name(f)}) is a similarity (higher is better) '
                    f'with a positive weight, but the Fitter minimises: use {use} or a negative weight.')
    return None


def _check_callbacks(callbacks):
    """``(callables, styles)``: each callback and how it is called ('info' or 'legacy')."""
    if callbacks is None:
        return [], []
    items = [callbacks] if callable(callbacks) else callbacks
    if not isinstance(items, (list, tuple)) or not all(callable(c) for c in items):
        raise TypeError('`callbacks` must be a callable cb(info) or a list of them; got '
                        f'{type(callbacks).__name__}.')
    styles = []
    for cb in items:  # a loop, not a comprehension: the warning's stacklevel points at the caller
        styles.append(_callback_style(cb))
    return list(items), styles


def _callback_style(cb):
    """'info' for ``cb(info)``; 'legacy' (deprecated, with a warning) for ``cb(step, loss, params)``."""
    try:
        sig = inspect.signature(cb)
    except (TypeError, ValueError):  # no signature to read (some builtins): the current form
        return 'info'
    for style, n_args in (('info', 1), ('legacy', 3)):
        try:
            sig.bind(*range(n_args))
        except TypeError:
            continue
        if style == 'legacy':
            warnings.warn(f'callback {_name(cb)}{sig}: the three-argument form cb(step, loss, params) is deprecated. '
                          f"Take one argument, the info dict: cb(info) with info['step'], info['loss'], "
                          f"info['params'], info['best_loss'], ...", DeprecationWarning, stacklevel=4)
        return style
    raise TypeError(f'callback {_name(cb)}{sig} must take one argument, the info dict (cb(info) with '
                    f"info['step'], info['loss'], info['params'], ...).")


def _check_transient(transient):
    if transient is None:
        return None
    if isinstance(transient, u.Quantity):
        if not u.get_unit(transient).has_same_dim(u.ms):
            raise TypeError(f'`transient` must be a number of samples (int) or a time; got {transient}.')
        if float(u.get_magnitude(transient)) < 0:
            raise ValueError(f'`transient` must be >= 0; got {transient}.')
        return transient
    return check_int_at_least(transient, 0, 'transient')


def _unknown_param(path, parameters, argname):
    known = ', '.join(repr(k) for k in parameters)
    hint = [k for k in parameters if k.split('.')[-1] == str(path)]
    extra = f' Did you mean {hint[0]!r}?' if hint else ''
    return f'`{argname}` names an unknown parameter {path!r}.{extra} The trainable parameters are: {known}.'


def _check_search_space(search_space, parameters):
    if search_space is None:
        return {}
    if not isinstance(search_space, dict):
        raise TypeError(f'`search_space` must be a dict {{path: (low, high)}}; got {type(search_space).__name__}.')
    out = {}
    for path, rng in search_space.items():
        if path not in parameters:
            raise ValueError(_unknown_param(path, parameters, 'search_space'))
        if not isinstance(rng, (tuple, list)) or len(rng) != 2:
            raise TypeError(f'search_space[{path!r}] must be a (low, high) pair; got {rng!r}.')
        value = parameters[path].value()
        unit = u.get_unit(value)
        for b in rng:
            if b is None:
                continue
            if not _is_plain_number_like(b):
                raise TypeError(f'search_space[{path!r}] must hold numbers (or Quantities in the parameter\'s '
                                f'unit); got {rng!r}.')
            if isinstance(b, u.Quantity) and not u.get_unit(b).has_same_dim(unit):
                raise ValueError(f'search_space[{path!r}] is {unit_phrase(u.get_unit(b))} but parameter '
                                 f'{path!r} is {unit_phrase(unit)}; plain numbers are read in the '
                                 f'parameter\'s unit.')
        try:
            lo, hi = _magnitude_bounds(tuple(rng), value)
        except (TypeError, ValueError) as err:
            raise TypeError(f'search_space[{path!r}] must hold numbers; got {rng!r}.') from err
        shape = tuple(u.math.shape(value))
        for b in (lo, hi):
            if b is not None and np.ndim(b) and not broadcasts_to(np.shape(b), shape):
                raise ValueError(f'search_space[{path!r}] has a bound of shape {np.shape(b)} but parameter '
                                 f'{path!r} has shape {shape}; give scalars or arrays of that shape.')
        if lo is None or hi is None or not np.all(np.isfinite(lo)) or not np.all(np.isfinite(hi)):
            raise ValueError(f'search_space[{path!r}] must have finite low and high; got {rng!r}.')
        if not np.all(np.asarray(lo) < np.asarray(hi)):
            raise ValueError(f'search_space[{path!r}] needs low < high; got {rng!r}.')
        out[path] = (lo, hi)
    return out


def _describe_t(p):
    return 'no transform' if p.param is None else f'transform {p.param.t!r}'


def _check_range_in_bounds(path, rng, p):
    lo, hi = rng
    tlo, thi = p.bounds
    if (tlo is not None and np.any(np.asarray(lo) < np.asarray(tlo))) or \
            (thi is not None and np.any(np.asarray(hi) > np.asarray(thi))):
        raise ValueError(f'search_space[{path!r}] = ({lo}, {hi}) reaches outside ({tlo}, {thi}), the values '
                         f'its {_describe_t(p)} can take; narrow the range.')


def _is_plain_number_like(value):
    return not (isinstance(value, (str, bytes)) or value is None or isinstance(value, (bool, np.bool_)))


def _check_param_value(path, p, value):
    """A constrained value for parameter ``p``: numeric, finite, of its shape (or broadcastable to it),
    in its unit, inside the values its transform can take. Returns the value to write."""
    where = f'params[{path!r}]'
    current = p.value()
    unit = u.get_unit(current)
    shape = tuple(u.math.shape(current))
    numeric_magnitude(value, where, 'a number, an array or a Quantity')
    if isinstance(value, u.Quantity):
        if not u.get_unit(value).has_same_dim(unit):
            raise ValueError(f'{where} is {unit_phrase(u.get_unit(value))} but parameter {path!r} is '
                             f'{unit_phrase(unit)}.')
        mag = u.get_magnitude(value) if unit.is_unitless else value.to_decimal(unit)
    else:
        mag = value  # plain numbers are magnitudes in the parameter's unit
    arr = numeric_magnitude(mag, where, 'a number, an array or a Quantity')
    if arr is None:  # traced
        return value
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f'{where} has shape {arr.shape} but parameter {path!r} has shape {shape}; give a '
                         f'scalar or an array of that shape.') from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'{where} must be finite; got {value!r}.')
    lo, hi = p.bounds
    if (lo is not None and np.any(arr < np.asarray(lo))) or (hi is not None and np.any(arr > np.asarray(hi))):
        raise ValueError(f'{where} = {_short(value)} is outside ({lo}, {hi}), the values the {_describe_t(p)} '
                         f'of parameter {path!r} can take.')
    dtype = jnp.result_type(u.get_magnitude(current))
    new = _attach(jnp.asarray(arr, dtype=dtype if jnp.issubdtype(dtype, jnp.floating) else None), unit)
    if p.param is not None:
        raw = np.asarray(u.get_magnitude(p.inverse(new)))
        if not np.all(np.isfinite(raw)):
            raise ValueError(f'{where} = {_short(value)} lies on a bound of ({lo}, {hi}), where the {_describe_t(p)} '
                             f'of parameter {path!r} has no finite unconstrained value; give a value strictly '
                             f'inside.')
    return new


def _check_optimizer(optimizer, backend):
    if backend == 'grad':
        if optimizer is None:
            return None
        if not (hasattr(optimizer, 'register_trainable_weights') and hasattr(optimizer, 'step')):
            raise TypeError(f"backend 'grad' needs a braintools.optim optimizer (e.g. braintools.optim.Adam(lr=1e-2)) "
                            f"as `optimizer`; got {optimizer!r}.")
        return optimizer
    if backend == 'nevergrad':
        return _check_nevergrad_options(optimizer)
    return _check_scipy_options(optimizer)


def _check_nevergrad_options(optimizer):
    """``{'method', 'n_sample', 'seed'}`` from a method name, a dict or None (DE, 16 per generation, seed 0)."""
    import nevergrad as ng
    opts = dict(method='DE', n_sample=DEFAULT_N_SAMPLE, seed=0)
    if isinstance(optimizer, str):
        opts['method'] = optimizer
    elif isinstance(optimizer, dict):
        unknown = [k for k in optimizer if k not in _NEVERGRAD_OPTIONS]
        if unknown:
            raise TypeError(f"Unknown nevergrad option(s) {unknown}; the dict may hold "
                            f"{format_choices(_NEVERGRAD_OPTIONS)}.")
        given = dict(optimizer)
        if 'popsize' in given:  # the old name of n_sample
            size = given.pop('popsize')
            if 'n_sample' in given and given['n_sample'] != size:
                raise ValueError(f"optimizer gives both 'n_sample' ({given['n_sample']!r}) and 'popsize' "
                                 f"({size!r}), its old name; give only 'n_sample'.")
            given.setdefault('n_sample', size)
        opts.update(given)
    elif optimizer is not None:
        raise TypeError(f"backend 'nevergrad' takes a method name (e.g. 'DE', 'CMA') or a dict "
                        f"{{'method': ..., 'n_sample': ..., 'seed': ...}} as `optimizer`; got {optimizer!r}.")
    if not isinstance(opts['method'], str) or opts['method'] not in ng.optimizers.registry:
        common = ('DE', 'TwoPointsDE', 'CMA', 'PSO', 'NGOpt', 'OnePlusOne', 'RandomSearch')
        raise ValueError(f"Unknown nevergrad method {opts['method']!r}; common choices: {format_choices(common)} "
                         f"(all: sorted(nevergrad.optimizers.registry)).")
    opts['n_sample'] = check_int_at_least(opts['n_sample'], 2, "optimizer['n_sample']")
    if opts['seed'] is not None:
        opts['seed'] = check_int_at_least(opts['seed'], 0, "optimizer['seed']")
    return opts


def _nevergrad_optimizer(ng, method, n_sample):
    """A nevergrad optimizer class/config with its population size set where the family allows."""
    fam = ng.families
    if method in ('DE', 'TwoPointsDE'):
        kw = {} if method == 'DE' else {'crossover': 'twopoints'}
        return fam.DifferentialEvolution(popsize=n_sample, **kw)
    if method == 'CMA':
        return fam.ParametrizedCMA(popsize=n_sample)
    if method == 'PSO':
        return fam.ConfPSO(transform='arctan', popsize=n_sample)
    return ng.optimizers.registry[method]


def _nevergrad_padding(opts, size):
    """Extra (unused) search coordinates the nevergrad method needs for ``size`` values: 0 or 1.

    Asks a throw-away optimizer for one candidate, so a method that cannot run fails here, when
    the Fitter is built. nevergrad runs its CMA family in one dimension only through the optional
    ``fcmaes`` package (pycma needs two): without it a one-value CMA fit searches two dimensions,
    the second one unused by the loss - still CMA-ES on the fitted value. A method that needs a
    missing package otherwise raises an ``ImportError`` saying what to install or use instead.
    """
    import nevergrad as ng
    method, n = opts['method'], opts['n_sample']
    for pad in ((0, 1) if size == 1 else (0,)):
        dim = size + pad
        space = ng.p.Array(init=np.full(dim, .5), lower=np.zeros(dim), upper=np.ones(dim))
        try:
            _nevergrad_optimizer(ng, method, n)(parametrization=space, budget=n, num_workers=n).ask()
        except ImportError as err:
            if 'fcmaes' in str(err) and size == 1 and not pad:
                continue  # nevergrad's 1-D CMA: two dimensions instead
            raise ImportError(f"nevergrad method {method!r} cannot run without a package that is not "
                              f"installed ({err}). Install it, or choose another method, e.g. 'DE' (the "
                              f"default), 'TwoPointsDE', 'CMA' or 'PSO'.") from err
        except Exception:  # noqa: BLE001 - any other trouble shows in the fit itself
            pass
        return pad
    return 0


def _check_scipy_options(optimizer):
    opts = {'method': 'L-BFGS-B'}
    if isinstance(optimizer, str):
        opts['method'] = optimizer
    elif isinstance(optimizer, dict):
        opts.update(optimizer)
    elif optimizer is not None:
        raise TypeError(f"backend 'scipy' takes a method name (e.g. 'L-BFGS-B') or a dict of "
                        f"scipy.optimize.minimize options as `optimizer`; got {optimizer!r}.")
    if opts['method'] not in SCIPY_METHODS:
        raise ValueError(f"Unknown scipy method {opts['method']!r}; the bounded methods are: "
                         f"{format_choices(SCIPY_METHODS)}.")
    inner = opts.get('options') or {}
    if not isinstance(inner, dict):
        raise TypeError(f"optimizer['options'] must be a dict of scipy.optimize.minimize options; got {inner!r}.")
    for key in list(opts) + list(inner):
        if key in _SCIPY_RESERVED:
            raise ValueError(f"optimizer[{key!r}] cannot be given to the scipy back end: {_SCIPY_RESERVED[key]}")
    return opts


def _check_fresh_optimizer(opt, holder):
    states = getattr(getattr(opt, 'param_states', None), 'unique_states', [])
    if any(s is not holder for s in states):
        raise ValueError('The optimizer is already registered with other weights; give the Fitter a fresh '
                         'optimizer (e.g. braintools.optim.Adam(lr=1e-2)).')


def _unwrap_prediction(prediction):
    """An array from ``predict``'s return (a Simulator.run dict with one monitor is accepted)."""
    if isinstance(prediction, dict):
        keys = [k for k in prediction if k != 'ts']
        if len(keys) != 1:
            raise TypeError(f'`predict` returned a dict with entries {keys}; return one array '
                            f"(e.g. res[{keys[0]!r}] if any) to compare with the target.")
        return prediction[keys[0]], prediction.get('ts')
    if isinstance(prediction, (tuple, list)):
        raise TypeError(f'`predict` returned a {type(prediction).__name__} of {len(prediction)} items; return one '
                        f'array (e.g. the first item, or monitor one state with Simulator.run(monitors=[...])).')
    if prediction is None:
        raise TypeError('`predict` returned None; it must return the prediction (an array with time first).')
    return prediction, None


def _describe_transient(transient):
    if isinstance(transient, u.Quantity):
        return f'{float(np.asarray(u.get_mantissa(transient))):g} {u.get_unit(transient)}'
    return f'{transient} samples'


def _drop_transient(prediction, ts, transient):
    """Drop ``transient`` (samples, or a time) from the start of the prediction."""
    if transient is None:
        return prediction
    n_time = u.math.shape(prediction)[0] if u.math.ndim(prediction) else 0
    if isinstance(transient, int):
        n = transient
    elif ts is not None:
        if is_traced(ts):
            raise ValueError(f'`transient` is a time ({_describe_transient(transient)}) but the sample times '
                             f"(`ts`) of predict's result are not known while tracing: give `transient` as a "
                             f'number of samples, or use Simulator.run(transient=...).')
        t = np.asarray(u.get_magnitude(u.Quantity(ts).to(u.ms)))
        tr = float(u.get_magnitude(transient.to(u.ms)))
        spacing = float(np.min(np.diff(t))) if t.size > 1 else float(t[0])
        n = int(np.sum(t < tr + 0.5 * spacing))
    else:  # a plain array: one sample per dt
        n = int(round(float(np.asarray(u.get_magnitude(transient / brainstate.environ.get_dt())))))
    if n >= n_time:
        raise ValueError(f'`transient` ({_describe_transient(transient)}) drops {n} samples but the prediction '
                         f'has only {n_time}.')
    return prediction[n:]


def _check_shapes(prediction, target, objective, transient):
    ps = tuple(u.math.shape(prediction))
    ts = tuple(u.math.shape(target))
    if getattr(objective, 'target_kind', 'timeseries') != 'timeseries':
        return  # an FC matrix / FCD target: the objective checks it against the prediction
    flexible = bool(getattr(objective, 'time_flexible', False))
    same = ps[1:] == ts[1:] and len(ps) == len(ts) if flexible else ps == ts
    if not same:
        after = f' (after dropping transient={_describe_transient(transient)})' if transient is not None else ''
        need = 'the same shape apart from the time axis' if flexible else 'the same shape'
        raise ValueError(f'`target` has shape {ts} but the prediction has shape {ps}{after}; they must have '
                         f'{need}.')


def _scalar_loss(loss, what):
    if loss is None:
        raise TypeError(f'{what} returned None; it must return a scalar loss (a missing `return`?).')
    if isinstance(loss, u.Quantity):
        loss = u.get_magnitude(loss)
    try:
        loss = jnp.asarray(loss)
    except TypeError as err:
        raise TypeError(f'{what} must return a scalar; got {type(loss).__name__}.') from err
    if loss.shape != ():
        raise TypeError(f'{what} must return a scalar; got shape {loss.shape}.')
    return loss.astype(brainstate.environ.dftype())
