r"""Classic two-variable oscillators: Van der Pol, FitzHugh-Nagumo, TVB's Generic 2D.

Time is in milliseconds: every plain-number rate below is per ms (the
right-hand sides are divided by ``u.ms``), so one time unit of the textbook
equations is 1 ms of simulated time.

Van der Pol
-----------
The relaxation oscillator of van der Pol (1926) written as a first-order system:

.. math::

    \dot x = y + I_x, \qquad
    \dot y = \mu\,(1 - x^2)\,y - x + I_y .

For :math:`\mu > 0` the origin is unstable and every trajectory approaches a
unique limit cycle. For large :math:`\mu` the oscillation relaxes, with period
(Dorodnitsyn 1947; Grasman 1987)

.. math::

    T \simeq (3 - 2\ln 2)\,\mu + 3\,\xi_0\,\mu^{-1/3} + O(\mu^{-1}\ln\mu),
    \qquad 3\xi_0 = 7.014 ,

(:math:`\xi_0 \approx 2.338`, the first zero of the Airy function), in ms.

==========  =======  =====  ============================================
parameter   default  unit   meaning
==========  =======  =====  ============================================
mu          1.0      -      nonlinear damping (relaxation strength)
==========  =======  =====  ============================================

States ``x``, ``y`` (dimensionless; ``x`` starts at 0.1, off the unstable
origin, ``y`` at 0). ``update(x_inp, y_inp)`` returns ``x``. In a
:class:`~brainmass.Network` couple ``'x'`` (the coupling current enters the
``x`` equation, the first input).

FitzHugh-Nagumo
---------------
The FitzHugh (1961) - Nagumo (1962) model in the polynomial form of Kostova,
Ravindran & Schonbek (2004):

.. math::

    \dot V = -\alpha V^3 + \beta V^2 + \gamma V - w + I_V, \qquad
    \tau\,\dot w = V - \delta - \epsilon\, w + I_w .

The external (and coupling) current :math:`I_V` is added to the voltage
equation; :math:`I_w` inside the recovery equation. With the defaults the rest
state is a stable node at :math:`V = w = 0`; a constant drive :math:`I_V`
moves it to the middle branch of the cubic nullcline and a Hopf bifurcation
occurs at :math:`I_V \approx 0.726`. Just below that value (e.g.
:math:`I_V = 0.6`) the model is *excitable*: a brief sub-threshold pulse
decays back to rest, a supra-threshold one fires a full spike (an excursion
to the right branch, :math:`V \approx 1`).

==========  =======  =====  ============================================
parameter   default  unit   meaning
==========  =======  =====  ============================================
alpha       3.0      1/ms   cubic coefficient
beta        4.0      1/ms   quadratic coefficient
gamma       -1.5     1/ms   linear coefficient
delta       0.0      -      offset of the recovery nullcline
epsilon     0.5      -      recovery self-coupling
tau         20       ms     recovery time constant
==========  =======  =====  ============================================

States ``V``, ``w`` (dimensionless, start at 0). ``update(V_inp, w_inp)``
returns ``V``. Couple ``'V'``.

Generic 2D oscillator
---------------------
The generic planar oscillator of The Virtual Brain (Sanz-Leon et al. 2015,
Appendix; after FitzHugh 1961 and Stefanescu & Jirsa 2008):

.. math::

    \dot V = d\,\tau\,\big(-f V^3 + e V^2 + g V + \alpha W + \gamma\,(I + I_V)\big), \qquad
    \dot W = \frac{d}{\tau}\,\big(c V^2 + b V - \beta W + a + I_W\big).

The external / coupling input :math:`I_V` is scaled by :math:`\gamma`, like
the constant current :math:`I`, as in TVB; :math:`I_W` is added inside the
W bracket. With the defaults the single fixed point near
:math:`(V, W) = (-0.19, -0.11)` is a stable focus: perturbations ring down
as damped oscillations at about 10 Hz.

==========  =======  =====  ======================================================
parameter   default  unit   meaning
==========  =======  =====  ======================================================
a           -2.0     -      constant of the W nullcline
b           -10.0    -      linear slope of the W nullcline
c           0.0      -      quadratic term of the W nullcline
d           0.02     1/ms   temporal scale factor (rate)
e           3.0      -      quadratic coefficient of the V nullcline
f           1.0      -      cubic coefficient of the V nullcline
g           0.0      -      linear coefficient of the V nullcline
alpha       1.0      -      W -> V coupling
beta        1.0      -      W self-decay
gamma       1.0      -      input scaling
I           0.0      -      constant baseline current
tau         1.0      -      time-scale ratio between V (fast, x tau) and W (x 1/tau)
==========  =======  =====  ======================================================

States ``V``, ``W`` (dimensionless, start at 0). ``update(V_inp, W_inp)``
returns ``V``. Couple ``'V'``.

References
----------
van der Pol, B. (1926). On "relaxation-oscillations". *Phil. Mag.* 2(11), 978-992.
Dorodnitsyn, A. A. (1947). Asymptotic solution of van der Pol's equation.
*Prikl. Mat. Mekh.* 11, 313-328. Grasman, J. (1987). *Asymptotic Methods for
Relaxation Oscillations and Applications*. Springer (Ch. 2).
FitzHugh, R. (1961). Impulses and physiological states in theoretical models of
nerve membrane. *Biophys. J.* 1, 445-466. doi:10.1016/S0006-3495(61)86902-6
Nagumo, J., Arimoto, S. & Yoshizawa, S. (1962). An active pulse transmission line
simulating nerve axon. *Proc. IRE* 50, 2061-2070. doi:10.1109/JRPROC.1962.288235
Kostova, T., Ravindran, R. & Schonbek, M. (2004). FitzHugh-Nagumo revisited: types
of bifurcations, periodical forcing and stability regions by a Lyapunov functional.
*Int. J. Bifurc. Chaos* 14, 913-925. doi:10.1142/S0218127404009685
Sanz-Leon, P., Knock, S. A., Spiegler, A. & Jirsa, V. K. (2015). Mathematical
framework for large-scale brain network modeling in The Virtual Brain.
*NeuroImage* 111, 385-430. doi:10.1016/j.neuroimage.2015.01.002
"""
from __future__ import annotations

