"""The standard network benchmark workload, shared by every benchmark script.

N Hopf (Stuart-Landau) nodes, ``a = 0.2``, ``w = 0.3`` (``beta = 1``), coupled
diffusively on ``x``:

    dx_i/dt = (a - x_i^2 - y_i^2) x_i - w y_i + k sum_j W_ij (x_j(t - tau_ij) - x_i(t))
    dy_i/dt = (a - x_i^2 - y_i^2) y_i + w x_i

* weights: symmetric, U[0, 1] / N off the diagonal, zero diagonal;
* tract lengths: symmetric, U[10, 150] mm, conduction speed 10 mm/ms, so
  delays are 1 .. 15 ms = 10 .. 150 steps at dt = 0.1 ms;
* 1 s of simulated time = 10,000 steps, ``x`` recorded every step, no noise;
* initial state ``x0, y0 ~ U[-0.1, 0.1]`` per node, the history of ``x`` held
  at ``x0`` (the same start in every implementation);
* sizes N = 8, 76, 200, 500; plus the batched sweep: N = 76 with 32 values of
  ``k`` (``K_SWEEP``) in one run.

This module has no dependency on brainmass or JAX: the peer scripts (run in
their own virtualenvs) import it for the connectome and the parameters, and
:func:`build_ours` imports brainmass lazily.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

SIZES = (8, 76, 200, 500)
QUICK_SIZES = (8, 76)
SWEEP_N = 76
SWEEP_B = 32
DT_MS = 0.1
SPEED_MM_PER_MS = 10.0
A = 0.2
OMEGA = 0.3
BETA = 1.0
K = 0.5  # global coupling of the single runs
K_SWEEP = tuple(float(v) for v in np.linspace(0.0, 1.5, SWEEP_B))
SEED = 42


def connectome(n: int, seed: int = SEED):
    """(weights, tract lengths in mm): both symmetric with a zero diagonal."""
    rng = np.random.default_rng(seed + n)
    w = np.triu(rng.uniform(0.0, 1.0, (n, n)) / n, 1)
    w = w + w.T
    lengths = np.triu(rng.uniform(10.0, 150.0, (n, n)), 1)
    lengths = lengths + lengths.T
    return w, lengths


def initial_state(n: int, seed: int = SEED):
    """(x0, y0), each (n,) ~ U[-0.1, 0.1]."""
    rng = np.random.default_rng(seed + 1000 + n)
    return rng.uniform(-0.1, 0.1, n), rng.uniform(-0.1, 0.1, n)


def delay_steps(lengths, dt_ms: float = DT_MS):
    """Whole-step delays, rounded half up (the rule every implementation uses)."""
    steps = np.floor(lengths / SPEED_MM_PER_MS / dt_ms + 0.5 + 1e-9).astype(np.int64)
    np.fill_diagonal(steps, 0)
    return steps


def n_steps(duration_ms: float, dt_ms: float = DT_MS) -> int:
    return int(round(duration_ms / dt_ms))


# ---------------------------------------------------------------- brainmass
def build_ours(n: int, k=K, batch: int | None = None, method: str = 'exp_euler'):
    """The workload through the public API: returns ``(simulator, run)``.

    ``run(duration_ms)`` calls ``Simulator.run`` (``monitors=['node.x']``)
    and returns the recorded ``x`` (blocked until ready).
    """
    import brainmass
    import brainstate
    import brainunit as u
    import jax
    import jax.numpy as jnp

    brainstate.environ.set(dt=DT_MS * u.ms, precision=32)
    w, lengths = connectome(n)
    x0, y0 = initial_state(n)
    x0 = jnp.asarray(x0, dtype=jnp.float32)

    history = x0 if batch is None else x0[:, None]  # broadcast to (L, N) or (L, N, B): x held at x0

    node = brainmass.HopfStep(n, a=A, w=OMEGA, beta=BETA, init_x=x0, init_y=jnp.asarray(y0, jnp.float32),
                              method=method)
    k_value = k if batch is None else jnp.asarray(k, dtype=jnp.float32).reshape(batch, 1)
    net = brainmass.Network(node, conn=w, distance=lengths * u.mm, speed=SPEED_MM_PER_MS * u.mm / u.ms,
                            coupling='diffusive', coupled_var='x', k=k_value, delay_init=history)
    sim = brainmass.Simulator(net, dt=DT_MS * u.ms)

    def run(duration_ms):
        res = sim.run(duration_ms * u.ms, monitors=['node.x'], batch_size=batch)
        return jax.block_until_ready(res['node.x'])

    return sim, run


def interleaved(fns, repeats: int):
    """{name: list of seconds} of ``repeats`` rounds in which every fn runs once, in turn.

    Alternating the calls puts every measurement under the same machine conditions (a
    busy neighbour on a shared machine slows whole stretches of time); the fastest call
    estimates the cost of the program itself, the median its typical cost.
    """
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return times


def fastest_and_median(times):
    """(min, median) of a list of seconds."""
    return min(times), statistics.median(times)
