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

The package sits above :mod:`brainmass.analysis` (it imports ``analysis`` and ``_core``
only); :class:`~brainmass.Fitter` uses it. Its modules: ``timeseries`` (two ``(T, N)``
series), ``matrices`` (against an empirical FC matrix or FCD distribution),
``distributions`` (FCD values, KS and Wasserstein-1 distances), ``combined``
(:func:`combine`) and ``_common`` (shared checks and numerics).
"""
from ._common import UnitMismatchError
from .combined import combine
from .distributions import fcd_distribution, ks_distance, wasserstein_1d
from .matrices import fc_matrix_corr, fc_matrix_rmse, fcd_distribution_ks, fcd_distribution_wasserstein
from .timeseries import cosine_sim, fc_corr, fc_rmse, fcd, fcd_ks, fcd_wasserstein, timeseries_rmse

__all__ = [
    'timeseries_rmse', 'fc_corr', 'fc_rmse', 'cosine_sim', 'fcd', 'fcd_ks',
    'fcd_wasserstein', 'fc_matrix_corr', 'fc_matrix_rmse', 'fcd_distribution_ks',
    'fcd_distribution_wasserstein', 'combine', 'fcd_distribution', 'ks_distance',
    'wasserstein_1d',
]
