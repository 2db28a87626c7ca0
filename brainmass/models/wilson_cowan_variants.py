r"""Variants of the Wilson-Cowan E-I model.

Every variant is :class:`~brainmass.WilsonCowanStep` with one change, and reduces to it (to float rounding) when
that change is switched off (noted per variant). They share its conventions, documented once in
:mod:`brainmass.models.wilson_cowan`:

* weights are named ``w<source><target>`` and are positive (``wIE`` is I onto E; inhibition carries its minus
  sign in the equation);
* the transfer function is the shifted logistic :math:`F(x) = S(a(x-\theta)) - S(-a\theta)`, so
  :math:`F(0) = 0` (Linear and Logistic replace it);
* rates ``rE``, ``rI`` are dimensionless, time constants plain numbers in ms;
* external inputs ``rE_inp``, ``rI_inp`` (noise included) enter inside the transfer function; couple ``'rE'``
  in a :class:`~brainmass.Network`; the observable is ``rE``.

The base model is

.. math::

    \tau_E \dot r_E = -r_E + (1 - r\,r_E)\,F_E(x_E), \qquad
    x_E = w_{EE} r_E - w_{IE} r_I + I_E,

    \tau_I \dot r_I = -r_I + (1 - r\,r_I)\,F_I(x_I), \qquad
    x_I = w_{EI} r_E - w_{II} r_I + I_I .

========================================  ====================================================================  ============================
class                                     change                                                                reduces to the base when
========================================  ====================================================================  ============================
:class:`WilsonCowanNoSaturationStep`      no refractory factor: :math:`\tau\dot r = -r + F(x)`                  it is the base with r = 0
:class:`WilsonCowanSymmetricStep`         one :math:`\tau, a, \theta` for both populations                      tau_E = tau_I, a_E = a_I, ...
:class:`WilsonCowanSimplifiedStep`        one efferent weight per population: ``w_exc``, ``w_inh``              wEE = wEI, wIE = wII
:class:`WilsonCowanLinearStep`            rectified-linear :math:`F(x) = [a(x-\theta)]_+ - [-a\theta]_+`        (a different transfer)
:class:`WilsonCowanLogisticStep`          plain logistic :math:`F(x) = S(a(x-\theta))`, :math:`F(0) \ne 0`      (a different transfer)
:class:`WilsonCowanDivisiveStep`          E drive divided by inhibition (``wIE_div``)                           wIE_div = 0
:class:`WilsonCowanDivisiveInputStep`     saturating input gain :math:`I \to I/(1 + |I|/\sigma)`                sigma = None (infinite)
:class:`WilsonCowanDelayedStep`           local delays ``delay_EE``, ``delay_IE``, ``delay_EI``, ``delay_II``   all delays 0
:class:`WilsonCowanAdaptiveStep`          adaptation currents ``aE``, ``aI``                                    b_E = b_I = 0
:class:`WilsonCowanThreePopulationStep`   a third population ``rM`` (second, slower inhibitory class)           wME = wMI = 0
========================================  ====================================================================  ============================

**NoSaturation** (Wilson & Cowan 1973; the form reviewed by Destexhe & Sejnowski 2009):

.. math:: \tau_E \dot r_E = -r_E + F_E(x_E), \qquad \tau_I \dot r_I = -r_I + F_I(x_I).

**Symmetric**: :math:`\tau_E = \tau_I = \tau`, :math:`F_E = F_I = F` with one :math:`a, \theta` (the form
analysed by Ermentrout & Terman 2010, ch. 11). Defaults (modelling choice): the base model's excitatory values
:math:`\tau = 1` ms, :math:`a = 1.2`, :math:`\theta = 2.8`.

**Simplified**: Dale's principle with one efferent weight per population,
:math:`x_E = w_{exc} r_E - w_{inh} r_I + I_E`, :math:`x_I = w_{exc} r_E - w_{inh} r_I + I_I` (``w_exc = 8``,
``w_inh = 12``): both populations receive the same recurrent input and differ only in their transfer functions
and time constants.

**Linear**: the threshold-linear transfer of rate models of inhibition-stabilised networks (Tsodyks et al.
1997), shifted like the sigmoid so that :math:`F(0) = 0`. The refractory factor (``r = 1``) keeps the rates
bounded, :math:`r_E, r_I \le 1/r`; with ``r = 0`` the model is the pure threshold-linear network, which
diverges when recurrent excitation is not balanced.

**Logistic** (Wilson & Cowan 1972's transfer; neurolib's ``WCModel``, Cakan et al. 2023): the plain logistic
:math:`F(x) = S(a(x-\theta))`, so :math:`F(0) = S(-a\theta) > 0` and rest is not a fixed point without input.
Same parameters and defaults as the base; with neurolib's mapped (class docstring) it reproduces neurolib.

**Divisive** (shunting / normalising inhibition; Grossberg 1973; Carandini & Heeger 2012; Papasavvas et al.
2015): the excitatory drive of E is divided by the inhibitory activity, while subtractive inhibition is kept:

.. math:: x_E = \frac{w_{EE} r_E + I_E}{1 + w^{div}_{IE} r_I} - w_{IE} r_I .

Modelling choice: only the E population is normalised; ``wIE_div = 1``.

**DivisiveInput**: the external input (noise included) passes a Naka-Rushton-type divisive gain before
entering the drive,

.. math:: I_E \to \frac{I_E}{1 + |I_E|/\sigma_E}, \qquad I_I \to \frac{I_I}{1 + |I_I|/\sigma_I},

linear for :math:`|I| \ll \sigma`, saturating at :math:`\pm\sigma` (input normalisation, Carandini & Heeger
2012). ``sigma = None`` means infinity (no normalisation). Modelling choice: defaults
:math:`\sigma_E = \sigma_I = 1`.

**Delayed** (local synaptic/axonal delays within a region; Coombes & Laing 2009; Roxin, Brunel & Hansel 2005):

.. math::

    x_E = w_{EE} r_E(t - d_{EE}) - w_{IE} r_I(t - d_{IE}) + I_E, \qquad
    x_I = w_{EI} r_E(t - d_{EI}) - w_{II} r_I(t - d_{II}) + I_I .

Delays are rounded to whole steps (half up) when the states are initialised and read from a per-model ring
buffer; the history before :math:`t = 0` is the initial state. A delay of zero steps uses the current value
(also at the intermediate stages of multi-stage integrators), so zero delays give exactly the base model.
Delays are static (not trainable). Defaults: 1 ms each.

**Adaptive** (spike-frequency adaptation as a slow negative feedback current; van Vreeswijk & Hansel 2001;
Jercog et al. 2017):

.. math::

    x_E &= w_{EE} r_E - w_{IE} r_I - a_E + I_E, &\qquad \tau_{aE}\dot a_E &= -a_E + b_E r_E, \\
    x_I &= w_{EI} r_E - w_{II} r_I - a_I + I_I, &\qquad \tau_{aI}\dot a_I &= -a_I + b_I r_I .

Defaults ``tau_aE = 100 ms``, ``tau_aI = 80 ms``, ``b_E = 1``, ``b_I = 0`` (modelling choice: fast-spiking
interneurons adapt little; set ``b_I > 0`` to adapt them too).

**ThreePopulation** (E, a fast inhibitory population I and a slower second inhibitory population M, e.g. PV-
and SOM-like interneurons; Litwin-Kumar, Rosenbaum & Doiron 2016, connectivity after Pfeffer et al. 2013):

.. math::

    x_E &= w_{EE} r_E - w_{IE} r_I - w_{ME} r_M + I_E, \\
    x_I &= w_{EI} r_E - w_{II} r_I - w_{MI} r_M + I_I, \\
    \tau_M \dot r_M &= -r_M + (1 - r\,r_M)\,F_M(w_{EM} r_E - w_{IM} r_I - w_{MM} r_M + I_M).

Defaults (modelling choice): ``tau_M = 2 ms``, ``a_M = 1``, ``theta_M = 4``, ``wEM = 10``, ``wME = 2``,
``wMI = 2``, ``wIM = 0``, ``wMM = 0`` (SOM cells inhibit E and PV cells, are excited by E, and neither inhibit
each other nor receive PV inhibition).


Extra parameters
----------------
================  =======  =====  ====================================================
parameter         default  unit   meaning
================  =======  =====  ====================================================
tau, a, theta     1, 1.2,  ms,-   Symmetric: shared time constant, gain, threshold
                  2.8
w_exc, w_inh      8, 12    -      Simplified: efferent E and I weights
wIE_div           1        -      Divisive: divisive weight of I onto E's drive
sigma_E, sigma_I  1, 1     -      DivisiveInput: input semi-saturation (None = off)
delay_EE ...      1        ms     Delayed: delays of E->E, I->E, E->I, I->I
tau_aE, tau_aI    100, 80  ms     Adaptive: adaptation time constants
b_E, b_I          1, 0     -      Adaptive: adaptation strengths
tau_M             2        ms     ThreePopulation: M time constant
a_M, theta_M      1, 4     -      ThreePopulation: M gain and threshold
wEM, wME, wMI     10, 2,   -      ThreePopulation: E->M, M->E, M->I
                  2
wIM, wMM          0, 0     -      ThreePopulation: I->M, M->M
================  =======  =====  ====================================================

References
----------
Wilson, H. R. & Cowan, J. D. (1972). *Biophys. J.* 12, 1-24. doi:10.1016/S0006-3495(72)86068-5
Cakan, C., Jajcay, N. & Obermayer, K. (2023). neurolib: a simulation framework for whole-brain neural mass
modeling. *Cogn. Comput.* 15, 1132-1152. doi:10.1007/s12559-021-09931-9
Wilson, H. R. & Cowan, J. D. (1973). A mathematical theory of the functional dynamics of cortical and thalamic
nervous tissue. *Kybernetik* 13, 55-80. doi:10.1007/BF00288786
Destexhe, A. & Sejnowski, T. J. (2009). The Wilson-Cowan model, 36 years later. *Biol. Cybern.* 101, 1-2.
doi:10.1007/s00422-009-0328-3
Ermentrout, G. B. & Terman, D. H. (2010). *Mathematical Foundations of Neuroscience*, ch. 11. Springer.
doi:10.1007/978-0-387-87708-2
Tsodyks, M. V., Skaggs, W. E., Sejnowski, T. J. & McNaughton, B. L. (1997). Paradoxical effects of external
modulation of inhibitory interneurons. *J. Neurosci.* 17, 4382-4388. doi:10.1523/JNEUROSCI.17-11-04382.1997
Grossberg, S. (1973). Contour enhancement, short term memory, and constancies in reverberating neural
networks. *Stud. Appl. Math.* 52, 213-257. doi:10.1002/sapm1973523213
Carandini, M. & Heeger, D. J. (2012). Normalization as a canonical neural computation. *Nat. Rev. Neurosci.*
13, 51-62. doi:10.1038/nrn3136
Papasavvas, C. A., Wang, Y., Trevelyan, A. J. & Kaiser, M. (2015). Gain control through divisive inhibition
prevents abrupt transition to chaos in a neural mass model. *Phys. Rev. E* 92, 032723.
doi:10.1103/PhysRevE.92.032723
Roxin, A., Brunel, N. & Hansel, D. (2005). Role of delays in shaping spatiotemporal dynamics of neuronal
activity in large networks. *Phys. Rev. Lett.* 94, 238103. doi:10.1103/PhysRevLett.94.238103
Coombes, S. & Laing, C. (2009). Delays in activity-based neural networks. *Phil. Trans. R. Soc. A* 367,
1117-1129. doi:10.1098/rsta.2008.0256
van Vreeswijk, C. & Hansel, D. (2001). Patterns of synchrony in neural networks with spike adaptation.
*Neural Comput.* 13, 959-992. doi:10.1162/08997660151134280
Jercog, D. et al. (2017). UP-DOWN cortical dynamics reflect state transitions in a bistable network. *eLife*
6, e22425. doi:10.7554/eLife.22425
Litwin-Kumar, A., Rosenbaum, R. & Doiron, B. (2016). Inhibitory stabilization and visual coding in cortical
circuits with multiple interneuron subtypes. *J. Neurophysiol.* 115, 1399-1409. doi:10.1152/jn.00732.2015
Pfeffer, C. K., Xue, M., He, M., Huang, Z. J. & Scanziani, M. (2013). Inhibition of inhibition in visual
cortex. *Nat. Neurosci.* 16, 1068-1076. doi:10.1038/nn.3446
"""
from __future__ import annotations

