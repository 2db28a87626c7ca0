"""Peak memory of a gradient through a long rollout, with and without checkpointing.

For the standard delayed Hopf network of ``_workload.py`` (default N = 76,
dt = 0.1 ms) and growing durations, compile ``jax.value_and_grad`` of the MSE
loss wrt k (built with :meth:`brainmass.Fitter.make_loss`) and read XLA's
compiled memory analysis (``jax.jit(f).lower(theta).compile().memory_analysis()``):
``temp`` is the scratch memory of the program - the residuals reverse mode keeps
for the backward pass - and ``total`` adds arguments and outputs. Nothing is
run, so the figures do not depend on the machine's load.

* ``Simulator.run(..., checkpoint=False)``: reverse mode stores every step's
  residuals, so memory grows linearly with the number of steps;
* ``Simulator.run(..., checkpoint=True)`` (two-level checkpointing: segments of about
  sqrt(n) samples, each recomputed once in the backward pass): memory grows like
  sqrt(steps), for one extra forward pass;
* forward mode (``Fitter(..., gradient='forward')``, what ``'auto'`` picks for one
  parameter value): no residuals per step; what grows is only the recorded output
  that the loss compares (steps x N values, as in the forward run) and its tangent.

The first two use ``gradient='reverse'``. With ``x`` recorded every step the recorded
trace (and its cotangent / tangent) is itself linear in the duration; ``--sample-every 100``
records every 10 ms, as a BOLD-scale fit would, so the table shows what the gradient
itself keeps.

The growth exponent is the slope of log(temp) against log(steps) between the
shortest and longest run (1 = linear).

Usage::

    /work/venv/bin/python benchmarks/bench_grad_memory.py [--n 76] [--durations-ms 125 250 500 1000]
        [--sample-every 1]
"""
from __future__ import annotations

import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import _workload as W  # noqa: E402


def memory(n, duration_ms, checkpoint, gradient='reverse', sample_every=1):
    """(temp bytes, total bytes) of the compiled value-and-gradient program."""
    import brainstate
    import brainunit as u
    import jax
    import jax.numpy as jnp

    from brainmass.orchestration.fitter import Fitter

    k = brainstate.nn.Param(W.K, t=brainstate.nn.SoftplusT(0.))
    sim, _ = W.build_ours(n, k=k)
    target = jnp.zeros((W.n_steps(duration_ms) // sample_every, n), dtype=jnp.float32)

    def predict(model):
        return sim.run(duration_ms * u.ms, monitors=['node.x'], checkpoint=checkpoint,
                       sample_every=sample_every)['node.x']

    loss_of, theta0 = Fitter(sim.model, predict=predict,
                             objective=lambda p, t: jnp.mean((p - t) ** 2), gradient=gradient).make_loss(target)
    stats = jax.jit(jax.value_and_grad(loss_of)).lower(theta0).compile().memory_analysis()
    temp = int(stats.temp_size_in_bytes)
    total = temp + int(stats.argument_size_in_bytes) + int(stats.output_size_in_bytes) + \
        int(getattr(stats, 'generated_code_size_in_bytes', 0))
    return temp, total


def exponent(xs, ys):
    return math.log(ys[-1] / ys[0]) / math.log(xs[-1] / xs[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--n', type=int, default=W.SWEEP_N)
    parser.add_argument('--durations-ms', type=float, nargs='+', default=[125., 250., 500., 1000.])
    parser.add_argument('--sample-every', type=int, default=1, help='record x every n steps (default 1)')
    args = parser.parse_args()
    every = args.sample_every
    durations = sorted(args.durations_ms)
    steps = [W.n_steps(d) for d in durations]
    print(f'N = {args.n}, dt = {W.DT_MS} ms, x recorded every {every} step(s); XLA compiled memory of '
          f'jit(value_and_grad(loss)) wrt k')
    print(f'{"duration":>10s} {"steps":>7s} {"temp (no ckpt)":>16s} {"temp (ckpt)":>14s} {"ratio":>7s} '
          f'{"temp (forward mode)":>21s}')
    plain, ckpt, fwd = [], [], []
    for d, s in zip(durations, steps):
        plain.append(memory(args.n, d, False, sample_every=every)[0])
        ckpt.append(memory(args.n, d, True, sample_every=every)[0])
        fwd.append(memory(args.n, d, False, gradient='forward', sample_every=every)[0])
        print(f'{d:8.0f}ms {s:7d} {plain[-1] / 2**20:13.2f} MiB {ckpt[-1] / 2**20:11.2f} MiB '
              f'{plain[-1] / max(ckpt[-1], 1):7.1f} {fwd[-1] / 2**20:17.2f} MiB', flush=True)
    if len(durations) > 1:
        e_plain, e_ckpt, e_fwd = exponent(steps, plain), exponent(steps, ckpt), exponent(steps, fwd)
        print(f'growth exponent (temp ~ steps^e): reverse mode without checkpointing e = {e_plain:.2f}; '
              f'with checkpointing e = {e_ckpt:.2f}; forward mode e = {e_fwd:.2f}')
        print('sub-linear with checkpointing: ' + ('yes' if e_ckpt < 0.8 else 'NO') +
              '; linear without: ' + ('yes' if e_plain > 0.9 else 'NO'))


if __name__ == '__main__':
    main()
