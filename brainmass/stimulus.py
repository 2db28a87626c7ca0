r"""Stimulation: input signals as small callables of ``(i, t)``.

A stimulus is passed as ``Simulator.run(inputs=stim)``: the Simulator calls it at every
step ``i`` (time ``t = i * dt``) inside the compiled loop.

* On a single node (a ``*Step`` model) it drives the node's first input, as any input does,
  or the variable named by ``target`` (``stim.to('rI')``).
* On a :class:`~brainmass.Network` it is added, by default, to the **coupled** variable's
  input, where the coupling current enters (TVB's rule); ``stim.to('rI')`` (or
  ``target='rI'``) drives the named variable instead.

Kinds: :class:`Step`, :class:`PulseTrain`, :class:`Sinusoid`, :class:`Ramp`,
:class:`NoiseStimulus`, :class:`DataStimulus`. ``a + b`` sums two stimuli;
:class:`Sequence` (or ``a.then(b, at=...)``) switches between them in time. Every kind takes
per-region ``weights`` (shape ``(N,)``, default 1), multiplying its value.

Conventions: plain-number times are milliseconds; plain-number frequencies are **Hz**;
amplitudes are read in the unit of the variable they drive (or carry a brainunit unit).
Amplitudes may be arrays, JAX tracers or ``brainstate.nn.Param``\ s, so ``jax.grad``
with respect to them works through ``Simulator.run``. A step ``i`` is "at or after" a time
``s`` when ``i * dt >= s - dt / 2``. Under a dt (a Simulator's run, or
``brainstate.environ.context(dt=...)``) the kinds here compute their edges, phases and sample
indices from the step number ``i`` (an exact integer) rather than from the float time ``t``,
whose float32 spacing exceeds half a step after about 15 minutes at dt = 0.1 ms: an edge never
moves and a phase never drifts however long the run. Without a dt they read ``t``.
"""
from __future__ import annotations

import math

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from ._core.units import time_to_ms, same_dim, unit_name
from ._core.validation import check_int_at_least
from .noise import standard_normal

__all__ = ['Stimulus', 'Routed', 'Step', 'PulseTrain', 'Sinusoid', 'Ramp', 'NoiseStimulus', 'DataStimulus',
           'Sum', 'Sequence']


class Routed:
    """One step's stimulus value and the variable it drives (``target``; None: the default input).

    A :class:`~brainmass.Network` routes it; a ``*Step`` node reads it as an input that is a
    function of the stage state (it returns :attr:`value` whatever the state).
    """

    def __init__(self, value, target=None):
        self.value, self.target = value, target

    @property
    def shape(self):
        """The value's shape (what the Simulator checks against the model's regions)."""
        return tuple(u.math.shape(self.value))

    def __call__(self, state=None):
        if self.target is not None:
            raise ValueError(f'A stimulus with target={self.target!r} is routed by a Network; a single node takes '
                             f'its inputs by position (inputs=lambda i, t: (None, stim.value_at(i, t)) drives '
                             f'its second input).')
        return self.value

    def __repr__(self):
        return f'Routed(shape={self.shape}, target={self.target!r})'


# ----------------------------------------------------------------- checks
def _time(value, name, *, allow_none=False, positive=False):
    """A time as plain ms (a Python float); TypeError for a non-time, ValueError for a negative one."""
    if value is None and allow_none:
        return None
    if isinstance(value, u.Quantity):
        ms = time_to_ms(value, name)
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        ms = value
    else:
        raise TypeError(f'`{name}` must be a time (a number of ms or a quantity such as 5 * u.ms); '
                        f'got {type(value).__name__}.')
    ms = float(np.asarray(ms))
    if not np.isfinite(ms) or ms < 0 or (positive and ms == 0):
        raise ValueError(f'`{name}` must be a finite time {"> 0" if positive else ">= 0"}; got {value}.')
    return ms


