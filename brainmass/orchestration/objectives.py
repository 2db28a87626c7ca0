r"""Objective (loss / similarity) builders for fitting neural-mass models.

Every public builder returns a pure callable ``f(prediction, target) -> scalar``
that is safe under :func:`jax.jit`, :func:`jax.grad` and :func:`jax.vmap`
(pure ``jax.numpy``, static shapes). Shapes, ``ndim`` and window settings are
checked in Python at call time (they are static, so this also works on
tracers); a NaN in a *concrete* target raises :class:`ValueError`.

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

Notes
-----
The FC is computed here rather than with
``braintools.metric.functional_connectivity``: the latter uses
``jnp.corrcoef`` + ``nan_to_num``, whose *gradient* is NaN as soon as one
column is constant (``nan_to_num`` only fixes the forward value). The values
are identical to ``np.corrcoef`` on non-constant data. The sliding-window
layout (window starts ``0, step, 2*step, ... <= T - window``) matches
``braintools.metric.functional_connectivity_dynamics``.
"""
from __future__ import annotations

import functools
import numbers

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.units import unit_phrase
from .._core.validation import check_bool

__all__ = [
    'timeseries_rmse', 'fc_corr', 'fc_rmse', 'cosine_sim', 'fcd', 'fcd_ks',
    'fcd_wasserstein', 'combine', 'fcd_distribution', 'ks_distance',
    'wasserstein_1d',
]

_HIGHEST = jax.lax.Precision.HIGHEST
_STD_TOL = 64.0  # zero-variance threshold, in units of the dtype's eps


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


def _check_no_nan(target):
    """Raise if a concrete (non-traced) target contains NaN."""
    mag = u.get_magnitude(target)
    if isinstance(mag, jax.core.Tracer):
        return
    if np.isnan(np.asarray(mag, dtype=float)).any():
        raise ValueError('target contains NaN values; clean or mask the data '
                         'before building the objective.')


def _check_timeseries(x, name):
    shape = _shape(x)
    if len(shape) != 2:
        raise ValueError(f'{name} must be a 2-D (T, N) time series, got '
                         f'ndim={len(shape)} (shape {shape}).')
    if shape[1] < 2:
        raise ValueError(f'{name} needs at least 2 regions (columns) for a '
                         f'functional connectivity, got shape {shape}.')


def _check_pair_ts(prediction, target):
    _check_timeseries(prediction, 'prediction')
    _check_timeseries(target, 'target')
    _check_no_nan(target)
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


def _named(f, name):
    f.__name__ = f.__qualname__ = name
    return f


# ----------------------------------------------------------------------------
# numerics
# ----------------------------------------------------------------------------

def _unit_vectors(x, axis):
    r"""Centre ``x`` along ``axis`` and scale it to unit Euclidean norm.

    Slices whose spread is zero up to rounding
    (:math:`\|x - \bar x\| \le 64\,\epsilon\,\|x\|`) become exactly 0, with
    finite (zero) gradients, instead of ``0 / 0``. Slices holding NaN or inf
    stay NaN.
    """
    c = x - jnp.mean(x, axis=axis, keepdims=True)
    ss = jnp.sum(c * c, axis=axis, keepdims=True)
    eps = jnp.finfo(c.dtype).eps
    scale = jax.lax.stop_gradient(jnp.sum(x * x, axis=axis, keepdims=True))
    ok = ss > (_STD_TOL * eps) ** 2 * scale
    norm = jnp.sqrt(jnp.where(ok, ss, 1.0))
    return jnp.where(ok, c / norm, _zero_unless_nan(ss))


