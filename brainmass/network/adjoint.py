"""Reverse mode of a prefetched block by read time (see ``docs/design/read_time_adjoint.md``).

The delayed read of a block is linear in the ring buffer: rows[k, i] = sum_j w_ij buf[j, slot(t + k - d_ij)].
Its plain transpose scatter-adds every edge's K-step window into the buffer's cotangent, and the
transpose of the block write then reads the written slots back. Reverse mode instead carries, in
the buffer's place, the cotangents G of the delayed sums by the time they are read (row i = target
i, slot = read time mod L, stored twice over like the buffer): the read's transpose stores its K
rows of G, and the write's transpose gathers, for the value x_j(t) it wrote,
sum_i w_ij G[i, t + d_ij] - the forward read's access pattern and reduction, no scatter-add. The
two linear maps get these transposes through jax.lax.custom_linear_solve (identity matvec), which
keeps forward mode exact. Only the read and the write of the same network touch the carried
cotangent, so it never has to mean the buffer's; the initial history is a constant, so its
cotangent (which would need decoding) is never used.

It applies to a dense plan with constant weights and the identity ``pre`` (:func:`applies`), no
batch axis and a history that cannot carry a derivative (:func:`constant_history`); other
configurations use plain reverse mode.
"""
from __future__ import annotations

import braintools
import jax
import jax.numpy as jnp
import numpy as np

from .._core.transforms import pairwise_sum
from .._core.units import magnitude
from .couplings import Coupling
from .plan import DensePlan
from .ring_buffer import block_sums, flat_windows, write_slots

__all__ = ['applies', 'constant_history', 'read_by_read_time', 'write_by_read_time']


def applies(plan, coupling) -> bool:
    """Whether the plan and coupling allow the read-time adjoint: a dense, constant ``conn`` (the plan's
    weights) and the identity ``pre``. The Network adds: no batch axis, and a history whose cotangent is
    never needed (:func:`constant_history`)."""
    return isinstance(plan, DensePlan) and plan.w is not None and type(coupling).pre is Coupling.pre


def constant_history(delay_init) -> bool:
    """Whether a delay history cannot carry a derivative: a braintools initializer or a constant."""
    if isinstance(delay_init, braintools.init.Initialization):
        return True
    value = magnitude(delay_init)
    return isinstance(value, (int, float, np.ndarray, np.number)) or (
        isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer))


def read_by_read_time(plan, buf, p, w, n_steps):
    """The (n_steps, N) delayed sums of a block; its derivative carries the read-time transpose."""
    @jax.custom_jvp
    def read(b, p_, w_):
        return block_sums(plan, _identity, b, p_, w_, n_steps)

    @read.defjvp
    def read_jvp(primals, tangents):
        b, p_, w_ = primals
        return read(b, p_, w_), _read_linear(plan, tangents[0], p_, w_, n_steps)

    return read(buf, p, w)


def write_by_read_time(plan, buf, cols, p, w):
    """buf with the block's (N, n) values written; its derivative carries the read-time transpose."""
    @jax.custom_jvp
    def write(b, c, p_, w_):
        return write_slots(b, c, p_, plan.L)

    @write.defjvp
    def write_jvp(primals, tangents):
        b, c, p_, w_ = primals
        return write(b, c, p_, w_), _write_linear(plan, tangents[0], tangents[1], p_, w_)

    return write(buf, cols, p, w)


def _read_linear(plan, dbuf, p, w, n_steps):
    """The read as a linear map of the buffer whose transpose stores the rows' cotangents as G."""
    L = plan.L

    def read(b):  # the rows, laid out in a buffer-shaped array (columns 0 .. n_steps - 1)
        return jnp.zeros_like(b).at[:, :n_steps].set(block_sums(plan, _identity, b, p, w, n_steps).T)

    def read_transpose(ct):  # the rows' cotangents -> G at the read times' slots (both copies)
        return write_slots(jnp.zeros_like(ct), ct[:, :n_steps], p, L)

    out = jax.lax.custom_linear_solve(lambda v: v, dbuf, solve=lambda _, b: read(b),
                                      transpose_solve=lambda _, ct: read_transpose(ct))
    return out[:, :n_steps].T


def _write_linear(plan, dbuf, dcols, p, w):
    """The block write as a linear map of (buffer, values) whose transpose gathers from G."""
    n, L = dcols.shape[1], plan.L

    def write(pair):
        b, c = pair
        return write_slots(b, c, p, L), c * 0.

    def write_transpose(ct):
        g, _ = ct  # G by read time: row = target, slot = read time mod L (both copies)
        # x_j(t) was read by target i at t + d_ij: G's window starts at slot (p + d_ij) mod L, row i
        flat = plan.flat_g + p - jnp.where(plan.steps_t + p >= L, L, 0)  # (source, target)
        ct_cols = pairwise_sum(w.T[:, :, None] * flat_windows(g, flat, n), axis=1)  # (source, n)
        return write_slots(g, jnp.zeros_like(dcols), p, L), ct_cols

    # Each input depends on the other and the result on both outputs (one element, times zero):
    # custom_linear_solve transposes only when every input is linear, and its derivative (second
    # order) fails on a symbolic-zero input, which a dead output's cotangent would be.
    pair = (dbuf.at[0, 0].add(0. * dcols[0, 0]), dcols.at[0, 0].add(0. * dbuf[0, 0]))
    new, zeros = jax.lax.custom_linear_solve(lambda v: v, pair, solve=lambda _, b: write(b),
                                             transpose_solve=lambda _, ct: write_transpose(ct))
    return new.at[0, 0].add(0. * zeros[0, 0])


def _identity(x):
    return x
