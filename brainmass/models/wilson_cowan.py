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

import brainunit as u
import jax.numpy as jnp

from .._core.step import StepModel

__all__ = ['WilsonCowanStep', 'shifted_sigmoid']


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

    def __init__(self, in_size, tau_E=1. * u.ms, tau_I=1. * u.ms, a_E=1.2, theta_E=2.8,
                 a_I=1.0, theta_I=4.0, wEE=12., wIE=4., wEI=13., wII=11., r=1., *,
                 noise_E=None, noise_I=None, init_rE=0., init_rI=0., method='exp_euler',
                 name=None, **aliases):
        noise = dict(rE=aliases.pop('noise_rE', noise_E), rI=aliases.pop('noise_rI', noise_I))
        super().__init__(in_size, method=method, name=name, noise=noise,
                         init=dict(rE=init_rE, rI=init_rI), **aliases)
        self._population_params(tau_E, tau_I, a_E, theta_E, a_I, theta_I)
        self._weight_params(wEE, wIE, wEI, wII, r)

    def _population_params(self, tau_E, tau_I, a_E, theta_E, a_I, theta_I):
        """Time constants, gains and thresholds of the E and I populations (shared by the family)."""
        self.tau_E = self.time_param(tau_E, 'tau_E')
        self.tau_I = self.time_param(tau_I, 'tau_I')
        self.a_E = self.param(a_E, 'a_E')
        self.theta_E = self.param(theta_E, 'theta_E')
        self.a_I = self.param(a_I, 'a_I')
        self.theta_I = self.param(theta_I, 'theta_I')

    def _weight_params(self, wEE, wIE, wEI, wII, r):
        """The four local weights (w<source><target>) and the refractory factor (shared by the family)."""
        self.wEE = self.param(wEE, 'wEE')
        self.wIE = self.param(wIE, 'wIE')
        self.wEI = self.param(wEI, 'wEI')
        self.wII = self.param(wII, 'wII')
        self.r = self.param(r, 'r')

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
