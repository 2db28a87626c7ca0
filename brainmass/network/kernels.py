r"""Coupling kernels as pure functions.

Every kernel has the form ``C_i = post(s_i, x_i)`` with the weighted sum
:math:`s_i = \sum_j W_{ij}\,\mathrm{pre}(\tilde x_{ij})`, where
:math:`\tilde x_{ij}` is source ``j`` as seen by target ``i`` (delayed):

=========================  =====================  ==================================================
kernel                     pre(x)                 C_i
=========================  =====================  ==================================================
diffusive                  x                      :math:`k (s_i - x_i\sum_j W_{ij})`
additive                   x                      :math:`k s_i + b`
laplacian (W = L)          x                      :math:`-k s_i = -k (L\tilde x)_i`
tanh                       x                      :math:`k\tanh(\mathrm{scale}\,s_i)`
sigmoidal                  x                      :math:`k\,\sigma(\mathrm{slope}(a s_i + b - \mathrm{mid}))`
sigmoidal Jansen-Rit       :math:`\sigma_{JR}(x)`  :math:`k s_i`
=========================  =====================  ==================================================

with :math:`\sigma(z) = 1/(1+e^{-z})` and
:math:`\sigma_{JR}(x) = c_{min} + (c_{max}-c_{min})/(1 + e^{r(\mathrm{mid} - x)})`.
``delayed_x`` is ``(..., N, N)`` (target, source) or flattened ``(..., N*N)``,
where ``...`` are any leading batch axes (e.g. ``(B, N, N)`` or ``(B, N*N)`` for
B batch members); the self read ``y`` is ``(..., N)`` with the same (or
broadcastable) leading axes, and the current is ``(..., N)``: each batch member
gets exactly what it would get on its own.
"""
from __future__ import annotations

import brainunit as u
import jax.numpy as jnp
import numpy as np

__all__ = ['weighted_sum', 'diffusive_coupling', 'additive_coupling', 'sigmoidal_coupling',
           'hyperbolic_tangent_coupling', 'sigmoidal_jansen_rit_coupling', 'jansen_rit_sigmoid',
           'logistic']


def logistic(z):
    return 1. / (1. + jnp.exp(-z))


def jansen_rit_sigmoid(x, cmin=0., cmax=0.005, midpoint=6., r=0.56):
    r""":math:`c_{min} + (c_{max}-c_{min}) / (1 + e^{r(\mathrm{mid} - x)})`."""
    return cmin + (cmax - cmin) / (1. + jnp.exp(r * (midpoint - x)))


def _square(delayed_x, n):
    shape = u.math.shape(delayed_x)
    if len(shape) >= 2 and shape[-2:] == (n, n):
        return delayed_x
    if shape and shape[-1] == n * n:
        return u.math.reshape(delayed_x, tuple(shape[:-1]) + (n, n))
    raise ValueError(f'`delayed_x` must be (..., {n}, {n}) or flattened (..., {n * n}) to match conn; '
                     f'got {tuple(shape)}.')


def weighted_sum(delayed_x, conn):
    """:math:`s_i = \\sum_j W_{ij}\\tilde x_{ij}` for (..., N, N) or flattened input."""
    n = u.math.shape(conn)[-1]
    return u.math.sum(conn * _square(delayed_x, n), axis=-1)


def diffusive_coupling(delayed_x, y, conn, k=1.0):
    r""":math:`C_i = k\sum_j W_{ij}(\tilde x_{ij} - y_i)`.

    Examples
    --------
    >>> import jax.numpy as jnp, brainmass
    >>> W = jnp.array([[0., 1.], [1., 0.]])
    >>> x = jnp.array([1., 3.])
    >>> brainmass.diffusive_coupling(jnp.broadcast_to(x, (2, 2)), x, W, k=0.5).tolist()
    [1.0, -1.0]

    With a leading batch axis, ``(B, N, N)`` (or ``(B, N*N)``) reads and a ``(B, N)`` self read:

    >>> xb = jnp.stack([x, 2 * x])
    >>> brainmass.diffusive_coupling(jnp.broadcast_to(xb[:, None, :], (2, 2, 2)), xb, W, k=0.5).tolist()
    [[1.0, -1.0], [2.0, -2.0]]
    """
    n = u.math.shape(conn)[-1]
    check_self(y, n)
    _check_batch_axes(_square(delayed_x, n), y)
    return k * (weighted_sum(delayed_x, conn) - y * u.math.sum(conn, axis=-1))


def _check_batch_axes(delayed_x, y):
    """The leading (batch) axes of the self read must broadcast with those of the (N, N) delayed read."""
    lead_x, lead_y = tuple(u.math.shape(delayed_x))[:-2], tuple(u.math.shape(y))[:-1]
    try:
        np.broadcast_shapes(lead_x, lead_y)
    except ValueError:
        raise ValueError(f'`y` has batch axes {lead_y} but `delayed_x` has {lead_x} (shapes '
                         f'{tuple(u.math.shape(y))} and {tuple(u.math.shape(delayed_x))}): give one self read '
                         f'(..., N) per delayed read (..., N, N).') from None


def check_self(y, n, name='y'):
    """The self read must be one value per region: (..., N) (or a scalar); shapes are static."""
    shape = tuple(u.math.shape(y))
    if shape and shape[-1] not in (1, n):
        raise ValueError(f'`{name}` (the self read x_i) must have one value per region, shape (..., {n}) to '
                         f'match conn; got {shape}.')


def additive_coupling(delayed_x, conn, k=1.0, b=0.0):
    r""":math:`C_i = k\sum_j W_{ij}\tilde x_{ij} + b`."""
    return k * weighted_sum(delayed_x, conn) + b


def sigmoidal_coupling(delayed_x, conn, k=1.0, a=1.0, b=0.0, slope=1.0, midpoint=0.0):
    r""":math:`C_i = k\,\sigma(\mathrm{slope}(a\sum_j W_{ij}\tilde x_{ij} + b - \mathrm{mid}))`."""
    return k * logistic(slope * (a * weighted_sum(delayed_x, conn) + b - midpoint))


def hyperbolic_tangent_coupling(delayed_x, conn, k=0.5, scale=2.0):
    r""":math:`C_i = k\tanh(\mathrm{scale}\sum_j W_{ij}\tilde x_{ij})`."""
    return k * jnp.tanh(scale * weighted_sum(delayed_x, conn))


def sigmoidal_jansen_rit_coupling(delayed_x, conn, k=1.0, cmin=0.0, cmax=0.005, midpoint=6.0, r=0.56):
    r""":math:`C_i = k\sum_j W_{ij}\,\sigma_{JR}(\tilde x_{ij})`.

    Examples
    --------
    >>> import jax.numpy as jnp, brainmass
    >>> c = brainmass.sigmoidal_jansen_rit_coupling(jnp.full((2, 2), 6.0), jnp.ones((2, 2)))
    >>> [round(float(v), 4) for v in c]
    [0.005, 0.005]
    """
    return k * weighted_sum(jansen_rit_sigmoid(delayed_x, cmin, cmax, midpoint, r), conn)
