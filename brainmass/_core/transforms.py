"""JAX transformations shared by the layers above."""
from __future__ import annotations

import functools
import math

import brainstate
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ['recomputed_in_reverse', 'segmented_for_loop', 'pairwise_sum', 'derivatives_by_forward_mode',
           'uses_primitive']


def recomputed_in_reverse(fn):
    """``fn`` whose intermediates a reverse pass recomputes instead of storing.

    ``brainstate.transform.checkpoint`` with a save-nothing policy: differentiating a
    loop otherwise stores every intermediate of every step (integrator stages, the
    coupling, the gathered delay windows, the noise) for the backward pass, memory and
    memory traffic that cost more than recomputing a step from its inputs (measured:
    value-and-gradient of the 1 s, N = 76 delayed Hopf network from ~7.7x the forward
    run to ~3x, scratch memory 105 MiB -> 15 MiB). A forward run compiles to the same
    program. Works on pure functions and on functions that read and write states;
    wrap at trace time, where the states a function touches are found.
    """
    return brainstate.transform.checkpoint(fn, prevent_cse=False, policy=jax.checkpoint_policies.nothing_saveable)


def segmented_for_loop(body, indices, xs, pbar=None):
    """``brainstate.transform.for_loop(body, indices, xs)`` with two-level checkpointing for reverse mode.

    The ``n`` iterations run as segments of ``s = ceil(sqrt(n))`` iterations (the last
    ``n mod s`` as a plain loop), and each segment is :func:`recomputed_in_reverse`: reverse
    mode keeps the loop's carry (the states) at the start of every segment, and while it
    differentiates one segment, the residuals of that segment's ``s`` iterations. Memory is
    about ``n / s`` carries plus ``s`` iterations' residuals, i.e. ``O(sqrt(n))``, for one
    extra forward pass (each segment runs again before it is transposed). A forward run
    computes the values of the plain loop (to float rounding: the segments compile as
    their own loops). ``body(index, x) -> out``; ``indices`` and
    every leaf of ``xs`` have ``n`` along their first axis; returns the stacked outputs.
    """
    n = int(indices.shape[0])
    size = max(1, math.ceil(math.sqrt(n)))
    n_segments, rest = divmod(n, size)
    cut = n_segments * size

    def run_segment(idx, x):
        return brainstate.transform.for_loop(body, idx, x)

    def segments(a):
        return a[:cut].reshape((n_segments, size) + a.shape[1:])

    outs = brainstate.transform.for_loop(recomputed_in_reverse(run_segment), segments(indices),
                                         jax.tree.map(segments, xs), pbar=pbar)
    outs = jax.tree.map(lambda o: o.reshape((cut,) + o.shape[2:]), outs)
    if rest:
        tail = brainstate.transform.for_loop(body, indices[cut:], jax.tree.map(lambda a: a[cut:], xs))
        outs = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), outs, tail)
    return outs


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def pairwise_sum(x, axis):
    """``x.sum(axis)``, added as a tree of halves; its derivatives are those of the sum.

    The delayed read of a network reduces an (N, N, K) block of weighted windows over
    its sources every K steps. XLA's CPU backend hands a plain ``sum`` of that shape to
    a library reduction that reads the strided source axis slowly; as a tree of
    slices and adds it stays in XLA's own loop fusions (measured, N = 76 / 200 / 500:
    30 / 212 / 1340 us per block of 10 steps with ``sum`` or ``einsum``, 21 / 137 /
    600 us as a tree; the gather itself costs 6 / 24 us). Its derivatives, in forward
    and reverse mode, are those of a plain ``sum`` (a broadcast in reverse), so
    gradients take no detour through the slices. Rounding differs from ``x.sum(axis)``
    by a few ulp.
    """
    n = x.shape[axis]
    if n == 0:
        return x.sum(axis)
    while n > 1:
        half = n // 2
        total = jax.lax.slice_in_dim(x, 0, half, axis=axis) + jax.lax.slice_in_dim(x, half, 2 * half, axis=axis)
        if n % 2:  # the odd one out joins the first element
            first = (slice(None),) * axis + (slice(0, 1),)
            total = total.at[first].add(jax.lax.slice_in_dim(x, 2 * half, n, axis=axis))
        x, n = total, half
    return jax.numpy.squeeze(x, axis)


