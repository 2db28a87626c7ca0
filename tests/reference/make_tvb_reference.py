"""Produce single-node reference trajectories from The Virtual Brain (tvb-library).

This script is NOT part of the brainmass test run: it needs ``tvb-library``
(and ``numba``, ``scipy``) in a separate environment, e.g.::

    python -m venv /tmp/tvb-ref-venv
    /tmp/tvb-ref-venv/bin/pip install tvb-library scipy
    /tmp/tvb-ref-venv/bin/python tests/reference/make_tvb_reference.py

For every model it

1. instantiates the TVB model class with *explicit* parameters (every NArray
   parameter of the class is recorded, overridden or not);
2. takes TVB's own right-hand side, ``model.dfun(state, coupling, local_coupling)``
   with one node, one mode, zero long-range coupling, zero local coupling and no
   noise (for the Kuramoto network case the coupling array is built with TVB's
   ``coupling.Kuramoto.pre`` / ``post`` exactly as the simulator's sparse
   coupling path does, and checked against one step of ``tvb.simulator.Simulator``);
3. integrates it with ``scipy.integrate.solve_ivp`` (DOP853, rtol=1e-10,
   atol=1e-12) from an explicit initial state and samples it on a fixed grid;
   the same problem is also solved with Radau and the largest difference is
   stored as ``ref_err_est`` (an upper estimate of the reference's own error);
4. estimates how fast small perturbations grow along the trajectory (the
   largest singular value of the finite-difference flow map from t=0 to t,
   ``growth``; for a chaotic orbit ``log(growth)/t`` is ~ the largest Lyapunov
   exponent), which fixes how long a float32 run can be compared point by point;
5. writes ``tests/reference/tvb_<case>.npz`` with

   ``t`` (T,) in ms (TVB's time unit), ``y`` (T, n_vars) in TVB's units,
   ``var_names``, ``y0``, ``params`` (JSON: every TVB parameter of the model,
   as lists), ``tvb_model``, ``tvb_version``, ``time_unit``, ``growth`` (T,),
   ``ref_err_est``, ``extra`` (JSON: case-specific data such as the Kuramoto
   network's weights) and ``description``.

TVB's state order is kept: ``y[:, k]`` is ``var_names[k]``.
"""
from __future__ import annotations

import importlib.metadata
import json
import os
import warnings

import numpy as np
from scipy.integrate import solve_ivp

warnings.filterwarnings('ignore')

from tvb.basic.neotraits.api import NArray  # noqa: E402
from tvb.simulator import coupling as tvb_coupling  # noqa: E402
from tvb.simulator import models as tvb_models  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TVB_VERSION = importlib.metadata.version('tvb-library')
RTOL, ATOL = 1e-10, 1e-12


