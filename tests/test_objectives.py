"""Tests for brainmass.objectives against numpy/scipy references."""
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from brainmass import objectives as obj
from brainmass.analysis.connectivity import fc_core

TOL = dict(rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- references

def ref_fc_vec(x):
    fc = np.corrcoef(np.asarray(x, dtype=float).T)
    return fc[np.triu_indices(fc.shape[0], k=1)]


def ref_fcd_values(x, w, s):
    x = np.asarray(x, dtype=float)
    starts = range(0, x.shape[0] - w + 1, s)
    vecs = np.array([ref_fc_vec(x[k:k + w]) for k in starts])
    fcd = np.corrcoef(vecs)
    return fcd[np.triu_indices(fcd.shape[0], k=1)]


def series(seed, t=120, n=5):
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(n, n))
    return (rng.normal(size=(t, n)) @ mix).astype(np.float32)


@pytest.fixture
def xy():
    return series(0), series(1)


# ---------------------------------------------------------------- values

def test_timeseries_rmse_matches_numpy(xy):
    x, y = xy
    ref = np.sqrt(np.mean((x.astype(float) - y) ** 2))
    np.testing.assert_allclose(obj.timeseries_rmse()(x, y), ref, **TOL)


def test_timeseries_rmse_units():
    x = jnp.array([1.0, 2.0, 3.0]) * u.mV
    y = jnp.array([1.0, 2.0, 5.0]) * u.mV
    r = obj.timeseries_rmse()(x, y)
    assert u.get_unit(r) == u.mV
    np.testing.assert_allclose(u.get_magnitude(r), np.sqrt(4 / 3), rtol=1e-6)
    # target in volts is converted to the prediction's unit
    r2 = obj.timeseries_rmse()(x, y.to_decimal(u.volt) * u.volt)
    np.testing.assert_allclose(u.get_magnitude(r2.to_decimal(u.mV)), np.sqrt(4 / 3), rtol=1e-4)


def test_fc_corr_and_rmse_match_numpy(xy):
    x, y = xy
    a, b = ref_fc_vec(x), ref_fc_vec(y)
    np.testing.assert_allclose(obj.fc_corr()(x, y), np.corrcoef(a, b)[0, 1], **TOL)
    np.testing.assert_allclose(obj.fc_corr(as_loss=True)(x, y), 1 - np.corrcoef(a, b)[0, 1], **TOL)
    np.testing.assert_allclose(obj.fc_rmse()(x, y), np.sqrt(np.mean((a - b) ** 2)), **TOL)


def test_fc_corr_strips_units_and_allows_different_T(xy):
    x, y = xy
    ref = np.corrcoef(ref_fc_vec(x), ref_fc_vec(y[:90]))[0, 1]
    np.testing.assert_allclose(obj.fc_corr()(x * u.mV, y[:90] * u.volt), ref, **TOL)


def test_cosine_sim_matches_numpy(xy):
    x, y = xy
    xf, yf = x.ravel().astype(float), y.ravel().astype(float)
    ref = xf @ yf / np.linalg.norm(xf) / np.linalg.norm(yf)
    np.testing.assert_allclose(obj.cosine_sim()(x, y), ref, **TOL)
    np.testing.assert_allclose(obj.cosine_sim(as_loss=True)(x, y), 1 - ref, **TOL)


def test_fcd_distribution_matches_numpy(xy):
    x, _ = xy
    got = obj.fcd_distribution(x, window_size=20, step_size=7)
    np.testing.assert_allclose(got, ref_fcd_values(x, 20, 7), **TOL)


def test_fcd_corr_matches_numpy(xy):
    x, y = xy
    ref = np.corrcoef(ref_fcd_values(x, 20, 5), ref_fcd_values(y, 20, 5))[0, 1]
    np.testing.assert_allclose(obj.fcd(20, 5)(x, y), ref, **TOL)
    np.testing.assert_allclose(obj.fcd(20, 5, as_loss=True)(x, y), 1 - ref, **TOL)


@pytest.mark.parametrize('ty', [120, 97])
def test_fcd_ks_and_wasserstein_match_scipy(xy, ty):
    x, y = xy
    y = y[:ty]
    a, b = ref_fcd_values(x, 20, 5), ref_fcd_values(y, 20, 5)
    np.testing.assert_allclose(obj.fcd_ks(20, 5)(x, y), stats.ks_2samp(a, b).statistic, atol=1e-6)
    np.testing.assert_allclose(obj.fcd_wasserstein(20, 5)(x, y),
                               stats.wasserstein_distance(a, b), **TOL)