import functools

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from .._core.integrators import INTEGRATORS, exp_euler_step
from .._core.units import time_to_ms
from .wilson_cowan import POPULATION_PARAMS, WEIGHT_PARAMS, WilsonCowanStep, shifted_sigmoid

__all__ = ['WilsonCowanNoSaturationStep', 'WilsonCowanSymmetricStep', 'WilsonCowanSimplifiedStep',
           'WilsonCowanLinearStep', 'WilsonCowanLogisticStep', 'WilsonCowanDivisiveStep',
           'WilsonCowanDivisiveInputStep', 'WilsonCowanDelayedStep', 'WilsonCowanAdaptiveStep',
           'WilsonCowanThreePopulationStep', 'shifted_relu', 'logistic_sigmoid']

# Each variant declares its constructor's parameters in ``model_params`` (name -> default, in order;
# a default in ms is a time constant); WilsonCowanStep builds the constructor from it, with the
# noise_<E|I|...> / init_<var> keywords of its states (wilson_cowan.wilson_cowan_init).
_BASE = WilsonCowanStep.model_params


def shifted_relu(x, a, theta):
    r""":math:`[a(x-\theta)]_+ - [-a\theta]_+`: threshold-linear with :math:`F(0) = 0`."""
    return jnp.maximum(a * (x - theta), 0.) - jnp.maximum(-a * theta, 0.)


