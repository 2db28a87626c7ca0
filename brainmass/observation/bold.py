r"""Balloon-Windkessel haemodynamics: neural drive -> BOLD.

The four-state haemodynamic model of Friston et al. (2000) with the BOLD
read-out of Stephan et al. (2007). See :class:`BOLDSignal` for the
equations, parameters and read-out constants.
"""
from __future__ import annotations

import functools
import warnings
from typing import Optional

import brainstate
import braintools
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.params import ReassignableParams
from .._core.units import is_traced, magnitude, param_magnitude
from .._core.validation import as_numeric, broadcasts_to, check_choice, check_in_size
from ._checks import NUMBER_KINDS, check_range, seconds

__all__ = ['BOLDSignal', 'bold_from_trace', 'balloon_rhs', 'bold_readout', 'FIELD_STRENGTHS']

#: Stephan et al. (2007) read-out constants per field strength (see BOLDSignal).
FIELD_STRENGTHS = {
    '1.5T': dict(nu0=40.3, r0=25., TE=0.04, epsilon=1.43),
    '3T': dict(nu0=28.265 * 3., r0=110., TE=0.0331, epsilon=0.47),
}
_FLOOR = 1e-6            # positive floor for f and v inside the right-hand side
_METHODS = ('euler', 'heun', 'rk4')
_PER_S = 1. / u.second
#: (low, high, why) of the physically constrained parameters, checked where they are concrete
_RANGES = {
    'gamma': (0., None, ' (a rate)'),
    'k': (0., None, ' (a rate)'),
    'alpha': (0., None, " (Grubb's exponent)"),
    'tau': (0., None, ' (a time constant)'),
    'rho': (0., 1., ' (the resting oxygen extraction fraction)'),
    'V0': (0., None, ' (the resting venous blood volume fraction)'),
}


# ---------------------------------------------------------------- pure functions
def balloon_rhs(state, z, p):
    r"""Right-hand side of the Balloon-Windkessel ODE (time in seconds).

    ``state = (x, f, v, q)``, ``z`` the neural drive, ``p`` a dict with
    ``gamma, k, alpha, tau, rho``. ``f`` and ``v`` are floored at a tiny
    positive value so the fractional powers stay finite. Returns the tuple of
    derivatives ``(dx, df, dv, dq)`` per second.
    """
    return _rhs(_deviations(state), z, _coefficients(p))


def _deviations(state):
    """``(x, f - 1, v - 1, q - 1)``: the distances from rest (exact in floating point for f, v, q in [0.5, 2])."""
    x, f, v, q = state
    return x, f - 1., v - 1., q - 1.


def _coefficients(p):
    r"""Constants of the right-hand side, computed once per step.

    The extraction term is written so rest is an exact fixed point in floating
    point: with :math:`c = 1-\rho`, :math:`c^{1/f} = c\,c^{(1-f)/f}`, so
    :math:`E(f)/\rho = (1 - c^{1/f})/\rho = 1 - (c/\rho)\,\mathrm{expm1}\bigl(\tfrac{1-f}{f}\ln c\bigr)`,
    exactly 1 at :math:`f = 1` (and accurate near it).
    """
    rho = p['rho']
    return dict(gamma=p['gamma'], k=p['k'], inv_tau=1. / p['tau'], inv_alpha=1. / p['alpha'],
                log_c=jnp.log(1. - rho), c_over_rho=(1. - rho) / rho)


def _rhs(dev, z, c):
    """The derivatives from the distances from rest ``(x, f - 1, v - 1, q - 1)``.

    Every flow is written as (its value - 1) with ``expm1`` / ``log1p``, so a
    small excursion keeps its relative precision (``v**(1/alpha) - f`` of two
    numbers near 1 would lose it).
    """
    x, df, dv, dq = dev
    df = jnp.maximum(df, _FLOOR - 1.)                                 # f >= _FLOOR
    f = 1. + df
    log_v = jnp.log1p(jnp.maximum(dv, _FLOOR - 1.))                   # log v, v >= _FLOOR
    out_flow = jnp.expm1(c['inv_alpha'] * log_v)                      # v^(1/alpha) - 1
    out_q = jnp.expm1((c['inv_alpha'] - 1.) * log_v) * (1. + dq) + dq  # v^(1/alpha) q / v - 1
    in_q = df - f * c['c_over_rho'] * jnp.expm1(-df / f * c['log_c'])   # f E(f) / rho - 1
    dx = z - c['k'] * x - c['gamma'] * df
    return dx, x, (df - out_flow) * c['inv_tau'], (in_q - out_q) * c['inv_tau']


