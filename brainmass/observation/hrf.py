r"""Haemodynamic response kernels and the convolution BOLD monitor.

The linear route from neural activity :math:`s(t)` to BOLD:

.. math::

    y(t) = k_1 V_0 \int_0^{L} h(\tau)\, \bar s(t - \tau)\, d\tau ,

where :math:`\bar s` is the activity averaged over short windows
(:class:`TemporalAverage`), :math:`h` an HRF kernel (:class:`HRFKernel`) and
:math:`L` the kernel's support. :class:`HRFBold` evaluates the integral as a
Riemann sum on the averaged grid, so its amplitude does not depend on the
averaging window.

Time conventions
----------------
* HRF kernels are functions of time in **seconds** (the natural unit of
  haemodynamics): plain numbers are seconds, quantities are converted.
* Simulation times (``dt``, ``period``, ``downsample_period``) follow the
  library convention: plain numbers are **milliseconds**, quantities are
  converted.
"""
from __future__ import annotations

import functools
from typing import Optional

import brainunit as u
import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

from .._core.validation import as_numeric, check_choice

#: what a kernel / BOLD parameter may be, for TypeError messages
_NUMBER_KINDS = 'a number, an array of numbers or a quantity'

__all__ = ['HRFKernel', 'FirstOrderVolterraHRFKernel', 'GammaHRFKernel',
           'DoubleExponentialHRFKernel', 'MixtureOfGammasHRFKernel',
           'TemporalAverage', 'HRFBold']

_NORMALIZE = (None, 'peak', 'area')
_DENSE = 4001          # grid points used to find a kernel's peak / area
_REL_TOL = 1e-6        # tolerance when checking that one period is a multiple of another


# ----------------------------------------------------------------- time helpers
def _plain(x):
    """Magnitude of a quantity (any unit); plain values pass through."""
    return u.get_magnitude(x) if isinstance(x, u.Quantity) else x


def _as_time(value, name: str, plain_unit):
    """A time as a plain number in ``plain_unit`` (u.second or u.ms)."""
    if isinstance(value, u.Quantity):
        if not u.get_unit(value).has_same_dim(u.second):
            raise ValueError(f'`{name}` must be a time (e.g. 4 * u.ms); got a quantity in '
                             f'{u.get_unit(value)}.')
        return u.get_magnitude(value.to(plain_unit))
    return value


def seconds(value, name: str = 'time', plain: str = 'ms'):
    """A time as plain seconds; plain numbers are read as ``plain`` ('ms' or 's')."""
    if isinstance(value, u.Quantity):
        return _as_time(value, name, u.second)
    return value / 1000. if plain == 'ms' else value


def _period_ms(value, name: str) -> float:
    """A concrete, positive, finite period in ms (plain numbers are ms)."""
    return _positive_time(value, name, u.ms)


def _positive_time(value, name: str, plain_unit, owner=None) -> float:
    """A concrete, positive, finite scalar time as a float in ``plain_unit`` (plain numbers are in it)."""
    label = f'`{name}`' if owner is None else f'`{name}` of {owner}'
    plain = _as_time(value, name, plain_unit)
    if _is_traced(plain):
        raise ValueError(f'{label} must be a concrete time (it sets static shapes), not a traced value.')
    as_numeric(plain, name, owner, kinds='a number or a time quantity (e.g. 4 * u.ms)')
    arr = np.asarray(plain)
    if arr.ndim != 0:
        raise ValueError(f'{label} must be a single time (a scalar); got shape {arr.shape}.')
    t = float(arr)
    if not np.isfinite(t):
        raise ValueError(f'{label} must be finite; got {value!r}.')
    if not t > 0:
        raise ValueError(f'{label} must be > 0; got {value!r}.')
    return t


# ----------------------------------------------------------- parameter checks
def _check_range(value, name, owner, low=0., high=None, *, closed_low=False, why=''):
    """ValueError unless every entry of a concrete value lies in the range (``> low`` or ``>= low``,
    ``< high``), NaN included; traced values pass untouched (checked only where they are concrete)."""
    if _is_traced(value):
        return value
    as_numeric(value, name, owner, kinds=_NUMBER_KINDS)
    arr = np.asarray(_plain(value), dtype=float)
    ok = arr >= low if closed_low else arr > low
    if high is not None:
        ok = ok & (arr < high)
    if arr.size and not np.all(ok):
        if high is None:
            rng = f'{">=" if closed_low else ">"} {low:g}'
        else:
            rng = f'in {"[" if closed_low else "("}{low:g}, {high:g})'
        shown = repr(float(arr)) if arr.ndim == 0 else np.array2string(arr, threshold=6, edgeitems=2)
        raise ValueError(f'`{name}` of {owner} must be {rng}{why}; got {shown}.')
    return value


