"""FCD values and the distances between two samples (Kolmogorov-Smirnov, Wasserstein-1)."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from ..analysis.connectivity import fcd_core, triu
from ._common import as_float, check_timeseries, check_window, common_magnitudes, window_starts, with_unit

__all__ = ['fcd_distribution', 'ks_distance', 'wasserstein_1d']


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
    check_window(window_size, step_size)
    check_timeseries(x, 'x')
    return fcd_values(x, window_size, step_size, 'x')


def fcd_values(x, window_size, step_size, name):
    x = as_float(x)
    window_starts(x.shape[0], window_size, step_size, name)
    return triu(fcd_core(x, window_size, step_size, vectorised=True))


def _as_sample(x, name):
    x = as_float(x).ravel()
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
    a, b, unit = common_magnitudes(a, b, names=('a', 'b'))
    return with_unit(_w1_core(_as_sample(a, 'a'), _as_sample(b, 'b')), unit)


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
