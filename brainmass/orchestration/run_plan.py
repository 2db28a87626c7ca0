"""The plan of a run: its step counts, read from its times and dt, checked before any trace.

:class:`RunPlan` (frozen) holds how many steps a run takes, how many of them are a discarded
transient, how often it samples, how many samples it records and how many steps follow the last
one. :func:`check_dt`, :func:`step_ratio` and :func:`whole_steps` turn times into steps (with a
warning when a time is not a whole multiple of dt); :func:`quantity_key` and :func:`dt_key` are
the hashable forms the Simulator caches them by.
"""
from __future__ import annotations

import dataclasses
import math
import warnings

import brainstate
import brainunit as u
import numpy as np

from .._core.units import unit_name
from .._core.validation import check_int_at_least

__all__ = ['RunPlan', 'check_dt', 'dt_key', 'quantity_key', 'step_ratio', 'whole_steps', 'steps_in']


@dataclasses.dataclass(frozen=True)
class RunPlan:
    """How a run's steps are spent: ``n_transient`` unrecorded steps, then ``n_samples`` chunks of
    ``sample_every`` steps (a sample at the end of each), then ``n_tail`` steps; ``n_steps`` in all.

    Examples
    --------
    >>> import brainunit as u
    >>> from brainmass.orchestration.run_plan import RunPlan
    >>> RunPlan.build(10 * u.ms, 2 * u.ms, 3, 1. * u.ms)
    RunPlan(n_steps=10, n_transient=2, sample_every=3, n_samples=2, n_tail=2)
    """

    n_steps: int
    n_transient: int
    sample_every: int
    n_samples: int
    n_tail: int

    @classmethod
    def build(cls, duration, transient, sample_every, dt, ratios=None, dt_id=None):
        """The plan of ``run(duration, transient=..., sample_every=...)`` with time step ``dt``.

        ``ratios`` / ``dt_id``: a dict that keeps the step ratios of plain-number quantities
        across calls, and dt's :func:`dt_key` when the caller has it (see :func:`steps_in`).
        Raises ValueError / TypeError naming the argument at fault.
        """
        n_steps = steps_in(duration, 'duration', dt, ratios, dt_id)
        if n_steps < 1:
            raise ValueError(f'`duration` ({duration}) is shorter than dt ({dt}).')
        if n_steps > MAX_STEPS:
            raise ValueError(f'`duration` ({duration}) is {n_steps} steps of dt = {dt}; one run takes at most '
                             f'{MAX_STEPS} steps (its step index is an int32): split it into several runs '
                             f'(run(..., init_states=False) continues from where the last one stopped).')
        n_transient = 0 if transient is None else steps_in(transient, 'transient', dt, ratios, dt_id)
        if n_transient < 0 or n_transient >= n_steps:
            raise ValueError(f'`transient` must be >= 0 and shorter than `duration`; got transient={transient}, '
                             f'duration={duration}.')
        every = 1 if sample_every is None else (
            steps_in(sample_every, 'sample_every', dt, ratios, dt_id) if isinstance(sample_every, u.Quantity)
            else check_int_at_least(sample_every, 1, 'sample_every'))
        if every < 1:
            raise ValueError(f'`sample_every` must be at least one step; got {sample_every}.')
        n_record = n_steps - n_transient
        n_samples = n_record // every
        if n_samples < 1:
            raise ValueError(f'`sample_every` ({every} steps) is longer than the recorded part of the run '
                             f'({n_record} steps).')
        return cls(n_steps=n_steps, n_transient=n_transient, sample_every=every,
                   n_samples=n_samples, n_tail=n_record - n_samples * every)


#: the most steps one run takes (the step index of the compiled loop is an int32)
MAX_STEPS = 2 ** 31 - 1


def steps_in(value, name, dt, ratios=None, dt_id=None):
    """Number of dt steps in the time ``value`` (warn when not a whole multiple).

    With a dict ``ratios``, a repeated call with the same plain-number quantities skips the
    unit arithmetic (~35 us per quantity); the rounding and its warning happen on every call.
    ``dt_id``: :func:`dt_key` of ``dt`` (computed here when not given).

    Examples
    --------
    >>> import brainunit as u
    >>> from brainmass.orchestration.run_plan import steps_in
    >>> steps_in(2.5 * u.ms, 'duration', 0.5 * u.ms)
    5
    """
    key = None if ratios is None else quantity_key(value)
    key = None if key is None else (key, name, dt_key(dt) if dt_id is None else dt_id)
    ratio = ratios.get(key) if key is not None else None
    if ratio is None:
        ratio = step_ratio(value, dt, name)
        if key is not None:
            if len(ratios) > 256:
                ratios.clear()
            ratios[key] = ratio
    return whole_steps(ratio, value, dt, name)


def check_dt(dt):
    if dt is None:
        dt = brainstate.environ.get('dt', None)
        if dt is None:
            raise ValueError('`dt` is missing: pass Simulator(model, dt=0.1 * u.ms) or set '
                             'brainstate.environ.set(dt=0.1 * u.ms).')
    value = _scalar_time(dt, 'dt', 'time step', example='0.1 * u.ms')
    if not math.isfinite(value):
        raise ValueError(f'`dt` must be a finite time step; got {dt}.')
    if not value > 0:
        raise ValueError(f'`dt` must be > 0; got {dt}.')
    return dt


def _scalar_time(value, name, what, example):
    """The magnitude of ``value`` after checking that it is a single time quantity (``what``: 'time' or
    'time step', as the errors call it; ``example``: a valid value, shown when units are missing)."""
    if not isinstance(value, u.Quantity):
        raise TypeError(f'`{name}` must carry time units, e.g. {example}; got {value!r}.')
    if not u.get_unit(value).has_same_dim(u.ms):
        raise TypeError(f'`{name}` must be a time; got a quantity in {unit_name(value)}.')
    if np.ndim(u.get_mantissa(value)) != 0:
        raise ValueError(f'`{name}` must be a single {what} (a scalar quantity); got shape '
                         f'{tuple(np.shape(u.get_mantissa(value)))}.')
    return float(u.get_magnitude(value))


def quantity_key(value):
    """A hashable key of a quantity with a plain-number mantissa (None otherwise)."""
    if isinstance(value, u.Quantity) and isinstance(value.mantissa, (int, float)):
        return float(value.mantissa), value.unit
    return None


def step_ratio(value, dt, name):
    """``value / dt`` as a float, after checking that ``value`` is a non-negative time."""
    _scalar_time(value, name, 'time', example='100 * u.ms')
    ratio = float(u.get_magnitude(value / dt))
    if not math.isfinite(ratio):
        raise ValueError(f'`{name}` must be a finite time; got {value}.')
    if ratio < 0:
        raise ValueError(f'`{name}` must be >= 0; got {value}.')
    return ratio


def whole_steps(ratio, value, dt, name):
    """``ratio`` rounded to whole steps (warn when it is not a whole number)."""
    steps = int(round(ratio))
    if not math.isclose(ratio, steps, rel_tol=1e-6, abs_tol=1e-6):
        warnings.warn(f'`{name}` ({value}) is not a multiple of dt ({dt}); using {steps} steps '
                      f'({steps * dt}).', UserWarning, stacklevel=5)
    return steps



def dt_key(dt):
    """dt as a key: its value, unit and number type (the trace computes ``i * dt``)."""
    mantissa = u.get_mantissa(dt)
    return float(u.get_magnitude(dt)), u.get_unit(dt), type(mantissa).__name__, str(getattr(mantissa, 'dtype', ''))

