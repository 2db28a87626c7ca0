"""Produce delay-coupled NETWORK reference trajectories from TVB's own Simulator.

This script is NOT part of the brainmass test run: it needs ``tvb-library`` (and
``numba``) in a separate environment, e.g.::

    python -m venv /tmp/tvb-ref-venv
    /tmp/tvb-ref-venv/bin/pip install tvb-library
    /tmp/tvb-ref-venv/bin/python tests/reference/make_tvb_network_reference.py

Where ``make_tvb_reference.py`` checks single nodes (TVB's ``dfun`` + scipy), this
one runs ``tvb.simulator.simulator.Simulator`` itself on a small connectome, so that
what a network adds on top of the node is checked too: the rounding of the delays
to steps (``Connectivity.idelays``), the history's index convention, what each
coupling function computes from the delayed and the current state, and where its
result enters the node. For every case it

1. builds a ``Connectivity`` of N = 5 regions: seeded weights in multiples of 1/64
   (exact in float32, see 4.), a zero diagonal and one zero off-diagonal edge;
   tract lengths that give every edge its own whole number of steps, plus an
   offset of at most 0.4 step (so rounding half up and TVB's half-to-even agree);
   a conduction speed;
2. runs TVB's ``EulerDeterministic`` integrator (dt = 0.1 ms, no noise) with
   explicit ``initial_conditions`` of shape (horizon, n_vars, N, 1), horizon =
   max idelay + 1: constant in time (the initial state held over the delay
   window) for the coupling cases, a different value at every step for the
   ``history`` case; a ``Raw`` monitor records every state variable after
   every step;
3. stores the trajectories with times relative to the initial state (TVB's Raw
   times start at ``horizon * dt``, since the given history occupies steps
   0 .. horizon - 1: the first stored sample is the state one step after the
   last row of ``initial_conditions``);
4. TVB keeps its history buffer and weights in float32 (``tvb.simulator.history``
   declares them ``'f'``) while it integrates in float64, so every delayed value
   (and the current value of the Difference coupling) is rounded to float32
   before it is coupled. The reference is made with those arrays in float64
   (the descriptors' dtype switched to ``'d'``: TVB's algorithm in double
   precision); the largest difference to TVB as shipped (float32 history) is
   stored as ``shipped_f32_diff`` (relative to each variable's range).

Cases (one per TVB coupling function that brainmass has, non-default parameters):

================  ====================  =====================================================
case              TVB model             TVB coupling
================  ====================  =====================================================
linear            Generic2dOscillator   Linear(a=0.15, b=0.05)
difference        Generic2dOscillator   Difference(a=0.3)
suphopf           SupHopf               Difference(a=0.3): TVB couples x AND y (cvar [0, 1])
sigmoidal         Generic2dOscillator   Sigmoidal(cmin=-0.5, cmax=1.5, midpoint=0.2, a=2,
                                        sigma=1.5)
tanh              Generic2dOscillator   HyperbolicTangent(a=0.4, b=1.5, midpoint=0.3, sigma=2)
jansen_rit        JansenRit             SigmoidalJansenRit(a=2, cmin=0.001, cmax=0.008,
                                        midpoint=5.5, r=0.6)
history           Linear                Linear(a=0.2, b=0), a history that varies in time,
                                        edges of 0 and 1 step among the delays
================  ====================  =====================================================

Stored keys (``tests/reference/tvb_net_<case>.npz``): ``t`` (T,) in ms, ``y`` (T,
n_vars, N) in TVB's units and state order, ``var_names``, ``weights`` (N, N),
``tract_lengths`` (N, N) in mm, ``speed`` (mm/ms), ``dt`` (ms), ``idelays`` (N, N)
(TVB's steps), ``initial_conditions`` (horizon, n_vars, N), ``model_params``,
``coupling_params`` (JSON, every NArray parameter of the class),
``tvb_model``, ``tvb_coupling``, ``tvb_version``, ``shipped_f32_diff``, ``description``.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import sys
import warnings

import numpy as np

warnings.filterwarnings('ignore')

from tvb.basic.neotraits.api import NArray  # noqa: E402
from tvb.datatypes.connectivity import Connectivity  # noqa: E402
from tvb.simulator import coupling as tvb_coupling  # noqa: E402
from tvb.simulator import history as tvb_history  # noqa: E402
from tvb.simulator import integrators, monitors, simulator  # noqa: E402
from tvb.simulator import models as tvb_models  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TVB_VERSION = importlib.metadata.version('tvb-library')
N = 5
DT = 0.1

CASES = {
    'linear': dict(
        model='Generic2dOscillator',
        model_params=dict(tau=1.25, a=2.0, b=-10.0, c=0.0, d=0.02, e=3.0, f=1.0, g=0.0,
                          alpha=1.0, beta=1.0, gamma=1.0, I=0.1),
        coupling='Linear', coupling_params=dict(a=0.15, b=0.05),
        y0=[[1.0, -0.5, 0.2, 1.5, -1.2], [-2.0, -1.0, 0.5, -3.0, 1.0]],
        n_steps=400, keep_every=1, seed=1, speed=2.5, min_steps=3,
        description='Generic2dOscillator (limit cycle) through Linear coupling a * sum_j w_ij x_j + b.'),
    'difference': dict(
        model='Generic2dOscillator',
        model_params=dict(tau=1.25, a=2.0, b=-10.0, c=0.0, d=0.02, e=3.0, f=1.0, g=0.0,
                          alpha=1.0, beta=1.0, gamma=1.0, I=0.1),
        coupling='Difference', coupling_params=dict(a=0.3),
        y0=[[1.0, -0.5, 0.2, 1.5, -1.2], [-2.0, -1.0, 0.5, -3.0, 1.0]],
        n_steps=400, keep_every=1, seed=2, speed=4.0, min_steps=2,
        description='Generic2dOscillator through Difference coupling a * sum_j w_ij (V_j(t - d_ij) - V_i(t)).'),
    'suphopf': dict(
        model='SupHopf',
        model_params=dict(a=0.2, omega=[0.5, 0.6, 0.7, 0.8, 0.9]),
        coupling='Difference', coupling_params=dict(a=0.3),
        y0=[[0.3, -0.2, 0.1, 0.5, -0.4], [0.0, 0.4, -0.3, 0.1, 0.2]],
        n_steps=400, keep_every=1, seed=7, speed=4.0, min_steps=2,
        description='SupHopf (Stuart-Landau) through Difference coupling: TVB couples BOTH x and y '
                    '(cvar = [0, 1]; c_0 enters dx/dt, c_1 dy/dt), as Deco et al. (2017).'),
    'sigmoidal': dict(
        model='Generic2dOscillator',
        model_params=dict(tau=1.25, a=2.0, b=-10.0, c=0.0, d=0.02, e=3.0, f=1.0, g=0.0,
                          alpha=1.0, beta=1.0, gamma=1.0, I=0.1),
        coupling='Sigmoidal', coupling_params=dict(cmin=-0.5, cmax=1.5, midpoint=0.2, a=2.0, sigma=1.5),
        y0=[[1.0, -0.5, 0.2, 1.5, -1.2], [-2.0, -1.0, 0.5, -3.0, 1.0]],
        n_steps=400, keep_every=1, seed=3, speed=2.5, min_steps=3,
        description='Generic2dOscillator through Sigmoidal coupling '
                    'cmin + (cmax - cmin) / (1 + exp(-a (s - midpoint) / sigma)), s = sum_j w_ij x_j.'),
    'tanh': dict(
        model='Generic2dOscillator',
        model_params=dict(tau=1.25, a=2.0, b=-10.0, c=0.0, d=0.02, e=3.0, f=1.0, g=0.0,
                          alpha=1.0, beta=1.0, gamma=1.0, I=0.1),
        coupling='HyperbolicTangent', coupling_params=dict(a=0.4, b=1.5, midpoint=0.3, sigma=2.0),
        y0=[[1.0, -0.5, 0.2, 1.5, -1.2], [-2.0, -1.0, 0.5, -3.0, 1.0]],
        n_steps=400, keep_every=1, seed=4, speed=2.5, min_steps=3,
        description='Generic2dOscillator through HyperbolicTangent coupling, applied BEFORE the sum: '
                    'sum_j w_ij a (1 + tanh((b x_j - midpoint) / sigma)).'),
    'jansen_rit': dict(
        model='JansenRit',
        model_params=dict(A=3.25, B=22.0, a=0.1, b=0.05, v0=6.0, nu_max=0.0025, r=0.56, J=135.0,
                          a_1=1.0, a_2=0.8, a_3=0.25, a_4=0.25, mu=[0.22, 0.15, 0.25, 0.1, 0.2]),
        coupling='SigmoidalJansenRit', coupling_params=dict(a=2.0, cmin=0.001, cmax=0.008, midpoint=5.5, r=0.6),
        y0=[[0.1, 0.3, 0.0, 0.2, 0.15], [15.0, 12.0, 18.0, 10.0, 14.0], [10.0, 8.0, 12.0, 9.0, 11.0],
            [0.0, 0.1, -0.1, 0.05, 0.0], [0.5, 0.2, -0.2, 0.3, 0.1], [-0.2, 0.0, 0.1, -0.1, 0.2]],
        n_steps=600, keep_every=2, seed=5, speed=2.0, min_steps=4,
        description='JansenRit through SigmoidalJansenRit coupling a * sum_j w_ij S(y1_j - y2_j), '
                    'S(v) = cmin + (cmax - cmin) / (1 + exp(r (midpoint - v))), entering dy4 beside mu.'),
    'history': dict(
        model='Linear',
        model_params=dict(gamma=[-0.3, -0.5, -0.2, -0.4, -0.25]),
        coupling='Linear', coupling_params=dict(a=0.2, b=0.0),
        y0=[[1.0, -0.5, 0.8, 0.2, -1.0]],
        n_steps=300, keep_every=1, seed=6, speed=3.0, min_steps=0, varying_history=True,
        description='Linear node through Linear coupling, with a history that differs at every step '
                    '(sinusoids, row horizon - 1 = the initial state) and edges of 0 and 1 step: pins '
                    'down which history row a delay of d steps reads.'),
}


def narray_params(obj):
    cls = type(obj)
    return {k: np.asarray(getattr(obj, k)).reshape(-1).tolist()
            for k in cls.declarative_attrs if isinstance(getattr(cls, k, None), NArray)}


def connectome(seed, speed, min_steps):
    """Weights in multiples of 1/64, one zero off-diagonal edge; distinct whole-step delays per edge."""
    rng = np.random.default_rng(seed)
    w = np.round(rng.uniform(0.1, 1.0, (N, N)) * 64) / 64
    np.fill_diagonal(w, 0.)
    w[0, 3] = 0.
    off = ~np.eye(N, dtype=bool)
    if min_steps == 0:  # the smallest delays are 0 and 1 step, the others distinct in 2 .. 40
        steps = np.concatenate([[0, 1], rng.choice(np.arange(2, 41), off.sum() - 2, replace=False)])
        rng.shuffle(steps)
    else:
        steps = rng.choice(np.arange(min_steps, 41), off.sum(), replace=False)
    s = np.zeros((N, N))
    s[off] = steps
    frac = rng.uniform(-0.4, 0.4, (N, N)) * (s > 0)  # no offset on a 0-step edge (lengths >= 0)
    frac[s == 0] = np.abs(frac[s == 0])
    lengths = (s + frac) * DT * speed
    np.fill_diagonal(lengths, 0.)
    return w, lengths, s.astype(int)


def build_model(case):
    cls = getattr(tvb_models, case['model'])
    kwargs = {}
    for k, v in case['model_params'].items():
        v = np.atleast_1d(np.asarray(v, dtype=float))
        kwargs[k] = v.reshape(-1, 1) if v.size > 1 else v
    model = cls(**kwargs)
    model.variables_of_interest = tuple(model.state_variables)
    return model


def history_array(case, horizon, nvar):
    y0 = np.asarray(case['y0'], dtype=float)  # (nvar, N)
    if not case.get('varying_history'):
        return np.broadcast_to(y0[None, :, :, None], (horizon, nvar, N, 1)).copy()
    # a different value at every step: row horizon - 1 is the initial state (TVB's current state)
    lag = np.arange(horizon)[:, None] - (horizon - 1)  # 0 at the last row, -(horizon - 1) at the first
    freq = 0.05 + 0.03 * np.arange(N)[None, :]
    hist = y0[0][None, :] + 0.5 * np.sin(freq * lag) + 0.01 * lag
    return hist[:, None, :, None]


def run_tvb(case, w, lengths, speed, float64_history):
    for cls in (tvb_history.DenseHistory, tvb_history.SparseHistory):
        for name in ('buffer', 'es_weights', 'current_state', 'delayed_state', 'nnz_weights'):
            desc = cls.__dict__.get(name)
            if desc is not None:
                desc.dtype = 'd' if float64_history else 'f'
    conn = Connectivity(weights=w, tract_lengths=lengths, centres=np.zeros((N, 3)),
                        region_labels=np.array([f'r{i}' for i in range(N)]), speed=np.array([speed]))
    conn.configure()
    model = build_model(case)
    cfun = getattr(tvb_coupling, case['coupling'])(
        **{k: np.array([v], dtype=float) for k, v in case['coupling_params'].items()})
    conn.set_idelays(DT)
    horizon = int(conn.idelays.max()) + 1
    ic = history_array(case, horizon, len(model.state_variables))
    sim = simulator.Simulator(model=model, connectivity=conn, coupling=cfun,
                              integrator=integrators.EulerDeterministic(dt=DT),
                              monitors=[monitors.Raw()], initial_conditions=ic)
    sim.configure()
    assert sim.history.buffer.dtype == (np.float64 if float64_history else np.float32)
    # the current state is the last row of the given history
    assert np.array_equal(sim.current_state, ic[-1]), 'TVB did not start from the last history row'
    ts, ys = [], []
    for (t, y), in sim(n_steps=case['n_steps']):
        ts.append(t)
        ys.append(np.array(y[:, :, 0], dtype=float))  # (nvar, N); copy: TVB reuses its arrays
    t = np.asarray(ts) - (horizon - 1) * DT  # relative to the initial state
    return t, np.asarray(ys), conn.idelays.copy(), ic[:, :, :, 0], model, cfun


def make(name):
    case = CASES[name]
    w, lengths, steps = connectome(case['seed'], case['speed'], case['min_steps'])
    t, y, idelays, ic, model, cfun = run_tvb(case, w, lengths, case['speed'], float64_history=True)
    assert np.array_equal(idelays, steps), (idelays, steps)
    _, y32, _, _, _, _ = run_tvb(case, w, lengths, case['speed'], float64_history=False)
    span = np.ptp(y, axis=(0, 2))[None, :, None]
    f32_diff = float(np.max(np.abs(y32 - y) / span))
    keep = slice(case['keep_every'] - 1, None, case['keep_every'])
    path = os.path.join(HERE, f'tvb_net_{name}.npz')
    np.savez_compressed(
        path, t=t[keep], y=y[keep], var_names=np.array(model.state_variables), weights=w,
        tract_lengths=lengths, speed=np.float64(case['speed']), dt=np.float64(DT), idelays=idelays,
        initial_conditions=ic, model_params=json.dumps(narray_params(model)),
        coupling_params=json.dumps(narray_params(cfun)), tvb_model=case['model'],
        tvb_coupling=case['coupling'], tvb_version=TVB_VERSION, shipped_f32_diff=np.float64(f32_diff),
        description=case['description'])
    print(f'{name:12s} T={len(t[keep]):4d} horizon={ic.shape[0]:3d} delays {idelays[idelays > 0].min()}-'
          f'{idelays.max()} steps  TVB float32 history vs float64: {f32_diff:.1e} of the range  '
          f'{os.path.getsize(path) / 1024:.0f} kB')


if __name__ == '__main__':
    for name in (sys.argv[1:] or CASES):
        make(name)
