r"""Graph Laplacians of a structural connectome.

:math:`L = D - W` with :math:`D = \mathrm{diag}(\sum_j W_{ij})` (rows sum to 0);
``normalize='sym'`` gives :math:`I - D^{-1/2} W D^{-1/2}` and ``'rw'`` (random
walk) :math:`I - D^{-1} W` (rows sum to 0 for every node with a connection).
Coupling through a Laplacian is :math:`C_i = -k (L x)_i`, which equals the
diffusive coupling :math:`k\sum_j W_{ij}(x_j - x_i)` for ``normalize=None``.
"""
from __future__ import annotations

import functools

import brainstate
import jax.numpy as jnp
import numpy as np

from .._core.validation import check_bool, check_choice, numeric_magnitude

__all__ = ['laplacian_connectivity', 'LaplacianConnParam']


def laplacian_connectivity(W, *, normalize=None, eps=1e-12, return_diag=False):
    """Laplacian of a weight matrix (see the module docstring).

    Parameters
    ----------
    W : array_like, shape (N, N)
        Non-negative weights (target row, source column).
    normalize : {None, 'sym', 'rw'}
        Combinatorial, symmetric-normalised or random-walk Laplacian.
    eps : float
        Floor on degrees before taking inverses (isolated nodes stay finite).
    return_diag : bool
        Also return the degree vector.

    Examples
    --------
    >>> import numpy as np, brainmass
    >>> W = np.array([[0., 1.], [1., 0.]])
    >>> brainmass.laplacian_connectivity(W).tolist()
    [[1.0, -1.0], [-1.0, 1.0]]
    """
    check_choice(normalize, (None, 'sym', 'rw'), 'normalize')
    check_bool(return_diag, 'return_diag')
    W = jnp.asarray(W, dtype=brainstate.environ.dftype())
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f'`W` must be a square (N, N) matrix; got shape {W.shape}.')
    deg = W.sum(axis=1)
    eye = jnp.eye(W.shape[0], dtype=W.dtype)
    if normalize is None:
        L = jnp.diag(deg) - W
    elif normalize == 'sym':
        inv_sqrt = 1. / jnp.sqrt(jnp.maximum(deg, eps))
        L = eye - inv_sqrt[:, None] * W * inv_sqrt[None, :]
    else:
        L = eye - W / jnp.maximum(deg, eps)[:, None]
    return (L, deg) if return_diag else L


class LaplacianConnParam(brainstate.nn.Param):
    """A (trainable) ``brainstate.nn.Param`` holding the Laplacian of ``W``.

    Its initial value is exactly ``laplacian_connectivity(W, normalize=...)``.
    An :class:`~brainmass.AdditiveCoupling` whose ``conn`` is a
    ``LaplacianConnParam`` applies :math:`C = -k L x`.

    Parameters
    ----------
    W : array_like (N, N)
        Non-negative weights (target row, source column).
    normalize : {None, 'sym', 'rw'}
        Combinatorial, symmetric-normalised or random-walk Laplacian.
    t : brainstate.nn.Transform, optional
        Transform of the stored value (the Laplacian; with ``mask``, the weights).
    fit : bool, default True
        Trainable.
    mask : array_like (N, N), optional
        An elementwise mask (0/1, or weights) of the edges. With a mask the Param
        holds the weights ``W`` (through ``t``) and its value is the Laplacian of
        the masked weights, ``laplacian_connectivity(mask * t(W), normalize)``:
        training moves the weights, the value stays a Laplacian, and masked-out
        edges get no gradient (they stay absent). ``set_value`` then takes the
        weights, as ``t`` does; :meth:`weights` reads them back masked. A mask of
        another shape than ``W``, with NaN/inf or not made of real numbers, is
        an error naming ``mask``.

    Examples
    --------
    >>> import numpy as np, brainmass
    >>> p = brainmass.LaplacianConnParam(np.ones((3, 3)) - np.eye(3))
    >>> float(p.value().sum())
    0.0
    >>> M = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    >>> brainmass.LaplacianConnParam(np.ones((3, 3)), mask=M).value().tolist()
    [[1.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 1.0]]
    """

    def __init__(self, W, normalize=None, t=None, fit=True, mask=None, **kwargs):
        check_bool(fit, 'fit', 'True makes the Laplacian trainable')
        if t is not None:
            kwargs['t'] = t
        if mask is None:
            super().__init__(laplacian_connectivity(np.asarray(W), normalize=normalize), fit=fit, **kwargs)
        else:
            W = np.asarray(W)
            laplacian_connectivity(W, normalize=normalize)  # checks W and normalize
            mask = _check_mask(mask, W.shape)
            super().__init__(W, fit=fit, precompute=functools.partial(_masked_laplacian, mask, normalize),
                             **kwargs)
        self.normalize = normalize
        self.mask = mask

    def weights(self):
        """The (masked) weights whose Laplacian is the value (``None`` without a mask: the Param holds L)."""
        if self.mask is None:
            return None
        return self.mask * self.t.forward(brainstate.maybe_state(self.val))


def _masked_laplacian(mask, normalize, W):
    return laplacian_connectivity(mask * W, normalize=normalize)


def _check_mask(mask, shape):
    """The mask as a float array of ``shape`` (the weights'); a ValueError / TypeError naming ``mask``."""
    if isinstance(mask, (list, tuple, np.ndarray)) and _is_bool_array(mask):
        mask = np.asarray(mask, dtype=float)  # a boolean mask of the edges
    arr = numeric_magnitude(mask, '`mask`', f'an array of shape {shape} of real numbers (0/1 or weights)')
    if arr.shape != tuple(shape):
        raise ValueError(f'`mask` must have the shape of the weights, {tuple(shape)}; got {arr.shape}.')
    if not np.all(np.isfinite(arr)):
        raise ValueError('`mask` contains NaN or inf.')
    return jnp.asarray(arr, dtype=brainstate.environ.dftype())


def _is_bool_array(value):
    try:
        return np.asarray(value).dtype == np.bool_
    except ValueError:  # ragged: numeric_magnitude names it
        return False
