"""Cost of a gradient: value-and-gradient of an MSE loss wrt k vs the forward run.

Workload: the standard network of ``_workload.py`` (N = 76 Hopf nodes,
a = 0.2, w = 0.3, diffusive coupling on x, weights U[0, 1] / N symmetric with a
zero diagonal, tract lengths U[10, 150] mm at 10 mm/ms, dt = 0.1 ms, 1 s =
10,000 steps, x recorded every step), with ``k`` made trainable
(``brainstate.nn.Param(k, t=SoftplusT(0.))``).

The loss is ``mean((x(k) - x_target)**2)`` over the whole 1 s, built with
:meth:`brainmass.Fitter.make_loss` (the same pure function every Fitter back end
uses). Timed (``steady`` = median of ``--repeats`` calls after a warm-up):

* ``forward``: ``Simulator.run`` of the 1 s (the reference);
* ``loss``: ``jax.jit(loss_of)`` (forward + MSE through the Fitter's function);
* ``value_and_grad``: ``jax.jit(jax.value_and_grad(loss_of))`` with the Fitter's default
  ``gradient='auto'``, which for this one parameter is forward mode (the Jacobian by
  ``jax.jvp``, transposed for ``jax.grad``);
* ``value_and_grad (reverse mode)``: the same with ``Fitter(..., gradient='reverse')``:
  reverse mode through the 10,000 steps, what ``'auto'`` uses from two parameter values on;
* ``value_and_grad (reverse, checkpoint)``: reverse mode with ``Simulator.run(..., checkpoint=True)``;
* ``jvp (forward mode)``: ``jax.jvp`` of the loss along k (value + derivative, memory
  independent of the duration);
* a **pure-JAX reference**: the same delayed network written directly as one
  ``jax.lax.scan`` (Euler, ring buffer), forward / value_and_grad / jvp, to show
  what reverse mode costs relative to the forward pass on this machine, independent
  of brainmass.

The target is ratio = value_and_grad / forward <= 3 (the Fitter's default gradient; the
reverse-mode ratio is printed beside it). Besides the table (each row timed
in its own stretch of calls), the forward run and both value_and_grad are timed once more in
alternation (``max(repeats, 7)`` rounds) and compared by their fastest and median calls,
which keeps a busy neighbour on a shared machine from landing on one of the two only.

Usage::

    /work/venv/bin/python benchmarks/bench_grad.py [--n 76] [--duration-ms 1000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import _workload as W  # noqa: E402


def _timed(fn, repeats):
    """(first call, median of ``repeats`` further calls) in seconds."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def build(n, duration_ms, checkpoint, method='exp_euler', gradient='auto'):
    """(simulator run fn, loss_of, theta0) for the workload with trainable k."""
    import brainstate
    import brainunit as u
    import jax
    import jax.numpy as jnp

    from brainmass.orchestration.fitter import Fitter

    k = brainstate.nn.Param(W.K, t=brainstate.nn.SoftplusT(0.))
    sim, run = W.build_ours(n, k=k, method=method)
    net = sim.model
    target = run(duration_ms)  # x at k = K
    net.k.set_value(0.8 * W.K)

    def predict(model):
        return sim.run(duration_ms * u.ms, monitors=['node.x'], checkpoint=checkpoint)['node.x']

    def mse(prediction, tgt):
        return jnp.mean((prediction - tgt) ** 2)

    loss_of, theta0 = Fitter(net, predict=predict, objective=mse, gradient=gradient).make_loss(target)
    return run, loss_of, theta0, jax