@pytest.mark.parametrize('nb', [50, 73])
def test_ks_and_wasserstein_helpers_match_scipy(nb):
    rng = np.random.default_rng(3)
    a = rng.normal(size=50)
    b = rng.normal(0.3, 1.5, size=nb)
    b[:5] = a[:5]  # ties across samples
    np.testing.assert_allclose(obj.ks_distance(a, b), stats.ks_2samp(a, b).statistic, atol=1e-6)
    np.testing.assert_allclose(obj.wasserstein_1d(a, b), stats.wasserstein_distance(a, b), **TOL)


def test_wasserstein_1d_units():
    w = obj.wasserstein_1d(jnp.array([0.0, 1.0]) * u.mV, jnp.array([1.0, 2.0]) * u.mV)
    assert u.get_unit(w) == u.mV
    np.testing.assert_allclose(u.get_magnitude(w), 1.0)


def test_identical_inputs_give_perfect_scores(xy):
    x, _ = xy
    assert float(obj.timeseries_rmse()(x, x)) == 0.0
    np.testing.assert_allclose(obj.fc_corr()(x, x), 1.0, atol=1e-6)
    np.testing.assert_allclose(obj.fc_corr(as_loss=True)(x, x), 0.0, atol=1e-6)
    np.testing.assert_allclose(obj.fc_rmse()(x, x), 0.0, atol=1e-6)
    np.testing.assert_allclose(obj.cosine_sim()(x, x), 1.0, atol=1e-6)
    np.testing.assert_allclose(obj.fcd(20, 5)(x, x), 1.0, atol=1e-6)
    assert float(obj.fcd_ks(20, 5)(x, x)) == 0.0
    assert float(obj.fcd_wasserstein(20, 5)(x, x)) == 0.0


def test_combine_weighted_sum(xy):
    x, y = xy
    f1, f2 = obj.fc_corr(as_loss=True), obj.fcd_wasserstein(20, 5)
    loss = obj.combine((1.0, f1), (0.5, f2))
    np.testing.assert_allclose(loss(x, y), f1(x, y) + 0.5 * f2(x, y), **TOL)
    np.testing.assert_allclose(loss(x, x), 0.0, atol=1e-5)


# ---------------------------------------------------------------- transforms

ALL = [
    obj.timeseries_rmse(), obj.fc_corr(), obj.fc_corr(as_loss=True), obj.fc_rmse(),
    obj.cosine_sim(as_loss=True), obj.fcd(20, 5, as_loss=True), obj.fcd_ks(20, 5),
    obj.fcd_wasserstein(20, 5),
    obj.combine((1.0, obj.fc_corr(as_loss=True)), (0.5, obj.fcd_wasserstein(20, 5))),
]
IDS = [f.__name__ for f in ALL]
# All objectives traced into one program per transform: one compile each.
VALUE_AND_GRADS = jax.jit(lambda p, t: [jax.value_and_grad(f)(p, t) for f in ALL])
VMAPPED = jax.jit(jax.vmap(lambda p, t: jnp.stack([f(p, t) for f in ALL])))
# forward mode (what a one-parameter Fitter differentiates with by default)
JVPS = jax.jit(lambda p, t, v: [jax.jvp(lambda q: f(q, t), (p,), (v,))[1] for f in ALL])


def with_constant_segments(x):
    x = x.copy()
    x[:40, 1] = 0.7    # constant within the first windows
    x[:, 3] = -1.2     # constant over the whole series
    return x


@pytest.fixture(scope='module')
def transformed():
    x, y = series(0), series(1)
    xc = with_constant_segments(x)
    direction = jnp.asarray(series(2))
    return dict(
        direction=direction,
        jvp=JVPS(jnp.asarray(x), jnp.asarray(y), direction),
        jvp_const=JVPS(jnp.asarray(xc), jnp.asarray(y), direction),
        eager=[f(x, y) for f in ALL],
        vg=VALUE_AND_GRADS(jnp.asarray(x), jnp.asarray(y)),
        vg_const=VALUE_AND_GRADS(jnp.asarray(xc), jnp.asarray(y)),
        eager_const=[f(xc, y) for f in ALL],
        vmapped=VMAPPED(jnp.stack([x, y]), jnp.stack([y, x])),
        shape=x.shape,
    )


@pytest.mark.parametrize('i', range(len(ALL)), ids=IDS)
def test_jit_vmap_grad(i, transformed):
    eager = transformed['eager'][i]
    value, g = transformed['vg'][i]
    np.testing.assert_allclose(value, eager, **TOL)
    assert g.shape == transformed['shape'] and bool(jnp.all(jnp.isfinite(g)))
    assert transformed['vmapped'].shape == (2, len(ALL))
    np.testing.assert_allclose(transformed['vmapped'][0, i], eager, **TOL)