# --------------------------------------------------------------------- cases
# name: (TVB class, explicit parameters, initial state (TVB order), t_end [ms],
#        number of sample intervals, description)
CASES = {
    'generic2d': dict(
        cls='Generic2dOscillator',
        params=dict(tau=1.25, a=2.0, b=-10.0, c=0.0, d=0.02, e=3.0, f=1.0, g=0.0,
                    alpha=1.0, beta=1.0, gamma=1.0, I=0.1),
        y0=[1.0, -2.0], t_end=500.0, n=500,
        description='Generic 2d oscillator on its limit cycle (a=2, tau=1.25, I=0.1).'),
    'jansen_rit': dict(
        cls='JansenRit',
        params=dict(A=3.25, B=22.0, a=0.1, b=0.05, v0=6.0, nu_max=0.0025, r=0.56, J=135.0,
                    a_1=1.0, a_2=0.8, a_3=0.25, a_4=0.25, mu=0.22),
        y0=[0.1, 15.0, 10.0, 0.0, 0.5, -0.2], t_end=400.0, n=400,
        description='Jansen-Rit alpha rhythm with constant input mu=0.22 /ms (220 Hz); '
                    'rates in 1/ms, potentials in mV, y3..y5 in mV/ms.'),
    'larter_breakspear': dict(
        cls='LarterBreakspear',
        params=dict(gCa=1.1, gK=2.0, gL=0.5, phi=0.7, gNa=6.7, TK=0.0, TCa=-0.01, TNa=0.3,
                    VCa=1.0, VK=-0.7, VL=-0.5, VNa=0.53, d_K=0.3, tau_K=1.0, d_Na=0.15,
                    d_Ca=0.15, aei=2.0, aie=2.0, b=0.1, C=0.1, ane=1.0, ani=0.4, aee=0.4,
                    Iext=0.3, rNMDA=0.25, VT=0.0, d_V=0.65, ZT=0.0, d_Z=0.7, QV_max=1.0,
                    QZ_max=1.0, t_scale=1.0),
        y0=[0.1, 0.2, 0.05], t_end=300.0, n=600,
        description="Larter-Breakspear, TVB's default set, uncoupled node (c_0 = 0): "
                    'periodic bursts every ~100 ms (not chaotic uncoupled: see `growth`).'),
    'epileptor': dict(
        cls='Epileptor',
        params=dict(a=1.0, b=3.0, c=1.0, d=5.0, r=0.00035, s=4.0, x0=-1.6, Iext=3.1, slope=0.0,
                    Iext2=0.45, tau=10.0, aa=6.0, bb=2.0, Kvf=0.0, Kf=0.0, Ks=0.0, tt=1.0,
                    modification=False),
        y0=[-1.5, -10.0, 3.0, -0.8, 0.0, -0.1], t_end=300.0, n=600,
        description='Epileptor (Jirsa 2014), default parameters: interictal start, seizure '
                    'onset near t = 210 ms and the first fast discharges (see `growth`).'),
    'rwwei': dict(
        cls='ReducedWongWangExcInh',
        params=dict(a_e=310.0, b_e=125.0, d_e=0.16, gamma_e=0.641 / 1000, tau_e=100.0,
                    w_p=1.4, J_N=0.15, W_e=1.0, a_i=615.0, b_i=177.0, d_i=0.087,
                    gamma_i=1.0 / 1000, tau_i=10.0, J_i=1.0, W_i=0.7, I_o=0.382, I_ext=0.0,
                    G=2.0, lamda=0.0),
        y0=[0.05, 0.3], t_end=600.0, n=600,
        description='Reduced Wong-Wang exc/inh (Deco 2014), default parameters, relaxation.'),
    'mpr': dict(
        cls='MontbrioPazoRoxin',
        params=dict(tau=2.0, I=0.5, Delta=1.2, J=15.0, eta=-5.0, Gamma=0.0, cr=1.0, cv=0.0),
        y0=[0.4, -1.5], t_end=60.0, n=600,
        description='Montbrio-Pazo-Roxin with tau=2 ms, Delta=1.2, I=0.5; r in 1/ms (kHz).'),
    'mpr_default': dict(
        cls='MontbrioPazoRoxin',
        params=dict(tau=1.0, I=0.0, Delta=1.0, J=15.0, eta=-5.0, Gamma=0.0, cr=1.0, cv=0.0),
        y0=[1.0, -1.0], t_end=40.0, n=400,
        description='Montbrio-Pazo-Roxin, TVB defaults (bistable): damped oscillation into the '
                    'high-activity focus.'),
    'kuramoto': dict(
        cls='Kuramoto',
        params=dict(omega=0.3),
        y0=[0.5], t_end=50.0, n=250,
        description='Single uncoupled Kuramoto phase: theta = theta0 + omega t (omega in rad/ms).'),
    'kuramoto_network': dict(
        cls='Kuramoto',
        params=dict(omega=[0.30, 0.35, 0.25]),
        y0=[0.5, 2.0, 4.0], t_end=60.0, n=300,
        # weights[i, j] = strength of the connection from node j onto node i
        extra=dict(weights=[[0.0, 1.0, 0.5], [0.2, 0.0, 1.0], [1.0, 0.3, 0.0]], a=0.2),
        description='Three Kuramoto phases, no delays, coupling as TVB\'s simulator applies '
                    'coupling.Kuramoto: a * sum_j w_ij sin(theta_j - theta_i) (its post divides '
                    'by the number of coupling variables, 1, not by N; checked against '
                    'tvb.simulator.Simulator).'),
    'suphopf': dict(
        cls='SupHopf',
        params=dict(a=0.3, omega=0.5),
        y0=[0.1, -0.2], t_end=100.0, n=500,
        description='Supercritical Hopf (Stuart-Landau), a=0.3 /ms, omega=0.5 rad/ms, '
                    'spiral out to the limit cycle of radius sqrt(a).'),
    'suphopf_damped': dict(
        cls='SupHopf',
        params=dict(a=-0.1, omega=1.0),
        y0=[1.0, 0.5], t_end=40.0, n=400,
        description='SupHopf below the bifurcation (a=-0.1, omega=1): damped spiral.'),
    'linear': dict(
        cls='Linear',
        params=dict(gamma=-0.5),
        y0=[1.0], t_end=10.0, n=200,
        description='Linear node dx/dt = gamma x (gamma=-0.5 /ms).'),
}