def logistic_sigmoid(x, a, theta):
    r""":math:`S(a(x-\theta)) = 1/(1 + e^{-a(x-\theta)})`: the plain logistic (not 0 at 0)."""
    return 1. / (1. + jnp.exp(-a * (x - theta)))


class WilsonCowanNoSaturationStep(WilsonCowanStep):
    r"""Wilson-Cowan without the refractory factor: :math:`\tau\dot r = -r + F(x)`.

    Identical to :class:`WilsonCowanStep` with ``r = 0`` (Wilson & Cowan 1973).
    Parameters are those of :class:`WilsonCowanStep` without ``r``.

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.WilsonCowanNoSaturationStep(2)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(20 * u.ms, inputs=1.0)
    """

    use_case = 'Wilson-Cowan rate dynamics without refractoriness'
    model_params = {**POPULATION_PARAMS, **WEIGHT_PARAMS}

    def _set_params(self, values):
        super()._set_params({**values, 'r': 0.})  # the base model's r, fixed at 0

    def drE(self, rE, rI, inp):
        return (-rE + self.F_E(self.input_E(rE, rI, inp))) / (self.magnitude('tau_E') * u.ms)

    def drI(self, rE, rI, inp):
        return (-rI + self.F_I(self.input_I(rE, rI, inp))) / (self.magnitude('tau_I') * u.ms)


