r"""Larter-Breakspear conductance-based neural mass.

Larter et al. (1999) reduced a column of pyramidal cells and inhibitory
interneurons to a Morris-Lecar-type mean field; Breakspear et al. (2003)
added NMDA/AMPA excitatory coupling between columns. Voltage-gated channels
open with the fraction

.. math::

    m_{ion}(V) = \tfrac12\Bigl(1 + \tanh\frac{V - T_{ion}}{\delta_{ion}}\Bigr),
    \quad ion \in \{Ca, Na, K\},

and populations fire at
:math:`Q_V = \tfrac12 Q_V^{max}\bigl(1 + \tanh\frac{V - V_T}{\delta_V}\bigr)`,
:math:`Q_Z = \tfrac12 Q_Z^{max}\bigl(1 + \tanh\frac{Z - Z_T}{\delta_Z}\bigr)`.
With :math:`c` the afferent firing from other regions
(:math:`\langle Q_V\rangle` in Breakspear et al.), the TVB form of the model is

.. math::

    \dot V &= t_s\Bigl[-\bigl(g_{Ca} + (1-C)\,r_{NMDA} a_{ee} Q_V + C\,r_{NMDA} a_{ee}\,c\bigr)\,m_{Ca}(V - V_{Ca})
               - g_K W (V - V_K) - g_L (V - V_L) \\
           &\qquad - \bigl(g_{Na} m_{Na} + (1-C)\,a_{ee} Q_V + C\,a_{ee}\,c\bigr)(V - V_{Na})
               - a_{ie} Z Q_Z + a_{ne} I_{ext}\Bigr], \\
    \dot W &= t_s\,\phi\,\frac{m_K - W}{\tau_K} + I_W, \\
    \dot Z &= t_s\,b\,\bigl(a_{ni} I_{ext} + a_{ei} V Q_V\bigr) + I_Z .

``C`` splits the excitatory drive between the region itself (:math:`1-C`)
and its afferents (:math:`C`). Time is in ms (``t_scale`` rescales it); all
variables are dimensionless.

==========  =======  =======================================================
parameter   default  meaning
==========  =======  =======================================================
gCa         1.1      Ca conductance
gK          2.0      K conductance
gL          0.5      leak conductance
gNa         6.7      Na conductance
TCa         -0.01    Ca channel threshold
TK          0.0      K channel threshold
TNa         0.3      Na channel threshold
d_Ca        0.15     Ca threshold spread
d_K         0.3      K threshold spread
d_Na        0.15     Na threshold spread
VCa         1.0      Ca reversal potential
VK          -0.7     K reversal potential
VL          -0.5     leak reversal potential
VNa         0.53     Na reversal potential
phi         0.7      temperature scaling of the K gate
tau_K       1.0      K relaxation time (in units of 1/t_scale ms)
aee         0.4      excitatory -> excitatory synaptic strength
aei         2.0      excitatory -> inhibitory synaptic strength
aie         2.0      inhibitory -> excitatory synaptic strength
ane         1.0      non-specific -> excitatory strength
ani         0.4      non-specific -> inhibitory strength
b           0.1      time-scale ratio of inhibition
C           0.1      fraction of excitation from other regions
Iext        0.3      non-specific subcortical drive
rNMDA       0.25     NMDA / AMPA receptor ratio
VT          0.0      excitatory firing threshold
d_V         0.65     excitatory threshold spread
ZT          0.0      inhibitory firing threshold
d_Z         0.7      inhibitory threshold spread
QV_max      1.0      maximal excitatory firing rate
QZ_max      1.0      maximal inhibitory firing rate
t_scale     1.0      time-scale factor (per ms)
==========  =======  =======================================================

States ``V`` (mean pyramidal membrane potential), ``W`` (fraction of open K
channels), ``Z`` (mean interneuron potential), all starting at 0.
``update(V_inp, W_inp, Z_inp)`` returns ``V``. ``V_inp`` is the afferent
firing :math:`c` above (where Breakspear et al. put inter-regional input);
``W_inp`` / ``Z_inp`` are added to :math:`\dot W`, :math:`\dot Z` (per ms).
Couple ``'V'``. Breakspear's :math:`c_i = \sum_j W_{ij} Q_V(V_j)` is exactly
the Network with the Jansen-Rit pre-sigmoid,
``coupling=brainmass.SigmoidalJansenRitCoupling(cmin=0, cmax=QV_max, midpoint=VT, r=2 / d_V)``
(since :math:`\tfrac12(1+\tanh x) = 1/(1+e^{-2x})`), normalise ``conn`` as
the study does (e.g. rows summing to 1 for a mean).

Dynamics: with the default set an isolated region (:math:`c = 0`) settles on
a bounded mixed-mode oscillation (bursts of small and large V excursions,
period about 100 ms); Breakspear et al. (2003) map fixed points, limit
cycles and chaos as ``d_V``, ``aee`` and the coupling ``C`` vary.

References
----------
Larter, R., Speelman, B. & Worth, R. M. (1999). A coupled ordinary differential
equation lattice model for the simulation of epileptic seizures. *Chaos* 9,
795-804. doi:10.1063/1.166453
Breakspear, M., Terry, J. R. & Friston, K. J. (2003). Modulation of excitatory
synaptic coupling facilitates synchronization and complex dynamics in a
biophysical model of neuronal dynamics. *Network* 14, 703-732.
doi:10.1088/0954-898X_14_4_305
Honey, C. J. et al. (2007). Network structure of cerebral cortex shapes
functional connectivity on multiple time scales. *PNAS* 104, 10240-10245.
doi:10.1073/pnas.0701519104
"""
from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .._core.step import StepModel

