r"""Network: a node bank wired through a connectome with conduction delays.

One step of a delay-coupled network (``update``):

1. write the coupled variable's current value into the ring buffer;
2. read every off-diagonal edge's delayed source value with **one gather** (indices
   precomputed at construction; the buffer is stored twice over so that no
   modulo is needed: the read index is ``base + pointer * N``);
3. one weighted reduction gives :math:`s_i = \sum_j W_{ij}\,\mathrm{pre}(x_j(t - \tau_{ij}))`,
   and the coupling kernel turns it into the current;
4. the current (plus network noise) is the node's first input. For ``*Step``
   nodes it is passed as a function of the stage state: the delayed sum is
   fixed for the step, while the zero-delay terms (the diagonal, the diffusive
   self term, or every term of an instantaneous network) follow the
   integrator's stages.

Memory is :math:`O(L N + N^2)` for a buffer of ``L = max_delay_steps + 1``
slots. For sparse connectomes (density below 20 %, constant ``conn``) only the
nonzero edges are gathered and reduced with a segment sum. Without delays the
step is a plain matrix-vector product. With ``batch_size`` the buffer is laid
out ``(2L, N, B)`` so each gathered edge reads a contiguous batch vector.
"""
from __future__ import annotations

import warnings

import brainstate
import braintools
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.step import StepModel
from .._core.units import time_to_ms
from .._core.validation import check_choice, format_choices
from .couplings import (AdditiveCoupling, Coupling, DiffusiveCoupling, HyperbolicTangentCoupling,
                        SigmoidalCoupling, SigmoidalJansenRitCoupling)
from .delays import delay_steps, delay_times_ms
from .laplacian import LaplacianConnParam

__all__ = ['Network', 'COUPLINGS']

COUPLINGS = {
    'diffusive': DiffusiveCoupling,
    'additive': AdditiveCoupling,
    'laplacian': AdditiveCoupling,
    'sigmoidal': SigmoidalCoupling,
    'tanh': HyperbolicTangentCoupling,
    'sigmoidal_jansen_rit': SigmoidalJansenRitCoupling,
}

SPARSE_DENSITY = 0.2


