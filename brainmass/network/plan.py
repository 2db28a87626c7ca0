"""The delay plan of a Network: how its ring buffer is read, fixed for one dt.

A plan is built once from the delay times (``distance / speed``), the step ``dt`` and, for a
constant ``conn``, its weights; it holds the whole-step delays and the precomputed gather
indices, so the compiled step does no index arithmetic beyond adding the buffer's pointer.
One frozen dataclass per kind of read:

* :class:`DensePlan`: every off-diagonal edge is gathered and the delayed sum is a weighted
  reduction over the sources (a trainable ``conn``, or a constant one with at least
  :data:`SPARSE_DENSITY` of its edges nonzero);
* :class:`SparsePlan`: a constant ``conn`` with fewer nonzero edges: only those are gathered,
  and a segment sum adds them up per target.

The buffer is ``(N, 2L[, B])``: row ``j`` holds source ``j``'s last ``L`` values stored twice
over, so the delayed read of edge ``(i, j)`` at pointer ``p`` is column ``start[i, j] + p``
(``start = L - steps``) with no modulo, and ``K`` consecutive steps read the contiguous
window ``[start + p, start + p + K)`` (see :mod:`brainmass.network.ring_buffer`).
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Union

import brainstate
import jax
import jax.numpy as jnp
import numpy as np

from .checks import check_buffer_size
from .delays import delay_steps

__all__ = ['DensePlan', 'SparsePlan', 'build_plan', 'SPARSE_DENSITY', 'LOOKAHEAD_CAP']

#: a constant ``conn`` with fewer nonzero off-diagonal edges than this fraction is read as an edge list
SPARSE_DENSITY = 0.2
#: the most steps one prefetched block reads
LOOKAHEAD_CAP = 16


@dataclasses.dataclass(frozen=True, eq=False)
class _Plan:
    """What every plan holds.

    ``dt_ms``: the step the buffer is sized for; ``L``: its slots (longest delay + 1); ``K``: the
    lookahead (every weighted edge is delayed by at least ``K`` steps, at most
    :data:`LOOKAHEAD_CAP`); ``steps``: the (N, N) whole-step delays (host array); ``conn``: the
    constant weights the plan was built from (host array; ``None`` for a trainable ``conn``);
    ``diag``: their diagonal, the zero-delay self weights (``None`` for a trainable ``conn``).
    """
    dt_ms: float
    L: int
    K: int
    steps: np.ndarray
    conn: Optional[np.ndarray]
    diag: Optional[jax.Array]

    def built_from(self, conn) -> bool:
        """Whether the plan was built from these constant weights (a trainable ``conn``: never)."""
        return self.conn is not None and np.array_equal(np.asarray(conn, dtype=float), self.conn)


@dataclasses.dataclass(frozen=True, eq=False)
class DensePlan(_Plan):
    """Every off-diagonal edge is read.

    ``flat``: the flat start index of each edge's one-step read (N, N); ``flat_blk`` /
    ``start_blk``: those of its K-step window (dead edges, the diagonal and zero weights, get
    an in-bounds window); ``offdiag``: the (N, N) off-diagonal mask; ``steps_t`` / ``flat_g``:
    the read-time transpose's delays and indices (row = target, read at slot ``p + d_ij`` for
    source ``j``); ``w``: the constant off-diagonal weights (``None`` for a trainable ``conn``).
    """
    flat: jax.Array
    flat_blk: jax.Array
    start_blk: jax.Array
    offdiag: jax.Array
    steps_t: jax.Array
    flat_g: jax.Array
    w: Optional[jax.Array]


@dataclasses.dataclass(frozen=True, eq=False)
class SparsePlan(_Plan):
    """Only the E nonzero off-diagonal edges of a constant ``conn`` are read.

    ``tgt`` / ``src``: each edge's target and source (E,); ``flat``: the flat start index of its
    one-step read; ``start_blk`` / ``flat_blk``: the column and flat start of its K-step window;
    ``w``: its weight.
    """
    tgt: jax.Array
    src: jax.Array
    flat: jax.Array
    start_blk: jax.Array
    flat_blk: jax.Array
    w: jax.Array


DelayPlan = Union[DensePlan, SparsePlan]


def build_plan(delay_ms, dt_ms, conn=None) -> DelayPlan:
    """The delay plan of a network with these (N, N) delay times (ms) at step ``dt_ms``.

    ``conn``: the constant (N, N) weights (host array, diagonal included), or ``None`` for a
    trainable ``conn`` (every off-diagonal edge is then live, and the plan dense). A constant
    ``conn`` with fewer than :data:`SPARSE_DENSITY` nonzero edges gives a :class:`SparsePlan`.
    A buffer too large for int32 indices is a ``ValueError``.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.network.plan import build_plan
    >>> plan = build_plan(np.array([[0., 2.], [3., 0.]]), 1.0, conn=np.ones((2, 2)))
    >>> type(plan).__name__, plan.L, plan.K
    ('DensePlan', 4, 2)
    """
    n = delay_ms.shape[0]
    steps = delay_steps(delay_ms, dt_ms)
    L = int(steps.max()) + 1
    check_buffer_size(n, L, dt_ms)
    offdiag = 1. - np.eye(n)
    start = (L - steps).astype(np.int32)
    w = None if conn is None else conn * offdiag
    live = offdiag > 0 if w is None else w != 0
    # lookahead: every live edge's delay is >= K, so the delayed input of K consecutive steps is
    # already in the buffer when the first of them starts (see Network.prefetch)
    K = int(min(LOOKAHEAD_CAP, max(1, steps[live].min()))) if live.any() else LOOKAHEAD_CAP
    start_blk = np.minimum(start, L - K)  # dead edges (diagonal, zero weight): an in-bounds window
    dtype = brainstate.environ.dftype()
    common = dict(dt_ms=float(dt_ms), L=L, K=K, steps=steps,
                  conn=None if conn is None else np.asarray(conn, dtype=float),
                  diag=None if conn is None else jnp.asarray(np.diagonal(conn), dtype=dtype))
    if w is not None and np.count_nonzero(w) < SPARSE_DENSITY * w.size:
        tgt, src = np.nonzero(w)
        return SparsePlan(**common, tgt=jnp.asarray(tgt, dtype=jnp.int32), src=jnp.asarray(src, dtype=jnp.int32),
                          flat=jnp.asarray(src * (2 * L) + start[tgt, src], dtype=jnp.int32),
                          start_blk=jnp.asarray(start_blk[tgt, src], dtype=jnp.int32),
                          flat_blk=jnp.asarray(src * (2 * L) + start_blk[tgt, src], dtype=jnp.int32),
                          w=jnp.asarray(w[tgt, src], dtype=dtype))
    source = np.broadcast_to(np.arange(n, dtype=np.int32), (n, n))
    return DensePlan(**common,
                     flat=jnp.asarray(source * (2 * L) + start, dtype=jnp.int32),
                     flat_blk=jnp.asarray(source * (2 * L) + start_blk, dtype=jnp.int32),
                     start_blk=jnp.asarray(start_blk),
                     offdiag=jnp.asarray(offdiag, dtype=dtype),
                     steps_t=jnp.asarray(steps.T, dtype=jnp.int32),
                     flat_g=jnp.asarray(source * (2 * L) + steps.T, dtype=jnp.int32),
                     w=None if w is None else jnp.asarray(w, dtype=dtype))
