"""Heterogeneous networks (brainmass.MixedNode): different node models for different regions, one connectome.

Checked against independent references: the homogeneous Network when every group is the same model,
scipy's solve_ivp of the hand-written coupled ODEs (with the integrator's order of convergence), a numpy
Euler loop with a delay buffer, separate unbatched runs, and finite differences.
"""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import precision
from scipy.integrate import solve_ivp

import brainmass

N = 5
THAL, CTX = [0, 3], [1, 2, 4]  # non-contiguous on purpose
X0, Y0 = np.array([0.4, -0.3]), np.array([0.1, 0.2])
E0, I0 = np.array([0.2, 0.1, 0.3]), np.array([0.1, 0.05, 0.])
A, OMEGA, K, GAIN = 0.2, 0.5, 0.8, 2.0
W = np.random.default_rng(1).uniform(0, 1, (N, N)) / N
np.fill_diagonal(W, 0.)
MONITORS = ['node.thalamus.x', 'node.thalamus.y', 'node.cortex.rE', 'node.cortex.rI']


@pytest.fixture(params=[32, 64], ids=['float32', 'float64'])
def bits(request):
    with precision(request.param):
        yield request.param


def _mixed(method='exp_euler', gain=GAIN, **net):
    node = brainmass.MixedNode(
        {'thalamus': (THAL, brainmass.HopfStep(2, a=A, w=OMEGA, init_x=X0, init_y=Y0, method=method), 'x'),
         'cortex': (CTX, brainmass.WilsonCowanStep(3, init_rE=E0, init_rI=I0, method=method), 'rE')},
        gain=None if gain is None else {'cortex': gain})
    return brainmass.Network(node, conn=W, coupled_var='coupled', **{'k': K, **net})


def _traces(net, dt, duration, **run):
    res = brainmass.Simulator(net, dt=dt * u.ms).run(duration * u.ms, monitors=MONITORS, **run)
    return np.concatenate([np.asarray(res[m]) for m in MONITORS], axis=-1), np.asarray(res['ts'].to_decimal(u.ms))


def _F(x, a, theta):
    return 1. / (1. + np.exp(-a * (x - theta))) - 1. / (1. + np.exp(a * theta))


def _rhs(state, current):
    """The hand-written Hopf (thalamus) + Wilson-Cowan (cortex, default parameters) right-hand side."""
    x, y, e, i = state[:2], state[2:4], state[4:7], state[7:]
    g = A - (x ** 2 + y ** 2)
    return np.concatenate([g * x - OMEGA * y + current[THAL], g * y + OMEGA * x,
                           -e + (1 - e) * _F(12 * e - 4 * i + GAIN * current[CTX], 1.2, 2.8),
                           -i + (1 - i) * _F(13 * e - 11 * i, 1.0, 4.0)])


def _coupled(state):
    c = np.empty(N)
    c[THAL], c[CTX] = state[:2], state[4:7]
    return c


def _reference(ts):
    def f(t, s):
        c = _coupled(s)
        return _rhs(s, K * (W @ c - c * W.sum(1)))
    sol = solve_ivp(f, (0., ts[-1]), np.concatenate([X0, Y0, E0, I0]), method='DOP853', rtol=1e-12, atol=1e-12,
                    t_eval=ts)
    return sol.y.T


# ------------------------------------------------------------------ (a) identical groups = homogeneous network
class _HopfOwnUpdate(brainmass.HopfStep):
    """A Hopf model with an update of its own that still takes its inputs as functions of the stage state."""
    stage_inputs = True

    def update(self, x_inp=None, y_inp=None):
        self.integrate(x_inp=x_inp, y_inp=y_inp)
        return self.output()


