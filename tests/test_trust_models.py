"""Issue 18 (models part): declared Network input routing, Jansen-Rit's published input order,
noise state and batch-size invariance, tuple in_size, one-array outputs."""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest
from _helpers import jax_flag, mag, precision

import brainmass
from brainmass import JansenRitStep, JansenRitTR, MontbrioPazoRoxinStep, StepModel

DT = 0.1 * u.ms


# ------------------------------------------------------------------ 1. declared routing
def test_routing_is_declared_on_the_class():
    assert MontbrioPazoRoxinStep.coupling_keyword() == 'v_inp'
    assert MontbrioPazoRoxinStep.input_keywords() == ('r_inp', 'v_inp')  # update(r_inp, v_inp) keeps its order
    assert JansenRitStep.coupling_keyword() == 'E_inp'
    assert JansenRitStep.input_keywords() == ('M_inp', 'E_inp', 'I_inp')
    assert brainmass.HopfStep.coupling_keyword() == 'x_inp'  # default: the first input


def test_a_routing_to_no_input_is_an_error_at_class_definition():
    with pytest.raises(TypeError, match=r"coupling_input 'z' is not an input of its update \(x_inp\)"):
        class _Bad(StepModel):
            state_vars = ('x',)
            coupling_input = 'z'

            def dx(self, x, inp):
                return (-x + inp) / u.ms


@pytest.mark.parametrize('bits', [32, 64])
@pytest.mark.parametrize('tau', [1., 2.])
def test_montbrio_network_current_drives_v_as_in_tvb(bits, tau):
    """Region 0 receives c = 100 Hz (additive, from r_1); it enters tau dv/dt as c * 1 ms (TVB's
    cr * Coupling_r), not r; the run's input drives r."""
    with precision(bits):
        init = dict(init_r=jnp.array([0., 100.]) * u.Hz, init_v=jnp.array([-1., -2.]), tau=tau * u.ms,
                    method='euler')
        net = brainmass.Network(MontbrioPazoRoxinStep(2, **init), conn=np.array([[0., 1.], [0., 0.]]),
                                coupling='additive', coupled_var='r', k=1.)
        got = brainmass.Simulator(net, dt=DT).run(DT, inputs=3. * u.Hz, monitors=['node.r', 'node.v'])
        solo = brainmass.Simulator(MontbrioPazoRoxinStep(2, **init), dt=DT).run(
            DT, inputs=(3. * u.Hz, jnp.array([[0.1, 0.]])), monitors=['r', 'v'])
        np.testing.assert_allclose(mag(got['node.r'].to_decimal(u.Hz)), mag(solo['r'].to_decimal(u.Hz)),
                                   rtol=1e-6)
        np.testing.assert_allclose(mag(got['node.v']), mag(solo['v']), rtol=1e-6)
        # the coupling moved v by dt * 0.1 / tau, and left r alone
        uncoupled = brainmass.Simulator(MontbrioPazoRoxinStep(2, **init), dt=DT).run(
            DT, inputs=(3. * u.Hz,), monitors=['v'])
        assert float(mag(got['node.v'])[0, 0] - mag(uncoupled['v'])[0, 0]) == pytest.approx(0.1 * 0.1 / tau,
                                                                                            rel=1e-4)


def test_a_network_rejects_more_external_inputs_than_the_node_has_left():
    net = brainmass.Network(MontbrioPazoRoxinStep(2), conn=np.ones((2, 2)), coupled_var='r')
    with pytest.raises(TypeError, match=r'v_inp \(the declared coupling_input\) is the coupling current, so `inputs` may give at most 1'):
        brainmass.Simulator(net, dt=DT).run(DT, inputs=(1. * u.Hz, 0.5))
    with pytest.raises(TypeError, match=r'at most 1 external inputs \(r_inp: its coupling current is v_inp\)'):
        net.node.network_inputs(0., (1. * u.Hz, 0.5))


