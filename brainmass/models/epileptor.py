r"""Epileptor: a phenomenological model of seizure onset, evolution and offset.

Jirsa et al. (2014) couple two oscillatory subsystems through a slow
permittivity variable :math:`z`. Subsystem 1 (:math:`x_1, y_1`) produces the
fast discharges, subsystem 2 (:math:`x_2, y_2`) the spike-and-wave events,
:math:`g` low-pass filters :math:`x_1`. In the parameterisation of The Virtual
Brain (time scaled by ``tt``):

.. math::

    \dot x_1 &= tt\,\big(y_1 - f_1(x_1, x_2, z) - z + I_{ext} + I_{x_1}\big) \\
    \dot y_1 &= tt\,\big(c - d\,x_1^2 - y_1 + I_{y_1}\big) \\
    \dot z   &= tt\,r\,\big(h(x_1) - z + I_z\big) \\
    \dot x_2 &= tt\,\big(-y_2 + x_2 - x_2^3 + I_{ext2} + b_b\,g - 0.3\,(z - 3.5) + I_{x_2}\big) \\
    \dot y_2 &= tt\,\big(-y_2 + f_2(x_2) + I_{y_2}\big)/\tau \\
    \dot g   &= tt\,\big(-0.01\,(g - 0.1\,x_1) + I_g\big)

with

.. math::

    f_1 = \begin{cases} a x_1^3 - b x_1^2 & x_1 < 0 \\
                        -(\mathrm{slope} - x_2 + 0.6\,(z - 4)^2)\,x_1 & x_1 \ge 0 \end{cases}
    \qquad
    f_2 = \begin{cases} 0 & x_2 < -0.25 \\ a_a\,(x_2 + 0.25) & x_2 \ge -0.25 \end{cases}

and the slow drive :math:`h = s\,(x_1 - x_0)` (linear, ``modification=False``,
Jirsa et al. 2014) or :math:`h = x_0 + 3/(1 + e^{-(x_1 + 0.5)/0.1})`
(nonlinear, ``modification=True``, Proix et al. 2014). The paper's
:math:`0.002\,g(x_1)` with :math:`g = \int e^{-0.01(t-s)}x_1(s)\,ds` is
:math:`b_b\,g` here with the rescaled filter state (:math:`b_b = 2`).

==============  ========  ======  ====================================================
parameter       default   unit    meaning
==============  ========  ======  ====================================================
a               1         -       cubic coefficient of :math:`f_1`
b               3         -       quadratic coefficient of :math:`f_1`
c               1         -       :math:`y_0`, additive constant of :math:`\dot y_1`
d               5         -       quadratic coefficient of :math:`\dot y_1`
r               3.5e-4    1/ms    slow time scale, :math:`1/\tau_0` (:math:`\tau_0 = 2857`)
x0              -1.6      -       epileptogenicity (seizures recur above about -2.07)
Iext            3.1       -       baseline input of subsystem 1
Iext2           0.45      -       baseline input of subsystem 2
tau             10        ms      time constant of :math:`y_2` (:math:`\tau_2`)
aa              6         -       slope of :math:`f_2`
bb              2         -       weight of :math:`g` in :math:`\dot x_2`
Kvf             0         -       coupling of ``c_pop1`` into :math:`x_1`
Kf              0         -       coupling of ``c_pop2`` into :math:`x_2`
Ks              0         -       permittivity coupling of ``c_pop1`` into :math:`z`
tt              1         -       time scaling (the model time unit is 1 ms / tt)
modification    False     -       nonlinear slow drive :math:`h` (Proix et al. 2014)
s               4         -       slope of the linear slow drive
slope           0         -       linear term of :math:`f_1` for :math:`x_1 \ge 0`
==============  ========  ======  ====================================================

States ``x1, y1, z, x2, y2, g`` (dimensionless; default start
``(-1.6, -12, 3.2, -1, 0, -0.16)``, an interictal point). The model's time is in
ms (so ``r`` and ``tau`` are per ms / in ms and plain numbers are read that way);
a seizure cycle lasts a few thousand ms and explicit steps of 0.05-0.1 ms are
accurate (faster seizures: raise ``tt``).

``update(c_pop1=None, c_pop2=None, **inputs)`` returns :math:`x_2 - x_1` (the
LFP proxy). ``c_pop1`` is the network input computed from :math:`x_1`: it
enters :math:`\dot x_1` as ``Kvf * c_pop1`` and :math:`\dot z` (inside the
bracket) as ``Ks * c_pop1``; ``c_pop2`` (from :math:`x_2`) enters
:math:`\dot x_2` as ``Kf * c_pop2``. Per-variable inputs ``x1_inp``, ...,
``g_inp`` (and noise ``noise_x1``, ...) enter with weight 1 inside each bracket
(the :math:`I_{x_1}, \dots` above). In a :class:`~brainmass.Network` couple
``'x1'``: its current is ``c_pop1``; e.g. the permittivity coupling
:math:`-K\sum_j C_{ij}(x_{1,j} - x_{1,i})` of Proix et al. (2014) is
``coupling='diffusive'``, ``k=1`` and ``Ks=-K``. With all K = 0 (the default)
regions are uncoupled.

References
----------
Jirsa, V. K., Stacey, W. C., Quilichini, P. P., Ivanov, A. I. & Bernard, C. (2014).
On the nature of seizure dynamics. *Brain* 137(8), 2210-2230.
https://doi.org/10.1093/brain/awu133

Proix, T., Bartolomei, F., Chauvel, P., Bernard, C. & Jirsa, V. K. (2014).
Permittivity coupling across brain regions determines seizure recruitment in
partial epilepsy. *J. Neurosci.* 34(45), 15009-15021.
https://doi.org/10.1523/JNEUROSCI.1570-14.2014

Sanz Leon, P. et al. (2013). The Virtual Brain: a simulator of primate brain
network dynamics. *Front. Neuroinform.* 7, 10.
"""
from __future__ import annotations

