r"""Small building blocks shared by neural-mass models.

* :func:`sigmoid` - the population firing-rate sigmoid of Jansen & Rit (1995),
  :math:`S(v) = v_{max} / (1 + e^{r (v_0 - v)})`;
* :func:`sys2nd` - the right-hand side of the second-order synaptic kernel
  :math:`h(t) = A a t e^{-at}`, i.e. :math:`\ddot y = A a\, m(t) - 2 a \dot y - a^2 y`;
* :func:`bounded_input` - a smooth, differentiable clamp :math:`b \tanh(x / b)`
  that keeps large drives (e.g. a stimulus or a runaway coupling current) within
  :math:`\pm b` while leaving small ones unchanged.

All three are plain array functions: they work on numbers, arrays and brainunit
quantities (units follow from the arithmetic), under ``jit``, ``grad`` and ``vmap``.
"""
from __future__ import annotations

import brainunit as u

from .units import unit_phrase

__all__ = ['sigmoid', 'sys2nd', 'bounded_input']


def sigmoid(x, vmax, v0, r):
    r"""Population sigmoid :math:`v_{max} / (1 + \exp(r (v_0 - x)))`.

    Parameters
    ----------
    x : array or Quantity
        Mean membrane potential (e.g. mV).
    vmax : float, array or Quantity
        Maximal firing rate (the result has its unit).
    v0 : float, array or Quantity
        Potential of half-maximal firing (same unit as ``x``).
    r : float, array or Quantity
        Steepness (the inverse unit of ``x``).

    Examples
    --------
    >>> import brainunit as u
    >>> from brainmass import sigmoid
    >>> print(sigmoid(6. * u.mV, 5. * u.Hz, 6. * u.mV, 0.56 / u.mV))   # half of vmax at v0
    2.5 Hz
    """
    exponent = u.maybe_decimal(r * (v0 - x))
    return vmax / (1. + u.math.exp(exponent))


def sys2nd(A, a, rate, y, dy):
    r"""Second derivative of a second-order synapse: :math:`A a\,m - 2 a \dot y - a^2 y`.

    The alpha-kernel synapse :math:`h(t) = A a t e^{-at}` (Jansen & Rit 1995;
    Lopes da Silva et al. 1974) turns an afferent rate :math:`m` into a
    post-synaptic potential :math:`y`; written as two first-order equations,
    :math:`\dot y = \dot y` and :math:`\ddot y` = this function.

    Parameters
    ----------
    A : float or Quantity
        Synaptic gain (e.g. 3.25 mV).
    a : float or Quantity
        Synaptic rate, the inverse time constant (e.g. 100 Hz).
    rate : array or Quantity
        Afferent firing rate :math:`m`.
    y, dy : array or Quantity
        The potential and its time derivative.

    Examples
    --------
    >>> from brainmass import sys2nd
    >>> float(sys2nd(A=3.25, a=0.1, rate=0.0, y=0.0, dy=0.0))   # rest is a fixed point
    0.0
    """
    return A * a * rate - 2. * a * dy - a * a * y


def bounded_input(x, bound=500.):
    r"""Smoothly bound ``x`` to :math:`(-b, b)`: :math:`b \tanh(x / b)`.

    Identity to first order for :math:`|x| \ll b`, saturating at :math:`\pm b`,
    differentiable everywhere.

    Parameters
    ----------
    x : array or Quantity
    bound : float or Quantity, default 500.
        The bound :math:`b` (> 0); a plain number is read in the unit of ``x``.

    Examples
    --------
    >>> from brainmass import bounded_input
    >>> round(float(bounded_input(1.0)), 4), round(float(bounded_input(1e6)), 3)
    (1.0, 500.0)
    """
    if not isinstance(bound, u.Quantity) and isinstance(x, u.Quantity):
        bound = bound * u.get_unit(x)
    if not u.get_unit(bound).has_same_dim(u.get_unit(x)):
        raise ValueError(f'`bound` must have the unit of `x` ({unit_phrase(x)}; a plain number is read in '
                         f'it); got a quantity in {u.get_unit(bound)}.')
    if not float(u.get_magnitude(bound)) > 0:
        raise ValueError(f'`bound` must be > 0; got {bound}.')
    return bound * u.math.tanh(u.maybe_decimal(x / bound))