def _hopf_pair(mixed, method, delays, own_update=False, **run):
    """Six Hopf regions, as one HopfStep or as two MixedNode groups of the same model (interleaved); with
    ``own_update`` group b steps on its own (its update is not the standard one)."""
    rng = np.random.default_rng(0)
    w = rng.uniform(0, 1, (6, 6)) / 6
    d = rng.uniform(0.3, 1.5, (6, 6))
    x0, y0 = rng.uniform(-.5, .5, 6), rng.uniform(-.5, .5, 6)
    a, b = [0, 2, 4], [1, 3, 5]
    if mixed:
        node = brainmass.MixedNode({
            'a': (a, brainmass.HopfStep(3, a=0.2, w=0.3, init_x=x0[a], init_y=y0[a], method=method), 'x'),
            'b': (b, (_HopfOwnUpdate if own_update else brainmass.HopfStep)(
                3, a=0.2, w=0.3, init_x=x0[b], init_y=y0[b], method=method), 'x')})
        assert node._joint == (('a',) if own_update else ('a', 'b'))
    else:
        node = brainmass.HopfStep(6, a=0.2, w=0.3, init_x=x0, init_y=y0, method=method)
    delay = dict(distance=(d + d.T) / 2, speed=1.) if delays else {}
    net = brainmass.Network(node, conn=w, coupled_var='coupled' if mixed else 'x', k=0.5, **delay)
    mon = {'x': 'node.coupled', 'ya': 'node.a.y'} if mixed else {'x': 'node.x', 'y': 'node.y'}
    res = brainmass.Simulator(net, dt=0.1 * u.ms).run(10 * u.ms, monitors=mon, **run)
    return {k: np.asarray(v) for k, v in res.items() if k != 'ts'}


def test_identical_groups_equal_the_homogeneous_network():
    """Instantaneous coupling, rk4: every stage sees every group's stage values (delays and exp_euler: below)."""
    homo, mixed = _hopf_pair(False, 'rk4', False), _hopf_pair(True, 'rk4', False)
    np.testing.assert_allclose(mixed['x'], homo['x'], rtol=0, atol=1e-6)
    np.testing.assert_allclose(mixed['ya'], homo['y'][:, [0, 2, 4]], rtol=0, atol=1e-6)


# ------------------------------------------------------------------ (b) Hopf + Wilson-Cowan vs solve_ivp
def test_hopf_wilson_cowan_rk4_matches_solve_ivp_with_fourth_order_convergence(bits):
    got, ts = _traces(_mixed('rk4'), 0.05, 10.)
    err = np.abs(got - _reference(ts)).max()
    assert got.dtype == (np.float64 if bits == 64 else np.float32)
    assert err < 1e-6  # rk4 at dt = 0.05 ms: ~2.5e-7 truncation error (float32 rounding is below it)
    if bits == 64:  # halving dt divides the error by ~2**4: the cross-group coupling follows the stages
        fine, ts_fine = _traces(_mixed('rk4'), 0.025, 10.)
        ratio = err / np.abs(fine - _reference(ts_fine)).max()
        assert 12. < ratio < 20.


def test_hopf_wilson_cowan_exp_euler_converges_at_first_order():
    errors = []
    for dt in (0.01, 0.005):
        got, ts = _traces(_mixed(), dt, 10.)
        errors.append(np.abs(got - _reference(ts)).max())
    assert errors[0] < 5e-3
    assert 1.8 < errors[0] / errors[1] < 2.2


# ------------------------------------------------------------------ (c) delays vs a numpy Euler loop
def _euler_with_delays(steps, dt, n_steps):
    """Euler steps of the coupled ODEs; edge (i, j) reads the coupled value of region j `steps[i, j]` steps ago
    (the initial value before t = 0, the Network's default history)."""
    state = np.concatenate([X0, Y0, E0, I0])
    history = [_coupled(state)]
    out = []
    for n in range(n_steps):
        c = history[-1]
        delayed = np.array([[history[max(n - steps[i, j], 0)][j] for j in range(N)] for i in range(N)])
        current = K * ((W * delayed).sum(1) - c * W.sum(1))
        state = state + dt * _rhs(state, current)
        history.append(_coupled(state))
        out.append(state)
    return np.array(out)


@pytest.mark.parametrize('shortest', [1, 3], ids=['one-step', 'lookahead'])
def test_delayed_mixed_network_matches_a_numpy_euler_loop(shortest):
    steps = np.random.default_rng(2).integers(shortest, 8, (N, N))
    steps = np.triu(steps, 1) + np.triu(steps, 1).T
    dt = 0.1
    with precision(64):
        net = _mixed('euler', distance=steps * dt, speed=1.)
        assert net.lookahead == shortest
        got, _ = _traces(net, dt, 6.)
    np.testing.assert_allclose(got, _euler_with_delays(steps, dt, 60), rtol=0, atol=1e-10)


