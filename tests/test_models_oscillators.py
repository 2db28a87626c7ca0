"""Van der Pol, FitzHugh-Nagumo and Generic 2D oscillator: equations, signatures, contract."""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

import brainmass
from brainmass.models.oscillators import FitzHughNagumoStep, Generic2dOscillatorStep, VanDerPolStep

from _helpers import distinct_methods, mag, rhs


RNG = np.random.default_rng(42)


def rand(n=5, scale=1.0):
    return (RNG.normal(size=n) * scale).astype(np.float32)


# ------------------------------------------------- 1. right-hand sides vs numpy

def test_van_der_pol_rhs_matches_numpy():
    x, y, ix, iy = rand(), rand(), rand(), rand()
    mu = 2.7
    d = rhs(VanDerPolStep(5, mu=mu), dict(x=x, y=y), ix, iy)
    np.testing.assert_allclose(d['x'], y + ix, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d['y'], mu * (1 - x ** 2) * y - x + iy, rtol=1e-5, atol=1e-5)


def test_fitzhugh_nagumo_rhs_matches_numpy():
    V, w, iV, iw = rand(), rand(), rand(), rand()
    p = dict(alpha=2.5, beta=3.5, gamma=-1.2, delta=0.3, epsilon=0.7, tau=15.)
    d = rhs(FitzHughNagumoStep(5, **p), dict(V=V, w=w), iV, iw)
    refV = -p['alpha'] * V ** 3 + p['beta'] * V ** 2 + p['gamma'] * V - w + iV
    refw = (V - p['delta'] - p['epsilon'] * w + iw) / p['tau']
    np.testing.assert_allclose(d['V'], refV, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(d['w'], refw, rtol=1e-5, atol=1e-6)


def test_generic2d_rhs_matches_numpy():
    V, W, iV, iW = rand(), rand(), rand(), rand()
    p = dict(a=-1.5, b=-8., c=0.4, d=0.03, e=2.5, f=1.2, g=0.3, alpha=0.9, beta=1.1, gamma=0.8, I=0.2, tau=1.5)
    d = rhs(Generic2dOscillatorStep(5, **p), dict(V=V, W=W), iV, iW)
    refV = p['d'] * p['tau'] * (-p['f'] * V ** 3 + p['e'] * V ** 2 + p['g'] * V + p['alpha'] * W
                                + p['gamma'] * (p['I'] + iV))
    refW = p['d'] / p['tau'] * (p['c'] * V ** 2 + p['b'] * V - p['beta'] * W + p['a'] + iW)
    np.testing.assert_allclose(d['V'], refV, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(d['W'], refW, rtol=1e-5, atol=1e-6)


def test_fitzhugh_nagumo_defaults_and_units():
    node = FitzHughNagumoStep(1)
    assert float(node.tau.value().to_decimal(u.ms)) == 20.
    assert [float(getattr(node, k).value().to_decimal(u.kHz)) for k in ('alpha', 'beta', 'gamma')] == [3., 4., -1.5]
    assert [float(getattr(node, k).value()) for k in ('delta', 'epsilon')] == [0., 0.5]
    assert float(FitzHughNagumoStep(1, tau=0.02 * u.second).tau.value().to_decimal(u.ms)) == pytest.approx(20.)


# ------------------------------------------------- 2. dynamical signatures

def _period(x, dt):
    """Mean period from upward zero crossings (linear interpolation)."""
    idx = np.nonzero((x[:-1] < 0) & (x[1:] >= 0))[0]
    t = (idx + x[idx] / (x[idx] - x[idx + 1])) * dt
    return np.mean(np.diff(t))


def test_van_der_pol_relaxation_period_for_large_mu():
    mu, dt = 10., 0.01
    node = VanDerPolStep(1, mu=mu, init_x=2.0, method='rk4')
    res = brainmass.Simulator(node, dt=dt * u.ms).run(160 * u.ms, monitors=['x'], transient=60 * u.ms)
    T_model = _period(mag(res['x'])[:, 0], dt)
    # asymptotic relaxation period (Dorodnitsyn): (3 - 2 ln 2) mu + 7.014 mu^(-1/3), in ms
    T_asym = (3 - 2 * np.log(2)) * mu + 7.014 * mu ** (-1 / 3)
    assert T_model == pytest.approx(T_asym, rel=0.03)
    # and the period of an independent solve of the same equations (upward zero crossings)
    crossing = lambda t, s: s[0]
    crossing.direction = 1
    sol = solve_ivp(lambda t, s: [s[1], mu * (1 - s[0] ** 2) * s[1] - s[0]], [0, 160], [2.0, 0.],
                    method='LSODA', rtol=1e-10, atol=1e-10, events=crossing)
    T_ref = np.diff(sol.t_events[0])[-1]
    assert T_ref == pytest.approx(19.078, abs=1e-3)
    assert T_model == pytest.approx(T_ref, rel=2e-3)


FHN = dict(a=3., b=4., g=-1.5, d=0., e=0.5, tau=20.)
I0, PULSE, T_END, SPIKE_V, SPIKE_MS = 0.6, 1.0, 60., 0.5, 2.0


def _fhn_f(V):
    return -FHN['a'] * V ** 3 + FHN['b'] * V ** 2 + FHN['g'] * V


def _fhn_rest():
    V = brentq(lambda v: _fhn_f(v) - (v - FHN['d']) / FHN['e'] + I0, -1., 0.269)
    return V, (V - FHN['d']) / FHN['e']


def _fhn_time_above_ref(A):
    """scipy reference: ms spent above SPIKE_V after a PULSE-ms pulse of amplitude A."""
    f = lambda t, s, I: [_fhn_f(s[0]) - s[1] + I, (s[0] - FHN['d'] - FHN['e'] * s[1]) / FHN['tau']]
    s1 = solve_ivp(f, [0, PULSE], _fhn_rest(), args=(I0 + A,), rtol=1e-10, atol=1e-12)
    s2 = solve_ivp(f, [PULSE, T_END], s1.y[:, -1], args=(I0,), rtol=1e-10, atol=1e-12, dense_output=True)
    V = s2.sol(np.arange(PULSE, T_END, 0.01))[0]
    return (V > SPIKE_V).sum() * 0.01


def test_fitzhugh_nagumo_excitability_threshold_matches_scipy():
    # I0 = 0.6 (below the Hopf point at ~0.726) makes the rest state excitable
    dt, amps = 0.01, np.linspace(0., 0.5, 101)
    V0, w0 = _fhn_rest()
    node = FitzHughNagumoStep(len(amps), init_V=V0, init_w=w0, method='rk4')
    n_steps, n_pulse = int(T_END / dt), int(PULSE / dt)
    drive = np.full((n_steps, len(amps)), I0, dtype=np.float32)
    drive[:n_pulse] += amps
    V = mag(brainmass.Simulator(node, dt=dt * u.ms).run(T_END * u.ms, inputs=jnp.asarray(drive))['output'])
    above = (V[n_pulse:] > SPIKE_V).sum(axis=0) * dt
    # sub-threshold pulses return to rest without a spike, supra-threshold ones spend ~6 ms up
    k = np.argmax(above > SPIKE_MS)
    assert 0 < k < len(amps) - 1
    assert np.all(above[:k] < SPIKE_MS) and np.all(above[k:] > SPIKE_MS)
    assert above[-1] > 5.
    assert np.allclose(V[-1], V0, atol=2e-3)
    A_model = amps[k]
    A_ref = brentq(lambda A: _fhn_time_above_ref(A) - SPIKE_MS, 0.1, 0.4, xtol=1e-4)
    assert 0.2 < A_ref < 0.3
    assert A_model == pytest.approx(A_ref, abs=0.006)


def test_generic2d_matches_scipy_and_rings_down():
    V0, W0, I_in = 0.5, 0.0, 0.3
    node = Generic2dOscillatorStep(1, init_V=V0, init_W=W0, method='rk4')
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(300 * u.ms, inputs=I_in, monitors=['V', 'W'])
    p = dict(a=-2., b=-10., c=0., d=0.02, e=3., f=1., g=0., alpha=1., beta=1., gamma=1., I=0., tau=1.)

    def f(t, s):
        V, W = s
        dV = p['d'] * p['tau'] * (-p['f'] * V ** 3 + p['e'] * V ** 2 + p['g'] * V + p['alpha'] * W
                                  + p['gamma'] * (p['I'] + I_in))
        dW = p['d'] / p['tau'] * (p['c'] * V ** 2 + p['b'] * V - p['beta'] * W + p['a'])
        return [dV, dW]

    ts = mag(res['ts'].to_decimal(u.ms))
    sol = solve_ivp(f, [0, 300], [V0, W0], t_eval=ts, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mag(res['V'])[:, 0], sol.y[0], atol=2e-4)
    np.testing.assert_allclose(mag(res['W'])[:, 0], sol.y[1], atol=2e-4)
    # default point is a stable focus: oscillation amplitude decays
    V = mag(res['V'])[:, 0]
    assert np.ptp(V[-500:]) < 0.2 * np.ptp(V[:500])


# ------------------------------------------------- 3. integrators and gradients

MODELS = [VanDerPolStep, FitzHughNagumoStep, Generic2dOscillatorStep]


@pytest.mark.parametrize('cls', MODELS, ids=lambda c: c.__name__)
def test_every_integrator_gives_finite_output(cls):
    for method in distinct_methods():
        node = cls(2, method=method, **({'init_V': 0.5} if cls is Generic2dOscillatorStep else {}))
        res = brainmass.Simulator(node, dt=0.1 * u.ms).run(100 * u.ms, inputs=0.5, on_divergence='ignore')
        out = res['output'][0] if isinstance(res['output'], tuple) else res['output']
        assert np.all(np.isfinite(mag(out))), method


@pytest.mark.parametrize('cls, name, value, extra', [
    (VanDerPolStep, 'mu', 1.0, {}),
    (FitzHughNagumoStep, 'epsilon', 0.5, {}),
    (Generic2dOscillatorStep, 'e', 3.0, {'init_V': 0.5}),
], ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_gradient_wrt_trainable_parameter(cls, name, value, extra):
    node = cls(1, **{name: brainstate.nn.Param(value, fit=True)}, **extra)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    params = node.states(brainstate.ParamState)
    assert len(params) == 1

    def loss():
        out = sim.run(20 * u.ms, inputs=0.5)['output']
        out = out[0] if isinstance(out, tuple) else out
        return jnp.mean(u.get_magnitude(out))

    g = float(list(brainstate.transform.grad(loss, grad_states=params)().values())[0])
    assert np.isfinite(g) and g != 0.


# ------------------------------------------------- 4. noise and networks

@pytest.mark.parametrize('cls, var', [(VanDerPolStep, 'x'), (FitzHughNagumoStep, 'V'),
                                      (Generic2dOscillatorStep, 'V')], ids=lambda v: getattr(v, '__name__', v))
def test_noise_and_network(cls, var):
    brainstate.environ.set(dt=0.1 * u.ms)
    quiet = brainmass.Simulator(cls(2), dt=0.1 * u.ms).run(20 * u.ms, monitors=[var])[var]
    noisy_node = cls(2, **{f'noise_{var}': brainmass.OUProcess(2, sigma=0.01)})
    noisy = brainmass.Simulator(noisy_node, dt=0.1 * u.ms).run(20 * u.ms, monitors=[var])[var]
    assert np.all(np.isfinite(mag(noisy))) and not np.allclose(mag(noisy), mag(quiet))

    conn = np.random.default_rng(1).uniform(0, 0.2, size=(3, 3))
    net = brainmass.Network(cls(3), conn=conn, coupled_var=var, k=0.5)
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(20 * u.ms, monitors=[f'node.{var}'])
    assert mag(res[f'node.{var}']).shape == (200, 3)
    assert np.all(np.isfinite(mag(res[f'node.{var}'])))
