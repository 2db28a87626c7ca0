"""Produce delay-coupled network reference trajectories from neurolib (an independent simulator).

This script is NOT part of the brainmass test run: it needs ``neurolib`` (and ``numba``) in a
separate environment, never in brainmass's own::

    python -m venv /work/peers/neurolib-venv
    /work/peers/neurolib-venv/bin/pip install neurolib
    /work/peers/neurolib-venv/bin/python tests/reference/make_neurolib_reference.py          # all cases
    /work/peers/neurolib-venv/bin/python tests/reference/make_neurolib_reference.py wc bold  # some cases

For every network case it runs neurolib's own model class (``HopfModel``, ``WCModel``,
``FHNModel``: ``model.run()``, neurolib's numba Euler loop) on a small connectome and stores
the trajectories; ``tests/test_neurolib_reference.py`` runs the matching ``brainmass.Network``
with ``method='euler'`` and compares them at every stored sample. Each network case

1. builds N regions: seeded ``Cmat`` in multiples of 1/64 (exact in float32), zero diagonal,
   one zero off-diagonal edge; a fibre-length matrix ``Dmat`` (mm, zero diagonal) that gives
   every edge its own whole number of steps at ``signalV`` (m/s = mm/ms) and dt = 0.1 ms, plus
   an offset of at most 0.3 step (neurolib rounds ``Dmat / signalV / dt`` with ``numpy.around``,
   half to even; away from half steps that is brainmass's half up);
2. switches the noise off (``sigma_ou = 0``; the OU states start at their mean 0, so they stay 0);
3. gives explicit initial conditions of shape (N, startind), startind = max delay + 1, a
   different value at every step; the LAST column is the initial state (neurolib's loop reads
   ``x[:, i - 1]`` as the current state and ``x[l, i - d - 1]`` as the value d steps before it);
4. gives constant external inputs as (N, 1) arrays (a 1-D (N,) array would be read by
   ``neurolib.utils.model_utils.adjustArrayShape`` as a time series shared by all nodes);
5. stores every ``keep_every``-th sample (neurolib's times are dt, 2 dt, ... after the initial
   state) and checks that neurolib's ``Dmat_ndt`` equals the intended steps.

The ``bold`` case runs ``neurolib.models.bold.simulateBOLD`` (neurolib's Balloon-Windkessel
loop, dt in seconds) on a smooth positive drive from rest (X = 0, F = Q = V = 1), at dt =
0.1 ms (neurolib's model dt) and at dt = 10 ms (where the order of its sequential update is
visible).

Stored keys, network cases (``tests/reference/neurolib_<case>.npz``): ``t`` (T,) in ms, ``y``
(T, n_vars, N) in neurolib's units and state order (``var_names``), ``Cmat`` (N, N), ``Dmat``
(N, N) in mm, ``signalV`` (m/s), ``dt`` (ms), ``Dmat_ndt`` (neurolib's delay steps), ``init``
(n_vars, N, startind: neurolib's ``*_init`` arrays, the last column the initial state),
``params`` (JSON: every scalar / small-array parameter neurolib ran with), ``neurolib_model``,
``neurolib_version``, ``description``. ``bold``: ``z`` (T, N) drive, ``dt_ms``, ``bold_fine``
(T / keep, N, every ``keep``-th step at dt = 0.1 ms), ``keep``, ``z_coarse``, ``dt_coarse_ms``,
``bold_coarse`` (every step at dt = 10 ms), ``states_fine`` (4, N: X, F, Q, V at the end).
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import sys

import numpy as np

from neurolib.models.bold.timeIntegration import simulateBOLD  # noqa: E402
from neurolib.models.fhn import FHNModel  # noqa: E402
from neurolib.models.hopf import HopfModel  # noqa: E402
from neurolib.models.wc import WCModel  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NEUROLIB_VERSION = importlib.metadata.version('neurolib')
DT = 0.1

CASES = {
    'hopf': dict(
        model=HopfModel, N=4, seed=11, signalV=10.0, min_steps=3, duration=200.0, keep_every=4,
        state=('x', 'y'), init=('xs_init', 'ys_init'), y0=[[0.4, -0.3, 0.2, -0.5], [0.1, 0.35, -0.4, 0.0]],
        params=dict(coupling='diffusive', K_gl=0.3, a=0.15, w=0.3),
        description='HopfModel (Stuart-Landau, beta = 1), diffusive coupling K_gl sum_j C_ij (x_j(t - D_ij) - '
                    'x_i(t)) on x only; distinct delays, history varying in time.'),
    'hopf_additive': dict(
        model=HopfModel, N=4, seed=12, signalV=8.0, min_steps=2, duration=200.0, keep_every=4,
        state=('x', 'y'), init=('xs_init', 'ys_init'), y0=[[0.3, -0.6, 0.5, 0.1], [-0.2, 0.2, 0.4, -0.3]],
        params=dict(coupling='additive', K_gl=0.15, a=-0.05, w=0.25,
                    y_ext=[[0.02], [-0.01], [0.03], [0.0]]),
        description='HopfModel, additive coupling K_gl sum_j C_ij x_j(t - D_ij) (damped nodes, a = -0.05), '
                    'a constant external input y_ext per region on y.'),
    'wc': dict(
        model=WCModel, N=5, seed=13, signalV=10.0, min_steps=3, duration=200.0, keep_every=4,
        state=('exc', 'inh'), init=('exc_init', 'inh_init'),
        y0=[[0.05, 0.2, 0.1, 0.4, 0.02], [0.1, 0.05, 0.3, 0.15, 0.2]],
        params=dict(K_gl=0.8, tau_exc=2.0, tau_inh=3.0, c_excexc=16.0, c_excinh=14.0, c_inhexc=11.0,
                    c_inhinh=2.5, a_exc=1.4, a_inh=1.6, mu_exc=2.8, mu_inh=3.2,
                    exc_ext=[[0.7], [0.9], [0.6], [1.0], [0.8]], inh_ext=[[0.1], [0.0], [0.2], [-0.1], [0.05]]),
        description='WCModel, K_gl sum_j C_ij exc_j(t - D_ij) and exc_ext inside the excitatory sigmoid, '
                    'inh_ext inside the inhibitory one; the PLAIN logistic S(x) = 1 / (1 + exp(-a (x - mu))).'),
    'fhn': dict(
        model=FHNModel, N=4, seed=14, signalV=10.0, min_steps=3, duration=200.0, keep_every=4,
        state=('x', 'y'), init=('xs_init', 'ys_init'), y0=[[0.5, -0.8, 1.1, 0.0], [0.2, -0.1, 0.4, 0.0]],
        params=dict(coupling='diffusive', K_gl=0.4, alpha=3.0, beta=4.0, gamma=-1.5, delta=0.5, epsilon=0.5,
                    tau=15.0, x_ext=[[0.0], [0.0], [0.0], [0.0]], y_ext=[[0.004], [-0.002], [0.0], [0.006]]),
        description='FHNModel, diffusive coupling on x, no x input (delta = 0.5 makes the nodes oscillate), '
                    'a constant y_ext per region added to dy/dt OUTSIDE the 1/tau.'),
    'fhn_additive': dict(
        model=FHNModel, N=4, seed=15, signalV=12.0, min_steps=2, duration=200.0, keep_every=4,
        state=('x', 'y'), init=('xs_init', 'ys_init'), y0=[[0.3, -0.5, 1.0, 0.2], [0.0, 0.1, 0.3, -0.2]],
        params=dict(coupling='additive', K_gl=0.2, alpha=3.0, beta=4.0, gamma=-1.5, delta=0.0, epsilon=0.5,
                    tau=20.0, x_ext=[[0.9], [0.8], [1.0], [0.7]], y_ext=[[0.0], [0.0], [0.0], [0.0]]),
        description='FHNModel, additive coupling on x, a constant x_ext per region (neurolib default 1).'),
}


def connectome(n, seed, signal_v, min_steps):
    """Cmat in multiples of 1/64 (zero diagonal, one zero edge); Dmat (mm) giving distinct whole steps."""
    rng = np.random.default_rng(seed)
    cmat = np.round(rng.uniform(0.1, 1.0, (n, n)) * 64) / 64
    np.fill_diagonal(cmat, 0.)
    cmat[0, n - 1] = 0.
    off = ~np.eye(n, dtype=bool)
    steps = np.zeros((n, n), dtype=int)
    steps[off] = rng.choice(np.arange(min_steps, min_steps + 3 * off.sum()), off.sum(), replace=False)
    frac = rng.uniform(-0.3, 0.3, (n, n)) * off
    dmat = (steps + frac) * DT * signal_v  # mm: / signalV (mm/ms) / dt (ms) = steps + frac
    np.fill_diagonal(dmat, 0.)
    return cmat, dmat, steps


def history(y0, startind):
    """(n_vars, N, startind), a different value at every step; the last column is y0."""
    y0 = np.asarray(y0, dtype=float)
    lag = np.arange(startind) - (startind - 1)  # 0 at the last column
    freq = 0.07 + 0.04 * np.arange(y0.shape[1])
    return y0[:, :, None] + 0.3 * np.sin(freq[None, :, None] * lag[None, None, :]) + 0.002 * lag


def jsonable(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


def make_network(name):
    case = CASES[name]
    n = case['N']
    cmat, dmat, steps = connectome(n, case['seed'], case['signalV'], case['min_steps'])
    model = case['model'](Cmat=cmat, Dmat=dmat, seed=0)
    p = model.params
    p['dt'] = DT
    p['duration'] = case['duration']
    p['signalV'] = case['signalV']
    p['sigma_ou'] = 0.0
    for k, v in case['params'].items():
        p[k] = np.asarray(v, dtype=float) if isinstance(v, list) else v
    startind = int(steps.max()) + 1
    init = history(case['y0'], startind)
    for var, key in enumerate(case['init']):
        p[key] = init[var].copy()
    model.run()
    assert np.array_equal(p['Dmat_ndt'], steps), (p['Dmat_ndt'], steps)
    assert model.startindt == startind
    t = np.asarray(model.outputs['t'], dtype=float)
    y = np.stack([np.asarray(model.outputs[v], dtype=float) for v in case['state']], axis=0)  # (n_vars, N, T)
    y = y.transpose(2, 0, 1)  # (T, n_vars, N)
    assert len(t) == int(round(case['duration'] / DT)) and np.allclose(t[:3], [DT, 2 * DT, 3 * DT])
    assert np.all(np.isfinite(y))
    keep = slice(case['keep_every'] - 1, None, case['keep_every'])
    skip = {'Cmat', 'lengthMat', 'Dmat_ndt', 'seed'} | set(case['init'])
    params = {k: jsonable(v) for k, v in p.items()
              if k not in skip and not (isinstance(v, np.ndarray) and v.size > 4 * n)}
    path = os.path.join(HERE, f'neurolib_{name}.npz')
    np.savez_compressed(
        path, t=t[keep], y=y[keep], var_names=np.array(case['state']), Cmat=cmat, Dmat=dmat,
        signalV=np.float64(case['signalV']), dt=np.float64(DT), Dmat_ndt=np.asarray(p['Dmat_ndt']), init=init,
        params=json.dumps(params), neurolib_model=type(model).__name__, neurolib_version=NEUROLIB_VERSION,
        description=case['description'])
    span = np.ptp(y, axis=(0, 2))
    print(f'{name:14s} T={len(t[keep]):4d} startind={startind:3d} delays {steps[steps > 0].min()}-{steps.max()} '
          f'steps  range per var {np.round(span, 3)}  {os.path.getsize(path) / 1024:.0f} kB')


def make_bold():
    n = 3
    dt_ms, t_s = 0.1, 12.0
    T = int(round(t_s * 1000 / dt_ms))
    tt = np.arange(T) * dt_ms * 1e-3  # s
    base = np.array([0.5, 1.0, 1.5])[:, None]
    z = base * (1.0 + 0.8 * np.sin(2 * np.pi * np.array([0.15, 0.3, 0.05])[:, None] * tt[None, :]) ** 2)
    z[1, tt > 4.0] = 0.0  # one region switched off after 4 s: the undershoot
    rest = lambda: [np.zeros(n), np.ones(n), np.ones(n), np.ones(n)]
    X, F, Q, V = rest()
    bold_fine, X, F, Q, V = simulateBOLD(z, dt_ms * 1e-3, np.ones(n), X=X, F=F, Q=Q, V=V)
    keep = 500  # every 50 ms
    dt_coarse = 10.0
    Tc = int(round(t_s * 1000 / dt_coarse))
    z_coarse = z[:, ::int(round(dt_coarse / dt_ms))][:, :Tc]
    X0, F0, Q0, V0 = rest()
    bold_coarse, *_ = simulateBOLD(z_coarse, dt_coarse * 1e-3, np.ones(n), X=X0, F=F0, Q=Q0, V=V0)
    path = os.path.join(HERE, 'neurolib_bold.npz')
    np.savez_compressed(
        path, z=z.T[keep - 1::keep].copy(), z_full_rule=json.dumps(dict(
            base=[0.5, 1.0, 1.5], amp=0.8, freq_hz=[0.15, 0.3, 0.05], off_region=1, off_after_s=4.0,
            formula='z = base * (1 + amp * sin(2 pi f t)^2), t = k dt (s); region 1 is 0 for t > 4 s')),
        dt_ms=np.float64(dt_ms), T=np.int64(T), keep=np.int64(keep), bold_fine=bold_fine.T[keep - 1::keep].copy(),
        z_coarse=z_coarse.T.copy(), dt_coarse_ms=np.float64(dt_coarse), bold_coarse=bold_coarse.T.copy(),
        states_fine=np.stack([X, F, Q, V]), neurolib_model='bold.simulateBOLD', neurolib_version=NEUROLIB_VERSION,
        description='neurolib Balloon-Windkessel (Friston 2000 / Deco 2013 constants) from rest, '
                    'X, Q, V, F updated in that order within a step (F with the new X).')
    print(f'bold           T={T} (dt {dt_ms} ms) + {Tc} (dt {dt_coarse} ms)  '
          f'BOLD range {np.ptp(bold_fine):.3g}  {os.path.getsize(path) / 1024:.0f} kB')


if __name__ == '__main__':
    for name in (sys.argv[1:] or [*CASES, 'bold']):
        make_bold() if name == 'bold' else make_network(name)