def test_value_input_groups_step_on_their_own_as_in_a_homogeneous_network():
    """Jansen-Rit takes its inputs as values (its own update): two JR groups = one JR network, with delays."""
    rng = np.random.default_rng(3)
    w, d = rng.uniform(0, 1, (3, 3)), rng.uniform(1., 3., (3, 3))
    e0 = rng.uniform(0., 5., 3) * u.mV

    def jr(n, init):
        return brainmass.JansenRitStep(n, p=220 * u.Hz, init_E=init, method='euler')
    mixed = brainmass.MixedNode({'left': ([0, 2], jr(2, e0[::2])), 'right': ([1], jr(1, e0[1:2]))})
    runs = []
    for node, var in ((mixed, 'coupled'), (jr(3, e0), 'E - I')):
        net = brainmass.Network(node, conn=w, distance=(d + d.T) / 2, speed=1., coupled_var=var,
                                coupling='sigmoidal_jansen_rit', k=50.)
        runs.append(np.asarray(brainmass.Simulator(net, dt=0.1 * u.ms).run(3 * u.ms)['output'].to_decimal(u.mV)))
    np.testing.assert_allclose(runs[0], runs[1], rtol=0, atol=1e-4)


# ------------------------------------------------------------------ (d) bad input
def _hopf(n=2, **kw):
    return brainmass.HopfStep(n, **kw)


@pytest.mark.parametrize('groups, error, match', [
    ({'a': ([0, 1], _hopf(), 'x'), 'b': ([1, 2], _hopf(), 'x')}, ValueError, r"region 1 is in both 'a' and 'b'"),
    ({'a': ([0, 1], _hopf(), 'x'), 'b': ([3, 4], _hopf(), 'x')}, ValueError, r'must cover the regions 0 \.\. 3'),
    ({'a': ([0, 0], _hopf(), 'x')}, ValueError, r"`groups\['a'\]`: region 0 is listed twice"),
    ({'a': ([0, 1, 2], _hopf(), 'x')}, ValueError, r"`groups\['a'\]`: its HopfStep has in_size .* 3 regions"),
    ({'a': ([0, 1], _hopf(), 'v')}, ValueError, r"`groups\['a'\]`: `coupled_var` 'v' is not a state of HopfStep"),
    ({'a': ([0, 1], _hopf(), 'w')}, ValueError, r"`groups\['a'\]`: `coupled_var` 'w' is a parameter"),
    ({'a': ([0, 1], _hopf())}, TypeError, r"`groups\['a'\]`: name the coupled variable"),
    ({'a': ([0., 1.], _hopf(), 'x')}, TypeError, r"`groups\['a'\]`: the indices must be integers"),
    ({'a': ([0, -1], _hopf(), 'x')}, ValueError, r'must be >= 0'),
    ({'a': ([0, 1], 'HopfStep', 'x')}, TypeError, r"`groups\['a'\]`: the node must be a brainmass \*Step model"),
    ({'a': ([0, 1],)}, TypeError, r"`groups\['a'\]` must be a tuple"),
    ({}, TypeError, r'`groups` must be a non-empty dict'),
    ({'update': ([0, 1], _hopf(), 'x')}, ValueError, r"group name 'update' is taken"),
    ({'my group': ([0, 1], _hopf(), 'x')}, ValueError, r"group name 'my group' must be a Python identifier"),
    ({'a': ([0, 1], _hopf(method='rk4'), 'x'), 'b': ([2], _hopf(1), 'x')}, ValueError,
     r"must use one integration method; got 'a': 'rk4', 'b': 'exp_euler'"),
    ({'a': ([0], _hopf(1), 'x'), 'b': ([1], brainmass.MontbrioPazoRoxinStep(1), 'r')}, ValueError,
     r"coupled variables carry different units: 'a' couples 'x', dimensionless .*'b' couples 'r', in Hz.*`scale`"),
])
def test_bad_groups_are_refused_naming_the_argument(groups, error, match):
    with pytest.raises(error, match=match):
        brainmass.MixedNode(groups)