@pytest.mark.parametrize('i', range(len(ALL)), ids=IDS)
def test_grad_finite_with_constant_segments(i, transformed):
    value, g = transformed['vg_const'][i]
    assert bool(jnp.isfinite(value)) and bool(jnp.all(jnp.isfinite(g)))
    np.testing.assert_allclose(value, transformed['eager_const'][i], **TOL)


@pytest.mark.parametrize('i', range(len(ALL)), ids=IDS)
def test_forward_mode_derivative_equals_the_gradient(i, transformed):
    """jax.jvp of each objective (finite, also on constant segments) equals <grad, direction>."""
    for jvp, vg in (('jvp', 'vg'), ('jvp_const', 'vg_const')):
        tangent, (_, g) = transformed[jvp][i], transformed[vg][i]
        assert bool(jnp.isfinite(tangent))
        expected = float(jnp.sum(g * transformed['direction']))
        np.testing.assert_allclose(float(tangent), expected, rtol=1e-3, atol=1e-5)


def test_constant_column_gives_zero_correlation(xy):
    x, _ = xy
    x = x.copy()
    x[:, 0] = 2.0
    fc = jax.jit(fc_core)(jnp.asarray(x))  # the FC the objectives use
    np.testing.assert_array_equal(np.asarray(fc[0, 1:]), 0.0)
    assert bool(jnp.all(jnp.isfinite(obj.fcd_distribution(x, 20, 5))))


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf])
def test_non_finite_prediction_never_scores_well(xy, bad):
    """A diverged simulation gives a non-finite score, never 0 loss / perfect similarity."""
    x, _ = xy
    p = x.copy()
    p[50, 2] = bad
    for f in ALL + [obj.cosine_sim(), obj.fcd(20, 5)]:
        assert not np.isfinite(float(f(p, x))), f.__name__
        assert not np.isfinite(float(jax.jit(f)(jnp.asarray(p), jnp.asarray(x)))), f.__name__
    assert np.isnan(float(obj.ks_distance([0.0, bad], [0.0, 1.0])))
    assert not np.isfinite(float(obj.wasserstein_1d([0.0, bad], [0.0, 1.0])))


def test_wasserstein_gradient_nonzero(transformed):
    _, g = transformed['vg'][IDS.index('fcd_wasserstein')]
    assert float(jnp.abs(g).max()) > 0


# ---------------------------------------------------------------- errors

def test_shape_mismatch_raises(xy):
    x, y = xy
    with pytest.raises(ValueError, match=r'\(120, 5\).*\(100, 5\)'):
        obj.timeseries_rmse()(x, y[:100])
    with pytest.raises(ValueError, match='shape'):
        obj.cosine_sim()(x, y[:100])
    with pytest.raises(ValueError, match='regions'):
        obj.fc_corr()(x, y[:, :4])
    with pytest.raises(ValueError, match='windows'):
        obj.fcd(20, 5)(x, y[:100])


def test_nan_target_raises(xy):
    x, y = xy
    y = y.copy()
    y[3, 2] = np.nan
    for f in (obj.timeseries_rmse(), obj.fc_corr(), obj.fcd_wasserstein(20, 5)):
        with pytest.raises(ValueError, match='NaN'):
            f(x, y)
    # traced targets are not checked (no concretisation error)
    jax.jit(obj.timeseries_rmse())(x, y)


def test_ndim_errors_name_the_argument(xy):
    x, y = xy
    with pytest.raises(ValueError, match='prediction'):
        obj.fc_corr()(x[:, 0], y)
    with pytest.raises(ValueError, match='target'):
        obj.fcd_ks(20, 5)(x, y[None])
    with pytest.raises(ValueError, match='x'):
        obj.fcd_distribution(x[:, 0])


def test_window_errors(xy):
    x, y = xy
    with pytest.raises(ValueError, match='larger'):
        obj.fcd(200, 5)(x, y)
    with pytest.raises(ValueError, match='larger'):
        obj.fcd_distribution(x, window_size=121)
    for bad in (0, -3):
        with pytest.raises(ValueError, match='window_size'):
            obj.fcd_wasserstein(window_size=bad)
        with pytest.raises(ValueError, match='step_size'):
            obj.fcd_ks(step_size=bad)
    with pytest.raises(ValueError, match='window'):
        obj.fcd_distribution(x, window_size=100, step_size=50)  # only one window


def test_combine_validation():
    f = obj.fc_corr()
    with pytest.raises(TypeError, match='pair'):
        obj.combine(f)
    with pytest.raises(TypeError, match='weight'):
        obj.combine(('1', f))
    with pytest.raises(TypeError, match='callable'):
        obj.combine((1.0, 2.0))
    with pytest.raises(ValueError):
        obj.combine()
    with pytest.raises(TypeError):
        obj.fc_corr(as_loss='yes')


def test_empty_samples_raise():
    with pytest.raises(ValueError):
        obj.ks_distance(np.zeros(0), np.ones(3))
