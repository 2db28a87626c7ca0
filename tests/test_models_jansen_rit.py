"""Jansen-Rit column and the TR-stepped Jansen-Rit network."""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import brainmass
from brainmass.models.jansen_rit import JansenRitStep, JansenRitTR

from _helpers import distinct_methods, mag

DT = 0.1 * u.ms
MV_PER_MS = u.mV / u.ms


# ---------------------------------- numpy transcription of Jansen & Rit (1995), time in ms
A, B, a, b, C = 3.25, 22., 0.1, 0.05, 135.  # mV, mV, 1/ms, 1/ms
C1, C2, C3, C4 = C, 0.8 * C, 0.25 * C, 0.25 * C


def sigm(v):
    return 0.005 / (1. + np.exp(0.56 * (6. - v)))  # 1/ms (5 Hz max)


def jr_rhs(y, p=0.22, mM=0., mE=0., mI=0.):
    """(y0, y1, y2, y3, y4, y5) = (M, E, I, Mv, Ev, Iv), potentials in mV, velocities in mV/ms."""
    y0, y1, y2, y3, y4, y5 = y
    return np.array([y3, y4, y5,
                     A * a * (sigm(y1 - y2) + mM) - 2 * a * y3 - a * a * y0,
                     A * a * (p + mE + C2 * sigm(C1 * y0)) - 2 * a * y4 - a * a * y1,
                     B * b * (C4 * sigm(C3 * y0) + mI) - 2 * b * y5 - b * b * y2])


ON_CYCLE = [0.1, 20., 15., 0., 0., 0.]  # lies in the basin of the alpha limit cycle at p = 220 Hz
NAMES = ('M', 'E', 'I', 'Mv', 'Ev', 'Iv')


def as_state(y):
    """Numpy (6, N) in mV and mV/ms -> the model's state dict (mV, mV/s)."""
    out = {}
    for k, name in enumerate(NAMES):
        out[name] = jnp.asarray(y[k]) * (u.mV if k < 3 else MV_PER_MS)
    return out


def test_rhs_matches_numpy_transcription():
    rng = np.random.default_rng(0)
    n = 6
    y = np.stack([rng.uniform(-0.1, 0.3, n), rng.uniform(0, 30, n), rng.uniform(0, 25, n),
                  rng.normal(0, 1, n), rng.normal(0, 2, n), rng.normal(0, 1, n)])
    rates = rng.uniform(0, 0.3, (3, n))  # 1/ms
    node = JansenRitStep(n, p=220 * u.Hz)
    with brainstate.environ.context(dt=DT):
        brainstate.nn.init_all_states(node)
        got = node.derivative(as_state(y), 0. * u.ms, Ev_inp=A * rates[1] * u.mV / u.ms,
                              Mv_inp=A * rates[0] * u.mV / u.ms, Iv_inp=B * rates[2] * u.mV / u.ms)
    expect = jr_rhs(y, 0.22, *rates)
    for k, name in enumerate(NAMES):
        unit = MV_PER_MS if k < 3 else u.mV / u.ms ** 2
        np.testing.assert_allclose(np.asarray(got[name].to_decimal(unit)), expect[k], rtol=1e-5, atol=1e-7,
                                   err_msg=name)