def _ratio(period_ms: float, step_ms: float, name: str, step_name: str) -> int:
    """``period / step`` as an int >= 1, or a ValueError naming both values."""
    n = period_ms / step_ms
    k = int(round(n))
    if k < 1 or abs(n - k) > _REL_TOL * max(n, 1.):
        raise ValueError(f'`{name}` ({period_ms:g} ms) must be a positive integer multiple of '
                         f'`{step_name}` ({step_ms:g} ms); their ratio is {n:g}.')
    return k


# ----------------------------------------------------------------------- kernels
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
        self.duration = _positive_time(duration, 'duration', u.second, type(self).__name__)

    # -- to implement
    def shape(self, t):
        """Raw kernel formula for ``t >= 0`` (plain seconds)."""
        raise NotImplementedError

    @property
    def amplitude(self):
        return 1.

    # -- public
    def __call__(self, t):
        t = jnp.asarray(_as_time(t, 't', u.second), dtype=float)
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
        self.tau_s = _check_range(_as_time(tau_s, 'tau_s', u.second), 'tau_s', 'FirstOrderVolterraHRFKernel')
        self.tau_f = _check_range(_as_time(tau_f, 'tau_f', u.second), 'tau_f', 'FirstOrderVolterraHRFKernel')
        self.k_1 = as_numeric(k_1, 'k_1', 'FirstOrderVolterraHRFKernel', kinds=_NUMBER_KINDS)
        self.V_0 = as_numeric(V_0, 'V_0', 'FirstOrderVolterraHRFKernel', kinds=_NUMBER_KINDS)
        if not _is_traced(self.tau_s, self.tau_f) and \
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
        self.tau = _check_range(_as_time(tau, 'tau', u.second), 'tau', 'GammaHRFKernel')
        _check_range(n, 'n', 'GammaHRFKernel', 1., closed_low=True,
                     why=' (the shape; n < 1 makes h(0) infinite)')
        self.n = float(n) if isinstance(n, int) else n
        self.factorial = bool(factorial)
        self.a = as_numeric(a, 'a', 'GammaHRFKernel', kinds=_NUMBER_KINDS)

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
        self.tau1 = _check_range(_as_time(tau1, 'tau1', u.second), 'tau1', owner)
        self.tau2 = _check_range(_as_time(tau2, 'tau2', u.second), 'tau2', owner)
        self.f1 = _check_range(_as_rate(f1, 'f1'), 'f1', owner)
        self.f2 = _check_range(_as_rate(f2, 'f2'), 'f2', owner)
        self.a, self.amp1, self.amp2 = (as_numeric(v, name, owner, kinds=_NUMBER_KINDS)
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
        self.a1 = _check_range(a1, 'a1', owner, 1., closed_low=True, why=why)
        self.a2 = _check_range(a2, 'a2', owner, 1., closed_low=True, why=why)
        self.c = as_numeric(c, 'c', owner, kinds=_NUMBER_KINDS)
        self.b = _check_range(_as_time(b, 'b', u.second), 'b', owner)

    @staticmethod
    def _gamma_pdf(t, a, b):
        a = jnp.asarray(a, dtype=float)
        x = t / b
        return jnp.exp((a - 1.) * jnp.log(jnp.maximum(x, 1e-30)) - x - jsp.gammaln(a)) / b

    def shape(self, t):
        return self._gamma_pdf(t, self.a1, self.b) - self.c * self._gamma_pdf(t, self.a2, self.b)


def _as_rate(value, name):
    """A frequency as plain Hz (plain numbers are Hz)."""
    if isinstance(value, u.Quantity):
        if not u.get_unit(value).has_same_dim(u.Hz):
            raise ValueError(f'`{name}` must be a frequency (e.g. 0.03 * u.Hz); got {u.get_unit(value)}.')
        return u.get_magnitude(value.to(u.Hz))
    return value


def _is_traced(*xs) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(xs))


