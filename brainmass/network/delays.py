"""Conduction delays: unit-correct delay times, step rounding and ring-buffer indices.

Rounding rule (documented once): a delay ``d`` is delivered after
``round(d / dt)`` whole steps, rounding half up (``floor(d / dt + 0.5)``), so a
delay is never off by more than half a step. A delay of ``s`` steps means the
coupling at step ``n`` reads the source value of step ``n - s``; ``s = 0`` is
instantaneous. The self-delay (diagonal) is always zero.
"""
from __future__ import annotations

import warnings

import brainunit as u
import jax.numpy as jnp
import numpy as np

from .._core.units import unit_name
from .._core.validation import numeric_magnitude

__all__ = ['delay_index', 'delay_times_ms', 'delay_steps']


def delay_index(n: int):
    """Source index of every (target, source) pair: ``idx[i, j] = j``, shape (n, n).

    Used with ``node.prefetch_delay(var, (delays, delay_index(n)))`` so each
    target ``i`` reads every source ``j`` at its own delay.

    Examples
    --------
    >>> import brainmass
    >>> brainmass.delay_index(3)[1].tolist()
    [0, 1, 2]
    """
    if int(n) < 1:
        raise ValueError(f'`n` must be >= 1; got {n}.')
    return jnp.tile(jnp.arange(int(n), dtype=jnp.int32), (int(n), 1))


def _as_float(value, name, expected):
    """The magnitude of ``value`` as a float array; a TypeError naming ``name`` for non-numbers."""
    return np.asarray(numeric_magnitude(value, f'`{name}`', expected), dtype=float)


def _finite_matrix(value, name, n):
    arr = _as_float(value, name, f'a ({n}, {n}) array or Quantity of numbers')
    if arr.shape != (n, n):
        raise ValueError(f'`{name}` must have shape ({n}, {n}) to match conn; got {arr.shape}.')
    if not np.all(np.isfinite(arr)):
        raise ValueError(f'`{name}` contains NaN or inf.')
    if np.any(arr < 0):
        raise ValueError(f'`{name}` must be non-negative.')
    return arr


def delay_times_ms(distance, speed, n: int):
    """Delay matrix in ms from ``distance / speed`` (None when instantaneous).

    * both quantities: unit-correct (mm and mm/ms, m and m/s, ...);
    * both plain numbers: the quotient is read as milliseconds;
    * a plain distance with a speed quantity: distance read as mm;
    * a distance quantity with a plain speed: an error (ambiguous units).
    """
    if distance is None and speed is None:
        return None
    if distance is None or speed is None:
        given = 'distance' if speed is None else 'speed'
        warnings.warn(f'Network got `{given}` alone: delays need both distance and speed, so the coupling '
                      f'is instantaneous.', UserWarning, stacklevel=3)
        return None
    speed_mag = _as_float(speed, 'speed', 'a number or a Quantity (e.g. 10 * u.mm / u.ms)')
    if not np.all(np.isfinite(speed_mag)) or np.any(speed_mag <= 0):
        raise ValueError(f'`speed` must be > 0 and finite; got {speed}.')
    dist_is_q = isinstance(distance, u.Quantity) and not u.get_unit(distance).is_unitless
    speed_is_q = isinstance(speed, u.Quantity) and not u.get_unit(speed).is_unitless
    if dist_is_q and not speed_is_q:
        raise ValueError(f'`speed` is a plain number but `distance` is in {unit_name(distance)}: give the speed '
                         f'with length/time units, e.g. 10 * u.mm / u.ms.')
    if speed_is_q:
        if not u.get_unit(speed).has_same_dim(u.mm / u.ms):
            raise ValueError(f'`speed` must have length/time units (e.g. mm/ms); got {unit_name(speed)}.')
        if dist_is_q:
            if not u.get_unit(distance).has_same_dim(u.mm):
                raise ValueError(f'`distance` must have length units; got {unit_name(distance)}.')
            _finite_matrix(distance, 'distance', n)
            delays = u.get_magnitude((distance / speed).to(u.ms))
        else:
            dist = _finite_matrix(distance, 'distance', n)
            delays = dist / u.get_magnitude(speed.to(u.mm / u.ms))
    else:
        delays = _finite_matrix(distance, 'distance', n) / speed_mag
    delays = np.array(delays, dtype=float)
    np.fill_diagonal(delays, 0.)
    return delays


#: the most steps a delay may span: ring-buffer indices are int32
MAX_DELAY_STEPS = 2 ** 31 - 2


def delay_steps(delay_ms, dt_ms: float):
    """Whole-step delays: ``floor(delay / dt + 0.5)`` (half up), as int32.

    A delay of more than ``MAX_DELAY_STEPS`` (2**31 - 2) steps does not fit the int32
    ring-buffer indices: a ``ValueError`` naming ``distance`` / ``speed`` (never a wrapped,
    silently wrong step count).
    """
    steps = np.floor(np.asarray(delay_ms, dtype=float) / float(dt_ms) + 0.5 + 1e-9)
    longest = float(np.max(steps)) if steps.size else 0.
    if longest > MAX_DELAY_STEPS:
        raise ValueError(f'`distance` / `speed` give a delay of {float(np.max(delay_ms)):.6g} ms, i.e. '
                         f'{longest:.6g} steps at dt = {float(dt_ms):g} ms: more than the {MAX_DELAY_STEPS} '
                         f'steps a delay buffer can index (int32). Check the units of distance and speed.')
    return steps.astype(np.int32)