def test_update_takes_rates_in_hz_or_per_ms():
    """update(M_inp, E_inp, I_inp): afferent rates; one Euler step equals the numpy step."""
    y = np.array(ON_CYCLE)[:, None] * np.ones((6, 2))
    init = {f'init_{n}': v for n, v in as_state(y).items()}
    node = JansenRitStep(2, p=200 * u.Hz, method='euler', **init)
    with brainstate.environ.context(dt=DT, t=0. * u.ms):
        brainstate.nn.init_all_states(node)
        out = node.update(0.01, 30 * u.Hz, jnp.array([0., 2.]) * u.Hz)  # M_inp (per ms), E_inp, I_inp
    step = y + 0.1 * jr_rhs(y, 0.2, 0.01, 0.03, np.array([0., 0.002]))
    np.testing.assert_allclose(mag(node.E.value), step[1], rtol=1e-5)
    np.testing.assert_allclose(np.asarray(node.Mv.value.to_decimal(MV_PER_MS)), step[3], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(np.asarray(out.to_decimal(u.mV)), step[1] - step[2], rtol=1e-5)
    assert u.get_unit(out) == u.mV


# ------------------------------------------------------------------------- alpha rhythm
def peak_frequency(x, dt_ms, band=(2., 40.)):
    x = x - x.mean(axis=0)
    spec = (np.abs(np.fft.rfft(x * np.hanning(len(x))[:, None], axis=0)) ** 2).mean(axis=1)
    f = np.fft.rfftfreq(len(x), dt_ms * 1e-3)
    keep = (f > band[0]) & (f < band[1])
    return f[keep][np.argmax(spec[keep])]


def test_limit_cycle_at_220hz_is_alpha_and_matches_solve_ivp():
    ref = solve_ivp(lambda t, y: jr_rhs(y, 0.22), (0, 1500), np.zeros(6), t_eval=np.arange(1, 15001) * 0.1,
                    rtol=1e-9, atol=1e-11)
    v_ref = ref.y[1] - ref.y[2]
    node = JansenRitStep(1, p=220 * u.Hz, method='rk4')  # from the default (zero) state
    v = np.asarray(brainmass.Simulator(node, dt=DT).run(1500 * u.ms)['output'].to_decimal(u.mV))[:, 0]
    np.testing.assert_allclose(v[:1000], v_ref[:1000], atol=2e-3)  # first 100 ms: same trajectory
    f_ref = peak_frequency(v_ref[5000:, None], 0.1)
    f_model = peak_frequency(v[5000:, None], 0.1)
    assert 8. <= f_ref <= 12. and f_model == pytest.approx(f_ref, abs=0.5)
    assert np.ptp(v[5000:]) > 2.  # a sustained oscillation of a few mV
    assert v[5000:].min() == pytest.approx(v_ref[5000:].min(), abs=0.05)
    assert v[5000:].max() == pytest.approx(v_ref[5000:].max(), abs=0.05)


def test_noise_driven_column_peaks_in_alpha_band():
    """Jansen & Rit's drive: p = 220 Hz plus white noise (per-step s.d. ~ 60 Hz, as U(120, 320) Hz)."""
    n = 4
    sigma_p = 60. * np.sqrt(0.1)  # Hz sqrt(ms): GaussianNoise returns sigma * xi * sqrt(ms / dt)
    noise = brainmass.GaussianNoise(n, sigma=3.25 * u.mV * sigma_p * u.Hz)
    node = JansenRitStep(n, p=220 * u.Hz, noise_Ev=noise)
    res = brainmass.Simulator(node, dt=DT).run(4500 * u.ms, transient=500 * u.ms)
    v = np.asarray(res['output'].to_decimal(u.mV))
    assert np.all(np.isfinite(v))
    assert 8. <= peak_frequency(v, 0.1) <= 12.


# ------------------------------------------------------------------------- JansenRitTR
def test_tr_model_equals_fine_model_sampled_every_tr():
    init = {f'init_{k}': v for k, v in as_state(np.array(ON_CYCLE)[:, None] * np.ones((6, 3))).items()}
    drive = jnp.array([0., 20., 40.]) * u.Hz
    fine = brainmass.Simulator(JansenRitStep(3, p=200 * u.Hz, **init), dt=DT).run(
        100 * u.ms, inputs=lambda i, t: (None, drive), sample_every=10)  # E_inp
    tr_model = JansenRitTR(3, p=200 * u.Hz, tr=1. * u.ms, dt=0.1 * u.ms, **init)
    coarse = brainmass.Simulator(tr_model, dt=tr_model.tr).run(100 * u.ms, inputs=lambda i, t: (None, drive))
    assert coarse['output'].shape == (100, 3)
    np.testing.assert_allclose(mag(coarse['output']), mag(fine['output']), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mag(coarse['ts'].to(u.ms)), mag(fine['ts'].to(u.ms)))


def test_tr_network_coupling_equals_explicit_coupling_at_fine_dt():
    n, k = 3, 10.
    W = np.random.default_rng(1).uniform(0, 1, (n, n))
    np.fill_diagonal(W, 0.)
    init = {f'init_{q}': v for q, v in as_state(np.array(ON_CYCLE)[:, None] * np.linspace(0.8, 1.2, n)).items()}
    node = JansenRitStep(n, p=180 * u.Hz, **init)

    def coupling(i, t):  # k sum_j W_ij S(E_j - I_j) in 1/ms, read from the node's current state
        v = node.E.value.to_decimal(u.mV) - node.I.value.to_decimal(u.mV)
        return k * ((0.005 / (1. + jnp.exp(0.56 * (6. - v)))) @ jnp.asarray(W).T)

    fine = brainmass.Simulator(node, dt=DT).run(60 * u.ms, inputs=lambda i, t: (None, coupling(i, t)),
                                                sample_every=5)  # E_inp
    tr_model = JansenRitTR(n, p=180 * u.Hz, conn=W, k=k, tr=0.5 * u.ms, dt=0.1 * u.ms, **init)
    coarse = brainmass.Simulator(tr_model, dt=tr_model.tr).run(60 * u.ms)
    np.testing.assert_allclose(mag(coarse['output']), mag(fine['output']), rtol=1e-5, atol=1e-5)
    uncoupled = brainmass.Simulator(JansenRitTR(n, p=180 * u.Hz, tr=0.5 * u.ms, **init), dt=0.5 * u.ms).run(60 * u.ms)
    assert np.max(np.abs(mag(coarse['output']) - mag(uncoupled["output"]))) > 0.5


def test_tr_model_checks_its_steps():
    with pytest.raises(ValueError, match='whole multiple'):
        JansenRitTR(2, tr=1. * u.ms, dt=0.3 * u.ms)
    with pytest.raises(ValueError, match=r'\(2, 2\)'):
        JansenRitTR(2, conn=np.ones((3, 3)))
    model = JansenRitTR(2, tr=1. * u.ms)
    with pytest.raises(ValueError, match='dt=model.tr'):
        brainmass.Simulator(model, dt=0.1 * u.ms).run(1 * u.ms)


# ------------------------------------------------ integrators, gradient, noise, network


def test_every_integrator_runs_finite():
    for method in distinct_methods():
        node = JansenRitStep(2, p=220 * u.Hz, method=method)
        v = mag(brainmass.Simulator(node, dt=DT).run(100 * u.ms)['output'])
        assert v.shape == (1000, 2) and np.all(np.isfinite(v)), method


def test_every_integrator_runs_finite_tr_model():
    for method in distinct_methods():
        model = JansenRitTR(2, p=220 * u.Hz, tr=0.2 * u.ms, dt=0.1 * u.ms, method=method)
        v = mag(brainmass.Simulator(model, dt=model.tr).run(100 * u.ms)['output'])
        assert v.shape == (500, 2) and np.all(np.isfinite(v)), method


@pytest.mark.parametrize('cls', [JansenRitStep, JansenRitTR])
def test_gradient_wrt_trainable_parameter(cls):
    kw = dict(tr=0.5 * u.ms) if cls is JansenRitTR else {}
    node = cls(2, p=brainstate.nn.Param(0.22, fit=True), method='heun', **kw)
    sim = brainmass.Simulator(node, dt=0.5 * u.ms if cls is JansenRitTR else DT)
    params = node.states(brainstate.ParamState)

    def loss():
        return jnp.mean(u.get_magnitude(sim.run(20 * u.ms)['output'].to(u.mV)))

    grads = brainstate.transform.grad(loss, grad_states=params)()
    g = np.asarray(list(grads.values())[0])
    assert np.all(np.isfinite(g)) and np.any(g != 0)


def test_gradient_wrt_tr_network_coupling():
    W = np.ones((3, 3)) - np.eye(3)
    model = JansenRitTR(3, p=200 * u.Hz, conn=W, k=brainstate.nn.Param(1.0, fit=True), tr=0.5 * u.ms,
                        method='heun', init_E=np.array([10., 20., 30.]) * u.mV)
    sim = brainmass.Simulator(model, dt=model.tr)
    params = model.states(brainstate.ParamState)
    grads = brainstate.transform.grad(lambda: jnp.mean(u.get_magnitude(sim.run(20 * u.ms)['output'])),
                                      grad_states=params)()
    g = np.asarray(list(grads.values())[0])
    assert np.all(np.isfinite(g)) and np.any(g != 0)


def test_noise_and_network():
    brainstate.environ.set(dt=DT)
    n = 3
    noise = brainmass.OUProcess(n, sigma=3.25 * u.mV * 20 * u.Hz)  # 20 Hz of rate noise on p
    node = JansenRitStep(n, p=220 * u.Hz, noise_Ev=noise)
    conn = np.random.default_rng(2).uniform(0, 1, (n, n))
    net = brainmass.Network(node, conn=conn, coupling='sigmoidal_jansen_rit', coupled_var='E', k=10.)
    res = brainmass.Simulator(net, dt=DT).run(100 * u.ms, monitors={'E': 'node.E', 'I': 'node.I'})
    v = mag(res['E']) - mag(res['I'])
    assert v.shape == (1000, n) and np.all(np.isfinite(v))
    assert np.std(v[-1]) > 1e-3  # identical columns, independent noise
    alone = brainmass.Simulator(JansenRitStep(n, p=220 * u.Hz), dt=DT).run(100 * u.ms, monitors=['E'])
    assert np.mean(mag(res['E'])[-1]) > np.mean(mag(alone['E'])[-1]) + 0.5  # coupling excites like p


def test_noise_unit_is_checked():
    with pytest.raises(ValueError, match='mV / s'):
        JansenRitStep(2, noise_Ev=brainmass.GaussianNoise(2, sigma=1. * u.Hz))


def test_inputs_must_be_rates():
    node = JansenRitStep(2)
    with brainstate.environ.context(dt=DT):
        brainstate.nn.init_all_states(node)
        with pytest.raises(ValueError, match='firing rates'):
            node.update(1. * u.mV)


def test_network_couples_the_pyramidal_potential_e_minus_i():
    # two columns, no delays, TVB's coupling of Jansen-Rit networks: the sigmoid of the source's
    # pyramidal potential y1 - y2, summed over sources, enters each column like the drive p
    W = np.array([[0., 0.8], [0.5, 0.]])
    k = 2.0

    def rhs(t, y):
        y = y.reshape(6, 2)
        coupling = k * W @ sigm(y[1] - y[2])
        return jr_rhs(y, 0.22, mE=coupling).ravel()

    y0 = np.zeros((6, 2))
    y0[1] = [20., 5.]
    y0[2] = [15., 3.]
    ref = solve_ivp(rhs, (0, 100), y0.ravel(), t_eval=np.arange(1, 1001) * 0.1, rtol=1e-9, atol=1e-11)
    v_ref = (ref.y.reshape(6, 2, -1)[1] - ref.y.reshape(6, 2, -1)[2]).T
    brainstate.environ.set(dt=DT)
    for coupled_var in ('E - I', 'y1 - y2'):
        node = JansenRitStep(2, p=220 * u.Hz, method='rk4', init_E=y0[1] * u.mV, init_I=y0[2] * u.mV)
        net = brainmass.Network(node, conn=W, coupling='sigmoidal_jansen_rit', coupled_var=coupled_var, k=k)
        v = brainmass.Simulator(net, dt=DT).run(100 * u.ms)['output'].to_decimal(u.mV)
        np.testing.assert_allclose(np.asarray(v), v_ref, atol=2e-3)
    # the bare alias couples y1 alone
    net = brainmass.Network(JansenRitStep(2), conn=W, coupling='sigmoidal_jansen_rit', coupled_var='y1')
    assert net._coupled_terms == ((1, 'E'),)
    with pytest.raises(ValueError, match="'Q' .*in 'E - Q'.*M, E, I, Mv, Ev, Iv"):
        brainmass.Network(JansenRitStep(2), conn=W, coupled_var='E - Q')
    with pytest.raises(ValueError, match="joined by"):
        brainmass.Network(JansenRitStep(2), conn=W, coupled_var='E -')
