"""The Simulator: one compiled ``for_loop`` program per run configuration.

``Simulator.run`` validates its arguments in Python (units, step counts,
monitors, inputs), initialises the model's states, then builds - or fetches
from the model's cache (:mod:`brainmass._core.compile_cache`: shared by every
Simulator of the model, keyed by shapes, static settings and the model's
signature) - one compiled program:

* a transient loop that records nothing,
* a recording loop (chunks of ``sample_every`` steps, monitors read at the
  end of each chunk; optionally checkpointed for memory-light gradients),
* a tail loop for steps after the last full chunk.

Results come back as a plain dict (a clean pytree) of stacked monitor values
with their units, plus ``ts``: the unit-aware end-of-step times of the samples.

The run's step counts come from :mod:`.run_plan`, its inputs are checked and sliced by
:mod:`.inputs`, its monitors normalised, read and checked by :mod:`.monitoring`.
"""
from __future__ import annotations

import weakref

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.compile_cache import ModelPrograms, model_programs, model_signature, refers_to
from .._core.params import ConstantParams
from .._core.step import StepModel
from .._core.transforms import recomputed_in_reverse, segmented_for_loop
from .._core.units import is_traced, time_to_ms
from .._core.validation import check_bool, check_choice, check_int_at_least
from ..network.network import Network
from .inputs import InputLayout, InputSpec, InputUnitError
from .monitoring import (SimulationDivergedError, check_finite, monitor_key, monitor_value, normalise_monitors,
                         observers as observers_of)
from .monitors import Observer, state_names
from .run_plan import RunPlan, check_dt, dt_key

__all__ = ['Simulator', 'SimulationDivergedError', 'InputUnitError', 'state_names']


class _FlagTypeError(TypeError, ValueError):
    """A flag of the wrong type (a TypeError; also a ValueError for the callers that caught one)."""


