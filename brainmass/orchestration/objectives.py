r"""Objective (loss / similarity) builders for fitting neural-mass models.

Every public builder returns a pure callable ``f(prediction, target) -> scalar``
that is safe under :func:`jax.jit`, :func:`jax.grad` and :func:`jax.vmap`
(pure ``jax.numpy``, static shapes). Shapes, ``ndim`` and window settings are
checked in Python at call time (they are static, so this also works on
tracers); a NaN or inf in a *concrete* target raises :class:`ValueError`, and
so does an FC / FCD matrix given where a time series belongs.

Time series are laid out ``(T, N)``: ``T`` samples (rows) of ``N`` regions
(columns). Correlation-type objectives are unitless, so units
(:mod:`brainunit`) are stripped; :func:`timeseries_rmse` and
:func:`wasserstein_1d` keep the unit of their inputs.

Conventions
-----------
* ``FC(x)`` is the ``N x N`` Pearson correlation matrix of the columns of
  ``x`` (``np.corrcoef(x.T)``) and ``triu(M)`` the strict upper triangle
  (``k=1``) of ``M`` as a vector.
* A column with (numerically) zero variance is mapped to a zero z-score, so
  its correlations are 0 (not NaN) and gradients stay finite. The threshold
  is relative: ``std <= 64 * eps * rms``.

Objectives
----------
==========================  ============================================
``timeseries_rmse()``       ``sqrt(mean((p - t)**2))``
``fc_corr(as_loss)``        ``corr(triu FC(p), triu FC(t))``
``fc_rmse()``               ``rms(triu FC(p) - triu FC(t))``
``cosine_sim(as_loss)``     ``<p, t> / (|p| |t|)`` on flattened signals
``fcd(...)``                ``corr(triu FCD(p), triu FCD(t))``
``fcd_ks(...)``             KS distance between FCD value distributions
``fcd_wasserstein(...)``    Wasserstein-1 between FCD value distributions
``combine(*(w, f))``        ``sum_i w_i f_i(p, t)``
==========================  ============================================

Against empirical summaries (``p`` a ``(T, N)`` series, ``t`` not a series):

=================================  =========================================
``fc_matrix_corr(as_loss)``        ``corr(triu FC(p), triu t)``, ``t`` (N, N) FC
``fc_matrix_rmse()``               ``rms(triu FC(p) - triu t)``
``fcd_distribution_ks(...)``       KS distance, ``t`` FCD values or matrix
``fcd_distribution_wasserstein``   Wasserstein-1, ``t`` FCD values or matrix
=================================  =========================================

Every objective carries attributes that :class:`~brainmass.Fitter` reads:
``higher_is_better`` (a similarity, to maximise), ``time_flexible``
(prediction and target need not have the same number of samples),
``target_kind`` (``'timeseries'``, ``'fc_matrix'`` or ``'fcd'``: what the
target is) and ``validate_target(target)`` (the checks of a concrete target,
run before anything is traced).

Notes
-----
The FC and FCD are those of :mod:`brainmass.analysis` (:func:`~brainmass.analysis.fc`,
:func:`~brainmass.analysis.fcd`), rather than
``braintools.metric.functional_connectivity``: the latter uses
``jnp.corrcoef`` + ``nan_to_num``, whose *gradient* is NaN as soon as one
column is constant (``nan_to_num`` only fixes the forward value). The values
are identical to ``np.corrcoef`` on non-constant data. The sliding-window
layout (window starts ``0, step, 2*step, ... <= T - window``) matches
``braintools.metric.functional_connectivity_dynamics``.
"""
from __future__ import annotations

import numbers

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.units import unit_phrase
from .._core.validation import check_bool
from ..analysis._numerics import rms, safe_sqrt, zero_unless_nan
from ..analysis.connectivity import fc_core, fcd_core, triu, unit_vectors

__all__ = [
    'timeseries_rmse', 'fc_corr', 'fc_rmse', 'cosine_sim', 'fcd', 'fcd_ks',
    'fcd_wasserstein', 'fc_matrix_corr', 'fc_matrix_rmse', 'fcd_distribution_ks',
    'fcd_distribution_wasserstein', 'combine', 'fcd_distribution', 'ks_distance',
    'wasserstein_1d',
]

# ----------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------

def _mag(x):
    """Magnitude of ``x`` as a JAX array (units stripped)."""
    return jnp.asarray(u.get_magnitude(x))


def _shape(x):
    return tuple(np.shape(u.get_magnitude(x)))


def _check_same_shape(prediction, target, what='prediction and target'):
    ps, ts = _shape(prediction), _shape(target)
    if ps != ts:
        raise ValueError(f'{what} must have the same shape, got prediction '
                         f'shape {ps} and target shape {ts}.')