class Network(brainstate.nn.Dynamics):
    """Wire a node model into a delay-coupled whole-brain network.

    Parameters
    ----------
    node : brainstate.nn.Dynamics
        The per-region dynamics, sized for N regions (``node.varshape[0] == N``).
    conn : array_like (N, N) or (N*N,), or brainstate.nn.Param
        Structural connectivity (row = target, column = source). A plain array
        has its diagonal zeroed unless ``self_connection``; a ``Param`` /
        :class:`LaplacianConnParam` is passed through untouched (and may train).
    distance : array_like or Quantity (N, N), optional
        Inter-region distances (plain numbers: mm).
    speed : float or Quantity, optional
        Conduction speed; delays are ``distance / speed`` (plain numbers on both:
        the quotient is in ms). With only one of the two the coupling is
        instantaneous.
    coupling : str or Coupling, default 'diffusive'
        One of 'diffusive', 'additive', 'laplacian', 'sigmoidal', 'tanh',
        'sigmoidal_jansen_rit', or a coupling instance built without ``conn``.
    coupled_var : str
        Node state variable to couple (e.g. 'x', 'rE').
    k : float, Quantity or Param, default 1.0
        Global coupling strength (TVB's G).
    delay_init : callable, default ``braintools.init.Uniform(0., 0.05)``
        Initializer of the delay buffer's history (the values before t = 0).
    self_connection : bool, default False
        Keep the diagonal of a plain ``conn``.
    noise : Noise, optional
        Network-level noise added to the coupling current every step.

    Notes
    -----
    Delays are rounded to whole steps half up (``floor(d/dt + 0.5)``); the
    self-delay is zero. The buffer is sized from the global dt at construction
    (a missing dt is an error); a run under another dt re-sizes it from the
    stored delay times, so delays are never silently wrong.

    Examples
    --------
    >>> import brainmass, brainstate
    >>> import brainunit as u
    >>> import numpy as np
    >>> brainstate.environ.set(dt=0.1 * u.ms)
    >>> N = 4
    >>> conn = np.ones((N, N)) * 0.1
    >>> node = brainmass.HopfStep(N, a=0.1)
    >>> net = brainmass.Network(node, conn=conn, coupled_var='x', k=0.5)
    >>> sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    >>> res = sim.run(5.0 * u.ms, monitors=lambda m: m.node.x.value)
    >>> res['output'].shape
    (50, 4)
    """

    def __init__(self, node, *, conn, distance=None, speed=None, coupling='diffusive', coupled_var,
                 k=1.0, delay_init=braintools.init.Uniform(0., 0.05), self_connection=False, noise=None):
        if not isinstance(node, brainstate.nn.Dynamics):
            raise TypeError(f'`node` must be a brainstate.nn.Dynamics sized for N regions (e.g. '
                            f'brainmass.HopfStep(N)); got {type(node).__name__}.')
        super().__init__(node.in_size)
        self.node = node
        self.n_node = int(node.varshape[0])
        self.coupled_var = _check_coupled_var(node, coupled_var)
        self.k = brainstate.nn.Param.init(k)
        self.conn = _connectivity(conn, self.n_node, self_connection, coupling)
        self.coupling = _make_coupling(coupling, self.conn, self.k)
        self.noise = _check_noise(noise, self.n_node)
        self.delay_init = delay_init
        self._delay_ms = delay_times_ms(distance, speed, self.n_node)
        self._plan = None
        if self._delay_ms is not None and np.any(self._delay_ms > 0):
            dt = brainstate.environ.get('dt', None)
            if dt is None:
                raise ValueError('Network needs dt to size its delay buffer: call '
                                 'brainstate.environ.set(dt=0.1 * u.ms) before building a delay-coupled Network.')
            self._plan = self._build_plan(time_to_ms(dt, 'dt'))

    # ------------------------------------------------------------- properties
    @property
    def max_delay_steps(self) -> int:
        return 0 if self._plan is None else self._plan['L'] - 1

    def delay_steps(self):
        """The (N, N) whole-step delays in use (zeros when instantaneous)."""
        if self._plan is None:
            return np.zeros((self.n_node, self.n_node), dtype=np.int32)
        return self._plan['steps'].copy()

    # ------------------------------------------------------------- delay plan
    def _build_plan(self, dt_ms):
        n = self.n_node
        steps = delay_steps(self._delay_ms, dt_ms)
        L = int(steps.max()) + 1
        src = np.broadcast_to(np.arange(n), (n, n))
        base = (L - steps) * n + src  # flat index into the doubled buffer at pointer 0
        offdiag = 1. - np.eye(n)
        plan = dict(dt_ms=float(dt_ms), L=L, steps=steps, base=jnp.asarray(base, dtype=jnp.int32),
                    offdiag=jnp.asarray(offdiag, dtype=brainstate.environ.dftype()))
        w = None if self._conn_trainable() else np.asarray(u.get_magnitude(self.conn.value())) * offdiag
        if w is not None and np.count_nonzero(w) < SPARSE_DENSITY * w.size:
            tgt, srcs = np.nonzero(w)
            plan['sparse'] = dict(tgt=jnp.asarray(tgt, dtype=jnp.int32),
                                  base=jnp.asarray(base[tgt, srcs], dtype=jnp.int32),
                                  w=jnp.asarray(w[tgt, srcs], dtype=brainstate.environ.dftype()))
        return plan

    def _conn_trainable(self):
        return isinstance(getattr(self.conn, 'val', None), brainstate.State)

    # ------------------------------------------------------------------ state
    def init_state(self, batch_size=None, **kwargs):
        """Validate ``coupled_var`` once the node's states exist; size the buffer."""
        _require_state(self.node, self.coupled_var)
        if self._plan is None:
            return
        dt_ms = float(time_to_ms(brainstate.environ.get_dt(), 'dt'))
        if not np.isclose(dt_ms, self._plan['dt_ms'], rtol=1e-9, atol=0):
            self._plan = self._build_plan(dt_ms)  # re-size for this dt
        self._batch = batch_size
        self.pointer = brainstate.ShortTermState(jnp.asarray(0, dtype=jnp.int32))
        self.buffer = brainstate.ShortTermState(self._initial_history(batch_size))

    def reset_state(self, batch_size=None, **kwargs):
        if self._plan is None:
            return
        if getattr(self, '_batch', _NONE) != batch_size or not hasattr(self, 'buffer'):
            return self.init_state(batch_size)
        self.pointer.value = jnp.asarray(0, dtype=jnp.int32)
        self.buffer.value = self._initial_history(batch_size)

    def _initial_history(self, batch_size):
        L, n = self._plan['L'], self.n_node
        shape = (L, n) if batch_size is None else (L, n, batch_size)
        hist = self.delay_init(shape) if callable(self.delay_init) else jnp.broadcast_to(
            jnp.asarray(self.delay_init), shape)
        hist = jnp.asarray(u.get_magnitude(hist), dtype=brainstate.environ.dftype())
        doubled = jnp.concatenate([hist, hist], axis=0)
        return doubled.reshape((2 * L * n,) + (() if batch_size is None else (batch_size,)))

    # ------------------------------------------------------------------- step
    def update(self, *node_inputs):
        """Advance one step: coupling current (+ noise) -> node.

        ``node_inputs`` are forwarded to the node after the coupling current,
        which is always the node's first positional input.
        """
        current = self.coupling_current(as_function=self._node_takes_functions())
        if self.noise is not None:
            noise = self.noise()
            current = (lambda s, c=current: c(s) + noise) if callable(current) else current + noise
        return self.node(current, *node_inputs)

    def _node_takes_functions(self):
        return isinstance(self.node, StepModel) and type(self.node).update is StepModel.update

    def coupling_current(self, as_function=False):
        """The (N,) (or (B, N)) coupling current for the present step.

        With ``as_function`` it is returned as a function of the node's stage
        state, so an integrator re-evaluates the terms that depend on the
        present value (the self term, an instantaneous source) at each stage;
        delayed reads come from the past and are computed once.
        """
        x = getattr(self.node, self.coupled_var).value
        delayed = None if self._plan is None else self._weighted_sum(_magnitude(x))
        if not as_function:
            return self._current(x, delayed)
        return lambda state: self._current(state[self.coupled_var], delayed)

    def _current(self, x, delayed):
        unit = u.get_unit(x) if isinstance(x, u.Quantity) else None
        x_mag = _magnitude(x)
        if delayed is None:
            s = self._weighted_sum(x_mag)
        else:  # the self term has zero delay: it follows the integrator's stages
            s = delayed + jnp.diagonal(u.get_magnitude(self.conn.value())) * self.coupling.pre(x_mag)
        x_self = x_mag
        if unit is not None and not isinstance(self.coupling, SigmoidalJansenRitCoupling):
            s, x_self = s * unit, x
        return self.coupling.post(s, x_self, self.conn.value())

    def _weighted_sum(self, x):
        pre = self.coupling.pre
        if self._plan is None:
            return pre(x) @ u.get_magnitude(self.conn.value()).T
        gathered = self._gather(x)
        if 'sparse' in self._plan:
            sp = self._plan['sparse']
            w = sp['w'] if gathered.ndim == 1 else sp['w'][:, None]
            s = jax.ops.segment_sum(w * pre(gathered), sp['tgt'], num_segments=self.n_node)
        else:
            w = u.get_magnitude(self.conn.value()) * self._plan['offdiag']
            s = (w * pre(gathered)).sum(axis=1) if gathered.ndim == 2 else jnp.einsum('ij,ijb->ib', w, pre(gathered))
        return s if s.ndim == 1 else s.T

    def _gather(self, x):
        """Write x into the doubled ring buffer, then read every edge's delayed value."""
        plan, n = self._plan, self.n_node
        L, p = plan['L'], self.pointer.value
        rows = x if x.ndim == 1 else x.T  # (N,) or (N, B)
        buf = self.buffer.value
        buf = jax.lax.dynamic_update_slice_in_dim(buf, rows, p * n, axis=0)
        buf = jax.lax.dynamic_update_slice_in_dim(buf, rows, (p + L) * n, axis=0)
        self.buffer.value = buf
        self.pointer.value = (p + 1) % L
        base = plan['sparse']['base'] if 'sparse' in plan else plan['base']
        return buf.at[base + p * n].get(mode='promise_in_bounds')

    def __repr__(self):
        return (f'Network(n_node={self.n_node}, node={type(self.node).__name__}, coupling='
                f'{type(self.coupling).__name__}, coupled_var={self.coupled_var!r}, '
                f'max_delay_steps={self.max_delay_steps})')