def bold_readout(q, v, p):
    r""":math:`V_0 (k_1 (1-q) + k_2 (1-q/v) + k_3 (1-v))`; exactly 0 at rest."""
    return _readout(q - 1., v - 1., p)


def _readout(dq, dv, p):
    """:func:`bold_readout` from ``q - 1`` and ``v - 1`` (``1 - q/v = (dv - dq) / v``: no cancellation)."""
    dv = jnp.maximum(dv, _FLOOR - 1.)
    return p['V0'] * (p['k2'] * (dv - dq) / (1. + dv) - p['k1'] * dq - p['k3'] * dv)


def _axpy(a, xs, ys):
    return tuple(y + a * x for x, y in zip(xs, ys))


def _increment(dev, z, dt, p, method):
    """The change of every state over one explicit step of ``method`` of ``dt`` seconds, from the
    distances from rest ``dev``."""
    c = _coefficients(p)
    f = lambda s: _rhs(s, z, c)
    k1 = f(dev)
    if method == 'euler':
        return tuple(dt * a for a in k1)
    if method == 'heun':
        k2 = f(_axpy(dt, k1, dev))
        return tuple(0.5 * dt * (a + b) for a, b in zip(k1, k2))
    k2 = f(_axpy(0.5 * dt, k1, dev))
    k3 = f(_axpy(0.5 * dt, k2, dev))
    k4 = f(_axpy(dt, k3, dev))
    return tuple(dt / 6. * (a + 2. * b + 2. * c + d) for a, b, c, d in zip(k1, k2, k3, k4))


def _two_sum(s, y):
    """``s + y`` rounded, and its rounding error (Knuth's TwoSum: exact in floating point)."""
    t = s + y
    b = t - s
    return t, (s - (t - b)) + (y - b)


def _advance(state, residual, z, dt, p, method):
    """One step of the states ``(x, f, v, q)`` and the residuals of ``f, v, q`` (see BOLDSignal).

    ``f`` near 1 holds a step ``dt * df/dt`` only to its float spacing (6e-8 in
    float32), so a compensated sum carries what each addition rounds off (plain
    sums put the BOLD of 600,000 steps of 0.1 ms 2e-3 of its fluctuation off).
    """
    x, *fvq = state
    dev = (x,) + tuple((s - 1.) + r for s, r in zip(fvq, residual))
    dx, *inc = _increment(dev, z, dt, p, method)
    pairs = [_two_sum(s, d + r) for s, d, r in zip(fvq, inc, residual)]
    return (x + dx,) + tuple(s for s, _ in pairs), tuple(r for _, r in pairs)


def _bold_of(state, residual, p):
    """The read-out of ``(x, f, v, q)`` and the residuals of ``f, v, q``."""
    return _readout((state[3] - 1.) + residual[2], (state[2] - 1.) + residual[1], p)


# jitted once per shape/method: eager ``update`` loops stay fast; inlined under an outer trace
_advance_jit = jax.jit(_advance, static_argnames='method')
_bold_of_jit = jax.jit(_bold_of)


@functools.partial(jax.jit, static_argnames='method')
def _simulate(z_trace, dt, p, initial, method):
    """Scan :func:`_advance` over ``z_trace``; jitted so repeated calls reuse the compilation."""
    def body(carry, z):
        new = _advance(*carry, z, dt, p, method)
        return new, _bold_of(*new, p)

    residual = tuple(jnp.zeros_like(s) for s in initial[1:])
    return jax.lax.scan(body, (tuple(initial), residual), z_trace)[1]


