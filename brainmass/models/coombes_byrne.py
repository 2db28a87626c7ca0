r"""Coombes-Byrne next-generation neural mass (QIF mean field, conductance synapses).

A population of quadratic integrate-and-fire neurons with Lorentzian-
distributed excitabilities (centre :math:`\eta`, half-width :math:`\Delta`)
coupled through a synaptic **conductance** :math:`g` with reversal potential
:math:`v_{syn}`, :math:`\tau\dot v_i = v_i^2 + \eta_i + g\,(v_{syn} - v_i)`,
has the exact mean field (Montbrió, Pazó & Roxin 2015; Coombes & Byrne 2019)

.. math::

    \tau \dot r &= \frac{\Delta}{\pi} + 2 r v - g\,r + I_r, \\
    \tau \dot v &= v^2 + \eta - \pi^2 r^2 + g\,(v_{syn} - v) + I_v ,

in the dimensionless form of Coombes & Byrne (time in units of
:math:`\tau`, :math:`r` the firing rate times :math:`\tau`). Here the
synapse is fast, :math:`g = k\,r` (the two-variable model; Coombes & Byrne
also treat a second-order synaptic filter of :math:`r`), so

.. math::

    \tau \dot r = \frac{\Delta}{\pi} + 2 r v - k r^2 + I_r, \qquad
    \tau \dot v = v^2 + \eta - \pi^2 r^2 + k\,r\,(v_{syn} - v) + I_v .

The conductance term makes the coupling shunting: with :math:`v_{syn} < 0`
recurrent activity pulls the mean voltage towards :math:`v_{syn}` (inhibition),
and :math:`-k r^2` speeds up the rate decay (the conductance shortens the
effective membrane time constant).

==========  =======  =====  ===============================================
parameter   default  unit   meaning
==========  =======  =====  ===============================================
Delta       1        -      half-width of the excitability distribution
eta         2        -      centre of the excitability distribution
k           1        -      synaptic conductance per unit rate
v_syn       -4       -      synaptic reversal potential
tau         1        ms     membrane time constant (time unit)
==========  =======  =====  ===============================================

With the defaults the model has a single stable focus at
:math:`(r, v) \approx (0.3143, -0.3493)` (damped oscillations).

States ``r`` (the rate in units of :math:`1/\tau`; with ``tau = 1 ms`` the
number is a rate in kHz) and ``v``, both dimensionless, start at
``r = 0.1``, ``v = -2``. ``update(v_inp, r_inp)`` returns ``r``; external
currents enter the :math:`v` equation with :math:`\eta` (``v_inp`` is the
first positional input, so a :class:`~brainmass.Network`'s coupling current
is a current into :math:`v`). Couple ``'r'``.

References
----------
Coombes, S. & Byrne, Á. (2019). Next generation neural mass models. In
Corinto, F. & Torcini, A. (eds.) *Nonlinear Dynamics in Computational
Neuroscience*, PoliTO Springer Series, 1-16. doi:10.1007/978-3-319-71048-8_1
Montbrió, E., Pazó, D. & Roxin, A. (2015). Macroscopic description for networks
of spiking neurons. *Phys. Rev. X* 5, 021028. doi:10.1103/PhysRevX.5.021028
"""
from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .._core.step import StepModel

__all__ = ['CoombesByrneStep']


class CoombesByrneStep(StepModel):
    r"""Next-generation (QIF mean-field) neural mass with conductance coupling.

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    Delta, eta, k, v_syn : float, array or Param
        Excitability half-width and centre, conductance gain, reversal potential.
    tau : float or Quantity, default 1 ms
        Time unit of the dimensionless equations (plain numbers: ms).
    noise_r, noise_v : Noise, optional
        Dimensionless noise on the r / v inputs.
    init_r : default 0.1; init_v : default -2.0
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.CoombesByrneStep(2)
    >>> res = brainmass.Simulator(node, dt=0.01 * u.ms).run(20 * u.ms, monitors=['r', 'v'])
    >>> res['r'].shape
    (2000, 2)
    """

    state_vars = ('r', 'v')
    input_vars = ('v', 'r')
    #: the state a brainmass.Network should couple (see the module docstring)
    coupled_var = 'r'
    category = 'population rate'
    use_case = 'exact QIF mean field with conductance-based synapses (next-generation neural mass)'

    def __init__(self, in_size, Delta=1.0, eta=2.0, k=1.0, v_syn=-4.0, tau=1. * u.ms, *, noise_r=None,
                 noise_v=None, init_r=0.1, init_v=-2.0, method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(r=noise_r, v=noise_v),
                         init=dict(r=init_r, v=init_v), **aliases)
        self.Delta = self.param(Delta, 'Delta', nonnegative=True)
        self.eta = self.param(eta, 'eta')
        self.k = self.param(k, 'k')
        self.v_syn = self.param(v_syn, 'v_syn')
        self.tau = self.time_param(tau, 'tau')

    def conductance(self, r):
        """Synaptic conductance :math:`g = k r`."""
        return self.k.value() * r

    def dr(self, r, v, inp):
        drive = self.Delta.value() / jnp.pi + 2. * r * v - self.conductance(r) * r + inp
        return drive / (self.magnitude('tau') * u.ms)

    def dv(self, r, v, inp):
        drive = (v ** 2 + self.eta.value() - (jnp.pi * r) ** 2
                 + self.conductance(r) * (self.v_syn.value() - v) + inp)
        return drive / (self.magnitude('tau') * u.ms)

    def output(self):
        return self.r.value
