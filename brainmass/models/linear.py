r"""Linear and threshold-linear population models.

Linear
------
The simplest node, TVB's ``Linear`` model (Sanz-Leon et al. 2015): a leaky
integrator of its input,

.. math::

    \dot x = \gamma\,x + I .

``gamma`` is a rate per ms (plain numbers; quantities such as ``-10 * u.Hz``
are converted). For :math:`\gamma < 0` and no input the solution is the exact
exponential :math:`x(t) = x_0\,e^{\gamma t}`; with a constant input the fixed
point is :math:`x^* = -I/\gamma`. Linear networks around this node give the
analytic covariance / FC used in linear-stability studies of resting state.

==========  =======  =====  ============================================
parameter   default  unit   meaning
==========  =======  =====  ============================================
gamma       -10      1/ms   decay rate (negative: stable)
==========  =======  =====  ============================================

State ``x`` (dimensionless, starts at 0). ``update(x_inp)`` returns ``x``.
Couple ``'x'``.

Threshold-linear E-I circuit
----------------------------
The local excitatory-inhibitory circuit of Chaudhuri, Knoblauch, Gariel,
Kennedy & Wang (2015), Eqs. 1-4, with rectified-linear f-I curves:

.. math::

    \tau_E \dot E = -E + \beta_E\,\big[(1 + \eta h)(w_{EE} E + I_E) - w_{IE} I\big]_+

    \tau_I \dot I = -I + \beta_I\,\big[(1 + \eta h)(w_{EI} E + I_I) - w_{II} I\big]_+

where :math:`[z]_+ = \max(z, 0)`, :math:`E, I \ge 0` are firing rates (Hz,
held as plain numbers) and :math:`I_E, I_I` the external (long-range /
coupling) input currents in pA, also plain numbers. Excitatory inputs - the
local E -> E and E -> I synapses and the long-range input - are scaled by
:math:`1 + \eta h`, with :math:`h \in [0, 1]` the area's position in the
cortical hierarchy (:math:`h = 0` by default, i.e. the bottom area).

Weights use the family-wide ``w<source><target>`` convention (see
:mod:`brainmass.models.wilson_cowan`): ``wIE`` is I onto E, ``wEI`` is E onto
I. In the paper's target-source notation the same numbers are
:math:`w_{EE} = 24.3`, :math:`w_{EI}^{paper} = 19.7` (our ``wIE``),
:math:`w_{IE}^{paper} = 12.2` (our ``wEI``) and :math:`w_{II} = 12.5` pA/Hz.

Both populations leak (the :math:`-E`, :math:`-I` terms), and with the
published values the linear regime is stable (trace < 0, det > 0 of its
Jacobian), so without input the circuit decays to the silent rest state
:math:`E = I = 0`. With a constant input that keeps both brackets positive
the rates settle to the fixed point of the linear system

.. math::

    \begin{pmatrix} 1 - \beta_E s w_{EE} & \beta_E w_{IE} \\
    -\beta_I s w_{EI} & 1 + \beta_I w_{II} \end{pmatrix}
    \begin{pmatrix} E^* \\ I^* \end{pmatrix} =
    \begin{pmatrix} \beta_E s I_E \\ \beta_I s I_I \end{pmatrix},
    \qquad s = 1 + \eta h .

==========  =======  =======  =================================================
parameter   default  unit     meaning
==========  =======  =======  =================================================
tau_E       20       ms       excitatory time constant
tau_I       10       ms       inhibitory time constant
beta_E      0.066    Hz/pA    slope of the excitatory f-I curve
beta_I      0.351    Hz/pA    slope of the inhibitory f-I curve
wEE         24.3     pA/Hz    E -> E
wIE         19.7     pA/Hz    I -> E
wEI         12.2     pA/Hz    E -> I
wII         12.5     pA/Hz    I -> I
eta         0.68     -        hierarchy scaling of excitatory inputs
h           0        -        hierarchical position of the area
==========  =======  =======  =================================================

States ``E``, ``I`` (clipped at 0; start at 0). ``update(E_inp, I_inp)``
returns ``E``. Couple ``'E'`` in a :class:`~brainmass.Network` (the coupling
current enters the E input, scaled by :math:`1 + \eta h` like the paper's
long-range input). The paper's separate, unscaled external current
:math:`I_{ext}` is the same as ``E_inp`` at the default :math:`h = 0`; for
:math:`h > 0` pass :math:`I_{ext} / (1 + \eta h)` to keep it unscaled.

References
----------
Sanz-Leon, P., Knock, S. A., Spiegler, A. & Jirsa, V. K. (2015). Mathematical
framework for large-scale brain network modeling in The Virtual Brain.
*NeuroImage* 111, 385-430. doi:10.1016/j.neuroimage.2015.01.002
Chaudhuri, R., Knoblauch, K., Gariel, M.-A., Kennedy, H. & Wang, X.-J. (2015).
A large-scale circuit mechanism for hierarchical dynamical processing in the
primate cortex. *Neuron* 88, 419-431. doi:10.1016/j.neuron.2015.09.008
"""
from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .._core.step import StepModel

