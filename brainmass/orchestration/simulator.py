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
"""
from __future__ import annotations

import contextlib
import inspect
import math
import warnings
import weakref

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.compile_cache import ModelPrograms, callable_key, model_programs, model_signature, refers_to
from .._core.params import ConstantParams
from .._core.step import StepModel
from .._core.transforms import recomputed_in_reverse, segmented_for_loop
from .._core.units import is_traced, same_dim, time_to_ms, unit_name
from .._core.validation import (as_numeric, broadcasts_to, check_bool, check_choice, check_int_at_least,
                                check_values)
from ..network.network import Network
from ..stimulus import Routed
from .monitors import Observer, state_at, state_names

__all__ = ['Simulator', 'SimulationDivergedError', 'InputUnitError', 'state_names']


class SimulationDivergedError(FloatingPointError):
    """A simulation produced NaN or inf; the message says when and where."""


class InputUnitError(u.UnitMismatchError, ValueError):
    """``inputs`` carry a unit the model cannot take (a ValueError and a brainunit UnitMismatchError)."""


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
        self.dt = _check_dt(dt)
        self.trace_count = 0
        self._cache = model_programs(model)
        self._own = ModelPrograms()  # programs whose callables refer to the model (see run)
        self._record = self._cache.notes.get('simulator')
        if self._record is None:
            self._record = self._cache.notes['simulator'] = _ModelRecord(model)
        self._times = {}
        self._dt_ms = float(time_to_ms(self.dt, 'dt'))
        self._dt_key = _dt_key(self.dt)
        self._layout = None
        self._finite_inputs = []  # see _check_finite_input

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
        plan = self._plan(duration, transient, sample_every)
        if batch_size is not None:
            check_int_at_least(batch_size, 1, 'batch_size')
        inputs_spec = _InputSpec(inputs, plan['n_steps'], self._input_layout(), batch_size, self._finite_inputs)
        record = self._record
        # a constant changed since the model's last run (by any Simulator), or before its first one:
        # the networks' delay plans follow (the changed signature then makes the states again)
        if record.constants.changed() or not record.synced:
            for net in self.model.nodes(Network).values():
                net.sync_constants(init_states)
            record.synced = True
        with brainstate.environ.context(dt=self.dt):
            reset, signature = self._prepare_states(batch_size, init_states)
            monitor_fns = _normalise_monitors(monitors, self.model)
            observers = _observers(monitor_fns)
            for obs in observers.values():
                obs.check_source(self.model)
                obs.init_for(self.model, batch_size)
            if observers:  # their parameters and states, as init_for left them
                signature = signature + model_signature(*observers.values())
            key = ('Simulator.run', self._dt_key, tuple(sorted(plan.items())), _monitor_key(monitor_fns),
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
            _check_finite(outputs, on_divergence, plan, self.dt)
        return outputs

    # ------------------------------------------------------------- internals
    def _plan(self, duration, transient, sample_every):
        n_steps = self._steps(duration, 'duration')
        if n_steps < 1:
            raise ValueError(f'`duration` ({duration}) is shorter than dt ({self.dt}).')
        n_transient = 0 if transient is None else self._steps(transient, 'transient')
        if n_transient < 0 or n_transient >= n_steps:
            raise ValueError(f'`transient` must be >= 0 and shorter than `duration`; got transient={transient}, '
                             f'duration={duration}.')
        every = 1 if sample_every is None else (
            self._steps(sample_every, 'sample_every') if isinstance(sample_every, u.Quantity)
            else check_int_at_least(sample_every, 1, 'sample_every'))
        if every < 1:
            raise ValueError(f'`sample_every` must be at least one step; got {sample_every}.')
        n_record = n_steps - n_transient
        n_samples = n_record // every
        if n_samples < 1:
            raise ValueError(f'`sample_every` ({every} steps) is longer than the recorded part of the run '
                             f'({n_record} steps).')
        return dict(n_steps=n_steps, n_transient=n_transient, sample_every=every,
                    n_samples=n_samples, n_tail=n_record - n_samples * every)

    def _input_layout(self):
        """What the run's ``inputs`` must fit (computed once per Simulator): see :class:`_InputLayout`."""
        if self._layout is None:
            self._layout = _InputLayout(self.model)
        return self._layout

    def _steps(self, value, name):
        """Number of dt steps in the time ``value`` (warn when not a whole multiple).

        A repeated run with the same plain-number quantities skips the unit arithmetic
        (~35 us per quantity); the rounding and its warning happen on every call.
        """
        key = _quantity_key(value)
        key = None if key is None else (key, name, self._dt_key)
        ratios = self._record.step_ratios  # shared by the model's Simulators: a new one skips it too
        ratio = ratios.get(key) if key is not None else None
        if ratio is None:
            ratio = _step_ratio(value, self.dt, name)
            if key is not None:
                if len(ratios) > 256:
                    ratios.clear()
                ratios[key] = ratio
        return _whole_steps(ratio, value, self.dt, name)

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

        Computed with numpy in the dtype jax would give (the same numbers as the jax
        expression, bit for bit) and moved to the device once: no eager jax operation, each
        of which costs an XLA compile (~25 ms) the first time its shape is met.
        """
        key = (plan['n_transient'], plan['sample_every'], plan['n_samples'], bool(jax.config.jax_enable_x64))
        if key not in self._times:
            steps = key[0] + key[1] * np.arange(1, key[2] + 1)
            mantissa = u.get_mantissa(self.dt)
            dtype = _time_dtype(mantissa)
            values = steps.astype(dtype) * np.asarray(mantissa, dtype=dtype)
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
    every, n_samples = plan['sample_every'], plan['n_samples']
    start_record = plan['n_transient']
    start_tail = start_record + every * n_samples
    observers = _observers(monitor_fns)

    def one_step(i, args):
        with brainstate.environ.context(i=i, t=i * dt):
            out = model(*inputs_spec.at(i, i * dt, args))
            for obs in observers.values():
                obs.step(model)
            return out

    def step(i, args):
        return recomputed_in_reverse(one_step)(i, args)

    def record(out):
        return {name: (out if fn is None else obs.read() if (obs := observers.get(name))
                       else _monitor_value(name, fn(model)))
                for name, fn in monitor_fns.items()}

    def loop(body, indices, xs, pbar=None):
        return brainstate.transform.for_loop(body, indices, xs, pbar=pbar)

    pbar = brainstate.transform.ProgressBar(desc='simulating') if progress else None
    prefetchers = _prefetchers(model)
    block = min([m.lookahead for m in prefetchers] or [1])
    if block > 1:
        return _blocked_run(plan, step, record, loop, inputs_spec, checkpoint, pbar, prefetchers, block, arrays)

    if start_record:
        loop(lambda i, x: (step(i, x), None)[1], jnp.arange(start_record),
             inputs_spec.slice(arrays, 0, start_record))
    rec_inputs = inputs_spec.slice(arrays, start_record, start_tail, chunk=every)
    rec_index = start_record + jnp.arange(n_samples * every).reshape(n_samples, every)

    def chunk(idx, x):
        if every == 1:
            return record(step(idx[0], inputs_spec.first(x)))
        outs = loop(step, idx, x)
        return record(jax.tree.map(lambda o: o[-1], outs))

    recorded = _recording_loop(checkpoint, loop)(chunk, rec_index, rec_inputs, pbar=pbar)
    if plan['n_tail']:
        loop(lambda i, x: (step(i, x), None)[1], jnp.arange(start_tail, plan['n_steps']),
             inputs_spec.slice(arrays, start_tail, plan['n_steps']))
    return recorded


def _blocked_run(plan, step, record, loop, inputs_spec, checkpoint, pbar, prefetchers, block, arrays):
    """The run of a model whose networks read their delayed input ``block`` steps at a time.

    Every stretch of steps (transient, recording, tail) runs as a loop over blocks of
    ``block`` steps: at the start of a block each network reads the delayed input of the
    whole block at once (:meth:`Network.prefetched`), then an inner loop runs the block's
    steps one after the other as usual (inputs, observers and monitors per step). A
    stretch that is not a whole number of blocks ends with a shorter block. The results
    are those of the step-by-step program (same steps, same order, same random draws);
    only the floating-point order of the delayed sum may differ.
    """
    every, n_samples = plan['sample_every'], plan['n_samples']
    start_record = plan['n_transient']
    start_tail = start_record + every * n_samples

    def run_block(idx, xs, keep):
        """One block: prefetch, then its steps in an inner loop (a loop, not an unrolled body:
        XLA would re-compute earlier steps inside the fusions of later ones)."""
        def body(i, x):
            out = step(i, x)
            return record(out) if keep == 'all' else out if keep == 'last' else None

        with contextlib.ExitStack() as stack:
            for net in prefetchers:
                stack.enter_context(net.prefetched(idx.shape[0]))
            outs = loop(body, idx, xs)
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
    if every == 1:
        recorded = run_steps(start_record + jnp.arange(n_samples),
                             inputs_spec.slice(arrays, start_record, start_tail), keep='all',
                             run_loop=rec_loop, pbar=pbar)
    else:
        rec_inputs = inputs_spec.slice(arrays, start_record, start_tail, chunk=every)
        rec_index = start_record + jnp.arange(n_samples * every).reshape(n_samples, every)
        recorded = rec_loop(lambda idx, x: record(run_steps(idx, x, keep='last')), rec_index, rec_inputs,
                            pbar=pbar)
    if plan['n_tail']:
        run_steps(jnp.arange(start_tail, plan['n_steps']),
                  inputs_spec.slice(arrays, start_tail, plan['n_steps']))
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


def _prefetchers(model) -> list:
    """Sub-modules (the model included) that can read their delayed input several steps ahead."""
    return [m for m in model.nodes().values()
            if callable(getattr(m, 'prefetched', None)) and isinstance(getattr(m, 'lookahead', None), int)]


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


def _check_dt(dt):
    if dt is None:
        dt = brainstate.environ.get('dt', None)
        if dt is None:
            raise ValueError('`dt` is missing: pass Simulator(model, dt=0.1 * u.ms) or set '
                             'brainstate.environ.set(dt=0.1 * u.ms).')
    if not isinstance(dt, u.Quantity):
        raise TypeError(f'`dt` must carry time units, e.g. 0.1 * u.ms; got the plain number {dt!r}.')
    if not u.get_unit(dt).has_same_dim(u.ms):
        raise TypeError(f'`dt` must be a time; got a quantity in {unit_name(dt)}.')
    if np.ndim(u.get_mantissa(dt)) != 0:
        raise ValueError(f'`dt` must be a single time step (a scalar quantity); got shape '
                         f'{tuple(np.shape(u.get_mantissa(dt)))}.')
    value = float(u.get_magnitude(dt))
    if not math.isfinite(value):
        raise ValueError(f'`dt` must be a finite time step; got {dt}.')
    if not value > 0:
        raise ValueError(f'`dt` must be > 0; got {dt}.')
    return dt


def _quantity_key(value):
    """A hashable key of a quantity with a plain-number mantissa (None otherwise)."""
    if isinstance(value, u.Quantity) and isinstance(value.mantissa, (int, float)):
        return float(value.mantissa), value.unit
    return None


def _step_ratio(value, dt, name):
    """``value / dt`` as a float, after checking that ``value`` is a non-negative time."""
    if not isinstance(value, u.Quantity):
        raise TypeError(f'`{name}` must carry time units (e.g. 100 * u.ms); got {value!r}.')
    if not u.get_unit(value).has_same_dim(u.ms):
        raise TypeError(f'`{name}` must be a time; got a quantity in {unit_name(value)}.')
    if np.ndim(u.get_mantissa(value)) != 0:
        raise ValueError(f'`{name}` must be a single time (a scalar quantity); got shape '
                         f'{tuple(np.shape(u.get_mantissa(value)))}.')
    ratio = float(u.get_magnitude(value / dt))
    if not math.isfinite(ratio):
        raise ValueError(f'`{name}` must be a finite time; got {value}.')
    if ratio < 0:
        raise ValueError(f'`{name}` must be >= 0; got {value}.')
    return ratio


def _whole_steps(ratio, value, dt, name):
    """``ratio`` rounded to whole steps (warn when it is not a whole number)."""
    steps = int(round(ratio))
    if not math.isclose(ratio, steps, rel_tol=1e-6, abs_tol=1e-6):
        warnings.warn(f'`{name}` ({value}) is not a multiple of dt ({dt}); using {steps} steps '
                      f'({steps * dt}).', UserWarning, stacklevel=5)
    return steps


def _state_reader(model, name):
    if isinstance(name, Observer):
        raise TypeError(f'an in-loop monitor ({type(name).__name__}) needs a name: pass it in a dict, e.g. '
                        f"monitors={{'bold': {type(name).__name__}(...)}}.")
    if not isinstance(name, str):
        raise TypeError(f'monitor names must be strings or callables; got {name!r}.')
    if state_at(model, name) is None:
        available = state_names(model)
        hint = ''
        inner = [s for s in available if s.split('.')[-1] == name]
        if inner:
            hint = (f" '{name}' lives on a submodule: pass '{inner[0]}' or "
                    f"lambda m: m.{inner[0]}.value.")
        raise ValueError(f"Unknown monitor {name!r}.{hint} Available states: {', '.join(available)}.")
    return lambda m, path=name: state_at(m, path).value


def _normalise_monitors(monitors, model) -> dict:
    if monitors is None:
        return {'output': None}
    if callable(monitors) and not isinstance(monitors, (list, tuple, dict, str)):
        return {'output': monitors}
    if isinstance(monitors, str):
        monitors = [monitors]
    if isinstance(monitors, (list, tuple)):
        return {name: _state_reader(model, name) for name in monitors}
    if isinstance(monitors, dict):
        out = {}
        for key, spec in monitors.items():
            if key == 'ts':
                raise ValueError("'ts' is reserved for the time axis; rename that monitor.")
            out[key] = spec if (callable(spec) or isinstance(spec, Observer)) else _state_reader(model, spec)
        return out
    raise TypeError(f'`monitors` must be None, a list of state names, a callable or a dict; '
                    f'got {type(monitors).__name__}.')


def _monitor_value(name, value):
    """A callable monitor's value, checked while tracing: arrays and quantities (or pytrees of them)."""
    for leaf in jax.tree.leaves(value, is_leaf=lambda v: isinstance(v, u.Quantity)):
        mantissa = u.get_mantissa(leaf) if isinstance(leaf, u.Quantity) else leaf
        if not (isinstance(mantissa, (jax.Array, np.ndarray, np.generic)) or
                isinstance(mantissa, (bool, int, float, complex))):
            raise TypeError(f'monitor {name!r} returned {type(leaf).__name__} {leaf!r:.60}; a monitor must '
                            f'return an array or a quantity (e.g. lambda m: m.x.value).')
    return value