class WilsonCowanSymmetricStep(WilsonCowanStep):
    r"""Wilson-Cowan with one time constant, gain and threshold for both populations.

    Parameters
    ----------
    in_size : int or tuple
    tau : float or Quantity, default 1 ms
    a, theta : float, default 1.2, 2.8
        Shared sigmoid gain and threshold.
    wEE, wIE, wEI, wII, r : as :class:`WilsonCowanStep`.

    Examples
    --------
    >>> import brainmass
    >>> node = brainmass.WilsonCowanSymmetricStep(2, a=1.0, theta=4.0)
    """

    use_case = 'Wilson-Cowan with identical E and I response functions'
    model_params = {'tau': 1. * u.ms, 'a': 1.2, 'theta': 2.8, **WEIGHT_PARAMS, 'r': 1.}

    def F_E(self, x):
        return shifted_sigmoid(x, self.a.value(), self.theta.value())

    def F_I(self, x):
        return shifted_sigmoid(x, self.a.value(), self.theta.value())

    def drE(self, rE, rI, inp):
        drive = (1. - self.r.value() * rE) * self.F_E(self.input_E(rE, rI, inp))
        return (-rE + drive) / (self.magnitude('tau') * u.ms)

    def drI(self, rE, rI, inp):
        drive = (1. - self.r.value() * rI) * self.F_I(self.input_I(rE, rI, inp))
        return (-rI + drive) / (self.magnitude('tau') * u.ms)


