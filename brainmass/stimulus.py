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
``s`` when ``i * dt >= s - dt / 2`` (times are rounded to whole steps, so float32
round-off never moves an edge).
"""
from __future__ import annotations

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


def _half_dt_ms():
    dt = brainstate.environ.get('dt', None)
    return 0. if dt is None else 0.5 * float(time_to_ms(dt, 'dt'))


def _t_ms(i, t):
    return u.get_magnitude(t.to(u.ms)) if isinstance(t, u.Quantity) else t


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
        raise NotImplementedError

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
        value = self.signal(i, _t_ms(i, t))
        return value if self.weights is None else value * self.weights

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

    def value_at(self, i, t):
        total = self.parts[0].value_at(i, t)
        for p in self.parts[1:]:
            total = total + p.value_at(i, t)
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

    def value_at(self, i, t):
        t_ms, tol = _t_ms(i, t), _half_dt_ms()
        total = None
        for part, (start, stop) in zip(self.parts, self.bounds):
            on = t_ms >= start - tol
            if stop is not None:
                on = on & (t_ms < stop - tol)
            shift = 0 if tol == 0 else int(round(start / (2 * tol)))
            value = part.value_at(i - shift, t_ms - start)
            value = u.math.where(on, value, 0. * value)
            total = value if total is None else total + value
        return total


class _Amplitude(Stimulus):
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

    def signal(self, i, t_ms):
        tol = _half_dt_ms()
        on = t_ms >= self.onset - tol
        if self.duration is not None:
            on = on & (t_ms < self.onset + self.duration - tol)
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

    def signal(self, i, t_ms):
        s = t_ms - self.onset + _half_dt_ms()
        k = jnp.floor(s / self.period)
        on = (s >= 0) & (s - k * self.period < self.width)
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

    def signal(self, i, t_ms):
        s = t_ms - self.onset
        wave = jnp.sin(2 * jnp.pi * self.frequency * 1e-3 * s + _read(self.phase))
        return self._scaled(jnp.where(s >= -_half_dt_ms(), wave, 0.))


class Ramp(Stimulus):
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

    def signal(self, i, t_ms):
        frac = jnp.clip((t_ms - self.onset) / self.duration, 0., 1.)
        start, stop = _read(self.start), _read(self.stop)
        value = start + (stop - start) * frac
        return u.math.where(t_ms >= self.onset - _half_dt_ms(), value, 0. * value)


class NoiseStimulus(Stimulus):
    """Gaussian noise ``mean + sigma * xi`` from ``brainstate.random`` (seeded), one draw per step.

    ``tau`` None: white (independent draws each step). ``tau`` a time: an Ornstein-Uhlenbeck
    process of stationary standard deviation ``sigma`` and correlation time ``tau``, starting
    at ``mean``. ``in_size``: the regions (shape of one draw); ``batch_size``: the run's
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
        a = 2 * _half_dt_ms() / self.tau
        x = self._x.value * (1 - a) + jnp.sqrt(2 * a) * xi  # unit-variance OU (exact to O(dt))
        x = jnp.where(i == 0, 0., x)
        self._x.value = x
        return mean + sigma * x


class DataStimulus(Stimulus):
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

    def signal(self, i, t_ms):
        n = u.math.shape(self.data)[0]
        if self.interpolation == 'hold':  # sample k from step round(k dt_data / dt) on
            k = jnp.floor((t_ms + _half_dt_ms()) / self.dt).astype(jnp.int32)
            return self.data[jnp.clip(k, 0, n - 1)]
        pos = t_ms / self.dt
        k = jnp.clip(jnp.floor(pos).astype(jnp.int32), 0, n - 1)
        k1 = jnp.minimum(k + 1, n - 1)
        frac = jnp.clip(pos - k, 0., 1.)
        if u.math.ndim(self.data) == 2:
            frac = frac[..., None] if jnp.ndim(frac) else frac
        return self.data[k] + (self.data[k1] - self.data[k]) * frac
