r"""Noise processes: the :class:`Noise` base class and the concrete processes.

They depend only on brainstate, brainunit, JAX and the ``_core`` helpers, so they
live in the foundation layer (``StepModel`` checks its ``noise_<var>`` against
:class:`Noise`). Users import them from :mod:`brainmass.noise` (or ``brainmass``),
whose docstring documents the conventions: Euler-Maruyama scaling of white noise,
the exact OU update with ``sigma`` the stationary standard deviation, the Wiener
path, fractionally integrated coloured noise, the state ``x`` and batch members
drawn from ``jax.random.fold_in(key, b)``.
"""
from __future__ import annotations

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .units import time_to_ms
from .validation import as_numeric, check_in_size, check_int_at_least, check_values, checked_param

__all__ = ['Noise', 'GaussianNoise', 'WhiteNoise', 'OUProcess', 'BrownianNoise',
           'ColoredNoise', 'PinkNoise', 'BlueNoise', 'VioletNoise']


def _dt_ms():
    return time_to_ms(brainstate.environ.get_dt(), 'dt')


def _split_unit(value, name):
    """(magnitude, unit) of a number or quantity; None stays None."""
    if value is None:
        return None, None
    if isinstance(value, brainstate.nn.Param):
        v = value.value()
        return value, (u.get_unit(v) if isinstance(v, u.Quantity) else None)
    if isinstance(value, u.Quantity):
        return u.get_magnitude(value), u.get_unit(value)
    return value, None


def standard_normal(varshape, batch_size=None, lead=()):
    """N(0, 1) draws of shape ``lead + [(batch_size,)] + varshape`` from ``brainstate.random``.

    Unbatched: one ``brainstate.random.randn`` call. Batched: one key is split off the global
    stream and batch member ``b`` draws from ``jax.random.fold_in(key, b)``, so a member's values
    do not depend on ``batch_size`` (nor on ``jax_threefry_partitionable``).
    """
    shape = tuple(lead) + tuple(varshape)
    if batch_size is None:
        return brainstate.random.randn(*shape)
    key = brainstate.random.split_key()
    dtype = brainstate.environ.dftype()
    draws = jax.vmap(lambda b: jax.random.normal(jax.random.fold_in(key, b), shape, dtype))(
        jnp.arange(batch_size, dtype=jnp.uint32))
    return jnp.moveaxis(draws, 0, len(lead))  # (B,) + lead + varshape -> lead + (B,) + varshape


class Noise(brainstate.nn.Dynamics):
    """Base class of noise processes.

    Subclasses implement :meth:`sample` returning a plain array of shape
    ``(batch,) + varshape`` (or ``varshape``) in the noise's ``unit``, drawn with
    :meth:`randn`. ``x`` (a ``brainstate.HiddenState``, created by :meth:`init_state`)
    holds the present value in the driven unit: what the last ``update`` returned.
    """

    def __init__(self, in_size, mean=None, sigma=1.0, name=None):
        super().__init__(check_in_size(in_size), name=name)
        owner = type(self).__name__
        if not isinstance(sigma, brainstate.nn.Param):
            sigma = as_numeric(sigma, 'sigma', owner)
        if mean is not None and not isinstance(mean, brainstate.nn.Param):
            mean = as_numeric(mean, 'mean', owner)
        sigma_mag, sigma_unit = _split_unit(sigma, 'sigma')
        mean_mag, mean_unit = _split_unit(mean, 'mean')
        if sigma_unit is not None and mean_unit is not None and not sigma_unit.has_same_dim(mean_unit):
            raise ValueError(f'`mean` ({mean_unit}) and `sigma` ({sigma_unit}) must share a unit.')
        if mean_unit is not None and sigma_unit is not None:
            mean_mag = u.get_magnitude(u.Quantity(mean_mag, unit=mean_unit).to(sigma_unit))
        self.unit = sigma_unit if sigma_unit is not None else mean_unit
        self.sigma = checked_param(sigma_mag, self.varshape, 'sigma', owner, nonnegative=True)
        self.mean = None if mean is None else checked_param(mean_mag, self.varshape, 'mean', owner)
        self._batch_size = None

    # -- helpers ---------------------------------------------------------------
    @property
    def sample_shape(self):
        return self.varshape if self._batch_size is None else (self._batch_size,) + tuple(self.varshape)

    def init_state(self, batch_size=None, **kwargs):
        """Create ``x`` (shape ``in_size`` or ``(batch_size,) + in_size``) at its initial value."""
        self._batch_size = batch_size
        self._set_state('x', self._with_unit(self.initial_value()))

    def reset_state(self, batch_size=None, **kwargs):
        self.init_state(batch_size)

    def initial_value(self):
        """The value of ``x`` before the first update, a plain array in ``unit`` (default: the mean)."""
        return jnp.broadcast_to(jnp.asarray(self._mean(), dtype=brainstate.environ.dftype()), self.sample_shape)

    def randn(self, lead=()):
        """Standard normal draws of shape ``lead + sample_shape`` (batch members independent of batch_size)."""
        return standard_normal(self.varshape, self._batch_size, lead)

    def _set_state(self, name, value):
        """Set the state ``name`` (created, or replaced when its shape changed)."""
        state = self.__dict__.get(name)
        if isinstance(state, brainstate.State) and u.math.shape(state.value) == u.math.shape(value):
            state.value = value
        else:
            setattr(self, name, brainstate.HiddenState(value))

    def _previous(self):
        """The present value of ``x`` as a plain array in ``unit``."""
        value = self.x.value
        if isinstance(value, u.Quantity):
            return value.to_decimal(self.unit) if self.unit is not None else u.get_magnitude(value)
        return value

    def _mean(self):
        return 0. if self.mean is None else self.mean.value()

    def _with_unit(self, value):
        value = jnp.asarray(value, dtype=brainstate.environ.dftype())
        return value if self.unit is None else u.maybe_decimal(value * self.unit)

    def update(self):
        """Draw this step's value (a quantity when the noise carries a unit); it is stored in ``x``."""
        value = self._with_unit(self.sample())
        self.x.value = value
        return value

    def sample(self):  # pragma: no cover - abstract
        raise NotImplementedError


