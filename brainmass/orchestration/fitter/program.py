"""The pure objective of a fit: one traced evaluation and its compiled variants.

A :class:`TracedObjective` is what tracing ``predict`` / ``loss_fn`` produced (the jaxpr and
the compiled functions built from it). It holds neither the Fitter nor the model, so it can
be cached with the model (:mod:`brainmass._core.compile_cache`) and reused by a later Fitter
of the same model with the same settings. A :class:`Program` is one fit's view of it: the
target, the start vector and the values of the states read when the fit starts.
"""
from __future__ import annotations

import brainstate
import jax
import jax.numpy as jnp

from ..._core.transforms import derivatives_by_forward_mode, uses_primitive

__all__ = ['Program', 'TracedObjective']


class TracedObjective:
    """One traced evaluation ``(theta, target, state_values) -> (loss, prediction)`` and its compiled variants.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(flat, target) -> (loss, prediction)``: writes the unconstrained vector into
        the parameter states and runs the model; traced once here, under
        ``brainstate.transform.StatefulFunction`` (and not kept).
    x0 : jax.Array
        An unconstrained vector of the right shape and dtype.
    target : array or None
        The data (``None`` with ``loss_fn``); only its shape, dtype and unit are used.
    mode : {'forward', 'reverse'}
        The gradient mode chosen by the number of parameter values.
    gradient : {'auto', 'forward', 'reverse'}
        The Fitter's ``gradient`` setting ('forward' cannot fall back to reverse mode).

    Notes
    -----
    The values of the states the computation reads (including ``brainstate.random``'s key)
    are arguments of every compiled variant, not constants: each fit passes the values its
    states hold when it starts.
    """

    def __init__(self, evaluate, x0, target, mode, gradient):
        sf = brainstate.transform.StatefulFunction(evaluate)
        sf.make_jaxpr(x0, target)
        key = sf.get_arg_cache_key(x0, target)
        self.states = tuple(sf.get_states_by_cache(key))
        self.jaxpr = sf.get_jaxpr_by_cache(key)
        self.out_treedef = sf.get_out_treedef_by_cache(key)
        self.gradient_mode = self._gradient_mode(mode, gradient)
        self.differentiable = (derivatives_by_forward_mode(self.__call__) if self.gradient_mode == 'forward'
                               else self.__call__)

    def _gradient_mode(self, mode, gradient):
        """``mode``, unless the computation holds a ``custom_vjp`` function (jax cannot
        differentiate those in forward mode): then 'auto' takes reverse mode and 'forward' raises."""
        if mode == 'forward' and uses_primitive(self.jaxpr, 'custom_vjp_call', 'custom_vjp_call_jaxpr'):
            if gradient == 'forward':
                raise ValueError("gradient='forward' cannot differentiate this model: its computation contains a "
                                 "jax.custom_vjp function, which has no forward-mode derivative; use "
                                 "gradient='reverse' (or 'auto', which picks it).")
            mode = 'reverse'
        return mode

    def state_values(self):
        """The values the traced states hold now."""
        return tuple(s.value for s in self.states)

    def __call__(self, flat, target, state_values):
        """The pure function: ``(loss, prediction)``; no Python tracing of the model."""
        leaves = jax.tree.flatten(((flat, target), {}, state_values))[0]
        outs = jax.core.eval_jaxpr(self.jaxpr.jaxpr, self.jaxpr.consts, *leaves)
        return self.out_treedef.unflatten(outs)[0]

    # compiled variants (built lazily, each compiled once by XLA per argument shapes)
    @property
    def value_and_grad(self):
        if not hasattr(self, '_vg'):
            self._vg = jax.jit(jax.value_and_grad(self.differentiable, has_aux=True))
        return self._vg

    @property
    def value(self):
        if not hasattr(self, '_value'):
            self._value = jax.jit(self.__call__)
        return self._value

    @property
    def batch(self):
        """``(thetas (B, n), target, state_values) -> (losses (B,), prediction of the best row)``."""
        if not hasattr(self, '_batch'):
            def batch(thetas, target, state_values):
                losses, preds = jax.vmap(self.__call__, in_axes=(0, None, None))(thetas, target, state_values)
                best = jnp.argmin(jnp.where(jnp.isfinite(losses), losses, jnp.inf))
                return losses, jax.tree.map(lambda p: p[best], preds)
            self._batch = jax.jit(batch)
        return self._batch


class Program:
    """One fit's evaluation ``(theta, target) -> (loss, prediction)`` and its compiled variants.

    Parameters
    ----------
    traced : TracedObjective
        The traced computation (possibly cached with the model and shared with other Fitters).
    layout : Layout
        The parameters' flat-vector layout (the start vector is read from it).
    target : array or None
        The data (``None`` with ``loss_fn``).
    """

    def __init__(self, traced, layout, target):
        self.traced = traced
        self.layout = layout
        self.target = target
        self.x0 = layout.read()
        self.state_values = traced.state_values()  # read once: every evaluation of this fit starts from them
        self.gradient_mode = traced.gradient_mode
        self.canonical = None  # the compiled evaluation whose values are reported

    def __call__(self, flat, target):
        return self.traced(flat, target, self.state_values)

    def differentiable(self, flat, target):
        """``self(flat, target)`` differentiated in :attr:`gradient_mode` (a pure function of ``flat``)."""
        return self.traced.differentiable(flat, target, self.state_values)

    def value_and_grad(self, flat, target):
        return self.traced.value_and_grad(flat, target, self.state_values)

    def value(self, flat, target):
        return self.traced.value(flat, target, self.state_values)

    def batch(self, thetas, target):
        """``(thetas (B, n), target) -> (losses (B,), prediction of the best row)``, one vmapped program."""
        return self.traced.batch(thetas, target, self.state_values)

    def evaluate(self, flat):
        """Canonical ``(loss, prediction)`` at an unconstrained vector (concrete).

        The same compiled function the back end used, so the best parameters
        give exactly the reported best loss.
        """
        if self.canonical == 'vg':
            (loss, pred), _ = self.value_and_grad(flat, self.target)
        elif isinstance(self.canonical, tuple):  # ('batch', n_sample)
            losses, pred = self.batch(jnp.tile(flat[None], (self.canonical[1], 1)), self.target)
            loss = losses[0]
        else:
            loss, pred = self.value(flat, self.target)
        return float(loss), pred
