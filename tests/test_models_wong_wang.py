"""Wong-Wang family: WongWangStep (Wong & Wang 2006) and WongWangExcInhStep (Deco et al. 2014)."""
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import brainmass
from brainmass.models.wong_wang import WongWangExcInhStep, WongWangStep, fic_tuning, transfer_function

from _helpers import distinct_methods, mag


def per_ms(q):
    """A d/dt quantity as a plain number per ms."""
    return np.asarray(u.maybe_decimal(q * u.ms))


# ------------------------------------------------------- numpy transcriptions
def H_np(x, a, b, d):
    z = a * x - b
    return z / (1. - np.exp(-d * z))


WW = dict(tau=100., gamma=0.641, a=270., b=108., d=0.154, J11=0.2609, J22=0.2609, J12=0.0497, J21=0.0497,
          JA=2.243e-4, mu0=30., I0=0.3255)


def ww_rhs(S1, S2, I1=0., I2=0., p=WW):
    """Wong & Wang (2006), Eqs. of the reduced two-variable model, t in ms."""
    x1 = p['J11'] * S1 - p['J12'] * S2 + p['I0'] + I1
    x2 = p['J22'] * S2 - p['J21'] * S1 + p['I0'] + I2
    dS1 = -S1 / p['tau'] + (1 - S1) * p['gamma'] * H_np(x1, p['a'], p['b'], p['d']) / 1000.
    dS2 = -S2 / p['tau'] + (1 - S2) * p['gamma'] * H_np(x2, p['a'], p['b'], p['d']) / 1000.
    return dS1, dS2, H_np(x1, p['a'], p['b'], p['d']), H_np(x2, p['a'], p['b'], p['d'])


DECO = dict(a_e=310., b_e=125., d_e=0.16, gamma_e=0.641 / 1000, tau_e=100., w_p=1.4, W_e=1., a_i=615., b_i=177.,
            d_i=0.087, gamma_i=1. / 1000, tau_i=10., W_i=0.7, J_N=0.15, J_i=1., I_o=0.382, I_ext=0., lamda=0.)


def deco_rhs(S_e, S_i, u_e=0., u_i=0., p=DECO):
    """Deco et al. (2014) Eqs. 1-6 with the long-range input G J_N sum C S_e = J_N u_e."""
    I_e = p['W_e'] * p['I_o'] + p['w_p'] * p['J_N'] * S_e - p['J_i'] * S_i + p['I_ext'] + p['J_N'] * u_e
    I_i = p['W_i'] * p['I_o'] + p['J_N'] * S_e - S_i + p['lamda'] * p['J_N'] * u_e + p['J_N'] * u_i
    r_e = H_np(I_e, p['a_e'], p['b_e'], p['d_e'])
    r_i = H_np(I_i, p['a_i'], p['b_i'], p['d_i'])
    return (-S_e / p['tau_e'] + (1 - S_e) * p['gamma_e'] * r_e, -S_i / p['tau_i'] + p['gamma_i'] * r_i, r_e, r_i)


# ------------------------------------------------------------ 1. right-hand side
def test_transfer_function_matches_formula_and_is_smooth_at_threshold():
    x = np.linspace(-1., 2., 301)
    x = x[np.abs(270 * x - 108) > 1e-2]
    np.testing.assert_allclose(np.asarray(transfer_function(jnp.asarray(x), 270., 108., 0.154)),
                               H_np(x, 270., 108., 0.154), rtol=1e-5, atol=2e-4)
    at = float(transfer_function(jnp.asarray(0.4), 270., 108., 0.154))
    assert at == pytest.approx(1 / 0.154, rel=1e-5)
    for x0 in (0.4, 0.40001, -50., 50.):
        g = float(jax.grad(lambda v: transfer_function(v, 270., 108., 0.154))(jnp.asarray(x0)))
        assert np.isfinite(g) and g >= 0
    assert float(transfer_function(jnp.asarray(-50.), 270., 108., 0.154)) == pytest.approx(0., abs=1e-6)


