"""Compiled programs cached on the model they run (shared by every Simulator and Fitter of it).

Tracing and compiling a simulation loop costs 0.3-1 s; running it again costs milliseconds.
A program depends on the model it was traced from and on the static settings of the run, not
on the object that asked for it, so it is kept with the model: a new ``Simulator`` on the same
model reuses what an earlier one compiled (and so does a new ``Fitter`` whose ``predict`` runs
one; a Fitter's own traced objective can be kept here too, with :func:`cached_program`).

* :func:`model_programs` gives the per-model cache, a :class:`ModelPrograms`. It lives in a
  ``weakref.WeakKeyDictionary`` keyed by the model object, outside the model: brainstate's
  graph traversal (``nodes()``, ``states()``, ``treefy_split``, ``deepcopy``) never sees it, a
  copy of a model starts with an empty cache, and the entry goes when the model is garbage
  collected. A cached program must therefore not hold a strong reference to the model (it
  would keep itself alive): build it around ``weakref.ref(model)``.
* :func:`cached_program` is the one-call form, ``cached_program(model, key, build)``.
* :func:`model_signature` is the part of a key that describes the model as it is now: the
  identity of every ``State`` (states re-created by ``init_all_states`` give another
  signature: brainstate's ``jit`` caches the states it traced by the arguments' shapes only,
  so a program traced with the old states would read and write them, not the new ones), the
  value object of every constant parameter (``net.k = 0.3`` or ``param.set_value(...)``
  gives another signature: the old program holds the old value as a constant), plain
  settings (an integrator ``method``, ``coupled_var``, sizes), sub-modules (an added noise
  module) and the identity of every other attribute value (a Network's delay plan, arrays).
  Objects whose identity is in a signature are held by it, so an id is never reused while a
  key that names it exists; modules are described, not held (a signature holds no module).

Each model keeps at most :attr:`ModelPrograms.max_programs` programs (the least recently used
goes first).

Examples
--------
>>> import brainmass
>>> from brainmass._core.compile_cache import cached_program, model_programs, model_signature
>>> node = brainmass.HopfStep(2)
>>> key = ('doubled', model_signature(node))
>>> f = cached_program(node, key, lambda: (lambda x: 2 * x))
>>> cached_program(node, key, lambda: None) is f          # built once per key
True
>>> len(model_programs(node))
1
>>> node.a = 0.5                                          # a constant changed: another signature
>>> model_signature(node) == key[1]
False
"""
from __future__ import annotations

import hashlib
import types
import weakref
from collections import OrderedDict
from typing import Callable, Hashable

import brainstate
import jax
import numpy as np

__all__ = ['ModelPrograms', 'model_programs', 'cached_program', 'model_signature', 'callable_key', 'refers_to']


class ModelPrograms:
    """The compiled programs of one model, by key (a ``dict``-like LRU cache).

    Attributes
    ----------
    traces : int
        How many times a program of this model was traced (callers count their traces with
        :meth:`count_trace`).
    notes : dict
        Per-model bookkeeping of the callers, kept as long as the model lives (e.g. the
        Simulator's record of the batch size it initialised the states with). Nothing in
        it may hold the model.
    max_programs : int
        Most programs kept; the least recently used one is dropped first (class default 32).
    """

    max_programs = 32

    def __init__(self):
        self._programs = OrderedDict()
        self.traces = 0
        self.notes = {}

    def get(self, key: Hashable, default=None):
        """The program cached under ``key`` (``default`` when none)."""
        program = self._programs.get(key, _MISSING)
        if program is _MISSING:
            return default
        self._programs.move_to_end(key)
        return program

    def put(self, key: Hashable, program):
        """Cache ``program`` under ``key`` (dropping the least recently used beyond ``max_programs``)."""
        self._programs[key] = program
        self._programs.move_to_end(key)
        while len(self._programs) > self.max_programs:
            self._programs.popitem(last=False)
        return program

    def program(self, key: Hashable, build: Callable[[], object]):
        """The program under ``key``; ``build()`` makes and caches it on a miss."""
        program = self.get(key, _MISSING)
        if program is _MISSING:
            program = self.put(key, build())
        return program

    def count_trace(self):
        """Record one trace (call it from inside the traced function)."""
        self.traces += 1

    def clear(self):
        """Drop every cached program (the notes stay)."""
        self._programs.clear()

    def __contains__(self, key):
        return key in self._programs

    def __len__(self):
        return len(self._programs)

    def __repr__(self):
        n = len(self._programs)
        return f'ModelPrograms({n} program{"" if n == 1 else "s"}, {self.traces} traces)'


_MISSING = object()
_CACHES: 'weakref.WeakKeyDictionary' = weakref.WeakKeyDictionary()


