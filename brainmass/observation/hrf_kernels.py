r"""Haemodynamic response kernels :math:`h(t)` (time in seconds), used by :class:`HRFBold`.

:class:`HRFKernel` is the base class (normalisation, sampling, the pytree protocol);
:class:`FirstOrderVolterraHRFKernel`, :class:`GammaHRFKernel`,
:class:`DoubleExponentialHRFKernel` and :class:`MixtureOfGammasHRFKernel` are the kernels.
They are importable from :mod:`brainmass.observation` (and :mod:`brainmass.observation.hrf`).
"""
from __future__ import annotations

from typing import Optional

import brainunit as u
import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .._core.units import is_traced
from .._core.validation import as_numeric, check_choice
from ._checks import NUMBER_KINDS, as_rate, as_time, check_range, positive_time

__all__ = ['HRFKernel', 'FirstOrderVolterraHRFKernel', 'GammaHRFKernel', 'DoubleExponentialHRFKernel',
           'MixtureOfGammasHRFKernel']

_NORMALIZE = (None, 'peak', 'area')
_DENSE = 4001          # grid points used to find a kernel's peak / area


class HRFKernel:
    r"""Base class of haemodynamic response kernels :math:`h(t)`.

    A kernel is a callable of time returning the (plain, dimensionless)
    kernel value; :math:`h(t) = 0` for :math:`t < 0` (causal). Subclasses
    implement :meth:`shape` (the raw formula for :math:`t \ge 0`, ``t`` in
    seconds). The returned value is

    .. math::

        h(t) = A\, \frac{g(t)}{N}, \qquad
        N = \begin{cases} 1 & \text{normalize=None} \\
                          \max_{0 \le t \le L} g(t) & \text{normalize='peak'} \\
                          \int_0^L g(t)\,dt & \text{normalize='area'} \end{cases}

    where :math:`g` is :meth:`shape`, :math:`A` the kernel's amplitude
    (``a`` for :class:`GammaHRFKernel` and :class:`DoubleExponentialHRFKernel`,
    1 otherwise) and :math:`L` the support ``duration``. Peak and area are
    found on a dense grid of 4001 points over :math:`[0, L]` (differentiable).

    ==========  =========  =====  ==================================================
    parameter   default    unit   meaning
    ==========  =========  =====  ==================================================
    normalize   per class  -      None, 'peak' or 'area' (see above)
    duration    per class  s      support :math:`L` used when the kernel is sampled
    ==========  =========  =====  ==================================================

    Time ``t`` may be a brainunit quantity (converted to seconds) or plain
    numbers **in seconds**. Everything is written with ``jax.numpy``: kernels
    are differentiable (in ``t`` and in their parameters) and jit-safe.

    Writing a kernel: subclass, implement :meth:`shape` and list the
    parameter attributes in ``param_names`` (static settings in
    ``static_names``); the kernel then is a JAX pytree (it can be passed
    through ``jax.jit`` / ``jax.grad``) and is evaluated under ``jit``. A
    subclass without ``param_names`` is evaluated eagerly.

    Examples
    --------
    >>> import brainunit as u
    >>> from brainmass.observation import MixtureOfGammasHRFKernel
    >>> h = MixtureOfGammasHRFKernel()
    >>> float(h(5 * u.second)) > float(h(15.))
    True
    """

    default_duration: float = 20.
    default_normalize: Optional[str] = None
    #: attributes that are (differentiable) parameters: the kernel's pytree leaves
    param_names: tuple = ()
    #: attributes that are static configuration (hashable)
    static_names: tuple = ('normalize', 'duration')

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if 'param_names' in cls.__dict__:        # declared leaves: a pytree, evaluated under jit
            jax.tree_util.register_pytree_node(cls, cls._flatten, cls._unflatten)
            cls._pytree = True

    def _flatten(self):
        return (tuple(getattr(self, n) for n in self.param_names),
                tuple(getattr(self, n) for n in self.static_names))

    @classmethod
    def _unflatten(cls, aux, children):
        obj = object.__new__(cls)
        for name, value in zip(cls.static_names, aux):
            setattr(obj, name, value)
        for name, value in zip(cls.param_names, children):
            setattr(obj, name, value)
        return obj

    def __init__(self, *, normalize='default', duration=None):
        normalize = self.default_normalize if normalize == 'default' else normalize
        self.normalize = check_choice(normalize, _NORMALIZE, 'normalize')
        duration = self.default_duration if duration is None else duration
        self.duration = positive_time(duration, 'duration', u.second, type(self).__name__)

    # -- to implement
    def shape(self, t):
        """Raw kernel formula for ``t >= 0`` (plain seconds)."""
        raise NotImplementedError

    @property
    def amplitude(self):
        return 1.

    # -- public
    def __call__(self, t):
        t = jnp.asarray(as_time(t, 't', u.second), dtype=float)
        if not type(self).__dict__.get('_pytree', False):
            return self.evaluate(t)               # a user subclass that declares no leaves
        return _evaluate_jit(self, t)             # kernels are pytrees: one compile per shape

    def evaluate(self, t):
        """:math:`h(t)` for plain seconds ``t`` (0 for ``t < 0``), without the jit wrapper."""
        tc = jnp.maximum(t, 0.)
        return jnp.where(t >= 0, self.amplitude * self.shape(tc) / self._norm(), 0.)

    def sample(self, step_s, n=None):
        """Kernel values at ``j * step_s`` seconds, ``j = 0 .. n-1``.

        ``n`` defaults to ``round(duration / step_s)`` samples.
        """
        n = int(round(self.duration / step_s)) if n is None else int(n)
        return self(jnp.arange(n) * step_s)

    def peak_time(self):
        """Time (s) of the kernel's maximum on the dense grid over its support."""
        grid = jnp.linspace(0., self.duration, _DENSE)
        return grid[jnp.argmax(self(grid))]

    # -- normalisation
    def _peak(self):
        grid = jnp.linspace(0., self.duration, _DENSE)
        return jnp.max(self.shape(grid))

    def _area(self):
        grid = jnp.linspace(0., self.duration, _DENSE)
        return jnp.trapezoid(self.shape(grid), grid)

    def _norm(self):
        if self.normalize == 'peak':
            return self._peak()
        if self.normalize == 'area':
            return self._area()
        return 1.

    def __repr__(self):
        return f'{type(self).__name__}(normalize={self.normalize!r}, duration={self.duration:g} s)'