def test_wong_wang_rhs_matches_paper_equations():
    rng = np.random.default_rng(0)
    S1, S2 = rng.uniform(0, 1, 5), rng.uniform(0, 1, 5)
    I1, I2 = rng.normal(0, 0.05, 5), rng.normal(0, 0.05, 5)
    node = WongWangStep(5)
    with brainstate.environ.context(dt=0.1 * u.ms):
        brainstate.nn.init_all_states(node)
        d = node.derivative({'S1': jnp.asarray(S1), 'S2': jnp.asarray(S2)}, 0. * u.ms, I1, I2)
    dS1, dS2, r1, r2 = ww_rhs(S1, S2, I1, I2)
    np.testing.assert_allclose(per_ms(d['S1']), dS1, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(per_ms(d['S2']), dS2, rtol=1e-4, atol=1e-8)
    # rates and the stimulus currents J_A,ext mu_0 (1 +- c/100)
    rr1, rr2 = node.rates(jnp.asarray(S1), jnp.asarray(S2), I1, I2)
    np.testing.assert_allclose(np.asarray(rr1), r1, rtol=1e-4, atol=2e-4)
    s1, s2 = node.stimulus(51.2)
    assert float(s1) == pytest.approx(2.243e-4 * 30 * 1.512, rel=1e-6)
    assert float(s2) == pytest.approx(2.243e-4 * 30 * 0.488, rel=1e-6)


def test_wong_wang_units_are_converted():
    node = WongWangStep(1, a=0.27 * u.Hz / u.pA, b=0.108 * u.kHz, d=154. * u.ms, I_0=325.5 * u.pA)
    assert float(node.a.value().to_decimal(u.Hz / u.nA)) == pytest.approx(270.)
    assert float(node.b.value().to_decimal(u.Hz)) == pytest.approx(108.)
    assert float(node.d.value().to_decimal(u.second)) == pytest.approx(0.154)
    assert float(node.I_0.value().to_decimal(u.nA)) == pytest.approx(0.3255)
    with pytest.raises(ValueError, match='I_0'):
        WongWangStep(1, I_0=1. * u.mV)


def test_deco_rhs_matches_paper_equations():
    rng = np.random.default_rng(1)
    S_e, S_i = rng.uniform(0, 1, 4), rng.uniform(0, 1, 4)
    u_e, u_i = rng.normal(0, 0.2, 4), rng.normal(0, 0.2, 4)
    p = dict(DECO, lamda=0.3, I_ext=0.05, J_i=1.3)
    node = WongWangExcInhStep(4, lamda=0.3, I_ext=0.05, J_i=1.3)
    with brainstate.environ.context(dt=0.1 * u.ms):
        brainstate.nn.init_all_states(node)
        d = node.derivative({'S_e': jnp.asarray(S_e), 'S_i': jnp.asarray(S_i)}, 0. * u.ms, u_e, u_i)
    dS_e, dS_i, _, _ = deco_rhs(S_e, S_i, u_e, u_i, p)
    np.testing.assert_allclose(per_ms(d['S_e']), dS_e, rtol=1e-4, atol=1e-8)
    np.testing.assert_allclose(per_ms(d['S_i']), dS_i, rtol=1e-4, atol=1e-8)


# ------------------------------------------------------ 2. dynamical signatures
def _ww_decision_time(coherence, threshold=15.):
    def event(t, S):
        _, _, r1, r2 = ww_rhs(S[0], S[1], *_stim(coherence))
        return max(r1, r2) - threshold
    event.terminal = True
    sol = solve_ivp(lambda t, S: ww_rhs(S[0], S[1], *_stim(coherence))[:2], [0, 5000], [0.1, 0.1],
                    rtol=1e-9, atol=1e-12, events=event)
    return float(sol.t_events[0][0])


def _stim(c):
    drive = WW['JA'] * WW['mu0']
    return drive * (1 + c / 100), drive * (1 - c / 100)


def test_wong_wang_decides_faster_at_higher_coherence():
    coherence = jnp.asarray([6.4, -6.4, 51.2, -51.2])  # one circuit per condition, one run
    node = WongWangStep(4)
    brainmass.Simulator(node, dt=0.1 * u.ms).run(2600 * u.ms, inputs=lambda i, t: coherence)
    choice, when = node.get_decision()
    assert choice.tolist() == [1, 2, 1, 2]  # the favoured population wins
    t = mag(when)
    assert t[0] == pytest.approx(t[1], rel=1e-5) and t[2] == pytest.approx(t[3], rel=1e-5)  # symmetry
    assert t[2] < 0.5 * t[0]  # 51.2 % decides much faster than 6.4 %
    assert t[0] == pytest.approx(_ww_decision_time(6.4), abs=2.)  # vs scipy (2471 ms)
    assert t[2] == pytest.approx(_ww_decision_time(51.2), abs=2.)  # (832 ms)
    # the first crossing is tracked with the model threshold; another threshold reads the rates now
    choice, when = node.get_decision(threshold=60 * u.Hz)
    assert choice.tolist() == [0, 0, 0, 0] and np.isnan(mag(when)).all()


def test_wong_wang_spontaneous_state_without_stimulus():
    node = WongWangStep(1)
    res = brainmass.Simulator(node, dt=0.5 * u.ms).run(1500 * u.ms, inputs=lambda i, t: None, monitors=['S1', 'r1'])
    sol = solve_ivp(lambda t, S: ww_rhs(S[0], S[1])[:2], [0, 1500], [0.1, 0.1], rtol=1e-9, atol=1e-12)
    assert mag(res['S1'])[-1, 0] == pytest.approx(sol.y[0, -1], abs=1e-4)
    assert 1. < mag(res['r1'])[-1, 0] < 3.  # low spontaneous rate, no decision
    assert node.get_decision()[0].tolist() == [0]


def test_deco_isolated_node_rests_near_3_hz():
    node = WongWangExcInhStep(1)
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(3000 * u.ms, monitors=['S_e', 'S_i'])
    sol = solve_ivp(lambda t, S: deco_rhs(S[0], S[1])[:2], [0, 3000], [0.001, 0.001], method='LSODA',
                    rtol=1e-10, atol=1e-12)
    S_e, S_i = mag(res['S_e'])[-1, 0], mag(res['S_i'])[-1, 0]
    assert S_e == pytest.approx(sol.y[0, -1], abs=2e-4)
    assert S_i == pytest.approx(sol.y[1, -1], abs=2e-4)
    assert 0.15 < S_e < 0.2
    r_e, r_i = node.firing_rates()
    assert 2.5 < float(mag(r_e)[0]) < 3.5
    assert float(mag(r_e)[0]) == pytest.approx(deco_rhs(sol.y[0, -1], sol.y[1, -1])[2], rel=1e-3)


def test_fic_tuning_clamps_excitatory_rate_in_a_network():
    brainstate.environ.set(dt=0.1 * u.ms)
    rng = np.random.default_rng(3)
    C = rng.uniform(0., 1., (3, 3))
    np.fill_diagonal(C, 0.)
    G = 1.5
    # isolated: the node alone (J_i = 1 gives ~3.08 Hz) needs slightly more inhibition
    J_0 = fic_tuning(WongWangExcInhStep(3))
    np.testing.assert_allclose(mag(J_0), 1.0107, atol=2e-3)
    node = WongWangExcInhStep(3, J_i=J_0)
    brainmass.Simulator(node, dt=0.1 * u.ms).run(2000 * u.ms)
    np.testing.assert_allclose(mag(node.firing_rates()[0]), 3.0, atol=1e-3)
    # in a network: stronger input needs stronger inhibition, and the tuned point is a fixed point
    J_i, S_e, S_i = fic_tuning(WongWangExcInhStep(3), C, G=G, return_state=True)
    assert np.all(np.argsort(mag(J_i)) == np.argsort(C.sum(1)))
    p = dict(DECO, J_i=mag(J_i))
    dS_e, dS_i, r_e, _ = deco_rhs(S_e, S_i, u_e=G * C @ S_e, p=p)
    np.testing.assert_allclose(r_e, 3.0, rtol=1e-4)
    np.testing.assert_allclose(dS_e, 0., atol=1e-7)
    np.testing.assert_allclose(dS_i, 0., atol=1e-6)
    node = WongWangExcInhStep(3, J_i=J_i, init_S_e=S_e, init_S_i=S_i)
    net = brainmass.Network(node, conn=C, coupled_var='S_e', coupling='additive', k=G)
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(1000 * u.ms, monitors={'S_e': 'node.S_e'})
    S_end = mag(res['S_e'])[-1]
    r_e, _ = node.firing_rates(S_e_inp=G * C @ S_end)
    np.testing.assert_allclose(mag(r_e), 3.0, atol=0.01)


# ------------------------------------------- 3. integrators and gradients
@pytest.mark.parametrize('cls', [WongWangStep, WongWangExcInhStep])
def test_every_integrator_runs_finite(cls):
    for method in distinct_methods():
        node = cls(2, method=method)
        res = brainmass.Simulator(node, dt=0.1 * u.ms).run(100 * u.ms)
        out = res['output']
        for leaf in (out if isinstance(out, tuple) else (out,)):
            assert np.all(np.isfinite(mag(leaf))), method


@pytest.mark.parametrize('cls, kwargs', [
    (WongWangStep, dict(J_N11=brainstate.nn.Param(0.2609, fit=True))),
    (WongWangExcInhStep, dict(J_i=brainstate.nn.Param(1.0, fit=True))),
])
def test_gradient_wrt_trainable_parameter(cls, kwargs):
    node = cls(2, **kwargs)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    params = node.states(brainstate.ParamState)
    assert len(params) == 1

    def loss():
        out = sim.run(5 * u.ms)['output']
        out = out[0] if isinstance(out, tuple) else out
        return jnp.mean(u.get_magnitude(out))

    grads = brainstate.transform.grad(loss, grad_states=params)()
    g = np.asarray(list(grads.values())[0])
    assert np.all(np.isfinite(g)) and np.any(g != 0)


# ------------------------------------------------------ 4. noise and networks
def test_noise_on_state_variables():
    node = WongWangExcInhStep(2, noise_S_e=brainmass.OUProcess(2, sigma=0.01))
    res = brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, monitors=['S_e'])
    S_e = mag(res['S_e'])
    assert np.all(np.isfinite(S_e)) and not np.allclose(S_e[:, 0], S_e[:, 1])
    node = WongWangExcInhStep(2, noise_E=brainmass.GaussianNoise(2, sigma=0.01))  # alias
    assert node.noise_S_e is node.noise_E
    with pytest.raises(ValueError, match='unit'):
        WongWangExcInhStep(2, noise_S_e=brainmass.OUProcess(2, sigma=0.01 * u.nA))