def _frequency_hz(value, name):
    if isinstance(value, u.Quantity):
        if not u.get_unit(value).has_same_dim(u.Hz):
            raise TypeError(f'`{name}` must be a frequency (e.g. 10 * u.Hz); got a quantity in {unit_name(value)}.')
        value = u.get_magnitude(value.to(u.Hz))
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
        raise TypeError(f'`{name}` must be a frequency (a number of Hz or a quantity); got {type(value).__name__}.')
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f'`{name}` must be a finite frequency > 0; got {value}.')
    return float(value)


def _amplitude(value, name):
    """Check an amplitude (number, array, Quantity, tracer or Param) and return it unchanged."""
    if isinstance(value, brainstate.nn.Param):
        return value
    if isinstance(value, (str, bool)) or value is None:
        raise TypeError(f'`{name}` must be a number, an array, a quantity or a brainstate.nn.Param; '
                        f'got {type(value).__name__}.')
    try:
        u.math.asarray(value)
    except Exception:
        raise TypeError(f'`{name}` must be a number, an array, a quantity or a brainstate.nn.Param; '
                        f'got {type(value).__name__}.') from None
    return value


def _read(value):
    return value.value() if isinstance(value, brainstate.nn.Param) else value


def _unit_of(value):
    value = _read(value)
    return u.get_unit(value) if isinstance(value, u.Quantity) else u.UNITLESS


def _weights(weights):
    if weights is None:
        return None
    arr = np.asarray(u.get_magnitude(weights)) if not hasattr(weights, 'aval') else weights
    numeric = np.issubdtype(arr.dtype, np.number) and not np.issubdtype(arr.dtype, np.bool_)
    if isinstance(weights, u.Quantity) or arr.ndim != 1 or not numeric:
        got = 'a quantity' if isinstance(weights, u.Quantity) else f'dtype {arr.dtype}, shape {tuple(arr.shape)}'
        raise ValueError(f'`weights` must be a plain (unitless) numeric 1-D array, one weight per region '
                         f'(shape (N,)); got {got}.')
    return jnp.asarray(arr)


def _target(target):
    if target is not None and not (isinstance(target, str) and target):
        raise TypeError(f'`target` must be the name of a state variable (a str) or None; got {target!r}.')
    return target


def _dt_ms():
    dt = brainstate.environ.get('dt', None)
    return None if dt is None else float(time_to_ms(dt, 'dt'))


def _t_ms(t):
    return u.get_magnitude(t.to(u.ms)) if isinstance(t, u.Quantity) else t


_INT32_MAX = 2 ** 31 - 1


