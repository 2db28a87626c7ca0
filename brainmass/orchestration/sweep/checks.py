"""Argument checks of ``sweep.run``: the space, metrics, devices, a model factory's axes, the swept parameters.

Each raises ValueError / TypeError naming the argument, before anything is built or compiled.
"""
from __future__ import annotations

import inspect

import brainstate
import jax
import numpy as np

from .params import Swept
from .space import Space

__all__ = ['check_space', 'check_metrics', 'check_devices', 'split_axes', 'resolve_param']


def check_space(space) -> Space:
    if isinstance(space, dict):
        space = Space(space)
    if not isinstance(space, Space):
        raise TypeError(f'`space` must be a sweep.Space (or a dict of axes); got {type(space).__name__}.')
    return space


def check_metrics(metrics, space) -> dict:
    if not isinstance(metrics, dict) or not metrics:
        raise TypeError('`metrics` must be a non-empty dict {name: fn}, fn(res) -> number or array, e.g. '
                        "{'var': lambda res: jnp.var(res['node.x'])}; got "
                        f'{type(metrics).__name__ if not isinstance(metrics, dict) else "an empty dict"}.')
    for name, fn in metrics.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f'`metrics` names must be non-empty strings; got {name!r}.')
        if name in space.names:
            raise ValueError(f'metric {name!r} has the name of an axis; rename it.')
        if not callable(fn):
            raise TypeError(f'metric {name!r} must be a callable fn(res); got {type(fn).__name__}.')
    return dict(metrics)


def check_devices(devices) -> list:
    available = jax.devices()
    if devices is None:
        return list(available)
    if isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        if not 1 <= devices <= len(available):
            raise ValueError(f'`devices` = {devices}, but there are {len(available)} devices (1 .. '
                             f'{len(available)} allowed).')
        return list(available[:int(devices)])
    if isinstance(devices, (list, tuple)) and devices and all(isinstance(d, jax.Device) for d in devices):
        if len(set(devices)) != len(devices):
            raise ValueError('`devices` lists a device twice.')
        return list(devices)
    raise TypeError(f'`devices` must be None, an int or a non-empty list of jax devices; got {devices!r:.80}.')


def split_axes(model, space):
    """``(factory or None, structural axis names)``."""
    if isinstance(model, brainstate.nn.Module):
        return None, ()
    if not callable(model):
        raise TypeError(f'`model` must be a brainstate module (a *Step model or a Network) or a factory '
                        f'model(**structural) -> module; got {type(model).__name__}.')
    try:
        sig = inspect.signature(model)
    except (TypeError, ValueError) as err:
        raise TypeError(f'`model` factory {model!r}: cannot read its arguments ({err}).') from None
    names = [n for n, p in sig.parameters.items()
             if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    structural = tuple(n for n in space.names if n in names)
    missing = [n for n, p in sig.parameters.items() if p.default is inspect.Parameter.empty and
               p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
               and n not in structural]
    if missing:
        raise TypeError(f'`model` factory needs {", ".join(map(repr, missing))}, which the space has no axis for; '
                        f'its axes are {", ".join(map(repr, space.names))}.')
    return model, structural


def resolve_param(name, axis, refs, model) -> Swept:
    public = {p: v for p, v in refs.items() if not any(part.startswith('_') for part in p.split('.'))}
    if name not in refs:
        known = ', '.join(sorted(public)) or '(none)'
        hint = ''
        tails = sorted(p for p in public if p.split('.')[-1] == name)
        if tails:
            hint = f' Did you mean {tails[0]!r}?'
        raise ValueError(f'`space` axis {name!r} is not a parameter of {type(model).__name__}.{hint} Its '
                         f'parameters: {known}.')
    param, where = refs[name]
    return Swept(name, axis, param, where, model)