# --------------------------------------------------------------- temporal average
class TemporalAverage:
    r"""Means over consecutive, non-overlapping windows of length ``period``.

    .. math::

        \bar s_m = \frac{1}{n} \sum_{i=mn}^{(m+1)n - 1} s_i, \qquad n = \frac{\text{period}}{dt} .

    ``(signal, dt) -> averages``: ``signal`` has time on its first axis
    (``(T,)``, ``(T, N)``, ...); the result has ``T // n`` rows (a trailing
    partial window is dropped) and keeps the signal's unit.

    ==========  =======  =====  ==================================================
    parameter   default  unit   meaning
    ==========  =======  =====  ==================================================
    period      4        ms     window length (plain numbers are ms)
    arg_name    'period' -      keyword only: the argument named in error messages
                                (HRFBold passes 'downsample_period')
    ==========  =======  =====  ==================================================

    Raises ``ValueError`` when ``period`` is not positive, when it is not an
    integer multiple of ``dt`` (relative tolerance 1e-6; the message names both
    values) or when the signal is shorter than one window.

    Examples
    --------
    >>> import jax.numpy as jnp, brainunit as u
    >>> from brainmass.observation import TemporalAverage
    >>> TemporalAverage(0.3 * u.ms)(jnp.arange(7.), 0.1 * u.ms)
    Array([1., 4.], dtype=float32)
    """

    def __init__(self, period=4. * u.ms, *, arg_name='period'):
        self._name = arg_name  # the argument that set the window (HRFBold's downsample_period), for errors
        self.period_ms = _period_ms(period, arg_name)

    def window(self, dt) -> int:
        """Number of ``dt`` steps in one window."""
        return _ratio(self.period_ms, _period_ms(dt, 'dt'), self._name, 'dt')

    def __call__(self, signal, dt):
        n = self.window(dt)
        shape = u.math.shape(signal)
        if len(shape) == 0:
            raise ValueError('`signal` must have time on its first axis: shape (T,), (T, N), ...; got a scalar.')
        T = shape[0]
        m = T // n
        if m == 0:
            raise ValueError(f'the signal has {T} steps, fewer than one averaging window of {n} steps '
                             f'({self._name} {self.period_ms:g} ms).')
        head = signal[:m * n]
        return u.math.mean(u.math.reshape(head, (m, n) + tuple(u.math.shape(signal)[1:])), axis=1)

    def __repr__(self):
        return f'TemporalAverage(period={self.period_ms:g} ms)'


# ------------------------------------------------------------------ HRF BOLD
def _conv_full(x, h, method):
    """Causal full convolution of every column of ``x`` (L, N) with ``h`` (K,)."""
    L, K = x.shape[0], h.shape[0]
    if method == 'direct':
        conv = lambda col: jnp.convolve(col, h, mode='full', precision=jax.lax.Precision.HIGHEST)
        return jax.vmap(conv, in_axes=1, out_axes=1)(x)
    n = L + K - 1
    nfft = 1 << (n - 1).bit_length()
    spec = jnp.fft.rfft(x, nfft, axis=0) * jnp.fft.rfft(h, nfft)[:, None]
    return jnp.fft.irfft(spec, nfft, axis=0)[:n]


def _window_means(x, window):
    m = x.shape[0] // window
    return jnp.mean(x[:m * window].reshape((m, window) + x.shape[1:]), axis=1)


@functools.partial(jax.jit, static_argnames=('window', 'start', 'end', 'step', 'first', 'method'))
def _pipeline(x, hist, h, *, window, start, end, step, first, method):
    """Average, prepend history, convolve, keep ``[start:end]``, sample every ``step``."""
    xbar = _window_means(x, window)
    if hist is not None and hist.shape[0]:
        xbar = jnp.concatenate([_window_means(hist, window), xbar], axis=0)
    full = _conv_full(xbar, h.astype(xbar.dtype), method)
    return full[start:end][first::step]


