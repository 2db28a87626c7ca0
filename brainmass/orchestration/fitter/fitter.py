"""The :class:`Fitter`: finds a model's trainable parameters, traces the objective once per fit and
hands it to a back end (:mod:`.backends`); see :mod:`brainmass.orchestration.fitter`."""
from __future__ import annotations

import sys
import time
from typing import Optional

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from ..._core.compile_cache import callable_key, model_programs, model_signature, refers_to
from ..._core.units import unit_phrase
from ..._core.validation import check_bool, check_int_at_least, format_choices
from ...objectives import UnitMismatchError
from .backends import fit_grad, fit_nevergrad, fit_scipy, nevergrad_padding
from .checks import (BACKENDS, GRADIENTS, callable_name, check_callbacks, check_mode, check_optimizer,
                     check_param_value, check_search_space, check_shapes, check_target, check_transient,
                     drop_transient, make_boxes, scalar_loss, unknown_param, unwrap_prediction)
from .parameters import Layout, box_arrays, search_projection, trainable_parameters
from .program import Program, TracedObjective
from .result import FitResult, Progress, short_value

__all__ = ['Fitter']

_HOW_TO_MARK = ('mark one as trainable, e.g. brainmass.HopfStep(N, a=brainstate.nn.Param(0.2, '
                't=brainstate.nn.SoftplusT(0.), fit=True)) or Network(..., k=brainstate.nn.Param(value, '
                't=brainstate.nn.SoftplusT(0.), fit=True))')


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
        How many times this Fitter traced ``predict`` / ``loss_fn``: one per fit, none for a
        fit that reused the traced objective an earlier fit of the same model left in its
        compile cache (same callables, target shape, parameters and settings).
    gradient_mode : str
        The mode ``gradient`` resolves to: 'forward' or 'reverse'.
    result : FitResult or None
        The last fit's result. When a fit is interrupted (``KeyboardInterrupt``, e.g.
        Ctrl-C) it holds the partial result (``stop_reason='interrupted'``, the steps
        done, the best parameters so far, which the model is left holding) and the
        interrupt is re-raised.

    Notes
    -----
    The simulation is traced at most once per :meth:`fit` (``Simulator.run`` re-initialises
    the states every call, so every evaluation starts from the same initial
    condition); every evaluation uses the random stream ``brainstate.random`` had when
    ``fit`` started. The traced objective and its compiled variants are kept with the
    model (:mod:`brainmass._core.compile_cache`): a new Fitter of the same model with the
    same ``predict`` / ``loss_fn``, objective, target shape, dtype and unit, parameters
    (shapes, transforms, ``search_space``), ``transient`` and ``gradient`` reuses them; a
    changed constant or new states give another key (a new trace). A ``predict`` /
    ``loss_fn`` holding the model itself keeps its program on the Fitter instead. For long rollouts pass ``checkpoint=True`` to ``Simulator.run``
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
        self.loss_fn, self.predict, self.objective = check_mode(loss_fn, predict, objective)
        self.callbacks, self._callback_styles = check_callbacks(callbacks)
        self.transient = check_transient(transient)
        self.parameters = trainable_parameters(model)
        if not self.parameters:
            raise ValueError(f'{type(model).__name__} has no trainable parameters (no brainstate.ParamState): '
                             f'{_HOW_TO_MARK}.')
        self.search_space = check_search_space(search_space, self.parameters)
        self.optimizer = check_optimizer(optimizer, backend)
        self._layout = Layout(list(self.parameters.values()))
        self._boxes = make_boxes(self.parameters, self.search_space, backend)
        self._ng_pad = nevergrad_padding(self.optimizer, self._layout.c_size) if backend == 'nevergrad' else 0
        self.trace_count = 0
        self._program: Optional[Program] = None
        self._own = None  # (key, TracedObjective) when the program cannot live in the model's cache
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
        program = self._trace(target)
        runner, settings = self._backend(program)
        if verbose:
            mode = f', {self.gradient_mode}-mode gradient' if self.backend != 'nevergrad' else ''
            print(f'[Fitter:{self.backend}] fitting {", ".join(self.parameters)} '
                  f'({self._layout.size} values{mode}), n_steps={n_steps}', flush=True)
        progress = Progress()
        try:
            runner(program, n_steps, report, progress, **settings)
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

    def _trace(self, target):
        """The Program every evaluation of this fit runs: ``predict`` / ``loss_fn`` traced once, or
        the traced objective an earlier fit (of this or another Fitter of the model) left in the
        model's compile cache under the same key."""
        cache = model_programs(self.model)
        fns = [fn for fn in (self.loss_fn, self.predict, self.objective) if fn is not None]
        shared = not _holds(self.model, fns)
        base = self._cache_key(target)
        traced = None
        if shared:
            traced = cache.get(base + (model_signature(self.model),))
        elif self._own is not None and self._own[0] == base + (model_signature(self.model),):
            traced = self._own[1]
        if traced is None:
            self.trace_count += 1
            cache.count_trace()
            traced = TracedObjective(self._evaluate_in_trace, self._layout.read(), target, self._mode_by_size(),
                                     self.gradient)
            key = base + (model_signature(self.model),)  # the model as the trace left it (states it made)
            if shared:
                cache.put(key, traced)
            else:  # a callable that holds the model would keep it alive in its cache: kept here instead
                self._own = (key, traced)
        program = Program(traced, self._layout, target)
        self._program = program
        return program

    def _cache_key(self, target):
        """Everything a trace reads besides the model (whose signature completes the key)."""
        if target is None:
            spec = None
        else:
            spec = tuple((tuple(np.shape(leaf)), str(getattr(leaf, 'dtype', type(leaf))))
                         for leaf in jax.tree.leaves(u.get_magnitude(target))) + (str(u.get_unit(target)),)
        params = tuple((p.path, tuple(np.shape(p.state.value)), str(u.get_unit(p.state.value)),
                        str(getattr(u.get_magnitude(p.state.value), 'dtype', ''))) for p in self._layout.params)
        transient = self.transient
        if isinstance(transient, u.Quantity):
            transient = (float(transient.mantissa), str(transient.unit))
        search = tuple((k, tuple((np.shape(b), tuple(np.ravel(b).tolist())) for b in lim))
                       for k, lim in self.search_space.items())
        return ('Fitter', callable_key(self.loss_fn, weak=True) if self.loss_fn is not None else None,
                callable_key(self.predict, weak=True) if self.predict is not None else None,
                callable_key(self.objective, weak=True) if self.objective is not None else None,
                spec, params, transient, search, self.gradient, self._mode_by_size(), self._layout.dtype,
                brainstate.environ.get_precision(), bool(jax.config.jax_enable_x64),
                repr(brainstate.environ.get('dt', None)))

    def _backend(self, program):
        """The back end's function and what it needs besides ``(program, n_steps, verbose, progress)``."""
        if self.backend == 'grad':
            if self._holder is None:
                self._holder = brainstate.ParamState(program.x0)
            return fit_grad, dict(optimizer=self.optimizer, holder=self._holder, on_step=self._callback,
                                  projection=search_projection(self._layout, self.search_space),
                                  describe=self._describe_current)
        box = box_arrays(self._layout, self._boxes)
        if self.backend == 'nevergrad':
            return fit_nevergrad, dict(options=self.optimizer, layout=self._layout, box=box, pad=self._ng_pad,
                                       boxes=self._boxes, on_step=self._callback)
        return fit_scipy, dict(options=self.optimizer, layout=self._layout, box=box, on_step=self._callback)

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
                  f'{", ".join(f"{k}={short_value(v)}" for k, v in result.best_params.items())}', flush=True)
        return result

    def evaluate(self, params=None):
        """Re-evaluate the last fit's objective: ``(loss, prediction)``.

        Uses the same compiled function that produced ``FitResult.best_loss``, so
        ``evaluate()`` right after a fit (the model holds the best parameters) gives
        exactly ``best_loss``. Passing ``params=result.best_params`` instead writes the
        constrained values back through the transforms' inverses, which can change the
        last bits of the loss (a value that a bounding transform rounded onto its bound,
        such as 1.0 for ``SigmoidT(-1, 1)`` in float32, is refused by :meth:`set_params`).

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
        program = self._trace(target)
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
            checked.append((p, check_param_value(path, p, value)))
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
            raise ValueError(unknown_param(path, self.parameters, argname))
        return self.parameters[path]

    def _check_target(self, target):
        return check_target(target, self.loss_fn, self.objective)

    # ------------------------------------------------------------- in trace
    def _evaluate_in_trace(self, flat, target):
        """Runs once per fit under StatefulFunction: write theta, predict, compare."""
        self._layout.write(flat)
        if self.loss_fn is not None:
            return scalar_loss(self.loss_fn(self.model), f'`loss_fn` {callable_name(self.loss_fn)}(model)'), None
        prediction, ts = unwrap_prediction(self.predict(self.model))
        prediction = drop_transient(prediction, ts, self.transient)
        check_shapes(prediction, target, self.objective, self.transient)
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
        return scalar_loss(loss, f'the objective {callable_name(self.objective)}(prediction, target)'), prediction

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

    def _describe_current(self):
        return ', '.join(f'{k}={short_value(v)}' for k, v in self.current_params().items())


def _holds(model, fns, depth=3):
    """Whether the callables ``fns`` hold ``model`` strongly: in their closures, defaults or globals,
    or inside a container (tuple, list, dict, set) or a non-weak-referenceable object held there
    (objects held weakly by the cache key, like a Simulator, do not count)."""
    if refers_to(model, *fns):
        return True
    held = []
    for fn in fns:
        fn = getattr(fn, '__func__', fn)
        if getattr(fn, '__code__', None) is None:
            continue
        held += [c.cell_contents for c in (fn.__closure__ or ()) if _filled(c)]
        held += list(fn.__defaults__ or ()) + list((fn.__kwdefaults__ or {}).values())
        held += [fn.__globals__[n] for n in fn.__code__.co_names if n in fn.__globals__]
    return any(_reaches(item, model, depth) for item in held)


def _filled(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _reaches(obj, model, depth):
    if obj is model:
        return True
    if depth == 0:
        return False
    if isinstance(obj, (tuple, list, set, frozenset)):
        return any(_reaches(v, model, depth - 1) for v in obj)
    if isinstance(obj, dict):
        return any(_reaches(v, model, depth - 1) for v in obj.values())
    return False