def _magnitude(x):
    return u.get_magnitude(x) if isinstance(x, u.Quantity) else x


class _NoneType:
    pass


_NONE = _NoneType()


# ----------------------------------------------------------------- validation
def _check_coupled_var(node, coupled_var):
    if not isinstance(coupled_var, str):
        raise TypeError(f'`coupled_var` must be the name of a node state (a string); got {coupled_var!r}.')
    if isinstance(node, StepModel) and coupled_var not in node.state_vars:
        kind = 'a parameter' if hasattr(node, coupled_var) else 'not a state'
        raise ValueError(f"`coupled_var` {coupled_var!r} is {kind} of {type(node).__name__}; its states are: "
                         f"{', '.join(node.state_vars)}.")
    return coupled_var


def _require_state(node, coupled_var):
    value = getattr(node, coupled_var, None)
    if not isinstance(value, brainstate.State):
        names = sorted({'.'.join(map(str, k)) for k in node.states(brainstate.HiddenState).keys()})
        raise ValueError(f"`coupled_var` {coupled_var!r} is not a state of {type(node).__name__}; its states "
                         f"are: {', '.join(names)}.")


def _connectivity(conn, n, self_connection, coupling):
    if isinstance(conn, brainstate.nn.Param):
        shape = tuple(u.math.shape(conn.value()))
        if shape != (n, n):
            raise ValueError(f'`conn` Param must have shape ({n}, {n}) to match the node; got {shape}.')
        return conn
    W = np.array(u.get_magnitude(conn), dtype=float)
    if W.ndim == 1 and W.size == n * n:
        W = W.reshape(n, n)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f'`conn` must be a square (N, N) matrix (or flattened N*N); got shape {W.shape}.')
    if W.shape != (n, n):
        raise ValueError(f'`conn` is {W.shape} but the node has {n} regions: they must match.')
    if not np.all(np.isfinite(W)):
        raise ValueError('`conn` contains NaN or inf.')
    if np.any(W < 0):
        warnings.warn('`conn` has negative weights (allowed: they act as inhibitory edges).', UserWarning,
                      stacklevel=3)
    if not self_connection:
        np.fill_diagonal(W, 0.)
    if coupling == 'laplacian':
        return LaplacianConnParam(W, fit=False)
    return brainstate.nn.Param.init(jnp.asarray(W, dtype=brainstate.environ.dftype()))


def _make_coupling(coupling, conn_param, k):
    if isinstance(coupling, Coupling):
        if coupling.conn is not None:
            raise ValueError('A coupling instance given to Network must be built without `conn`: the Network '
                             'owns the connectivity.')
    elif isinstance(coupling, str):
        check_choice(coupling, tuple(COUPLINGS), 'coupling')
        coupling = COUPLINGS[coupling]()
    else:
        raise TypeError(f'`coupling` must be a name ({format_choices(COUPLINGS)}) or a Coupling; got '
                        f'{type(coupling).__name__}.')
    coupling.share_network_params(conn_param, k)
    return coupling


def _check_noise(noise, n):
    if noise is None:
        return None
    from ..noise import Noise
    if not isinstance(noise, Noise):
        raise TypeError(f'`noise` must be a brainmass noise module (e.g. OUProcess({n}, sigma=...)); got '
                        f'{type(noise).__name__}.')
    return noise
