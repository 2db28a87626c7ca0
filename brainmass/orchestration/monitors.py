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

import inspect

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.validation import broadcasts_to, check_in_size
from ..observation.bold import BOLDSignal

__all__ = ['Observer', 'BOLDMonitor', 'AverageMonitor']

_UNSET = object()
#: the keyword arguments BOLDMonitor forwards to BOLDSignal
_BOLD_PARAMS = tuple(name for name in inspect.signature(BOLDSignal.__init__).parameters
                     if name not in ('self', 'in_size', 'name'))


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


def state_at(model, path):
    """The ``brainstate.State`` at the dotted ``path`` of ``model`` (None when there is none)."""
    obj = model
    for part in path.split('.'):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj if isinstance(obj, brainstate.State) else None


def state_names(model) -> list:
    """Dotted paths of every ``HiddenState`` of ``model`` (e.g. ``'node.x'``)."""
    return sorted('.'.join(str(p) for p in path) for path in model.states(brainstate.HiddenState).keys())


class Observer(brainstate.nn.Module):
    """Base class: ``step(model)`` every simulation step, ``read()`` at each sample."""

    def __init__(self, source):
        super().__init__()
        self.source = _reader(source)
        self._source_path = source if isinstance(source, str) else None

    def check_source(self, model):
        """Raise a ValueError listing the model's states when a state-path ``source`` names none.

        Called by the Simulator before :meth:`init_for` (in Python, before any trace); the
        model's states must exist.
        """
        path = getattr(self, '_source_path', None)
        if path is None or state_at(model, path) is not None:
            return
        available = state_names(model)
        inner = [s for s in available if s.split('.')[-1] == path]
        hint = f" '{path}' lives on a submodule: pass '{inner[0]}'." if inner else ''
        raise ValueError(f"`source` {path!r} of {type(self).__name__} is not a state of {type(model).__name__}."
                         f"{hint} Available states: {', '.join(available)}.")

    def _source_shape(self, model):
        """Shape of the source's value (read from the state, or by ``jax.eval_shape`` of a callable)."""
        path = getattr(self, '_source_path', None)
        if path is not None:
            return tuple(u.math.shape(state_at(model, path).value))
        return tuple(_shape_of(self.source, model).shape)

    def init_for(self, model, batch_size=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def step(self, model):  # pragma: no cover - abstract
        raise NotImplementedError

    def read(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def begin_recording(self):
        """Called once when the transient ends and the recorded stretch begins (nothing by default: a
        BOLD model keeps integrating across; an average starts its first window)."""


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
        unknown = [name for name in bold_params if name not in _BOLD_PARAMS]
        if unknown:
            raise TypeError(f"BOLDMonitor got unexpected BOLDSignal parameter(s) {', '.join(map(repr, unknown))}; "
                            f"accepted: {', '.join(_BOLD_PARAMS)}.")
        if bold is not None:
            if not isinstance(bold, BOLDSignal):
                raise TypeError(f'`bold` must be a brainmass.BOLDSignal (or None); got {type(bold).__name__}.')
            if bold_params:
                raise ValueError(f"BOLDMonitor: pass either `bold` or BOLDSignal parameters "
                                 f"({', '.join(bold_params)}), not both: set them on the BOLDSignal.")
        self._in_size = None if in_size is None else check_in_size(in_size)
        self._params = bold_params
        self._own = bold is None
        self.bold = bold

    def init_for(self, model, batch_size=None):
        self.check_source(model)
        shape = self._source_shape(model)
        region_shape = shape[1:] if batch_size is not None else shape
        label = repr(self._source_path) if self._source_path is not None else '(a callable)'
        regions = ''
        if getattr(model, 'varshape', None) is not None:
            n = int(np.prod(model.varshape))
            regions = f' ({type(model).__name__} has {n} region{"s" if n != 1 else ""})'
        if self._in_size is not None and not broadcasts_to(region_shape, self._in_size):
            raise ValueError(f'`in_size` of BOLDMonitor is {self._in_size}, but its source {label} has shape '
                             f'{tuple(region_shape)}{regions}: leave in_size out to use the size of the source.')
        if not self._own and not broadcasts_to(region_shape, self.bold.varshape):
            raise ValueError(f'`bold` of BOLDMonitor has in_size {tuple(self.bold.varshape)}, but its source '
                             f'{label} has shape {tuple(region_shape)}{regions}.')
        size = self._in_size or tuple(region_shape)
        if self._own and (self.bold is None or tuple(self.bold.varshape) != tuple(size)):
            self.bold = BOLDSignal(size, **self._params)
            self._batch = _UNSET
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
        self.check_source(model)
        value = self.source(model)
        self._unit = u.get_unit(value) if isinstance(value, u.Quantity) else None
        zeros = jnp.zeros(_shape_of(self.source, model).shape, dtype=brainstate.environ.dftype())
        if hasattr(self, 'total') and self.total.value.shape == zeros.shape:
            self.total.value, self.lost.value, self.count.value = zeros, zeros, jnp.asarray(0.)
        else:
            self.total = brainstate.ShortTermState(zeros)
            self.lost = brainstate.ShortTermState(zeros)  # what float rounding dropped from total (Kahan)
            self.count = brainstate.ShortTermState(jnp.asarray(0.))

    def step(self, model):
        # compensated (Kahan) summation: a float32 window of 40,000 steps keeps ~1e-7 relative error
        # instead of ~6e-5
        x = u.get_magnitude(self.source(model)) - self.lost.value
        total = self.total.value + x
        self.lost.value = (total - self.total.value) - x
        self.total.value = total
        self.count.value = self.count.value + 1.

    def read(self):
        mean = self.total.value / self.count.value
        self.begin_recording()
        return mean if self._unit is None else u.maybe_decimal(mean * self._unit)

    def begin_recording(self):
        """Start a window: the transient's steps are not part of the first sample."""
        self.total.value = jnp.zeros_like(self.total.value)
        self.lost.value = jnp.zeros_like(self.lost.value)
        self.count.value = jnp.asarray(0.)
