r"""Wilson-Cowan excitatory-inhibitory population model.

Wilson & Cowan (1972), in the form used by The Virtual Brain:

.. math::

    \tau_E \dot r_E = -r_E + (1 - r\,r_E)\,F_E(w_{EE} r_E - w_{IE} r_I + I_E)

    \tau_I \dot r_I = -r_I + (1 - r\,r_I)\,F_I(w_{EI} r_E - w_{II} r_I + I_I)

with the shifted logistic :math:`F(x) = S(a(x-\theta)) - S(-a\theta)`,
:math:`S(z) = 1/(1+e^{-z})`, so that :math:`F(0) = 0` and the silent state
is a fixed point without input.

**Weight naming (one convention for the whole family).** ``w<source><target>``:
``wEE`` is E onto E, ``wIE`` is I onto E, ``wEI`` is E onto I and ``wII`` is
I onto I. Every weight is positive; the sign of inhibition is in the equation.
(TVB's c_ee, c_ie, c_ei, c_ii are the same four numbers.)

==========  =======  ======  =============================================
parameter   default  unit    meaning
==========  =======  ======  =============================================
tau_E       1        ms      excitatory time constant
tau_I       1        ms      inhibitory time constant
a_E         1.2      -       excitatory gain
theta_E     2.8      -       excitatory threshold
a_I         1.0      -       inhibitory gain
theta_I     4.0      -       inhibitory threshold
wEE         12       -       E -> E
wIE         4        -       I -> E
wEI         13       -       E -> I
wII         11       -       I -> I
r           1        -       refractoriness
==========  =======  ======  =============================================

States ``rE``, ``rI`` (dimensionless rates, start at 0). ``update(rE_inp,
rI_inp)`` returns ``rE``; inputs enter inside the sigmoids. Couple ``'rE'``
in a :class:`~brainmass.Network`. Noise: ``noise_E`` / ``noise_I`` (or
``noise_rE`` / ``noise_rI``).

References
----------
Wilson, H. R. & Cowan, J. D. (1972). Excitatory and inhibitory interactions in
localized populations of model neurons. *Biophys. J.* 12, 1-24.
"""
from __future__ import annotations

import inspect

import brainunit as u
import jax.numpy as jnp

from .._core.step import StepModel

__all__ = ['WilsonCowanStep', 'shifted_sigmoid']

#: time constants, gains and thresholds of the E and I populations (constructor order, defaults)
POPULATION_PARAMS = dict(tau_E=1. * u.ms, tau_I=1. * u.ms, a_E=1.2, theta_E=2.8, a_I=1.0, theta_I=4.0)
#: the four local weights, named w<source><target>
WEIGHT_PARAMS = dict(wEE=12., wIE=4., wEI=13., wII=11.)


def shifted_sigmoid(x, a, theta):
    r""":math:`S(a(x-\theta)) - S(-a\theta)` with the logistic :math:`S`."""
    return 1. / (1. + jnp.exp(-a * (x - theta))) - 1. / (1. + jnp.exp(a * theta))


