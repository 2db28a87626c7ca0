r"""Montbrió-Pazó-Roxin exact mean field of quadratic integrate-and-fire neurons.

Montbrió, Pazó & Roxin (2015), Eq. (12), with the firing rate :math:`r` in Hz
and the mean membrane potential :math:`v` dimensionless:

.. math::

    \tau \dot r = \frac{\Delta}{\pi\tau} + 2 r v + I_r, \qquad
    \tau \dot v = v^2 + \bar\eta + J\tau r - (\pi \tau r)^2 + I_v .

Every term of the :math:`r` equation scales with :math:`1/\tau` (the
:math:`2rv` term included). The Lorentzian half-width is given as a rate,
``delta`` :math:`= \Delta/\tau`, so the paper's :math:`\Delta = 1` at
:math:`\tau = 1` ms is ``delta = 1 kHz`` (the default).

==========  ========  =====  ==========================================
parameter   default   unit   meaning
==========  ========  =====  ==========================================
tau         1         ms     membrane time constant
eta         -5        -      mean excitability :math:`\bar\eta`
J           15        -      synaptic weight
delta       1         kHz    half-width as a rate, :math:`\Delta/\tau`
==========  ========  =====  ==========================================

For :math:`\bar\eta = -5, J = 15, \Delta = 1` the model is bistable: a low
and a high activity focus coexist. ``update(r_inp, v_inp)`` returns ``r`` in
Hz; ``r_inp`` carries Hz, ``v_inp`` is dimensionless.

**In a Network** couple ``'r'``: the coupling current drives ``v``
(``coupling_input = 'v'``), as in Montbrió et al. (2015) and TVB, whose
``MontbrioPazoRoxin`` adds ``cr * Coupling_r + cv * Coupling_V`` inside
:math:`\tau\dot V` (``cr = 1``, ``cv = 0``, time in ms). A current :math:`c`
that is a rate (``coupled_var='r'``: Hz) enters as :math:`I_v = c \cdot 1\,`ms,
i.e. its value in kHz, for every ``tau``:

.. math::

    \tau \dot v = v^2 + \bar\eta + J\tau r - (\pi \tau r)^2 + I_v + c\,[\mathrm{kHz}],

so with ``k`` as TVB's ``G`` the network is TVB's for any ``tau`` (at the default
``tau = 1`` ms, :math:`c \cdot 1\,\mathrm{ms} = c\tau`, the form of the recurrent
:math:`J\tau r`). A dimensionless current (``coupled_var='v'``, TVB's ``cv`` route
with ``cv = 1``) enters unchanged. The Simulator's ``inputs`` to a Network then
drive ``r`` (``r_inp``, Hz); ``update(r_inp, v_inp)`` keeps its order.

References
----------
Montbrió, E., Pazó, D. & Roxin, A. (2015). Macroscopic description for networks
of spiking neurons. *Phys. Rev. X* 5, 021028.
"""
from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .._core.step import StepModel

__all__ = ['MontbrioPazoRoxinStep']


class MontbrioPazoRoxinStep(StepModel):
    r"""QIF mean-field (equations in the module docstring).

    Parameters
    ----------
    in_size : int or tuple
    tau : float or Quantity, default 1 ms
    eta, J : float
    delta : float or Quantity, default 1 kHz (plain numbers are kHz = 1/ms)
    noise_r : Noise, optional (in Hz); noise_v : Noise, optional (dimensionless)
    init_r : default 0 Hz; init_v : default -2 (near the low state)
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.MontbrioPazoRoxinStep(in_size=1)
    >>> res = brainmass.Simulator(node, dt=0.01 * u.ms).run(50 * u.ms, monitors=['r'])
    >>> u.get_unit(res['r'])
    Unit("Hz")
    """

    state_vars = ('r', 'v')
    state_units = {'r': u.Hz}
    state_bounds = {'r': (0., None)}
    #: a Network's coupling current drives v (TVB's cr * Coupling_r; see the module docstring)
    coupling_input = 'v'
    category = 'population rate'
    use_case = 'exact QIF mean field; bistability, synchrony, fast oscillations'

    def __init__(self, in_size, tau=1. * u.ms, eta=-5., J=15., delta=1. * u.kHz, *,
                 noise_r=None, noise_v=None, init_r=0. * u.Hz, init_v=-2., method='exp_euler',
                 name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(r=noise_r, v=noise_v),
                         init=dict(r=init_r, v=init_v), **aliases)
        self.tau = self.time_param(tau, 'tau')
        self.eta = self.param(eta, 'eta')
        self.J = self.param(J, 'J')
        self.delta = self.param(delta, 'delta', unit=u.kHz, nonnegative=True)

    def _tau(self):
        return self.magnitude('tau') * u.ms

    def dr(self, r, v, inp):
        return (self.magnitude('delta') * u.kHz / jnp.pi + 2. * r * v + inp) / self._tau()

    def dv(self, r, v, inp):
        tau_r = u.maybe_decimal(self._tau() * r)
        drive = v ** 2 + self.eta.value() + self.J.value() * tau_r - (jnp.pi * tau_r) ** 2 + inp
        return drive / self._tau()

    def coupling_value(self, current):
        """A rate current (Hz) as the dimensionless input of ``v``: its value times 1 ms (kHz)."""
        if callable(current):
            return lambda state: _rate_times_ms(current(state))
        return _rate_times_ms(current)

    def output(self):
        return self.r.value


def _rate_times_ms(current):
    """``current * 1 ms`` for a rate; a dimensionless current (or a plain number) unchanged."""
    if isinstance(current, u.Quantity) and u.get_unit(current).has_same_dim(u.Hz):
        return current.to_decimal(u.kHz)
    return current
