r"""Heterogeneous networks: different node models for different regions, coupled through one connectome.

:class:`MixedNode` is a node of N regions made of *groups*: each group is a ``*Step`` model over
an index set of the regions (the sets are disjoint and cover ``0 .. N-1``). A
:class:`~brainmass.Network` sees one node of size N: it couples the node's combined
variable ``'coupled'`` (group ``g``'s declared coupled variable, placed at the group's
regions) and passes the coupling current back, which the node splits by group: the current
of region ``i`` drives the declared coupling input (``coupling_input``) of the group that
holds ``i``, times the group's optional ``gain``.

For the coupled variable :math:`x_i` of region :math:`i` in group :math:`g(i)` the network
integrates

.. math::

    \dot{\mathbf y}_g = f_g\big(\mathbf y_g,\; \gamma_g\, c_{I_g}\big), \qquad
    c_i = k\,\mathrm{post}\Big(\sum_j W_{ij}\,\mathrm{pre}\big(x_j(t - \tau_{ij})\big),\, x_i\Big),
    \qquad x_i = s_{g(i)}\, v_{g(i)}(\mathbf y_{g(i)})_i

with :math:`f_g` the group's model, :math:`I_g` its regions, :math:`\gamma_g` its ``gain``,
:math:`v_g` its coupled variable and :math:`s_g` its ``scale`` (an explicit unit conversion).

**Integration.** The groups whose model takes its inputs as functions of the stage state
(``stage_inputs``, the default of ``*Step`` models) and keeps the standard ``update`` are
integrated *together*: one step of their common method over the joint state, the coupling
current re-evaluated at every stage from every group's stage values (a Runge-Kutta step of the
whole network, as a homogeneous network takes). A group whose model takes its inputs as values
(Jansen-Rit, Epileptor, Wong-Wang, ...) takes its own step with the current at the start of the
step, as in a homogeneous network. With ``exp_euler`` each group's variables are linearised
on their own (the cross-group zero-delay coupling terms of an instantaneous network enter the
explicit part), so an instantaneous network of identical groups matches the homogeneous
network to first order in dt, and exactly with delays or another method.
"""
from __future__ import annotations

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from .._core.integrators import INTEGRATORS, exp_euler_step
from .._core.step import StepModel
from ..stimulus import Routed
from .adjoint import constant_history
from .heterogeneous_checks import (check_cover, check_gain, check_group_dict, check_group_name, check_groups,
                                   check_scale, common_unit, coupled_unit, group_terms, terms_text)

__all__ = ['MixedNode']

#: the key under which a group's stage state carries the joint stage state (read by the coupling input)
_STAGE = object()