# ------------------------------------------------------------------ 2. Jansen-Rit order
def _one_step(model, *inputs, **named):
    with brainstate.environ.context(dt=getattr(model, 'tr', DT), t=0. * u.ms):
        brainstate.nn.init_all_states(model)
        model.update(*inputs, **named)
    return np.stack([mag(model.Mv.value.to_decimal(u.mV / u.second)), mag(model.Ev.value.to_decimal(u.mV / u.second))])


@pytest.mark.parametrize('cls', [JansenRitStep, JansenRitTR])
def test_jansen_rit_update_takes_the_published_order(cls):
    kw = dict(p=200 * u.Hz, init_E=20. * u.mV, init_I=15. * u.mV, init_M=0.1 * u.mV)
    m = 50. * u.Hz
    as_E = _one_step(cls(2, **kw), E_inp=m)
    np.testing.assert_array_equal(_one_step(cls(2, **kw), None, m), as_E)  # (M_inp, E_inp, I_inp)
    np.testing.assert_array_equal(_one_step(cls(2, **kw), m), _one_step(cls(2, **kw), M_inp=m))
    assert not np.allclose(_one_step(cls(2, **kw), m), as_E)


def test_jansen_rit_network_current_enters_as_E_inp_and_inputs_fill_M_inp():
    kw = dict(p=200 * u.Hz, init_E=jnp.array([20., 5.]) * u.mV, init_I=15. * u.mV)
    net = brainmass.Network(JansenRitStep(2, **kw), conn=np.array([[0., 1.], [1., 0.]]),
                            coupling='sigmoidal_jansen_rit', coupled_var='E - I', k=10.)
    solo = JansenRitStep(2, **kw)
    with brainstate.environ.context(dt=DT, t=0. * u.ms):
        brainstate.nn.init_all_states(net)
        brainstate.nn.init_all_states(solo)
        current = net.coupling_current()
        got = net.update(30. * u.Hz)
        want = solo.update(M_inp=30. * u.Hz, E_inp=current)
    np.testing.assert_allclose(mag(got.to_decimal(u.mV)), mag(want.to_decimal(u.mV)), rtol=1e-6)
    np.testing.assert_allclose(mag(net.node.Mv.value.to_decimal(u.mV / u.second)),
                               mag(solo.Mv.value.to_decimal(u.mV / u.second)), rtol=1e-6)


# ------------------------------------------------------------------ 3. noise state x
NOISES = [brainmass.OUProcess, brainmass.GaussianNoise, brainmass.BrownianNoise, brainmass.PinkNoise]


@pytest.mark.parametrize('cls', NOISES, ids=lambda c: c.__name__)
@pytest.mark.parametrize('batch', [None, 2])
def test_noise_state_x_in_the_driven_unit(cls, batch):
    noise = cls((3,), sigma=0.2 * u.mV)
    noise.init_state(batch)
    assert isinstance(noise.x, brainstate.HiddenState)
    assert u.math.shape(noise.x.value) == ((3,) if batch is None else (batch, 3))
    assert u.get_unit(noise.x.value).has_same_dim(u.mV)
    with brainstate.environ.context(dt=DT):
        out = noise.update()
    np.testing.assert_array_equal(mag(noise.x.value.to_decimal(u.mV)), mag(out.to_decimal(u.mV)))


def test_ou_x_carries_the_process_between_steps():
    ou = brainmass.OUProcess(4, sigma=0.1, tau=1e6 * u.ms)  # a very slow process: eta barely moves
    ou.init_state()
    start = mag(ou.x.value)
    with brainstate.environ.context(dt=DT):
        ou.update()
    np.testing.assert_allclose(mag(ou.x.value), start, atol=1e-3)


