"""The three back ends of :class:`~brainmass.Fitter`, as plain functions.

Each runs ``n_steps`` steps of its optimizer on a :class:`~.program.Program` and records what it
finds in a :class:`~.result.Progress` (kept by the caller, so an interrupted fit keeps its best):

* :func:`fit_grad`: a ``braintools.optim`` optimizer steps the unconstrained vector;
* :func:`fit_nevergrad`: a nevergrad optimizer searches the box of the constrained values, one
  ``jax.vmap``-ed batch of candidates per generation;
* :func:`fit_scipy`: ``scipy.optimize.minimize`` with a bounded method.

``on_step(progress, step, loss, flat_fn, legacy_best=False) -> bool`` runs the user's callbacks
after every step and says whether to stop (``flat_fn()``: the step's unconstrained vector).
``verbose``: ``False``, ``True`` (about ten progress lines) or ``'bar'`` (a text bar on stderr).
"""
from __future__ import annotations

import math
import sys
import time
import warnings
from typing import Dict

import brainstate
import jax
import jax.numpy as jnp
import numpy as np

from .checks import check_fresh_optimizer

__all__ = ['fit_grad', 'fit_nevergrad', 'fit_scipy', 'nevergrad_optimizer', 'nevergrad_padding', 'Reporter']

_SCIPY_GRADIENT_METHODS = ('L-BFGS-B', 'TNC', 'SLSQP', 'trust-constr')
_NG_BAD_LOSS = 1e20  # nevergrad refuses losses >= 5e20; non-finite losses are told as this


def fit_grad(program, n_steps, verbose, progress, *, optimizer, holder, projection, on_step, describe):
    """The 'grad' back end: a ``braintools.optim`` optimizer (``None``: ``Adam(lr=1e-2)``) steps ``holder``.

    ``holder`` is the ``brainstate.ParamState`` of the unconstrained vector (kept by the Fitter
    across fits), ``projection`` clips it into the search ranges after every step (or None),
    ``describe()`` names the current parameters for the error raised at a non-finite start.
    """
    import braintools
    opt = optimizer if optimizer is not None else braintools.optim.Adam(lr=1e-2)
    progress.optimizer = opt
    holder.value = program.x0
    check_fresh_optimizer(opt, holder)
    opt.register_trainable_weights({'theta': holder})
    project = projection

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
                                 f'parameters ({describe()}) and the target.')
    progress.initial_loss = loss
    progress.offer(loss, x, pred, 0)
    reporter = Reporter('grad', n_steps, verbose)
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
        if on_step(progress, step, loss, lambda: x):
            break


def fit_nevergrad(program, n_steps, verbose, progress, *, options, layout, box, pad, boxes, on_step):
    """The 'nevergrad' back end: ``options`` ``{'method', 'n_sample', 'seed'}``, ``box`` the flat
    ``(lower, upper)`` of the constrained values, ``pad`` the unused coordinates the method needs
    (:func:`nevergrad_padding`), ``boxes`` the per-parameter box (for the error message)."""
    import nevergrad as ng
    opts = dict(options)
    method, n_sample, seed = opts['method'], opts['n_sample'], opts['seed']
    lo, hi = box
    x0c = np.asarray(layout.to_constrained(program.x0), dtype=float)
    x0c = np.clip(x0c, lo, hi)
    if pad:  # a 1-D CMA searches 2-D with an unused second coordinate (see nevergrad_padding)
        lo, hi, x0c = np.append(lo, 0.), np.append(hi, 1.), np.append(x0c, .5)
    parametrization = ng.p.Array(init=x0c, lower=lo, upper=hi)
    if seed is not None:
        parametrization.random_state.seed(seed)
    ng_opt = nevergrad_optimizer(ng, method, n_sample)(parametrization=parametrization,
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

    reporter = Reporter('nevergrad', n_steps, verbose)
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
        if on_step(progress, gen, float(losses[i]), lambda: thetas[i], legacy_best=True):
            break
    if progress.best_x is None:
        raise FloatingPointError('Every candidate gave a non-finite loss: check the model, the search box '
                                 f'{boxes} and the target.')


def fit_scipy(program, n_steps, verbose, progress, *, options, layout, box, on_step):
    """The 'scipy' back end: ``scipy.optimize.minimize`` with ``options`` (``'method'``, ``'tol'``,
    minimize options), bounded by ``box``, the flat ``(lower, upper)`` of the constrained values."""
    import scipy.optimize
    opts = dict(options)
    method = opts.pop('method')
    tol = opts.pop('tol', None)
    opts.update(opts.pop('options', None) or {})  # {'options': {...}} as minimize() spells it
    if method == 'TNC':
        opts.setdefault('maxfun', n_steps)
    else:
        opts.setdefault('maxiter', n_steps)
    dtype, target = layout.dtype, program.target
    lo, hi = box
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
    reporter = Reporter('scipy', n_steps, verbose)

    def callback(xk, *args):
        key = np.asarray(xk, dtype=float).tobytes()
        loss = seen[key] if key in seen else (fun(xk)[0] if use_grad else fun(xk))
        history.append(float(loss))
        reporter(len(history), float(loss), progress.best_loss)
        if on_step(progress, len(history), float(loss), lambda: to_u(jnp.asarray(xk, dtype=dtype))):
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


class Reporter:
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


def nevergrad_optimizer(ng, method, n_sample):
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


def nevergrad_padding(opts, size):
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
            nevergrad_optimizer(ng, method, n)(parametrization=space, budget=n, num_workers=n).ask()
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