def test_batched_noisy_decisions():
    # the paper's AMPA noise current: OU with tau = 2 ms, sigma = 0.02 nA (plain numbers are nA)
    sigma = 0.02 / np.sqrt(2)  # stationary std of the paper's OU current (sigma_noise = 0.02 nA)
    node = WongWangStep(1, noise_S1=brainmass.OUProcess(1, sigma=sigma, tau=2 * u.ms),
                        noise_S2=brainmass.OUProcess(1, sigma=sigma, tau=2 * u.ms))
    brainstate.random.seed(1)
    brainmass.Simulator(node, dt=1. * u.ms).run(1500 * u.ms, inputs=51.2, batch_size=8)
    choice, when = node.get_decision()
    assert choice.shape == (8, 1)
    assert (np.asarray(choice) == 1).mean() >= 0.75  # mostly correct at 51.2 %
    assert np.nanmax(mag(when)) < 1500.


def test_current_inputs_accept_quantities():
    node = WongWangStep(1)
    with brainstate.environ.context(dt=0.1 * u.ms):
        brainstate.nn.init_all_states(node)
        state = {'S1': jnp.asarray([0.2]), 'S2': jnp.asarray([0.1])}
        a = node.derivative(state, 0. * u.ms, 20. * u.pA)
        b = node.derivative(state, 0. * u.ms, 0.02)
    assert per_ms(a['S1']) == pytest.approx(per_ms(b['S1']), rel=1e-6)


