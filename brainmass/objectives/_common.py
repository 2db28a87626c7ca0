"""Shared checks, numerics and unit handling of the objective builders.

Public names here are the package's internal API (like :mod:`brainmass.analysis._numerics`):
the builders in the sibling modules and :class:`~brainmass.Fitter` use them; users import the
builders from :mod:`brainmass.objectives`.
"""
from __future__ import annotations

import numbers

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.units import unit_phrase
from ..analysis.connectivity import fc_core, triu, unit_vectors

# ----------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------

def _mag(x):
    """Magnitude of ``x`` as a JAX array (units stripped)."""
    return jnp.asarray(u.get_magnitude(x))


def shape_of(x):
    return tuple(np.shape(u.get_magnitude(x)))


def check_same_shape(prediction, target, what='prediction and target'):
    ps, ts = shape_of(prediction), shape_of(target)
    if ps != ts:
        raise ValueError(f'{what} must have the same shape, got prediction '
                         f'shape {ps} and target shape {ts}.')


def concrete(x):
    """``x``'s magnitude as a float numpy array, or None for a traced value."""
    mag = u.get_magnitude(x)
    if isinstance(mag, jax.core.Tracer):
        return None
    return np.asarray(mag, dtype=float)


def check_finite(target, name='target'):
    """Raise if a concrete (non-traced) target holds NaN or inf."""
    arr = concrete(target)
    if arr is None:
        return
    for bad, what in ((np.isnan(arr), 'NaN'), (np.isinf(arr), 'inf')):
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f'`{name}` contains {int(bad.sum())} {what} value(s) (first at index {where}); '
                             'clean or mask the data first.')


def looks_like_matrix(arr):
    """True when a concrete 2-D array looks like an FC / FCD matrix rather than a time series.

    The rule: square (``N x N``, ``N >= 2``), finite, symmetric (to ``1e-5``
    relative, ``1e-6`` absolute), every value in ``[-1, 1]``, a diagonal of all
    ones or all zeros, and not constant. A measured ``(T, N)`` series with
    ``T == N`` is practically never all of these.
    """
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] < 2 or not np.all(np.isfinite(arr)):
        return False
    if not np.allclose(arr, arr.T, rtol=1e-5, atol=1e-6) or np.abs(arr).max() > 1 + 1e-6:
        return False
    diag = np.diag(arr)
    unit_or_zero = np.allclose(diag, 1., atol=1e-5) or np.allclose(diag, 0., atol=1e-6)
    return bool(unit_or_zero and np.ptp(arr) > 0)


def refuse_matrix(x, name, objective, use):
    """A time-series objective given what looks like an FC/FCD matrix: raise, naming ``use``."""
    shape = shape_of(x)
    if len(shape) != 2 or shape[0] != shape[1]:
        return  # not square: no values to look at
    arr = concrete(x)
    if arr is not None and looks_like_matrix(arr):
        raise ValueError(
            f'`{name}` of {objective}() has shape {arr.shape} and looks like an FC/FCD matrix (square, '
            f'symmetric, values in [-1, 1], a diagonal of ones or zeros), but {objective}() compares two '
            f'(T, N) time series and would read it as {arr.shape[0]} samples. To fit an empirical matrix '
            f'use {use}. (A (T, N) series is refused only when it has all these properties.)')


def check_timeseries(x, name, hint=''):
    shape = shape_of(x)
    if len(shape) != 2:
        raise ValueError(f'{name} must be a 2-D (T, N) time series, got '
                         f'ndim={len(shape)} (shape {shape}).{hint}')
    if shape[1] < 2:
        raise ValueError(f'{name} needs at least 2 regions (columns) for a '
                         f'functional connectivity, got shape {shape}.')


def timeseries_target_check(objective, use):
    """``validate_target`` of a time-series FC/FCD objective: finite, not an FC/FCD matrix."""
    def validate_target(target):
        check_finite(target)
        refuse_matrix(target, 'target', objective, use)
    return validate_target


def check_pair_ts(prediction, target, objective, use):
    hint = f' (for an empirical FC matrix or FCD distribution use {use})'
    check_timeseries(prediction, 'prediction')
    check_timeseries(target, 'target', hint)
    check_finite(target)
    refuse_matrix(target, 'target', objective, use)
    refuse_matrix(prediction, 'prediction', objective, use)
    if shape_of(prediction)[1] != shape_of(target)[1]:
        raise ValueError('prediction and target must have the same number of '
                         f'regions N, got prediction shape {shape_of(prediction)} '
                         f'and target shape {shape_of(target)}.')