# ------------------------------------------------------------------ the module
class BOLDSignal(ReassignableParams, brainstate.nn.Dynamics):
    r"""Balloon-Windkessel haemodynamic model with a BOLD read-out.

    States (dimensionless; time in seconds): vasodilatory signal :math:`x`,
    inflow :math:`f`, venous volume :math:`v`, deoxyhaemoglobin :math:`q`
    (Friston et al. 2000):

    .. math::

        \dot x &= z - \kappa x - \gamma (f - 1), \\
        \dot f &= x, \\
        \tau \dot v &= f - v^{1/\alpha}, \\
        \tau \dot q &= \frac{f\,\bigl(1 - (1-\rho)^{1/f}\bigr)}{\rho} - v^{1/\alpha} \frac{q}{v},

    driven by the neural activity :math:`z`. Read-out (Stephan et al. 2007):

    .. math::

        y = V_0 \Bigl(k_1 (1 - q) + k_2 \bigl(1 - \tfrac{q}{v}\bigr) + k_3 (1 - v)\Bigr),

    exactly 0 at rest (:math:`x = 0,\ f = v = q = 1`).

    Read-out constants. Default (``field_strength=None``), the classic
    constants of Friston et al. (2000)/Deco et al.: :math:`k_1 = 7\rho`,
    :math:`k_2 = 2`, :math:`k_3 = 2\rho - 0.2`. ``field_strength='1.5T'``
    or ``'3T'`` uses Stephan et al. (2007), Eq. 12:
    :math:`k_1 = 4.3\,\nu_0 \rho\, T_E`, :math:`k_2 = \varepsilon\, r_0 \rho\, T_E`,
    :math:`k_3 = 1 - \varepsilon` with the resting extraction :math:`E_0 = \rho` and

    =====  ======================================  ============  ========  ==============
    field  :math:`\nu_0` (1/s)                     r0 (1/s)      TE (s)    epsilon
    =====  ======================================  ============  ========  ==============
    1.5T   40.3 (Stephan et al. 2007)              25            0.04      1.43 (Obata 2004)
    3T     28.265 x 3 = 84.8 (Uludag et al. 2009)  110           0.0331    0.47
    =====  ======================================  ============  ========  ==============

    (the 3 T row follows Uludag et al. 2009 / Heinzle et al. 2016; the table
    is ``brainmass.observation.FIELD_STRENGTHS``). Explicit ``k1``, ``k2``,
    ``k3`` override either choice.

    ==============  =======  =====  =================================================
    parameter       default  unit   meaning
    ==============  =======  =====  =================================================
    in_size         -        -      number of regions (int or tuple)
    gamma           0.41     1/s    rate of flow-dependent elimination
    k               0.65     1/s    rate of signal decay :math:`\kappa`
    alpha           0.32     -      Grubb's exponent
    tau             0.98     s      haemodynamic transit time
    rho             0.34     -      resting oxygen extraction fraction :math:`E_0`
    V0              0.02     -      resting venous blood volume fraction
    init            1.0      -      initial f, v, q (1 = rest); x starts at 0
    k1, k2, k3      None     -      read-out constants (see above)
    field_strength  None     -      None, '1.5T' or '3T'
    method          'rk4'    -      'euler', 'heun' or 'rk4'
    ==============  =======  =====  =================================================

    Every parameter may be a number, an array broadcastable to ``in_size``,
    a brainunit quantity (rates converted to 1/s, times to s) or a
    ``brainstate.nn.Param`` (trainable). ``update(z)`` advances one step of
    the environment's ``dt`` (``brainstate.environ.get_dt()``: a quantity, or
    a plain number of **ms**) and returns :meth:`bold`. The drive ``z`` is
    read as a plain number: a quantity contributes its magnitude in its own
    unit (normalise it yourself, e.g. ``r / u.Hz``). A negative or NaN drive
    warns once (when ``z`` is concrete, not under ``jit``); ``f`` and ``v``
    are floored at ``1e-6`` inside the right-hand side so a strong negative
    drive keeps the states finite (NaN drive gives NaN states).

    Precision. ``f``, ``v`` and ``q`` stay near 1 (or near a steady level),
    where a float32 holds them only to 6e-8; a step adds ``dt`` times a small
    rate, so plain sums of the steps would lose much of each (in float32, 60 s
    of 0.1 ms steps put the BOLD 2e-3 of its fluctuation off, and a weak
    drive 4e-2 of its peak after 2 s). The steps are summed with compensation
    instead: three more hidden states, ``f_residual``, ``v_residual``,
    ``q_residual``, keep what the rounding of ``f``, ``v``, ``q`` left out
    (the state is ``f + f_residual``), and the right-hand side and the
    read-out work on the distances from rest (:math:`f - 1`, ..., with
    ``expm1`` / ``log1p``). Writing ``f`` directly is fine: its residual is
    at most half a float step of ``f``.

    References
    ----------
    Buxton, R. B., Wong, E. C., Frank, L. R. (1998). Dynamics of blood flow and
    oxygenation changes during brain activation: the balloon model.
    *Magn. Reson. Med.* 39, 855-864.
    Friston, K. J., Mechelli, A., Turner, R., Price, C. J. (2000). Nonlinear
    responses in fMRI: the Balloon model, Volterra kernels, and other
    hemodynamics. *NeuroImage* 12, 466-477.
    Stephan, K. E., Weiskopf, N., Drysdale, P. M., Robinson, P. A., Friston,
    K. J. (2007). Comparing hemodynamic models with DCM. *NeuroImage* 38, 387-401.
    Obata, T. et al. (2004). Discrepancies between BOLD and flow dynamics in
    primary and supplementary motor areas. *NeuroImage* 21, 144-153.
    Uludag, K., Muller-Bierl, B., Ugurbil, K. (2009). An integrative model for
    neuronal activity-induced signal changes for gradient and spin echo
    functional imaging. *NeuroImage* 48, 150-165.

    Examples
    --------
    >>> import brainstate, brainunit as u, jax.numpy as jnp
    >>> from brainmass.observation import BOLDSignal
    >>> bold = BOLDSignal(in_size=3)
    >>> bold.init_state()
    >>> with brainstate.environ.context(dt=10 * u.ms):
    ...     y = bold.update(jnp.ones(3))
    >>> y.shape
    (3,)
    >>> ys = bold.simulate(jnp.zeros((100, 3)), 10 * u.ms)   # offline, from rest
    >>> float(abs(ys).max())
    0.0
    """

    def __init__(self, in_size, gamma=0.41, k=0.65, alpha=0.32, tau=0.98, rho=0.34, V0=0.02,
                 init=1., *, k1=None, k2=None, k3=None, field_strength=None, method='rk4',
                 name: Optional[str] = None):
        super().__init__(check_in_size(in_size), name=name)
        self.method = check_choice(method, _METHODS, 'method')
        self.field_strength = check_choice(field_strength, (None,) + tuple(FIELD_STRENGTHS),
                                           'field_strength')
        self.gamma = self._param(gamma, 'gamma', _PER_S)
        self.k = self._param(k, 'k', _PER_S)
        self.alpha = self._param(alpha, 'alpha')
        self.tau = self._param(tau, 'tau', u.second)
        self.rho = self._param(rho, 'rho')
        self.V0 = self._param(V0, 'V0')
        self.k1 = self._param(k1, 'k1')
        self.k2 = self._param(k2, 'k2')
        self.k3 = self._param(k3, 'k3')
        self.init = init
        self._warned = False

    # -------------------------------------------------------------- parameters
    def _reassigned_param(self, name, value, old):
        """``bold.<param> = value`` after construction: checked as the constructor checked it."""
        units = {'gamma': _PER_S, 'k': _PER_S, 'tau': u.second}
        return self._param(value, name, units.get(name))

    def _param(self, value, name, unit=None):
        if value is None:
            return None
        if isinstance(value, u.Quantity):
            value = param_magnitude(value, unit, name, 'BOLDSignal')
        # concrete values are range-checked once, here; a trainable Param (fit=True) or a State is not
        current = value
        if isinstance(value, brainstate.nn.Param):
            current = None if getattr(value, 'fit', True) else value.value()
        elif isinstance(value, brainstate.State):
            current = None
        else:
            as_numeric(value, name, 'BOLDSignal',
                           kinds='a number, an array of numbers, a quantity or a brainstate.nn.Param')
        if current is not None and name in _RANGES:
            low, high, why = _RANGES[name]
            check_range(u.get_magnitude(current), name, 'BOLDSignal', low, high, why=why)
        try:
            return brainstate.nn.Param.init(value, self.varshape)
        except (ValueError, TypeError) as err:
            raise ValueError(f'`{name}` of BOLDSignal must be a scalar or broadcast to in_size '
                             f'{self.varshape}; got {value!r}.') from err

    def parameters_dict(self) -> dict:
        """Current parameter values as plain arrays (rates 1/s, times s), k1..k3 resolved."""
        read = lambda p, name, unit=None: param_magnitude(p.value(), unit, name, 'BOLDSignal')
        p = dict(gamma=read(self.gamma, 'gamma', _PER_S), k=read(self.k, 'k', _PER_S),
                 alpha=read(self.alpha, 'alpha'), tau=read(self.tau, 'tau', u.second),
                 rho=read(self.rho, 'rho'), V0=read(self.V0, 'V0'))
        p.update(self._readout_constants(p['rho']))
        for name in ('k1', 'k2', 'k3'):
            if getattr(self, name) is not None:
                p[name] = read(getattr(self, name), name)
        return p

    def _readout_constants(self, rho):
        if self.field_strength is None:
            return dict(k1=7. * rho, k2=2., k3=2. * rho - 0.2)
        c = FIELD_STRENGTHS[self.field_strength]
        return dict(k1=4.3 * c['nu0'] * rho * c['TE'], k2=c['epsilon'] * c['r0'] * rho * c['TE'],
                    k3=1. - c['epsilon'])

    # ------------------------------------------------------------------ states
    def init_state(self, batch_size=None, **kwargs):
        """Create ``x`` (0), ``f, v, q`` (``init``) and their residuals (0) as ``brainstate.HiddenState``."""
        x, f, v, q = self._initial(batch_size)
        self.x = brainstate.HiddenState(x)
        self.f = brainstate.HiddenState(f)
        self.v = brainstate.HiddenState(v)
        self.q = brainstate.HiddenState(q)
        for name in 'fvq':  # what the rounding of f, v, q left out (see Precision)
            setattr(self, f'{name}_residual', brainstate.HiddenState(jnp.zeros_like(x)))

    def reset_state(self, batch_size=None, **kwargs):
        initial = self._initial(batch_size)
        for name, value in zip('xfvq', initial):
            getattr(self, name).value = value
        for name in 'fvq':
            getattr(self, f'{name}_residual').value = jnp.zeros_like(initial[0])

    def _initial(self, batch_size=None, shape=None):
        if shape is None:
            shape = self.varshape if batch_size is None else (batch_size,) + tuple(self.varshape)
        init = braintools.init.param(self.init, self.varshape, batch_size=batch_size)
        ones = jnp.broadcast_to(jnp.asarray(u.get_magnitude(init), dtype=brainstate.environ.dftype()),
                                shape)
        return jnp.zeros(shape, ones.dtype), ones, ones, ones

    # ------------------------------------------------------------------ dynamics
    def derivative(self, x, f, v, q, z=0.):
        """``(dx, df, dv, dq)`` per second at the given state and drive."""
        return balloon_rhs((x, f, v, q), z, self.parameters_dict())

    def update(self, z=None):
        """Advance one ``dt`` step with drive ``z`` (default 0); return :meth:`bold`."""
        dt = _dt_seconds(brainstate.environ.get('dt', None))
        z = self._drive(z)
        state = self._state()
        if jnp.ndim(z) and not broadcasts_to(jnp.shape(z), jnp.shape(state[0])):
            raise ValueError(f'`z` of BOLDSignal.update has shape {tuple(jnp.shape(z))}, which does not fit the '
                             f'states of shape {tuple(jnp.shape(state[0]))} (in_size {tuple(self.varshape)}): give '
                             f'a scalar or one value per region.')
        new, residual = _advance_jit(state, self._residuals(), z, dt, self.parameters_dict(), self.method)
        self.x.value, self.f.value, self.v.value, self.q.value = new
        self.f_residual.value, self.v_residual.value, self.q_residual.value = residual
        return self.bold()

    def _residuals(self):
        return self.f_residual.value, self.v_residual.value, self.q_residual.value

    def _state(self):
        try:
            return self.x.value, self.f.value, self.v.value, self.q.value
        except AttributeError:
            raise RuntimeError('BOLDSignal has no states yet: call bold.init_state() or '
                               'brainstate.nn.init_all_states(bold) first.') from None

    def monitor_step(self, z):
        """Same as :meth:`update`: one step, returns the BOLD read-out (for monitors)."""
        return self.update(z)

    def bold(self):
        """The BOLD read-out of the current state (dimensionless)."""
        return _bold_of_jit(self._state(), self._residuals(), self.parameters_dict())

    def simulate(self, z_trace, dt, *, initial=None):
        """Run the ODE over a recorded drive ``z_trace`` (T, ...) and return BOLD (T, ...).

        Starts from rest (``x = 0``, ``f = v = q = init``) unless ``initial``
        gives ``(x, f, v, q)``; does not touch this module's states.
        ``dt`` is a quantity or a plain number of ms. Uses ``jax.lax.scan``:
        differentiable in ``z_trace`` and in the parameters, jit-safe.
        """
        z_trace = jnp.asarray(self._drive(z_trace))
        if z_trace.ndim == 0:
            raise ValueError('`z_trace` must have a time axis first: shape (T, ...).')
        if not jnp.issubdtype(z_trace.dtype, jnp.floating):
            z_trace = z_trace.astype(brainstate.environ.dftype())
        if initial is None:
            initial = self._initial(shape=z_trace.shape[1:])
        initial = tuple(jnp.asarray(s, dtype=z_trace.dtype) for s in initial)
        dt_s = _dt_seconds(dt)
        if not is_traced(dt_s):
            check_range(dt_s, 'dt', 'BOLDSignal.simulate')
        return _simulate(z_trace, dt_s, self.parameters_dict(), initial, self.method)

    # -------------------------------------------------------------------- input
    def _drive(self, z):
        if z is None:
            return 0.
        if not hasattr(z, 'dtype'):
            as_numeric(z, 'z', 'BOLDSignal', kinds=NUMBER_KINDS)
        z = jnp.asarray(magnitude(z))
        if not self._warned and not is_traced(z):
            values = np.asarray(z)
            if np.any(values < 0) or np.any(np.isnan(values)):
                warnings.warn('BOLDSignal received a negative or NaN neural drive z; the Balloon model '
                              'expects z >= 0. f and v are floored at 1e-6 to keep the states finite '
                              '(this warning is shown once per BOLDSignal).', RuntimeWarning,
                              stacklevel=3)
                self._warned = True
        return z

    def __repr__(self):
        return (f'BOLDSignal(in_size={self.in_size}, method={self.method!r}, '
                f'field_strength={self.field_strength!r})')


