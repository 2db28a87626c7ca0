r"""The ``*Step`` model contract.

:class:`StepModel` owns everything a neural-mass model file should not repeat:
parameter wrapping through ``brainstate.nn.Param``, ``in_size`` validation,
state creation, per-variable noise hooks, input/unit handling and the
integration step. A concrete model declares

* ``state_vars`` - the ODE variables, in order (``('x', 'y')``);
* ``state_units`` - units of variables that carry one (``{'r': u.Hz}``);
* ``state_bounds`` - optional ``(low, high)`` clipping (e.g. gating in [0, 1]);
* one method per right-hand side, ``d<var>``, whose argument names are state
  variables, ``inp`` (this variable's input, in the variable's unit) and/or
  ``t``; it returns ``d<var>/dt`` (a plain rate is written ``... / u.ms``);
* ``output()`` - the observable ``update`` returns.

Inputs: ``update(*inputs, **named)`` maps positional inputs to ``input_vars``
(default: ``state_vars`` order) and keyword inputs ``<var>_inp``. An input may
also be a function of the state dict, evaluated at every stage of the
integrator (a :class:`~brainmass.Network` passes its coupling this way, so
an instantaneous coupling is integrated to the scheme's full order). An input
carries the unit of the variable it drives (plain numbers are read in that
unit) and is added inside that variable's right-hand side. A noise module set
with ``noise_<var>`` is called every step and added to that input.

Routing in a :class:`~brainmass.Network` is declared, never guessed from
argument positions: ``coupling_input`` names the input the Network's coupling
current drives (default: the first of ``input_vars``), and the Network's
external inputs fill the remaining inputs in order. A model whose ``update``
has its own signature declares its keyword names in ``update_inputs`` and
whether it takes inputs as functions (``stage_inputs``); a subclass that
overrides ``update`` without declaring them gets, once at class definition,
the names of its signature (``update(*inputs)``: the standard mapping) and
plain-value inputs. A model that reads an input in another unit than its
variable's declares ``inputs_in_state_units = False`` (the Simulator then
leaves the unit check to the model).
"""
from __future__ import annotations

import inspect
from typing import Dict, Optional, Tuple

import brainstate
import braintools
import brainunit as u
import jax.numpy as jnp

from .display import value_text
from .integrators import INTEGRATORS, exp_euler_step, get_integrator
from .params import ReassignableParams, UnitConst
from .units import param_magnitude, same_dim, time_to_ms, unit_name
from .validation import (INIT_KINDS, as_numeric, broadcasts_to, check_fits_shape, check_in_size, check_values,
                         checked_param)

__all__ = ['StepModel', 'MODEL_REGISTRY']

#: Every concrete model class, by name (filled by ``__init_subclass__``).
MODEL_REGISTRY: Dict[str, type] = {}

_ZERO = 0.


