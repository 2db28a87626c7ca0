"""The Fitter's checks of its arguments, of the target and of what ``predict`` returns.

Every check runs in Python before anything is compiled (``predict``'s result is checked
while it is traced) and raises a ``TypeError`` / ``ValueError`` naming the argument.
"""
from __future__ import annotations

import inspect
import warnings

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from ..._core.units import is_traced, unit_phrase
from ..._core.validation import broadcasts_to, check_int_at_least, format_choices, numeric_magnitude
from ...objectives import timeseries_rmse
from ...objectives._common import weight_sign
from .parameters import attach, describe_transform, magnitude_bounds
from .result import short_value

__all__ = ['BACKENDS', 'GRADIENTS', 'SCIPY_METHODS', 'DEFAULT_N_SAMPLE']

BACKENDS = ('grad', 'nevergrad', 'scipy')
#: how the gradient of the loss is computed ('auto': forward mode for one parameter value, else reverse)
GRADIENTS = ('auto', 'forward', 'reverse')
#: scipy.optimize.minimize methods that honour box bounds
SCIPY_METHODS = ('L-BFGS-B', 'TNC', 'SLSQP', 'trust-constr', 'Nelder-Mead', 'Powell', 'COBYLA', 'COBYQA')
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
#: the loss form of the similarity objectives (higher_is_better: the Fitter minimises)
_SIMILARITIES = {'fc_corr': 'fc_corr(as_loss=True)', 'cosine_sim': 'cosine_sim(as_loss=True)',
                 'fcd': 'fcd(..., as_loss=True)', 'fc_matrix_corr': 'fc_matrix_corr(as_loss=True)'}


def check_target(target, loss_fn, objective):
    """The target as a float array of the default dtype (a Quantity keeps its unit); ``None`` with ``loss_fn``."""
    if loss_fn is not None:
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
    validate = getattr(objective, 'validate_target', None)
    if callable(validate):  # the objective's checks of a concrete target (e.g. an FC matrix where a
        validate(target)    # time series is expected): the target is traced inside the fit
    if isinstance(target, u.Quantity):
        return u.Quantity(jnp.asarray(arr, dtype=brainstate.environ.dftype()), unit=u.get_unit(target))
    return jnp.asarray(arr, dtype=brainstate.environ.dftype())


def make_boxes(parameters, search_space, backend):
    """Per-parameter (lower, upper) of the constrained search box (magnitudes)."""
    boxes = {}
    for path, p in parameters.items():
        lo, hi = search_space.get(path, p.bounds)
        if path in search_space:
            check_range_in_bounds(path, (lo, hi), p)
        elif backend == 'nevergrad' and (lo is None or hi is None):
            raise ValueError(
                f"Parameter {path!r} is unbounded ({describe_transform(p)}), so the 'nevergrad' back end has no "
                f"box to search: give a range, e.g. search_space={{{path!r}: (low, high)}}, or a bounded "
                f"transform such as brainstate.nn.SigmoidT(low, high).")
        boxes[path] = (lo, hi)
    return boxes


def check_mode(loss_fn, predict, objective):
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
        objective = timeseries_rmse()
    if not callable(objective):
        raise TypeError(f'`objective` must be a callable f(prediction, target) -> scalar; got '
                        f'{type(objective).__name__}.')
    problem = _similarity_problem(objective)
    if problem:
        raise ValueError(problem)
    return None, predict, objective


def callable_name(f):
    return getattr(f, '__name__', type(f).__name__)


def _similarity_problem(objective):
    """Why the Fitter cannot minimise ``objective`` (a similarity, or one in a combine()), or None."""
    name = callable_name(objective)
    if getattr(objective, 'higher_is_better', False):
        use = _SIMILARITIES.get(name, 'its loss form')
        return f'`objective` {name}() is a similarity (higher is better) but the Fitter minimises: use {use}.'
    for i, (w, f) in enumerate(getattr(objective, 'terms', ())):
        if getattr(f, 'higher_is_better', False) and weight_sign(w) > 0:
            use = _SIMILARITIES.get(callable_name(f), 'its loss form')
            return (f'`objective` {name}(): combine() term {i} ({callable_name(f)}) is a similarity (higher is better) '
                    f'with a positive weight, but the Fitter minimises: use {use} or a negative weight.')
    return None