class WilsonCowanSimplifiedStep(WilsonCowanStep):
    r"""Wilson-Cowan with one efferent weight per population (``w_exc``, ``w_inh``).

    :math:`x_E = w_{exc} r_E - w_{inh} r_I + I_E`,
    :math:`x_I = w_{exc} r_E - w_{inh} r_I + I_I`.

    Parameters
    ----------
    in_size : int or tuple
    tau_E, tau_I, a_E, theta_E, a_I, theta_I, r : as :class:`WilsonCowanStep`.
    w_exc : float, default 8
        Weight of E onto both populations (wEE = wEI).
    w_inh : float, default 12
        Weight of I onto both populations (wIE = wII).

    Examples
    --------
    >>> import brainmass
    >>> node = brainmass.WilsonCowanSimplifiedStep(2, w_exc=8., w_inh=12.)
    """

    use_case = 'minimal E-I rate model with two weights'
    model_params = {**POPULATION_PARAMS, 'w_exc': 8., 'w_inh': 12., 'r': 1.}

    def input_E(self, rE, rI, inp):
        return self.w_exc.value() * rE - self.w_inh.value() * rI + inp

    def input_I(self, rE, rI, inp):
        return self.w_exc.value() * rE - self.w_inh.value() * rI + inp


class WilsonCowanLinearStep(WilsonCowanStep):
    r"""Wilson-Cowan with a rectified-linear transfer :math:`F(x) = [a(x-\theta)]_+ - [-a\theta]_+`.

    Parameters are those of :class:`WilsonCowanStep`; ``a_*`` are now slopes.
    Keep ``r > 0`` (rates bounded by ``1/r``) unless the weights are balanced.

    Examples
    --------
    >>> import brainmass
    >>> node = brainmass.WilsonCowanLinearStep(2)
    """

    use_case = 'threshold-linear E-I rate model (inhibition-stabilised regimes)'

    def F_E(self, x):
        return shifted_relu(x, self.a_E.value(), self.theta_E.value())

    def F_I(self, x):
        return shifted_relu(x, self.a_I.value(), self.theta_I.value())


class WilsonCowanLogisticStep(WilsonCowanStep):
    r"""Wilson-Cowan with the plain logistic transfer :math:`F(x) = S(a(x-\theta))` (Wilson & Cowan 1972).

    :math:`\tau_E \dot r_E = -r_E + (1 - r\,r_E)\,S(a_E(x_E - \theta_E))`, the same for I, with
    :math:`S(z) = 1/(1 + e^{-z})` and :math:`x_E, x_I` as in :class:`WilsonCowanStep`. Unlike the
    base, :math:`F(0) = S(-a\theta) > 0`: rest is not a fixed point without input. Parameters (and
    defaults) are those of :class:`WilsonCowanStep`.

    Notes
    -----
    neurolib's ``WCModel`` (Cakan et al. 2023): ``tau_exc, tau_inh -> tau_E, tau_I`` (ms), ``a_exc,
    a_inh -> a_E, a_I``, ``mu_exc, mu_inh -> theta_E, theta_I``, ``c_excexc, c_inhexc, c_excinh,
    c_inhinh -> wEE, wIE, wEI, wII`` (source then target), ``r = 1``. Its ``K_gl * Cmat @ exc(t - D)``
    and ``exc_ext`` enter inside the E sigmoid, as a :class:`~brainmass.Network`'s
    ``coupling='additive'``, ``coupled_var='rE'`` current and ``AdditiveCoupling(b=exc_ext)`` do;
    ``inh_ext`` is ``rI_inp``. Its noise (``exc_ou``, ``inh_ou``) is added OUTSIDE the sigmoid,
    ours (``noise_E``, ``noise_I``) inside. Noise-free, with ``method='euler'``, a network matches
    neurolib's to round-off (``tests/test_neurolib_reference.py``).

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.WilsonCowanLogisticStep(2)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(20 * u.ms)
    >>> bool(res['output'][-1, 0] > 0)  # F(0) > 0: leaves rest without input
    True
    >>> wc = brainmass.WilsonCowanLogisticStep(  # neurolib's defaults
    ...     4, tau_E=2.5, tau_I=3.75, a_E=1.5, a_I=1.5, theta_E=3., theta_I=3., wEE=16., wIE=12., wEI=15., wII=3.)

    References
    ----------
    Wilson, H. R. & Cowan, J. D. (1972). *Biophys. J.* 12, 1-24. doi:10.1016/S0006-3495(72)86068-5
    Cakan, C., Jajcay, N. & Obermayer, K. (2023). *Cogn. Comput.* 15, 1132-1152. doi:10.1007/s12559-021-09931-9
    """

    use_case = 'Wilson-Cowan with the plain logistic (Wilson & Cowan 1972; neurolib WCModel)'

    def F_E(self, x):
        return logistic_sigmoid(x, self.a_E.value(), self.theta_E.value())

    def F_I(self, x):
        return logistic_sigmoid(x, self.a_I.value(), self.theta_I.value())