class StepModel(ReassignableParams, brainstate.nn.Dynamics):
    """Base class of every ``*Step`` neural-mass model.

    Parameters
    ----------
    in_size : int or tuple of int
        Number of regions (or the shape of a bank of nodes); every entry >= 1.
    method : str, default 'exp_euler'
        Integrator (see :func:`brainmass.list_methods`); validated here.
    noise : dict, optional
        ``{var: Noise or None}``; a noise's unit must match its variable's.
    init : dict, optional
        ``{var: initializer, number, array or quantity}``.
    """

    state_vars: Tuple[str, ...] = ()
    #: extra spellings of ``noise_<var>`` (e.g. ``{'E': 'rE'}`` allows ``noise_E``)
    noise_aliases: Dict[str, str] = {}
    #: other names of state variables that a Network's ``coupled_var`` accepts (e.g. TVB's 'y1')
    state_aliases: Dict[str, str] = {}
    state_units: Dict[str, u.Unit] = {}
    state_bounds: Dict[str, tuple] = {}
    #: the variables the positional inputs of ``update`` / ``derivative`` drive, in order (default: state_vars)
    input_vars: Optional[Tuple[str, ...]] = None
    #: the input a Network's coupling current drives: a variable of ``input_vars`` (or an entry of
    #: ``update_inputs``); default the first input. Declared, so ``update``'s order may differ.
    coupling_input: Optional[str] = None
    #: keyword names of ``update``'s inputs in positional order, for an ``update`` with its own signature
    #: (default ``<var>_inp`` for each of ``input_vars``)
    update_inputs: Optional[Tuple[str, ...]] = None
    #: whether ``update`` takes an input given as a function of the stage state (how a Network passes
    #: its coupling, so the integrator re-evaluates it at every stage)
    stage_inputs: bool = True
    #: whether every input is read in the unit of the variable it drives (``unit_of(var)``; plain numbers
    #: in that unit), so a Simulator can check an input's unit before the trace. A class converting its
    #: inputs otherwise declares False (one that overrides ``input_in_unit_of`` without declaring it gets False)
    inputs_in_state_units: bool = True
    #: whether the class steps with the standard ``update`` / ``integrate`` and gathers its inputs the
    #: standard way, so a :class:`~brainmass.MixedNode` may integrate it together with other groups; a class
    #: overriding any of them gets False, unless it declares otherwise
    standard_step: bool = True
    #: registry metadata (see :func:`brainmass.list_models`)
    category: str = ''
    use_case: str = ''

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._rhs_args = {v: _rhs_arguments(cls, v) for v in cls.state_vars}
        if 'update' in cls.__dict__:  # an update of its own that does not declare its inputs
            if 'update_inputs' not in cls.__dict__:
                cls.update_inputs = _update_keywords(cls.update)
            if 'stage_inputs' not in cls.__dict__:
                cls.stage_inputs = False  # plain values, unless the class says otherwise
        if 'standard_step' not in cls.__dict__ and any(name in cls.__dict__
                                                        for name in ('update', 'integrate', '_gather_inputs')):
            cls.standard_step = False  # its own stepping, unless the class says otherwise
        if 'input_in_unit_of' in cls.__dict__ and 'inputs_in_state_units' not in cls.__dict__:
            cls.inputs_in_state_units = False  # its own unit conversion, unless the class says otherwise
        if cls.state_vars:
            cls.coupling_keyword()  # the declared routing names an input of update (TypeError otherwise)
        if cls.state_vars and not cls.__name__.startswith('_'):
            MODEL_REGISTRY[cls.__name__] = cls

    def __init__(self, in_size, *, method='exp_euler', noise=None, init=None, name=None, **aliases):
        in_size = check_in_size(in_size)
        self.method = get_integrator(method)
        super().__init__(in_size, name=name)
        self._inits = dict(init or {})
        self._take_init_aliases(aliases)
        self._inits = {var: self._check_init(var, spec) for var, spec in self._inits.items()}
        for var, module in (noise or {}).items():
            self._set_noise(type(self).noise_aliases.get(var, var), module)

    # ------------------------------------------------------------------ set-up
    def _take_init_aliases(self, aliases):
        for key, value in aliases.items():
            var = key[:-5] if key.endswith('_init') else None
            if var not in self.state_vars:
                raise TypeError(f"{type(self).__name__}() got an unexpected keyword argument {key!r}")
            self._inits[var] = value

    def _check_init(self, var, spec):
        """Check an ``init_<var>`` value at construction (type, unit, NaN/inf, shape)."""
        name, owner = f'init_{var}', type(self).__name__
        if isinstance(spec, (brainstate.nn.Param, brainstate.State)) or callable(spec):
            return spec  # initializers (and states) are resolved by init_state
        spec = as_numeric(spec, name, owner, kinds=INIT_KINDS)
        check_values(self._in_state_unit(var, spec), name, owner)
        # a leading batch axis is allowed (matched against batch_size by init_state)
        check_fits_shape(u.math.shape(spec), self.varshape, name, owner, batch_axis=True)
        return spec

    def __setattr__(self, name, value):
        var = self._noise_target(name)
        if var is not None:
            self._set_noise(var, value)
        else:
            super().__setattr__(name, value)

    def __getattr__(self, name):
        var = type(self).noise_aliases.get(name[6:]) if name.startswith('noise_') else None
        if var is not None:
            return getattr(self, f'noise_{var}')
        raise AttributeError(f'{type(self).__name__!r} object has no attribute {name!r}')

    def _noise_target(self, name):
        if not name.startswith('noise_'):
            return None
        key = name[6:]
        key = type(self).noise_aliases.get(key, key)
        return key if key in self.state_vars else None

    def _set_noise(self, var, module):
        from .noise import Noise
        noise_vars = self.__dict__.setdefault('_noise_vars', [])
        if module is None:
            super().__setattr__(f'noise_{var}', None)
            if var in noise_vars:
                noise_vars.remove(var)
            return
        if not isinstance(module, Noise):
            raise TypeError(f'`noise_{var}` must be a brainmass noise module (e.g. OUProcess) or None; '
                            f'got {type(module).__name__}.')
        noise_shape, shape = tuple(module.varshape), tuple(self.varshape)
        if not broadcasts_to(noise_shape, shape):
            size = shape[0] if len(shape) == 1 else shape
            raise ValueError(f'`noise_{var}` has size {noise_shape}, but {type(self).__name__} has in_size '
                             f'{shape}: create the noise with the node\'s size, e.g. '
                             f'{type(module).__name__}({size}, ...).')
        if not same_dim(module.unit, self.unit_of(var)):
            raise ValueError(f'`noise_{var}` has unit {unit_name(1 * module.unit if module.unit else 1)}, '
                             f'but variable {var!r} of {type(self).__name__} is in '
                             f'{unit_name(1 * self.unit_of(var))}; give sigma in the same unit.')
        super().__setattr__(f'noise_{var}', module)
        if var not in noise_vars:
            noise_vars.append(var)

    def unit_of(self, var) -> u.Unit:
        """Unit of a state variable (``u.UNITLESS`` when dimensionless)."""
        return self.state_units.get(var, u.UNITLESS)

    def param(self, value, name: str, unit=None, *, positive=False, nonnegative=False, allow_inf=False):
        """Check a parameter and wrap it as a ``brainstate.nn.Param``.

        ``value`` may be a number, a list / array (per region; its shape must
        broadcast to ``varshape`` without changing it), a quantity, an
        initializer or a ``brainstate.nn.Param``. ``unit`` given: quantities are
        converted to it (plain numbers are already in it), e.g. time constants
        in ms, and the constant is a :class:`~brainmass._core.params.UnitConst`,
        stored as a magnitude and read back as a quantity (``node.tau.value()``
        is ``2. ms``); ``unit=None``: the parameter is dimensionless (a plain
        ``Const``). A ``Param`` passed in is kept as is (the Fitter and the user
        hold it); a quantity in it must have the unit's dimension. Concrete
        values must be finite (``allow_inf``: +-inf allowed) and, with
        ``positive`` / ``nonnegative``, > 0 / >= 0. A trainable ``Param``
        (``fit=True``) and traced values are only shape-checked. The checks run
        once, here, never in the compiled step. Right-hand sides read the value
        with :meth:`magnitude`.
        """
        owner = type(self).__name__
        self.__dict__.setdefault('_param_checks', {})[name] = dict(
            unit=unit, positive=positive, nonnegative=nonnegative, allow_inf=allow_inf)
        given = isinstance(value, brainstate.nn.Param)
        if given:
            self._param_magnitude(value.value(), name, unit)  # a quantity of another dimension: ValueError
        elif not callable(value):
            value = self._param_magnitude(as_numeric(value, name, owner), name, unit)
        param = checked_param(value, self.varshape, name, owner,
                              unit='' if unit is None or unit.is_unitless else str(unit),
                              positive=positive, nonnegative=nonnegative, allow_inf=allow_inf)
        if given or unit is None or unit.is_unitless:
            return param
        return UnitConst(self._param_magnitude(param.value(), name, unit), unit)

    def magnitude(self, name: str):
        """Parameter ``name`` as a plain magnitude in its declared unit (what right-hand sides read).

        A constant gives its stored number; a ``Param`` passed by the user (e.g. a
        trainable one) its value, a plain number being read in the declared unit and a
        quantity converted to it. The unit handling runs at trace time only: the
        compiled step reads the same array as before.

        Examples
        --------
        >>> import brainmass, brainunit as u
        >>> brainmass.HopfStep(1, a=200 * u.Hz).magnitude('a')
        Array(0.2, dtype=float32)
        """
        checks = self.__dict__.get('_param_checks', {}).get(name)
        if checks is None:
            raise AttributeError(f'{type(self).__name__} has no parameter {name!r} declared with self.param().')
        return self._param_magnitude(getattr(self, name).value(), name, checks['unit'])

    def _param_magnitude(self, value, name, unit):
        """A parameter value as a plain magnitude in ``unit`` (``None``: dimensionless)."""
        return param_magnitude(value, unit, name, type(self).__name__)

    def _reassigned_param(self, name, value, old):
        """``node.<param> = value`` after construction: checked as the constructor checked it."""
        checks = self.__dict__.get('_param_checks', {}).get(name)
        if checks is None:
            return super()._reassigned_param(name, value, old)
        return self.param(value, name, **checks)

    def check_params(self):
        """Check the present value of every constant parameter as the constructor checked it.

        ``node.tau_E = value`` is checked when assigned; a value put into a constant with
        ``param.set_value(...)`` is checked here: the :class:`~brainmass.Simulator` calls this
        before a run whenever a constant parameter of its model changed. Trainable
        parameters (kept in range by their transforms) and traced values are skipped.
        Raises a ValueError naming the parameter (shape, NaN/inf, sign).
        """
        owner = type(self).__name__
        for name, checks in self.__dict__.get('_param_checks', {}).items():
            param = self.__dict__.get(name)
            if not isinstance(param, brainstate.nn.Param) or isinstance(param.val, brainstate.State):
                continue
            value = self._param_magnitude(param.value(), name, checks['unit'])
            unit = checks['unit']
            check_fits_shape(u.math.shape(value), self.varshape, name, owner, batch_axis=True)
            check_values(value, name, owner, unit='' if unit is None or unit.is_unitless else str(unit),
                         positive=checks['positive'], nonnegative=checks['nonnegative'],
                         allow_inf=checks['allow_inf'])

    def time_param(self, value, name: str):
        """A time constant (> 0): plain numbers are ms, quantities are converted to ms."""
        if isinstance(value, u.Quantity):
            time_to_ms(value, name)
        return self.param(value, name, unit=u.ms, positive=True)

    # ------------------------------------------------------------------ states
    def init_state(self, batch_size=None, **kwargs):
        """Create one ``brainstate.HiddenState`` per variable (``self.<var>``)."""
        for var in self.state_vars:
            setattr(self, var, brainstate.HiddenState(self._initial_value(var, batch_size)))

    def reset_state(self, batch_size=None, **kwargs):
        for var in self.state_vars:
            getattr(self, var).value = self._initial_value(var, batch_size)

    def _initial_value(self, var, batch_size):
        shape = self.varshape if batch_size is None else (batch_size,) + tuple(self.varshape)
        spec = self._inits.get(var, _ZERO)
        value = braintools.init.param(spec, self.varshape, batch_size=batch_size)
        unit = self.unit_of(var)
        value = self._in_state_unit(var, value)
        check_fits_shape(u.math.shape(value), shape, f'init_{var}', type(self).__name__,
                         what='the state shape (batch_size,) + in_size' if batch_size is not None else 'in_size')
        value = jnp.broadcast_to(jnp.asarray(value, dtype=brainstate.environ.dftype()), shape)
        return value if unit.is_unitless else value * unit

    def _in_state_unit(self, var, value):
        """An initial value of ``var`` as a plain magnitude in the variable's unit."""
        if not isinstance(value, u.Quantity):
            return value
        unit = self.unit_of(var)
        if not same_dim(u.get_unit(value), unit):
            raise ValueError(f'`init_{var}` of {type(self).__name__} has unit {unit_name(value)}, '
                             f'expected {unit_name(1 * unit)}.')
        return u.get_magnitude(value.to(unit)) if not unit.is_unitless else u.maybe_decimal(value)

    def state_dict(self) -> dict:
        """Current values of the ODE variables, ``{var: value}``."""
        return {v: getattr(self, v).value for v in self.state_vars}

    # ------------------------------------------------------------- derivative
    def derivative(self, state, t, *inputs, **named):
        """The right-hand side ``{var: d var / dt}`` at ``state`` (a dict)."""
        inp = self._gather_inputs(inputs, named, with_noise=False)
        return {v: self._rhs(v, state, t, inp) for v in self.state_vars}

    def _rhs(self, var, state, t, inp):
        kwargs = {}
        for arg in self._rhs_args[var]:
            if arg == 'inp':
                kwargs['inp'] = inp[var](state) if callable(inp[var]) else inp[var]
            elif arg == 't':
                kwargs['t'] = t
            else:
                kwargs[arg] = state[arg]
        return getattr(self, 'd' + var)(**kwargs)

    # ------------------------------------------------------------------ inputs
    @classmethod
    def input_order(cls) -> Tuple[str, ...]:
        """The variables the positional inputs drive, in order (``input_vars``, default ``state_vars``)."""
        return tuple(cls.input_vars if cls.input_vars is not None else cls.state_vars)

    @classmethod
    def input_keywords(cls) -> Tuple[str, ...]:
        """The keyword names of ``update``'s inputs, in its positional order."""
        if cls.update_inputs is not None:
            return tuple(cls.update_inputs)
        return tuple(f'{v}_inp' for v in cls.input_order())

    @classmethod
    def coupled_input(cls) -> str:
        """The declared ``coupling_input`` (default: the first input)."""
        return cls.coupling_input if cls.coupling_input is not None else cls.input_order()[0]

    @classmethod
    def coupling_keyword(cls) -> Optional[str]:
        """The keyword of ``update`` a Network passes its coupling current as (None: it takes no input)."""
        keywords = cls.input_keywords()
        if cls.coupling_input is None:
            return keywords[0] if keywords else None
        for key in (f'{cls.coupling_input}_inp', cls.coupling_input):
            if key in keywords:
                return key
        raise TypeError(f'{cls.__name__}.coupling_input {cls.coupling_input!r} is not an input of its update '
                        f'({", ".join(keywords) or "none"}).')

    def network_inputs(self, current, external=()) -> dict:
        """Keyword inputs of ``update`` for one Network step.

        ``current`` (the coupling current, possibly a function of the stage state) goes to the
        declared :meth:`coupling_keyword`, through :meth:`coupling_value`; ``external`` (the
        Simulator's inputs) fill the other inputs of ``update`` in their order.
        """
        coupled = self.coupling_keyword()
        if coupled is None:
            raise TypeError(f'{type(self).__name__}.update takes no input, so a Network cannot pass it a '
                            f'coupling current.')
        free = tuple(k for k in self.input_keywords() if k != coupled)
        if len(external) > len(free):
            raise TypeError(f'{type(self).__name__} in a Network takes at most {len(free)} external inputs '
                            f'({", ".join(free) or "none"}: its coupling current is {coupled}); '
                            f'got {len(external)}.')
        named = {key: value for key, value in zip(free, external) if value is not None}
        named[coupled] = self.coupling_value(current)
        return named

    def coupling_value(self, current):
        """The Network's coupling current as the input it drives (default: unchanged)."""
        return current

    def _gather_inputs(self, inputs, named, with_noise=True):
        order = self.input_order()
        if len(inputs) > len(order):
            raise TypeError(f'{type(self).__name__}.update takes at most {len(order)} inputs '
                            f'({", ".join(v + "_inp" for v in order)}); got {len(inputs)}.')
        given = dict(zip(order, inputs))
        for key, value in named.items():
            var = key[:-4] if key.endswith('_inp') else key
            if var not in self.state_vars:
                raise TypeError(f'{type(self).__name__}.update got an unexpected input {key!r}; '
                                f'inputs are {", ".join(v + "_inp" for v in order)}.')
            given[var] = value
        out = {}
        for var in self.state_vars:
            value = given.get(var)
            if with_noise and getattr(self, f'noise_{var}', None) is not None:
                value = _add(value, self.input_in_unit_of(var, getattr(self, f'noise_{var}')()))
            out[var] = _map_input(lambda v, var=var: self.input_in_unit_of(var, v), value)
        return out

    def input_in_unit_of(self, var, value):
        """An input to ``var`` in the unit the update reads it in: the unit of ``var`` (a quantity is
        converted, a plain number is read in that unit, None is zero). A model whose inputs take other
        units overrides this (and then declares ``inputs_in_state_units``).

        Examples
        --------
        >>> import brainmass, brainunit as u
        >>> print(brainmass.JansenRitStep(1).input_in_unit_of('E', 0.002 * u.volt))
        2. mV
        """
        unit = self.unit_of(var)
        if value is None:
            return 0. if unit.is_unitless else 0. * unit
        if isinstance(value, u.Quantity):
            if unit.is_unitless:
                if not u.get_unit(value).is_unitless:
                    raise ValueError(f'input to {var!r} of {type(self).__name__} must be dimensionless; '
                                     f'got {unit_name(value)}.')
                return u.get_magnitude(value)
            return value.to(unit)
        return value if unit.is_unitless else value * unit

    # -------------------------------------------------------------------- step
    def integrate(self, *inputs, **named):
        """Add noise, take one ``dt`` step of ``self.method`` and write the states."""
        t = brainstate.environ.get('t', 0. * u.ms)
        inp = self._gather_inputs(inputs, named)
        y = self.state_dict()
        if self.method == 'exp_euler':
            new = exp_euler_step(lambda var, s: self._rhs(var, s, t, inp), y, t)
        else:
            f = lambda s, t_: {v: self._rhs(v, s, t_, inp) for v in self.state_vars}
            new = INTEGRATORS[self.method](f, y, t)
        for var in self.state_vars:
            getattr(self, var).value = self._clip(var, new[var])

    def _clip(self, var, value):
        bounds = self.state_bounds.get(var)
        if bounds is None:
            return value
        low, high = bounds
        unit = self.unit_of(var)
        if not unit.is_unitless:
            low = None if low is None else low * unit
            high = None if high is None else high * unit
        return u.math.clip(value, low, high)

    def update(self, *inputs, **named):
        """Advance one step and return :meth:`output`."""
        self.integrate(*inputs, **named)
        return self.output()

    def output(self):
        """The observable returned by ``update`` (default: every state)."""
        values = tuple(getattr(self, v).value for v in self.state_vars)
        return values[0] if len(values) == 1 else values

    def __repr__(self):
        params = [f'{name}={_param_text(getattr(self, name))}'
                  for name in self.__dict__.get('_param_checks', {}) if name in self.__dict__]
        return f'{type(self).__name__}(' + ', '.join([f'in_size={self.in_size}', *params,
                                                       f'method={self.method!r}']) + ')'