class GaussianNoise(Noise):
    r"""White Gaussian noise with Euler-Maruyama scaling.

    Each step returns :math:`\mu + \sigma\,\xi\,\sqrt{\mathrm{ms}/dt}`, so the
    integrated increment over a step has standard deviation
    :math:`\sigma\sqrt{dt/\mathrm{ms}}`.

    Parameters
    ----------
    in_size : int or tuple
        Shape of the process (number of regions).
    mean : float or Quantity, optional
        Constant offset (default 0), same unit as ``sigma``.
    sigma : float or Quantity, default 1.0
        Amplitude per sqrt(ms); its unit must be that of the driven variable.

    Examples
    --------
    >>> import brainmass, brainstate, brainunit as u
    >>> brainstate.environ.set(dt=0.1 * u.ms)
    >>> noise = brainmass.GaussianNoise(3, sigma=0.05)
    >>> noise.init_state()
    >>> noise.update().shape
    (3,)
    """

    def sample(self):
        scale = 1.0 / jnp.sqrt(_dt_ms())
        return self._mean() + self.sigma.value() * scale * self.randn()


WhiteNoise = GaussianNoise


class OUProcess(Noise):
    r"""Ornstein-Uhlenbeck (coloured, exponentially correlated) noise.

    .. math::
        d\eta = \frac{\mu - \eta}{\tau}\,dt + \sigma\sqrt{\frac{2}{\tau}}\,dW

    advanced with the exact update
    :math:`\eta_{n+1} = \mu + (\eta_n - \mu)e^{-dt/\tau} + \sigma\sqrt{1 - e^{-2dt/\tau}}\,\xi_n`.
    Stationary mean :math:`\mu`, stationary variance :math:`\sigma^2`.
    ``x`` holds :math:`\eta` in the driven unit.

    Parameters
    ----------
    in_size : int or tuple
        Shape of the process.
    mean : float or Quantity, optional
        Stationary mean :math:`\mu` (default 0).
    sigma : float or Quantity, default 1.0
        Stationary standard deviation; unit of the driven variable.
    tau : float or Quantity, default 10 ms
        Correlation time (plain numbers are ms).
    init : float, array or callable, optional
        Initial value; default a draw from the stationary distribution.

    Examples
    --------
    >>> import brainmass, brainstate, brainunit as u
    >>> brainstate.environ.set(dt=0.1 * u.ms)
    >>> ou = brainmass.OUProcess(4, sigma=0.1, tau=50 * u.ms)
    >>> ou.init_state()
    >>> ou.update().shape
    (4,)
    """

    def __init__(self, in_size, mean=None, sigma=1.0, tau=10. * u.ms, init=None, name=None):
        super().__init__(in_size, mean=mean, sigma=sigma, name=name)
        tau_ms = tau if isinstance(tau, brainstate.nn.Param) else time_to_ms(tau, 'tau')
        if not isinstance(tau_ms, brainstate.nn.Param):
            tau_ms = as_numeric(tau_ms, 'tau', 'OUProcess')
        self.tau = checked_param(tau_ms, self.varshape, 'tau', 'OUProcess', positive=True, unit='ms')
        if init is not None and not callable(init):
            init = as_numeric(init, 'init', 'OUProcess')
            check_values(u.get_magnitude(init), 'init', 'OUProcess')
        self._init = init

    def initial_value(self):
        if self._init is None:
            return self._mean() + self.sigma.value() * self.randn()
        init = self._init(self.sample_shape) if callable(self._init) else self._init
        if isinstance(init, u.Quantity) and self.unit is not None:
            init = init.to_decimal(self.unit)
        return jnp.broadcast_to(jnp.asarray(u.get_magnitude(init)), self.sample_shape)

    @property
    def eta(self):
        """The state ``x`` under its earlier name (eta)."""
        return self.x

    def sample(self):
        decay = jnp.exp(-_dt_ms() / self.tau.value())
        mu = self._mean()
        kick = self.sigma.value() * jnp.sqrt(1. - decay ** 2) * self.randn()
        return mu + (self._previous() - mu) * decay + kick