class WilsonCowanDivisiveStep(WilsonCowanStep):
    r"""Wilson-Cowan whose E drive is normalised by inhibition.

    :math:`x_E = (w_{EE} r_E + I_E) / (1 + w^{div}_{IE} r_I) - w_{IE} r_I`.

    Parameters
    ----------
    in_size, tau_E, ..., r : as :class:`WilsonCowanStep`.
    wIE_div : float, default 1.0
        Divisive weight of I onto E's excitatory drive (0: the base model).

    Examples
    --------
    >>> import brainmass
    >>> node = brainmass.WilsonCowanDivisiveStep(2, wIE_div=2.0)
    """

    use_case = 'E-I rate model with divisive (shunting) inhibition / gain control'
    model_params = {**_BASE, 'wIE_div': 1.0}

    def input_E(self, rE, rI, inp):
        excitation = (self.wEE.value() * rE + inp) / (1. + self.wIE_div.value() * rI)
        return excitation - self.wIE.value() * rI


class WilsonCowanDivisiveInputStep(WilsonCowanStep):
    r"""Wilson-Cowan with a divisive (saturating) gain on the external input.

    :math:`I \to I / (1 + |I|/\sigma)` for each population before it enters
    the drive.

    Parameters
    ----------
    in_size, tau_E, ..., r : as :class:`WilsonCowanStep`.
    sigma_E, sigma_I : float or None, default 1.0
        Input semi-saturation constants; None means infinity (the base model).

    Examples
    --------
    >>> import brainmass
    >>> node = brainmass.WilsonCowanDivisiveInputStep(2, sigma_E=0.5, sigma_I=None)
    """

    use_case = 'E-I rate model with input normalisation'
    model_params = {**_BASE, 'sigma_E': 1.0, 'sigma_I': 1.0}

    def _set_params(self, values):
        sigmas = {name: values.pop(name) for name in ('sigma_E', 'sigma_I')}
        super()._set_params(values)
        for name, value in sigmas.items():  # None: infinity (no normalisation)
            setattr(self, name, self.param(jnp.inf if value is None else value, name, positive=True,
                                           allow_inf=True))

    @staticmethod
    def normalise(inp, sigma):
        r""":math:`I / (1 + |I|/\sigma)`."""
        return inp / (1. + jnp.abs(inp) / sigma)

    def input_E(self, rE, rI, inp):
        return super().input_E(rE, rI, self.normalise(inp, self.sigma_E.value()))

    def input_I(self, rE, rI, inp):
        return super().input_I(rE, rI, self.normalise(inp, self.sigma_I.value()))


