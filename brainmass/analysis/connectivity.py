r"""Functional connectivity (FC) and its sliding-window dynamics (FCD).

Conventions
-----------
* A series is ``(..., T, N)``: ``T`` samples (time axis -2) of ``N`` regions
  (last axis), with any leading batch axes. Units are stripped (correlations
  are dimensionless).
* ``FC(x)`` is the Pearson correlation of the columns of ``x``, equal to
  ``np.corrcoef(x.T)``.
* A column that is constant up to rounding (``std <= 64 * eps * rms``) gets a
  zero z-score: its correlations, diagonal included, are 0 rather than NaN, so
  gradients stay finite. A column holding NaN or inf gives NaN correlations
  (NaN propagates).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._inputs import samples, sampling_interval, series, window_starts
from ._numerics import zero_unless_nan

__all__ = ['fc', 'fcd', 'fcd_distribution']

_HIGHEST = jax.lax.Precision.HIGHEST
_STD_TOL = 64.0  # zero-variance threshold, in units of the dtype's eps


def unit_vectors(x, axis):
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
    return jnp.where(ok, c / norm, zero_unless_nan(ss))


def triu(m):
    """Strict upper triangle (``k = 1``) of the last two axes, flattened: ``(..., n, n) -> (..., n(n-1)/2)``."""
    rows, cols = np.triu_indices(m.shape[-1], k=1)
    return m[..., rows, cols]


@jax.jit
def fc_core(x):
    """The FC of a floating ``(..., T, N)`` array, unchecked (:func:`fc` after its checks).

    The scatter matrix of the centred series, scaled by its diagonal. Same
    zero-variance rule as :func:`unit_vectors` (``sum x^2 = ss + T mean^2``), one pass fewer.
    """
    mean = jnp.mean(x, axis=-2, keepdims=True)
    c = x - mean
    cov = jnp.einsum('...ti,...tj->...ij', c, c, precision=_HIGHEST)
    ss = jnp.diagonal(cov, axis1=-2, axis2=-1)
    scale = jax.lax.stop_gradient(ss + x.shape[-2] * mean[..., 0, :] ** 2)
    ok = ss > (_STD_TOL * jnp.finfo(x.dtype).eps) ** 2 * scale
    inv = jnp.where(ok, jax.lax.rsqrt(jnp.where(ok, ss, 1.0)), zero_unless_nan(ss))
    return jnp.clip(cov * inv[..., :, None] * inv[..., None, :], -1.0, 1.0)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def fcd_core(x, window, step, vectorised=False):
    """The FCD matrix ``(..., W, W)`` of a floating ``(..., T, N)`` array, unchecked (:func:`fcd` after its checks).

    The window FCs are computed one window at a time (a scan: no gathered copy
    of the windows), or with ``vectorised=True`` all at once (one gathered
    copy: faster for the short series of a fit).
    """
    starts = np.arange(0, x.shape[-2] - window + 1, step)

    def window_fc(start):
        return triu(fc_core(jax.lax.dynamic_slice_in_dim(x, start, window, axis=-2)))

    batch = starts.size if vectorised else None
    vectors = jax.lax.map(window_fc, jnp.asarray(starts), batch_size=batch)   # (W, ..., E)
    z = unit_vectors(jnp.moveaxis(vectors, 0, -2), -1)                        # (..., W, E)
    return jnp.clip(jnp.einsum('...ke,...le->...kl', z, z, precision=_HIGHEST), -1.0, 1.0)


def fc(ts):
    r"""Functional connectivity: the Pearson correlation matrix of the regions.

    .. math::  \mathrm{FC}_{ij} = \frac{\sum_t (x_{ti} - \bar x_i)(x_{tj} - \bar x_j)}
               {\sqrt{\sum_t (x_{ti} - \bar x_i)^2 \sum_t (x_{tj} - \bar x_j)^2}}

    Equal to ``np.corrcoef(ts.T)`` for every batch member; a constant region
    gets a row and column of zeros (see the module notes), NaN propagates.
    Differentiable.

    Parameters
    ----------
    ts : array_like or Quantity, shape (..., T, N)
        Time series, ``T >= 2`` samples, ``N >= 2`` regions, any leading batch
        axes. Units are stripped.

    Returns
    -------
    jax.Array, shape (..., N, N)

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.analysis import fc
    >>> x = np.random.default_rng(0).normal(size=(200, 3))
    >>> bool(np.allclose(fc(x), np.corrcoef(x.T), atol=1e-5))
    True
    """
    x, _ = series(ts, 'ts', min_time=2, min_regions=2)
    return fc_core(x)


def fcd(ts, window_size, step_size, dt=None):
    r"""Sliding-window functional connectivity dynamics (FCD) matrix.

    Windows start at :math:`s_k = k \cdot \text{step}` for
    :math:`s_k \le T - \text{window}` (the layout of
    ``braintools.metric.functional_connectivity_dynamics``). With
    :math:`v_k = \mathrm{triu}\,\mathrm{FC}(x[s_k : s_k + \text{window}])` (the
    strict upper triangle),

    .. math::  \mathrm{FCD}_{kl} = \mathrm{corr}(v_k, v_l).

    Differentiable; NaN propagates.

    Parameters
    ----------
    ts : array_like or Quantity, shape (..., T, N)
        Time series, ``N >= 3`` regions (so that a window's FC has at least 3
        distinct entries), any leading batch axes. Units are stripped.
    window_size, step_size : int or Quantity
        Window length (``>= 2``) and shift between windows (``>= 1``), in
        samples or as times (e.g. ``2 * u.second``, then ``dt`` is required and
        they must be whole numbers of samples). At least 2 windows must fit.
    dt : Quantity or float, optional
        Sampling interval (plain numbers: ms); only to convert times to samples.

    Returns
    -------
    jax.Array, shape (..., W, W)
        ``W`` is the number of windows.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.analysis import fcd
    >>> x = np.random.default_rng(0).normal(size=(100, 4))
    >>> fcd(x, window_size=20, step_size=10).shape
    (9, 9)
    """
    x, window, step = _fcd_args(ts, window_size, step_size, dt)
    return fcd_core(x, window, step)


def fcd_distribution(ts, window_size, step_size, dt=None):
    r"""The FCD values: the strict upper triangle (``k = 1``) of :func:`fcd`.

    Parameters are those of :func:`fcd`.

    Returns
    -------
    jax.Array, shape (..., W (W - 1) / 2)

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.analysis import fcd_distribution
    >>> x = np.random.default_rng(0).normal(size=(100, 4))
    >>> fcd_distribution(x, window_size=20, step_size=10).shape  # W = 9
    (36,)
    """
    return triu(fcd(ts, window_size, step_size, dt))


def _fcd_args(ts, window_size, step_size, dt):
    x, _ = series(ts, 'ts', min_time=2, min_regions=3)
    dt_s = None if dt is None else sampling_interval(dt)
    window = samples(window_size, 'window_size', dt_s, 2)
    step = samples(step_size, 'step_size', dt_s, 1)
    window_starts(x.shape[-2], window, step, 'ts')
    return x, window, step
