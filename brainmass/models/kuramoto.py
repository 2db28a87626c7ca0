r"""Kuramoto network of phase oscillators (with Sakaguchi phase lag).

Kuramoto (1975, 1984) with the phase lag of Sakaguchi & Kuramoto (1986):

.. math::

    \dot\theta_i = \omega_i + \frac{K}{N}\sum_{j} A_{ij}\,
    \sin(\theta_j - \theta_i - \alpha) + I_i .

:math:`A` is the connectivity (all ones when ``conn=None``), the sum skips
:math:`j = i` when ``exclude_self`` and the :math:`1/N` normalisation is
applied when ``normalize_by_n``. Synchrony is measured by the order parameter

.. math::

    R = \Big|\frac{1}{N}\sum_j e^{i\theta_j}\Big| \in [0, 1] .

For all-to-all coupling and natural frequencies drawn from a unimodal density
:math:`g`, the incoherent state (:math:`R \approx 0`) loses stability at
:math:`K_c = 2/(\pi g(0))` (Kuramoto 1984); for a Lorentzian of half-width
:math:`\Delta` this is :math:`K_c = 2\Delta` and the locked branch is exactly
:math:`R = \sqrt{1 - K_c/K}` (Ott & Antonsen 2008).

Units: time in ms. A plain-number ``omega`` (or ``omega_mean`` /
``omega_std``) is an angular frequency in rad/ms; a quantity in Hz is an
ordinary frequency :math:`f` and is converted to :math:`\omega = 2\pi f` in
rad/ms (``10 * u.Hz`` -> 0.0628 rad/ms). ``K`` is a rate (plain numbers per ms,
quantities converted); ``alpha`` is in radians.

Natural frequencies: pass ``omega`` (scalar or one per oscillator), or
``omega_mean`` / ``omega_std`` to draw them once at construction from a normal
distribution :math:`N(\bar\omega, \sigma_\omega^2)` (``omega_dist='normal'``,
the default) or a Lorentzian (Cauchy) of centre :math:`\bar\omega` and
half-width ``omega_std`` (``omega_dist='lorentzian'``), using
``brainstate.random`` (seed it with ``brainstate.random.seed``).
``omega_std`` defaults to 0 (identical oscillators).

==============  =======  ======  ===================================================
parameter       default  unit    meaning
==============  =======  ======  ===================================================
omega           0        rad/ms  natural angular frequencies (Hz quantities: 2 pi f)
K               0        1/ms    global coupling strength
alpha           0        rad     Sakaguchi phase lag
conn            None     -       (N, N) connectivity A_ij (target i, source j)
normalize_by_n  True     -       divide the coupling sum by N
exclude_self    True     -       drop the j = i term (matters when alpha != 0)
==============  =======  ======  ===================================================

State ``theta`` (rad, wrapped to :math:`[0, 2\pi)` after every step; starts
uniform in :math:`[0, 2\pi)`). ``update(theta_inp)`` returns ``theta``;
:meth:`KuramotoNetwork.order_parameter` returns :math:`R`. The coupling is
internal (this class *is* the network); wrapped in a
:class:`~brainmass.Network` the extra coupling current enters as
``theta_inp`` (``coupled_var='theta'``).

References
----------
Kuramoto, Y. (1975). Self-entrainment of a population of coupled non-linear
oscillators. *Lecture Notes in Physics* 39, 420-422. doi:10.1007/BFb0013365
Kuramoto, Y. (1984). *Chemical Oscillations, Waves, and Turbulence*. Springer.
Sakaguchi, H. & Kuramoto, Y. (1986). A soluble active rotator model showing phase
transitions via mutual entrainment. *Prog. Theor. Phys.* 76, 576-581.
doi:10.1143/PTP.76.576
Ott, E. & Antonsen, T. M. (2008). Low dimensional behavior of large systems of
globally coupled oscillators. *Chaos* 18, 037113. doi:10.1063/1.2930766
Strogatz, S. H. (2000). From Kuramoto to Crawford. *Physica D* 143, 1-20.
"""
from __future__ import annotations

import math

import brainstate
import braintools
import brainunit as u
import jax.numpy as jnp
import numpy as np

from .._core.step import StepModel
from .._core.units import to_unit
from .._core.validation import check_choice

__all__ = ['KuramotoNetwork']

_TWO_PI = 2. * math.pi


def _angular(value, name):
    """rad/ms from a plain number (already rad/ms) or a frequency quantity (2 pi f)."""
    if isinstance(value, u.Quantity):
        return _TWO_PI * to_unit(value, u.kHz, name, example='10 * u.Hz',
                                 what='an angular frequency in rad/ms (plain number) or a frequency quantity')
    return value