def bold_from_trace(z, dt, **params):
    """BOLD of a recorded drive ``z`` (T,) or (T, N): ``BOLDSignal(...).simulate(z, dt)``.

    ``params`` are :class:`BOLDSignal` keyword arguments (``gamma``, ``k``,
    ``method``, ...). Starts from rest; differentiable; returns the shape of ``z``.

    Examples
    --------
    >>> import jax.numpy as jnp, brainunit as u
    >>> from brainmass.observation import bold_from_trace
    >>> bold_from_trace(jnp.ones((50, 2)), 10 * u.ms).shape
    (50, 2)
    """
    shape = jnp.shape(magnitude(z))
    if len(shape) == 0:
        raise ValueError('`z` must have a time axis first: shape (T,) or (T, N).')
    in_size = shape[1:] if len(shape) > 1 else 1
    return BOLDSignal(in_size, **params).simulate(z, dt)


# ----------------------------------------------------------------- helpers
def _dt_seconds(dt) -> float:
    """The step as plain seconds (quantity converted, plain numbers read as ms)."""
    if dt is None:
        raise ValueError('BOLDSignal needs a time step: set it with '
                         'brainstate.environ.set(dt=0.1 * u.ms) or pass dt.')
    return seconds(dt, 'dt', plain='ms')
