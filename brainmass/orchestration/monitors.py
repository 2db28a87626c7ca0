"""In-loop monitors: observers stepped with the simulation, read at each sample.

A plain monitor (a state name or a callable) is read only at the sampling
instants. An :class:`Observer` is stepped on *every* simulation step and read
at the samples, so a 10-minute resting-state run can record BOLD at the TR
without storing the full-rate neural trace::

    bold = brainmass.BOLDMonitor(lambda m: m.node.S_e.value, in_size=N)
    res = sim.run(600 * u.second, monitors={'bold': bold}, sample_every=2 * u.second)

* :class:`BOLDMonitor` drives a :class:`~brainmass.BOLDSignal` with a model
  quantity every step and records its BOLD read-out;
* :class:`AverageMonitor` records the mean of a quantity over each sampling
  window (the in-loop form of :class:`~brainmass.TemporalAverage`).
"""
from __future__ import annotations

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp

from ..observation.bold import BOLDSignal

__all__ = ['Observer', 'BOLDMonitor', 'AverageMonitor']

_UNSET = object()


def _reader(source):
    if callable(source):
        return source
    if isinstance(source, str):
        def read(model, path=source):
            obj = model
            for part in path.split('.'):
                obj = getattr(obj, part)
            return obj.value
        return read
    raise TypeError(f'`source` must be a state path (e.g. "node.rE") or a callable of the model; got {source!r}.')


class Observer(brainstate.nn.Module):
    """Base class: ``step(model)`` every simulation step, ``read()`` at each sample."""

    def __init__(self, source):
        super().__init__()
        self.source = _reader(source)

    def init_for(self, model, batch_size=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self, model):  # pragma: no cover - abstract
        raise NotImplementedError

    def read(self):  # pragma: no cover - abstract
        raise NotImplementedError


def _shape_of(fn, model):
    return jax.eval_shape(lambda: u.get_magnitude(fn(model)))


class BOLDMonitor(Observer):
    """Balloon-Windkessel BOLD of ``source`` (a state path or callable), stepped every dt.

    Parameters
    ----------
    source : str or callable
        The neural drive z, e.g. ``'node.S_e'`` or ``lambda m: m.node.rE.value``
        (units are stripped: z is dimensionless).
    in_size : int, optional
        Number of regions (default: the size of the source at run time).
    **bold_params
        Forwarded to :class:`~brainmass.BOLDSignal` (gamma, k, alpha, tau, rho, V0, ...).
    bold : BOLDSignal, optional
        Use this BOLD model instead of building one.

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.WilsonCowanStep(2)
    >>> mon = brainmass.BOLDMonitor('rE')
    >>> res = brainmass.Simulator(node, dt=1. * u.ms).run(2000 * u.ms, inputs=1.0,
    ...                                                 monitors={'bold': mon}, sample_every=500)
    >>> res['bold'].shape
    (4, 2)
    """

    def __init__(self, source, in_size=None, *, bold=None, **bold_params):
        super().__init__(source)
        self._in_size = in_size
        self._params = bold_params
        self.bold = bold

    def init_for(self, model, batch_size=None):
        shape = _shape_of(self.source, model).shape
        region_shape = shape[1:] if batch_size is not None else shape
        if self.bold is None:
            self.bold = BOLDSignal(self._in_size or region_shape, **self._params)
        if getattr(self, '_batch', _UNSET) == batch_size:
            brainstate.nn.reset_all_states(self.bold, batch_size=batch_size)  # keep compiled programs valid
        else:
            brainstate.nn.init_all_states(self.bold, batch_size=batch_size)
            self._batch = batch_size

    def step(self, model):
        self.bold.update(u.get_magnitude(self.source(model)))

    def read(self):
        return self.bold.bold()


class AverageMonitor(Observer):
    """Mean of ``source`` over each sampling window (trailing partial window dropped).

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.HopfStep(1, init_x=0.3)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(
    ...     10 * u.ms, monitors={'x_avg': brainmass.AverageMonitor('x')}, sample_every=10)
    >>> res['x_avg'].shape
    (10, 1)
    """

    def init_for(self, model, batch_size=None):
        value = self.source(model)
        self._unit = u.get_unit(value) if isinstance(value, u.Quantity) else None
        zeros = jnp.zeros(_shape_of(self.source, model).shape, dtype=brainstate.environ.dftype())
        if hasattr(self, 'total') and self.total.value.shape == zeros.shape:
            self.total.value, self.count.value = zeros, jnp.asarray(0.)
        else:
            self.total = brainstate.ShortTermState(zeros)
            self.count = brainstate.ShortTermState(jnp.asarray(0.))

    def step(self, model):
        self.total.value = self.total.value + u.get_magnitude(self.source(model))
        self.count.value = self.count.value + 1.

    def read(self):
        mean = self.total.value / self.count.value
        self.total.value = jnp.zeros_like(self.total.value)
        self.count.value = jnp.asarray(0.)
        return mean if self._unit is None else u.maybe_decimal(mean * self._unit)