class WilsonCowanDelayedStep(WilsonCowanStep):
    r"""Wilson-Cowan with local delays on the four recurrent connections.

    Parameters
    ----------
    in_size, tau_E, ..., r : as :class:`WilsonCowanStep`.
    delay_EE, delay_IE, delay_EI, delay_II : float or Quantity, default 1 ms
        Delays of E->E, I->E, E->I and I->I (plain numbers: ms); static.

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.WilsonCowanDelayedStep(2, delay_EE=2 * u.ms, delay_II=0.5 * u.ms)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, inputs=1.0)
    """

    use_case = 'Wilson-Cowan with local synaptic delays (delay-induced oscillations)'
    model_params = {**_BASE, 'delay_EE': 1. * u.ms, 'delay_IE': 1. * u.ms, 'delay_EI': 1. * u.ms,
                    'delay_II': 1. * u.ms}

    def _set_params(self, values):
        """The rate parameters as the base's; the delays as static ms (not Params: they set shapes)."""
        delays = {key: values.pop(f'delay_{key}') for key in ('EE', 'IE', 'EI', 'II')}
        super()._set_params(values)
        self.delays = {}
        for key, value in delays.items():
            ms = float(np.asarray(time_to_ms(value, f'delay_{key}')))
            if not 0. <= ms < np.inf:
                raise ValueError(f'`delay_{key}` of {type(self).__name__} must be a finite time >= 0; '
                                 f'got {value!r}.')
            self.delays[key] = ms
        self._delay_steps = {}

    # ring buffer of (rE, rI): slot n % L holds the state at step n
    def init_state(self, batch_size=None, **kwargs):
        super().init_state(batch_size, **kwargs)
        self._init_history()

    def reset_state(self, batch_size=None, **kwargs):
        super().reset_state(batch_size, **kwargs)
        self._init_history()

    def _init_history(self):
        dt = float(time_to_ms(brainstate.environ.get_dt(), 'dt'))
        self._delay_steps = {k: int(np.floor(d / dt + 0.5)) for k, d in self.delays.items()}
        size = max(self._delay_steps.values()) + 1
        values = {'history_rE': jnp.broadcast_to(self.rE.value, (size,) + self.rE.value.shape),
                  'history_rI': jnp.broadcast_to(self.rI.value, (size,) + self.rI.value.shape),
                  'history_pointer': jnp.asarray(0, dtype=jnp.int32)}
        for attr, value in values.items():
            state = self.__dict__.get(attr)
            if isinstance(state, brainstate.State) and state.value.shape == value.shape:
                state.value = value
            else:
                setattr(self, attr, brainstate.ShortTermState(value))

    def _push_history(self):
        """Store the current state in the ring buffer; return the delayed rates ``{'EE': rE(t - d_EE), ...}``
        of the connections delayed by at least one step (the others read the current, stage state)."""
        size = self.history_rE.value.shape[0]
        p = self.history_pointer.value
        hist = {'E': self.history_rE.value.at[p].set(self.rE.value),
                'I': self.history_rI.value.at[p].set(self.rI.value)}
        self.history_rE.value, self.history_rI.value = hist['E'], hist['I']
        self.history_pointer.value = (p + 1) % size
        return {key: hist[key[0]][(p - steps) % size] for key, steps in self._delay_steps.items() if steps > 0}

    def update(self, *inputs, **named):
        """Store the current state, read the delayed ones, take one step; return rE.

        The step is :meth:`StepModel.integrate`'s, with the right-hand side given the delayed rates
        as an argument (``_delayed_rhs``).
        """
        lagged = self._push_history()
        t = brainstate.environ.get('t', 0. * u.ms)
        inp = self._gather_inputs(inputs, named)
        rhs = functools.partial(self._delayed_rhs, inputs=inp, lagged=lagged)
        y = self.state_dict()
        if self.method == 'exp_euler':
            new = exp_euler_step(rhs, y, t)
        else:
            new = INTEGRATORS[self.method](lambda s, t_: {v: rhs(v, s) for v in self.state_vars}, y, t)
        for var in self.state_vars:
            getattr(self, var).value = self._clip(var, new[var])
        return self.output()

    def _delayed_rhs(self, var, state, inputs, lagged):
        """d var/dt at ``state`` with the delayed rates ``lagged`` (``{}``: every connection undelayed).

        ``inputs`` maps each variable to its input (a value, or a function of the stage state).
        """
        rE, rI = state['rE'], state['rI']
        inp = inputs[var](state) if callable(inputs[var]) else inputs[var]
        if var == 'rE':
            drive = (1. - self.r.value() * rE) * self.F_E(self.input_E(rE, rI, inp, lagged))
            return (-rE + drive) / (self.magnitude('tau_E') * u.ms)
        drive = (1. - self.r.value() * rI) * self.F_I(self.input_I(rE, rI, inp, lagged))
        return (-rI + drive) / (self.magnitude('tau_I') * u.ms)

    def input_E(self, rE, rI, inp, lagged=None):
        """Net input to E, each source read through its delay (``lagged``; current value when undelayed)."""
        lag = lagged or {}
        return self.wEE.value() * lag.get('EE', rE) - self.wIE.value() * lag.get('IE', rI) + inp

    def input_I(self, rE, rI, inp, lagged=None):
        """Net input to I, each source read through its delay (``lagged``; current value when undelayed)."""
        lag = lagged or {}
        return self.wEI.value() * lag.get('EI', rE) - self.wII.value() * lag.get('II', rI) + inp