def model_programs(model) -> ModelPrograms:
    """The :class:`ModelPrograms` of ``model`` (created on first use; gone with the model).

    Parameters
    ----------
    model : brainstate.nn.Module
        Any weak-referenceable, hashable object (brainstate modules are).
    """
    try:
        cache = _CACHES.get(model)
    except TypeError:
        raise TypeError(f'`model` must be a brainstate module (weak-referenceable and hashable); '
                        f'got {type(model).__name__}.') from None
    if cache is None:
        cache = _CACHES[model] = ModelPrograms()
    return cache


def cached_program(model, key: Hashable, build: Callable[[], object]):
    """``model_programs(model).program(key, build)``: the program of ``model`` under ``key``, built once.

    ``key`` must name everything the program's trace reads (include :func:`model_signature`
    of ``model``); ``build()`` must not return something that holds ``model`` strongly.

    A Fitter would use it as ``cached_program(model, ('fitter', callable_key(predict),
    callable_key(loss_fn), target shape and dtype, parameter paths, gradient mode,
    model_signature(model)), build)``.
    """
    return model_programs(model).program(key, build)


# ------------------------------------------------------------------ signatures
class _Id:
    """Identity token: equal only to a token of the same object, which it holds."""

    __slots__ = ('obj',)

    def __init__(self, obj):
        self.obj = obj

    def __hash__(self):
        return id(self.obj)

    def __eq__(self, other):
        return type(other) is _Id and other.obj is self.obj

    def __repr__(self):
        return f'_Id({type(self.obj).__name__} at {id(self.obj):#x})'


#: attributes of brainstate Params that cache a computed value (they change without the parameter changing)
_VOLATILE = frozenset({'_cache_lock', '_cached_value', '_cache_valid', '_cache_logger',
                       '_cache_invalidation_hook_handle', '_enable_cache_logging'})


def model_signature(*modules, states=None, modules_out=None) -> tuple:
    """A hashable description of ``modules`` as they are now (see the module docstring).

    Two signatures are equal when every module has the same structure, the same plain
    settings and the very same ``State``, parameter value and other attribute objects.
    ``states`` / ``modules_out``: lists that collect every ``State`` / module met (in order).

    Examples
    --------
    >>> import brainmass, brainstate
    >>> from brainmass._core.compile_cache import model_signature
    >>> node = brainmass.HopfStep(2)
    >>> brainstate.nn.init_all_states(node)
    HopfStep(...)
    >>> sig = model_signature(node)
    >>> sig == model_signature(node)
    True
    >>> _ = brainstate.nn.init_all_states(node)              # new State objects
    >>> sig == model_signature(node)
    False
    """
    seen = {}
    out = tuple(_node_token(m, seen, states) for m in modules)
    if modules_out is not None:
        modules_out.extend(node for _, node in seen.values())
    return out


def _node_token(node, seen, states):
    key = id(node)
    if key in seen:
        return ('seen', seen[key][0])
    seen[key] = (len(seen), node)
    items = [type(node)]
    append = items.append
    for name, value in vars(node).items():
        if name in _VOLATILE:
            continue
        append(name)
        cls = type(value)
        kind = _KINDS.get(cls) or _kind(cls)
        if kind is _PLAIN_KIND:  # the common cases inline (this walk runs before every Simulator run)
            append(cls)
            append(value)
        elif kind is _STATE:
            append(value)
            if states is not None:
                states.append(value)
        else:
            append(_token(value, seen, states))
    return tuple(items)


# how a value of each type enters a signature (filled as types are met)
_PLAIN_KIND, _STATE, _NODE, _SEQ, _DICT, _METHOD, _ID, _HASHED = (
    'plain', 'state', 'node', 'seq', 'dict', 'method', 'id', 'hashed')
_KINDS = {t: _PLAIN_KIND for t in (str, int, float, bool, complex, type(None), bytes)}
_KINDS.update({tuple: _SEQ, list: _SEQ, dict: _DICT, types.MethodType: _METHOD})


def _kind(cls):
    if issubclass(cls, brainstate.State):
        kind = _STATE  # hashed by identity, held by the key
    elif issubclass(cls, brainstate.graph.Node):
        kind = _NODE
    elif issubclass(cls, (np.ndarray, jax.Array)) or getattr(cls, '__hash__', None) is None:
        kind = _ID
    else:
        kind = _HASHED  # hashable, unless its hash fails for this value (then: identity)
    _KINDS[cls] = kind
    return kind


def _token(value, seen, states):
    cls = type(value)
    kind = _KINDS.get(cls) or _kind(cls)
    if kind is _PLAIN_KIND:
        return (cls, value)
    if kind is _STATE:
        if states is not None:
            states.append(value)
        return value
    if kind is _NODE:
        return _node_token(value, seen, states)
    if kind is _SEQ:
        return (cls,) + tuple([_token(v, seen, states) for v in value])
    if kind is _DICT:
        return (dict,) + tuple([(k, _token(v, seen, states)) for k, v in value.items()])
    if kind is _METHOD:  # a bound method: its function and its object's token (a module: not held)
        return (types.MethodType, value.__func__, _token(value.__self__, seen, states))
    if kind is _HASHED:
        try:
            hash(value)
            return value
        except TypeError:
            pass
    return _Id(value)