__all__ = ['LinearStep', 'ThresholdLinearStep']


class LinearStep(StepModel):
    r"""Linear leaky node :math:`\dot x = \gamma x + I` (module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    gamma : float, array, Quantity or brainstate.nn.Param, default -10
        Rate per ms (a quantity such as ``-10 * u.Hz`` is converted).
    noise_x : Noise, optional
        Dimensionless noise added to the input.
    init_x : default 0.
    method : str, default 'exp_euler' (exact for this linear equation)

    Examples
    --------
    >>> import brainunit as u
    >>> import brainmass
    >>> node = brainmass.LinearStep(2, gamma=-0.1, init_x=1.0)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(10 * u.ms)
    >>> res['output'].shape
    (100, 2)
    """

    state_vars = ('x',)
    category = 'linear'
    use_case = 'linear leaky node; analytic FC / covariance of linearised networks'

    def __init__(self, in_size, gamma=-10.0, *, noise_x=None, init_x=0., method='exp_euler',
                 name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(x=noise_x),
                         init=dict(x=init_x), **aliases)
        self.gamma = self.param(gamma, 'gamma', unit=u.kHz)

    def dx(self, x, inp):
        return (self.magnitude('gamma') * x + inp) / u.ms


class ThresholdLinearStep(StepModel):
    r"""Threshold-linear E-I circuit of Chaudhuri et al. (2015) (module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    tau_E, tau_I : float or Quantity
        Time constants (plain numbers are ms).
    beta_E, beta_I : float
        Slopes of the rectified-linear f-I curves (Hz/pA).
    wEE, wIE, wEI, wII : float
        Local weights (pA/Hz), named ``w<source><target>``.
    eta, h : float
        Hierarchy scaling; excitatory inputs are multiplied by ``1 + eta * h``.
    noise_E, noise_I : Noise, optional
        Dimensionless (pA) noise on the E / I input currents.
    init_E, init_I : default 0.
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainunit as u
    >>> import brainmass
    >>> node = brainmass.ThresholdLinearStep(2)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(200 * u.ms, inputs=10.)
    >>> res['output'].shape
    (2000, 2)
    """

    state_vars = ('E', 'I')
    state_bounds = {'E': (0., None), 'I': (0., None)}
    category = 'population rate'
    use_case = 'threshold-linear E-I rates; hierarchy of time scales (Chaudhuri 2015)'

    def __init__(self, in_size, tau_E=20. * u.ms, tau_I=10. * u.ms, beta_E=0.066, beta_I=0.351,
                 wEE=24.3, wIE=19.7, wEI=12.2, wII=12.5, eta=0.68, h=0.0, *, noise_E=None, noise_I=None,
                 init_E=0., init_I=0., method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(E=noise_E, I=noise_I),
                         init=dict(E=init_E, I=init_I), **aliases)
        self.tau_E = self.time_param(tau_E, 'tau_E')
        self.tau_I = self.time_param(tau_I, 'tau_I')
        self.beta_E = self.param(beta_E, 'beta_E')
        self.beta_I = self.param(beta_I, 'beta_I')
        self.wEE = self.param(wEE, 'wEE')
        self.wIE = self.param(wIE, 'wIE')
        self.wEI = self.param(wEI, 'wEI')
        self.wII = self.param(wII, 'wII')
        self.eta = self.param(eta, 'eta')
        self.h = self.param(h, 'h')

    def _excitatory_scale(self):
        return 1. + self.eta.value() * self.h.value()

    def current_E(self, E, I, inp):
        """Net input current (pA) to the E population."""
        return self._excitatory_scale() * (self.wEE.value() * E + inp) - self.wIE.value() * I

    def current_I(self, E, I, inp):
        """Net input current (pA) to the I population."""
        return self._excitatory_scale() * (self.wEI.value() * E + inp) - self.wII.value() * I

    def dE(self, E, I, inp):
        rate = self.beta_E.value() * jnp.maximum(self.current_E(E, I, inp), 0.)
        return (-E + rate) / (self.magnitude('tau_E') * u.ms)

    def dI(self, E, I, inp):
        rate = self.beta_I.value() * jnp.maximum(self.current_I(E, I, inp), 0.)
        return (-I + rate) / (self.magnitude('tau_I') * u.ms)

    def output(self):
        return self.E.value
