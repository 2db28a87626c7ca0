"""Deprecated names of earlier brainmass releases.

Older code (e.g. the "Building Multi-Region Networks" guide) used
``HopfOscillator``, ``WilsonCowanModel``, ``WongWangModel`` and ``<X>Model``
for every model now called ``<X>Step``. They still work: each resolves, lazily
through this module's ``__getattr__``, to a subclass of the current class whose
constructor emits a :class:`DeprecationWarning` naming the new class.

=====================  ==============================  ===========================================
old name               new class                       notes
=====================  ==============================  ===========================================
``HopfOscillator``     :class:`HopfStep`               ``omega`` (angular frequency) is ``w``
``WilsonCowanModel``   :class:`WilsonCowanStep`
``WongWangModel``      :class:`WongWangExcInhStep`     the resting-state node: ``S_E`` / ``S_I``,
                                                       ``update(S_E_ext=..., S_I_ext=...)``,
                                                       ``noise_E`` (see :class:`WongWangModel`)
``<X>Model``           ``<X>Step``                     any model, e.g. ``JansenRitModel``
=====================  ==============================  ===========================================

``brainmass/__init__.py`` forwards unknown attributes here, so
``brainmass.HopfOscillator`` works; :data:`LEGACY_NAMES` lists the names.
"""
from __future__ import annotations

import importlib
import sys
import warnings

import brainstate
import brainunit as u

from .._core.step import MODEL_REGISTRY
from .._core.units import same_dim
from .hopf import HopfStep
from .wilson_cowan import WilsonCowanStep
from .wong_wang import WongWangExcInhStep

__all__ = ['LEGACY_NAMES', 'legacy_names', 'resolve', 'module_getattr']

#: Old names with a hand-written replacement.
_SPECIAL = {'HopfOscillator': 'HopfStep', 'WilsonCowanModel': 'WilsonCowanStep',
            'WongWangModel': 'WongWangExcInhStep'}

#: The ``*Step`` classes of the public API; each ``<X>Step`` had the old name ``<X>Model``.
_API_STEPS = (
    'HopfStep', 'StuartLandauStep', 'VanDerPolStep', 'FitzHughNagumoStep', 'MontbrioPazoRoxinStep',
    'CoombesByrneStep', 'LarterBreakspearStep', 'EpileptorStep', 'Generic2dOscillatorStep', 'WongWangStep',
    'WongWangExcInhStep', 'LorenzStep', 'LinearStep', 'ThresholdLinearStep', 'JansenRitStep',
    'WilsonCowanStep', 'WilsonCowanNoSaturationStep', 'WilsonCowanSymmetricStep', 'WilsonCowanSimplifiedStep',
    'WilsonCowanLinearStep', 'WilsonCowanDivisiveStep', 'WilsonCowanDivisiveInputStep',
    'WilsonCowanDelayedStep', 'WilsonCowanAdaptiveStep', 'WilsonCowanThreePopulationStep', 'HORNStep',
)

#: Every deprecated name (``<X>Model`` for each API ``<X>Step`` plus the special ones).
LEGACY_NAMES = tuple(sorted(set(_SPECIAL) | {name[:-4] + 'Model' for name in _API_STEPS}))

_CACHE: dict = {}


def _warn(old, new, note=''):
    # attribute the warning to the first frame outside brainmass / brainstate (the user's call)
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_globals.get('__name__', '').split('.')[0] in ('brainmass', 'brainstate'):
        frame, level = frame.f_back, level + 1
    warnings.warn(f'brainmass.{old} is deprecated; use brainmass.{new} instead{note}.',
                  DeprecationWarning, stacklevel=level)


def _public(cls, old):
    """Give a privately created class (kept out of MODEL_REGISTRY) its public old name."""
    cls.__name__ = cls.__qualname__ = old
    cls.__module__ = __name__
    return cls


# --------------------------------------------------------------- special names
class _HopfOscillator(HopfStep):
    """Deprecated: :class:`HopfStep` with the angular frequency called ``omega``.

    ``HopfOscillator(in_size, omega=2 * jnp.pi * 10 * u.Hz, a=0.1)`` is
    ``HopfStep(in_size, a=0.1, w=2 * jnp.pi * 10 * u.Hz)`` (``omega`` in rad/ms
    for plain numbers; quantities such as Hz are converted).
    """

    deprecated_alias_of = 'HopfStep'

    def __init__(self, in_size, omega=0.2, a=0.25, beta=1.0, **kwargs):
        _warn('HopfOscillator', 'HopfStep', ' (omega is now w)')
        super().__init__(in_size, a=a, w=omega, beta=beta, **kwargs)

    def output(self):
        """The old API's ``(x, y)`` (``HopfStep.update`` returns ``x``)."""
        return self.x.value, self.y.value


class _WilsonCowanModel(WilsonCowanStep):
    """Deprecated: :class:`WilsonCowanStep`."""

    deprecated_alias_of = 'WilsonCowanStep'

    def __init__(self, *args, **kwargs):
        _warn('WilsonCowanModel', 'WilsonCowanStep')
        super().__init__(*args, **kwargs)


def _is_rate_noise(module):
    unit = getattr(module, 'unit', None)
    return module is not None and unit is not None and same_dim(unit, u.Hz)