class WilsonCowanAdaptiveStep(WilsonCowanStep):
    r"""Wilson-Cowan with slow adaptation currents ``aE``, ``aI``.

    Parameters
    ----------
    in_size, tau_E, ..., r : as :class:`WilsonCowanStep`.
    tau_aE, tau_aI : float or Quantity, default 100 ms, 80 ms
        Adaptation time constants.
    b_E, b_I : float, default 1.0, 0.0
        Adaptation strengths (0 and 0: the base model).
    noise_aE, noise_aI : Noise, optional
    init_aE, init_aI : default 0

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.WilsonCowanAdaptiveStep(2, b_E=1.5)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(300 * u.ms, inputs=2.0, monitors=['rE', 'aE'])
    """

    state_vars = ('rE', 'rI', 'aE', 'aI')
    use_case = 'E-I rate model with spike-frequency adaptation (slow oscillations, UP/DOWN states)'
    model_params = {**_BASE, 'tau_aE': 100. * u.ms, 'tau_aI': 80. * u.ms, 'b_E': 1.0, 'b_I': 0.0}

    def drE(self, rE, rI, aE, inp):
        return super().drE(rE, rI, inp - aE)

    def drI(self, rE, rI, aI, inp):
        return super().drI(rE, rI, inp - aI)

    def daE(self, rE, aE, inp):
        return (-aE + self.b_E.value() * rE + inp) / (self.magnitude('tau_aE') * u.ms)

    def daI(self, rI, aI, inp):
        return (-aI + self.b_I.value() * rI + inp) / (self.magnitude('tau_aI') * u.ms)


class WilsonCowanThreePopulationStep(WilsonCowanStep):
    r"""Wilson-Cowan with a third, slower inhibitory population ``rM``.

    Parameters
    ----------
    in_size, tau_E, tau_I, a_E, theta_E, a_I, theta_I, wEE, wIE, wEI, wII, r :
        as :class:`WilsonCowanStep`.
    tau_M : float or Quantity, default 2 ms
    a_M, theta_M : float, default 1.0, 4.0
    wEM, wME, wMI, wIM, wMM : float, default 10, 2, 2, 0, 0
        Weights named ``w<source><target>`` (wME = wMI = 0: the base model for E, I).
    noise_M : Noise, optional (also ``noise_rM``)
    init_rM : default 0

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.WilsonCowanThreePopulationStep(2)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, inputs=1.0, monitors=['rE', 'rM'])
    """

    state_vars = ('rE', 'rI', 'rM')
    noise_aliases = {'E': 'rE', 'I': 'rI', 'M': 'rM'}
    use_case = 'E / PV / SOM-like three-population rate model (disinhibition, gain control)'
    model_params = {**_BASE, 'tau_M': 2. * u.ms, 'a_M': 1.0, 'theta_M': 4.0, 'wEM': 10., 'wME': 2., 'wMI': 2.,
                    'wIM': 0., 'wMM': 0.}

    def F_M(self, x):
        return shifted_sigmoid(x, self.a_M.value(), self.theta_M.value())

    def drE(self, rE, rI, rM, inp):
        return super().drE(rE, rI, inp - self.wME.value() * rM)

    def drI(self, rE, rI, rM, inp):
        return super().drI(rE, rI, inp - self.wMI.value() * rM)

    def drM(self, rE, rI, rM, inp):
        x = self.wEM.value() * rE - self.wIM.value() * rI - self.wMM.value() * rM + inp
        drive = (1. - self.r.value() * rM) * self.F_M(x)
        return (-rM + drive) / (self.magnitude('tau_M') * u.ms)