class Simulator:
    """Run any model (a ``*Step`` node, a bank of nodes or a :class:`Network`).

    Parameters
    ----------
    model : brainstate.nn.Module
        Anything with ``update(*inputs)``; called once per step.
    dt : Quantity, optional
        Time step with time units (``0.1 * u.ms``). Defaults to the global
        ``brainstate.environ`` dt when one is set.

    Attributes
    ----------
    trace_count : int
        How many programs this Simulator's runs traced (and compiled). Compiled
        programs are cached on the model and shared by every Simulator of it: a
        ``run`` that finds the program an earlier run compiled - of this Simulator
        or of another one on the same model - adds none.

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.HopfStep(in_size=1, a=0.25, w=0.3)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(200 * u.ms, monitors=['x'])
    >>> sorted(res)
    ['ts', 'x']
    >>> res['x'].shape
    (2000, 1)
    >>> sim = brainmass.Simulator(node, dt=0.1 * u.ms)       # a new Simulator, the same model
    >>> _ = sim.run(200 * u.ms, monitors=['x'])
    >>> sim.trace_count                                      # the program above is reused
    0
    """

    def __init__(self, model, dt=None):
        if not isinstance(model, brainstate.nn.Module) or not hasattr(model, 'update'):
            raise TypeError(f'`model` must be a brainstate module with an update() method '
                            f'(a *Step model or a Network); got {type(model).__name__}.')
        self.model = model
        self.dt = check_dt(dt)
        self.trace_count = 0
        self._cache = model_programs(model)
        self._own = ModelPrograms()  # programs whose callables refer to the model (see run)
        self._record = self._cache.notes.get('simulator')
        if self._record is None:
            self._record = self._cache.notes['simulator'] = _ModelRecord(model)
        self._times = {}
        self._dt_ms = float(time_to_ms(self.dt, 'dt'))
        self._dt_key = dt_key(self.dt)
        self._layout = None
        self._finite_inputs = []  # see inputs.check_finite_input

    def __repr__(self):
        n = len(self._cache) + len(self._own)
        return (f'Simulator(model={type(self.model).__name__}, dt={self._dt_ms:g} ms, '
                f'{n} cached program{"" if n == 1 else "s"})')

    # ------------------------------------------------------------------ public
    def run(self, duration, *, inputs=None, monitors=None, transient=None, sample_every=None,
            batch_size=None, init_states=True, jit=True, checkpoint=False, progress=False,
            on_divergence='raise'):
        """Simulate ``duration`` and return ``{monitor: values, 'ts': times}``.

        Parameters
        ----------
        duration : Quantity
            Simulated time (a multiple of ``dt``; otherwise rounded with a warning).
        inputs : None, scalar, array, tuple of arrays, or callable(i, t)
            External input passed to ``model.update`` each step (after a
            Network's coupling current). Arrays have time as their first axis,
            one entry per step of the whole run (transient included).
        monitors : None, list of str, callable, or dict
            ``None`` records what ``update`` returns as ``'output'``; a list of
            state names (``'x'``, or ``'node.x'`` for a Network's node); a
            callable of the model (recorded as ``'output'``); or a dict
            ``{name: state name, callable or Observer}``; an Observer
            (:class:`BOLDMonitor`, :class:`AverageMonitor`) is stepped every
            step and read at each sample.
        transient : Quantity, optional
            Time simulated first and discarded.
        sample_every : int or Quantity, optional
            Record every n-th step (default 1).
        batch_size : int, optional
            Simulate ``batch_size`` independent copies in one program (leading
            batch axis on states; independent noise per member).
        init_states : bool, default True
            Initialise (or reset) the model's states before running; ``False``
            continues from the current states.
        jit : bool, default True
            Compile the run as one XLA program (cached on the model, across runs and Simulators).
        checkpoint : bool or int, default False
            Memory for reverse-mode gradients that grows sub-linearly with the steps.
            ``True``: two-level checkpointing of the recording loop (segments of about
            sqrt(n) samples, each recomputed once in the backward pass: one extra
            forward pass, memory ~ sqrt(n)). An int >= 2: that base for
            ``brainstate.transform.checkpointed_for_loop`` (multi-level: less memory,
            more recomputation). Forward runs give the same values either way (to
            float rounding).
        progress : bool, default False
            Show a progress bar.
        on_divergence : {'raise', 'warn', 'ignore'}, default 'raise'
            What to do when a recorded value is NaN/inf.
        """
        check_choice(on_divergence, ('raise', 'warn', 'ignore'), 'on_divergence')
        checkpoint = _check_checkpoint(checkpoint)
        for flag, value in (('init_states', init_states), ('jit', jit), ('progress', progress)):
            check_bool(value, flag)
        # the step ratios are shared by the model's Simulators: a new one skips the unit arithmetic too
        plan = RunPlan.build(duration, transient, sample_every, self.dt, self._record.step_ratios, self._dt_key)
        if batch_size is not None:
            check_int_at_least(batch_size, 1, 'batch_size')
        inputs_spec = InputSpec(inputs, plan.n_steps, self._input_layout(), batch_size, self._finite_inputs)
        record = self._record
        # a constant changed since the model's last run (by any Simulator), or before its first one:
        # the networks' delay plans follow (the changed signature then makes the states again)
        if record.constants.changed() or not record.synced:
            record.synced = False  # until the checks below pass (a refused value is checked again next run)
            for node in self.model.nodes(StepModel).values():
                node.check_params()  # a value put in with param.set_value is checked like the constructor's
            for net in self.model.nodes(Network).values():
                net.check_params()
                net.sync_constants(init_states)
            record.synced = True
        with brainstate.environ.context(dt=self.dt):
            reset, signature = self._prepare_states(batch_size, init_states)
            monitor_fns = normalise_monitors(monitors, self.model)
            observers = observers_of(monitor_fns)
            for obs in observers.values():
                obs.check_source(self.model)
                obs.init_for(self.model, batch_size)
            if observers:  # their parameters and states, as init_for left them
                signature = signature + model_signature(*observers.values())
            key = ('Simulator.run', self._dt_key, plan, monitor_key(monitor_fns),
                   inputs_spec.key, batch_size, bool(jit), checkpoint, bool(progress), reset, _environ_key(),
                   signature)
            # a callable that refers to the model would keep it alive in the model's cache: such
            # programs stay with this Simulator (and go with it)
            callables = [fn for fn in (*monitor_fns.values(), inputs_spec.callable) if not isinstance(fn, Observer)]
            cache = self._own if refers_to(self.model, *callables) else self._cache
            program = cache.get(key)
            if program is None:
                program = cache.put(key, _compile(self.model, self.dt, plan, monitor_fns, inputs_spec.lean(),
                                                  checkpoint, progress, reset, batch_size, self._cache, jit))
            traces = self._cache.traces
            try:
                outputs = program(inputs_spec.arrays)
            except u.UnitMismatchError as err:
                if inputs is None or isinstance(err, InputUnitError):
                    raise
                raise InputUnitError(f'`inputs` could not be applied to {type(self.model).__name__}: {err} '
                                      f'Give every input in the unit of the state variable it drives '
                                      f'(plain numbers are read in that unit).') from err
            finally:
                self.trace_count += self._cache.traces - traces
        outputs['ts'] = self._sample_times(plan)
        if on_divergence != 'ignore':
            check_finite(outputs, on_divergence, plan, self.dt)
        return outputs

    # ------------------------------------------------------------- internals
    def _input_layout(self):
        """What the run's ``inputs`` must fit (computed once per Simulator): see :class:`InputLayout`."""
        if self._layout is None:
            self._layout = InputLayout(self.model)
        return self._layout

    def _prepare_states(self, batch_size, init_states):
        """Create the states when needed; returns (whether the program must reset them first, the model's
        :func:`model_signature` once they are ready).

        The reset itself runs inside the compiled program (no per-call Python walk over the
        model). States are created eagerly only when the model is not as a run of any
        Simulator left it after making or checking its states for this batch size (first run,
        a new batch size, states replaced by hand, a module added, a parameter changed since),
        or a delay-coupled network was last sized for another dt;
        that creation leaves the random key as it found it, so the first run of a seeded
        simulation draws exactly what every later run does. Keeping the states' objects is
        what lets a new Simulator reuse the model's compiled programs.
        """
        model, record = self.model, self._record
        states, modules = [], []
        signature = model_signature(model, states=states, modules_out=modules)
        if not init_states:
            if self._networks_sized_for_other_dt(modules, signature):
                raise ValueError(f'`init_states=False` continues a delay-coupled Network whose buffer was sized for '
                                 f'another dt; with dt={self.dt} its delays need new buffers: run with '
                                 f'init_states=True.')
            if record.batch != batch_size or record.signature != signature:
                record.batch = _existing_states_batch(model, batch_size)
                record.remember(states, signature)
            return False, signature
        if (record.batch != batch_size or record.environ != _environ_key() or record.signature != signature
                or self._networks_sized_for_other_dt(modules, signature)):
            key = brainstate.random.get_key()
            brainstate.nn.init_all_states(model, batch_size=batch_size)
            brainstate.random.set_key(key)
            states = []
            signature = model_signature(model, states=states)
            record.batch = batch_size
            record.remember(states, signature)
            record.environ = _environ_key()
        elif record.traced:
            # states created under an outer transformation (a Fitter's trace, grad, vmap) hold values
            # of that trace: give them concrete values again before the program reads them
            key = brainstate.random.get_key()
            brainstate.nn.reset_all_states(model, batch_size=batch_size)
            brainstate.random.set_key(key)
            record.traced = _holds_tracers(states)
        return True, signature

    def _networks_sized_for_other_dt(self, modules, signature) -> bool:
        """Whether a delay-coupled network among ``modules`` has buffers sized for another dt
        (:meth:`Network.sized_for`; not asked again while the model's signature is the one it last
        answered for at this dt)."""
        if self._record.sized_for == (self._dt_key, signature):
            return False
        if any(isinstance(m, Network) and not m.sized_for(self._dt_ms) for m in modules):
            return True
        self._record.sized_for = (self._dt_key, signature)
        return False

    def _sample_times(self, plan):
        """End-of-step times of the samples, ``(n_transient + every * (1..n)) * dt``.

        Computed with numpy in float64 and rounded once to the dtype jax would give (the
        nearest float32 to each time: a float32 product of the step number and dt drifts by a
        step or two after 2**24 steps) and moved to the device once: no eager jax operation,
        each of which costs an XLA compile (~25 ms) the first time its shape is met.
        """
        key = (plan.n_transient, plan.sample_every, plan.n_samples, bool(jax.config.jax_enable_x64))
        if key not in self._times:
            steps = key[0] + key[1] * np.arange(1, key[2] + 1, dtype=np.int64)
            mantissa = u.get_mantissa(self.dt)
            dtype = _time_dtype(mantissa)
            values = (steps * float(np.asarray(mantissa, dtype=np.float64))).astype(dtype)
            self._times[key] = u.Quantity(jax.device_put(values), unit=u.get_unit(self.dt))
        return self._times[key]