class MixedNode(StepModel):
    r"""Different node models for different regions, seen by a Network as one node of N regions.

    Parameters
    ----------
    groups : dict
        ``{name: (indices, node, coupled_var)}``, one entry per group: ``indices`` the
        regions of the group (integers; the sets of all groups are disjoint and cover
        ``0 .. N-1``), ``node`` a ``*Step`` model sized for them (``in_size=len(indices)``)
        and ``coupled_var`` the state it couples through the connectome (a state name or a
        sum / difference such as ``'E - I'``; it may be left out, ``(indices, node)``, when the
        model declares one, as ``JansenRitStep`` does). ``name`` is an identifier: the
        group is the attribute ``node.<name>`` (a Simulator monitors ``'node.<name>.<var>'``
        in a Network).
    gain : dict, optional
        ``{name: number or array}``: multiplies the coupling current the group receives
        (a plain number, or one per region of the group); default 1.
    scale : dict, optional
        ``{name: number or Quantity}``: multiplies the group's coupled variable before it
        enters the connectome. The coupled variables of all groups must share a unit, so
        one whose variable carries another unit needs this explicit conversion (e.g.
        ``scale={'mpr': 1 * u.ms}`` turns Montbrio's rate ``r`` in Hz into a plain number,
        kHz); different units without it are a ``ValueError``.
    name : str, optional

    Notes
    -----
    The node's one state is ``coupled``, shape ``(N,)`` (``(B, N)`` with ``batch_size``):
    the combined coupled variable in the common unit, kept in step with the groups.
    ``update`` returns it. In a :class:`~brainmass.Network` pass ``coupled_var='coupled'``.
    Inputs: the coupling current (keyword ``coupling``, N regions) and, per group, the
    group's own inputs as ``'<group>.<input>'`` (e.g. ``'cortex.rI_inp'``), each given for the
    N regions (or as a scalar) and read at the group's regions. In a Network these are driven
    by stimuli (:mod:`brainmass.stimulus`): by default at the coupled inputs, or with
    ``target='cortex.rI'``; positional inputs are refused, as it is ambiguous which group
    and variable they would drive. Noise is per group (the group model's ``noise_<var>``)
    or the Network's.

    Examples
    --------
    >>> import brainmass, brainunit as u, numpy as np
    >>> node = brainmass.MixedNode({
    ...     'thalamus': ([0, 1], brainmass.HopfStep(2, a=0.1, w=0.3, init_x=0.1), 'x'),
    ...     'cortex': ([2, 3, 4], brainmass.WilsonCowanStep(3), 'rE')})
    >>> net = brainmass.Network(node, conn=np.full((5, 5), 0.2), coupled_var='coupled', k=0.5)
    >>> res = brainmass.Simulator(net, dt=0.1 * u.ms).run(
    ...     2 * u.ms, monitors=['node.coupled', 'node.thalamus.x', 'node.cortex.rI'])
    >>> res['node.coupled'].shape, res['node.thalamus.x'].shape, res['node.cortex.rI'].shape
    ((20, 5), (20, 2), (20, 3))
    """

    #: how a Network drives the node: the coupling current by keyword (``coupling``), as a function
    #: of the stage state; the groups' inputs are keywords ``'<group>.<input>'`` (see input_keywords)
    update_inputs = ('coupling',)
    coupling_input = 'coupling'
    stage_inputs = True

    def __init__(self, groups, *, gain=None, scale=None, name=None):
        specs = check_groups(groups)
        n = sum(len(idx) for idx, _, _ in specs.values())
        check_cover(specs, n)
        gain = check_group_dict(gain, 'gain', specs)
        scale = check_group_dict(scale, 'scale', specs)
        joint = [g for g, (_, node, _) in specs.items() if _integrated_jointly(node)]
        methods = {specs[g][1].method for g in joint}
        if len(methods) > 1:
            listed = ', '.join(f'{g!r}: {specs[g][1].method!r}' for g in joint)
            raise ValueError(f'`groups`: the groups integrated together must use one integration method; got '
                             f'{listed}. Build their models with the same `method=`.')
        super().__init__(n, method=methods.pop() if methods else 'exp_euler', name=name)
        self.state_vars = ('coupled',)
        self._names = tuple(specs)
        self._joint = tuple(joint)
        self._indices = {g: idx for g, (idx, _, _) in specs.items()}
        self._take = {g: _selector(idx) for g, idx in self._indices.items()}
        perm = np.concatenate([self._indices[g] for g in self._names])
        self._order = None if np.array_equal(perm, np.arange(n)) else jnp.asarray(np.argsort(perm), dtype=jnp.int32)
        self._terms, units = {}, {}
        for g, (_, node, coupled_var) in specs.items():
            check_group_name(self, g)
            setattr(self, g, node)
            self._terms[g] = group_terms(g, node, coupled_var)
            units[g] = coupled_unit(g, node, self._terms[g], scale.get(g))
        self._unit = common_unit(units, self._terms, scale)
        self._gain = {g: check_gain(gain[g], g, len(self._indices[g])) for g in gain}
        self._scale = {g: check_scale(scale[g], g, len(self._indices[g])) for g in scale}
        self._inits = {'coupled': _representative_init(specs, self._terms)}

    # ------------------------------------------------------------ groups
    @property
    def group_names(self) -> tuple:
        """The groups' names, in the order given."""
        return self._names

    @property
    def indices(self) -> dict:
        """``{group: region indices}`` (copies)."""
        return {g: idx.copy() for g, idx in self._indices.items()}

    def group(self, name):
        """The model of group ``name``."""
        if name not in self._names:
            raise KeyError(f'{name!r} is not a group of this MixedNode; its groups are {", ".join(self._names)}.')
        return getattr(self, name)

    # ------------------------------------------------------------ declared routing
    def input_keywords(self) -> tuple:
        """``'coupling'`` (the Network's current), then each group's inputs as ``'<group>.<input>'``."""
        return ('coupling',) + tuple(f'{g}.{key}' for g in self._names for key in self.group(g).input_keywords())

    def coupling_keyword(self):
        return 'coupling'

    def coupled_input(self):
        return 'coupling'

    def unit_of(self, var) -> u.Unit:
        """``'coupled'``: the common unit of the coupled variables; ``'coupling'``: the unit of the inputs
        the current drives when every group's is the same (otherwise dimensionless: a plain ``k``)."""
        if var == 'coupled':
            return self._unit
        if var == 'coupling':
            driven = [self.group(g).unit_of(self.group(g).coupled_input()) for g in self._names]
            same = all(d.has_same_dim(driven[0]) for d in driven)
            return driven[0] if same else u.UNITLESS
        return super().unit_of(var)

    def network_inputs(self, current, external=()) -> dict:
        """The current goes to ``coupling``; positional inputs are refused (use a stimulus ``target``)."""
        if any(x is not None for x in external):
            raise TypeError(f'A MixedNode in a Network takes no positional inputs (it is ambiguous which group '
                            f'and variable they drive); got {len(external)}. Drive a group\'s input with a '
                            f'stimulus target, e.g. brainmass.stimulus.Step(...).to("{self._names[0]}.<var>"), '
                            f'or the coupled inputs with a stimulus without target.')
        return {'coupling': current}

    # ------------------------------------------------------------ states
    def init_state(self, batch_size=None, **kwargs):
        """The combined coupled variable from the groups' states (initialised first: they are children)."""
        self.coupled = brainstate.HiddenState(self._checked_coupled())

    def reset_state(self, batch_size=None, **kwargs):
        value = self._checked_coupled()
        if isinstance(self.__dict__.get('coupled'), brainstate.State):
            self.coupled.value = value
        else:
            self.coupled = brainstate.HiddenState(value)

    def _checked_coupled(self):
        for g in self._names:
            node = self.group(g)
            missing = [v for v in node.state_vars if not isinstance(node.__dict__.get(v), brainstate.State)]
            if missing:
                raise ValueError(f'Group {g!r} of the MixedNode has no state {missing[0]!r} yet: initialise the '
                                 f'whole model, brainstate.nn.init_all_states(model) (a Simulator does).')
        return self._with_unit(self._combine({g: self._part(g, self._reader(g)) for g in self._names}))

    # ------------------------------------------------------------ combined variable
    def _reader(self, g, stage=None):
        node = self.group(g)
        if stage is None:
            return lambda var: getattr(node, var).value
        return lambda var: stage[(g, var)]

    def _part(self, g, read):
        """Group ``g``'s coupled value (times its scale) as a magnitude in the common unit."""
        value = None
        for sign, var in self._terms[g]:
            v = read(var)
            value = (v if sign > 0 else -v) if value is None else (value + v if sign > 0 else value - v)
        if g in self._scale:
            value = value * self._scale[g]
        if not isinstance(value, u.Quantity):
            return value
        if self._unit.is_unitless:
            return u.get_magnitude(u.maybe_decimal(value))
        return value.to_decimal(self._unit)

    def _combine(self, parts):
        """The (..., N) array of the groups' parts (each (..., n_g)), region i at position i."""
        out = jnp.concatenate([jnp.asarray(parts[g]) for g in self._names], axis=-1)
        return out if self._order is None else jnp.take(out, self._order, axis=-1)

    def _with_unit(self, magnitude):
        return magnitude if self._unit.is_unitless else magnitude * self._unit

    def _regions(self, value, g, key):
        """An N-region input (or a function of the stage state giving one) at group ``g``'s regions."""
        if value is None:
            return None
        if callable(value):
            return lambda state: self._regions(value(state), g, key)
        shape = tuple(u.math.shape(value))
        if not shape or shape[-1] == 1:
            return value
        if shape[-1] != self.varshape[0]:
            raise ValueError(f'Input {key!r} of the MixedNode has shape {shape}: give one value per region of the '
                             f'node (last axis {self.varshape[0]}; group {g!r} reads its {len(self._indices[g])}) '
                             f'or a scalar.')
        return self._take[g](value)

    # ------------------------------------------------------------ step
    def update(self, *inputs, coupling=None, **named):
        """One step of every group; returns the combined coupled variable.

        ``coupling``: the (N,) coupling current, or a function of the stage state
        ``{'coupled': value}`` (how a Network passes it). ``named``: group inputs
        ``'<group>.<input>'``. Positional inputs may only be stimuli
        (:class:`brainmass.stimulus.Routed`), routed to their ``target`` (default: ``coupling``).
        """
        named = dict(named)
        for x in inputs:
            if x is None:
                continue
            if not isinstance(x, Routed):
                raise TypeError(f'MixedNode.update takes its inputs by keyword ({", ".join(self.input_keywords())}); '
                                f'got a positional {type(x).__name__}.')
            key = 'coupling' if x.target is None else self._stimulus_key(x.target)
            if key == 'coupling':
                coupling = _sum(coupling, x.value)
            else:
                named[key] = _sum(named.get(key), x.value)
        by_group = self._split_inputs(named)
        t = brainstate.environ.get('t', 0. * u.ms)
        start = {g: self._part(g, self._reader(g)) for g in self._names}
        start_current = []  # the current at the start of the step, evaluated once if needed

        def current_at_start():
            if not start_current:
                start_current.append(coupling({'coupled': self._with_unit(self._combine(start))}))
            return start_current[0]

        for g in self._names:
            by_group[g] = self._group_inputs(g, by_group[g], coupling, start, current_at_start)
        for g in self._names:
            if g not in self._joint:
                self.group(g).update(**by_group[g])
        if self._joint:
            self._integrate_jointly({g: by_group[g] for g in self._joint}, t)
        self.coupled.value = self._coupled_now()
        return self.coupled.value

    def _coupled_now(self):
        return self._with_unit(self._combine({g: self._part(g, self._reader(g)) for g in self._names}))

    def _stimulus_key(self, target):
        keywords = self.input_keywords()
        key = next((k for k in (target, f'{target}_inp') if k in keywords), None)
        if key is None:
            raise ValueError(f'stimulus `target` {target!r} is not an input of the MixedNode; its inputs are '
                             f'{", ".join(keywords)} (a group input as \'<group>.<variable>\').')
        return key

    def _split_inputs(self, named):
        """``{'<group>.<input>': value}`` -> ``{group: {input: value}}`` (unknown keywords: TypeError)."""
        by_group = {g: {} for g in self._names}
        for key, value in named.items():
            g, _, inner = key.partition('.')
            if g not in by_group or inner not in self.group(g).input_keywords():
                raise TypeError(f'MixedNode.update got an unexpected input {key!r}; inputs are '
                                f'{", ".join(self.input_keywords())}.')
            by_group[g][inner] = self._regions(value, g, key)
        return by_group

    def _group_inputs(self, g, given, coupling, start, current_at_start):
        """Group ``g``'s keyword inputs: its own, plus its share of the coupling current at its coupling input."""
        node = self.group(g)
        if coupling is None:
            return given
        gain = self._gain.get(g)
        if not callable(coupling):
            share = self._regions(coupling, g, 'coupling')
        elif g in self._joint:  # the joint stage state -> the current at this stage
            def share(state, g=g):
                stage = state[_STAGE]
                parts = {h: (self._part(h, self._reader(h, stage)) if h in self._joint else start[h])
                         for h in self._names}
                return self._regions(coupling({'coupled': self._with_unit(self._combine(parts))}), g, 'coupling')
        elif node.stage_inputs:  # its own stage state, the other groups held at the start of the step
            def share(state, g=g):
                parts = dict(start, **{g: self._part(g, state.__getitem__)})
                return self._regions(coupling({'coupled': self._with_unit(self._combine(parts))}), g, 'coupling')
        else:
            share = self._regions(current_at_start(), g, 'coupling')
        if gain is not None:
            share = _scaled(share, gain)
        inputs = dict(given)
        for key, value in node.network_inputs(share).items():
            inputs[key] = _sum(_in_unit(node, key, inputs.get(key)), _in_unit(node, key, value))
        return inputs

    def _integrate_jointly(self, inputs, t):
        """One step of the common method over the joint state of the groups in ``inputs``."""
        inp = {g: self.group(g)._gather_inputs((), named) for g, named in inputs.items()}
        y = {(g, var): getattr(self.group(g), var).value for g in inputs for var in self.group(g).state_vars}

        def group_state(g, stage):
            state = {var: stage[(g, var)] for var in self.group(g).state_vars}
            state[_STAGE] = stage
            return state

        def rhs(key, stage, t_):
            g, var = key
            return self.group(g)._rhs(var, group_state(g, stage), t_, inp[g])

        if self.method == 'exp_euler':
            new = exp_euler_step(lambda key, stage: rhs(key, stage, t), y, t)
        else:
            new = INTEGRATORS[self.method](lambda stage, t_: {key: rhs(key, stage, t_) for key in y}, y, t)
        for (g, var), value in new.items():
            node = self.group(g)
            getattr(node, var).value = node._clip(var, value)

    def output(self):
        return self.coupled.value

    def __repr__(self):
        parts = [f'{g}: {type(self.group(g)).__name__} x {len(self._indices[g])} ('
                 f'{terms_text(self._terms[g])})' for g in self._names]
        return f'MixedNode({", ".join(parts)}; in_size={self.in_size}, method={self.method!r})'


