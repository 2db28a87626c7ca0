"""``sweep.run``: a Space of parameter values -> batched, sharded programs -> reduced metrics.

How a sweep runs
----------------
1. The points are grouped by their *structural* values (arguments of a model factory,
   such as a conduction speed that sizes the delay buffers); one model per group.
2. In the group's model every swept parameter is swapped for a trainable
   ``brainstate.nn.Param``: its value is then read by the program as an input, so all
   chunks of the group run one compiled program. The model's attributes, states and
   the global random key are restored afterwards, also after an error.
3. One simulation of a chunk's points is traced once (``brainstate.transform.StatefulFunction``)
   into a pure function of (parameter values, point indices) that returns only the
   metrics; it runs under ``jax.shard_map`` over a ``Mesh`` of the devices, the points
   split along the mesh axis ``'points'``, inside one ``jax.jit``.
4. ``vectorize='batch'``: each device runs the model's own batch axis
   (``Simulator.run(batch_size=b)``, the fastest layout); ``'vmap'``: each device runs
   ``jax.vmap`` of a one-point simulation whose random key is folded from the point's
   index, so noisy results do not depend on the chunking or the device count.
"""
from __future__ import annotations

import math
import time

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ..._core.compile_cache import model_programs
from ..._core.transforms import uses_primitive
from ..._core.validation import check_bool, check_choice, check_int_at_least
from ..monitors import Observer
from ..simulator import Simulator
from .checks import check_devices, check_metrics, check_space, resolve_param, split_axes
from .params import param_refs, parameter_paths
from .progress import ProgressBar
from .result import SweepResult

__all__ = ['run', 'parameter_paths']

#: points per device of a chunk when ``chunk_size`` is not given
DEFAULT_POINTS_PER_DEVICE = 64
#: the primitive every random draw goes through (a run that uses it is noisy); the sweep's own key
#: derivation (fold_in) does not draw
_RANDOM_PRIMITIVES = ('random_bits',)


# =============================================================================
# restore everything a sweep touches
# =============================================================================
class _Restored:
    """Context: on exit the model's attributes and state values, the bookkeeping its Simulators share
    (:func:`~brainmass._core.compile_cache.model_programs` notes) and the global random key are as before."""

    def __init__(self, model, *others):
        self.model, self.others = model, others  # others: in-loop monitors (Observers), restored alike

    def __enter__(self):
        self.key = brainstate.random.get_key()
        self.notes = model_programs(self.model).notes
        self.saved_notes = {k: (v, dict(vars(v)) if hasattr(v, '__dict__') else None)
                            for k, v in self.notes.items()}
        modules = (self.model,) + self.others
        self.dicts = [(m, dict(m.__dict__)) for module in modules for m in module.nodes().values()]
        self.values = []
        for state in (s for module in modules for s in module.states().values()):
            try:
                self.values.append((state, state.value))
            except Exception:  # noqa: BLE001 - a state of a finished trace: nothing to keep
                pass
        self.undo = []
        return self

    def __exit__(self, *exc):
        for owner, key, old in reversed(self.undo):
            if isinstance(owner, (dict, list)):
                owner[key] = old
        for m, saved in self.dicts:
            m.__dict__.clear()
            m.__dict__.update(saved)
        for state, value in self.values:
            state.restore_value(value)
        for k in [k for k in self.notes if k not in self.saved_notes]:
            del self.notes[k]
        for k, (note, saved) in self.saved_notes.items():
            if saved is not None:  # in place: the user's Simulators hold these objects
                note.__dict__.clear()
                note.__dict__.update(saved)
            self.notes[k] = note
        brainstate.random.set_key(self.key)
        return False