def reference(n, duration_ms):
    """Pure-JAX delayed Hopf network (Euler): (loss(k), k0) with the MSE against its own run at K."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    w, lengths = W.connectome(n)
    d = W.delay_steps(lengths)
    L = int(d.max()) + 1
    x0, y0 = (jnp.asarray(v, dtype=jnp.float32) for v in W.initial_state(n))
    w = jnp.asarray(w, dtype=jnp.float32)
    cols = jnp.asarray(np.broadcast_to(np.arange(n), (n, n)))
    d = jnp.asarray(d)
    dt, steps = W.DT_MS, W.n_steps(duration_ms)

    def simulate(k):
        def step(carry, _):
            x, y, buf, p = carry
            buf = buf.at[p].set(x)
            delayed = buf[(p - d) % L, cols]  # x_j(t - d_ij)
            coupling = k * ((w * delayed).sum(1) - w.sum(1) * x)
            r = W.A - W.BETA * (x * x + y * y)
            x_new = x + dt * (r * x - W.OMEGA * y + coupling)
            y_new = y + dt * (r * y + W.OMEGA * x)
            return (x_new, y_new, buf, (p + 1) % L), x_new
        init = (x0, y0, jnp.broadcast_to(x0, (L, n)), jnp.asarray(0))
        return jax.lax.scan(step, init, None, length=steps)[1]

    target = jax.jit(simulate)(jnp.float32(W.K))
    return (lambda k: jnp.mean((simulate(k) - target) ** 2)), jnp.float32(0.8 * W.K)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--n', type=int, default=W.SWEEP_N)
    parser.add_argument('--duration-ms', type=float, default=1000.0)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--method', default='exp_euler', help="the node integrator (default 'exp_euler')")
    args = parser.parse_args()

    run, loss_of, theta0, jax = build(args.n, args.duration_ms, checkpoint=False, method=args.method)
    _, loss_rev, theta_rev, _ = build(args.n, args.duration_ms, checkpoint=False, method=args.method,
                                      gradient='reverse')
    _, loss_ck, theta_ck, _ = build(args.n, args.duration_ms, checkpoint=True, method=args.method,
                                    gradient='reverse')
    import jax.numpy as jnp
    vg, vg_rev, vg_ck = (jax.jit(jax.value_and_grad(f)) for f in (loss_of, loss_rev, loss_ck))
    jvp = jax.jit(lambda t: jax.jvp(loss_rev, (t,), (jnp.ones_like(t),)))
    loss = jax.jit(loss_of)
    timed = [('forward (Simulator.run)', lambda: run(args.duration_ms)),
             ('loss (forward + MSE)', lambda: loss(theta0)),
             ("value_and_grad ('auto': forward)", lambda: vg(theta0)),
             ('value_and_grad (reverse mode)', lambda: vg_rev(theta_rev)),
             ('value_and_grad (reverse, ckpt)', lambda: vg_ck(theta_ck)),
             ('jvp (forward mode)', lambda: jvp(theta_rev))]
    rows = [(name,) + _timed(lambda f=f: jax.block_until_ready(f()), args.repeats) for name, f in timed]
    value, grad = vg(theta0)
    value_rev, grad_rev = vg_rev(theta_rev)
    value_ck, grad_ck = vg_ck(theta_ck)
    _, tangent = jvp(theta_rev)

    ref_loss, k0 = reference(args.n, args.duration_ms)
    ref = [('reference: forward + MSE', jax.jit(ref_loss)),
           ('reference: value_and_grad', jax.jit(jax.value_and_grad(ref_loss))),
           ('reference: jvp', jax.jit(lambda k: jax.jvp(ref_loss, (k,), (jnp.ones_like(k),))))]
    ref_rows = [(name,) + _timed(lambda f=f: jax.block_until_ready(f(k0)), args.repeats) for name, f in ref]

    print(f'N = {args.n}, {args.duration_ms:g} ms = {W.n_steps(args.duration_ms)} steps, dt = {W.DT_MS} ms, '
          f'method = {args.method}, '
          f'jax backend: {jax.default_backend()}')
    print(f'loss = {float(value):.6g}, dloss/dtheta_k = {float(grad[0]):.6g} (reverse mode {float(grad_rev[0]):.6g}, '
          f'jvp {float(tangent):.6g}; checkpointed: {float(value_ck):.6g}, {float(grad_ck[0]):.6g})')
    print(f'{"":34s} {"first [s]":>10s} {"steady [s]":>11s} {"/ forward":>10s}')
    forward = rows[0][2]
    for name, first, steady in rows:
        print(f'{name:34s} {first:10.3f} {steady:11.4f} {steady / forward:10.2f}')
    for name, first, steady in ref_rows:
        print(f'{name:34s} {first:10.3f} {steady:11.4f} {steady / ref_rows[0][2]:10.2f}  (/ reference forward)')
    ratio = rows[2][2] / forward
    print(f"ratio value_and_grad / forward = {ratio:.2f} with the Fitter's default gradient (target <= 3): "
          f'{"OK" if ratio <= 3 else "ABOVE TARGET"}; reverse mode {rows[3][2] / forward:.2f}')
    paired = W.interleaved({'forward': lambda: run(args.duration_ms),
                            'auto': lambda: jax.block_until_ready(vg(theta0)),
                            'reverse': lambda: jax.block_until_ready(vg_rev(theta_rev))}, max(args.repeats, 7))
    (f_min, f_med), (g_min, g_med), (r_min, r_med) = (W.fastest_and_median(paired[k])
                                                      for k in ('forward', 'auto', 'reverse'))
    print(f"interleaved forward / value_and_grad ('auto': forward mode) / value_and_grad (reverse mode) calls: "
          f'fastest {f_min:.4f} s / {g_min:.4f} s / {r_min:.4f} s, ratios {g_min / f_min:.2f} / {r_min / f_min:.2f}; '
          f'medians {f_med:.4f} s / {g_med:.4f} s / {r_med:.4f} s, ratios {g_med / f_med:.2f} / {r_med / f_med:.2f}')
    print(f'ratio value_and_grad (reverse, checkpoint) / forward = {rows[4][2] / forward:.2f}; '
          f'jvp / forward = {rows[5][2] / forward:.2f}')
    print(f'pure-JAX reference on this machine: value_and_grad / forward = '
          f'{ref_rows[1][2] / ref_rows[0][2]:.2f}, jvp / forward = {ref_rows[2][2] / ref_rows[0][2]:.2f}')

if __name__ == '__main__':
    main()