def _concrete(x):
    """``x``'s magnitude as a float numpy array, or None for a traced value."""
    mag = u.get_magnitude(x)
    if isinstance(mag, jax.core.Tracer):
        return None
    return np.asarray(mag, dtype=float)


def _check_finite(target, name='target'):
    """Raise if a concrete (non-traced) target holds NaN or inf."""
    arr = _concrete(target)
    if arr is None:
        return
    for bad, what in ((np.isnan(arr), 'NaN'), (np.isinf(arr), 'inf')):
        if bad.any():
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(f'`{name}` contains {int(bad.sum())} {what} value(s) (first at index {where}); '
                             'clean or mask the data first.')


def _looks_like_matrix(arr):
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


def _refuse_matrix(x, name, objective, use):
    """A time-series objective given what looks like an FC/FCD matrix: raise, naming ``use``."""
    shape = _shape(x)
    if len(shape) != 2 or shape[0] != shape[1]:
        return  # not square: no values to look at
    arr = _concrete(x)
    if arr is not None and _looks_like_matrix(arr):
        raise ValueError(
            f'`{name}` of {objective}() has shape {arr.shape} and looks like an FC/FCD matrix (square, '
            f'symmetric, values in [-1, 1], a diagonal of ones or zeros), but {objective}() compares two '
            f'(T, N) time series and would read it as {arr.shape[0]} samples. To fit an empirical matrix '
            f'use {use}. (A (T, N) series is refused only when it has all these properties.)')


def _check_timeseries(x, name, hint=''):
    shape = _shape(x)
    if len(shape) != 2:
        raise ValueError(f'{name} must be a 2-D (T, N) time series, got '
                         f'ndim={len(shape)} (shape {shape}).{hint}')
    if shape[1] < 2:
        raise ValueError(f'{name} needs at least 2 regions (columns) for a '
                         f'functional connectivity, got shape {shape}.')


def _timeseries_target_check(objective, use):
    """``validate_target`` of a time-series FC/FCD objective: finite, not an FC/FCD matrix."""
    def validate_target(target):
        _check_finite(target)
        _refuse_matrix(target, 'target', objective, use)
    return validate_target


def _check_pair_ts(prediction, target, objective, use):
    hint = f' (for an empirical FC matrix or FCD distribution use {use})'
    _check_timeseries(prediction, 'prediction')
    _check_timeseries(target, 'target', hint)
    _check_finite(target)
    _refuse_matrix(target, 'target', objective, use)
    _refuse_matrix(prediction, 'prediction', objective, use)
    if _shape(prediction)[1] != _shape(target)[1]:
        raise ValueError('prediction and target must have the same number of '
                         f'regions N, got prediction shape {_shape(prediction)} '
                         f'and target shape {_shape(target)}.')


def _is_int(v):
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, bool)


def _check_window(window_size, step_size):
    if not _is_int(window_size) or window_size < 2:
        raise ValueError(f'window_size must be an int >= 2 (samples), got {window_size!r}.')
    if not _is_int(step_size) or step_size < 1:
        raise ValueError(f'step_size must be a positive int (samples), got {step_size!r}.')


def _window_starts(n_time, window_size, step_size, name='x'):
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
_USE_FC_MATRIX = ('objectives.fc_matrix_corr() or fc_matrix_rmse() (prediction a (T, N) series, target the '
                  '(N, N) FC matrix)')
_USE_FCD_VALUES = ('objectives.fcd_distribution_ks() or fcd_distribution_wasserstein() (prediction a (T, N) '
                   'series, target the FCD values or the FCD matrix)')


def _objective(f, name, *, higher_is_better=False, time_flexible=False, target_kind='timeseries',
               validate_target=None):
    """Name ``f`` and attach the attributes the Fitter reads (see the module docstring)."""
    f.__name__ = f.__qualname__ = name
    f.higher_is_better = higher_is_better
    f.time_flexible = time_flexible
    f.target_kind = target_kind
    f.validate_target = validate_target or _check_finite
    return f


# ----------------------------------------------------------------------------
# numerics
# ----------------------------------------------------------------------------