# =============================================================================
# the program of one group
# =============================================================================
class _GroupProgram:
    """The compiled sweep of one group: ``(values, indices) -> metrics``, sharded over ``mesh``."""

    def __init__(self, model, swept, mode, per_device, mesh, sim_kwargs, metrics, seed, dt, counter):
        self.mode, self.per_device, self.mesh = mode, per_device, mesh
        self.swept, self.metrics = swept, metrics
        self.meta = {}
        self.random = False
        sim = Simulator(model, dt=dt)
        batch = per_device if mode == 'batch' else None
        base = jax.random.PRNGKey(seed)

        def one(values, index):
            for p, v in zip(swept, values):
                p.write(v, batch)
            brainstate.random.set_key(jax.random.fold_in(base, index))
            res = sim.run(batch_size=batch, **sim_kwargs)
            if batch is None:
                return self._evaluate(res)
            return jax.vmap(self._evaluate, in_axes=(_batch_axes(res, batch),))(res)

        dtype = brainstate.environ.dftype()
        example = (tuple(jnp.zeros(() if batch is None else (batch,), dtype) for _ in swept),
                   jnp.zeros((), jnp.uint32))
        sf = brainstate.transform.StatefulFunction(one)
        counter['traces'] += 1
        sf.make_jaxpr(*example)
        key = sf.get_arg_cache_key(*example)
        jaxpr = sf.get_jaxpr_by_cache(key)
        self.random = uses_primitive(jaxpr, *_RANDOM_PRIMITIVES)
        state_values = tuple(s.value for s in sf.get_states_by_cache(key))
        treedef = sf.get_out_treedef_by_cache(key)

        def pure(values, index):
            leaves = jax.tree.flatten(((values, index), {}, state_values))[0]
            return treedef.unflatten(jax.core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, *leaves))[0]

        def local(values, indices):  # runs once per compile (jax.jit traces it)
            counter['compiles'] += 1
            if mode == 'vmap':
                return jax.vmap(pure)(values, indices)
            return pure(values, indices[0])  # a device's points run as one batch; its key: its first point's
        spec = PartitionSpec('points')
        self.sharding = NamedSharding(mesh, spec)
        # every device computes its own points, no collectives: the replication (vma) check is off because
        # the traced program mixes per-device values with its constants
        fn = jax.jit(jax.shard_map(local, mesh=mesh, in_specs=(spec, spec), out_specs=spec, check_vma=False))
        # compiled ahead of the chunks for the chunk's shapes: every chunk runs this one executable
        n = per_device * len(mesh.devices.flat)
        shaped = lambda dt: jax.ShapeDtypeStruct((n,), dt, sharding=self.sharding)  # noqa: E731
        self.fn = fn.lower(tuple(shaped(dtype) for _ in swept), shaped(jnp.uint32)).compile()

    def _evaluate(self, res):
        """The metrics of one point's run (called while tracing): magnitudes, units recorded."""
        out = {}
        for name, fn in self.metrics.items():
            value = fn(res)
            if isinstance(value, u.Quantity):
                unit, value = u.get_unit(value), u.get_mantissa(value)
                unit = None if unit.is_unitless else unit
            else:
                unit = None
            if isinstance(value, (bool, np.bool_)) or not (
                    isinstance(value, (jax.Array, np.ndarray, np.generic, int, float))):
                raise TypeError(f'metric {name!r} returned {type(value).__name__} {value!r:.60}; a metric must '
                                f'return a number, an array or a Quantity (of the same shape at every point), '
                                f'e.g. lambda res: jnp.var(res["node.x"]).')
            value = jnp.asarray(value)
            if not (jnp.issubdtype(value.dtype, jnp.number) or value.dtype == jnp.bool_):
                raise TypeError(f'metric {name!r} returned an array of {value.dtype}; a metric must return numbers.')
            self.meta[name] = (unit, tuple(value.shape))
            out[name] = value
        return out

    def __call__(self, values, indices):
        put = lambda a: jax.make_array_from_callback(a.shape, self.sharding, lambda idx: a[idx])  # noqa: E731
        return self.fn(tuple(put(v) for v in values), put(indices))


