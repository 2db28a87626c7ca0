"""Argument checks of a Network: each raises a ValueError / TypeError naming the argument and what it expects.

Run in Python at construction (and with the batch size at initialisation), before anything is
compiled. ``COUPLINGS`` maps the coupling names a Network accepts to their classes.
"""
from __future__ import annotations

import re
import warnings

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from .._core.step import StepModel
from .._core.display import value_text
from .._core.units import is_traced, unit_name, unit_phrase
from .._core.validation import Default, broadcasts_to, check_choice, format_choices, numeric_magnitude, short_repr
from .couplings import (AdditiveCoupling, Coupling, DiffusiveCoupling, HyperbolicTangentCoupling,
                        SigmoidalCoupling, SigmoidalJansenRitCoupling)
from .laplacian import LaplacianConnParam

__all__ = ['COUPLINGS', 'MAX_BUFFER_VALUES', 'network_k', 'check_conn_values', 'check_node', 'check_real', 'check_buffer_size', 'check_coupled_var',
           'coupled_terms', 'require_state', 'check_conn', 'check_coupling', 'check_noise', 'check_k',
           'check_k_batch', 'check_k_unit', 'history_in_unit', 'check_delay_init', 'check_history_shape']

COUPLINGS = {
    'diffusive': DiffusiveCoupling,
    'additive': AdditiveCoupling,
    'laplacian': AdditiveCoupling,
    'sigmoidal': SigmoidalCoupling,
    'tanh': HyperbolicTangentCoupling,
    'sigmoidal_jansen_rit': SigmoidalJansenRitCoupling,
}


def check_node(node) -> int:
    """The number of regions of a node: a Dynamics of shape (N,) (``in_size=N`` or ``(N,)``)."""
    if not isinstance(node, brainstate.nn.Dynamics):
        raise TypeError(f'`node` must be a brainstate.nn.Dynamics sized for N regions (e.g. '
                        f'brainmass.HopfStep(N)); got {type(node).__name__}.')
    shape = tuple(node.varshape)
    if len(shape) != 1:
        raise ValueError(f'`node` must be sized for N regions, in_size=N or (N,); got a node of shape {shape} '
                         f'(in_size={node.in_size!r}): a Network couples a one-dimensional bank of regions.')
    return int(shape[0])


def check_real(value, name):
    """``value`` unchanged; a TypeError naming ``name`` for a complex array (it would be cast silently)."""
    mantissa = u.get_mantissa(value) if isinstance(value, u.Quantity) else value
    if np.iscomplexobj(mantissa):
        raise TypeError(f'`{name}` must be real numbers; got a complex array (dtype {mantissa.dtype}).')
    return value


#: the most values a delay buffer may hold (N regions x 2L slots x B batch members): its indices are int32
MAX_BUFFER_VALUES = 2 ** 31 - 1


def check_buffer_size(n, L, dt_ms, batch_size=None):
    """A ValueError giving the steps and bytes when the ring buffer would exceed :data:`MAX_BUFFER_VALUES`."""
    values = n * 2 * L * (batch_size or 1)
    if values <= MAX_BUFFER_VALUES:
        return
    gib = values * np.dtype(brainstate.environ.dftype()).itemsize / 2 ** 30
    batch = f' x {batch_size} batch members' if batch_size else ''
    raise ValueError(f'The delay buffer would hold {values:,} values ({n} regions x 2 x {L} slots{batch}, '
                     f'{gib:.3g} GiB) for a longest delay of {L - 1:,} steps at dt = {dt_ms:g} ms: more than the '
                     f'{MAX_BUFFER_VALUES:,} a Network allows (int32 indices). Check `distance` / `speed` and '
                     f'their units, or use a larger dt{" or a smaller `batch_size`" if batch_size else ""}.')


def check_coupled_var(node, coupled_var):
    if not isinstance(coupled_var, str):
        raise TypeError(f'`coupled_var` must be the name of a node state (a string); got {coupled_var!r}.')
    return coupled_var


def coupled_terms(node, coupled_var):
    """``'E - I'`` -> ((1, 'E'), (-1, 'I')); names checked against a StepModel's states and aliases."""
    tokens = re.findall(r'[+-]|[^\s+-]+', coupled_var)
    sign = 1
    if tokens and tokens[0] in ('+', '-'):
        sign = -1 if tokens.pop(0) == '-' else 1
    names, ops = tokens[0::2], tokens[1::2]
    if (not names or len(names) != len(ops) + 1 or any(t in ('+', '-') for t in names)
            or any(t not in ('+', '-') for t in ops)):
        raise ValueError(f'`coupled_var` {coupled_var!r}: expected a state name, or state names joined by '
                         f"+ or - (e.g. 'E - I').")
    signs = [sign] + [1 if op == '+' else -1 for op in ops]
    return tuple((s, _state_name(node, name, coupled_var)) for s, name in zip(signs, names))