class KuramotoNetwork(StepModel):
    r"""Network of Kuramoto-Sakaguchi phase oscillators (module docstring).

    Parameters
    ----------
    in_size : int
        Number of oscillators N.
    omega : float, array, Quantity or brainstate.nn.Param, default 0
        Natural angular frequencies (rad/ms; a Hz quantity f gives 2 pi f).
    K : float, array, Quantity or brainstate.nn.Param, default 0
        Coupling strength (per ms).
    alpha : float, default 0
        Phase lag (rad).
    conn : (N, N) array or brainstate.nn.Param, optional
        Connectivity ``A[i, j]`` from j to i; all ones when None.
    normalize_by_n : bool, default True
        Divide the coupling sum by N.
    exclude_self : bool, default True
        Remove the diagonal of ``conn``.
    omega_mean, omega_std : float or Quantity, optional
        Draw ``omega`` from a distribution with this centre and spread
        (the older ``KuramotoNetwork(in_size, omega_mean=10 * u.Hz)`` call).
    omega_dist : {'normal', 'lorentzian'}, default 'normal'
        Distribution used with ``omega_mean`` / ``omega_std`` (for
        'lorentzian', ``omega_std`` is the half-width).
    noise_theta : Noise, optional
        Dimensionless (rad/ms) noise added to the phase velocity.
    init_theta : initializer or value, default uniform in [0, 2 pi)
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainstate, brainunit as u, jax.numpy as jnp
    >>> import brainmass
    >>> brainstate.environ.set(dt=0.1 * u.ms)
    >>> net = brainmass.KuramotoNetwork(in_size=100, omega_mean=10 * u.Hz, omega_std=1 * u.Hz, K=0.1)
    >>> _ = net.init_all_states()
    >>> theta = net.update()
    >>> float(net.order_parameter()) <= 1.0
    True
    """

    state_vars = ('theta',)
    category = 'oscillator'
    use_case = 'phase synchronisation; order parameter and critical coupling'

    def __init__(self, in_size, omega=0., K=0., alpha=0., conn=None, normalize_by_n=True,
                 exclude_self=True, *, omega_mean=None, omega_std=None, omega_dist='normal',
                 noise_theta=None, init_theta=None, method='exp_euler', name=None, **aliases):
        if init_theta is None:
            init_theta = braintools.init.Uniform(0., _TWO_PI)
        super().__init__(in_size, method=method, name=name, noise=dict(theta=noise_theta),
                         init=dict(theta=init_theta), **aliases)
        if len(self.varshape) != 1:
            raise ValueError(f'KuramotoNetwork needs a 1-D in_size (the number of oscillators); '
                             f'got {self.in_size}.')
        n = int(self.varshape[0])
        if omega_mean is not None or omega_std is not None:
            if not (isinstance(omega, (int, float)) and omega == 0):
                raise ValueError('Give either `omega` or `omega_mean` / `omega_std`, not both.')
            omega = self._draw_omega(n, omega_mean, omega_std, omega_dist)
        self.omega = self.param(_angular(omega, 'omega'), 'omega')
        self.K = self.param(K, 'K', unit=u.kHz)
        self.alpha = self.param(alpha, 'alpha')
        self.conn = self._connectivity(conn, n)
        self.normalize_by_n = bool(normalize_by_n)
        self.exclude_self = bool(exclude_self)

    @staticmethod
    def _draw_omega(n, mean, std, dist):
        check_choice(dist, ('normal', 'lorentzian'), 'omega_dist')
        mean = 0. if mean is None else _angular(mean, 'omega_mean')
        std = 0. if std is None else _angular(std, 'omega_std')
        if dist == 'normal':
            z = brainstate.random.randn(n)
        else:
            z = jnp.tan(math.pi * (brainstate.random.rand(n) - 0.5))
        return mean + std * z

    def _connectivity(self, conn, n):
        if conn is None:
            return None  # all-to-all: computed as a mean field, O(N) per step
        if not isinstance(conn, brainstate.nn.Param):
            conn = jnp.asarray(np.asarray(u.get_magnitude(conn), dtype=float), dtype=brainstate.environ.dftype())
        param = brainstate.nn.Param.init(conn)
        shape = tuple(u.math.shape(param.value()))
        if shape != (n, n):
            raise ValueError(f'`conn` of KuramotoNetwork must have shape ({n}, {n}); got {shape}.')
        return param

    def coupling_matrix(self):
        """The effective ``A`` (all ones for ``conn=None``; diagonal removed when ``exclude_self``)."""
        n = int(self.varshape[0])
        A = jnp.ones((n, n), dtype=brainstate.environ.dftype()) if self.conn is None else self.conn.value()
        if self.exclude_self:
            A = A * (1. - jnp.eye(n, dtype=A.dtype))
        return A

    def _sums(self, sin, cos):
        """``(sum_j A_ij sin theta_j, sum_j A_ij cos theta_j)`` for every i."""
        if self.conn is None:  # all-to-all: a mean field
            S = jnp.sum(sin, axis=-1, keepdims=True)
            C = jnp.sum(cos, axis=-1, keepdims=True)
            return (S - sin, C - cos) if self.exclude_self else (S + 0. * sin, C + 0. * cos)
        A = self.coupling_matrix()
        return sin @ A.T, cos @ A.T

    def dtheta(self, theta, inp):
        # sum_j A_ij sin(theta_j - theta_i - alpha), via sin(a - b) = sin a cos b - cos a sin b
        S, C = self._sums(jnp.sin(theta), jnp.cos(theta))
        lagged = theta + self.alpha.value()
        coupling = S * jnp.cos(lagged) - C * jnp.sin(lagged)
        if self.normalize_by_n:
            coupling = coupling / self.varshape[0]
        return (self.omega.value() + self.magnitude('K') * coupling + inp) / u.ms

    def update(self, *inputs, **named):
        """Advance one step, wrap the phases to [0, 2 pi) and return them."""
        self.integrate(*inputs, **named)
        self.theta.value = jnp.mod(self.theta.value, _TWO_PI)
        return self.theta.value

    def order_parameter(self, theta=None):
        r"""Kuramoto order parameter :math:`R = |\langle e^{i\theta}\rangle|` (last axis)."""
        theta = self.theta.value if theta is None else theta
        return jnp.abs(jnp.mean(jnp.exp(1j * theta), axis=-1))