def _float(x):
    x = _mag(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(jnp.result_type(float))


def _pearson(a, b):
    r"""Pearson correlation :math:`r = \sum_i z^a_i z^b_i` of two vectors (0 if constant)."""
    za = _unit_vectors(_float(a).ravel(), 0)
    zb = _unit_vectors(_float(b).ravel(), 0)
    return jnp.clip(jnp.sum(za * zb), -1.0, 1.0)


def _corr_matrix(x):
    """``np.corrcoef(x.T)``: correlation of the columns of ``x`` ((T, N) -> (N, N))."""
    z = _unit_vectors(x, 0)
    return jnp.clip(jnp.matmul(z.T, z, precision=_HIGHEST), -1.0, 1.0)


def _triu(m):
    n = m.shape[-1]
    iu = np.triu_indices(n, k=1)
    return m[..., iu[0], iu[1]]


def _fc_vector(x):
    """Upper triangle (k=1) of the FC matrix of a (T, N) series."""
    return _triu(_corr_matrix(_float(x)))


def _zero_unless_nan(x):
    """0 where ``x`` is a number, NaN where it is NaN.

    The fallback branch of the guarded divisions and roots: a diverged
    prediction must give a NaN score, never a perfect one (``NaN > 0`` is
    False, so a plain ``where(x > 0, ..., 0)`` would turn NaN into 0).
    """
    return jnp.where(jnp.isnan(x), jnp.nan, 0.0).astype(x.dtype)


def _safe_sqrt(x):
    """``sqrt`` with a finite (zero) gradient at 0; NaN stays NaN."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), _zero_unless_nan(x))


def _rms(d):
    return _safe_sqrt(jnp.mean(d * d))


_rmse_core = jax.jit(lambda p, t: _rms(p - t))
_pearson_core = jax.jit(_pearson)
_fc_corr_core = jax.jit(lambda p, t: _pearson(_fc_vector(p), _fc_vector(t)))
_fc_rmse_core = jax.jit(lambda p, t: _rms(_fc_vector(p) - _fc_vector(t)))


@jax.jit
def _cosine_core(p, t):
    p, t = p.ravel(), t.ravel()
    denom = _safe_sqrt(jnp.sum(p * p)) * _safe_sqrt(jnp.sum(t * t))
    ok = denom > 0
    s = jnp.where(ok, jnp.sum(p * t) / jnp.where(ok, denom, 1.0), _zero_unless_nan(denom))
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
    return _fcd_core(x, window_size, step_size)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _fcd_core(x, window_size, step_size):
    starts = np.arange(0, x.shape[0] - window_size + 1, step_size)
    idx = starts[:, None] + np.arange(window_size)[None, :]
    fc_vecs = jax.vmap(_fc_vector)(x[idx])            # (K, E)
    z = _unit_vectors(fc_vecs, 1)
    fcd_mat = jnp.clip(jnp.matmul(z, z.T, precision=_HIGHEST), -1.0, 1.0)
    return _triu(fcd_mat)


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
    if a.size == b.size:  # exact integer comparison (identical samples -> 0.0)
        return jnp.max(jnp.abs(cnt_a - cnt_b)) / a.size
    return jnp.max(jnp.abs(cnt_a / a.size - cnt_b / b.size))


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
    cdf_a = jnp.searchsorted(a, merged[:-1], side='right') / a.size
    cdf_b = jnp.searchsorted(b, merged[:-1], side='right') / b.size
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
        _check_no_nan(target)
        p, t, unit = _common_magnitudes(prediction, target)
        return _with_unit(_rmse_core(p, t), unit)
    return _named(rmse, 'timeseries_rmse')


def fc_corr(as_loss=False):
    r"""Correlation between the FC matrices of prediction and target.

    .. math::  r = \mathrm{corr}\big(\mathrm{triu}\,\mathrm{FC}(p),\;
               \mathrm{triu}\,\mathrm{FC}(t)\big), \qquad
               \text{loss} = 1 - r

    ``p`` and ``t`` are ``(T, N)`` series (``T`` may differ, ``N`` must
    match). Units are stripped.

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
        _check_pair_ts(prediction, target)
        r = _fc_corr_core(_float(prediction), _float(target))
        return 1.0 - r if as_loss else r
    return _named(fc_corr_, 'fc_corr_loss' if as_loss else 'fc_corr')


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
        _check_pair_ts(prediction, target)
        return _fc_rmse_core(_float(prediction), _float(target))
    return _named(fc_rmse_, 'fc_rmse')


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
        _check_no_nan(target)
        s = _cosine_core(_float(prediction), _float(target))
        return 1.0 - s if as_loss else s
    return _named(cosine, 'cosine_sim_loss' if as_loss else 'cosine_sim')


def _fcd_pair(prediction, target, window_size, step_size):
    _check_pair_ts(prediction, target)
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
        fp, ft = _fcd_pair(prediction, target, window_size, step_size)
        if fp.shape != ft.shape:
            raise ValueError('fcd needs the same number of windows: prediction '
                             f'shape {_shape(prediction)} and target shape '
                             f'{_shape(target)} give FCD vectors of sizes '
                             f'{fp.shape[0]} and {ft.shape[0]}.')
        r = _pearson_core(fp, ft)
        return 1.0 - r if as_loss else r
    return _named(fcd_, 'fcd_loss' if as_loss else 'fcd')


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
    _check_window(window_size, step_size)

    def fcd_ks_(prediction, target):
        return ks_distance(*_fcd_pair(prediction, target, window_size, step_size))
    return _named(fcd_ks_, 'fcd_ks')


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
    _check_window(window_size, step_size)

    def fcd_w(prediction, target):
        return wasserstein_1d(*_fcd_pair(prediction, target, window_size, step_size))
    return _named(fcd_w, 'fcd_wasserstein')


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
        weight (e.g. ``(1 / u.mV, timeseries_rmse())``).

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
    return _named(combined, 'combined_objective')