def _observers(monitor_fns) -> dict:
    return {name: fn for name, fn in monitor_fns.items() if isinstance(fn, Observer)}


def _monitor_key(monitor_fns):
    """The monitors as a key: two lambdas with the same code, closure and globals read the same values
    (:func:`callable_key`); an Observer by identity (its parameters and states are in the model signature)."""
    return tuple((name, None if fn is None else fn if isinstance(fn, Observer) else callable_key(fn))
                 for name, fn in sorted(monitor_fns.items()))


def _dt_key(dt):
    """dt as a key: its value, unit and number type (the trace computes ``i * dt``)."""
    mantissa = u.get_mantissa(dt)
    return float(u.get_magnitude(dt)), u.get_unit(dt), type(mantissa).__name__, str(getattr(mantissa, 'dtype', ''))


def _environ_key():
    """The global settings a trace reads besides dt: brainstate's precision and jax's x64 flag."""
    return brainstate.environ.get_precision(), bool(jax.config.jax_enable_x64)


_INPUT_KINDS = 'a number, an array of numbers or a quantity (or a callable(i, t) for all inputs)'


class _InputLayout:
    """What ``inputs`` must fit, read once from the model (no trace).

    ``varshape``: the per-step shape an input must broadcast to (a ``*Step`` model's or a
    Network's regions; None for other modules, whose inputs are not checked). ``node`` (the
    class name) / ``order`` / ``offset`` / ``units``: the StepModel whose ``update(*inputs)``
    maps positional inputs to its ``input_vars`` in their units; ``node`` is None when the
    model maps its inputs itself (units then are checked when they are used).
    ``order[offset:]`` are the variables the run's inputs drive, in order: the node's
    ``input_vars``, or in a Network (``offset`` 1) those without the declared
    ``coupling_input``, which ``order[0]`` names; ``units[var]`` is the unit an input to
    ``var`` must have. No reference to the model is kept (compiled programs hold this).
    """

    def __init__(self, model):
        self.name = type(model).__name__
        self.varshape = tuple(model.varshape) if isinstance(model, (StepModel, Network)) else None
        node, self.offset = (model.node, 1) if isinstance(model, Network) else (model, 0)
        maps = _maps_inputs_in_order(node)
        self.node = type(node).__name__ if maps else None
        self.order = ()
        self.units = {}
        if maps:
            self.order = node.input_order()
            if self.offset:  # the coupling current takes the declared input; the run's inputs the rest
                coupled = node.coupled_input()
                self.order = (coupled,) + tuple(v for v in self.order if v != coupled)
            self.units = {var: node.unit_of(var) for var in self.order}

    def region_text(self, batch_size):
        n = int(np.prod(self.varshape)) if self.varshape else 1
        text = f'{self.name} has state shape {self.varshape} ({n} region{"s" if n != 1 else ""})'
        return text if batch_size is None else f'{text}, batch_size={batch_size}'

    def row_shapes(self, batch_size):
        """The accepted per-step shapes, for messages."""
        full = self.varshape if batch_size is None else (batch_size,) + self.varshape
        shapes = [(), full] if batch_size is None else [(), self.varshape, full]
        return ' or '.join(str(tuple(s)) for s in dict.fromkeys(shapes))


