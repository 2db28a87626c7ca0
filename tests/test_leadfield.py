"""Lead-field forward models: linearity, units, noise, referencing, errors, gradients."""
import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainmass.observation import (EEGLeadFieldModel, LeadFieldModel, LeadfieldReadout,
                                   MEGLeadFieldModel, build_fixed_orientation_weights,
                                   compress_vertex_leadfield)

NAM = u.nA * u.meter


def _L(n_regions=4, n_sensors=3, seed=0):
    return jnp.asarray(np.random.default_rng(seed).normal(size=(n_regions, n_sensors)), jnp.float32)


def test_linear_in_its_input():
    model = LeadFieldModel(4, 3, _L())
    rng = np.random.default_rng(1)
    a, b = (jnp.asarray(rng.normal(size=(5, 4)), jnp.float32) for _ in range(2))
    ya, yb = model(a), model(b)
    yab = model(2. * a - 3. * b)
    np.testing.assert_allclose(u.get_magnitude(yab), u.get_magnitude(2. * ya - 3. * yb),
                               rtol=1e-5, atol=1e-5)
    assert model(a).shape == (5, 3) and u.get_unit(ya) == u.mV


def test_unit_correct_10_nAm_through_1_V_per_nAm_reads_10_V():
    L = jnp.ones((1, 1)) * u.volt / NAM
    for sensor_unit in (u.mV, u.volt, u.uvolt):
        y = LeadFieldModel(1, 1, L, sensor_unit=sensor_unit)(jnp.array([10.]) * NAM)
        assert u.get_unit(y) == sensor_unit
        assert float(u.get_magnitude(y.to(u.volt))[0]) == pytest.approx(10., rel=1e-6)
    # dipoles in other units are converted; plain numbers read as nA*m
    y = LeadFieldModel(1, 1, L)(jnp.array([1e-8]) * u.amp * u.meter)
    assert float(u.get_magnitude(y.to(u.volt))[0]) == pytest.approx(10., rel=1e-5)
    y = LeadFieldModel(1, 1, L)(jnp.array([10.]))
    assert float(u.get_magnitude(y.to(u.volt))[0]) == pytest.approx(10., rel=1e-6)
    # a plain L is read as sensor_unit / dipole_unit
    y = LeadFieldModel(1, 1, jnp.ones((1, 1)), sensor_unit=u.mV)(jnp.array([10.]))
    assert float(u.get_magnitude(y.to(u.mV))[0]) == pytest.approx(10., rel=1e-6)
    # MEG in fT
    meg = MEGLeadFieldModel(1, 1, jnp.ones((1, 1)) * u.ftesla / NAM, sensor_unit=u.ftesla)
    assert float(u.get_magnitude(meg(jnp.array([10.]) * NAM).to(u.ftesla))[0]) == pytest.approx(10.)


def test_scale_multiplies_the_output():
    y1 = LeadFieldModel(4, 3, _L())(jnp.ones(4))
    y2 = LeadFieldModel(4, 3, _L(), scale=2.5)(jnp.ones(4))
    np.testing.assert_allclose(u.get_magnitude(y2), 2.5 * u.get_magnitude(y1), rtol=1e-6)


def test_noise_has_the_requested_covariance():
    brainstate.random.seed(0)
    A = np.array([[1., 0., 0.], [0.5, 1., 0.], [-0.3, 0.2, 0.8]])
    cov = A @ A.T
    model = EEGLeadFieldModel(4, 3, jnp.zeros((4, 3)), noise_cov=cov * u.mV ** 2)
    y = np.asarray(u.get_magnitude(model(jnp.zeros((20_000, 4)))))
    emp = np.cov(y.T)
    assert np.max(np.abs(emp - cov)) < 0.05 * np.max(np.abs(cov))
    assert np.max(np.abs(y.mean(0))) < 0.05
    # a covariance given in V^2 is converted to the sensor unit
    model_v = EEGLeadFieldModel(4, 3, jnp.zeros((4, 3)), noise_cov=cov * 1e-6 * u.volt ** 2)
    np.testing.assert_allclose(np.asarray(model_v.noise_chol), np.asarray(model.noise_chol), rtol=1e-5)


def test_average_reference_sums_to_zero():
    brainstate.random.seed(1)
    eeg = EEGLeadFieldModel(4, 5, _L(4, 5), reference='average', noise_cov=np.eye(5) * 0.1)
    y = np.asarray(u.get_magnitude(eeg(jnp.asarray(np.random.default_rng(2).normal(size=(50, 4))))))
    np.testing.assert_allclose(y.sum(-1), 0., atol=1e-5)
    raw = np.asarray(u.get_magnitude(EEGLeadFieldModel(4, 5, _L(4, 5))(jnp.ones(4))))
    assert abs(raw.sum()) > 1e-3