def test_one_model_instance_in_two_groups_is_refused():
    node = _hopf()
    with pytest.raises(ValueError, match=r"`groups\['b'\]`: its node is also the node of group 'a'"):
        brainmass.MixedNode({'a': ([0, 1], node, 'x'), 'b': ([2, 3], node, 'x')})


@pytest.mark.parametrize('kw, error, match', [
    (dict(gain={'c': 1.}), ValueError, r"`gain` names 'c', which is not a group"),
    (dict(gain={'a': 2 * u.mV}), ValueError, r"`gain\['a'\]` must be dimensionless"),
    (dict(gain={'a': [1., 2., 3.]}), ValueError, r"`gain\['a'\]` has shape \(3,\)"),
    (dict(gain={'a': 'x'}), TypeError, r"`gain\['a'\]` must be a number"),
    (dict(gain={'a': np.nan}), ValueError, r"`gain\['a'\]` must be finite"),
    (dict(gain=[1.]), TypeError, r'`gain` must be a dict'),
    (dict(scale={'b': [1., 2., 3.]}), ValueError, r"`scale\['b'\]` has shape"),
])
def test_bad_gain_and_scale_are_refused_naming_the_argument(kw, error, match):
    with pytest.raises(error, match=match):
        brainmass.MixedNode({'a': ([0, 1], _hopf(), 'x'), 'b': ([2, 3], _hopf(), 'x')}, **kw)


def test_units_of_the_coupled_variables_are_converted_only_when_asked():
    node = brainmass.MixedNode({'hopf': ([0], _hopf(1, init_x=0.3), 'x'),
                                'mpr': ([1], brainmass.MontbrioPazoRoxinStep(1, init_r=40 * u.Hz), 'r')},
                               scale={'mpr': 1 * u.ms})
    net = brainmass.Network(node, conn=np.ones((2, 2)), coupled_var='coupled', k=0.1)
    brainstate.nn.init_all_states(net)
    np.testing.assert_allclose(np.asarray(net.node.coupled.value), [0.3, 0.04], rtol=1e-6)  # 40 Hz * 1 ms
    assert node.unit_of('coupled') == u.UNITLESS
    mv = brainmass.MixedNode({'a': ([0], brainmass.JansenRitStep(1)), 'b': ([1], brainmass.JansenRitStep(1))})
    assert mv.unit_of('coupled') == u.mV  # both 'E - I' in mV: no conversion needed


def test_network_and_run_errors_name_the_argument():
    node = brainmass.MixedNode({'a': ([0, 1], _hopf(), 'x'), 'b': ([2], _hopf(1), 'x')})
    with pytest.raises(ValueError, match=r"`coupled_var` 'x' is not a state of MixedNode; its states are: coupled"):
        brainmass.Network(node, conn=np.ones((3, 3)), coupled_var='x')
    with pytest.raises(ValueError, match=r'`k` is in mV'):
        brainmass.Network(node, conn=np.ones((3, 3)), coupled_var='coupled', k=2 * u.mV)
    net = brainmass.Network(node, conn=np.ones((3, 3)), coupled_var='coupled')
    sim = brainmass.Simulator(net, dt=0.1 * u.ms)
    with pytest.raises(TypeError, match=r'takes no positional inputs'):
        sim.run(1 * u.ms, inputs=1.0)
    with pytest.raises(ValueError, match=r"`target` 'a.v' is not an input of MixedNode; its inputs are coupling, a.x_inp"):
        sim.run(1 * u.ms, inputs=brainmass.stimulus.Step(0., 1., 1.).to('a.v'))


# ------------------------------------------------------------------ stimuli and monitors
def _stimulated(mixed):
    """The Hopf pair driven by a weighted step at the coupled input and a step on y of group a's regions."""
    weights = np.linspace(0.5, 1.5, 6)
    on_a = np.array([1., 0., 1., 0., 1., 0.])
    s1 = brainmass.stimulus.Step(1., 0.3, 3., weights=weights)
    s2 = brainmass.stimulus.Step(2., -0.2, 4., weights=on_a).to('a.y' if mixed else 'y')
    return _hopf_pair(mixed, 'exp_euler', True, own_update=True, inputs=lambda i, t: (s1(i, t), s2(i, t)))