def _maps_inputs_in_order(node) -> bool:
    """Whether ``node.update(*inputs)`` hands its inputs to ``input_vars`` in order, in their units.

    Declared by the node's class: no ``update_inputs`` (an ``update`` with its own signature,
    e.g. Jansen-Rit's afferent rates, declares them) and ``inputs_in_state_units``.
    """
    return isinstance(node, StepModel) and node.update_inputs is None and bool(node.inputs_in_state_units)


def _check_finite_input(item, name, seen):
    """NaN / inf in a concrete input is the caller's error, not a divergence of the model.

    ``seen``: the last input arrays found finite (held, compared by identity), not checked again.
    """
    if any(item is old for old in seen):
        return
    check_values(item, name)
    if not is_traced(item) and np.ndim(u.get_mantissa(item) if isinstance(item, u.Quantity) else item) > 0:
        seen[:] = [item] + seen[:1]


def _dtype_name(value) -> str:
    mantissa = u.get_mantissa(value) if isinstance(value, u.Quantity) else value
    dtype = getattr(mantissa, 'dtype', None)
    return str(dtype) if dtype is not None else type(mantissa).__name__


def _const_key(value):
    """A constant input (a scalar, compiled into the program) as a key: shape, unit, value and type."""
    return (u.math.shape(value), str(u.get_unit(value)), float(u.get_magnitude(value)), _dtype_name(value))