import brainunit as u
import jax.numpy as jnp

from .._core.step import StepModel

__all__ = ['EpileptorStep']


class EpileptorStep(StepModel):
    r"""Six-variable Epileptor (equations in the module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    a, b, c, d, r, x0, Iext, Iext2, tau, aa, bb : float, array, Quantity or Param
        Model constants (``r`` per ms, ``tau`` in ms); ``x0`` per region sets
        the epileptogenicity.
    Kvf, Kf, Ks : float or array
        Couplings of the network inputs ``c_pop1`` / ``c_pop2``.
    tt : float
        Time scaling.
    modification : bool
        Use the nonlinear slow drive of Proix et al. (2014).
    s, slope : float
        Slope of the linear slow drive (4) and of :math:`f_1`'s upper branch (0).
    noise_x1, noise_y1, noise_z, noise_x2, noise_y2, noise_g : Noise, optional
        Dimensionless noise added to each variable's input.
    init_x1, init_y1, init_z, init_x2, init_y2, init_g : initializer or value
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> from brainmass.models.epileptor import EpileptorStep
    >>> node = EpileptorStep(2, x0=-1.6)
    >>> res = brainmass.Simulator(node, dt=0.05 * u.ms).run(100 * u.ms)
    >>> res['output'].shape
    (2000, 2)
    """

    state_vars = ('x1', 'y1', 'z', 'x2', 'y2', 'g')
    coupled_var = 'x1'
    #: update's own signature: the network inputs of the two populations
    update_inputs = ('c_pop1', 'c_pop2')
    #: a Network's coupling current is c_pop1 (from x1); its ``inputs`` fill c_pop2
    coupling_input = 'c_pop1'
    stage_inputs = False  # c_pop1 / c_pop2 are scaled by Kvf, Ks, Kf as values
    category = 'epilepsy'
    use_case = 'seizure onset, propagation and offset; epileptogenic-zone modelling'

    def __init__(self, in_size, a=1., b=3., c=1., d=5., r=3.5e-4, x0=-1.6, Iext=3.1, Iext2=0.45,
                 tau=10., aa=6., bb=2., Kvf=0., Kf=0., Ks=0., tt=1., modification=False, s=4., slope=0., *,
                 noise_x1=None, noise_y1=None, noise_z=None, noise_x2=None, noise_y2=None, noise_g=None,
                 init_x1=-1.6, init_y1=-12., init_z=3.2, init_x2=-1., init_y2=0., init_g=-0.16,
                 method='exp_euler', name=None, **aliases):
        noise = dict(x1=noise_x1, y1=noise_y1, z=noise_z, x2=noise_x2, y2=noise_y2, g=noise_g)
        init = dict(x1=init_x1, y1=init_y1, z=init_z, x2=init_x2, y2=init_y2, g=init_g)
        super().__init__(in_size, method=method, name=name, noise=noise, init=init, **aliases)
        self.a = self.param(a, 'a')
        self.b = self.param(b, 'b')
        self.c = self.param(c, 'c')
        self.d = self.param(d, 'd')
        self.r = self.param(r, 'r', unit=u.kHz, nonnegative=True)
        self.x0 = self.param(x0, 'x0')
        self.Iext = self.param(Iext, 'Iext')
        self.Iext2 = self.param(Iext2, 'Iext2')
        self.tau = self.time_param(tau, 'tau')
        self.aa = self.param(aa, 'aa')
        self.bb = self.param(bb, 'bb')
        self.Kvf = self.param(Kvf, 'Kvf')
        self.Kf = self.param(Kf, 'Kf')
        self.Ks = self.param(Ks, 'Ks')
        self.tt = self.param(tt, 'tt', positive=True)
        self.modification = bool(modification)
        self.s = self.param(s, 's')
        self.slope = self.param(slope, 'slope')

    # ------------------------------------------------------- nonlinearities
    def f1(self, x1, x2, z):
        """Fast-subsystem nonlinearity (lower branch for x1 < 0, upper for x1 >= 0)."""
        lower = self.a.value() * x1 ** 3 - self.b.value() * x1 ** 2
        upper = -(self.slope.value() - x2 + 0.6 * (z - 4.) ** 2) * x1
        return jnp.where(x1 < 0., lower, upper)

    def f2(self, x2):
        """Spike-wave-subsystem nonlinearity: 0 below -0.25, linear above."""
        return jnp.where(x2 < -0.25, 0., self.aa.value() * (x2 + 0.25))

    def h(self, x1):
        """Slow drive of the permittivity variable z."""
        if self.modification:
            return self.x0.value() + 3. / (1. + jnp.exp(-(x1 + 0.5) / 0.1))
        return self.s.value() * (x1 - self.x0.value())

    # ------------------------------------------------------ right-hand side
    def dx1(self, x1, y1, z, x2, inp):
        return self.tt.value() * (y1 - self.f1(x1, x2, z) - z + self.Iext.value() + inp) / u.ms

    def dy1(self, x1, y1, inp):
        return self.tt.value() * (self.c.value() - self.d.value() * x1 ** 2 - y1 + inp) / u.ms

    def dz(self, x1, z, inp):
        return self.tt.value() * self.magnitude('r') * (self.h(x1) - z + inp) / u.ms

    def dx2(self, z, x2, y2, g, inp):
        drive = -y2 + x2 - x2 ** 3 + self.Iext2.value() + self.bb.value() * g - 0.3 * (z - 3.5) + inp
        return self.tt.value() * drive / u.ms

    def dy2(self, x2, y2, inp):
        return self.tt.value() * (-y2 + self.f2(x2) + inp) / (self.magnitude('tau') * u.ms)

    def dg(self, x1, g, inp):
        return self.tt.value() * (-0.01 * (g - 0.1 * x1) + inp) / u.ms

    # ----------------------------------------------------------------- step
    def update(self, c_pop1=None, c_pop2=None, **inputs):
        """One step with network inputs ``c_pop1`` (from x1) and ``c_pop2`` (from x2); returns x2 - x1.

        ``inputs``: per-variable inputs ``x1_inp``, ``y1_inp``, ``z_inp``,
        ``x2_inp``, ``y2_inp``, ``g_inp`` (weight 1).
        """
        inp = {k[:-4] if k.endswith('_inp') else k: v for k, v in inputs.items()}
        if c_pop1 is not None:
            c1 = self.input_in_unit_of('x1', c_pop1)
            inp['x1'] = self.input_in_unit_of('x1', inp.get('x1')) + self.Kvf.value() * c1
            inp['z'] = self.input_in_unit_of('z', inp.get('z')) + self.Ks.value() * c1
        if c_pop2 is not None:
            inp['x2'] = self.input_in_unit_of('x2', inp.get('x2')) + self.Kf.value() * self.input_in_unit_of('x2', c_pop2)
        self.integrate(**{f'{k}_inp': v for k, v in inp.items()})
        return self.output()

    def output(self):
        return self.x2.value - self.x1.value
