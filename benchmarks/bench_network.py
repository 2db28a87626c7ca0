"""Throughput of the delay-coupled network through the public API (brainmass only).

The standard workload of ``_workload.py``: N Hopf nodes, diffusive coupling on
x, conduction delays of 10..150 steps, dt = 0.1 ms, x recorded every step, no
noise, float32; N = 8, 76, 200, 500, plus the batched sweep (N = 76, 32 values
of k in ONE run: ``batch_size=32``, ``k`` of shape (32, 1)).

Per case it prints

* ``first``: the first ``sim.run`` (trace + compile + run);
* ``steady``: the median of ``--repeats`` further ``sim.run`` on the same
  Simulator (which must not retrace: ``sim.trace_count`` stays 1), with the
  process CPU time of the same calls next to it;
* region-steps per second: ``N * batch * steps / steady``.

Then two checks: **linearity** (the time per simulated second of a 1 s run and
of a 10 s run agree within 10 %; the two durations' runs alternate and each
figure is the fastest of its runs, so that a busy neighbour on a shared machine
does not land on one duration only) and **no retrace** (every Simulator traced
exactly once).

Usage::

    /work/venv/bin/python benchmarks/bench_network.py            # full: N = 8, 76, 200, 500 + sweep, 1 s
    /work/venv/bin/python benchmarks/bench_network.py --quick    # smoke test: N = 8, 76 + sweep, 0.2 s
    /work/venv/bin/python benchmarks/bench_network.py --sizes 76 --no-sweep --repeats 5

XLA flags: none are needed. ``--xla-flags`` passes some through ``XLA_FLAGS``
(set before JAX is imported) to experiment.
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


def measure(n, duration_ms, repeats, batch=None):
    import numpy as np
    k = W.K if batch is None else W.K_SWEEP
    sim, run = W.build_ours(n, k=k, batch=batch)
    t0 = time.perf_counter()
    out = run(duration_ms)
    first = time.perf_counter() - t0
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = run(duration_ms)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    assert np.all(np.isfinite(np.asarray(out))), 'non-finite output'
    return dict(first=first, steady=statistics.median(walls), cpu=statistics.median(cpus), walls=walls,
                trace_count=sim.trace_count, shape=tuple(out.shape), sim=sim, run=run)


def linearity(n, repeats):
    """(s per simulated s of a 1 s run, the same of a 10 s run, trace count of the 10 s Simulator).

    Both Simulators are built and compiled first, then their runs alternate, and each
    figure is the fastest of its ``repeats`` runs: on a shared machine a busy neighbour
    slows whole stretches of time, which would otherwise land on one duration only.
    """
    sims = {d: W.build_ours(n) for d in (1000.0, 10000.0)}
    for d, (_, run) in sims.items():
        run(d)
    walls = W.interleaved({d: (lambda d=d, run=run: run(d)) for d, (_, run) in sims.items()}, repeats)
    return min(walls[1000.0]) / 1.0, min(walls[10000.0]) / 10.0, sims[10000.0][0].trace_count


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='N = 8, 76 and the sweep, 0.2 s (smoke test)')
    ap.add_argument('--sizes', type=int, nargs='*', help='override the sizes')
    ap.add_argument('--no-sweep', action='store_true', help='skip the batched k sweep')
    ap.add_argument('--duration-ms', type=float, help='simulated time per run (default 1000 ms; quick: 200 ms)')
    ap.add_argument('--repeats', type=int, default=3, help='steady-state repeats (median; at least 3)')
    ap.add_argument('--no-linearity', action='store_true', help='skip the 1 s vs 10 s linearity check')
    ap.add_argument('--linearity-n', type=int, default=76)
    ap.add_argument('--xla-flags', default=None, help='value for XLA_FLAGS (experiments only)')
    args = ap.parse_args()
    if args.xla_flags is not None:
        os.environ['XLA_FLAGS'] = args.xla_flags
    repeats = max(3, args.repeats)
    duration = args.duration_ms or (200.0 if args.quick else 1000.0)
    sizes = args.sizes if args.sizes else (W.QUICK_SIZES if args.quick else W.SIZES)
    steps = W.n_steps(duration)

    import jax
    print(f'# brainmass network benchmark: Hopf, diffusive on x, delays 10..150 steps, dt {W.DT_MS} ms, '
          f'{duration:g} ms = {steps} steps, x recorded every step, float32')
    print(f'# jax {jax.__version__}, {jax.devices()[0].platform}, {os.cpu_count()} cpu cores, '
          f'XLA_FLAGS={os.environ.get("XLA_FLAGS", "")!r}, steady = median of {repeats}')
    print(f'{"case":>16} | {"first (s)":>9} | {"steady (s)":>10} | {"cpu (s)":>8} | {"M region-steps/s":>16} | '
          f'trace_count')
    cases = [(n, None) for n in sizes] + ([] if args.no_sweep else [(W.SWEEP_N, W.SWEEP_B)])
    ok = True
    results = {}
    for n, batch in cases:
        r = measure(n, duration, repeats, batch)
        results[(n, batch)] = r
        mrs = n * (batch or 1) * steps / r['steady'] / 1e6
        name = f'N={n}' if batch is None else f'sweep N={n} x{batch}'
        retrace = r['trace_count'] != 1
        ok &= not retrace
        print(f'{name:>16} | {r["first"]:9.2f} | {r["steady"]:10.4f} | {r["cpu"]:8.4f} | {mrs:16.2f} | '
              f'{r["trace_count"]}{"  RETRACED" if retrace else ""}', flush=True)

    if not args.no_linearity:
        n = args.linearity_n
        per_s_1, per_s_10, trace10 = linearity(n, max(7, repeats))
        dev = abs(per_s_10 - per_s_1) / per_s_1
        lin_ok = dev <= 0.10
        ok &= lin_ok and trace10 == 1
        print(f'linearity (N={n}): 1 s run {per_s_1:.4f} s per simulated s, 10 s run {per_s_10:.4f} s per '
              f'simulated s (fastest of interleaved runs): {100 * dev:.1f} % apart -> '
              f'{"OK" if lin_ok else "FAIL"} (limit 10 %)')
    print(f'no-retrace: {"OK" if all(r["trace_count"] == 1 for r in results.values()) else "FAIL"} '
          f'(each Simulator traced once over {1 + repeats} runs)')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