# ------------------------------------------------------------------- helpers
def narray_names(cls):
    return [k for k in cls.declarative_attrs if isinstance(getattr(cls, k), NArray)]


def build(case):
    cls = getattr(tvb_models, case['cls'])
    # per-node (spatialised) parameters are (n_node, 1) in TVB's (nodes, modes) layout
    kwargs = {k: np.atleast_1d(np.asarray(v)) for k, v in case['params'].items()}
    kwargs = {k: v.reshape(-1, 1) if v.size > 1 else v for k, v in kwargs.items()}
    model = cls(**kwargs)
    model.configure()
    full = {}
    for k in narray_names(cls):
        v = np.asarray(getattr(model, k)).reshape(-1)
        full[k] = v.tolist()
    return model, full


def make_rhs(model, case, n_node):
    nvar = len(model.state_variables)
    ncvar = len(model.cvar)
    extra = case.get('extra')
    if extra is not None:  # Kuramoto network: TVB's coupling function, no delays
        W = np.asarray(extra['weights'], dtype=float)
        cfun = tvb_coupling.Kuramoto(a=np.array([extra['a']]))

    def rhs(t, y):
        state = y.reshape(nvar, n_node, 1)
        if extra is None:
            c = np.zeros((ncvar, n_node, 1))
        else:  # as tvb.simulator.coupling.SparseCoupling.__call__ (the simulator's path), no delays
            x = state[model.cvar]                       # (ncv, node, mode)
            pre = cfun.pre(x[:, :, None, :], x[:, None, :, :])  # (ncv, to, from, mode)
            gx = (W[None, :, :, None] * pre).sum(axis=2)        # (ncv, to, mode)
            c = cfun.post(gx)  # a / gx.shape[0] * gx: divides by ncv = 1, not by N
        return np.array(model.dfun(state, c, 0.0), dtype=float).reshape(-1)  # copy: TVB may reuse its buffer

    return rhs


def check_against_tvb_simulator(case, rhs, y0):
    """The network RHS must equal what TVB's own Simulator does in one tiny Euler step."""
    from tvb.datatypes.connectivity import Connectivity
    from tvb.simulator import integrators, monitors, simulator
    W = np.asarray(case['extra']['weights'], dtype=float)
    n = len(W)
    conn = Connectivity(weights=W, tract_lengths=np.zeros((n, n)), centres=np.zeros((n, 3)),
                        region_labels=np.array([str(i) for i in range(n)]), speed=np.array([1e9]))
    conn.configure()
    model, _ = build(case)
    dt = 1e-6
    sim = simulator.Simulator(
        model=model, connectivity=conn, coupling=tvb_coupling.Kuramoto(a=np.array([case['extra']['a']])),
        integrator=integrators.EulerDeterministic(dt=dt), monitors=[monitors.Raw()],
        initial_conditions=np.tile(np.asarray(y0)[None, None, :, None], (2, 1, 1, 1)),
        simulation_length=dt)
    sim.configure()
    (_, y), = sim.run()
    rate = (y[0, 0, :, 0] - y0) / dt
    assert np.allclose(rate, rhs(0.0, np.asarray(y0, float)), rtol=1e-6, atol=1e-8), rate