# ------------------------------------------------------------------ 4. batch-size invariance
def _seeded_run(batch_size, noise_cls):
    brainstate.random.seed(7)
    node = brainmass.LinearStep(3, gamma=-0.1, noise_x=noise_cls(3, sigma=0.3))
    return mag(brainmass.Simulator(node, dt=DT).run(2 * u.ms, batch_size=batch_size)['output'])


@pytest.mark.parametrize('partitionable', [False, True])
@pytest.mark.parametrize('cls', [brainmass.OUProcess, brainmass.GaussianNoise, brainmass.PinkNoise],
                         ids=lambda c: c.__name__)
def test_batch_members_do_not_depend_on_batch_size(partitionable, cls):
    with jax_flag('jax_threefry_partitionable', partitionable):
        two, four = _seeded_run(2, cls), _seeded_run(4, cls)
        np.testing.assert_array_equal(four[:, :2], two)
        assert not np.allclose(four[:, 0], four[:, 1])  # members are independent
        np.testing.assert_array_equal(_seeded_run(None, cls), _seeded_run(None, cls))


# ------------------------------------------------------------------ 5. tuple in_size
@pytest.mark.parametrize('build', [
    lambda: brainmass.HopfStep((3,), noise_x=brainmass.OUProcess((3,), sigma=0.01)),
    lambda: MontbrioPazoRoxinStep((3,), noise_v=brainmass.GaussianNoise((3,), sigma=0.01)),
    lambda: JansenRitStep((3,), p=200 * u.Hz),
    lambda: JansenRitTR((3,), p=200 * u.Hz, conn=np.ones((3, 3)), tr=0.2 * u.ms),
    lambda: brainmass.KuramotoNetwork((3,), omega=0.1, K=1., conn=np.ones((3, 3))),
], ids=['hopf', 'montbrio', 'jansen_rit', 'jansen_rit_tr', 'kuramoto'])
def test_tuple_in_size_equals_int_in_size(build):
    model = build()
    assert tuple(model.varshape) == (3,)
    dt = getattr(model, 'tr', DT)
    out = brainmass.Simulator(model, dt=dt).run(5 * dt)['output']
    assert u.math.shape(out) == (5, 3)


# ------------------------------------------------------------------ 6. one-array output
@pytest.mark.parametrize('cls', [brainmass.HopfStep, brainmass.StuartLandauStep, brainmass.VanDerPolStep],
                         ids=lambda c: c.__name__)
def test_oscillators_output_is_one_array_x(cls):
    node = cls(2, init_x=0.2)
    res = brainmass.Simulator(node, dt=DT).run(1 * u.ms, monitors=None)
    assert not isinstance(res['output'], tuple)
    assert u.math.shape(res['output']) == (10, 2)
    again = brainmass.Simulator(cls(2, init_x=0.2), dt=DT).run(1 * u.ms, monitors=['x', 'y'])
    np.testing.assert_array_equal(mag(res['output']), mag(again['x']))
    with brainstate.environ.context(dt=DT):
        out = node.update()
    assert not isinstance(out, tuple)


def test_an_undeclared_update_of_its_own_gets_its_signature_as_the_routing():
    class _Probe(StepModel):
        state_vars = ('c',)

        def dc(self, inp):
            return inp / u.ms

        def update(self, drive=0., extra=0.):
            return super().update(drive + extra)

    assert _Probe.input_keywords() == ('drive', 'extra') and _Probe.coupling_keyword() == 'drive'
    assert _Probe.stage_inputs is False
    net = brainmass.Network(_Probe(2), conn=np.array([[0., 1.], [0., 0.]]), coupling='additive', coupled_var='c',
                            k=1.)
    with brainstate.environ.context(dt=DT, t=0. * u.ms):
        brainstate.nn.init_all_states(net)
        net.node.c.value = jnp.array([0., 2.])
        net.update(0.5)  # current [2, 0] as drive, 0.5 as extra
    np.testing.assert_allclose(mag(net.node.c.value), [0.1 * 2.5, 2. + 0.1 * 0.5], rtol=1e-6)