@pytest.mark.parametrize('cls, var', [(WongWangExcInhStep, 'S_e'), (WongWangStep, 'S1')])
def test_runs_in_a_network(cls, var):
    brainstate.environ.set(dt=0.1 * u.ms)
    conn = np.random.default_rng(0).uniform(0, 1, (3, 3))
    net = brainmass.Network(cls(3), conn=conn, coupled_var=var, k=0.5, coupling='additive')
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(20 * u.ms, monitors={var: f'node.{var}'})
    assert mag(res[var]).shape == (200, 3)
    assert np.all(np.isfinite(mag(res[var])))


def test_wong_wang_theta_is_the_threshold_current():
    assert float(WongWangStep(1, theta=0.4 * u.nA).b.value().to_decimal(u.Hz)) == pytest.approx(108.0)  # the paper's b
    assert float(WongWangStep(1, theta=0.31).b.value().to_decimal(u.Hz)) == pytest.approx(270 * 0.31)    # plain numbers: nA
    with pytest.raises(ValueError, match='either `b` or `theta`'):
        WongWangStep(1, b=100 * u.Hz, theta=0.31 * u.nA)
    with pytest.raises(ValueError, match='`theta` must be a current'):
        WongWangStep(1, theta=0.31 * u.mV)


def test_theta_0_31_na_rests_above_the_decision_threshold():
    """Why the default keeps the paper's b = 108 Hz (docs/models_reference.md): with
    theta = 0.31 nA the unstimulated circuit sits at ~49 Hz, above the 15 Hz threshold."""
    node = WongWangStep(1, theta=0.31 * u.nA)
    res = brainmass.Simulator(node, dt=0.5 * u.ms).run(1500 * u.ms, inputs=lambda i, t: None, monitors=['r1'])
    assert 40. < mag(res['r1'])[-1, 0] < 60.
