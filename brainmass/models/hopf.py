r"""Hopf normal-form (Stuart-Landau) oscillator.

The supercritical Hopf normal form in Cartesian coordinates
(Deco et al. 2017; Kuznetsov 2004):

.. math::

    \dot x = (a - \beta(x^2 + y^2))\,x - \omega\,y + I_x, \qquad
    \dot y = (a - \beta(x^2 + y^2))\,y + \omega\,x + I_y .

For :math:`a < 0` the origin is a stable focus; for :math:`a > 0` it loses
stability and trajectories approach a limit cycle of radius
:math:`\sqrt{a/\beta}` rotating at angular frequency :math:`\omega`.

==========  =======  ==========  ====================================================
parameter   default  unit        meaning
==========  =======  ==========  ====================================================
a           0.25     1/ms        bifurcation parameter (distance to the Hopf point)
w           0.2      rad/ms      angular frequency (quantities in Hz are converted)
beta        1.0      1/ms        strength of the cubic saturation
==========  =======  ==========  ====================================================

States ``x``, ``y`` (dimensionless, start at 0). ``update(x_inp, y_inp)``
returns the observable ``x`` (one array, like every model's ``update``, so a
Simulator's ``'output'`` is ``x``); record both with ``monitors=['x', 'y']``.
In a :class:`~brainmass.Network` couple ``'x'``.

References
----------
Kuznetsov, Y. A. (2004). *Elements of Applied Bifurcation Theory*. Springer.
Deco, G. et al. (2017). The dynamics of resting fluctuations in the brain:
metastability and its dynamical cortical core. *Sci. Rep.* 7, 3095.
"""
from __future__ import annotations

import brainunit as u

from .._core.step import StepModel

__all__ = ['HopfStep', 'StuartLandauStep']


class HopfStep(StepModel):
    r"""Hopf normal-form oscillator (see the module docstring for the equations).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    a, w, beta : float, array, Quantity or brainstate.nn.Param
        Bifurcation parameter (1/ms), angular frequency (rad/ms or a quantity
        such as ``2 * jnp.pi * 10 * u.Hz``) and saturation (1/ms).
    noise_x, noise_y : Noise, optional
        Dimensionless noise added to each variable's input.
    init_x, init_y : initializer or value, default 0
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> node = brainmass.HopfStep(in_size=1, a=0.25, w=0.3, init_x=0.1)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(100 * u.ms, monitors=['x'])
    >>> res['x'].shape
    (1000, 1)
    """

    state_vars = ('x', 'y')
    category = 'oscillator'
    use_case = 'generic oscillations near a Hopf bifurcation; resting-state FC fitting'

    def __init__(self, in_size, a=0.25, w=0.2, beta=1.0, *, noise_x=None, noise_y=None,
                 init_x=0., init_y=0., method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(x=noise_x, y=noise_y),
                         init=dict(x=init_x, y=init_y), **aliases)
        self.a = self.param(a, 'a', unit=u.kHz)
        self.w = self.param(w, 'w', unit=u.kHz)
        self.beta = self.param(beta, 'beta', unit=u.kHz)

    def _growth(self, x, y):
        return self.magnitude('a') - self.magnitude('beta') * (x ** 2 + y ** 2)

    def dx(self, x, y, inp):
        return (self._growth(x, y) * x - self.magnitude('w') * y + inp) / u.ms

    def dy(self, x, y, inp):
        return (self._growth(x, y) * y + self.magnitude('w') * x + inp) / u.ms

    def output(self):
        """The observable ``x`` (``y`` is ``self.y.value``)."""
        return self.x.value


class StuartLandauStep(HopfStep):
    r"""Stuart-Landau oscillator: the Hopf normal form with ``beta = 1``.

    :math:`\dot z = (a + i\omega - |z|^2) z + I` with :math:`z = x + iy`, the
    model TVB calls ``SupHopf``. Limit-cycle radius :math:`\sqrt a`,
    angular frequency :math:`\omega`.

    Examples
    --------
    >>> import brainmass
    >>> node = brainmass.StuartLandauStep(4, a=0.1, w=0.3)
    """

    use_case = 'canonical limit-cycle oscillator (TVB SupHopf)'

    def __init__(self, in_size, a=0.25, w=0.2, *, noise_x=None, noise_y=None,
                 init_x=0., init_y=0., method='exp_euler', name=None, **aliases):
        super().__init__(in_size, a=a, w=w, beta=1.0, noise_x=noise_x, noise_y=noise_y,
                         init_x=init_x, init_y=init_y, method=method, name=name, **aliases)