class _Clock:
    """The time of step ``i``: ``(i + frac) * dt`` under a dt (``frac``: a static offset in steps, set by an
    enclosing :class:`Sequence`), else the float ``t_ms``.

    Under a dt every question is answered from the integer ``i`` and host-side float64
    constants, so the answers do not degrade as ``i * dt`` outgrows float32's resolution.
    """

    def __init__(self, i, t_ms, frac=0.):
        self.i, self.t_ms, self.frac, self.dt = i, t_ms, frac, _dt_ms()

    def shifted(self, start_ms):
        """The clock of a part that starts at ``start_ms`` (its time is this time minus the start)."""
        if self.dt is None:
            return _Clock(self.i, self.t_ms - start_ms)
        steps = start_ms / self.dt
        whole = int(round(steps))
        return _Clock(self.i - whole, self.t_ms - start_ms, self.frac + whole - steps)

    def since(self, s_ms):
        """Whether the step is at or after time ``s_ms`` (``t >= s - dt / 2``)."""
        if self.dt is None:
            return jnp.asarray(self.t_ms) >= s_ms
        first = math.ceil(s_ms / self.dt - 0.5 - self.frac - 1e-6)  # ties (a time on a half step) count as on
        return jnp.asarray(self.i) >= max(min(first, _INT32_MAX), -_INT32_MAX)

    def _split(self, s_steps):
        """``(d, c)``: ``(i + frac) - s_steps = d + c`` with ``d`` an integer array and ``|c| <= 1/2`` a float."""
        whole = int(round(s_steps - self.frac))
        return jnp.asarray(self.i) - whole, whole - (s_steps - self.frac)

    def elapsed_ms(self, s_ms):
        """The time since ``s_ms`` (negative before it)."""
        if self.dt is None:
            return jnp.asarray(self.t_ms) - s_ms
        d, c = self._split(s_ms / self.dt)
        return (jnp.asarray(d, dtype=brainstate.environ.dftype()) + c) * self.dt

    def cycle(self, s_ms, period_ms, shift_steps=0.):
        """``(k, r)``: the time since ``s_ms`` (plus ``shift_steps`` steps) as ``k`` whole periods (int) and
        the rest ``r`` in ms, ``0 <= r < period_ms``."""
        if self.dt is None:
            x = jnp.asarray(self.t_ms) - s_ms
            k = jnp.floor(x / period_ms)
            return k.astype(jnp.int32), x - k * period_ms
        dtype = brainstate.environ.dftype()
        d, c = self._split(s_ms / self.dt - shift_steps)
        period = period_ms / self.dt
        whole, rest = math.floor(period), period - math.floor(period)
        k = jnp.floor((jnp.asarray(d, dtype=dtype) + c) / period).astype(jnp.int32)  # a first estimate
        r = jnp.asarray(d - k * whole, dtype=dtype) + c - jnp.asarray(k, dtype=dtype) * rest  # exact in k
        for _ in range(2):  # the estimate is off by at most one period (twice near float32's limit)
            low, high = r < 0, r >= period
            k = k - low.astype(jnp.int32) + high.astype(jnp.int32)
            r = jnp.where(low, r + period, jnp.where(high, r - period, r))
        return k, r * self.dt