def _state_name(node, name, coupled_var):
    if not isinstance(node, StepModel):
        return name
    name = type(node).state_aliases.get(name, name)
    if name not in node.state_vars:
        kind = 'a parameter' if hasattr(node, name) else 'not a state'
        what = f'{name!r}' if name == coupled_var else f'{name!r} (in {coupled_var!r})'
        raise ValueError(f"`coupled_var` {what} is {kind} of {type(node).__name__}; its states are: "
                         f"{', '.join(node.state_vars)}.")
    return name


def require_state(node, coupled_var):
    value = getattr(node, coupled_var, None)
    if not isinstance(value, brainstate.State):
        names = sorted({'.'.join(map(str, k)) for k in node.states(brainstate.HiddenState).keys()})
        raise ValueError(f"`coupled_var` {coupled_var!r} is not a state of {type(node).__name__}; its states "
                         f"are: {', '.join(names)}.")


def check_conn(conn, n, self_connection, coupling):
    if isinstance(conn, brainstate.nn.Param):
        check_conn_values(conn.value(), n)
        return conn
    if isinstance(conn, (str, bytes)) or conn is None or isinstance(conn, (bool, np.bool_)):
        raise TypeError(f'`conn` must be an (N, N) weight matrix (array_like of numbers) or a brainstate.nn.Param; '
                        f'got {short_repr(conn)}.')
    _check_dimensionless(conn, 'conn', 'weights are plain numbers; put the scale of the coupling into `k`')
    try:
        W = check_real(np.asarray(u.get_magnitude(conn)), 'conn').astype(float)
    except (TypeError, ValueError) as err:
        raise TypeError(f'`conn` must be an (N, N) weight matrix of numbers; got {short_repr(conn)} ({err}).') from err
    if W.ndim == 1 and W.size == n * n:
        W = W.reshape(n, n)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f'`conn` must be a square (N, N) matrix (or flattened N*N); got shape {W.shape}.')
    if W.shape != (n, n):
        raise ValueError(f'`conn` is {W.shape} but the node has {n} regions: they must match.')
    if not np.all(np.isfinite(W)):
        raise ValueError('`conn` contains NaN or inf.')
    if np.any(W < 0):
        warnings.warn('`conn` has negative weights (allowed: they act as inhibitory edges).', UserWarning,
                      stacklevel=3)
    if not self_connection:
        np.fill_diagonal(W, 0.)
    if coupling == 'laplacian':
        return LaplacianConnParam(W, fit=False)
    return brainstate.nn.Param.init(jnp.asarray(W, dtype=brainstate.environ.dftype()))


def check_conn_values(value, n, zero_diagonal=False):
    """The value of a ``conn`` Param (given to the constructor, or put in with ``set_value``): (N, N), real
    plain numbers, finite, and with a zero diagonal when the Network dropped the diagonal of the ``conn`` it
    was built with."""
    shape = tuple(u.math.shape(value))
    if shape != (n, n):
        raise ValueError(f'`conn` must have shape ({n}, {n}) to match the node; got {shape}.')
    _check_dimensionless(value, 'conn', 'weights are plain numbers; put the scale of the coupling into `k`')
    check_real(value, 'conn')
    if is_traced(value):
        return
    W = np.asarray(u.get_magnitude(value))
    if not np.all(np.isfinite(W)):
        raise ValueError('`conn` contains NaN or inf.')
    if zero_diagonal and np.any(np.diagonal(W) != 0):
        raise ValueError('`conn` was set to a matrix with a nonzero diagonal, but this Network drops self-'
                         'connections (self_connection=False): zero the diagonal, or build the Network with '
                         'self_connection=True.')


def check_coupling(coupling, conn_param, k):
    if isinstance(coupling, Coupling):
        if coupling.conn is not None:
            raise ValueError('A coupling instance given to Network must be built without `conn`: the Network '
                             'owns the connectivity.')
    elif isinstance(coupling, str):
        check_choice(coupling, tuple(COUPLINGS), 'coupling')
        coupling = COUPLINGS[coupling]()
    else:
        raise TypeError(f'`coupling` must be a name ({format_choices(COUPLINGS)}) or a Coupling; got '
                        f'{type(coupling).__name__}.')
    coupling.share_network_params(conn_param, k)
    return coupling


