"""The lookahead of a delay-coupled :class:`~brainmass.Network`: the delayed input of a block of steps read in one go.

When every weighted edge is delayed by at least ``K > 1`` steps (``Network.lookahead``), the
delayed input of ``K`` consecutive steps is in the ring buffer when the first of them starts.
:meth:`Lookahead.prefetch` reads it with one gather; each step of the block takes its row as
an argument (``net(*inputs, delayed=row)``) and keeps its own value; :meth:`Lookahead.write_prefetched`
writes the block's values into the buffer. The :class:`~brainmass.Simulator` runs a Network this way.

``Lookahead`` is a base class of ``Network`` (it reads the Network's plan, buffers, ``conn``,
coupling and node); it is not used on its own.
"""
from __future__ import annotations

import brainstate
import jax
import jax.numpy as jnp
import numpy as np

from .._core.step import StepModel
from .._core.transforms import recomputed_in_reverse
from . import adjoint, ring_buffer

__all__ = ['Lookahead']


class Lookahead:
    """The blocked delayed read and write of a :class:`~brainmass.Network` (see the module docstring)."""

    def prefetch(self, n_steps):
        """The delayed sums of the next ``n_steps`` steps, read in one go: (n_steps, N), or (n_steps, B, N).

        Every weighted edge is delayed by at least :attr:`lookahead` steps, so when a block of
        ``n_steps <= lookahead`` steps starts, everything its steps will read is already in the
        buffer: one gather reads it all. Step ``k`` of the block is then taken with
        ``net(*inputs, delayed=rows[k])``, which keeps the step's own value instead of writing
        it to the buffer, and :meth:`write_prefetched` ends the block by writing the block's
        values. The result is that of ``n_steps`` ordinary steps (up to the floating-point
        order of the delayed sum). The :class:`~brainmass.Simulator` runs a Network this way,
        passing each row to its step as an argument (an inner loop over the rows).

        Examples
        --------
        >>> import brainmass, brainstate, numpy as np, brainunit as u
        >>> with brainstate.environ.context(dt=0.1 * u.ms):
        ...     net = brainmass.Network(brainmass.HopfStep(3), conn=np.ones((3, 3)), coupled_var='x',
        ...                             distance=np.full((3, 3), 8.) * u.mm, speed=4. * u.mm / u.ms)
        ...     _ = brainstate.nn.init_all_states(net)
        ...     rows = net.prefetch(net.lookahead)                # 16 steps: delays of 2 ms
        ...     outs = [net(delayed=row) for row in rows]
        ...     net.write_prefetched(len(rows))
        >>> rows.shape
        (16, 3)
        """
        n_steps = self._check_prefetching('prefetch', n_steps)
        self.block_step.value = jnp.asarray(0, dtype=jnp.int32)
        return self._delayed_block(n_steps, self._adjoint_by_read_time())

    def write_prefetched(self, n_steps):
        """End a block of ``n_steps`` steps begun by :meth:`prefetch`: write their values into the ring
        buffer and advance its pointer (each of the ``n_steps`` steps must have been taken with its row)."""
        n_steps = self._check_prefetching('write_prefetched', n_steps)
        self._write_block(n_steps, self._adjoint_by_read_time())

    def _check_prefetching(self, name, n_steps=None):
        """``n_steps`` as an int after checking that this network reads ahead (:attr:`lookahead` > 1), its
        buffers exist and ``1 <= n_steps <= lookahead``."""
        if self.lookahead < 2:
            raise ValueError(f'{name}: this Network has no lookahead (every weighted edge must be delayed by '
                             f'at least 2 steps); step it without `delayed`.')
        if not isinstance(getattr(self, 'block_values', None), brainstate.State):
            raise ValueError(f'{name}: the delay buffers do not exist yet: call '
                             f'brainstate.nn.init_all_states(net) first.')
        if n_steps is None:
            return None
        if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)):
            raise TypeError(f'{name}: `n_steps` must be an int; got {n_steps!r}.')
        if not 1 <= n_steps <= self.lookahead:
            raise ValueError(f'{name}: `n_steps` must be between 1 and the lookahead of this network '
                             f'({self.lookahead} steps: its shortest weighted delay); got {n_steps}.')
        return int(n_steps)

    def _keep_block_value(self, x, row):
        """This step's prefetched row; keeps x (this step's value) for the block's write."""
        if tuple(np.shape(row)) != tuple(np.shape(x)):
            raise ValueError(f'`delayed` must be one row of what prefetch() returned, shape {tuple(np.shape(x))} '
                             f'for this run; got shape {tuple(np.shape(row))}.')
        k = self.block_step.value
        col = x[:, None] if x.ndim == 1 else x.T[:, None, :]
        self.block_values.value = jax.lax.dynamic_update_slice_in_dim(self.block_values.value, col, k, axis=1)
        self.block_step.value = k + 1
        return row

    def _write_block(self, n, by_read_time):
        """Write the values of the block's n steps into the ring buffer; advance the pointer."""
        plan, p = self._plan, self.pointer.value
        cols = self.block_values.value[:, :n]  # (N, n[, B])
        if by_read_time:
            self.buffer.value = adjoint.write_by_read_time(plan, self.buffer.value, cols, p,
                                                           ring_buffer.read_weights(plan, self.conn))
        else:
            self.buffer.value = ring_buffer.write_slots(self.buffer.value, cols, p, plan.L)
        self.pointer.value = (p + n) % plan.L

    def _adjoint_by_read_time(self):
        """Whether reverse mode carries the cotangents of the delayed sums by read time
        (:mod:`brainmass.network.adjoint`): a dense, constant ``conn``, the identity ``pre``, no batch
        axis, and a history from an initializer or a constant (its cotangent is never decoded)."""
        return (adjoint.applies(self._plan, self.coupling) and self.buffer.value.ndim == 2
                and self._history_is_constant())

    def _history_is_constant(self):
        """Whether the history cannot carry a derivative: a constant ``delay_init`` or initializer, or (the
        default) the initial value of a ``*Step`` node whose coupled states start from such values."""
        if self.delay_init is not None:
            return adjoint.constant_history(self.delay_init)
        inits = getattr(self.node, '_inits', None)
        return isinstance(self.node, StepModel) and isinstance(inits, dict) and all(
            adjoint.constant_history(inits.get(var, 0.)) for _, var in self._coupled_terms)

    def _delayed_block(self, n_steps, by_read_time):
        """Delayed sums of the next n_steps steps: (n_steps, N) or (n_steps, B, N).

        With ``by_read_time`` reverse mode uses the read-time transposes
        (:func:`~brainmass.network.adjoint.read_by_read_time`); otherwise it recomputes the gathered
        windows (K x N x N values) from the ring buffer instead of storing them (:func:`recomputed_in_reverse`).
        """
        plan, pre, w = self._plan, self.coupling.pre, ring_buffer.read_weights(self._plan, self.conn)
        if by_read_time:
            return adjoint.read_by_read_time(plan, self.buffer.value, self.pointer.value, w, n_steps)
        sums = recomputed_in_reverse(lambda buf, p, w_: ring_buffer.block_sums(plan, pre, buf, p, w_, n_steps))
        return sums(self.buffer.value, self.pointer.value, w)