class WilsonCowanStep(StepModel):
    r"""Wilson-Cowan E-I population (equations in the module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    tau_E, tau_I : float or Quantity
        Time constants (plain numbers are ms).
    a_E, theta_E, a_I, theta_I : float
        Sigmoid gains and thresholds.
    wEE, wIE, wEI, wII : float
        Coupling weights, named ``w<source><target>``.
    r : float
        Refractoriness.
    noise_E, noise_I : Noise, optional
        Dimensionless noise on the E / I inputs.
    init_rE, init_rI : initializer or value, default 0
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.WilsonCowanStep(2)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(20 * u.ms, inputs=1.0)
    >>> res['output'].shape
    (200, 2)
    """

    state_vars = ('rE', 'rI')
    noise_aliases = {'E': 'rE', 'I': 'rI'}
    category = 'population rate'
    use_case = 'E-I rate dynamics; oscillations and bistability; resting-state networks'

    #: the model parameters of the constructor, in order, with their defaults: a default in ms
    #: declares a time constant (plain numbers are ms, > 0), a number a dimensionless parameter.
    #: A variant declares its own dict (wilson_cowan_variants.py); its constructor is built from
    #: it (:func:`wilson_cowan_init`), so its signature is ``(in_size, <parameters>, *,
    #: noise_<E|I|...>=None, init_<var>=0., method='exp_euler', name=None, **aliases)``.
    model_params = {**POPULATION_PARAMS, **WEIGHT_PARAMS, 'r': 1.}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if '__init__' not in cls.__dict__:  # a variant: its constructor from its declared parameters
            cls.__init__ = wilson_cowan_init(cls)

    def _set_params(self, values):
        """Check and store the declared parameters (``{name: value}``, in ``model_params`` order)."""
        for name, value in values.items():
            if _is_time(type(self).model_params.get(name)):
                setattr(self, name, self.time_param(value, name))
            else:
                setattr(self, name, self.param(value, name))

    def F_E(self, x):
        return shifted_sigmoid(x, self.a_E.value(), self.theta_E.value())

    def F_I(self, x):
        return shifted_sigmoid(x, self.a_I.value(), self.theta_I.value())

    def input_E(self, rE, rI, inp):
        """Net input to the E population."""
        return self.wEE.value() * rE - self.wIE.value() * rI + inp

    def input_I(self, rE, rI, inp):
        """Net input to the I population."""
        return self.wEI.value() * rE - self.wII.value() * rI + inp

    def drE(self, rE, rI, inp):
        drive = (1. - self.r.value() * rE) * self.F_E(self.input_E(rE, rI, inp))
        return (-rE + drive) / (self.magnitude('tau_E') * u.ms)

    def drI(self, rE, rI, inp):
        drive = (1. - self.r.value() * rI) * self.F_I(self.input_I(rE, rI, inp))
        return (-rI + drive) / (self.magnitude('tau_I') * u.ms)

    def output(self):
        return self.rE.value


def _is_time(default) -> bool:
    return isinstance(default, u.Quantity) and u.get_unit(default).has_same_dim(u.ms)


def wilson_cowan_init(cls):
    """The ``__init__`` of a Wilson-Cowan class, built from its ``model_params`` and ``state_vars``.

    Signature: ``(self, in_size, <model_params in order, with their defaults>, *, noise_<key>=None
    for each state (key: its ``noise_aliases`` name, e.g. ``E`` for ``rE``, else the variable),
    init_<var>=0. for each state, method='exp_euler', name=None, **aliases)``; ``noise_<var>``
    and ``<var>_init`` spellings pass through ``aliases``, as for any :class:`StepModel`, and an
    unknown keyword is a TypeError. The parameters are checked and stored by ``_set_params``,
    after the :class:`StepModel` set-up.
    """
    noise_keys = {var: next((key for key, target in cls.noise_aliases.items() if target == var), var)
                  for var in cls.state_vars}
    P = inspect.Parameter
    signature = inspect.Signature(
        [P('self', P.POSITIONAL_OR_KEYWORD), P('in_size', P.POSITIONAL_OR_KEYWORD)]
        + [P(name, P.POSITIONAL_OR_KEYWORD, default=default) for name, default in cls.model_params.items()]
        + [P(f'noise_{key}', P.KEYWORD_ONLY, default=None) for key in noise_keys.values()]
        + [P(f'init_{var}', P.KEYWORD_ONLY, default=0.) for var in cls.state_vars]
        + [P('method', P.KEYWORD_ONLY, default='exp_euler'), P('name', P.KEYWORD_ONLY, default=None),
           P('aliases', P.VAR_KEYWORD)])

    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError as err:
            raise TypeError(f'{type(self).__name__}(): {err}') from None
        bound.apply_defaults()
        given = bound.arguments
        aliases = dict(given['aliases'])
        noise = {var: aliases.pop(f'noise_{var}', given[f'noise_{key}']) for var, key in noise_keys.items()}
        init = {var: given[f'init_{var}'] for var in cls.state_vars}
        super(WilsonCowanStep, self).__init__(given['in_size'], method=given['method'], name=given['name'],
                                              noise=noise, init=init, **aliases)
        self._set_params({name: given[name] for name in cls.model_params})

    __init__.__signature__ = signature
    __init__.__qualname__ = f'{cls.__qualname__}.__init__'
    __init__.__module__ = cls.__module__
    __init__.__doc__ = f'Build a {cls.__name__} (parameters: see the class docstring).'
    return __init__


WilsonCowanStep.__init__ = wilson_cowan_init(WilsonCowanStep)