def _check_signature(fn):
    """A callable input is called as ``fn(i, t)``: say so before the trace when it cannot be."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: let the call decide
        return
    try:
        sig.bind(0, 0)
    except TypeError:
        raise TypeError(f'`inputs` as a callable is called as inputs(i, t) (the step index and its time) '
                        f'and returns the inputs of that step; {getattr(fn, "__name__", fn)!s}{sig} '
                        f'cannot take those two arguments.') from None


class _InputSpec:
    """Validates external inputs and slices them per step inside the program.

    ``seen``: the Simulator's list of the last input arrays found finite (see
    :func:`_check_finite_input`). ``key``: what a program traced with these inputs depends on
    (kinds, the callable, constant values with their unit and type, array shapes, dtypes and
    units); the arrays themselves are the program's arguments (:meth:`lean` drops them).
    """

    def __init__(self, inputs, n_steps, layout, batch_size, seen):
        self.callable = None
        self.arrays = ()
        self.layout_info, self.batch_size = layout, batch_size
        if inputs is None:
            self.kind = 'none'
        elif callable(inputs):
            self.kind, self.callable = 'callable', inputs
            _check_signature(inputs)
        else:
            items = tuple(inputs) if isinstance(inputs, tuple) else (inputs,)
            self.kind = 'items'
            self.layout = []
            arrays = []
            self._check_count(len(items), f'`inputs` gives {len(items)} inputs')
            for k, item in enumerate(items):
                where = f' item {k}' if isinstance(inputs, tuple) else ''
                if item is not None:
                    as_numeric(item, f'inputs{where}', kinds=_INPUT_KINDS)
                    _check_finite_input(item, f'inputs{where}', seen)
                shape = tuple(u.math.shape(item)) if item is not None else ()
                if len(shape) == 0:
                    self.layout.append(('const', item))
                else:
                    if shape[0] != n_steps:
                        raise ValueError(self._time_axis_message(shape, n_steps, where))
                    self.layout.append(('array', len(arrays)))
                    arrays.append(item)
                self._check_row(shape[1:], k, item, where, shape)
            self.arrays = tuple(arrays)
        self.key = (self.kind, callable_key(self.callable) if self.callable else None,
                    tuple((str(k), _const_key(v) if k == 'const' and v is not None else v)
                          for k, v in getattr(self, 'layout', ())),
                    tuple((u.math.shape(a), _dtype_name(a), str(u.get_unit(a))) for a in self.arrays))

    def lean(self):
        """A copy without this run's input arrays, for the compiled program to hold."""
        spec = object.__new__(_InputSpec)
        spec.__dict__.update(self.__dict__)
        spec.arrays = ()
        return spec

    # ---------------------------------------------------------- validation
    def _check_count(self, n, given):
        info = self.layout_info
        if info.node is None or n + info.offset <= len(info.order):
            return
        free = info.order[info.offset:]
        node = info.node
        takes = (f'{node}.update takes at most {len(info.order)} inputs '
                 f'({", ".join(v + "_inp" for v in info.order)})')
        if info.offset:
            takes += (f'; in a {info.name} {info.order[0]}_inp (the declared coupling_input) is the coupling '
                      f'current, so `inputs` may give at most {len(free)} ({", ".join(v + "_inp" for v in free)})')
        raise TypeError(f'{given}, but {takes}.')

    def _check_row(self, row, k, item, where, shape):
        """The per-step value ``row`` (shape) of input ``k`` fits the model's states and units."""
        info, batch = self.layout_info, self.batch_size
        if info.varshape is not None:
            target = info.varshape if batch is None else (batch,) + info.varshape
            if not broadcasts_to(row, target):
                hint = ''
                if batch is None and len(row) > len(info.varshape):
                    hint = ' (a leading batch axis needs run(..., batch_size=B))'
                per_step = (f'each of its {shape[0]} rows has shape {tuple(row)}' if shape != row
                            else 'that is the value of one step')
                raise ValueError(f'`inputs`{where} has shape {tuple(shape)} ({per_step}), which does not fit '
                                 f'the model: {info.region_text(batch)}. The value of one step must have '
                                 f'shape {info.row_shapes(batch)}{hint}.')
        if info.node is None or not isinstance(item, u.Quantity) or k + info.offset >= len(info.order):
            return
        var = info.order[k + info.offset]
        expected = info.units[var]
        unit = u.get_unit(item)
        ok = unit.is_unitless if expected.is_unitless else same_dim(unit, expected)
        if not ok:
            want = ('dimensionless (plain numbers)' if expected.is_unitless
                    else f'in {unit_name(1 * expected)} (or plain numbers, read in {unit_name(1 * expected)})')
            raise InputUnitError(f'`inputs`{where} is in {unit_name(item)}, but it drives {var!r} of '
                                  f'{info.node}, whose input must be {want}.')

    def _time_axis_message(self, shape, n_steps, where):
        info, batch = self.layout_info, self.batch_size
        msg = (f'`inputs`{where} has shape {tuple(shape)}: {shape[0]} time steps along its first axis, but the run '
               f'has {n_steps} steps (duration / dt, transient included; an array input is a time series, one '
               f'row per step)')
        if info.varshape is not None:
            rows = [(n_steps,)] + [(n_steps,) + s for s in
                                   ([info.varshape] if batch is None else
                                    [info.varshape, (batch,) + info.varshape])]
            msg += f'; expected shape {" or ".join(str(r) for r in rows)} ({info.region_text(batch)})'
            if tuple(shape) in (info.varshape, (batch,) + info.varshape):
                msg += (f'. For the same value at every step pass a callable, inputs=lambda i, t: values, '
                        f'or jnp.broadcast_to(values, {(n_steps,) + tuple(shape)})')
        return msg + '.'

    def check_output(self, out):
        """Static (trace-time) check of what a callable input returned at a step."""
        if self.kind != 'callable' or out is None:
            return out
        items = out if isinstance(out, tuple) else (out,)
        n = len(items)
        while self.layout_info.offset and n and isinstance(items[n - 1], Routed):
            n -= 1  # in a Network a stimulus is routed by its target (brainmass.stimulus), not by position
        self._check_count(n, f'the `inputs` callable returns {n} inputs')
        for k, item in enumerate(items):
            where = f' (callable output item {k})' if isinstance(out, tuple) else ' (callable output)'
            if item is None:
                continue
            routed = isinstance(item, Routed)  # its unit is checked where the Network routes it
            shape = tuple(u.math.shape(item.value if routed else item))
            self._check_row(shape, k, None if routed else item, where, shape)
        return out

    def slice(self, arrays, start, stop, chunk=None):
        def cut(a):
            a = a[start:stop]
            return a if chunk is None else a.reshape((-1, chunk) + tuple(u.math.shape(a)[1:]))
        return tuple(cut(a) for a in arrays)

    @staticmethod
    def first(x):
        return tuple(a[0] for a in x)

    def at(self, i, t, sliced):
        if self.kind == 'none':
            return ()
        if self.kind == 'callable':
            out = self.check_output(self.callable(i, t))
            return out if isinstance(out, tuple) else (out,)
        return tuple(value if kind == 'const' else sliced[value] for kind, value in self.layout)