_evaluate_jit = jax.jit(lambda kernel, t: kernel.evaluate(t))


class FirstOrderVolterraHRFKernel(HRFKernel):
    r"""First-order Volterra kernel of the Balloon model (damped oscillator).

    .. math::

        h(t) = \frac{1}{3}\, e^{-t/(2\tau_s)}\,
               \frac{\sin(\omega t)}{\omega}, \qquad
        \omega = \sqrt{\frac{1}{\tau_f} - \frac{1}{4\tau_s^2}} ,

    the impulse response of the linearised flow-inducing subsystem of the
    Balloon-Windkessel model (Friston et al. 2000), in the form and with the
    defaults of TVB's ``FirstOrderVolterra``. Not normalised: its integral is
    :math:`\tau_f / 3`. Requires :math:`4\tau_s^2 > \tau_f` (oscillatory).
    ``k_1`` and ``V_0`` are stored for reference; the read-out scaling
    :math:`k_1 V_0` is applied by :class:`HRFBold`.

    ==========  =======  =====  ====================================================
    parameter   default  unit   meaning
    ==========  =======  =====  ====================================================
    tau_s       0.8      s      decay time (Balloon: :math:`1/\kappa`)
    tau_f       0.4      s      oscillation parameter (Balloon: :math:`1/\gamma`)
    k_1         5.6      -      first Volterra kernel coefficient
    V_0         0.02     -      resting blood volume fraction
    duration    20       s      support
    ==========  =======  =====  ====================================================

    References
    ----------
    Friston, K. J., Mechelli, A., Turner, R., Price, C. J. (2000). Nonlinear
    responses in fMRI: the Balloon model, Volterra kernels, and other
    hemodynamics. *NeuroImage* 12, 466-477.
    Sanz Leon, P. et al. (2013). The Virtual Brain. *Front. Neuroinform.* 7, 10.

    Examples
    --------
    >>> from brainmass.observation import FirstOrderVolterraHRFKernel
    >>> h = FirstOrderVolterraHRFKernel()
    >>> round(float(h(0.)), 6)
    0.0
    """

    param_names = ('tau_s', 'tau_f', 'k_1', 'V_0')

    def __init__(self, tau_s=0.8, tau_f=0.4, k_1=5.6, V_0=0.02, *, normalize=None, duration=None):
        super().__init__(normalize=normalize, duration=duration)
        self.tau_s = check_range(as_time(tau_s, 'tau_s', u.second), 'tau_s', 'FirstOrderVolterraHRFKernel')
        self.tau_f = check_range(as_time(tau_f, 'tau_f', u.second), 'tau_f', 'FirstOrderVolterraHRFKernel')
        self.k_1 = as_numeric(k_1, 'k_1', 'FirstOrderVolterraHRFKernel', kinds=NUMBER_KINDS)
        self.V_0 = as_numeric(V_0, 'V_0', 'FirstOrderVolterraHRFKernel', kinds=NUMBER_KINDS)
        if not is_traced((self.tau_s, self.tau_f)) and \
                not np.all(4. * np.asarray(self.tau_s) ** 2 > np.asarray(self.tau_f)):
            raise ValueError(f'FirstOrderVolterraHRFKernel needs 4 tau_s**2 > tau_f (an oscillating '
                             f'kernel); got tau_s={tau_s!r}, tau_f={tau_f!r}.')

    def shape(self, t):
        omega = jnp.sqrt(1. / self.tau_f - 1. / (4. * self.tau_s ** 2))
        return jnp.exp(-0.5 * t / self.tau_s) * jnp.sin(omega * t) / (3. * omega)


