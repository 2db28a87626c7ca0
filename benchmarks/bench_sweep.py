"""Throughput and memory of ``brainmass.sweep.run`` sharded over 1, 2 and 4 host devices.

The workload is the standard one of ``_workload.py`` at N = 76 (a seeded random 76-region
connectome with tract lengths, delays 1-15 ms; Hopf nodes; dt = 0.1 ms), swept over the
global coupling ``k`` (``linspace(0, 1.5, points)``) with 1 s simulated per point and one
metric per point (the variance of ``x``: only that leaves the devices).

Each configuration runs in its own subprocess, with
``XLA_FLAGS=--xla_force_host_platform_device_count=D`` set before JAX starts, and reports:

* ``compile s``: tracing and compiling the sweep's program (once per sweep);
* ``run s`` and ``points/s``: the rest of the sweep (all chunks) and its throughput;
* ``peak RSS``: the subprocess's peak resident memory (``resource.getrusage``), and the
  device's peak bytes in use when the backend reports it (``memory_stats()`` is None on CPU).

Then the ratios of points/s against 1 device, and the memory check: the same chunk size with
a 4x larger grid (more chunks) must not need more memory (peak RSS within 10 %).

Host devices share the machine's CPU cores: D devices cannot be faster than
min(D, cores) times one device.

Usage::

    python benchmarks/bench_sweep.py            # 256 points (and 1024 for the memory check), 1 s each
    python benchmarks/bench_sweep.py --quick    # 64 / 256 points, 0.2 s each
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
N = 76


def worker(devices, points, duration_ms, chunk_size):
    """One sweep in this process; prints one JSON line."""
    import resource

    import brainstate
    import brainunit as u
    import jax
    import jax.numpy as jnp
    import numpy as np

    sys.path.insert(0, HERE)
    import _workload as wl
    import brainmass
    from brainmass import sweep

    assert len(jax.devices()) == devices, jax.devices()
    brainstate.environ.set(dt=wl.DT_MS * u.ms)
    w, lengths = wl.connectome(N)
    x0, y0 = wl.initial_state(N)
    node = brainmass.HopfStep(N, a=wl.A, w=wl.OMEGA, beta=wl.BETA, init_x=x0, init_y=y0)
    net = brainmass.Network(node, conn=w, distance=lengths, speed=wl.SPEED_MM_PER_MS * u.mm / u.ms,
                            coupled_var='x', k=wl.K)
    space = sweep.Space(k=sweep.grid(0.0, 1.5, points))
    res = sweep.run(net, space, duration=duration_ms * u.ms, monitors=['node.x'],
                    metrics={'var': lambda r: jnp.var(r['node.x'])}, chunk_size=chunk_size)
    info = res.info
    stats = jax.devices()[0].memory_stats()
    out = dict(devices=devices, points=points, duration_ms=duration_ms, chunk_size=info['chunk_size'],
               n_chunks=info['n_chunks'], n_compiles=info['n_compiles'], vectorize=info['vectorize'],
               seconds=info['seconds'], compile_seconds=info['compile_seconds'],
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.,
               device_peak_mb=None if not stats else stats.get('peak_bytes_in_use', 0) / 2 ** 20,
               finite=bool(np.all(np.isfinite(res['var']))), checksum=float(np.sum(res['var'])))
    print(json.dumps(out), flush=True)


def spawn(devices, points, duration_ms, chunk_size):
    env = dict(os.environ, XLA_FLAGS=f'--xla_force_host_platform_device_count={devices}', JAX_PLATFORMS='cpu')
    cmd = [sys.executable, os.path.abspath(__file__), '--worker', '--devices', str(devices), '--points', str(points),
           '--duration-ms', str(duration_ms), '--chunk-size', str(chunk_size)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'worker {cmd} failed:\n{proc.stderr[-3000:]}')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def row(r):
    run = r['seconds'] - r['compile_seconds']
    dev = '-' if r['device_peak_mb'] is None else f"{r['device_peak_mb']:.0f}"
    return (f"{r['devices']:>7d} {r['points']:>6d} {r['n_chunks']:>6d} {r['compile_seconds']:>9.2f} {run:>7.2f} "
            f"{r['points'] / run:>9.1f} {r['peak_rss_mb']:>9.0f} {dev:>9s}")


HEADER = f"{'devices':>7s} {'points':>6s} {'chunks':>6s} {'compile s':>9s} {'run s':>7s} {'points/s':>9s} " \
         f"{'RSS MB':>9s} {'dev MB':>9s}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true', help='64 / 256 points of 0.2 s (a smoke test)')
    parser.add_argument('--devices', default='1,2,4', help='device counts to compare (default 1,2,4)')
    parser.add_argument('--points', type=int, default=None)
    parser.add_argument('--duration-ms', type=float, default=None)
    parser.add_argument('--chunk-size', type=int, default=None, help='points per chunk (default 64)')
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(int(args.devices), args.points, args.duration_ms, args.chunk_size)

    points = args.points or (64 if args.quick else 256)
    duration = args.duration_ms or (200. if args.quick else 1000.)
    chunk = args.chunk_size or (16 if args.quick else 64)
    counts = [int(d) for d in args.devices.split(',')]
    print(f'sweep of k, N = {N}, {duration:g} ms per point, chunk_size = {chunk}, '
          f'{os.cpu_count()} CPU cores (host devices share them)')
    print(HEADER)
    results = []
    for d in counts:
        r = spawn(d, points, duration, chunk)
        results.append(r)
        print(row(r), flush=True)
    base = results[0]
    base_rate = base['points'] / (base['seconds'] - base['compile_seconds'])
    for r in results[1:]:
        rate = r['points'] / (r['seconds'] - r['compile_seconds'])
        print(f"{r['devices']} devices / {base['devices']} device: points/s x {rate / base_rate:.2f}, "
              f"results equal: {abs(r['checksum'] - base['checksum']) <= 1e-4 * abs(base['checksum'])}")
    ok = all(r['finite'] and r['n_compiles'] == 1 for r in results)

    print(f'\nmemory as the grid grows (1 device, chunk_size = {chunk}):')
    print(HEADER)
    grown = spawn(counts[0], points * 4, duration, chunk)
    print(row(base))
    print(row(grown))
    ratio = grown['peak_rss_mb'] / base['peak_rss_mb']
    flat = ratio <= 1.10
    print(f"peak RSS x {ratio:.2f} for x 4 points ({grown['n_chunks']} chunks vs {base['n_chunks']}): "
          f"{'flat' if flat else 'NOT flat'}")
    ok = ok and flat and grown['n_compiles'] == 1
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