class _WongWangModel(WongWangExcInhStep):
    r"""Deprecated: the resting-state :class:`WongWangExcInhStep` (Deco et al. 2014) under its old API.

    * ``S_E`` / ``S_I`` are the states ``S_e`` / ``S_i``;
    * ``update(S_E_ext=None, S_I_ext=None)``: the long-range inputs (S_e units,
      e.g. a coupling current), entering the currents as :math:`J_N u`;
    * ``noise_E`` / ``noise_I`` (settable attributes or arguments):

      - dimensionless noise acts on the input, as in :class:`WongWangExcInhStep`;
      - noise in units of a rate (``sigma=0.01 * u.Hz``) is the additive noise
        :math:`\sigma\nu(t)` of Deco et al. (2013, 2014) on :math:`dS/dt`: its
        value :math:`\eta` (converted to 1/ms) is added as :math:`\eta\,dt`
        after each deterministic step (Euler-Maruyama, operator splitting),
        then ``S`` is clipped to [0, 1].
    """

    deprecated_alias_of = 'WongWangExcInhStep'
    noise_aliases = {'E': 'S_e', 'I': 'S_i', 'S_E': 'S_e', 'S_I': 'S_i'}
    #: update's old signature; a Network's coupling current is S_E_ext
    update_inputs = ('S_E_ext', 'S_I_ext')
    coupling_input = 'S_E_ext'

    def __init__(self, in_size, *args, noise_E=None, noise_I=None, **kwargs):
        _warn('WongWangModel', 'WongWangExcInhStep', ' (states S_e, S_i; inputs S_e_inp, S_i_inp)')
        super().__init__(in_size, *args, **kwargs)
        if noise_E is not None:
            self.noise_E = noise_E
        if noise_I is not None:
            self.noise_I = noise_I

    def __setattr__(self, name, value):
        var = self._noise_target(name)
        if var is None:
            return super().__setattr__(name, value)
        rate = value if _is_rate_noise(value) else None
        WongWangExcInhStep.__setattr__(self, f'rate_noise_{var}', rate)
        super().__setattr__(f'noise_{var}', None if rate is not None else value)

    def __getattr__(self, name):
        var = self._noise_target(name)
        if var is not None and self.__dict__.get(f'rate_noise_{var}') is not None:
            return self.__dict__[f'rate_noise_{var}']
        return super().__getattr__(name)

    @property
    def S_E(self):
        """The excitatory gating state (``S_e``)."""
        return self.S_e

    @property
    def S_I(self):
        """The inhibitory gating state (``S_i``)."""
        return self.S_i

    def update(self, S_E_ext=None, S_I_ext=None, **named):
        """One step with long-range inputs ``S_E_ext`` / ``S_I_ext``; returns ``S_e``."""
        if S_E_ext is not None:
            named['S_e_inp'] = S_E_ext
        if S_I_ext is not None:
            named['S_i_inp'] = S_I_ext
        self.integrate(**named)
        dt = brainstate.environ.get_dt()
        for var in self.state_vars:
            noise = self.__dict__.get(f'rate_noise_{var}')
            if noise is not None:
                kick = u.maybe_decimal(noise() * dt)
                state = getattr(self, var)
                state.value = self._clip(var, state.value + kick)
        return self.output()


_public(_HopfOscillator, 'HopfOscillator')
_public(_WilsonCowanModel, 'WilsonCowanModel')
_public(_WongWangModel, 'WongWangModel')
_EXPLICIT = {'HopfOscillator': _HopfOscillator, 'WilsonCowanModel': _WilsonCowanModel,
             'WongWangModel': _WongWangModel}


# ---------------------------------------------------------- generated <X>Model
def _step_class(step_name):
    models = importlib.import_module('brainmass.models')
    cls = getattr(models, step_name, None)
    if cls is None:
        from .registry import load_all_models
        load_all_models()
        cls = MODEL_REGISTRY.get(step_name)
    return cls


def _generated(old, new_cls):
    def __init__(self, *args, **kwargs):
        _warn(old, new_cls.__name__)
        new_cls.__init__(self, *args, **kwargs)

    namespace = {'__init__': __init__, 'deprecated_alias_of': new_cls.__name__,
                 '__doc__': f'Deprecated: use :class:`{new_cls.__name__}` (same arguments).'}
    return _public(type('_' + old, (new_cls,), namespace), old)


def resolve(name):
    """The class behind a deprecated ``name`` (AttributeError when there is none)."""
    if name in _CACHE:
        return _CACHE[name]
    if name in _EXPLICIT:
        return _EXPLICIT[name]
    if name.endswith('Model') and len(name) > 5 and not name.startswith('_'):
        new_cls = _step_class(name[:-5] + 'Step')
        if new_cls is not None:
            _CACHE[name] = _generated(name, new_cls)
            return _CACHE[name]
    raise AttributeError(f"module 'brainmass' has no attribute {name!r}")


def legacy_names():
    """The deprecated names that resolve now (those of :data:`LEGACY_NAMES` whose new class exists)."""
    names = []
    for name in LEGACY_NAMES:
        try:
            resolve(name)
        except AttributeError:
            continue
        names.append(name)
    return names


def module_getattr(module_name):
    """A module-level ``__getattr__`` for ``module_name`` that resolves the deprecated names."""
    def __getattr__(name):
        if name.startswith('__'):
            raise AttributeError(f'module {module_name!r} has no attribute {name!r}')
        try:
            return resolve(name)
        except AttributeError:
            raise AttributeError(f'module {module_name!r} has no attribute {name!r}') from None

    return __getattr__


__getattr__ = module_getattr(__name__)


def __dir__():
    return sorted(set(globals()) | set(legacy_names()))