def _divergence_time(ts, bad, plan, dt):
    """When the first non-finite value (at ``bad`` = (sample, *index)) appeared, as exactly as known."""
    sample, index = int(bad[0]), tuple(int(b) for b in bad[1:])
    t = ts[sample]
    if plan['sample_every'] == 1 and not (sample == 0 and plan['n_transient']):
        return f' at t = {t} (sample {sample}, index {index})'
    # only the sampling instants are checked: the first bad value may be older
    if sample > 0:
        after = f'the previous sample (t = {ts[sample - 1]})'
    elif plan['n_transient']:
        after = f'the start of the run (the {plan["n_transient"] * dt} transient is not recorded)'
    else:
        after = 'the start of the run'
    return (f', first seen at sample t = {t} (sample {sample}, index {index}; only samples are checked: '
            f'it diverged after {after} and at or before t = {t})')


def _check_finite(outputs, mode, plan, dt):
    for name, value in outputs.items():
        if name == 'ts':
            continue
        for leaf in jax.tree_util.tree_leaves(value, is_leaf=lambda x: isinstance(x, u.Quantity)):
            if is_traced(leaf):
                return
            arr = np.asarray(u.get_magnitude(leaf))
            if not np.issubdtype(arr.dtype, np.inexact) or np.all(np.isfinite(arr)):
                continue
            bad = np.argwhere(~np.isfinite(arr))[0]
            msg = (f"Simulation diverged: monitor {name!r} became {arr[tuple(bad)]}"
                   f"{_divergence_time(outputs['ts'], bad, plan, dt)}. Reduce dt, lower the coupling, "
                   f"check parameters, or pass on_divergence='warn'.")
            if mode == 'raise':
                raise SimulationDivergedError(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
            return
