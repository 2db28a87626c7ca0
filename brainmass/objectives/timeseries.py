"""Objectives comparing two ``(T, N)`` time series: amplitude, FC and FCD."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from .._core.validation import check_bool
from ..analysis._numerics import rms, safe_sqrt, zero_unless_nan
from ._common import (USE_FC_MATRIX, USE_FCD_VALUES, as_float, check_finite, check_pair_ts, check_same_shape,
                      check_window, common_magnitudes, distance_objective, fc_vector, mark_objective, pearson,
                      shape_of, timeseries_target_check, with_unit)
from .distributions import fcd_values, ks_distance, wasserstein_1d

__all__ = ['timeseries_rmse', 'fc_corr', 'fc_rmse', 'cosine_sim', 'fcd', 'fcd_ks', 'fcd_wasserstein']


_rmse_core = jax.jit(lambda p, t: rms(p - t))
_pearson_core = jax.jit(pearson)
_fc_corr_core = jax.jit(lambda p, t: pearson(fc_vector(p), fc_vector(t)))
_fc_rmse_core = jax.jit(lambda p, t: rms(fc_vector(p) - fc_vector(t)))


@jax.jit
def _cosine_core(p, t):
    p, t = p.ravel(), t.ravel()
    denom = safe_sqrt(jnp.sum(p * p)) * safe_sqrt(jnp.sum(t * t))
    ok = denom > 0
    s = jnp.where(ok, jnp.sum(p * t) / jnp.where(ok, denom, 1.0), zero_unless_nan(denom))
    return jnp.clip(s, -1.0, 1.0)


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
        check_same_shape(prediction, target)
        check_finite(target)
        p, t, unit = common_magnitudes(prediction, target)
        return with_unit(_rmse_core(p, t), unit)
    return mark_objective(rmse, 'timeseries_rmse')


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
        check_pair_ts(prediction, target, 'fc_corr', USE_FC_MATRIX)
        r = _fc_corr_core(as_float(prediction), as_float(target))
        return 1.0 - r if as_loss else r
    return mark_objective(fc_corr_, 'fc_corr_loss' if as_loss else 'fc_corr', higher_is_better=not as_loss,
                          time_flexible=True, validate_target=timeseries_target_check('fc_corr', USE_FC_MATRIX))


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
        check_pair_ts(prediction, target, 'fc_rmse', USE_FC_MATRIX)
        return _fc_rmse_core(as_float(prediction), as_float(target))
    return mark_objective(fc_rmse_, 'fc_rmse', time_flexible=True,
                          validate_target=timeseries_target_check('fc_rmse', USE_FC_MATRIX))


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
        check_same_shape(prediction, target)
        check_finite(target)
        s = _cosine_core(as_float(prediction), as_float(target))
        return 1.0 - s if as_loss else s
    return mark_objective(cosine, 'cosine_sim_loss' if as_loss else 'cosine_sim', higher_is_better=not as_loss)


def _fcd_pair(prediction, target, window_size, step_size, objective):
    check_pair_ts(prediction, target, objective, USE_FCD_VALUES)
    return (fcd_values(prediction, window_size, step_size, 'prediction'),
            fcd_values(target, window_size, step_size, 'target'))


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
    check_window(window_size, step_size)
    as_loss = check_bool(as_loss, 'as_loss')

    def fcd_(prediction, target):
        fp, ft = _fcd_pair(prediction, target, window_size, step_size, 'fcd')
        if fp.shape != ft.shape:
            raise ValueError('fcd needs the same number of windows: prediction '
                             f'shape {shape_of(prediction)} and target shape '
                             f'{shape_of(target)} give FCD vectors of sizes '
                             f'{fp.shape[0]} and {ft.shape[0]}.')
        r = _pearson_core(fp, ft)
        return 1.0 - r if as_loss else r
    return mark_objective(fcd_, 'fcd_loss' if as_loss else 'fcd', higher_is_better=not as_loss,
                          time_flexible=True, validate_target=timeseries_target_check('fcd', USE_FCD_VALUES))


def _fcd_series_distance(name, distance, window_size, step_size):
    """``distance(FCD values of the prediction, FCD values of the target)``, both (T, N) series."""
    check_window(window_size, step_size)

    def values(prediction, target):
        return _fcd_pair(prediction, target, window_size, step_size, name)
    return distance_objective(name, distance, values, target_kind='timeseries',
                              validate_target=timeseries_target_check(name, USE_FCD_VALUES))


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
    return _fcd_series_distance('fcd_ks', ks_distance, window_size, step_size)


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
    return _fcd_series_distance('fcd_wasserstein', wasserstein_1d, window_size, step_size)
