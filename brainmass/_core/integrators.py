"""The integrator registry: every explicit scheme is a braintools.quad step.

A scheme advances a dict of state arrays ``y`` by one ``dt`` (read from
``brainstate.environ``) given the right-hand side ``f(y, t) -> dy/dt``.
``'exp_euler'`` is special: it integrates each variable's own linear part
exactly (diagonal Jacobian) with the other variables held at their current
values, which is what neural-mass models with leak terms want.

=============  =====  ======================================================
name           order  braintools.quad function
=============  =====  ======================================================
exp_euler      1      ``ode_expeuler_step`` per variable (default)
euler          1      ``ode_euler_step``
heun           2      ``ode_rk2_step`` (Heun's method / explicit trapezoid)
midpoint       2      ``ode_midpoint_step``
rk2            2      ``ode_rk2_step``
ralston2       2      ``ode_ralston2_step``
heun3          3      ``ode_heun_step`` (Heun's third-order method)
rk3            3      ``ode_rk3_step``
ralston3       3      ``ode_ralston3_step``
ssprk33        3      ``ode_ssprk33_step``
rk4            4      ``ode_rk4_step``
rk4_38         4      ``ode_rk4_38_step``
dopri5         5      ``ode_dopri5_step`` (Dormand-Prince 5(4), fixed step)
rk45_dopri     5      ``ode_rk45_dopri_step`` (the same scheme as dopri5)
rk23           3      ``ode_rk23_step`` (Bogacki-Shampine 3(2))
bs32           3      ``ode_bs32_step`` (the same scheme as rk23)
rk45           5      ``ode_rk45_step`` (Cash-Karp 4(5), 5th-order solution)
rkf45          5      ``ode_rkf45_step`` (Runge-Kutta-Fehlberg 4(5))
dopri8         8      ``ode_dopri8_step`` (Dormand-Prince 8(7), DOP853)
rk87_dopri     8      ``ode_rk87_dopri_step`` (the same scheme as dopri8)
=============  =====  ======================================================

The embedded pairs (rk23 ... rk87_dopri) are run with a fixed step: the
higher-order solution is propagated and the error estimate is not used.
"""
from __future__ import annotations

from typing import Callable, Dict

import brainstate
import brainunit as u
import jax.numpy as jnp

import braintools

from .validation import check_choice

__all__ = ['INTEGRATORS', 'ORDERS', 'get_integrator', 'list_methods', 'exp_euler_step']

_quad = braintools.quad

INTEGRATORS: Dict[str, Callable] = {
    'euler': _quad.ode_euler_step,
    'heun': _quad.ode_rk2_step,
    'midpoint': _quad.ode_midpoint_step,
    'rk2': _quad.ode_rk2_step,
    'ralston2': _quad.ode_ralston2_step,
    'heun3': _quad.ode_heun_step,
    'rk3': _quad.ode_rk3_step,
    'ralston3': _quad.ode_ralston3_step,
    'ssprk33': _quad.ode_ssprk33_step,
    'rk4': _quad.ode_rk4_step,
    'rk4_38': _quad.ode_rk4_38_step,
    'dopri5': _quad.ode_dopri5_step,
    'rk45_dopri': _quad.ode_rk45_dopri_step,
    'rk23': _quad.ode_rk23_step,
    'bs32': _quad.ode_bs32_step,
    'rk45': _quad.ode_rk45_step,
    'rkf45': _quad.ode_rkf45_step,
    'dopri8': _quad.ode_dopri8_step,
    'rk87_dopri': _quad.ode_rk87_dopri_step,
}

ORDERS = {'exp_euler': 1, 'euler': 1, 'heun': 2, 'midpoint': 2, 'rk2': 2, 'ralston2': 2,
          'heun3': 3, 'rk3': 3, 'ralston3': 3, 'ssprk33': 3, 'rk4': 4, 'rk4_38': 4, 'dopri5': 5,
          'rk45_dopri': 5, 'rk23': 3, 'bs32': 3, 'rk45': 5, 'rkf45': 5, 'dopri8': 8, 'rk87_dopri': 8}


def list_methods():
    """Names accepted by ``method=``, default first."""
    return ['exp_euler'] + list(INTEGRATORS)


def get_integrator(method: str) -> str:
    """Validate an integrator name (ValueError listing the choices)."""
    if not isinstance(method, str):
        raise TypeError(f'`method` must be a string, one of {list_methods()}; got {method!r}.')
    return check_choice(method, list_methods(), 'method')


def exp_euler_step(rhs_of: Callable, y: dict, t):
    """Exponential Euler on each variable of ``y`` (others held at current values).

    ``rhs_of(name, y)`` returns d(name)/dt for the full state dict ``y``.
    """
    new = {}
    for name, value in y.items():
        def f_single(v, t_, name=name):
            return rhs_of(name, {**y, name: v})
        new[name] = _expeuler_one(f_single, value, t)
    return new


def _expeuler_one(f, y, t):
    """One exponential Euler step of ``dy/dt = f(y, t)`` with the diagonal linearisation ``J = df/dy``
    (``braintools.quad.ode_expeuler_step``'s formula).

    The Jacobian is taken with ``brainunit.autograd.vector_grad`` directly: brainstate's
    ``vector_grad`` (0.5.4), which braintools uses, reuses a previous evaluation when ``f``
    closes over a numpy array that was edited in place since, so an input array changed
    between two eager steps gave the old derivative (a silent wrong step).
    """
    dtype = u.math.get_dtype(y)
    if dtype not in (jnp.float32, jnp.float64, jnp.float16, jnp.bfloat16):
        raise ValueError(f'Exponential Euler needs a floating state (float16/32/64, bfloat16); got {dtype}.')
    dt = brainstate.environ.get('dt')
    linear, derivative = u.autograd.vector_grad(f, argnums=0, return_value=True, unit_aware=False)(y, t)
    linear = u.Quantity(u.get_mantissa(linear), u.get_unit(derivative) / u.get_unit(y))
    return y + dt * u.math.exprel(dt * linear) * derivative