_TIME_DTYPES = {}


def _time_dtype(mantissa):
    """The dtype of ``jnp.arange(n) * mantissa`` (jax's promotion of a step count and dt's mantissa)."""
    key = (type(mantissa), str(getattr(mantissa, 'dtype', '')), getattr(mantissa, 'weak_type', None),
           bool(jax.config.jax_enable_x64))
    if key not in _TIME_DTYPES:
        _TIME_DTYPES[key] = jax.eval_shape(lambda: jnp.arange(1) * mantissa).dtype
    return _TIME_DTYPES[key]


class _ModelRecord:
    """What the Simulators of one model share besides its programs (kept in its :class:`ModelPrograms`).

    ``batch``: the batch size the model's states were made (or checked) for by the last run
    that made or checked them; ``environ``: the precision they were made in; ``signature``: the
    model's :func:`model_signature` then, which holds those State objects (a run whose model
    differs makes or checks them again: states replaced, a module added); ``traced``:
    whether they hold values of a trace. ``constants``: the constant parameters' values at
    the model's last run. Nothing here holds the model itself (the cache entry would keep it
    alive): ``constants`` reads it through a weak proxy.
    """

    def __init__(self, model):
        self.batch = _UNSET
        self.environ = None
        self.signature = None
        self.traced = False
        self.constants = ConstantParams(weakref.proxy(model))
        self.synced = False  # whether the model's networks' delay plans were checked against their conn
        self.sized_for = None  # (dt key, model signature) its networks were last found sized for
        self.step_ratios = {}  # (quantity key, name, dt key) -> steps as a float: skips the unit arithmetic

    def remember(self, states, signature):
        """The model, as a run left it after making or checking ``states``."""
        self.signature = signature
        self.traced = _holds_tracers(states)