def check_numpy_dfun(model, rhs, y0, n_node):
    """Where TVB has both a numba and a numpy dfun, they must agree."""
    if not hasattr(model, '_numpy_dfun'):
        return
    nvar = len(model.state_variables)
    y = np.asarray(y0, float)
    state = y.reshape(nvar, n_node, 1)
    c = np.zeros((len(model.cvar), n_node, 1))
    a = np.asarray(model._numpy_dfun(state, c, 0.0)).reshape(-1)
    b = rhs(0.0, y)
    assert np.allclose(a, b, rtol=1e-12, atol=1e-14), (a, b)


def solve(rhs, y0, t_eval, method='DOP853'):
    sol = solve_ivp(rhs, (t_eval[0], t_eval[-1]), np.asarray(y0, float), method=method,
                    t_eval=t_eval, rtol=RTOL, atol=ATOL)
    assert sol.success, sol.message
    return sol.y.T


def growth_factor(rhs, y0, t_eval, y_ref, scale, eps=1e-7):
    """Largest singular value of the finite-difference flow-map Jacobian (scaled)."""
    n = len(y0)
    cols = []
    for k in range(n):
        y1 = np.array(y0, float)
        y1[k] += eps * scale[k]
        cols.append((solve(rhs, y1, t_eval) - y_ref) / (eps * scale))
    J = np.stack(cols, axis=-1)  # (T, n_out, n_in), both scaled by `scale`
    return np.array([np.linalg.svd(Jt, compute_uv=False)[0] for Jt in J])


def make(name, case):
    model, full = build(case)
    y0 = np.asarray(case['y0'], float)
    n_node = len(y0) // len(model.state_variables)
    rhs = make_rhs(model, case, n_node)
    check_numpy_dfun(model, rhs, y0, n_node)
    if case.get('extra'):
        check_against_tvb_simulator(case, rhs, y0)
    t = np.linspace(0.0, case['t_end'], case['n'] + 1)
    y = solve(rhs, y0, t)
    y_radau = solve(rhs, y0, t, method='Radau')
    ref_err = float(np.max(np.abs(y - y_radau)))
    scale = np.maximum(np.max(np.abs(y), axis=0), 1e-3)
    growth = growth_factor(rhs, y0, t, y, scale)
    var_names = list(model.state_variables)
    if n_node > 1:
        var_names = [f'{v}[{i}]' for v in var_names for i in range(n_node)]
    out = os.path.join(HERE, f'tvb_{name}.npz')
    np.savez_compressed(
        out, t=t, y=y, y0=y0, var_names=np.array(var_names),
        params=np.array(json.dumps(full)), extra=np.array(json.dumps(case.get('extra', {}))),
        tvb_model=np.array(case['cls']), tvb_version=np.array(TVB_VERSION),
        time_unit=np.array('ms'), growth=growth, ref_err_est=np.array(ref_err),
        description=np.array(case['description']),
        integrator=np.array(f'scipy solve_ivp DOP853 rtol={RTOL} atol={ATOL}'))
    print(f'{name:18s} {case["cls"]:22s} T={len(t):4d} vars={var_names} '
          f'ref_err={ref_err:.1e} growth(end)={growth[-1]:.2e} max={growth.max():.2e} '
          f'size={os.path.getsize(out) / 1024:.1f} kB')


def main(names=None):
    for name, case in CASES.items():
        if names and name not in names:
            continue
        make(name, case)


if __name__ == '__main__':
    import sys
    main(sys.argv[1:])