def network_k(k, coupling):
    """The Network's ``k``: its own, or the ``k`` a coupling instance was given when the Network's was left at
    its default. Both given and different is a ValueError (one of them would be dropped without a word)."""
    if not isinstance(coupling, Coupling) or not coupling.k_given:
        return k
    if isinstance(k, Default):
        return coupling.k  # a Param, constant or trainable
    name, own = type(coupling).__name__, coupling.k
    if isinstance(getattr(own, 'val', None), brainstate.State):
        raise ValueError(f'{name} was built with a trainable `k` and the Network was given k too: give the '
                         f'trainable k to one of them only.')
    mine, theirs = own.value(), (k.value() if isinstance(k, brainstate.nn.Param) else k)
    try:
        a, b = np.asarray(u.get_magnitude(mine)), np.asarray(u.get_magnitude(theirs))
        same = (u.get_unit(mine) == u.get_unit(theirs) and a.shape == b.shape
                and np.array_equal(a, b.astype(a.dtype)))  # the same number in the coupling's precision
    except (TypeError, ValueError):
        same = False  # not comparable: check_k says what is wrong with the Network's k
    if not same:
        raise ValueError(f'{name} was built with k = {value_text(mine)} and the Network with k = '
                         f'{value_text(theirs)}; a Network has one coupling strength: give k to one of them '
                         f'only{_by_name_hint(coupling)}.')
    return k


def _by_name_hint(coupling):
    name = next((name for name, cls in COUPLINGS.items() if type(coupling) is cls), None)
    return '' if name is None else f' (a coupling given by name, coupling={name!r}, takes the Network\'s k)'


def check_noise(noise, n):
    if noise is None:
        return None
    from ..noise import Noise
    if not isinstance(noise, Noise):
        raise TypeError(f'`noise` must be a brainmass noise module (e.g. OUProcess({n}, sigma=...)); got '
                        f'{type(noise).__name__}.')
    size = tuple(noise.varshape)
    if not broadcasts_to(size, (n,)):
        raise ValueError(f'`noise` has size {size} but the network has {n} regions: build it for them, e.g. '
                         f'{type(noise).__name__}({n}, ...).')
    return noise


def _check_dimensionless(value, name, why):
    if isinstance(value, u.Quantity) and not u.get_unit(value).is_unitless:
        raise ValueError(f'`{name}` must be dimensionless ({why}); got a quantity in {u.get_unit(value)}.')


def check_k(k, n):
    """``k``: a scalar, per target region ``(N,)``, or per batch member ``(B, 1)`` / ``(B, N)`` (a sweep
    over k in one batched run); numeric and finite."""
    expected = (f'a number, a Quantity, an array of shape ({n},), (B, 1) or (B, {n}) (B = batch_size) or a '
                f'brainstate.nn.Param')
    if isinstance(k, (list, tuple)):
        k = np.asarray(k)
    value = k.value() if isinstance(k, brainstate.nn.Param) else k
    arr = numeric_magnitude(value, '`k`', expected)
    shape = arr.shape if arr is not None else tuple(u.math.shape(value))
    if len(shape) > 2 or not broadcasts_to(shape[-1:], (n,)):
        raise ValueError(f'`k` has shape {shape}, but the coupling strength must be a scalar, one value per '
                         f'region ({n},), or one row per batch member (B, 1) or (B, {n}) for a sweep with '
                         f'batch_size=B.')
    if arr is not None and not np.all(np.isfinite(arr)):
        raise ValueError(f'`k` must be finite; got {short_repr(value)}.')
    return k


def check_k_batch(k, batch_size):
    """A per-batch-member ``k`` ((B, 1) / (B, N)) needs a run with that ``batch_size``."""
    shape = tuple(u.math.shape(k.value()))
    if len(shape) < 2:
        return
    if batch_size is None:
        raise ValueError(f'`k` has shape {shape}: one row per batch member (a sweep over k), but the run has no '
                         f'`batch_size`: run with batch_size={shape[0]}, or give k as a scalar or shape '
                         f'({shape[-1]},).')
    if shape[0] not in (1, batch_size):
        raise ValueError(f'`k` has {shape[0]} rows (shape {shape}) but `batch_size` is {batch_size}: give one '
                         f'row per batch member.')


#: couplings whose sum keeps the coupled variable's unit (the current is k times it), and those whose sum
#: (after the nonlinearity) is a plain number (the current is k times a number)
_SUM_IN_VAR_UNIT = (DiffusiveCoupling, AdditiveCoupling)
_SUM_PLAIN = (SigmoidalCoupling, HyperbolicTangentCoupling, SigmoidalJansenRitCoupling)