def _param_text(param) -> str:
    """A parameter for ``repr``: its value (with unit), trainable ones marked ``(fit)``."""
    try:
        value = param.value() if isinstance(param, brainstate.nn.Param) else param
    except Exception:  # an initializer not yet evaluated
        return type(param).__name__
    text = value_text(value)
    return text + ' (fit)' if getattr(param, 'fit', False) else text


def _add(value, noise):
    """Input plus noise, where the input may be a function of the stage state."""
    if value is None:
        return noise
    if callable(value):
        return lambda state: value(state) + noise
    return value + noise


def _map_input(convert, value):
    if callable(value):
        return lambda state: convert(value(state))
    return convert(value)


def _update_keywords(update):
    """The input names of an undeclared ``update(a, b=None, ...)``; None for ``update(*inputs, **named)``
    (the standard mapping to ``input_vars``)."""
    params = list(inspect.signature(update).parameters.values())[1:]
    if params and params[0].kind is inspect.Parameter.VAR_POSITIONAL:
        return None
    return tuple(p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _rhs_arguments(cls, var):
    method = getattr(cls, 'd' + var, None)
    if method is None:
        raise TypeError(f'{cls.__name__} declares state {var!r} but defines no method d{var}.')
    names = [p for p in inspect.signature(method).parameters if p != 'self']
    allowed = set(cls.state_vars) | {'inp', 't'}
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise TypeError(f'{cls.__name__}.d{var} has arguments {unknown}: a right-hand side may only '
                        f'take state variables {cls.state_vars}, `inp` and `t`.')
    return tuple(names)
