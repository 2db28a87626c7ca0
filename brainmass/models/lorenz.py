r"""Lorenz system: the canonical low-dimensional chaotic attractor.

Lorenz (1963), with one time unit of the paper mapped to 1 ms (every rate is
per ms; the right-hand sides are divided by ``u.ms``):

.. math::

    \dot x = \sigma\,(y - x) + I_x, \qquad
    \dot y = x\,(\rho - z) - y + I_y, \qquad
    \dot z = x\,y - \beta z + I_z .

For the classic parameters :math:`\sigma = 10, \rho = 28, \beta = 8/3` the
flow is chaotic: nearby trajectories separate at the largest Lyapunov exponent
:math:`\lambda_1 \approx 0.906` per time unit (per ms here; Sprott 2003), and
the attractor has two lobes around :math:`(\pm\sqrt{\beta(\rho-1)}, \pm\sqrt{\beta(\rho-1)}, \rho-1)`.

==========  =======  =====  ============================================
parameter   default  unit   meaning
==========  =======  =====  ============================================
sigma       10       1/ms   Prandtl number (x relaxation rate)
rho         28       -      Rayleigh number (reduced)
beta        8/3      1/ms   geometric factor (z decay rate)
==========  =======  =====  ============================================

States ``x``, ``y``, ``z`` (dimensionless; start at Lorenz's ``(0, 1, 0)``).
``update(x_inp, y_inp, z_inp)`` returns ``x``. Couple ``'x'`` in a
:class:`~brainmass.Network`.

The flow is fast in these units (the fastest contracting eigenvalue near the
origin is about -22.8 per ms): with a step of 0.1 ms use a higher-order method
(``'rk4'``) or a smaller ``dt`` (0.01 ms is accurate with any scheme).

References
----------
Lorenz, E. N. (1963). Deterministic nonperiodic flow. *J. Atmos. Sci.* 20, 130-141.
doi:10.1175/1520-0469(1963)020<0130:DNF>2.0.CO;2
Sprott, J. C. (2003). *Chaos and Time-Series Analysis*. Oxford University Press
(Table of Lyapunov exponents: 0.9056, 0, -14.5723).
"""
from __future__ import annotations

import brainunit as u

from .._core.step import StepModel

__all__ = ['LorenzStep']


class LorenzStep(StepModel):
    r"""Lorenz (1963) chaotic flow (equations in the module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    sigma, beta : float or Quantity
        Rates (plain numbers are per ms).
    rho : float
        Reduced Rayleigh number.
    noise_x, noise_y, noise_z : Noise, optional
        Dimensionless noise added to each variable's input.
    init_x, init_y, init_z : default 0, 1, 0
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainunit as u
    >>> import brainmass
    >>> node = brainmass.LorenzStep(1, method='rk4')
    >>> res = brainmass.Simulator(node, dt=0.01 * u.ms).run(20 * u.ms, monitors=['x', 'z'])
    >>> res['x'].shape
    (2000, 1)
    """

    state_vars = ('x', 'y', 'z')
    category = 'chaotic'
    use_case = 'deterministic chaos; test bed for integrators and Lyapunov analysis'

    def __init__(self, in_size, sigma=10.0, rho=28.0, beta=8.0 / 3.0, *, noise_x=None, noise_y=None,
                 noise_z=None, init_x=0., init_y=1., init_z=0., method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(x=noise_x, y=noise_y, z=noise_z),
                         init=dict(x=init_x, y=init_y, z=init_z), **aliases)
        self.sigma = self.param(sigma, 'sigma', unit=u.kHz)
        self.rho = self.param(rho, 'rho')
        self.beta = self.param(beta, 'beta', unit=u.kHz)

    def dx(self, x, y, inp):
        return (self.magnitude('sigma') * (y - x) + inp) / u.ms

    def dy(self, x, y, z, inp):
        return (x * (self.rho.value() - z) - y + inp) / u.ms

    def dz(self, x, y, z, inp):
        return (x * y - self.magnitude('beta') * z + inp) / u.ms

    def output(self):
        return self.x.value