import brainunit as u

from .._core.step import StepModel

__all__ = ['VanDerPolStep', 'FitzHughNagumoStep', 'Generic2dOscillatorStep']


class VanDerPolStep(StepModel):
    r"""Van der Pol relaxation oscillator (equations in the module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    mu : float, array or brainstate.nn.Param, default 1.0
        Nonlinear damping; the period grows like :math:`(3 - 2\ln 2)\mu` ms
        for large ``mu``.
    noise_x, noise_y : Noise, optional
        Dimensionless noise added to each variable's input.
    init_x : default 0.1; init_y : default 0.
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainunit as u
    >>> import brainmass
    >>> node = brainmass.VanDerPolStep(2, mu=1.0)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, monitors=['x'])
    >>> res['x'].shape
    (500, 2)
    """

    state_vars = ('x', 'y')
    category = 'oscillator'
    use_case = 'relaxation oscillations; canonical nonlinear limit cycle'

    def __init__(self, in_size, mu=1.0, *, noise_x=None, noise_y=None, init_x=0.1, init_y=0.,
                 method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(x=noise_x, y=noise_y),
                         init=dict(x=init_x, y=init_y), **aliases)
        self.mu = self.param(mu, 'mu')

    def dx(self, y, inp):
        return (y + inp) / u.ms

    def dy(self, x, y, inp):
        return (self.mu.value() * (1. - x ** 2) * y - x + inp) / u.ms

    def output(self):
        """The observable ``x`` (``y`` is ``self.y.value``)."""
        return self.x.value