def _batch_axes(res, batch):
    """vmap axes of a batched run's outputs: axis 1 (time, batch, ...) of every monitor; ``ts`` shared."""
    axes = {}
    for name, value in res.items():
        if name == 'ts':
            axes[name] = None
            continue
        for leaf in jax.tree.leaves(value, is_leaf=lambda x: isinstance(x, u.Quantity)):
            shape = tuple(u.math.shape(leaf))
            if len(shape) < 2 or shape[1] != batch:
                raise ValueError(f"vectorize='batch': monitor {name!r} has shape {shape}, without the batch axis "
                                 f"(time, {batch}, ...) of the run's {batch} points; monitor states or use "
                                 f"vectorize='vmap'.")
        axes[name] = 1
    return axes


# =============================================================================
# sweep.run
# =============================================================================
def run(model, space, *, duration, metrics, dt=None, monitors=None, transient=None, sample_every=None,
        inputs=None, chunk_size=None, devices=None, vectorize='auto', progress=False, seed=0) -> SweepResult:
    """Run a model at every point of a :class:`Space` and keep only the metrics.

    Parameters
    ----------
    model : brainstate.nn.Module or callable
        The model (a ``*Step`` node or a :class:`~brainmass.Network`), or a factory
        ``model(**structural) -> Module``: axes named after the factory's arguments are
        *structural* (the factory builds one model per combination, e.g. a Network per
        conduction ``speed``, whose delay buffers depend on it); the other axes are
        parameter paths of the built model. The model is left as it was.
    space : Space or dict
        The axes. A parameter axis sets that parameter (every region, every point of the
        grid) to one value per point; plain numbers are read in the parameter's unit.
    duration : Quantity
        Simulated time of every point.
    metrics : dict
        ``{name: fn}``; ``fn(res)`` gets one point's ``Simulator.run`` result (``res[monitor]``
        of shape (time, ...), with units, and ``res['ts']``) and returns a number, an array of
        a fixed shape or a Quantity. Only the metrics leave the devices; to keep a time
        series, return it from a metric.
    dt : Quantity, optional
        The time step (default: the global ``brainstate.environ`` dt).
    monitors, transient, sample_every, inputs
        As in :meth:`Simulator.run` (the same for every point).
    chunk_size : int, optional
        Points per program call, over all devices (rounded up to a multiple of the device
        count); memory grows with it, not with the size of the space. Default: 64 points per
        device, at most the points of a group. The last chunk is padded (the padding's results
        are dropped), so every chunk of a group runs one compiled program.
    devices : None, int or list of jax.Device
        ``None``: every device (``jax.devices()``, all hosts after
        ``jax.distributed.initialize``); an int: the first that many; or a list.
    vectorize : {'auto', 'batch', 'vmap'}
        ``'batch'``: the model's own batch axis (fastest; for a Network's ``k`` and node
        parameters; noise then depends on how points are chunked); ``'vmap'``: ``jax.vmap``
        of one-point runs (any parameter; each point's random key is folded from ``seed``
        and its index, so results do not depend on ``chunk_size`` or ``devices``);
        ``'auto'``: 'batch' when it applies and the run draws no random numbers, else 'vmap'.
    progress : bool, default False
        Print a progress bar (one update per chunk) to stderr.
    seed : int, default 0
        Seed of the random keys (noise, random initial states).

    Returns
    -------
    SweepResult
        ``result[metric]`` has shape ``space.shape`` (+ the metric's own shape);
        ``result.to_xarray()``, ``result.to_dict()``, ``result.best(metric)``.

    Examples
    --------
    >>> import brainmass, brainstate, brainunit as u, jax.numpy as jnp, numpy as np
    >>> from brainmass import sweep
    >>> brainstate.environ.set(dt=0.1 * u.ms)
    >>> net = brainmass.Network(brainmass.HopfStep(3, a=-0.05, w=0.3, init_x=0.1), conn=np.ones((3, 3)),
    ...                         coupled_var='x')
    >>> space = sweep.Space({'k': sweep.grid(0.0, 0.2, 3), 'node.a': [-0.1, 0.1]})
    >>> res = sweep.run(net, space, duration=20 * u.ms, monitors=['node.x'],
    ...                 metrics={'var': lambda r: jnp.var(r['node.x'])})
    >>> res['var'].shape
    (3, 2)
    """
    start = time.perf_counter()
    space = check_space(space)
    metrics = check_metrics(metrics, space)
    if chunk_size is not None:
        chunk_size = check_int_at_least(chunk_size, 1, 'chunk_size')
    devices = check_devices(devices)
    check_choice(vectorize, ('auto', 'batch', 'vmap'), 'vectorize')
    check_bool(progress, 'progress')
    seed = check_int_at_least(seed, 0, 'seed')
    factory, structural = split_axes(model, space)
    params = [n for n in space.names if n not in structural]
    sim_kwargs = dict(duration=duration, monitors=monitors, transient=transient, sample_every=sample_every,
                      inputs=inputs)
    n_dev = len(devices)
    mesh = Mesh(np.asarray(devices, dtype=object), ('points',))

    shape = space.shape
    s_pos = [space.names.index(n) for n in structural]
    p_pos = [space.names.index(n) for n in params]
    p_shape = tuple(shape[i] for i in p_pos)
    n_param_points = int(np.prod(p_shape))
    groups = list(np.ndindex(*(shape[i] for i in s_pos)))
    per_device = _per_device(chunk_size, n_param_points, n_dev)
    chunk = per_device * n_dev
    n_chunks = len(groups) * math.ceil(n_param_points / chunk)

    data, units, modes = {}, {}, []
    counter = {'traces': 0, 'compiles': 0}
    compile_seconds = 0.0
    bar = ProgressBar(n_chunks, space.size) if progress else None
    done = 0
    first_model = None if factory is None else _build(factory, structural, space, groups[0], dt)
    for g, s_index in enumerate(groups):
        if factory is None:
            group_model = model
        else:
            group_model = first_model if g == 0 else _build(factory, structural, space, s_index, dt)
        with _Restored(group_model, *_monitor_observers(monitors)) as restored:
            refs = param_refs(group_model)
            swept = [resolve_param(name, space[name], refs, group_model) for name in params]
            mode = _choose_mode(vectorize, swept, monitors, group_model)
            dtype = brainstate.environ.dftype()
            for p in swept:
                restored.undo += p.install(dtype)
            t0 = time.perf_counter()
            program = _GroupProgram(group_model, swept, mode, per_device, mesh, sim_kwargs, metrics, seed, dt,
                                    counter)
            if vectorize == 'auto' and mode == 'batch' and program.random:
                mode = 'vmap'  # noise the static check missed (e.g. random initial states)
                program = _GroupProgram(group_model, swept, mode, per_device, mesh, sim_kwargs, metrics, seed, dt,
                                        counter)
            compile_seconds += time.perf_counter() - t0
            modes.append(mode)
            if not data:
                for name, (unit, extra) in program.meta.items():
                    units[name] = unit
                    data[name] = None
            # every point of the group: its grid index and flat index (which seeds its random key)
            q_index = np.stack(np.unravel_index(np.arange(n_param_points), p_shape), axis=-1) if p_shape else \
                np.zeros((1, 0), dtype=int)
            full = np.zeros((n_param_points, len(shape)), dtype=np.int64)
            full[:, s_pos] = s_index
            full[:, p_pos] = q_index
            flat = np.ravel_multi_index(tuple(full.T), shape) if shape else np.zeros(1, dtype=np.int64)
            pending = None
            for c0 in range(0, n_param_points, chunk):
                idx = np.arange(c0, c0 + chunk)
                idx = np.where(idx < n_param_points, idx, c0)  # pad with the chunk's first point
                values = tuple(np.asarray(p.magnitudes[q_index[idx, k]], dtype=dtype) for k, p in enumerate(swept))
                out = program(values, np.asarray(flat[idx], dtype=np.uint32))  # dispatched; runs asynchronously
                if pending is not None:
                    done = _store(data, program.meta, pending, shape, full, bar, done)
                pending = (out, c0, min(chunk, n_param_points - c0))
            if pending is not None:
                done = _store(data, program.meta, pending, shape, full, bar, done)
    if bar is not None:
        bar.close()
    info = dict(vectorize=modes[0] if len(set(modes)) == 1 else tuple(modes), devices=n_dev, chunk_size=chunk,
                n_chunks=n_chunks, n_programs=counter['traces'],
                n_compiles=counter['compiles'], compile_seconds=compile_seconds,
                seconds=time.perf_counter() - start)
    return SweepResult(space, data, units, info)