def _compile(model, dt, plan, monitor_fns, inputs_spec, checkpoint, progress, reset, batch_size, cache, jit):
    """The program of one run configuration: ``program(input arrays) -> recorded monitors``.

    It refers to the model weakly (it is cached with the model and must not keep it alive) and
    traces the whole run when it is first called (:func:`_traced_run`), counting the trace in
    ``cache``.
    """
    model_ref = weakref.ref(model)

    def program(arrays):
        cache.count_trace()
        model = model_ref()
        if model is None:  # pragma: no cover - the cache entry goes with the model
            raise RuntimeError('the model of this compiled program no longer exists.')
        return _traced_run(model, dt, plan, monitor_fns, inputs_spec, checkpoint, progress, reset, batch_size,
                           arrays)

    return brainstate.transform.jit(program) if jit else program


def _traced_run(model, dt, plan, monitor_fns, inputs_spec, checkpoint, progress, reset, batch_size, arrays):
    """The body of a run's program (runs while it is traced): the transient loop, the recording loop
    (chunks of ``sample_every`` steps) and the tail loop."""
    if reset:
        brainstate.nn.reset_all_states(model, batch_size=batch_size)
    every, n_samples = plan.sample_every, plan.n_samples
    start_record = plan.n_transient
    start_tail = start_record + every * n_samples
    observers = observers_of(monitor_fns)

    def one_step(i, args, delayed=None):
        with brainstate.environ.context(i=i, t=i * dt):
            inputs = inputs_spec.at(i, i * dt, args)
            out = model(*inputs) if delayed is None else model(*inputs, delayed=delayed)
            for obs in observers.values():
                obs.step(model)
            return out

    def step(i, args, delayed=None):
        return recomputed_in_reverse(one_step)(i, args, delayed)

    def record(out):
        return {name: (out if fn is None else obs.read() if (obs := observers.get(name))
                       else monitor_value(name, fn(model)))
                for name, fn in monitor_fns.items()}

    def loop(body, indices, xs, pbar=None):
        return brainstate.transform.for_loop(body, indices, xs, pbar=pbar)

    pbar = brainstate.transform.ProgressBar(desc='simulating') if progress else None
    def begin_recording():
        for obs in observers.values():
            obs.begin_recording()

    if _reads_ahead(model):
        return _blocked_run(plan, step, record, loop, inputs_spec, checkpoint, pbar, model, arrays, begin_recording)

    if start_record:
        loop(lambda i, x: (step(i, x), None)[1], jnp.arange(start_record),
             inputs_spec.slice(arrays, 0, start_record))
        begin_recording()
    rec_inputs = inputs_spec.slice(arrays, start_record, start_tail, chunk=every)
    rec_index = start_record + jnp.arange(n_samples * every).reshape(n_samples, every)

    def chunk(idx, x):
        if every == 1:
            return record(step(idx[0], inputs_spec.first(x)))
        outs = loop(step, idx, x)
        return record(jax.tree.map(lambda o: o[-1], outs))

    recorded = _recording_loop(checkpoint, loop)(chunk, rec_index, rec_inputs, pbar=pbar)
    if plan.n_tail:
        loop(lambda i, x: (step(i, x), None)[1], jnp.arange(start_tail, plan.n_steps),
             inputs_spec.slice(arrays, start_tail, plan.n_steps))
    return recorded