def is_int(v):
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


def check_window(window_size, step_size):
    if not is_int(window_size) or window_size < 2:
        raise ValueError(f'window_size must be an int >= 2 (samples), got {window_size!r}.')
    if not is_int(step_size) or step_size < 1:
        raise ValueError(f'step_size must be a positive int (samples), got {step_size!r}.')


def window_starts(n_time, window_size, step_size, name='x'):
    """Static window start indices; need at least two windows."""
    if window_size > n_time:
        raise ValueError(f'window_size={window_size} is larger than the number '
                         f'of samples T={n_time} of {name}.')
    starts = np.arange(0, n_time - window_size + 1, step_size)
    if starts.size < 2:
        raise ValueError(f'{name} (T={n_time}) gives only {starts.size} window(s) '
                         f'of size {window_size} with step {step_size}; FCD '
                         'needs at least 2. Use a longer series or smaller '
                         'window/step.')
    return starts


#: what to use instead when a time-series objective is given an empirical matrix
USE_FC_MATRIX = ('objectives.fc_matrix_corr() or fc_matrix_rmse() (prediction a (T, N) series, target the '
                 '(N, N) FC matrix)')
USE_FCD_VALUES = ('objectives.fcd_distribution_ks() or fcd_distribution_wasserstein() (prediction a (T, N) '
                  'series, target the FCD values or the FCD matrix)')


def mark_objective(f, name, *, higher_is_better=False, time_flexible=False, target_kind='timeseries',
                   validate_target=None):
    """Name ``f`` and attach the attributes the Fitter reads (see :mod:`brainmass.objectives`)."""
    f.__name__ = f.__qualname__ = name
    f.higher_is_better = higher_is_better
    f.time_flexible = time_flexible
    f.target_kind = target_kind
    f.validate_target = validate_target or check_finite
    return f


def distance_objective(name, distance, values, *, target_kind, validate_target):
    """``distance(*values(prediction, target))`` as the objective ``name`` (the FCD-distribution
    objectives: ``values`` gives the two samples, ``distance`` compares them)."""
    def objective(prediction, target):
        return distance(*values(prediction, target))
    return mark_objective(objective, name, time_flexible=True, target_kind=target_kind,
                          validate_target=validate_target)


# ----------------------------------------------------------------------------
# numerics
# ----------------------------------------------------------------------------

def as_float(x):
    x = _mag(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


def pearson(a, b):
    r"""Pearson correlation :math:`r = \sum_i z^a_i z^b_i` of two vectors (0 if constant)."""
    za = unit_vectors(as_float(a).ravel(), 0)
    zb = unit_vectors(as_float(b).ravel(), 0)
    return jnp.clip(jnp.sum(za * zb), -1.0, 1.0)


def fc_vector(x):
    """Upper triangle (k=1) of the FC matrix of a (T, N) series (brainmass.analysis's FC, unchecked)."""
    return triu(fc_core(as_float(x)))


class UnitMismatchError(u.UnitMismatchError, ValueError):
    """Incompatible units of the two inputs of an objective (a ``ValueError`` and a
    ``brainunit.UnitMismatchError``, so either ``except`` catches it)."""


def common_magnitudes(a, b, names=('prediction', 'target')):
    """Magnitudes of ``a`` and ``b`` in ``a``'s unit, plus that unit (or None)."""
    ua, ub = u.get_unit(a), u.get_unit(b)
    if ua.is_unitless and ub.is_unitless:
        return as_float(a), as_float(b), None
    try:
        a_mag = u.Quantity(a).to_decimal(ua)
        b_mag = u.Quantity(b).to_decimal(ua)  # raises UnitMismatchError on bad dims
    except u.UnitMismatchError as err:
        na, nb = names
        raise UnitMismatchError(
            f'`{nb}` is {unit_phrase(ub)} but `{na}` is {unit_phrase(ua)}: their units are incompatible. '
            f'Give both in units of the same kind (e.g. both in mV) or both as plain numbers '
            f'(strip a unit with u.get_magnitude).') from err
    return as_float(a_mag), as_float(b_mag), ua


def with_unit(value, unit):
    return value if unit is None else value * unit


def weight_sign(w):
    """The sign of a weight (0 when it cannot be known, e.g. traced)."""
    try:
        return float(np.sign(np.asarray(u.get_magnitude(w), dtype=float)))
    except (TypeError, ValueError, jax.errors.ConcretizationTypeError):
        return 0.