def _store(data, meta, pending, shape, full, bar, done):
    """Fetch a finished chunk and put its valid points into the result arrays."""
    out, c0, n = pending
    for name, value in out.items():
        arr = _fetch(value)[:n]
        if data[name] is None:  # NaN until filled (integer and bool metrics are stored as floats)
            dtype = arr.dtype if np.issubdtype(arr.dtype, np.inexact) else np.float64
            data[name] = np.full(shape + meta[name][1], np.nan, dtype=dtype)
        data[name][tuple(full[c0:c0 + n].T)] = arr
    done += n
    if bar is not None:
        bar.update(done)
    return done


def _fetch(x) -> np.ndarray:
    """A (possibly multi-host) sharded array as one numpy array on this host."""
    if jax.process_count() > 1:  # pragma: no cover - multi-host only
        from jax.experimental import multihost_utils
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    return np.asarray(x)


# =============================================================================
# helpers
# =============================================================================
def _per_device(chunk_size, n_points, n_dev) -> int:
    """Points per device of one chunk: ``chunk_size`` rounded up to a multiple of the devices, at most
    what the group needs."""
    wanted = DEFAULT_POINTS_PER_DEVICE * n_dev if chunk_size is None else chunk_size
    return max(1, min(math.ceil(wanted / n_dev), math.ceil(n_points / n_dev)))