def check_k_unit(k, node, coupling, terms):
    """A ``k`` with a unit must turn the coupling's sum into the unit of the node input the current drives.

    Checked for the built-in couplings on a ``*Step`` node that takes the current as it is; a plain
    (or dimensionless) ``k`` always passes.
    """
    value = k.value() if isinstance(k, brainstate.nn.Param) else k
    if not isinstance(value, u.Quantity) or u.get_unit(value).has_same_dim(u.UNITLESS):
        return
    if not isinstance(node, StepModel) or type(coupling).post not in {c.post for c in _SUM_IN_VAR_UNIT + _SUM_PLAIN}:
        return
    if getattr(type(node), 'coupling_value', None) is not getattr(StepModel, 'coupling_value', None):
        return  # the node converts the current itself
    driven = node.coupled_input() if hasattr(node, 'coupled_input') else (node.input_vars or node.state_vars)[0]
    sum_unit = u.UNITLESS if isinstance(coupling, _SUM_PLAIN) else node.unit_of(terms[0][1])
    expected = node.unit_of(driven) / sum_unit
    if not u.get_unit(value).has_same_dim(expected):
        allowed = ('a plain number (dimensionless)' if expected.has_same_dim(u.UNITLESS)
                   else f'a plain number or a quantity in {expected}')
        raise ValueError(f'`k` is in {unit_name(value)}, but the coupling current k * (its sum, '
                         f'{unit_phrase(sum_unit)}) drives {driven!r} of {type(node).__name__}, which is '
                         f'{unit_phrase(node.unit_of(driven))}: give k as {allowed}.')


def history_in_unit(hist, unit, coupled_var):
    """A delay history as magnitudes in the coupled value's ``unit`` (plain numbers are read in it)."""
    if not isinstance(hist, u.Quantity):
        return u.get_magnitude(hist)
    if not u.get_unit(hist).has_same_dim(unit):
        raise ValueError(f'`delay_init` gives a history in {unit_name(hist)}, but the coupled variable '
                         f'{coupled_var!r} is {unit_phrase(unit)}: give the history in its unit.')
    return u.maybe_decimal(hist) if unit.is_unitless else hist.to_decimal(unit)


_DELAY_INIT_KINDS = ('a braintools initializer (e.g. braintools.init.Constant(0.)), a callable shape -> array, '
                     'or a number / array broadcastable to the history shape (delay slots, regions)')


def check_delay_init(delay_init, node, terms, coupled_var):
    """None and a callable pass; a constant must be numeric and finite, a Quantity in the coupled variable's
    unit (it is stored as a magnitude in that unit)."""
    if delay_init is None or callable(delay_init):
        return delay_init
    if isinstance(delay_init, (list, tuple)):
        delay_init = np.asarray(delay_init)
    arr = numeric_magnitude(delay_init, '`delay_init`', _DELAY_INIT_KINDS)
    if arr is not None and not np.all(np.isfinite(arr)):
        raise ValueError('`delay_init` contains NaN or inf.')
    if isinstance(delay_init, u.Quantity):
        unit = node.unit_of(terms[0][1]) if isinstance(node, StepModel) else u.get_unit(delay_init)
        if not u.get_unit(delay_init).has_same_dim(unit):
            raise ValueError(f'`delay_init` is in {u.get_unit(delay_init)} but the coupled variable {coupled_var!r} '
                             f'is {unit_phrase(unit)}: give the history in its unit.')
        return u.get_magnitude(delay_init) if unit.is_unitless else delay_init.to_decimal(unit)
    return delay_init


def check_history_shape(delay_init, shape, batch_unknown=False):
    """A constant history must broadcast to ``shape`` (the buffer's (L, N[, B])).

    ``batch_unknown`` (at construction, before batch_size is known): a trailing batch axis,
    ``(N, 1)``, ``(N, B)`` or ``(L, N, B)``, is also accepted; the run checks its size.
    """
    if delay_init is None or callable(delay_init):
        return
    got = tuple(u.math.shape(delay_init))
    with_batch = batch_unknown and 2 <= len(got) <= 3 and broadcasts_to(got[:-1], shape)
    if not (broadcasts_to(got, shape) or with_batch):
        raise ValueError(f'`delay_init` has shape {got}, which does not broadcast to the delay history shape '
                         f'{shape} (delay slots, regions[, batch]); give a scalar, one value per region (shape '
                         f'({shape[1]},)), or a callable initializer.')