class GammaHRFKernel(HRFKernel):
    r"""Gamma-function HRF (Boynton et al. 1996).

    .. math::

        h(t) = a\, \frac{(t/\tau)^{n-1}\, e^{-t/\tau}}{\tau\, c}, \qquad
        c = (n-1)! \ \text{if factorial else } 1 .

    With ``factorial=True`` this is ``a`` times a gamma probability density
    (integral ``a``), peaking at :math:`t = (n-1)\tau`. Not normalised by
    default; TVB's ``Gamma`` rescales the peak to ``a``: pass
    ``normalize='peak'`` for that (then ``factorial`` has no effect).
    ``(n-1)!`` is evaluated as :math:`\Gamma(n)`, so ``n`` need not be an
    integer.

    ==========  =======  =====  ====================================================
    parameter   default  unit   meaning
    ==========  =======  =====  ====================================================
    tau         1.08     s      time constant
    n           3        -      phase delay (shape)
    factorial   True     -      divide by :math:`(n-1)!`
    a           0.1      -      amplitude
    duration    20       s      support
    ==========  =======  =====  ====================================================

    References
    ----------
    Boynton, G. M., Engel, S. A., Glover, G. H., Heeger, D. J. (1996). Linear
    systems analysis of functional magnetic resonance imaging in human V1.
    *J. Neurosci.* 16, 4207-4221.

    Examples
    --------
    >>> from brainmass.observation import GammaHRFKernel
    >>> h = GammaHRFKernel()
    >>> round(float(h.peak_time()), 2)   # (n - 1) * tau
    2.16
    """

    param_names = ('tau', 'n', 'a')
    static_names = ('normalize', 'duration', 'factorial')

    def __init__(self, tau=1.08, n=3, factorial=True, a=0.1, *, normalize=None, duration=None):
        super().__init__(normalize=normalize, duration=duration)
        self.tau = check_range(as_time(tau, 'tau', u.second), 'tau', 'GammaHRFKernel')
        check_range(n, 'n', 'GammaHRFKernel', 1., closed_low=True,
                     why=' (the shape; n < 1 makes h(0) infinite)')
        self.n = float(n) if isinstance(n, int) else n
        self.factorial = bool(factorial)
        self.a = as_numeric(a, 'a', 'GammaHRFKernel', kinds=NUMBER_KINDS)

    @property
    def amplitude(self):
        return self.a

    def shape(self, t):
        c = jnp.exp(jsp.gammaln(jnp.asarray(self.n, dtype=float))) if self.factorial else 1.
        x = t / self.tau
        return x ** (self.n - 1) * jnp.exp(-x) / (self.tau * c)

    def _peak(self):
        return self.shape(jnp.asarray((self.n - 1) * self.tau, dtype=float))