def _build(factory, structural, space, s_index, dt):
    kwargs = {name: space[name].value(int(i)) for name, i in zip(structural, s_index)}
    ctx = brainstate.environ.context(dt=dt) if dt is not None else _nullcontext()
    with ctx:
        built = factory(**kwargs)
    if not isinstance(built, brainstate.nn.Module):
        raise TypeError(f'`model` factory returned {type(built).__name__} for {kwargs}; it must return a brainstate '
                        f'module (a *Step model or a Network).')
    return built


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _monitors_batchable(monitors) -> bool:
    if monitors is None or isinstance(monitors, str):
        return True
    if isinstance(monitors, (list, tuple)):
        return all(isinstance(m, str) for m in monitors)
    if isinstance(monitors, dict):
        return all(isinstance(m, (str, Observer)) for m in monitors.values())
    return False


def _monitor_observers(monitors) -> list:
    return [m for m in monitors.values() if isinstance(m, Observer)] if isinstance(monitors, dict) else []


def _has_noise(model) -> bool:
    from ...noise import Noise
    return any(isinstance(m, Noise) for m in model.nodes().values())


def _choose_mode(vectorize, swept, monitors, model) -> str:
    unbatchable = [p.path for p in swept if p.batch_trailing is None]
    if vectorize == 'batch':
        if unbatchable:
            raise ValueError(f"vectorize='batch' runs the model's own batch axis, which takes a Network's 'k' and "
                             f"node parameters only; {unbatchable[0]!r} is neither: use vectorize='vmap' "
                             f"(or 'auto').")
        return 'batch'
    if vectorize == 'vmap':
        return 'vmap'
    return 'batch' if not unbatchable and _monitors_batchable(monitors) and not _has_noise(model) else 'vmap'