class HRFBold:
    r"""BOLD by convolution with an HRF kernel, sampled every ``period``.

    ``(signal, dt) -> bold``. The pipeline:

    1. optional ``history`` (past signal, same ``dt``) is prepended as the
       signal's past;
    2. :class:`TemporalAverage` over ``downsample_period`` windows
       (:math:`\Delta` seconds each) gives :math:`\bar s_m`;
    3. the kernel is sampled at :math:`h_j = h(j\Delta)`,
       :math:`j = 0..K-1`, :math:`K = \mathrm{round}(L/\Delta)` over its
       support :math:`L` (``hrf_length``, default the kernel's ``duration``);
    4. a causal convolution, scaled by the sample spacing (a Riemann sum of
       the continuous convolution, so the amplitude does **not** depend on
       ``downsample_period``):

       .. math::

           y_m = k_1 V_0\, \Delta \sum_{j=0}^{K-1} h_j\, \bar s_{m-j} ;

    5. samples at whole multiples of ``period`` after the signal's start.

    :math:`y_m` is the BOLD at the end of averaging window :math:`m`. The
    signal before its start (and after its end, for ``'full'``) is zero
    unless ``history`` gives it. ``convolution_mode``:

    * ``'valid'``: only times whose whole kernel support lies inside
      history + signal (drops the first :math:`L` s when there is no history);
    * ``'same'``: one value per averaging window of the signal, aligned with
      it (causal; unlike ``numpy``'s centred ``'same'``);
    * ``'full'``: as ``'same'`` plus the :math:`L` s decay after the end.

    :meth:`sample_times` gives the time of every output sample. The signal
    may be ``(T,)`` or ``(T, N)`` and may carry a unit, which is stripped:
    the result is a plain, dimensionless array (``(S,)`` or ``(S, N)``)
    whose scale is :math:`k_1 V_0` times the kernel's integral times the
    signal's magnitude. With :class:`FirstOrderVolterraHRFKernel` (the
    default kernel; integral :math:`\tau_f/3`) a constant unit signal
    gives :math:`k_1 V_0 \tau_f / 3 \approx 0.0149`. To get the bare
    convolution set ``k_1=1, V_0=1``. Unlike TVB's Bold monitor no ``-1``
    offset is subtracted for the Volterra kernel: zero activity gives zero
    BOLD.

    ``method='fft'`` (default) and ``'direct'`` give the same result (to
    float round-off); both use only ``jax.numpy``, have static shapes, and
    are differentiable and jit-safe (``dt`` and periods must be concrete).

    ==================  ==================  =====  ==========================================
    parameter           default             unit   meaning
    ==================  ==================  =====  ==========================================
    k_1                 5.6                 -      read-out coefficient
    V_0                 0.02                -      resting blood volume fraction
    period              1000 ms             ms     output sampling period (TR)
    downsample_period   4 ms                ms     averaging window :math:`\Delta`
    kernel              Volterra            -      an :class:`HRFKernel`
    convolution_mode    'valid'             -      'valid', 'same' or 'full'
    method              'fft'               -      'fft' or 'direct'
    history             None                -      past signal, (H,) or (H, N), same dt
    hrf_length          kernel.duration     s      kernel support :math:`L`
    ==================  ==================  =====  ==========================================

    References
    ----------
    Sanz Leon, P. et al. (2013). The Virtual Brain: a simulator of primate
    brain network dynamics. *Front. Neuroinform.* 7, 10 (Bold monitor).
    Friston, K. J. et al. (2000). *NeuroImage* 12, 466-477.

    Examples
    --------
    >>> import jax.numpy as jnp, brainunit as u
    >>> from brainmass.observation import HRFBold
    >>> monitor = HRFBold(period=500 * u.ms, downsample_period=4 * u.ms)
    >>> bold = monitor(jnp.ones((30_000, 2)), 1 * u.ms)     # 30 s of a constant signal
    >>> bold.shape                   # samples at 20, 20.5, ..., 30 s ('valid': 20 s kernel)
    (21, 2)
    """

    def __init__(self, k_1=5.6, V_0=0.02, period=1000. * u.ms, downsample_period=4. * u.ms,
                 kernel: Optional[HRFKernel] = None, convolution_mode='valid', method='fft',
                 history=None, *, hrf_length=None):
        self.k_1 = as_numeric(k_1, 'k_1', 'HRFBold', kinds=_NUMBER_KINDS)
        self.V_0 = as_numeric(V_0, 'V_0', 'HRFBold', kinds=_NUMBER_KINDS)
        self.period_ms = _period_ms(period, 'period')
        self.average = TemporalAverage(downsample_period, arg_name='downsample_period')
        if self.average.period_ms > self.period_ms * (1. + _REL_TOL):
            raise ValueError(f'`downsample_period` ({self.average.period_ms:g} ms) must not be longer than '
                             f'`period` ({self.period_ms:g} ms): the output is sampled every period from '
                             f'averages over downsample_period windows.')
        self.kernel = FirstOrderVolterraHRFKernel() if kernel is None else kernel
        if not isinstance(self.kernel, HRFKernel):
            raise TypeError(f'`kernel` must be an HRFKernel (e.g. MixtureOfGammasHRFKernel()); '
                            f'got {type(kernel).__name__}.')
        self.convolution_mode = check_choice(convolution_mode, ('valid', 'same', 'full'),
                                             'convolution_mode')
        self.method = check_choice(method, ('fft', 'direct'), 'method')
        self.history = history
        length = self.kernel.duration if hrf_length is None else hrf_length
        self.hrf_length_s = _positive_time(length, 'hrf_length', u.second, 'HRFBold')
        self.step = _ratio(self.period_ms, self.average.period_ms, 'period', 'downsample_period')
        self.n_kernel = max(int(round(self.hrf_length_s * 1000. / self.average.period_ms)), 1)

    @property
    def downsample_s(self) -> float:
        return self.average.period_ms / 1000.

    # -- layout (static, Python ints)
    def _layout(self, n_signal, n_history):
        """(first window index, end index) of the kept outputs in the full convolution."""
        K = self.n_kernel
        if self.convolution_mode == 'valid':
            start, end = max(n_history, K - 1), n_history + n_signal
            if end <= start:
                raise ValueError(f"convolution_mode='valid' needs history + signal of at least the "
                                 f'kernel support ({self.hrf_length_s:g} s = {K} windows of '
                                 f'{self.average.period_ms:g} ms); got {n_history + n_signal} windows. '
                                 f"Give a longer signal, a `history`, or use 'same'.")
        elif self.convolution_mode == 'same':
            start, end = n_history, n_history + n_signal
        else:
            start, end = n_history, n_history + n_signal + K - 1
        return start, end

    def _first_sample(self, offset):
        """Index of the first kept output whose end time is a multiple of ``period``."""
        return (self.step - (offset + 1) % self.step) % self.step

    def sample_times(self, n_steps, dt, history_steps=0):
        """Times (a quantity in ms, from the signal's start) of the output samples."""
        n_win = n_steps // self.average.window(dt)
        n_hist = history_steps // self.average.window(dt) if history_steps else 0
        start, end = self._layout(n_win, n_hist)
        offset = start - n_hist
        first = self._first_sample(offset)
        idx = np.arange(first, end - start, self.step)
        return (offset + idx + 1) * self.average.period_ms * u.ms

    # -- evaluation
    def __call__(self, signal, dt, history=None):
        history = self.history if history is None else history
        x, squeeze = self._prepare(signal)
        n = self.average.window(dt)
        if x.shape[0] < n:
            raise ValueError(f'the signal has {x.shape[0]} steps, fewer than one averaging window of '
                             f'{n} steps (downsample_period {self.average.period_ms:g} ms).')
        hist = None if history is None else self._prepare_history(history, n, x.shape[1:])
        n_hist = 0 if hist is None else hist.shape[0] // n
        start, end = self._layout(x.shape[0] // n, n_hist)
        h = self.kernel.sample(self.downsample_s, self.n_kernel)
        kept = _pipeline(x, hist, h, window=n, start=start, end=end, step=self.step,
                         first=self._first_sample(start - n_hist), method=self.method)
        y = self.k_1 * self.V_0 * self.downsample_s * kept
        return y[:, 0] if squeeze else y

    @staticmethod
    def _prepare(signal):
        x = jnp.asarray(_plain(signal))
        if x.ndim not in (1, 2):
            raise ValueError(f'`signal` must have shape (T,) or (T, N); got {x.shape}.')
        x = x.astype(jnp.result_type(float, x.dtype))
        return (x[:, None], True) if x.ndim == 1 else (x, False)

    @staticmethod
    def _prepare_history(history, window, tail):
        hist = jnp.asarray(_plain(history))
        hist = hist[:, None] if hist.ndim == 1 else hist
        if hist.shape[1:] != tail:
            raise ValueError(f'`history` must have shape (H,) + {tail}; got {hist.shape}.')
        m = hist.shape[0] // window
        hist = hist[hist.shape[0] - m * window:]        # drop the oldest partial window
        return hist.astype(jnp.result_type(float, hist.dtype))

    def __repr__(self):
        return (f'HRFBold(k_1={self.k_1}, V_0={self.V_0}, period={self.period_ms:g} ms, '
                f'downsample_period={self.average.period_ms:g} ms, kernel={self.kernel!r}, '
                f'convolution_mode={self.convolution_mode!r}, method={self.method!r})')
