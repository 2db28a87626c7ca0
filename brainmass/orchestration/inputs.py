"""The external inputs of a run: what they must fit, checked in Python, and sliced per step in the program.

:class:`InputLayout` reads once from a model what its ``inputs`` must fit (the per-step shape,
the input variables and their units); :class:`InputSpec` checks one run's ``inputs`` against
it before any trace (kind, time axis, shapes, units, finite values) and hands each step its
inputs inside the compiled program. :class:`InputUnitError` is the error of an input in a unit
the model cannot take (also :class:`brainmass.InputUnitError`).
"""
from __future__ import annotations

import inspect

import brainunit as u
import numpy as np

from .._core.compile_cache import callable_key
from .._core.step import StepModel
from .._core.units import is_traced, same_dim, unit_name
from .._core.validation import as_numeric, broadcasts_to, check_values
from ..network.network import Network
from ..stimulus import Routed

__all__ = ['InputUnitError', 'InputLayout', 'InputSpec', 'check_finite_input']


class InputUnitError(u.UnitMismatchError, ValueError):
    """``inputs`` carry a unit the model cannot take (a ValueError and a brainunit UnitMismatchError).

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.HopfStep(in_size=1)
    >>> try:
    ...     brainmass.Simulator(node, dt=0.1 * u.ms).run(1 * u.ms, inputs=1. * u.mV)
    ... except brainmass.InputUnitError as err:
    ...     print(type(err).__name__)
    InputUnitError
    """


_INPUT_KINDS = 'a number, an array of numbers or a quantity (or a callable(i, t) for all inputs)'


class InputLayout:
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

    Examples
    --------
    >>> import brainmass
    >>> from brainmass.orchestration.inputs import InputLayout
    >>> layout = InputLayout(brainmass.HopfStep(3))
    >>> layout.varshape, layout.order, layout.row_shapes(None)
    ((3,), ('x', 'y'), '() or (3,)')
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


def check_finite_input(item, name, seen):
    """NaN / inf in a concrete input is the caller's error, not a divergence of the model.

    ``seen``: the last input arrays found finite (held, compared by identity), not checked again.
    """
    if any(item is old for old in seen):
        return
    check_values(item, name)
    if not is_traced(item) and np.ndim(u.get_mantissa(item) if isinstance(item, u.Quantity) else item) > 0:
        seen[:] = [item] + seen[:1]


def _own_copy(value):
    """A numpy array a callable returned, copied: a new constant object for this trace.

    JAX (0.10) caches a trace's numpy constants by object identity while a program that used
    them is alive: the same array, edited in place since, would compile with its old values.
    """
    if isinstance(value, np.ndarray):
        return np.array(value)
    if isinstance(value, u.Quantity) and isinstance(value.mantissa, np.ndarray):
        return u.Quantity(np.array(value.mantissa), unit=value.unit)
    return value


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


class InputSpec:
    """Validates external inputs and slices them per step inside the program.

    ``seen``: the Simulator's list of the last input arrays found finite (see
    :func:`check_finite_input`). ``key``: what a program traced with these inputs depends on
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
                    check_finite_input(item, f'inputs{where}', seen)
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
        spec = object.__new__(InputSpec)
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
            return tuple(_own_copy(x) for x in out) if isinstance(out, tuple) else (_own_copy(out),)
        return tuple(value if kind == 'const' else sliced[value] for kind, value in self.layout)