def check_callbacks(callbacks):
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
            warnings.warn(f'callback {callable_name(cb)}{sig}: the three-argument form cb(step, loss, params) is '
                          f"deprecated. Take one argument, the info dict: cb(info) with info['step'], info['loss'], "
                          f"info['params'], info['best_loss'], ...", DeprecationWarning, stacklevel=4)
        return style
    raise TypeError(f'callback {callable_name(cb)}{sig} must take one argument, the info dict (cb(info) with '
                    f"info['step'], info['loss'], info['params'], ...).")


def check_transient(transient):
    if transient is None:
        return None
    if isinstance(transient, u.Quantity):
        if not u.get_unit(transient).has_same_dim(u.ms):
            raise TypeError(f'`transient` must be a number of samples (int) or a time; got {transient}.')
        if float(u.get_magnitude(transient)) < 0:
            raise ValueError(f'`transient` must be >= 0; got {transient}.')
        return transient
    return check_int_at_least(transient, 0, 'transient')


def unknown_param(path, parameters, argname):
    known = ', '.join(repr(k) for k in parameters)
    hint = [k for k in parameters if k.split('.')[-1] == str(path)]
    extra = f' Did you mean {hint[0]!r}?' if hint else ''
    return f'`{argname}` names an unknown parameter {path!r}.{extra} The trainable parameters are: {known}.'


def check_search_space(search_space, parameters):
    if search_space is None:
        return {}
    if not isinstance(search_space, dict):
        raise TypeError(f'`search_space` must be a dict {{path: (low, high)}}; got {type(search_space).__name__}.')
    out = {}
    for path, rng in search_space.items():
        if path not in parameters:
            raise ValueError(unknown_param(path, parameters, 'search_space'))
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
            lo, hi = magnitude_bounds(tuple(rng), value)
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


def check_range_in_bounds(path, rng, p):
    lo, hi = rng
    tlo, thi = p.bounds
    if (tlo is not None and np.any(np.asarray(lo) < np.asarray(tlo))) or \
            (thi is not None and np.any(np.asarray(hi) > np.asarray(thi))):
        raise ValueError(f'search_space[{path!r}] = ({lo}, {hi}) reaches outside ({tlo}, {thi}), the values '
                         f'its {describe_transform(p)} can take; narrow the range.')


def _is_plain_number_like(value):
    return not (isinstance(value, (str, bytes)) or value is None or isinstance(value, (bool, np.bool_)))


def check_param_value(path, p, value):
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
        raise ValueError(f'{where} = {short_value(value)} is outside ({lo}, {hi}), the values the '
                         f'{describe_transform(p)} of parameter {path!r} can take.')
    dtype = jnp.result_type(u.get_magnitude(current))
    new = attach(jnp.asarray(arr, dtype=dtype if jnp.issubdtype(dtype, jnp.floating) else None), unit)
    if p.param is not None:
        raw = np.asarray(u.get_magnitude(p.inverse(new)))
        if not np.all(np.isfinite(raw)):
            raise ValueError(f'{where} = {short_value(value)} lies on a bound of ({lo}, {hi}), where the '
                             f'{describe_transform(p)} of parameter {path!r} has no finite unconstrained value; '
                             f'give a value strictly inside.')
    return new


def check_optimizer(optimizer, backend):
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


def check_fresh_optimizer(opt, holder):
    states = getattr(getattr(opt, 'param_states', None), 'unique_states', [])
    if any(s is not holder for s in states):
        raise ValueError('The optimizer is already registered with other weights; give the Fitter a fresh '
                         'optimizer (e.g. braintools.optim.Adam(lr=1e-2)).')


def unwrap_prediction(prediction):
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


def drop_transient(prediction, ts, transient):
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


def check_shapes(prediction, target, objective, transient):
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


def scalar_loss(loss, what):
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