class DoubleExponentialHRFKernel(HRFKernel):
    r"""Difference of two damped sinusoids (Polonsky et al. 2000; TVB).

    .. math::

        g(t) = A_1 e^{-t/\tau_1} \sin(2\pi f_1 t) - A_2 e^{-t/\tau_2} \sin(2\pi f_2 t),
        \qquad h(t) = a\, g(t) / \max_t g(t) ,

    peak-normalised to ``a`` by default, as TVB's ``DoubleExponential`` does
    (pass ``normalize=None`` for the raw :math:`a\,g`).

    ==========  =======  =====  ====================================================
    parameter   default  unit   meaning
    ==========  =======  =====  ====================================================
    tau1        7.22     s      decay time of the first component
    tau2        7.4      s      decay time of the second component
    a           0.1      -      amplitude after normalisation
    f1          0.03     Hz     frequency of the first component
    f2          0.12     Hz     frequency of the second component
    amp1        0.1      -      amplitude of the first component
    amp2        0.1      -      amplitude of the second component
    duration    20       s      support
    ==========  =======  =====  ====================================================

    References
    ----------
    Polonsky, A., Blake, R., Braun, J., Heeger, D. J. (2000). Neuronal activity
    in human primary visual cortex correlates with perception during binocular
    rivalry. *Nat. Neurosci.* 3, 1153-1159.

    Examples
    --------
    >>> from brainmass.observation import DoubleExponentialHRFKernel
    >>> h = DoubleExponentialHRFKernel()
    >>> round(float(h(h.peak_time())), 3)
    0.1
    """

    default_normalize = 'peak'
    param_names = ('tau1', 'tau2', 'a', 'f1', 'f2', 'amp1', 'amp2')

    def __init__(self, tau1=7.22, tau2=7.4, a=0.1, f1=0.03, f2=0.12, amp1=0.1, amp2=0.1, *,
                 normalize='default', duration=None):
        super().__init__(normalize=normalize, duration=duration)
        owner = 'DoubleExponentialHRFKernel'
        self.tau1 = check_range(as_time(tau1, 'tau1', u.second), 'tau1', owner)
        self.tau2 = check_range(as_time(tau2, 'tau2', u.second), 'tau2', owner)
        self.f1 = check_range(as_rate(f1, 'f1'), 'f1', owner)
        self.f2 = check_range(as_rate(f2, 'f2'), 'f2', owner)
        self.a, self.amp1, self.amp2 = (as_numeric(v, name, owner, kinds=NUMBER_KINDS)
                                        for v, name in ((a, 'a'), (amp1, 'amp1'), (amp2, 'amp2')))

    @property
    def amplitude(self):
        return self.a

    def shape(self, t):
        first = self.amp1 * jnp.exp(-t / self.tau1) * jnp.sin(2. * jnp.pi * self.f1 * t)
        second = self.amp2 * jnp.exp(-t / self.tau2) * jnp.sin(2. * jnp.pi * self.f2 * t)
        return first - second


class MixtureOfGammasHRFKernel(HRFKernel):
    r"""Canonical (SPM) double-gamma HRF.

    .. math::

        h(t) = \Gamma(t; a_1, b) - c\, \Gamma(t; a_2, b), \qquad
        \Gamma(t; a, b) = \frac{t^{a-1} e^{-t/b}}{b^{a}\, \Gamma(a)} ,

    gamma densities with shape :math:`a` and scale :math:`b` (s). With the
    SPM defaults (peak delay 6 s, undershoot delay 16 s, dispersion 1 s,
    ratio 1/6) the response peaks near :math:`(a_1-1)b = 5` s and the
    undershoot is deepest near :math:`(a_2-1)b = 15` s. Not normalised by
    default (its integral is :math:`1 - c`, its peak about 0.16); pass
    ``normalize='peak'`` for a unit peak or ``'area'`` for a unit integral.

    ==========  =======  =====  ====================================================
    parameter   default  unit   meaning
    ==========  =======  =====  ====================================================
    a1          6        -      shape of the response (peak at (a1 - 1) b)
    a2          16       -      shape of the undershoot
    b           1        s      scale (dispersion) of both densities
    c           1/6      -      undershoot-to-response ratio
    duration    32       s      support
    ==========  =======  =====  ====================================================

    References
    ----------
    Friston, K. J. et al. (1998). Event-related fMRI: characterizing
    differential responses. *NeuroImage* 7, 30-40.
    Glover, G. H. (1999). Deconvolution of impulse response in event-related
    BOLD fMRI. *NeuroImage* 9, 416-429.

    Examples
    --------
    >>> from brainmass.observation import MixtureOfGammasHRFKernel
    >>> round(float(MixtureOfGammasHRFKernel().peak_time()), 1)
    5.0
    """

    default_duration = 32.
    param_names = ('a1', 'a2', 'b', 'c')

    def __init__(self, a1=6., a2=16., b=1., c=1. / 6., *, normalize=None, duration=None):
        super().__init__(normalize=normalize, duration=duration)
        owner = 'MixtureOfGammasHRFKernel'
        why = ' (a gamma shape; below 1 the density is infinite at t = 0)'
        self.a1 = check_range(a1, 'a1', owner, 1., closed_low=True, why=why)
        self.a2 = check_range(a2, 'a2', owner, 1., closed_low=True, why=why)
        self.c = as_numeric(c, 'c', owner, kinds=NUMBER_KINDS)
        self.b = check_range(as_time(b, 'b', u.second), 'b', owner)

    @staticmethod
    def _gamma_pdf(t, a, b):
        a = jnp.asarray(a, dtype=float)
        x = t / b
        return jnp.exp((a - 1.) * jnp.log(jnp.maximum(x, 1e-30)) - x - jsp.gammaln(a)) / b

    def shape(self, t):
        return self._gamma_pdf(t, self.a1, self.b) - self.c * self._gamma_pdf(t, self.a2, self.b)
