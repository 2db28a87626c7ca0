r"""Graph Laplacians of a structural connectome.

:math:`L = D - W` with :math:`D = \mathrm{diag}(\sum_j W_{ij})` (rows sum to 0);
``normalize='sym'`` gives :math:`I - D^{-1/2} W D^{-1/2}` and ``'rw'`` (random
walk) :math:`I - D^{-1} W` (rows sum to 0 for every node with a connection).
Coupling through a Laplacian is :math:`C_i = -k (L x)_i`, which equals the
diffusive coupling :math:`k\sum_j W_{ij}(x_j - x_i)` for ``normalize=None``.
"""
from __future__ import annotations

import brainstate
import jax.numpy as jnp
import numpy as np

from .._core.validation import check_bool, check_choice

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
    normalize : {None, 'sym', 'rw'}
    t : brainstate.nn.Transform, optional
    fit : bool, default True

    Examples
    --------
    >>> import numpy as np, brainmass
    >>> p = brainmass.LaplacianConnParam(np.ones((3, 3)) - np.eye(3))
    >>> float(p.value().sum())
    0.0
    """

    def __init__(self, W, normalize=None, t=None, fit=True, **kwargs):
        check_bool(fit, 'fit', 'True makes the Laplacian trainable')
        L = laplacian_connectivity(np.asarray(W), normalize=normalize)
        if t is None:
            super().__init__(L, fit=fit, **kwargs)
        else:
            super().__init__(L, t=t, fit=fit, **kwargs)
        self.normalize = normalize