class FitzHughNagumoStep(StepModel):
    r"""FitzHugh-Nagumo excitable / oscillatory unit (module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    alpha, beta, gamma : float
        Cubic, quadratic and linear coefficients of the voltage equation (1/ms).
    delta, epsilon : float
        Offset and self-coupling of the recovery variable.
    tau : float or Quantity, default 20 ms
        Recovery time constant (plain numbers are ms).
    noise_V, noise_w : Noise, optional
        Dimensionless noise on the V / w inputs.
    init_V, init_w : default 0.
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainunit as u
    >>> import brainmass
    >>> node = brainmass.FitzHughNagumoStep(2)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(100 * u.ms, inputs=0.8)
    >>> res['output'].shape
    (1000, 2)
    """

    state_vars = ('V', 'w')
    category = 'oscillator'
    use_case = 'excitable / oscillating unit; type-II threshold, relaxation spikes'

    def __init__(self, in_size, alpha=3.0, beta=4.0, gamma=-1.5, delta=0.0, epsilon=0.5,
                 tau=20. * u.ms, *, noise_V=None, noise_w=None, init_V=0., init_w=0.,
                 method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(V=noise_V, w=noise_w),
                         init=dict(V=init_V, w=init_w), **aliases)
        self.alpha = self.param(alpha, 'alpha', unit=u.kHz)
        self.beta = self.param(beta, 'beta', unit=u.kHz)
        self.gamma = self.param(gamma, 'gamma', unit=u.kHz)
        self.delta = self.param(delta, 'delta')
        self.epsilon = self.param(epsilon, 'epsilon')
        self.tau = self.time_param(tau, 'tau')

    def dV(self, V, w, inp):
        alpha, beta, gamma = self.magnitude('alpha'), self.magnitude('beta'), self.magnitude('gamma')
        cubic = -alpha * V ** 3 + beta * V ** 2 + gamma * V
        return (cubic - w + inp) / u.ms

    def dw(self, V, w, inp):
        return (V - self.delta.value() - self.epsilon.value() * w + inp) / (self.magnitude('tau') * u.ms)

    def output(self):
        return self.V.value


class Generic2dOscillatorStep(StepModel):
    r"""TVB's generic planar oscillator (module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    a, b, c : float
        Constant, linear and quadratic terms of the W nullcline.
    d : float or Quantity, default 0.02
        Temporal scale factor, a rate (plain numbers are per ms).
    e, f, g : float
        Quadratic, cubic and linear coefficients of the V nullcline.
    alpha, beta, gamma : float
        W -> V coupling, W decay and input scaling.
    I : float
        Constant baseline current (scaled by ``gamma``).
    tau : float
        Dimensionless time-scale ratio of V to W.
    noise_V, noise_W : Noise, optional
        Dimensionless noise on the V / W inputs.
    init_V, init_W : default 0.
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainunit as u
    >>> import brainmass
    >>> node = brainmass.Generic2dOscillatorStep(2, init_V=0.5)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(100 * u.ms, monitors=['V', 'W'])
    >>> res['V'].shape
    (1000, 2)
    """

    state_vars = ('V', 'W')
    category = 'oscillator'
    use_case = "TVB's generic 2D oscillator: damped / self-sustained oscillations, excitability"

    def __init__(self, in_size, a=-2.0, b=-10.0, c=0.0, d=0.02, e=3.0, f=1.0, g=0.0, alpha=1.0,
                 beta=1.0, gamma=1.0, I=0.0, tau=1.0, *, noise_V=None, noise_W=None, init_V=0.,
                 init_W=0., method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(V=noise_V, W=noise_W),
                         init=dict(V=init_V, W=init_W), **aliases)
        self.a = self.param(a, 'a')
        self.b = self.param(b, 'b')
        self.c = self.param(c, 'c')
        self.d = self.param(d, 'd', unit=u.kHz, positive=True)
        self.e = self.param(e, 'e')
        self.f = self.param(f, 'f')
        self.g = self.param(g, 'g')
        self.alpha = self.param(alpha, 'alpha')
        self.beta = self.param(beta, 'beta')
        self.gamma = self.param(gamma, 'gamma')
        self.I = self.param(I, 'I')
        self.tau = self.param(tau, 'tau', positive=True)

    def dV(self, V, W, inp):
        drive = (-self.f.value() * V ** 3 + self.e.value() * V ** 2 + self.g.value() * V
                 + self.alpha.value() * W + self.gamma.value() * (self.I.value() + inp))
        return self.magnitude('d') * self.tau.value() * drive / u.ms

    def dW(self, V, W, inp):
        drive = self.c.value() * V ** 2 + self.b.value() * V - self.beta.value() * W + self.a.value() + inp
        return self.magnitude('d') / self.tau.value() * drive / u.ms

    def output(self):
        return self.V.value