class _WeakId:
    """Identity token that holds its object weakly: equal only to a token of the same live object.

    Once the object is gone the token equals no other token (so a new object at the same
    address never matches it)."""

    __slots__ = ('ref', 'ident')

    def __init__(self, obj):
        self.ref = weakref.ref(obj)
        self.ident = id(obj)

    def __hash__(self):
        return self.ident

    def __eq__(self, other):
        if type(other) is not _WeakId:
            return False
        obj = self.ref()
        return obj is not None and obj is other.ref()

    def __repr__(self):
        return f'_WeakId({self.ident:#x}{"" if self.ref() is not None else ", dead"})'


#: numpy arrays up to this many elements are keyed by content (a trace bakes them in as constants,
#: so an array edited in place must not find the program traced with its old values)
CONTENT_KEY_LIMIT = 1 << 22


def _content(obj):
    """A content key of a mutable numpy array or a small list / dict / set of keyable items; None otherwise."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject or obj.size > CONTENT_KEY_LIMIT:
            return None
        digest = hashlib.blake2b(np.ascontiguousarray(obj).tobytes(), digest_size=16).digest()
        return ('ndarray', obj.shape, obj.dtype.str, digest)
    if isinstance(obj, (list, set, frozenset)) and len(obj) <= 64:
        items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        return (type(obj).__name__, tuple(_item_key(x) for x in items))
    if isinstance(obj, dict) and len(obj) <= 64:
        return ('dict', tuple((_item_key(k), _item_key(v)) for k, v in obj.items()))
    return None


def _item_key(obj):
    """An item of a keyed container: an array by content, anything else by identity (no recursion)."""
    if isinstance(obj, np.ndarray):
        content = _content(obj)
        if content is not None:
            return content
    return _Id(obj)


def _identity(obj, weak):
    content = _content(obj)
    if content is not None:
        return content
    if weak and not isinstance(obj, (str, bytes, int, float, complex, bool, type(None), tuple)):
        try:
            return _WeakId(obj)
        except TypeError:  # not weak-referenceable
            pass
    return _Id(obj)


def callable_key(fn, weak: bool = False, _depth: int = 0) -> Hashable:
    """A key of a user callable: equal for two functions that trace the same.

    Two lambdas with the same code, defaults, closure objects and referenced globals
    (the very same objects, held by the key) give the same key; anything else is keyed by
    identity (held). Mutable values a trace bakes in are keyed by content, so editing them in
    place re-traces: numpy arrays (up to :data:`CONTENT_KEY_LIMIT` elements; a larger array is
    keyed by identity: replace it rather than editing it in place) and small lists, dicts and sets. Python functions among those (a helper that ``predict`` calls) are
    keyed the same way, a few levels deep, so a global that such a helper reads is part of
    the key too. ``weak=True``: objects that can be weakly referenced (a Simulator in a
    ``predict`` closure, which holds the model) are held weakly, so a key cached with the
    model does not keep it alive; the key then matches only while they live.
    """
    if isinstance(fn, types.MethodType):  # a bound method: its function and its object
        return (types.MethodType, callable_key(fn.__func__, weak, _depth), _identity(fn.__self__, weak))
    code = getattr(fn, '__code__', None)
    if code is None or not hasattr(fn, '__globals__'):
        return _identity(fn, weak)

    def item(obj):
        if type(obj) is types.FunctionType and obj is not fn and _depth < 3:
            return callable_key(obj, weak, _depth + 1)
        return _identity(obj, weak)

    cells = tuple(item(c.cell_contents) if _cell_filled(c) else 'empty' for c in (fn.__closure__ or ()))
    globs = fn.__globals__
    names = tuple(item(globs[n]) for n in code.co_names if n in globs)
    defaults = tuple(item(d) for d in (fn.__defaults__ or ()))
    kwdefaults = tuple((k, item(v)) for k, v in sorted((fn.__kwdefaults__ or {}).items()))
    return (code.co_code, code.co_consts, code.co_names, code.co_varnames, cells, names, defaults, kwdefaults)


def refers_to(obj, *fns) -> bool:
    """Whether any of the callables ``fns`` holds ``obj`` itself in its closure, defaults or globals.

    A program holding such a callable, cached with ``obj``, would keep ``obj`` alive.
    """
    for fn in fns:
        code = getattr(fn, '__code__', None)
        if code is None:
            continue
        globs = getattr(fn, '__globals__', {})
        held = [c.cell_contents for c in (fn.__closure__ or ()) if _cell_filled(c)]
        held += list(fn.__defaults__ or ()) + list((fn.__kwdefaults__ or {}).values())
        held += [globs[n] for n in code.co_names if n in globs]
        if any(item is obj for item in held):
            return True
    return False


def _cell_filled(cell):
    try:
        cell.cell_contents
    except ValueError:  # an empty cell
        return False
    return True