def _blocked_run(plan, step, record, loop, inputs_spec, checkpoint, pbar, net, arrays, begin_recording):
    """The run of a Network that reads its delayed input ``net.lookahead`` steps at a time.

    Every stretch of steps (transient, recording, tail) runs as a loop over blocks of
    ``block`` steps: at the start of a block the network reads the delayed input of the
    whole block at once (:meth:`Network.prefetch`), then an inner loop runs the block's
    steps one after the other as usual (inputs, observers and monitors per step), each
    step taking its row of the delayed input as an argument, and
    :meth:`Network.write_prefetched` ends the block. A stretch that is not a whole number
    of blocks ends with a shorter block. The results are those of the step-by-step program
    (same steps, same order, same random draws); only the floating-point order of the
    delayed sum may differ.
    """
    every, n_samples = plan.sample_every, plan.n_samples
    start_record = plan.n_transient
    start_tail = start_record + every * n_samples
    block = net.lookahead

    def run_block(idx, xs, keep):
        """One block: prefetch, then its steps in an inner loop over (inputs, delayed rows) (a loop, not
        an unrolled body: XLA would re-compute earlier steps inside the fusions of later ones)."""
        def body(i, x_row):
            x, row = x_row
            out = step(i, x, row)
            return record(out) if keep == 'all' else out if keep == 'last' else None

        n = idx.shape[0]
        rows = net.prefetch(n)
        outs = loop(body, idx, (xs, rows))
        net.write_prefetched(n)
        return jax.tree.map(lambda o: o[-1], outs) if keep == 'last' else outs

    def run_steps(idx, xs, keep=None, run_loop=loop, pbar=None):
        """Steps idx (1-D, static length) with inputs xs: records of all steps, the last output, or None."""
        m = idx.shape[0]
        nb, r = divmod(m, block)
        parts, last = [], None
        if nb:
            cut = nb * block
            body = lambda i, x: run_block(i, x, keep)
            outs = run_loop(body, idx[:cut].reshape(nb, block),
                            tuple(a[:cut].reshape((nb, block) + a.shape[1:]) for a in xs), pbar=pbar)
            if keep == 'all':
                parts.append(jax.tree.map(lambda o: o.reshape((cut,) + o.shape[2:]), outs))
            elif keep == 'last':
                last = jax.tree.map(lambda o: o[-1], outs)
        if r:
            out = run_block(idx[nb * block:], tuple(a[nb * block:] for a in xs), keep)
            parts.append(out)
            last = out
        if keep == 'all':
            return parts[0] if len(parts) == 1 else jax.tree.map(lambda *p: jnp.concatenate(p), *parts)
        return last

    rec_loop = _recording_loop(checkpoint, loop)
    if start_record:
        run_steps(jnp.arange(start_record), inputs_spec.slice(arrays, 0, start_record))
        begin_recording()
    if every == 1:
        recorded = run_steps(start_record + jnp.arange(n_samples),
                             inputs_spec.slice(arrays, start_record, start_tail), keep='all',
                             run_loop=rec_loop, pbar=pbar)
    else:
        rec_inputs = inputs_spec.slice(arrays, start_record, start_tail, chunk=every)
        rec_index = start_record + jnp.arange(n_samples * every).reshape(n_samples, every)
        recorded = rec_loop(lambda idx, x: record(run_steps(idx, x, keep='last')), rec_index, rec_inputs,
                            pbar=pbar)
    if plan.n_tail:
        run_steps(jnp.arange(start_tail, plan.n_steps),
                  inputs_spec.slice(arrays, start_tail, plan.n_steps))
    return recorded