# ----------------------------------------------------------------- helpers
def _integrated_jointly(node) -> bool:
    """A group whose model takes function inputs and declares the standard step."""
    return bool(node.stage_inputs) and type(node).standard_step


def _selector(idx):
    """``value[..., idx]`` as a static slice when the indices are a contiguous increasing range."""
    start = int(idx[0])
    if np.array_equal(idx, np.arange(start, start + len(idx))):
        stop = start + len(idx)
        return lambda value: value[..., start:stop]
    index = jnp.asarray(idx, dtype=jnp.int32)
    return lambda value: jnp.take(value, index, axis=-1) if not isinstance(value, u.Quantity) else value[..., index]


def _sum(a, b):
    """``a + b`` where either may be None or a function of the stage state."""
    if a is None:
        return b
    if b is None:
        return a
    if callable(a) or callable(b):
        return lambda state: _sum(a(state) if callable(a) else a, b(state) if callable(b) else b)
    return a + b


def _scaled(value, gain):
    if isinstance(gain, np.ndarray):
        gain = jnp.asarray(gain, dtype=brainstate.environ.dftype())
    if callable(value):
        return lambda state: value(state) * gain
    return value * gain


def _in_unit(node, key, value):
    """A group input in its variable's unit when the group maps ``<var>_inp`` itself (so sums are well defined);
    the inputs of a model with its own ``update`` signature are left as given."""
    if value is None or type(node).update_inputs is not None or not key.endswith('_inp'):
        return value
    var = key[:-4]
    if callable(value):
        return lambda state: node.input_in_unit_of(var, value(state))
    return node.input_in_unit_of(var, value)


def _representative_init(specs, terms):
    """What a Network reads to decide whether the delay history can carry a derivative: 0 when every
    group's coupled states start from constants or initializers, otherwise the first other init."""
    for g, (_, node, _) in specs.items():
        for _, var in terms[g]:
            spec = node._inits.get(var, 0.) if isinstance(getattr(node, '_inits', None), dict) else None
            if not constant_history(spec):
                return spec
    return 0.
