"""brainmass against its peers (TVB's numba backend, neurolib) on the standard workload.

Every implementation runs the workload of ``_workload.py`` (N Hopf nodes,
diffusive coupling on x, conduction delays of 10..150 steps, dt = 0.1 ms,
1 s = 10,000 steps, x recorded every step, no noise) in its own
subprocess - the peers in their own virtualenvs (``setup_peers.sh``) - one
(implementation, size) at a time, so that no two ever compete for the CPU.

* **ours**: ``brainmass.Network`` + ``brainmass.Simulator.run`` (float32,
  default integrator ``exp_euler``); the sweep is ONE batched run
  (``batch_size=32``, ``k`` of shape (32, 1)).
* **tvb**: TVB's numba code-generation backend
  (``tvb.simulator.backend.nb.NbBackend``, template ``nb-sim.py.mako``:
  float32 state, Euler), with ``SupHopf`` given the expression strings the
  backend needs and a ``Difference`` coupling with its ``pre_expr``/``post_expr``.
  The backend bakes coupling parameters into the generated source, so a new
  ``k`` means a new numba compile: the sweep figure is 32 x one steady run
  (compile excluded, in the peer's favour).
* **neurolib**: ``HopfModel(Cmat, Dmat)`` with ``signalV`` (numba, float64:
  neurolib allocates its arrays itself), diffusive coupling, Euler, noise off;
  the sweep is 32 sequential ``model.run()`` with ``K_gl`` changed in between.

Times: ``first`` = first call (compile + run); ``steady`` = median of
``--repeats`` further calls. Throughput = N * steps / steady (region-steps per
second). Ratio = ours / the fastest peer at that size.

Usage::

    bash benchmarks/setup_peers.sh                # once: /work/peers/{tvb,neurolib}-venv
    /work/venv/bin/python benchmarks/bench_peers.py            # full table
    /work/venv/bin/python benchmarks/bench_peers.py --quick    # N = 8, 76, sweep; 0.2 s
    /work/venv/bin/python benchmarks/bench_peers.py --check    # also compare trajectories
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import _workload as W  # noqa: E402

PEERS_DIR = os.environ.get('PEERS_DIR', '/work/peers')
PYTHONS = {
    'ours': sys.executable,
    'tvb': os.path.join(PEERS_DIR, 'tvb-venv', 'bin', 'python'),
    'neurolib': os.path.join(PEERS_DIR, 'neurolib-venv', 'bin', 'python'),
}


# =============================================================== workers
CPU_TIMES = []  # process CPU time of each steady repeat (all threads), reported next to the wall time


def _timed(fn, repeats):
    t0 = time.perf_counter()
    out = fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        CPU_TIMES.append(time.process_time() - c0)
    return first, times, out


def worker_ours(n, duration_ms, repeats, sweep, check_ms):
    if sweep:
        sim, run = W.build_ours(n, k=W.K_SWEEP, batch=W.SWEEP_B)
    else:
        sim, run = W.build_ours(n)
    first, times, out = _timed(lambda: run(duration_ms), repeats)
    res = dict(first_s=first, times=times, trace_count=sim.trace_count, shape=list(out.shape))
    if check_ms:
        import numpy as np
        _, run_e = W.build_ours(n, method='euler')
        res['trace'] = np.asarray(run_e(check_ms))[:, :4].tolist()
    return res


def worker_tvb(n, duration_ms, repeats, sweep, check_ms):
    import numpy as np
    from tvb.basic.neotraits.api import Final, List
    from tvb.datatypes.connectivity import Connectivity
    from tvb.simulator import coupling, integrators, models, monitors, simulator
    from tvb.simulator.backend.nb import NbBackend

    class HopfX(models.SupHopf):
        """SupHopf coupled on x only, with the expression strings of the nb backend."""
        cvar = np.array([0], dtype=np.int32)
        coupling_terms = Final(default=['c_0'])
        state_variable_dfuns = Final(default={'x': '(a - x*x - y*y) * x - omega * y + c_0',
                                              'y': '(a - x*x - y*y) * y + omega * x'})
        parameter_names = List(of=str, default=('a', 'omega'))

    class HopfXY(HopfX):
        """For the trajectory check only: y is a coupling variable too (its coupling is unused), so the
        backend copies y's history and y starts at y0 (the timed runs use HopfX: half the coupling work)."""
        cvar = np.array([0, 1], dtype=np.int32)
        coupling_terms = Final(default=['c_0', 'c_1'])

    class DifferenceX(coupling.Difference):
        parameter_names = ['a']
        pre_expr = '(x_j - x_i)'  # the template writes wij * pre_expr
        post_expr = 'a * gx'

    w, lengths = W.connectome(n)
    x0, y0 = W.initial_state(n)

    def build(k, n_steps, model_cls=HopfX):
        conn = Connectivity(weights=w.copy(), tract_lengths=lengths.copy(), speed=np.r_[W.SPEED_MM_PER_MS],
                            centres=np.zeros((n, 3)), region_labels=np.array([f'r{i}' for i in range(n)]))
        conn.configure()
        model = model_cls(a=np.r_[W.A], omega=np.r_[W.OMEGA])
        # horizon = max idelay + 1 (TVB rounds with rint; the workload's delays have no ties). The nb
        # backend copies only the coupled variable's history, so its y starts at x0, not y0.
        horizon = int(np.rint(lengths / W.SPEED_MM_PER_MS / W.DT_MS).max()) + 1
        ic = np.empty((horizon, 2, n, 1))
        ic[:, 0, :, 0] = x0
        ic[:, 1, :, 0] = y0
        sim = simulator.Simulator(model=model, connectivity=conn, coupling=DifferenceX(a=np.r_[k]),
                                  integrator=integrators.EulerDeterministic(dt=W.DT_MS),
                                  monitors=[monitors.Raw()], initial_conditions=ic,
                                  simulation_length=n_steps * W.DT_MS)
        sim.configure()
        sim.current_step = 0  # configure() advances it past the given history; run_sim wants 0
        template = '<%include file="nb-sim.py.mako"/>'
        run_sim = NbBackend().build_py_func(template, dict(sim=sim, np=np), name='run_sim')
        return sim, run_sim

    k = W.K_SWEEP[len(W.K_SWEEP) // 2] if sweep else W.K
    nstep = W.n_steps(duration_ms)
    sim, run_sim = build(k, nstep)
    first, times, out = _timed(lambda: run_sim(sim, nstep), repeats)
    res = dict(first_s=first, times=times, dtype=str(out.dtype), shape=list(out.shape))
    if sweep:  # one compile per k: time 32 x one steady run instead (compile excluded)
        res['times'] = [t * W.SWEEP_B for t in times]
        res['cpu_times'] = [t * W.SWEEP_B for t in CPU_TIMES]
        res['note'] = f'{W.SWEEP_B} x steady single run (coupling constants are compiled in)'
    if check_ms:
        nc = W.n_steps(check_ms)
        sim_c, run_c = build(W.K, nc, HopfXY)
        state = run_c(sim_c, nc)
        res['trace'] = state[0, :4, -nc:].T.astype(float).tolist()
    return res


def worker_neurolib(n, duration_ms, repeats, sweep, check_ms):
    import numpy as np
    from neurolib.models.hopf import HopfModel

    w, lengths = W.connectome(n)
    x0, y0 = W.initial_state(n)
    model = HopfModel(Cmat=w.copy(), Dmat=lengths.copy())
    p = model.params
    p['a'], p['w'], p['K_gl'], p['signalV'] = W.A, W.OMEGA, W.K, W.SPEED_MM_PER_MS
    p['coupling'] = 'diffusive'
    p['dt'], p['duration'] = W.DT_MS, duration_ms
    p['sigma_ou'] = 0.0
    p['xs_init'], p['ys_init'] = x0[:, None].copy(), y0[:, None].copy()
    p['x_ou'], p['y_ou'] = np.zeros(n), np.zeros(n)

    def one():
        p['x_ou'], p['y_ou'] = np.zeros(n), np.zeros(n)
        model.run()
        return model.x

    if sweep:
        def fn():
            out = None
            for k in W.K_SWEEP:
                p['K_gl'] = k
                out = one()
            return out
    else:
        fn = one
    first, times, out = _timed(fn, repeats)
    res = dict(first_s=first, times=times, dtype=str(out.dtype), shape=list(out.shape))
    if check_ms:
        p['K_gl'], p['duration'] = W.K, check_ms
        res['trace'] = one()[:4].T.astype(float).tolist()
    return res


WORKERS = {'ours': worker_ours, 'tvb': worker_tvb, 'neurolib': worker_neurolib}


# ================================================================ driver
def run_worker(impl, n, duration_ms, repeats, sweep, check_ms, timeout):
    python = PYTHONS[impl]
    if not os.path.exists(python):
        return dict(error=f'{python} missing: run benchmarks/setup_peers.sh')
    cmd = [python, os.path.abspath(__file__), '--worker', impl, '--n', str(n), '--duration-ms', str(duration_ms),
           '--repeats', str(repeats)] + (['--sweep'] if sweep else []) + (
        ['--check-ms', str(check_ms)] if check_ms else [])
    env = dict(os.environ)
    if impl == 'ours':
        env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return dict(error=f'timed out after {timeout} s')
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith('RESULT '):
            return json.loads(line[7:])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
    return dict(error='no result: ' + ' | '.join(tail))


def throughput(res, n, batch, duration_ms):
    steady = statistics.median(res['times'])
    return n * batch * W.n_steps(duration_ms) / steady / 1e6, steady


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--quick', action='store_true', help='N = 8, 76 and the sweep, 0.2 s simulated')
    ap.add_argument('--sizes', type=int, nargs='*', help='override the sizes (default 8 76 200 500)')
    ap.add_argument('--no-sweep', action='store_true', help='skip the batched k sweep')
    ap.add_argument('--duration-ms', type=float, help='simulated time per run (default 1000 ms)')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--peers', default='tvb,neurolib', help='comma-separated subset of tvb,neurolib')
    ap.add_argument('--check', action='store_true', help='compare 50 ms of x (Euler) at N = 8 across implementations')
    ap.add_argument('--timeout', type=float, default=1800)
    ap.add_argument('--json', help='also write the raw results here')
    # worker mode (internal)
    ap.add_argument('--worker', choices=tuple(WORKERS))
    ap.add_argument('--n', type=int)
    ap.add_argument('--sweep', action='store_true')
    ap.add_argument('--check-ms', type=float, default=0.0)
    args = ap.parse_args()

    if args.worker:
        res = WORKERS[args.worker](args.n, args.duration_ms, args.repeats, args.sweep, args.check_ms)
        res.setdefault('cpu_times', list(CPU_TIMES))
        print('RESULT ' + json.dumps(res), flush=True)
        return

    duration = args.duration_ms or (200.0 if args.quick else 1000.0)
    sizes = args.sizes if args.sizes else (W.QUICK_SIZES if args.quick else W.SIZES)
    peers = [p for p in args.peers.split(',') if p]
    impls = ['ours'] + peers
    cases = [(n, False) for n in sizes] + ([] if args.no_sweep else [(W.SWEEP_N, True)])
    print(f'# workload: Hopf, diffusive on x, delays 10..150 steps, dt {W.DT_MS} ms, {duration:g} ms '
          f'({W.n_steps(duration)} steps), x recorded every step; steady = median of {args.repeats}')
    raw, rows = [], []
    for n, sweep in cases:
        batch = W.SWEEP_B if sweep else 1
        row = dict(case=f'sweep N={n} x{batch}' if sweep else f'N={n}', n=n, batch=batch)
        for impl in impls:
            res = run_worker(impl, n, duration, args.repeats, sweep, 0.0, args.timeout)
            res.update(impl=impl, n=n, sweep=sweep, duration_ms=duration)
            raw.append(res)
            if 'error' in res:
                print(f'  {row["case"]:>16} {impl:>9}: ERROR {res["error"]}', flush=True)
                row[impl] = None
                continue
            mps, steady = throughput(res, n, batch, duration)
            row[impl] = mps
            cpu = statistics.median(res['cpu_times']) if res.get('cpu_times') else float('nan')
            row[impl + '_cpu'] = n * batch * W.n_steps(duration) / cpu / 1e6
            extra = f" trace_count={res['trace_count']}" if impl == 'ours' else ''
            print(f'  {row["case"]:>16} {impl:>9}: first {res["first_s"]:8.2f} s  steady {steady:8.4f} s '
                  f'(cpu {cpu:8.4f} s)  {mps:8.2f} M region-steps/s{extra}', flush=True)
        rows.append(row)

    for suffix, what in (('', 'wall-clock'), ('_cpu', 'process CPU time (all threads)')):
        print()
        head = f'| {"case":<16} | {"ours":>8} | ' + ' | '.join(f'{p:>8}' for p in peers) + ' | ours / fastest peer |'
        print(f'Throughput from {what}: million region-steps per second (higher is better)')
        print(head)
        print('|' + '|'.join('-' * (len(c)) for c in head.split('|')[1:-1]) + '|')
        for row in rows:
            vals = {p: row.get(p + suffix) for p in ['ours'] + peers}
            best = max([v for p, v in vals.items() if p != 'ours' and v] or [float('nan')])
            ours = vals['ours'] or float('nan')
            cells = ' | '.join(f'{vals[p]:8.2f}' if vals[p] else f'{"-":>8}' for p in peers)
            print(f'| {row["case"]:<16} | {ours:8.2f} | {cells} | {ours / best:19.2f} |')

    if args.check:
        print('\n# trajectory check: 50 ms of x at N = 8 (all with Euler), max |x - x_ours|')
        traces = {}
        for impl in impls:
            res = run_worker(impl, 8, 10.0, 0, False, 50.0, args.timeout)
            if 'trace' in res:
                traces[impl] = res['trace']
            else:
                print(f'  {impl}: {res.get("error")}')
        import numpy as np
        ref = np.asarray(traces.get('ours'))
        for impl, tr in traces.items():
            tr = np.asarray(tr)
            m = min(len(tr), len(ref))
            print(f'  {impl:>9}: max |dx| = {np.abs(tr[:m] - ref[:m]).max():.2e} (|x| up to {np.abs(ref).max():.2f})')
    if args.json:
        with open(args.json, 'w') as fh:
            json.dump(raw, fh, indent=1)


if __name__ == '__main__':
    main()
