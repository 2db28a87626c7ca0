"""Guarded arithmetic shared by the analysis functions and :mod:`brainmass.objectives`.

A guarded root or division must keep a NaN (a diverged series gives a NaN
result, never a perfect one) and have a finite gradient where the plain
operation has none (``sqrt`` at 0).
"""
from __future__ import annotations

import jax.numpy as jnp

__all__ = ['zero_unless_nan', 'safe_sqrt', 'rms']


def zero_unless_nan(x):
    """0 where ``x`` is a number, NaN where it is NaN, in ``x``'s dtype.

    The fallback branch of the guarded divisions and roots (``NaN > 0`` is
    False, so a plain ``where(x > 0, ..., 0)`` would turn NaN into 0).
    """
    return jnp.where(jnp.isnan(x), jnp.nan, 0.0).astype(x.dtype)


def safe_sqrt(x):
    """``sqrt`` with a finite (zero) gradient at 0; NaN stays NaN."""
    pos = x > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, x, 1.0)), zero_unless_nan(x))


def rms(d):
    """Root mean square of all elements of ``d`` (a zero gradient at ``d = 0``; NaN stays NaN)."""
    return safe_sqrt(jnp.mean(d * d))