def _float(x):
    x = _mag(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


def _pearson(a, b):
    r"""Pearson correlation :math:`r = \sum_i z^a_i z^b_i` of two vectors (0 if constant)."""
    za = unit_vectors(_float(a).ravel(), 0)
    zb = unit_vectors(_float(b).ravel(), 0)
    return jnp.clip(jnp.sum(za * zb), -1.0, 1.0)


_corr_matrix = fc_core  # ``np.corrcoef(x.T)`` of a floating (T, N) series, unchecked: brainmass.analysis's FC


def _fc_vector(x):
    """Upper triangle (k=1) of the FC matrix of a (T, N) series."""
    return triu(_corr_matrix(_float(x)))


_rmse_core = jax.jit(lambda p, t: rms(p - t))
_pearson_core = jax.jit(_pearson)
_fc_corr_core = jax.jit(lambda p, t: _pearson(_fc_vector(p), _fc_vector(t)))
_fc_rmse_core = jax.jit(lambda p, t: rms(_fc_vector(p) - _fc_vector(t)))


@jax.jit
def _cosine_core(p, t):
    p, t = p.ravel(), t.ravel()
    denom = safe_sqrt(jnp.sum(p * p)) * safe_sqrt(jnp.sum(t * t))
    ok = denom > 0
    s = jnp.where(ok, jnp.sum(p * t) / jnp.where(ok, denom, 1.0), zero_unless_nan(denom))
    return jnp.clip(s, -1.0, 1.0)


class UnitMismatchError(u.UnitMismatchError, ValueError):
    """Incompatible units of the two inputs of an objective (a ``ValueError`` and a
    ``brainunit.UnitMismatchError``, so either ``except`` catches it)."""


def _common_magnitudes(a, b, names=('prediction', 'target')):
    """Magnitudes of ``a`` and ``b`` in ``a``'s unit, plus that unit (or None)."""
    ua, ub = u.get_unit(a), u.get_unit(b)
    if ua.is_unitless and ub.is_unitless:
        return _float(a), _float(b), None
    try:
        a_mag = u.Quantity(a).to_decimal(ua)
        b_mag = u.Quantity(b).to_decimal(ua)  # raises UnitMismatchError on bad dims
    except u.UnitMismatchError as err:
        na, nb = names
        raise UnitMismatchError(
            f'`{nb}` is {unit_phrase(ub)} but `{na}` is {unit_phrase(ua)}: their units are incompatible. '
            f'Give both in units of the same kind (e.g. both in mV) or both as plain numbers '
            f'(strip a unit with u.get_magnitude).') from err
    return _float(a_mag), _float(b_mag), ua


def _with_unit(value, unit):
    return value if unit is None else value * unit


# ----------------------------------------------------------------------------
# public helpers
# ----------------------------------------------------------------------------

def fcd_distribution(x, window_size=30, step_size=5):
    r"""FCD upper-triangle values of a ``(T, N)`` time series.

    Windows start at :math:`s_k = k \cdot \text{step}` for
    :math:`s_k \le T - \text{window}`; with :math:`v_k = \mathrm{triu}\,
    \mathrm{FC}(x[s_k : s_k + \text{window}])`,

    .. math::  \mathrm{FCD}_{kl} = \mathrm{corr}(v_k, v_l),

    and the result is :math:`\mathrm{triu}(\mathrm{FCD})`, a 1-D array of
    :math:`K (K - 1) / 2` values for :math:`K` windows.

    Parameters
    ----------
    x : array_like or Quantity, shape (T, N)
        Time series (units are stripped), ``N >= 2``.
    window_size : int
        Window length in samples (``>= 2`` and ``<= T``).
    step_size : int
        Shift between consecutive windows in samples (``>= 1``).

    Returns
    -------
    jax.Array, shape (K * (K - 1) / 2,)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(100, 4))
    >>> fcd_distribution(x, window_size=20, step_size=10).shape  # K = 9
    (36,)
    """
    _check_window(window_size, step_size)
    _check_timeseries(x, 'x')
    return _fcd_values(x, window_size, step_size, 'x')


def _fcd_values(x, window_size, step_size, name):
    x = _float(x)
    _window_starts(x.shape[0], window_size, step_size, name)
    return triu(fcd_core(x, window_size, step_size, vectorised=True))


def _as_sample(x, name):
    x = _float(x).ravel()
    if x.size == 0:
        raise ValueError(f'{name} must contain at least one value.')
    return x


def ks_distance(a, b):
    r"""Two-sample Kolmogorov-Smirnov distance.

    .. math::  D = \sup_x |F_a(x) - F_b(x)|,

    with :math:`F` the empirical CDFs, evaluated exactly on the merged samples
    (equals ``scipy.stats.ks_2samp(a, b).statistic``). Inputs are flattened;
    units are stripped.

    Notes
    -----
    ``D`` is piecewise constant in the sample values, so its gradient is zero
    almost everywhere (``jax.grad`` returns finite zeros). Use
    :func:`wasserstein_1d` / :func:`fcd_wasserstein` for gradient fitting and
    keep KS for reporting or gradient-free backends.

    Examples
    --------
    >>> float(ks_distance([0., 1., 2.], [0., 1., 2.]))
    0.0
    >>> float(ks_distance([0., 1.], [2., 3.]))
    1.0
    """
    return _ks_core(_as_sample(a, 'a'), _as_sample(b, 'b'))


@jax.jit
def _ks_core(a, b):
    finite = jnp.all(jnp.isfinite(a)) & jnp.all(jnp.isfinite(b))
    return jnp.where(finite, _ks_sorted(jnp.sort(a), jnp.sort(b)), jnp.nan)


def _ks_sorted(a, b):
    merged = jnp.concatenate([a, b])
    cnt_a = jnp.searchsorted(a, merged, side='right')
    cnt_b = jnp.searchsorted(b, merged, side='right')
    dtype = merged.dtype  # the counts are int32: divide in the samples' float type (float64 under x64)
    if a.size == b.size:  # exact integer comparison (identical samples -> 0.0)
        return jnp.max(jnp.abs(cnt_a - cnt_b)).astype(dtype) / a.size
    return jnp.max(jnp.abs(cnt_a.astype(dtype) / a.size - cnt_b.astype(dtype) / b.size))


def wasserstein_1d(a, b):
    r"""1-D Wasserstein-1 (earth mover's) distance between two samples.

    .. math::  W_1 = \int |F_a(x) - F_b(x)|\, dx
               = \frac{1}{n} \sum_i |a_{(i)} - b_{(i)}| \quad (n_a = n_b = n),

    where :math:`a_{(i)}` are the sorted values. For unequal sizes the CDF
    integral is evaluated exactly on the merged, sorted support. Equals
    ``scipy.stats.wasserstein_distance(a, b)`` and is differentiable almost
    everywhere. Inputs are flattened; the result carries ``a``'s unit if the
    inputs carry units (``b`` is converted to it).

    Examples
    --------
    >>> float(wasserstein_1d([0., 1., 2.], [1., 2., 3.]))
    1.0
    """
    a, b, unit = _common_magnitudes(a, b, names=('a', 'b'))
    return _with_unit(_w1_core(_as_sample(a, 'a'), _as_sample(b, 'b')), unit)


@jax.jit
def _w1_core(a, b):
    a, b = jnp.sort(a), jnp.sort(b)
    if a.size == b.size:
        return jnp.mean(jnp.abs(a - b))
    merged = jnp.sort(jnp.concatenate([a, b]))
    deltas = jnp.diff(merged)
    cdf_a = jnp.searchsorted(a, merged[:-1], side='right').astype(merged.dtype) / a.size
    cdf_b = jnp.searchsorted(b, merged[:-1], side='right').astype(merged.dtype) / b.size
    return jnp.sum(jnp.abs(cdf_a - cdf_b) * deltas)


# ----------------------------------------------------------------------------
# objective builders
# ----------------------------------------------------------------------------

def timeseries_rmse():
    r"""Root-mean-square error over all elements.

    .. math::  \mathrm{RMSE} = \sqrt{\tfrac{1}{M} \sum_i (p_i - t_i)^2}

    Returns
    -------
    callable
        ``f(prediction, target)``; shapes must match exactly. The result
        carries the inputs' unit when they have one (``target`` is converted
        to ``prediction``'s unit). The gradient at ``p == t`` is 0 (not NaN).

    Examples
    --------
    >>> import brainunit as u, jax.numpy as jnp
    >>> f = timeseries_rmse()
    >>> f(jnp.array([1., 2.]) * u.mV, jnp.array([1., 4.]) * u.mV)
    Quantity(1.4142135, "mV")
    """
    def rmse(prediction, target):
        _check_same_shape(prediction, target)
        _check_finite(target)
        p, t, unit = _common_magnitudes(prediction, target)
        return _with_unit(_rmse_core(p, t), unit)
    return _objective(rmse, 'timeseries_rmse')


def fc_corr(as_loss=False):
    r"""Correlation between the FC matrices of prediction and target.

    .. math::  r = \mathrm{corr}\big(\mathrm{triu}\,\mathrm{FC}(p),\;
               \mathrm{triu}\,\mathrm{FC}(t)\big), \qquad
               \text{loss} = 1 - r

    ``p`` and ``t`` are ``(T, N)`` series (``T`` may differ, ``N`` must
    match). Units are stripped. A target that looks like an FC matrix
    (square, symmetric, values in ``[-1, 1]``, a diagonal of ones or zeros)
    raises ``ValueError``: fit an empirical FC with :func:`fc_matrix_corr`.

    Parameters
    ----------
    as_loss : bool
        Return :math:`1 - r` (minimise) instead of :math:`r`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 5))
    >>> round(float(fc_corr()(x, x)), 5)
    1.0
    """
    as_loss = check_bool(as_loss, 'as_loss')

    def fc_corr_(prediction, target):
        _check_pair_ts(prediction, target, 'fc_corr', _USE_FC_MATRIX)
        r = _fc_corr_core(_float(prediction), _float(target))
        return 1.0 - r if as_loss else r
    return _objective(fc_corr_, 'fc_corr_loss' if as_loss else 'fc_corr', higher_is_better=not as_loss,
                      time_flexible=True, validate_target=_timeseries_target_check('fc_corr', _USE_FC_MATRIX))


def fc_rmse():
    r"""RMSE between the FC upper triangles.

    .. math::  \sqrt{\mathrm{mean}\big((\mathrm{triu}\,\mathrm{FC}(p)
               - \mathrm{triu}\,\mathrm{FC}(t))^2\big)}

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 5))
    >>> float(fc_rmse()(x, x)) < 1e-6
    True
    """
    def fc_rmse_(prediction, target):
        _check_pair_ts(prediction, target, 'fc_rmse', _USE_FC_MATRIX)
        return _fc_rmse_core(_float(prediction), _float(target))
    return _objective(fc_rmse_, 'fc_rmse', time_flexible=True,
                      validate_target=_timeseries_target_check('fc_rmse', _USE_FC_MATRIX))


def cosine_sim(as_loss=False):
    r"""Cosine similarity of the flattened signals.

    .. math::  s = \frac{\sum_i p_i t_i}{\|p\|\,\|t\|}, \qquad
               \text{loss} = 1 - s

    Shapes must match; units are stripped (``s`` is scale invariant). An
    all-zero signal gives ``s = 0``.

    Examples
    --------
    >>> float(cosine_sim()([1., 0.], [2., 0.]))
    1.0
    """
    as_loss = check_bool(as_loss, 'as_loss')

    def cosine(prediction, target):
        _check_same_shape(prediction, target)
        _check_finite(target)
        s = _cosine_core(_float(prediction), _float(target))
        return 1.0 - s if as_loss else s
    return _objective(cosine, 'cosine_sim_loss' if as_loss else 'cosine_sim', higher_is_better=not as_loss)


def _fcd_pair(prediction, target, window_size, step_size, objective):
    _check_pair_ts(prediction, target, objective, _USE_FCD_VALUES)
    return (_fcd_values(prediction, window_size, step_size, 'prediction'),
            _fcd_values(target, window_size, step_size, 'target'))


def fcd(window_size=30, step_size=5, as_loss=False):
    r"""Correlation between the FCD matrices of prediction and target.

    .. math::  r = \mathrm{corr}\big(\mathrm{triu}\,\mathrm{FCD}(p),\;
               \mathrm{triu}\,\mathrm{FCD}(t)\big), \qquad
               \text{loss} = 1 - r

    See :func:`fcd_distribution` for the FCD. Both series must give the same
    number of windows (same ``T``). This compares the *time courses* of FC,
    so it is only meaningful when prediction and target are time-locked
    (e.g. driven by the same input); otherwise use :func:`fcd_ks` or
    :func:`fcd_wasserstein`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(120, 4))
    >>> round(float(fcd(20, 10)(x, x)), 5)
    1.0
    """
    _check_window(window_size, step_size)
    as_loss = check_bool(as_loss, 'as_loss')

    def fcd_(prediction, target):
        fp, ft = _fcd_pair(prediction, target, window_size, step_size, 'fcd')
        if fp.shape != ft.shape:
            raise ValueError('fcd needs the same number of windows: prediction '
                             f'shape {_shape(prediction)} and target shape '
                             f'{_shape(target)} give FCD vectors of sizes '
                             f'{fp.shape[0]} and {ft.shape[0]}.')
        r = _pearson_core(fp, ft)
        return 1.0 - r if as_loss else r
    return _objective(fcd_, 'fcd_loss' if as_loss else 'fcd', higher_is_better=not as_loss, time_flexible=True,
                      validate_target=_timeseries_target_check('fcd', _USE_FCD_VALUES))


def _fcd_distance_objective(name, distance, window_size, step_size, *, empirical):
    """``distance(FCD values of the prediction, FCD values of the target)`` as objective ``name``.

    The target is a ``(T, N)`` series (``empirical=False``: :func:`fcd_ks`,
    :func:`fcd_wasserstein`) or empirical FCD values / an FCD matrix
    (``empirical=True``: :func:`fcd_distribution_ks`,
    :func:`fcd_distribution_wasserstein`).
    """
    _check_window(window_size, step_size)
    if empirical:
        validate_target = _fcd_target_check(name)

        def values(prediction, target):
            return _fcd_distribution_pair(prediction, target, window_size, step_size, validate_target)
    else:
        validate_target = _timeseries_target_check(name, _USE_FCD_VALUES)

        def values(prediction, target):
            return _fcd_pair(prediction, target, window_size, step_size, name)

    def objective(prediction, target):
        return distance(*values(prediction, target))
    return _objective(objective, name, time_flexible=True, target_kind='fcd' if empirical else 'timeseries',
                      validate_target=validate_target)


def fcd_ks(window_size=30, step_size=5):
    r"""KS distance between the FCD value distributions.

    .. math::  D = \sup_x |F_{\mathrm{FCD}(p)}(x) - F_{\mathrm{FCD}(t)}(x)|

    ``T`` may differ between prediction and target. The gradient is zero
    almost everywhere (see :func:`ks_distance`); prefer
    :func:`fcd_wasserstein` for gradient-based fitting.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(120, 4))
    >>> float(fcd_ks(20, 10)(x, x))
    0.0
    """
    return _fcd_distance_objective('fcd_ks', ks_distance, window_size, step_size, empirical=False)


def fcd_wasserstein(window_size=30, step_size=5):
    r"""Wasserstein-1 distance between the FCD value distributions.

    .. math::  W_1 = \int |F_{\mathrm{FCD}(p)}(x) - F_{\mathrm{FCD}(t)}(x)|\,dx

    Differentiable (sorted-sample formulation); ``T`` may differ between
    prediction and target. The recommended FCD loss for ``jax.grad`` fitting.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(120, 4))
    >>> float(fcd_wasserstein(20, 10)(x, x))
    0.0
    """
    return _fcd_distance_objective('fcd_wasserstein', wasserstein_1d, window_size, step_size, empirical=False)


# ----------------------------------------------------------------------------
# objectives against empirical summaries (FC matrix, FCD distribution)
# ----------------------------------------------------------------------------

def _check_correlations(target, objective, what):
    """A concrete target of correlations: finite, in [-1, 1], symmetric when square 2-D."""
    arr = _concrete(target)
    if arr is None:
        return
    _check_finite(target)
    if arr.ndim == 2 and not np.allclose(arr, arr.T, rtol=1e-5, atol=1e-6):
        i, j = np.unravel_index(np.argmax(np.abs(arr - arr.T)), arr.shape)
        raise ValueError(f'`target` of {objective}() must be a symmetric {what}, but target[{i}, {j}] = '
                         f'{arr[i, j]:.6g} and target[{j}, {i}] = {arr[j, i]:.6g}. (A (T, N) time series '
                         f'goes with fc_corr() / fc_rmse() / fcd_ks() / fcd_wasserstein().)')
    if arr.size and np.abs(arr).max() > 1 + 1e-6:
        raise ValueError(f'`target` of {objective}() must hold correlations in [-1, 1] (a {what}); its largest '
                         f'|value| is {np.abs(arr).max():.6g}. (Fisher-z values: take np.tanh of them first; '
                         f'a (T, N) time series goes with the time-series objectives.)')


def _fc_matrix_check(objective):
    """``validate_target`` of the FC-matrix objectives: an (N, N) symmetric matrix of correlations."""
    def validate_target(target):
        shape = _shape(target)
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 2:
            raise ValueError(f'`target` of {objective}() must be the (N, N) empirical FC matrix (N >= 2 '
                             f'regions), got shape {shape}. To compare with a (T, N) time series use '
                             f'fc_corr() or fc_rmse().')
        _check_correlations(target, objective, 'FC matrix')
    return validate_target


def _check_fc_matrix_pair(prediction, target, validate_target):
    _check_timeseries(prediction, 'prediction')
    validate_target(target)
    n_p, n_t = _shape(prediction)[1], _shape(target)[0]
    if n_p != n_t:
        raise ValueError(f'`target` is the FC of {n_t} regions (shape {_shape(target)}) but the prediction '
                         f'has {n_p} regions (shape {_shape(prediction)}).')


_fc_matrix_corr_core = jax.jit(lambda p, t: _pearson(_fc_vector(p), triu(t)))
_fc_matrix_rmse_core = jax.jit(lambda p, t: rms(_fc_vector(p) - triu(t)))


def fc_matrix_corr(as_loss=False):
    r"""Correlation between the FC of a simulated series and an empirical FC matrix.

    .. math::  r = \mathrm{corr}\big(\mathrm{triu}\,\mathrm{FC}(p),\;
               \mathrm{triu}\,F\big), \qquad \text{loss} = 1 - r

    ``p`` is a ``(T, N)`` time series, the target :math:`F` the ``(N, N)``
    empirical FC matrix (symmetric, values in ``[-1, 1]``; its diagonal is
    not used). Units are stripped.

    Parameters
    ----------
    as_loss : bool
        Return :math:`1 - r` (minimise) instead of :math:`r`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 5))
    >>> round(float(fc_matrix_corr()(x, np.corrcoef(x.T))), 5)
    1.0
    """
    as_loss = check_bool(as_loss, 'as_loss')
    name = 'fc_matrix_corr'
    validate_target = _fc_matrix_check(name)

    def fc_matrix_corr_(prediction, target):
        _check_fc_matrix_pair(prediction, target, validate_target)
        r = _fc_matrix_corr_core(_float(prediction), _float(target))
        return 1.0 - r if as_loss else r
    return _objective(fc_matrix_corr_, name + '_loss' if as_loss else name, higher_is_better=not as_loss,
                      time_flexible=True, target_kind='fc_matrix', validate_target=validate_target)


def fc_matrix_rmse():
    r"""RMSE between the FC of a simulated series and an empirical FC matrix.

    .. math::  \sqrt{\mathrm{mean}\big((\mathrm{triu}\,\mathrm{FC}(p)
               - \mathrm{triu}\,F)^2\big)}

    ``p`` is a ``(T, N)`` time series, the target :math:`F` the ``(N, N)``
    empirical FC matrix (symmetric, values in ``[-1, 1]``; the diagonal is
    not used).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(200, 5))
    >>> float(fc_matrix_rmse()(x, np.corrcoef(x.T))) < 1e-6
    True
    """
    name = 'fc_matrix_rmse'
    validate_target = _fc_matrix_check(name)

    def fc_matrix_rmse_(prediction, target):
        _check_fc_matrix_pair(prediction, target, validate_target)
        return _fc_matrix_rmse_core(_float(prediction), _float(target))
    return _objective(fc_matrix_rmse_, name, time_flexible=True, target_kind='fc_matrix',
                      validate_target=validate_target)


def _fcd_target_check(objective):
    """``validate_target`` of the FCD-distribution objectives: 1-D FCD values or a (W, W) FCD matrix."""
    def validate_target(target):
        shape = _shape(target)
        square = len(shape) == 2 and shape[0] == shape[1] and shape[0] >= 2
        if not (len(shape) == 1 and shape[0] >= 1) and not square:
            raise ValueError(f'`target` of {objective}() must be the empirical FCD values (1-D, e.g. '
                             f'fcd_distribution(data)) or an FCD matrix (W, W), got shape {shape}. To compare '
                             f'with a (T, N) time series use fcd_ks() or fcd_wasserstein().')
        _check_correlations(target, objective, 'FCD matrix' if square else 'set of FCD values')
    return validate_target


def _fcd_distribution_pair(prediction, target, window_size, step_size, validate_target):
    _check_timeseries(prediction, 'prediction')
    validate_target(target)
    values = _float(target)
    if values.ndim == 2:
        values = triu(values)
    return _fcd_values(prediction, window_size, step_size, 'prediction'), values


def fcd_distribution_ks(window_size=30, step_size=5):
    r"""KS distance between the FCD values of a simulated series and an empirical FCD distribution.

    .. math::  D = \sup_x |F_{\mathrm{FCD}(p)}(x) - F_{t}(x)|

    ``p`` is a ``(T, N)`` time series (its FCD as in :func:`fcd_distribution`);
    the target is the empirical FCD values (1-D, any number, e.g.
    ``fcd_distribution(data, window_size, step_size)``) or an FCD matrix
    ``(W, W)`` (symmetric; its strict upper triangle is used). Values must
    lie in ``[-1, 1]``. The gradient is zero almost everywhere: use
    :func:`fcd_distribution_wasserstein` for gradient fitting.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(120, 4))
    >>> float(fcd_distribution_ks(20, 10)(x, fcd_distribution(x, 20, 10)))
    0.0
    """
    return _fcd_distance_objective('fcd_distribution_ks', ks_distance, window_size, step_size, empirical=True)


def fcd_distribution_wasserstein(window_size=30, step_size=5):
    r"""Wasserstein-1 distance between the FCD values of a simulated series and an empirical FCD distribution.

    .. math::  W_1 = \int |F_{\mathrm{FCD}(p)}(x) - F_{t}(x)|\,dx

    Target as in :func:`fcd_distribution_ks` (1-D FCD values or a ``(W, W)``
    FCD matrix). Differentiable almost everywhere.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(120, 4))
    >>> float(fcd_distribution_wasserstein(20, 10)(x, fcd_distribution(x, 20, 10)))
    0.0
    """
    return _fcd_distance_objective('fcd_distribution_wasserstein', wasserstein_1d, window_size, step_size,
                                   empirical=True)


def _is_weight(w):
    if isinstance(w, bool):
        return False
    if isinstance(w, numbers.Real):
        return True
    return np.ndim(w) == 0 and hasattr(w, 'dtype')


def combine(*terms):
    r"""Weighted sum of objectives.

    .. math::  L(p, t) = \sum_i w_i\, f_i(p, t)

    Parameters
    ----------
    *terms : (weight, objective) pairs
        ``weight`` a real number (or 0-d array / Quantity), ``objective`` a
        callable ``f(prediction, target)``. Terms whose results carry
        different units cannot be added: give such a term a reciprocal-unit
        weight (e.g. ``(1 / u.mV, timeseries_rmse())``). All terms get the
        same target, so they must expect the same kind of target (all
        time series, or all an FC matrix, ...): mixing kinds is a
        ``ValueError``.

    Returns
    -------
    callable
        ``f(prediction, target)`` with the attributes the Fitter reads:
        ``terms`` (the pairs), ``time_flexible`` (every term is; a plain
        function counts as flexible), ``target_kind`` (the terms' kind),
        ``higher_is_better`` (every term points that way: a similarity with a
        positive weight or a loss with a negative one).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(120, 4))
    >>> loss = combine((1.0, fc_corr(as_loss=True)), (0.5, fcd_wasserstein(20, 10)))
    >>> float(loss(x, x)) < 1e-5
    True
    """
    if not terms:
        raise ValueError('combine() needs at least one (weight, objective) pair.')
    for i, term in enumerate(terms):
        if not isinstance(term, (tuple, list)) or len(term) != 2:
            raise TypeError(f'combine() term {i} must be a (weight, objective) '
                            f'pair, got {term!r}.')
        w, f = term
        if not _is_weight(w):
            raise TypeError(f'combine() term {i}: weight must be a real number, '
                            f'got {w!r} ({type(w).__name__}).')
        if not callable(f):
            raise TypeError(f'combine() term {i}: objective must be callable '
                            f'f(prediction, target), got {f!r}.')
    terms = tuple((w, f) for w, f in terms)
    kind = _common_target_kind(terms)

    def validate_target(target):
        for _, f in terms:
            getattr(f, 'validate_target', _check_finite)(target)

    def combined(prediction, target):
        total = None
        for i, (w, f) in enumerate(terms):
            value = w * f(prediction, target)
            try:
                total = value if total is None else total + value
            except u.UnitMismatchError as err:
                raise UnitMismatchError(
                    f'combine() term {i} ({getattr(f, "__name__", "objective")}) gives a result '
                    f'{unit_phrase(u.get_unit(value))} but the terms before it give one '
                    f'{unit_phrase(u.get_unit(total))}: they cannot be added. Weight the terms so that all give '
                    f'the same unit, e.g. (1 / u.mV, timeseries_rmse()) for a loss in mV.') from err
        return total
    combined = _objective(combined, 'combined_objective',
                          higher_is_better=all(_points_up(w, f) for w, f in terms),
                          time_flexible=all(getattr(f, 'time_flexible', True) for _, f in terms),
                          target_kind=kind, validate_target=validate_target)
    combined.terms = terms
    return combined


def _weight_sign(w):
    """The sign of a weight (0 when it cannot be known, e.g. traced)."""
    try:
        return float(np.sign(np.asarray(u.get_magnitude(w), dtype=float)))
    except (TypeError, ValueError, jax.errors.ConcretizationTypeError):
        return 0.


def _points_up(w, f):
    """Whether the term ``w * f`` grows as the fit improves (a similarity with w > 0, a loss with w < 0)."""
    sign = _weight_sign(w)
    return sign > 0 if getattr(f, 'higher_is_better', False) else sign < 0


def _common_target_kind(terms):
    kinds = {i: f.target_kind for i, (_, f) in enumerate(terms) if getattr(f, 'target_kind', None)}
    if len(set(kinds.values())) > 1:
        listed = ', '.join(f'term {i} ({getattr(terms[i][1], "__name__", "objective")}): {k}'
                           for i, k in kinds.items())
        raise ValueError(f'combine() terms expect different kinds of target ({listed}); every term gets the '
                         f'same target, so combine terms of one kind.')
    return next(iter(kinds.values()), 'timeseries')