# ----------------------------------------------------------------- base
class Stimulus:
    """Base class: ``stim(i, t)`` -> :class:`Routed` value of step ``i`` at time ``t``.

    Subclasses define :meth:`signal` (the unweighted value at time ``t`` in ms, a scalar or
    an array in the amplitude's unit). ``weights`` (shape ``(N,)``) scale it per region;
    ``target`` names the state variable it drives (None: a Network's coupled variable, a
    node's first input).
    """

    def __init__(self, weights=None, target=None):
        object.__setattr__(self, 'weights', _weights(weights))
        object.__setattr__(self, 'target', _target(target))

    def __setattr__(self, name, value):
        # a Simulator caches its compiled program per `inputs` object: a stimulus is built once
        if not name.startswith('_') and getattr(self, '_frozen', False):
            raise AttributeError(f'{type(self).__name__} is immutable (a Simulator reuses the program it '
                                 f'compiled for it); build a new one to change `{name}`.')
        object.__setattr__(self, name, value)

    def _freeze(self):
        object.__setattr__(self, '_frozen', True)

    def signal(self, i, t_ms):
        """The unweighted value of step ``i`` at ``t_ms`` milliseconds (what a subclass defines)."""
        raise NotImplementedError

    def _signal(self, clock):
        return self.signal(clock.i, clock.t_ms)

    def _value(self, clock):
        value = self._signal(clock)
        return value if self.weights is None else value * self.weights

    @property
    def unit(self):
        """The unit of the value (``u.UNITLESS`` for plain numbers)."""
        return u.UNITLESS

    @property
    def n_regions(self):
        """The number of regions the weights fix (None: broadcasts to any)."""
        return None if self.weights is None else int(self.weights.shape[0])

    def value_at(self, i, t):
        """The plain (weighted) value of step ``i`` at time ``t`` (no routing record)."""
        return self._value(_Clock(i, _t_ms(t)))

    def __call__(self, i, t):
        return Routed(self.value_at(i, t), self.target)

    def to(self, target):
        """A copy of this stimulus that drives the state variable ``target``."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__['target'] = _target(target)
        return new

    def __add__(self, other):
        return Sum([self, other])

    def then(self, other, at):
        """This stimulus until ``at``, then ``other`` (whose time still runs from 0)."""
        return Sequence([(self, at), (other, None)])

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get('__init__')
        if init is not None:
            def frozen_init(self, *args, __init=init, __cls=cls, **kw):
                __init(self, *args, **kw)
                if type(self) is __cls:
                    self._freeze()
            frozen_init.__doc__, frozen_init.__wrapped__ = init.__doc__, init
            cls.__init__ = frozen_init


def _check_combinable(parts, name):
    parts = list(parts)
    if not parts or not all(isinstance(p, Stimulus) for p in parts):
        raise TypeError(f'`{name}` combines Stimulus objects; got {[type(p).__name__ for p in parts]}.')
    units = {p.unit for p in parts}
    first = parts[0].unit
    if not all(same_dim(un, first) for un in units):
        raise ValueError(f'`{name}` combines stimuli of different units: {sorted(str(x) for x in units)}.')
    sizes = {p.n_regions for p in parts} - {None}
    if len(sizes) > 1:
        raise ValueError(f'`{name}` combines stimuli with weights for different region counts: {sorted(sizes)}.')
    targets = {p.target for p in parts}
    if len(targets) > 1:
        raise ValueError(f'`{name}` combines stimuli with different targets {sorted(map(str, targets))}: '
                         f'pass them as separate inputs.')
    return parts


class _Composite(Stimulus):
    """Stimuli made of ``parts`` of one unit and region count (checked when combined)."""

    @property
    def unit(self):
        return self.parts[0].unit

    @property
    def n_regions(self):
        return next((p.n_regions for p in self.parts if p.n_regions is not None), None)


class Sum(_Composite):
    """The sum of stimuli (``a + b``)."""

    def __init__(self, parts):
        flat = []
        for p in _check_combinable(parts, 'Sum'):
            flat.extend(p.parts if isinstance(p, Sum) else [p])
        super().__init__(None, flat[0].target)
        self.parts = flat

    def _value(self, clock):
        total = self.parts[0]._value(clock)
        for p in self.parts[1:]:
            total = total + p._value(clock)
        return total


class Sequence(_Composite):
    """Stimuli one after another: ``Sequence([(a, 10 * u.ms), (b, None)])``.

    Each pair is a stimulus and how long it lasts (the last may be None: to the end of the
    run). Each part runs on its own clock: a part that starts at ``s`` is evaluated at
    ``t - s`` (step ``i - s / dt``), so its onset is relative to its start. Outside every
    part the value is 0.
    """

    def __init__(self, items):
        items = list(items)
        if not items or not all(isinstance(x, tuple) and len(x) == 2 for x in items):
            raise TypeError('`items` must be a non-empty list of (stimulus, duration) pairs.')
        parts = _check_combinable([s for s, _ in items], 'Sequence')
        bounds, start = [], 0.
        for k, (_, duration) in enumerate(items):
            last = k == len(items) - 1
            ms = _time(duration, f'items[{k}] duration', allow_none=last, positive=True)
            bounds.append((start, None if ms is None else start + ms))
            start = None if ms is None else start + ms
        super().__init__(None, parts[0].target)
        self.parts, self.bounds = parts, bounds

    def _value(self, clock):
        total = None
        for part, (start, stop) in zip(self.parts, self.bounds):
            on = clock.since(start)
            if stop is not None:
                on = on & ~clock.since(stop)
            value = part._value(clock.shifted(start))
            value = u.math.where(on, value, 0. * value)
            total = value if total is None else total + value
        return total


class _Clocked(Stimulus):
    """A built-in kind: it reads a :class:`_Clock` (``_signal``); ``signal(i, t_ms)`` builds one."""

    def signal(self, i, t_ms):
        return self._signal(_Clock(i, t_ms))


class _Amplitude(_Clocked):
    """A stimulus with an ``amplitude`` (read at call time, so a Param or tracer is differentiable)."""

    def __init__(self, amplitude, weights, target):
        super().__init__(weights, target)
        self.amplitude = _amplitude(amplitude, 'amplitude')

    @property
    def unit(self):
        return _unit_of(self.amplitude)

    def _scaled(self, shape):
        return _read(self.amplitude) * shape


class Step(_Amplitude):
    """``amplitude`` from ``onset`` for ``duration`` (None: to the end of the run), 0 otherwise."""

    def __init__(self, onset=0., amplitude=1., duration=None, *, weights=None, target=None):
        super().__init__(amplitude, weights, target)
        self.onset = _time(onset, 'onset')
        self.duration = _time(duration, 'duration', allow_none=True, positive=True)

    def _signal(self, clock):
        on = clock.since(self.onset)
        if self.duration is not None:
            on = on & ~clock.since(self.onset + self.duration)
        return self._scaled(jnp.where(on, 1., 0.))


class PulseTrain(_Amplitude):
    """Rectangular pulses of ``width`` every ``period`` (or at ``frequency``) from ``onset``; ``n`` pulses
    (None: unlimited)."""

    def __init__(self, onset=0., amplitude=1., width=1., *, period=None, frequency=None, n=None,
                 weights=None, target=None):
        super().__init__(amplitude, weights, target)
        self.onset = _time(onset, 'onset')
        self.width = _time(width, 'width', positive=True)
        if (period is None) == (frequency is None):
            raise TypeError('PulseTrain takes exactly one of `period` and `frequency`.')
        self.period = (_time(period, 'period', positive=True) if period is not None
                       else 1e3 / _frequency_hz(frequency, 'frequency'))
        if self.width > self.period:
            raise ValueError(f'`width` ({self.width:g} ms) must not exceed the period ({self.period:g} ms).')
        self.n = None if n is None else check_int_at_least(n, 1, 'n')

    def _signal(self, clock):
        k, rest = clock.cycle(self.onset, self.period, shift_steps=0.5)  # pulse k, the time into it
        on = clock.since(self.onset) & (rest < self.width)
        if self.n is not None:
            on = on & (k < self.n)
        return self._scaled(jnp.where(on, 1., 0.))


class Sinusoid(_Amplitude):
    """``amplitude * sin(2 pi frequency (t - onset) + phase)`` from ``onset`` (0 before); plain
    frequencies are Hz, ``phase`` in radians."""

    def __init__(self, amplitude=1., frequency=10., phase=0., onset=0., *, weights=None, target=None):
        super().__init__(amplitude, weights, target)
        self.frequency = _frequency_hz(frequency, 'frequency')
        self.phase = _amplitude(phase, 'phase')
        self.onset = _time(onset, 'onset')

    def _signal(self, clock):
        period = 1e3 / self.frequency
        _, rest = clock.cycle(self.onset, period)  # the time into the present cycle
        wave = jnp.sin(2 * jnp.pi * rest / period + _read(self.phase))
        return self._scaled(jnp.where(clock.since(self.onset), wave, 0.))


class Ramp(_Clocked):
    """0 before ``onset``, then linear from ``start`` to ``stop`` over ``duration``; ``stop`` after."""

    def __init__(self, onset=0., duration=1., start=0., stop=1., *, weights=None, target=None):
        super().__init__(weights, target)
        self.onset = _time(onset, 'onset')
        self.duration = _time(duration, 'duration', positive=True)
        self.start, self.stop = _amplitude(start, 'start'), _amplitude(stop, 'stop')
        if not same_dim(_unit_of(start), _unit_of(stop)):
            raise ValueError(f'`start` ({unit_name(_read(start))}) and `stop` ({unit_name(_read(stop))}) '
                             f'must have the same unit.')

    @property
    def unit(self):
        return _unit_of(self.start)

    def _signal(self, clock):
        frac = jnp.clip(clock.elapsed_ms(self.onset) / self.duration, 0., 1.)
        start, stop = _read(self.start), _read(self.stop)
        value = start + (stop - start) * frac
        return u.math.where(clock.since(self.onset), value, 0. * value)


class NoiseStimulus(Stimulus):
    """Gaussian noise ``mean + sigma * xi`` from ``brainstate.random`` (seeded), one draw per step.

    ``tau`` None: white (independent draws each step). ``tau`` a time: an Ornstein-Uhlenbeck
    process of stationary standard deviation ``sigma`` and correlation time ``tau``, starting
    at ``mean`` and advanced with the exact update (``x <- x e^{-dt/tau} + sqrt(1 - e^{-2 dt/tau}) xi``,
    right for any ``dt / tau``). ``in_size``: the regions (shape of one draw); ``batch_size``: the run's
    ``batch_size`` (each batch member draws its own values).
    """

    def __init__(self, in_size, sigma=1., tau=None, mean=0., *, batch_size=None, weights=None, target=None):
        super().__init__(weights, target)
        self.varshape = (check_int_at_least(in_size, 1, 'in_size'),) if not isinstance(in_size, tuple) \
            else tuple(check_int_at_least(n, 1, 'in_size') for n in in_size)
        self.batch_size = None if batch_size is None else check_int_at_least(batch_size, 1, 'batch_size')
        self.sigma, self.mean = _amplitude(sigma, 'sigma'), _amplitude(mean, 'mean')
        self.tau = _time(tau, 'tau', allow_none=True, positive=True)
        shape = self.varshape if self.batch_size is None else (self.batch_size,) + self.varshape
        self._x = None if self.tau is None else brainstate.ShortTermState(jnp.zeros(shape))

    @property
    def unit(self):
        return _unit_of(self.sigma)

    def signal(self, i, t_ms):
        xi = standard_normal(self.varshape, self.batch_size)
        sigma, mean = _read(self.sigma), _read(self.mean)
        if self.tau is None:
            return mean + sigma * xi
        decay = float(np.exp(-(_dt_ms() or 0.) / self.tau))  # no dt (eager, outside a run): no step
        x = self._x.value * decay + float(np.sqrt(1 - decay ** 2)) * xi  # unit-variance OU, the exact update
        x = jnp.where(i == 0, 0., x)
        self._x.value = x
        return mean + sigma * x


class DataStimulus(_Clocked):
    """A recorded input ``data`` (shape ``(T,)`` or ``(T, N)``) sampled every ``dt``.

    ``interpolation='hold'`` keeps sample ``k`` over ``[k dt, (k + 1) dt)``; ``'linear'``
    interpolates between samples. After the last sample the last value is held.
    """

    def __init__(self, data, dt, *, interpolation='hold', weights=None, target=None):
        super().__init__(weights, target)
        if not isinstance(data, u.Quantity):
            data = jnp.asarray(_amplitude(data, 'data'))
        shape = tuple(u.math.shape(data))
        if len(shape) not in (1, 2) or shape[0] < 1:
            raise ValueError(f'`data` must have shape (T,) or (T, N); got {shape}.')
        if interpolation not in ('hold', 'linear'):
            raise ValueError(f"`interpolation` must be 'hold' or 'linear'; got {interpolation!r}.")
        self.data, self.dt = data, _time(dt, 'dt', positive=True)
        self.interpolation = interpolation

    @property
    def unit(self):
        return _unit_of(self.data)

    @property
    def n_regions(self):
        own = super().n_regions
        return own if own is not None or u.math.ndim(self.data) == 1 else int(u.math.shape(self.data)[1])

    def _signal(self, clock):
        n = u.math.shape(self.data)[0]
        if self.interpolation == 'hold':  # sample k from step round(k dt_data / dt) on
            k, _ = clock.cycle(0., self.dt, shift_steps=0.5)
            return self.data[jnp.clip(k, 0, n - 1)]
        k, rest = clock.cycle(0., self.dt)
        last = k >= n - 1
        k = jnp.clip(k, 0, n - 1)
        k1 = jnp.minimum(k + 1, n - 1)
        frac = jnp.where(last, 0., jnp.clip(rest / self.dt, 0., 1.))
        if u.math.ndim(self.data) == 2:
            frac = frac[..., None] if jnp.ndim(frac) else frac
        return self.data[k] + (self.data[k1] - self.data[k]) * frac
