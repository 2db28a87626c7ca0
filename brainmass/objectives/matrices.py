"""Objectives against empirical summaries: an (N, N) FC matrix, FCD values or an FCD matrix."""
from __future__ import annotations

import jax
import numpy as np

from .._core.validation import check_bool
from ..analysis._numerics import rms
from ..analysis.connectivity import triu
from ._common import (as_float, check_finite, check_timeseries, check_window, concrete, distance_objective,
                      fc_vector, mark_objective, pearson, shape_of)
from .distributions import fcd_values, ks_distance, wasserstein_1d

__all__ = ['fc_matrix_corr', 'fc_matrix_rmse', 'fcd_distribution_ks', 'fcd_distribution_wasserstein']


def _check_correlations(target, objective, what):
    """A concrete target of correlations: finite, in [-1, 1], symmetric when square 2-D."""
    arr = concrete(target)
    if arr is None:
        return
    check_finite(target)
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
        shape = shape_of(target)
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] < 2:
            raise ValueError(f'`target` of {objective}() must be the (N, N) empirical FC matrix (N >= 2 '
                             f'regions), got shape {shape}. To compare with a (T, N) time series use '
                             f'fc_corr() or fc_rmse().')
        _check_correlations(target, objective, 'FC matrix')
    return validate_target


def _check_fc_matrix_pair(prediction, target, validate_target):
    check_timeseries(prediction, 'prediction')
    validate_target(target)
    n_p, n_t = shape_of(prediction)[1], shape_of(target)[0]
    if n_p != n_t:
        raise ValueError(f'`target` is the FC of {n_t} regions (shape {shape_of(target)}) but the prediction '
                         f'has {n_p} regions (shape {shape_of(prediction)}).')


_fc_matrix_corr_core = jax.jit(lambda p, t: pearson(fc_vector(p), triu(t)))
_fc_matrix_rmse_core = jax.jit(lambda p, t: rms(fc_vector(p) - triu(t)))


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
        r = _fc_matrix_corr_core(as_float(prediction), as_float(target))
        return 1.0 - r if as_loss else r
    return mark_objective(fc_matrix_corr_, name + '_loss' if as_loss else name, higher_is_better=not as_loss,
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
        return _fc_matrix_rmse_core(as_float(prediction), as_float(target))
    return mark_objective(fc_matrix_rmse_, name, time_flexible=True, target_kind='fc_matrix',
                          validate_target=validate_target)


def _fcd_target_check(objective):
    """``validate_target`` of the FCD-distribution objectives: 1-D FCD values or a (W, W) FCD matrix."""
    def validate_target(target):
        shape = shape_of(target)
        square = len(shape) == 2 and shape[0] == shape[1] and shape[0] >= 2
        if not (len(shape) == 1 and shape[0] >= 1) and not square:
            raise ValueError(f'`target` of {objective}() must be the empirical FCD values (1-D, e.g. '
                             f'fcd_distribution(data)) or an FCD matrix (W, W), got shape {shape}. To compare '
                             f'with a (T, N) time series use fcd_ks() or fcd_wasserstein().')
        _check_correlations(target, objective, 'FCD matrix' if square else 'set of FCD values')
    return validate_target


def _fcd_distribution_pair(prediction, target, window_size, step_size, validate_target):
    check_timeseries(prediction, 'prediction')
    validate_target(target)
    values = as_float(target)
    if values.ndim == 2:
        values = triu(values)
    return fcd_values(prediction, window_size, step_size, 'prediction'), values


def _fcd_distribution_distance(name, distance, window_size, step_size):
    """``distance(FCD values of the prediction, the target's FCD values)``: the target is empirical
    FCD values (1-D) or an FCD matrix."""
    check_window(window_size, step_size)
    validate_target = _fcd_target_check(name)

    def values(prediction, target):
        return _fcd_distribution_pair(prediction, target, window_size, step_size, validate_target)
    return distance_objective(name, distance, values, target_kind='fcd', validate_target=validate_target)


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
    >>> from brainmass.objectives import fcd_distribution
    >>> x = np.random.default_rng(0).normal(size=(120, 4))
    >>> float(fcd_distribution_ks(20, 10)(x, fcd_distribution(x, 20, 10)))
    0.0
    """
    return _fcd_distribution_distance('fcd_distribution_ks', ks_distance, window_size, step_size)


def fcd_distribution_wasserstein(window_size=30, step_size=5):
    r"""Wasserstein-1 distance between the FCD values of a simulated series and an empirical FCD distribution.

    .. math::  W_1 = \int |F_{\mathrm{FCD}(p)}(x) - F_{t}(x)|\,dx

    Target as in :func:`fcd_distribution_ks` (1-D FCD values or a ``(W, W)``
    FCD matrix). Differentiable almost everywhere.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.objectives import fcd_distribution
    >>> x = np.random.default_rng(0).normal(size=(120, 4))
    >>> float(fcd_distribution_wasserstein(20, 10)(x, fcd_distribution(x, 20, 10)))
    0.0
    """
    return _fcd_distribution_distance('fcd_distribution_wasserstein', wasserstein_1d, window_size, step_size)