def test_identical_groups_with_delays_and_stimuli_equal_the_homogeneous_network():
    """exp_euler, delays (the stage-dependent part of the current is local, so a group stepping on its own is
    exact too); stimuli at the coupled input and at a group's variable ('a.y' = 'y' on a's regions)."""
    homo, mixed = _stimulated(False), _stimulated(True)
    np.testing.assert_allclose(mixed['x'], homo['x'], rtol=0, atol=1e-6)
    np.testing.assert_allclose(mixed['ya'], homo['y'][:, [0, 2, 4]], rtol=0, atol=1e-6)


# ------------------------------------------------------------------ (e) batch_size, noise per group
def test_batch_with_a_k_sweep_equals_separate_runs():
    delays = dict(distance=(np.full((N, N), 3) - 3 * np.eye(N)) * 0.1, speed=1.)
    net = _mixed(k=brainstate.nn.Param(0.3, fit=True), **delays)  # a trainable k: a new value needs no new program
    one = []
    for k in (0.3, 1.2):
        net.k.set_value(k)
        one.append(_traces(net, 0.1, 3.)[0])
    both, _ = _traces(_mixed(k=np.array([[0.3], [1.2]]), **delays), 0.1, 3., batch_size=2)
    assert both.shape == (30, 2, 10)
    np.testing.assert_allclose(both[:, 0], one[0], rtol=0, atol=1e-6)
    np.testing.assert_allclose(both[:, 1], one[1], rtol=0, atol=1e-6)


def test_noise_per_group_is_seeded_and_independent_per_batch_member():
    node = brainmass.MixedNode({
        'a': ([0, 1], _hopf(noise_x=brainmass.OUProcess(2, sigma=0.05, tau=1. * u.ms)), 'x'),
        'b': ([2], brainmass.WilsonCowanStep(1), 'rE')})
    sim = brainmass.Simulator(brainmass.Network(node, conn=np.ones((3, 3)), coupled_var='coupled', k=0.2),
                              dt=0.1 * u.ms)
    runs = []
    for _ in range(2):
        brainstate.random.seed(7)
        runs.append(np.asarray(sim.run(2 * u.ms, monitors=['node.coupled'], batch_size=2)['node.coupled']))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert np.abs(runs[0][:, 0, :2] - runs[0][:, 1, :2]).max() > 1e-4  # members draw their own noise
    assert np.all(np.isfinite(runs[0]))


# ------------------------------------------------------------------ (f) gradient wrt k
@pytest.mark.parametrize('delays', [False, True], ids=['instantaneous', 'delayed'])
def test_float64_gradient_wrt_k_matches_finite_differences(delays):
    with precision(64):
        extra = dict(distance=np.full((N, N), 0.3), speed=1.) if delays else {}  # lookahead: blocked reads
        net = _mixed('euler', k=brainstate.nn.Param(K, fit=True), **extra)
        assert net.lookahead == (3 if delays else 1)
        sim = brainmass.Simulator(net, dt=0.1 * u.ms)

        def loss():
            return jnp.mean(u.get_magnitude(sim.run(3 * u.ms, monitors=['node.coupled'])['node.coupled']) ** 2)

        (grad,) = brainstate.transform.grad(loss, grad_states=net.states(brainstate.ParamState))().values()
        h = 1e-6
        net.k.set_value(K + h)
        up = float(loss())
        net.k.set_value(K - h)
        down = float(loss())
    assert abs(float(grad)) > 1e-6
    np.testing.assert_allclose(float(grad), (up - down) / (2 * h), rtol=1e-6)


def test_accessors_and_repr():
    node = brainmass.MixedNode({'thalamus': (THAL, _hopf(), 'x'), 'cortex': (CTX, brainmass.WilsonCowanStep(3), 'rE')})
    assert node.group_names == ('thalamus', 'cortex')
    assert node.group('cortex') is node.cortex
    np.testing.assert_array_equal(node.indices['cortex'], CTX)
    assert repr(node) == ("MixedNode(thalamus: HopfStep x 2 (x), cortex: WilsonCowanStep x 3 (rE); in_size=(5,), "
                          "method='exp_euler')")
    with pytest.raises(KeyError, match="'hopf' is not a group"):
        node.group('hopf')