class BrownianNoise(Noise):
    r"""Brownian motion (Wiener path): :math:`W_{n+1} = W_n + \sigma\sqrt{dt/\mathrm{ms}}\,\xi_n`.

    Starts at ``mean`` (default 0). Its variance grows as
    :math:`\sigma^2 t/\mathrm{ms}`. ``x`` holds :math:`W` in the driven unit.
    """

    @property
    def w(self):
        """The state ``x`` under its earlier name (W)."""
        return self.x

    def sample(self):
        step = self.sigma.value() * jnp.sqrt(_dt_ms()) * self.randn()
        return self._previous() + step


def fractional_filter(beta: float, n_taps: int) -> np.ndarray:
    """Coefficients of :math:`(1 - B)^{-\\beta/2}` (Hosking 1981), ``h[0] = 1``."""
    d = beta / 2.0
    h = np.ones(n_taps)
    for k in range(1, n_taps):
        h[k] = h[k - 1] * (k - 1 + d) / k
    return h


class ColoredNoise(Noise):
    r"""Noise with power spectrum :math:`S(f) \propto 1/f^{\beta}`.

    White noise filtered by :math:`(1 - B)^{-\beta/2}` (fractional integration
    for :math:`\beta > 0`, differencing for :math:`\beta < 0`), truncated to
    ``n_taps`` coefficients; the output is scaled so its variance is
    :math:`\sigma^2`.

    Parameters
    ----------
    in_size : int or tuple
    beta : float, default 1.0
        Spectral exponent: 0 white, 1 pink, 2 red/Brownian-like, -1 blue, -2 violet.
    mean, sigma : float or Quantity
        Offset and standard deviation (unit of the driven variable).
    n_taps : int, default 256
        Filter length (sets the lowest frequency shaped, about 1/(n_taps dt)).
    """

    def __init__(self, in_size, beta=1.0, mean=None, sigma=1.0, n_taps=256, name=None):
        super().__init__(in_size, mean=mean, sigma=sigma, name=name)
        beta = check_values(as_numeric(beta, 'beta', type(self).__name__, kinds='a number'), 'beta',
                            type(self).__name__)
        if np.ndim(beta) != 0:
            raise ValueError(f'`beta` of {type(self).__name__} must be a single number; got shape {np.shape(beta)}.')
        self.beta = float(beta)
        self.n_taps = check_int_at_least(n_taps, 1, 'n_taps')
        h = fractional_filter(self.beta, self.n_taps)
        self._taps = jnp.asarray(h / np.sqrt(np.sum(h ** 2)), dtype=brainstate.environ.dftype())

    def init_state(self, batch_size=None, **kwargs):
        super().init_state(batch_size)
        self._set_state('history', self.randn(lead=(self.n_taps,)).astype(brainstate.environ.dftype()))

    def sample(self):
        fresh = self.randn()
        hist = jnp.concatenate([fresh[None].astype(self.history.value.dtype), self.history.value[:-1]], axis=0)
        self.history.value = hist
        filtered = jnp.tensordot(self._taps, hist, axes=(0, 0))
        return self._mean() + self.sigma.value() * filtered


class PinkNoise(ColoredNoise):
    """:class:`ColoredNoise` with ``beta = 1`` (1/f)."""

    def __init__(self, in_size, mean=None, sigma=1.0, n_taps=256, name=None):
        super().__init__(in_size, beta=1.0, mean=mean, sigma=sigma, n_taps=n_taps, name=name)


class BlueNoise(ColoredNoise):
    """:class:`ColoredNoise` with ``beta = -1`` (power rising as f)."""

    def __init__(self, in_size, mean=None, sigma=1.0, n_taps=256, name=None):
        super().__init__(in_size, beta=-1.0, mean=mean, sigma=sigma, n_taps=n_taps, name=name)


class VioletNoise(ColoredNoise):
    """:class:`ColoredNoise` with ``beta = -2`` (power rising as f^2)."""

    def __init__(self, in_size, mean=None, sigma=1.0, n_taps=256, name=None):
        super().__init__(in_size, beta=-2.0, mean=mean, sigma=sigma, n_taps=n_taps, name=name)
