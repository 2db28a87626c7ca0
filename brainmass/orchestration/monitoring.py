"""The monitors of a run, as the Simulator handles them: normalised, keyed, read, and checked.

:func:`normalise_monitors` turns ``run(..., monitors=...)`` into ``{name: reader}`` (a state
path checked against the model, a callable, an :class:`~brainmass.orchestration.monitors.Observer`,
or None for what ``update`` returns); :func:`monitor_key` is what a compiled program depends
on; :func:`monitor_value` checks a callable monitor's value while tracing; :func:`check_finite`
looks for NaN / inf in the recorded values (:class:`SimulationDivergedError`).
"""
from __future__ import annotations

import warnings

import brainunit as u
import jax
import numpy as np

from .._core.compile_cache import callable_key
from .._core.units import is_traced
from .monitors import Observer, state_at, state_names

__all__ = ['SimulationDivergedError', 'normalise_monitors', 'monitor_value', 'observers', 'monitor_key',
           'check_finite']


class SimulationDivergedError(FloatingPointError):
    """A simulation produced NaN or inf; the message says when and where."""


def _state_reader(model, name):
    if isinstance(name, Observer):
        raise TypeError(f'an in-loop monitor ({type(name).__name__}) needs a name: pass it in a dict, e.g. '
                        f"monitors={{'bold': {type(name).__name__}(...)}}.")
    if not isinstance(name, str):
        raise TypeError(f'monitor names must be strings or callables; got {name!r}.')
    if state_at(model, name) is None:
        available = state_names(model)
        hint = ''
        inner = [s for s in available if s.split('.')[-1] == name]
        if inner:
            hint = (f" '{name}' lives on a submodule: pass '{inner[0]}' or "
                    f"lambda m: m.{inner[0]}.value.")
        raise ValueError(f"Unknown monitor {name!r}.{hint} Available states: {', '.join(available)}.")
    return lambda m, path=name: state_at(m, path).value


def normalise_monitors(monitors, model) -> dict:
    """``run(..., monitors=...)`` as ``{name: reader}``: a reader is None (what ``update`` returns), a
    callable of the model, or an Observer; state names are checked against the model's states.

    Examples
    --------
    >>> import brainmass, brainstate
    >>> from brainmass.orchestration.monitoring import normalise_monitors
    >>> node = brainmass.HopfStep(2)
    >>> brainstate.nn.init_all_states(node)
    HopfStep(...)
    >>> readers = normalise_monitors(['x'], node)
    >>> readers['x'](node).shape
    (2,)
    >>> normalise_monitors(None, node)
    {'output': None}
    """
    if monitors is None:
        return {'output': None}
    if callable(monitors) and not isinstance(monitors, (list, tuple, dict, str)):
        return {'output': monitors}
    if isinstance(monitors, str):
        monitors = [monitors]
    if isinstance(monitors, (list, tuple)):
        return {name: _state_reader(model, name) for name in monitors}
    if isinstance(monitors, dict):
        out = {}
        for key, spec in monitors.items():
            if key == 'ts':
                raise ValueError("'ts' is reserved for the time axis; rename that monitor.")
            out[key] = spec if (callable(spec) or isinstance(spec, Observer)) else _state_reader(model, spec)
        return out
    raise TypeError(f'`monitors` must be None, a list of state names, a callable or a dict; '
                    f'got {type(monitors).__name__}.')


def monitor_value(name, value):
    """A callable monitor's value, checked while tracing: arrays and quantities (or pytrees of them)."""
    for leaf in jax.tree.leaves(value, is_leaf=lambda v: isinstance(v, u.Quantity)):
        mantissa = u.get_mantissa(leaf) if isinstance(leaf, u.Quantity) else leaf
        if not (isinstance(mantissa, (jax.Array, np.ndarray, np.generic)) or
                isinstance(mantissa, (bool, int, float, complex))):
            raise TypeError(f'monitor {name!r} returned {type(leaf).__name__} {leaf!r:.60}; a monitor must '
                            f'return an array or a quantity (e.g. lambda m: m.x.value).')
    return value


def observers(monitor_fns) -> dict:
    return {name: fn for name, fn in monitor_fns.items() if isinstance(fn, Observer)}


def monitor_key(monitor_fns):
    """The monitors as a key: two lambdas with the same code, closure and globals read the same values
    (:func:`callable_key`); an Observer by identity (its parameters and states are in the model signature)."""
    return tuple((name, None if fn is None else fn if isinstance(fn, Observer) else callable_key(fn))
                 for name, fn in sorted(monitor_fns.items()))



def _divergence_time(ts, bad, plan, dt):
    """When the first non-finite value (at ``bad`` = (sample, *index)) appeared, as exactly as known."""
    sample, index = int(bad[0]), tuple(int(b) for b in bad[1:])
    t = ts[sample]
    if plan.sample_every == 1 and not (sample == 0 and plan.n_transient):
        return f' at t = {t} (sample {sample}, index {index})'
    # only the sampling instants are checked: the first bad value may be older
    if sample > 0:
        after = f'the previous sample (t = {ts[sample - 1]})'
    elif plan.n_transient:
        after = f'the start of the run (the {plan.n_transient * dt} transient is not recorded)'
    else:
        after = 'the start of the run'
    return (f', first seen at sample t = {t} (sample {sample}, index {index}; only samples are checked: '
            f'it diverged after {after} and at or before t = {t})')


def check_finite(outputs, mode, plan, dt):
    for name, value in outputs.items():
        if name == 'ts':
            continue
        for leaf in jax.tree_util.tree_leaves(value, is_leaf=lambda x: isinstance(x, u.Quantity)):
            if is_traced(leaf):
                return
            arr = np.asarray(u.get_magnitude(leaf))
            if not np.issubdtype(arr.dtype, np.inexact) or np.all(np.isfinite(arr)):
                continue
            bad = np.argwhere(~np.isfinite(arr))[0]
            msg = (f"Simulation diverged: monitor {name!r} became {arr[tuple(bad)]}"
                   f"{_divergence_time(outputs['ts'], bad, plan, dt)}. Reduce dt, lower the coupling, "
                   f"check parameters, or pass on_divergence='warn'.")
            if mode == 'raise':
                raise SimulationDivergedError(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
            return