def test_bad_inputs_raise_named_errors():
    with pytest.raises(ValueError, match=r'\(4, 3\).*\(3, 4\)'):
        LeadFieldModel(4, 3, _L(3, 4))
    with pytest.raises(ValueError, match='n_regions = 4'):
        LeadFieldModel(4, 3, _L())(jnp.ones(5))
    with pytest.raises(ValueError, match='n_regions'):
        LeadFieldModel(4, 3, _L())(jnp.float32(1.))
    with pytest.raises(ValueError, match='voltage'):
        EEGLeadFieldModel(4, 3, _L(), sensor_unit=u.tesla)
    with pytest.raises(ValueError, match='magnetic flux density'):
        MEGLeadFieldModel(4, 3, _L(), sensor_unit=u.mV)
    with pytest.raises(ValueError, match='`L` has unit'):
        EEGLeadFieldModel(4, 3, _L() * u.tesla / NAM)
    with pytest.raises(ValueError, match='`L` has unit'):
        LeadFieldModel(4, 3, _L() * u.mV)
    with pytest.raises(ValueError, match='dipole'):
        LeadFieldModel(4, 3, _L())(jnp.ones(4) * u.mV)
    with pytest.raises(ValueError, match='noise_cov'):
        LeadFieldModel(4, 3, _L(), noise_cov=np.eye(4))
    with pytest.raises(ValueError, match='positive semi-definite'):
        LeadFieldModel(4, 3, _L(), noise_cov=-np.eye(3))
    with pytest.raises(ValueError, match='symmetric'):
        LeadFieldModel(4, 3, _L(), noise_cov=np.triu(np.ones((3, 3))))
    with pytest.raises(ValueError, match='noise_cov'):
        LeadFieldModel(4, 3, _L(), noise_cov=np.eye(3) * u.volt)
    with pytest.raises(ValueError, match='reference'):
        EEGLeadFieldModel(4, 3, _L(), reference='linked-mastoids')
    with pytest.raises(ValueError, match='in_size'):
        LeadFieldModel(0, 3, _L())
    with pytest.raises(ValueError, match='sensor_unit'):
        LeadFieldModel(4, 3, _L(), sensor_unit='mV')


def test_singular_noise_covariance_is_accepted():
    brainstate.random.seed(3)
    cov = np.ones((3, 3))                              # rank 1: identical noise on all sensors
    y = np.asarray(u.get_magnitude(LeadFieldModel(2, 3, jnp.zeros((2, 3)), noise_cov=cov)(jnp.zeros((4000, 2)))))
    np.testing.assert_allclose(y[:, 0], y[:, 1], atol=1e-5)
    assert abs(np.var(y[:, 0]) - 1.) < 0.1


# ------------------------------------------------------------------ helpers
def test_compress_vertex_leadfield():
    L = jnp.asarray(np.arange(12.).reshape(4, 3), jnp.float32)
    labels = np.array([0, 1, 0, -1])
    mean = np.asarray(compress_vertex_leadfield(L, labels, n_regions=3))
    np.testing.assert_allclose(mean[0], (np.arange(3) + np.arange(6, 9)) / 2)
    np.testing.assert_allclose(mean[1], np.arange(3, 6))
    np.testing.assert_allclose(mean[2], 0.)                     # empty region
    total = np.asarray(compress_vertex_leadfield(L, labels, reduce='sum', weights=np.array([1., 1., 3., 1.])))
    np.testing.assert_allclose(total[0], np.arange(3) + 3 * np.arange(6, 9))
    weighted = np.asarray(compress_vertex_leadfield(L, labels, weights=np.array([1., 1., 3., 1.])))
    np.testing.assert_allclose(weighted[0], (np.arange(3) + 3 * np.arange(6, 9)) / 4, rtol=1e-6)
    L3 = jnp.ones((4, 3, 3)) * u.volt / NAM
    out = compress_vertex_leadfield(L3, labels)
    assert out.shape == (2, 3, 3) and u.get_unit(out) == u.get_unit(L3)
    with pytest.raises(ValueError, match='reduce'):
        compress_vertex_leadfield(L, labels, reduce='max')
    with pytest.raises(ValueError, match='vertex_to_region'):
        compress_vertex_leadfield(L, labels[:3])
    with pytest.raises(ValueError, match='n_regions'):
        compress_vertex_leadfield(L, labels, n_regions=1)