__all__ = ['LarterBreakspearStep']


def _gate(x, threshold, spread):
    return 0.5 * (1. + jnp.tanh((x - threshold) / spread))


class LarterBreakspearStep(StepModel):
    r"""Larter-Breakspear neural mass (equations and parameters in the module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    gCa, gK, gL, gNa, ..., t_scale : float, array or Param
        The 32 parameters of the table, in that order (dimensionless;
        ``t_scale`` is per ms).
    noise_V, noise_W, noise_Z : Noise, optional
        Dimensionless noise on each input (``noise_V`` acts as afferent firing).
    init_V, init_W, init_Z : default 0
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.LarterBreakspearStep(2)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(500 * u.ms, monitors=['V', 'W', 'Z'])
    >>> res['V'].shape
    (5000, 2)
    """

    state_vars = ('V', 'W', 'Z')
    #: the state a brainmass.Network should couple (see the module docstring)
    coupled_var = 'V'
    category = 'conductance-based'
    use_case = 'biophysical (Morris-Lecar) neural mass; chaotic and synchronising whole-brain dynamics'

    def __init__(self, in_size, gCa=1.1, gK=2.0, gL=0.5, gNa=6.7, TCa=-0.01, TK=0.0, TNa=0.3,
                 d_Ca=0.15, d_K=0.3, d_Na=0.15, VCa=1.0, VK=-0.7, VL=-0.5, VNa=0.53, phi=0.7,
                 tau_K=1.0, aee=0.4, aei=2.0, aie=2.0, ane=1.0, ani=0.4, b=0.1, C=0.1, Iext=0.3,
                 rNMDA=0.25, VT=0.0, d_V=0.65, ZT=0.0, d_Z=0.7, QV_max=1.0, QZ_max=1.0, t_scale=1.0, *,
                 noise_V=None, noise_W=None, noise_Z=None, init_V=0., init_W=0., init_Z=0.,
                 method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(V=noise_V, W=noise_W, Z=noise_Z),
                         init=dict(V=init_V, W=init_W, Z=init_Z), **aliases)
        self.gCa = self.param(gCa, 'gCa')
        self.gK = self.param(gK, 'gK')
        self.gL = self.param(gL, 'gL')
        self.gNa = self.param(gNa, 'gNa')
        self.TCa = self.param(TCa, 'TCa')
        self.TK = self.param(TK, 'TK')
        self.TNa = self.param(TNa, 'TNa')
        self.d_Ca = self.param(d_Ca, 'd_Ca')
        self.d_K = self.param(d_K, 'd_K')
        self.d_Na = self.param(d_Na, 'd_Na')
        self.VCa = self.param(VCa, 'VCa')
        self.VK = self.param(VK, 'VK')
        self.VL = self.param(VL, 'VL')
        self.VNa = self.param(VNa, 'VNa')
        self.phi = self.param(phi, 'phi', nonnegative=True)
        self.tau_K = self.param(tau_K, 'tau_K', positive=True)
        self.aee = self.param(aee, 'aee')
        self.aei = self.param(aei, 'aei')
        self.aie = self.param(aie, 'aie')
        self.ane = self.param(ane, 'ane')
        self.ani = self.param(ani, 'ani')
        self.b = self.param(b, 'b', nonnegative=True)
        self.C = self.param(C, 'C')
        self.Iext = self.param(Iext, 'Iext')
        self.rNMDA = self.param(rNMDA, 'rNMDA')
        self.VT = self.param(VT, 'VT')
        self.d_V = self.param(d_V, 'd_V')
        self.ZT = self.param(ZT, 'ZT')
        self.d_Z = self.param(d_Z, 'd_Z')
        self.QV_max = self.param(QV_max, 'QV_max')
        self.QZ_max = self.param(QZ_max, 'QZ_max')
        self.t_scale = self.param(t_scale, 't_scale', positive=True)

    def QV(self, V):
        """Excitatory (pyramidal) firing rate."""
        return self.QV_max.value() * _gate(V, self.VT.value(), self.d_V.value())

    def QZ(self, Z):
        """Inhibitory firing rate."""
        return self.QZ_max.value() * _gate(Z, self.ZT.value(), self.d_Z.value())

    def dV(self, V, W, Z, inp):
        C, aee, QV = self.C.value(), self.aee.value(), self.QV(V)
        excitation = (1. - C) * aee * QV + C * aee * inp          # AMPA drive: own + afferent (c = inp)
        m_Ca = _gate(V, self.TCa.value(), self.d_Ca.value())
        m_Na = _gate(V, self.TNa.value(), self.d_Na.value())
        I_Ca = (self.gCa.value() + self.rNMDA.value() * excitation) * m_Ca * (V - self.VCa.value())
        I_K = self.gK.value() * W * (V - self.VK.value())
        I_L = self.gL.value() * (V - self.VL.value())
        I_Na = (self.gNa.value() * m_Na + excitation) * (V - self.VNa.value())
        drive = -I_Ca - I_K - I_L - I_Na - self.aie.value() * Z * self.QZ(Z) + self.ane.value() * self.Iext.value()
        return self.t_scale.value() * drive / u.ms

    def dW(self, V, W, inp):
        m_K = _gate(V, self.TK.value(), self.d_K.value())
        return (self.t_scale.value() * self.phi.value() * (m_K - W) / self.tau_K.value() + inp) / u.ms

    def dZ(self, V, inp):
        drive = self.ani.value() * self.Iext.value() + self.aei.value() * V * self.QV(V)
        return (self.t_scale.value() * self.b.value() * drive + inp) / u.ms

    def output(self):
        return self.V.value