@pairwise_sum.defjvp
def _pairwise_sum_jvp(axis, primals, tangents):
    (x,), (dx,) = primals, tangents
    return pairwise_sum(x, axis), dx.sum(axis)


def derivatives_by_forward_mode(fn):
    r"""``fn(theta, *data)`` whose derivatives along ``theta`` come from forward mode, also in reverse mode.

    Every derivative of the result (``jax.jvp``, and ``jax.grad`` / ``jax.vjp`` too) is
    built from the Jacobian :math:`J = \partial\,\mathrm{fn} / \partial\theta` evaluated in
    forward mode at the primal point: one ``jax.jvp`` for a one-element ``theta``, a
    ``jax.vmap`` of them over the unit vectors otherwise. Reverse mode then only
    transposes :math:`J\,d\theta`. Through a long simulation loop and one parameter this
    costs less than reverse mode through the loop, which recomputes and transposes
    every step (measured: value-and-gradient of the 1 s, N = 76 delayed Hopf network
    ~2.5x the forward run instead of ~3.4x), and it stores nothing per step: memory
    grows with the duration only through the outputs and their tangents. Each further
    element of ``theta`` adds a tangent pass (a ``vmap`` over the unit vectors, which
    also recomputes the value), which is why callers use it for few parameters. Higher derivatives work
    (forward mode over the rule). ``data`` are constants: differentiating with respect
    to them raises ``TypeError``.
    """
    @jax.custom_jvp
    def with_forward_mode_derivatives(theta, *data):
        return fn(theta, *data)

    def rule(primals, tangents):
        theta, *data = primals
        d_theta, *d_data = tangents
        if any(not isinstance(t, jax.custom_derivatives.SymbolicZero)
               for t in jax.tree.leaves(d_data, is_leaf=_is_symbolic_zero)):
            raise TypeError('This function differentiates with respect to its first argument (the parameter '
                            'vector) only; its other arguments are data.')
        if isinstance(d_theta, jax.custom_derivatives.SymbolicZero):
            out = fn(theta, *data)
            return out, jax.tree.map(_zero_tangent, out)
        out, jac = _value_and_jacobian(fn, theta, data)
        flat_d = jnp.ravel(d_theta)
        return out, jax.tree.map(lambda j, o: _zero_tangent(o) if j.dtype == jax.dtypes.float0
                                 else jnp.tensordot(flat_d.astype(j.dtype), j, axes=1), jac, out)

    with_forward_mode_derivatives.defjvp(rule, symbolic_zeros=True)
    return functools.wraps(fn)(with_forward_mode_derivatives)


def _value_and_jacobian(fn, theta, data):
    """``fn(theta, *data)`` and its forward-mode Jacobian, leaves shaped ``(theta.size,) + leaf.shape``."""
    def along(direction):
        return jax.jvp(lambda th: fn(th, *data), (theta,), (direction,))

    if np.size(theta) == 1:
        out, tangent = along(jnp.ones_like(theta))
        return out, jax.tree.map(lambda t: t[None], tangent)
    basis = jnp.eye(np.size(theta), dtype=theta.dtype).reshape((np.size(theta),) + np.shape(theta))
    outs, jac = jax.vmap(along)(basis)
    return jax.tree.map(lambda o: o[0], outs), jac


def _is_symbolic_zero(x):
    return isinstance(x, jax.custom_derivatives.SymbolicZero)


def _zero_tangent(x):
    if jnp.issubdtype(jnp.result_type(x), jnp.inexact):
        return jnp.zeros(np.shape(x), jnp.result_type(x))
    return np.zeros(np.shape(x), jax.dtypes.float0)


def uses_primitive(jaxpr, *names: str) -> bool:
    """Whether ``jaxpr`` (a Jaxpr or ClosedJaxpr) or a jaxpr nested in it applies one of the primitives ``names``."""
    from jax.extend.core import jaxprs_in_params
    for eqn in getattr(jaxpr, 'jaxpr', jaxpr).eqns:
        if eqn.primitive.name in names or any(uses_primitive(sub, *names) for sub in jaxprs_in_params(eqn.params)):
            return True
    return False