# ---------------------------------------------------------------------- helpers
def _recording_loop(checkpoint, loop):
    """The loop over the recorded samples (or blocks): ``loop(body, indices, xs, pbar=None)``.

    ``checkpoint=True``: two-level checkpointing (:func:`segmented_for_loop`, one extra
    forward pass in reverse mode, memory ~ sqrt of the steps); an int: that base for
    ``brainstate.transform.checkpointed_for_loop`` (multi-level: less memory, more
    recomputation); ``False``: the plain loop.
    """
    if checkpoint is True:
        return segmented_for_loop
    if checkpoint:
        return lambda body, idx, xs, pbar=None: brainstate.transform.checkpointed_for_loop(
            body, idx, xs, base=checkpoint, pbar=pbar)
    return loop


def _check_checkpoint(checkpoint):
    if isinstance(checkpoint, (bool, np.bool_)):
        return bool(checkpoint)
    if isinstance(checkpoint, (int, np.integer)) and checkpoint >= 2:
        return int(checkpoint)
    error = ValueError if isinstance(checkpoint, (int, np.integer)) else _FlagTypeError
    raise error(f'`checkpoint` must be False, True (two-level checkpointing) or an int base >= 2 '
                f'(brainstate.transform.checkpointed_for_loop); got {checkpoint!r}.')


def _reads_ahead(model) -> bool:
    """Whether the model is a Network that reads its delayed input several steps ahead (a Network inside
    a model of the user's is stepped one step at a time: its steps are the model's calls)."""
    return isinstance(model, Network) and model.lookahead > 1


def _existing_states_batch(model, batch_size):
    """``batch_size`` after checking that every state ``init_states=False`` continues from exists and has
    that batch size (states set by ``brainstate.nn.init_all_states(model)`` and by hand are taken as they are)."""
    for path, m in model.nodes().items():
        if isinstance(m, StepModel):
            missing = [v for v in m.state_vars if not isinstance(m.__dict__.get(v), brainstate.State)]
            if missing:
                raise ValueError(f'`init_states=False` continues from the model\'s current states, but '
                                 f'{type(m).__name__} has no state {missing[0]!r} yet: run once with '
                                 f'init_states=True or call brainstate.nn.init_all_states(model) first.')
            shape = tuple(u.math.shape(getattr(m, m.state_vars[0]).value))
            expected = tuple(m.varshape) if batch_size is None else (batch_size,) + tuple(m.varshape)
            if shape != expected:
                given = (f'batch_size={shape[0]}' if len(shape) == len(m.varshape) + 1
                         else 'no batch_size')
                raise ValueError(f'`init_states=False` continues from the current states of {type(m).__name__}, '
                                 f'which have shape {shape} ({given}), but the run asks for '
                                 f'batch_size={batch_size} (state shape {expected}): pass the batch_size the '
                                 f'states were made with, or init_states=True.')
        elif isinstance(m, Network) and m.max_delay_steps and not isinstance(getattr(m, 'buffer', None),
                                                                              brainstate.State):
            raise ValueError('`init_states=False` continues from the model\'s current states, but the Network\'s '
                             'delay buffer does not exist yet: call brainstate.nn.init_all_states(model) (or run '
                             'once with init_states=True) first.')
    return batch_size


class _Unset:
    def __repr__(self):
        return '<unset>'


_UNSET = _Unset()


def _holds_tracers(states) -> bool:
    """Whether any of ``states`` holds a value of a live or finished trace."""
    for state in states:
        value = getattr(state, '_value', None)
        if any(is_traced(leaf) or type(leaf).__name__ == '_InvalidatedTraceValue'
               for leaf in jax.tree_util.tree_leaves(value)):
            return True
    return False



def _environ_key():
    """The global settings a trace reads besides dt: brainstate's precision and jax's x64 flag."""
    return brainstate.environ.get_precision(), bool(jax.config.jax_enable_x64)
