r"""Phase synchrony: Kuramoto order parameter, synchrony and metastability.

Every function takes ``x`` of shape ``(..., T, N)`` (time axis -2, regions
last, any leading batch axes) and a required ``kind``:

* ``kind='phase'``: ``x`` holds phases in radians (plain numbers or a
  dimensionless Quantity), e.g. the ``theta`` of a Kuramoto network; they may
  be unwrapped (only ``exp(i x)`` is used);
* ``kind='signal'``: ``x`` is any signal (units stripped); its phases are the
  :func:`~brainmass.analysis.hilbert_phase` of ``x`` minus its mean over time.

``kind`` has no default on purpose: read as phases, a firing rate would give a
number that looks plausible and means nothing. NaN in a region at time ``t``
makes the order parameter NaN at ``t`` (and the synchrony / metastability NaN).
"""
from __future__ import annotations

import brainunit as u
import jax
import jax.numpy as jnp

from .._core.units import unit_name
from .._core.validation import check_choice
from ._inputs import series
from ._numerics import safe_sqrt
from .spectral import analytic_parts

__all__ = ['kuramoto_order', 'synchrony', 'metastability']

_KINDS = ('phase', 'signal')


def _cos_sin(x, kind):
    """``(cos theta, sin theta)`` of the phases of ``x``, each ``(..., T, N)``."""
    check_choice(kind, _KINDS, 'kind')
    if kind == 'phase' and isinstance(x, u.Quantity) and not u.get_unit(x).is_unitless:
        raise TypeError(f'`x` with kind=\'phase\' must be phases in radians (plain numbers or dimensionless); '
                        f'got a quantity in {unit_name(x)}. For a signal use kind=\'signal\'.')
    arr, _ = series(x, 'x', min_time=1, min_regions=1)
    return (_unit_phasors if kind == 'signal' else _phasors)(arr)


@jax.jit
def _phasors(theta):
    return jnp.cos(theta), jnp.sin(theta)


@jax.jit
def _unit_phasors(x):
    """``z / |z|`` of the analytic signal ``z`` of the demeaned ``x``: ``exp(i theta)`` without an angle.

    Where ``z = 0`` the phase is 0 (``exp(i 0) = 1``), as ``np.angle(0)``.
    """
    re, im = analytic_parts(x - jnp.mean(x, axis=-2, keepdims=True))
    mag2 = re * re + im * im
    ok = mag2 > 0
    inv = jnp.where(ok, jax.lax.rsqrt(jnp.where(ok, mag2, 1.0)), 0.0)
    return jnp.where(ok | jnp.isnan(mag2), re * inv, 1.0), im * inv


@jax.jit
def _order(cos, sin):
    re = jnp.mean(cos, axis=-1)
    im = jnp.mean(sin, axis=-1)
    return safe_sqrt(re * re + im * im)


@jax.jit
def _std(r):
    return safe_sqrt(jnp.var(r, axis=-1))


def kuramoto_order(x, *, kind):
    r"""Kuramoto order parameter at every time step.

    .. math::  R(t) = \Big|\frac{1}{N}\sum_{j=1}^{N} e^{i\theta_j(t)}\Big| \in [0, 1]

    1 when all regions share one phase, near 0 when the phases are spread
    uniformly. Differentiable (a finite, zero gradient at :math:`R = 0`).

    Parameters
    ----------
    x : array_like or Quantity, shape (..., T, N)
        Phases (``kind='phase'``) or a signal (``kind='signal'``); see the
        module notes.
    kind : {'phase', 'signal'}
        Required, keyword-only.

    Returns
    -------
    jax.Array, shape (..., T)

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.analysis import kuramoto_order
    >>> theta = np.array([[0.1, 0.1, 0.1], [0.0, 2 * np.pi / 3, 4 * np.pi / 3]])
    >>> np.round(kuramoto_order(theta, kind='phase'), 4)
    Array([1., 0.], dtype=float32)
    """
    return _order(*_cos_sin(x, kind))


def synchrony(x, *, kind):
    r"""Mean over time of the Kuramoto order parameter, :math:`\langle R(t) \rangle_t`.

    Parameters are those of :func:`kuramoto_order`.

    Returns
    -------
    jax.Array, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.analysis import synchrony
    >>> t = np.arange(1000) * 1e-3
    >>> x = np.stack([np.sin(2 * np.pi * 10 * t)] * 3, axis=-1)   # three identical signals
    >>> round(float(synchrony(x, kind='signal')), 4)
    1.0
    """
    return jnp.mean(kuramoto_order(x, kind=kind), axis=-1)


def metastability(x, *, kind):
    r"""Standard deviation over time of the Kuramoto order parameter.

    .. math::  \sigma_R = \sqrt{\big\langle (R(t) - \langle R \rangle_t)^2 \big\rangle_t}

    (population standard deviation, ``ddof = 0``; a finite, zero gradient at
    :math:`\sigma_R = 0`). High when the network
    moves between synchronised and desynchronised states.

    Parameters and result (a ``jax.Array`` of shape ``(...)``) as in :func:`synchrony`.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.analysis import metastability
    >>> t = np.arange(1000)[:, None] * 1e-3
    >>> theta = 2 * np.pi * np.array([10.0, 11.0]) * t            # drifting in and out of phase
    >>> round(float(metastability(theta, kind='phase')), 2)
    0.31
    """
    return _std(kuramoto_order(x, kind=kind))