def test_build_fixed_orientation_weights():
    rng = np.random.default_rng(4)
    L3 = rng.normal(size=(5, 2, 3))
    normals = rng.normal(size=(5, 3))
    out = np.asarray(build_fixed_orientation_weights(normals, L3))
    unit_n = normals / np.linalg.norm(normals, axis=1, keepdims=True)
    np.testing.assert_allclose(out, np.einsum('vsk,vk->vs', L3, unit_n), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='zero-length'):
        build_fixed_orientation_weights(np.zeros((5, 3)), L3)
    with pytest.raises(ValueError, match='normals'):
        build_fixed_orientation_weights(normals[:, :2], L3)
    with pytest.raises(ValueError, match='L_vertex_3d'):
        build_fixed_orientation_weights(normals, L3[..., 0])


# ------------------------------------------------------------------ read-out
def test_leadfield_readout_formula_and_plain_floats():
    lm = [[1., 2.], [3., 4.], [0., -1.]]
    ro = LeadfieldReadout(lm, y0=2., cy0=0.5)
    x = np.array([0.3, -1., 2.])
    lm_n = np.asarray(lm) / np.linalg.norm(lm, axis=0, keepdims=True)
    ref = 2. * lm_n.T @ (x - x.mean()) + 0.5
    np.testing.assert_allclose(np.asarray(ro(jnp.asarray(x))), ref, rtol=1e-5)
    raw = LeadfieldReadout(np.asarray(lm), y0=1., cy0=0., normalize=False, demean=False)
    np.testing.assert_allclose(np.asarray(raw(jnp.asarray(x))), np.asarray(lm).T @ x, rtol=1e-5)
    batch = ro(jnp.asarray(np.stack([x, 2 * x])))
    assert batch.shape == (2, 2)
    assert len(ro.states(brainstate.ParamState)) == 2           # y0, cy0 trainable
    given = brainstate.nn.Param(jnp.asarray(3.))
    assert LeadfieldReadout(lm, y0=given, cy0=0.).y0 is given
    with pytest.raises(ValueError, match='n_regions = 3'):
        ro(jnp.ones(2))
    with pytest.raises(ValueError, match='lm'):
        LeadfieldReadout([1., 2.], 1., 0.)


# ----------------------------------------------------------------- gradients
def test_gradient_of_eeg_loss_matches_finite_differences():
    eeg = EEGLeadFieldModel(4, 3, _L() * u.mV / NAM, reference='average')
    target = jnp.asarray(np.random.default_rng(5).normal(size=(3,)), jnp.float32)
    base = jnp.asarray([1., -0.5, 2., 0.3], jnp.float32)

    def loss(theta):
        y = u.get_magnitude(eeg(base * theta * NAM).to(u.mV))
        return jnp.sum((y - target) ** 2)

    g = float(jax.grad(loss)(0.9))
    eps = 1e-2
    fd = (float(loss(0.9 + eps)) - float(loss(0.9 - eps))) / (2 * eps)
    assert abs(g - fd) < 1e-2 * abs(fd)


def test_gradient_of_readout_wrt_gain_matches_finite_differences():
    lm = np.random.default_rng(6).normal(size=(4, 3))
    x = jnp.asarray([1., -0.5, 2., 0.3], jnp.float32)
    target = jnp.asarray([0.2, -0.1, 0.4], jnp.float32)
    ro = LeadfieldReadout(lm, y0=1.5, cy0=0.1)
    params = ro.states(brainstate.ParamState)
    grads = brainstate.transform.grad(lambda: jnp.sum((ro(x) - target) ** 2), grad_states=params)()
    g_y0 = float(grads[('y0', 'val')])

    def loss(y0):
        return float(jnp.sum((LeadfieldReadout(lm, y0=y0, cy0=0.1)(x) - target) ** 2))

    fd = (loss(1.51) - loss(1.49)) / 0.02
    assert abs(g_y0 - fd) < 1e-2 * abs(fd)


def test_bad_scale_and_input_name_the_argument():
    with pytest.raises(TypeError, match='`scale` of LeadFieldModel must be a number'):
        LeadFieldModel(4, 3, _L(), scale='2')
    with pytest.raises(ValueError, match='`scale` of LeadFieldModel must be finite'):
        LeadFieldModel(4, 3, _L(), scale=float('nan'))
    with pytest.raises(TypeError, match='`x` must be an array of dipole moments'):
        LeadFieldModel(4, 3, _L())('a')
