"""Bad input to Network, Fitter, the objectives and the connectome loaders gives a clear error
that names the argument, raised in Python before anything is compiled (construct-only where possible)."""
import importlib
import os
import zipfile

import brainstate
import braintools
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass import datasets
from brainmass import objectives as obj

W = np.array([[0., 1., .5], [1., 0., .2], [.5, .2, 0.]])
D = np.array([[0., 10., 20.], [10., 0., 5.], [20., 5., 0.]]) * u.mm


def net(**kw):
    kw.setdefault('conn', W)
    kw.setdefault('coupled_var', 'x')
    return brainmass.Network(brainmass.HopfStep(3), **kw)


# ----------------------------------------------------------------------------- Network
@pytest.mark.parametrize('k, exc, text', [
    (jnp.ones(5), ValueError, r'`k` has shape \(5,\).*one value per region \(3,\)'),
    (np.ones((4, 2)), ValueError, r'`k` has shape \(4, 2\).*\(B, 1\) or \(B, 3\)'),
    (np.ones((2, 3, 1)), ValueError, r'`k` has shape \(2, 3, 1\)'),
    ('1', TypeError, r'`k` must be a number.*got \'1\' \(str\)'),
    (None, TypeError, r'`k` must be'),
    (True, TypeError, r'`k` must be'),
    (float('nan'), ValueError, r'`k` must be finite'),
])
def test_network_k_rejected(k, exc, text):
    with pytest.raises(exc, match=text):
        net(k=k)


def test_network_k_param_shape_rejected():
    with pytest.raises(ValueError, match=r'`k` has shape \(4,\)'):
        net(k=brainstate.nn.Param(jnp.ones(4)))


@pytest.mark.parametrize('k', [0.5, 1, np.ones(1), jnp.array([.1, .2, .3]), [.1, .2, .3]])
def test_network_k_accepted(k):
    assert net(k=k).n_node == 3


def test_network_k_sweep_over_the_batch_runs():
    """One k per batch member, (B, 1), with a per-region history (N, 1): the benchmark's sweep."""
    brainstate.environ.set(dt=0.1 * u.ms)
    k = jnp.array([0.1, 0.5]).reshape(2, 1)
    x0 = jnp.array([0.1, 0.2, 0.3])
    network = brainmass.Network(brainmass.HopfStep(3, init_x=x0), conn=W, distance=D, speed=10 * u.mm / u.ms,
                                coupled_var='x', k=k, delay_init=x0[:, None])
    res = brainmass.Simulator(network, dt=0.1 * u.ms).run(0.5 * u.ms, monitors=['node.x'], batch_size=2)
    x = np.asarray(res['node.x'])
    assert x.shape == (5, 2, 3) and not np.allclose(x[:, 0], x[:, 1])
    single = brainmass.Network(brainmass.HopfStep(3, init_x=x0), conn=W, distance=D, speed=10 * u.mm / u.ms,
                               coupled_var='x', k=0.5, delay_init=x0)
    ref = brainmass.Simulator(single, dt=0.1 * u.ms).run(0.5 * u.ms, monitors=['node.x'])['node.x']
    np.testing.assert_allclose(x[:, 1], np.asarray(ref), rtol=1e-5, atol=1e-7)


def test_network_per_region_k_runs():
    res = brainmass.Simulator(net(k=jnp.array([.1, .2, .3])), dt=0.1 * u.ms).run(0.5 * u.ms, monitors=['node.x'])
    assert res['node.x'].shape == (5, 3)


def test_network_conn_with_unit_rejected():
    with pytest.raises(ValueError, match=r'`conn` must be dimensionless.*mV'):
        net(conn=W * u.mV)
    with pytest.raises(ValueError, match=r'`conn` must be dimensionless'):
        net(conn=brainstate.nn.Param(W * u.mV))
    assert net(conn=u.Quantity(W)).n_node == 3  # a dimensionless Quantity is fine


@pytest.mark.parametrize('conn', ['dti', None, True])
def test_network_conn_not_numeric(conn):
    with pytest.raises(TypeError, match='`conn` must be an'):
        net(conn=conn)


@pytest.mark.parametrize('flag', ['no', 1, None])
def test_network_self_connection_must_be_bool(flag):
    with pytest.raises(TypeError, match=r'`self_connection` must be a bool'):
        net(self_connection=flag)
    assert net(self_connection=np.bool_(True)).n_node == 3


@pytest.mark.parametrize('init, exc, text', [
    ('zeros', TypeError, r'`delay_init` must be a braintools initializer.*got \'zeros\' \(str\)'),
    (float('nan'), ValueError, r'`delay_init` contains NaN'),
    (jnp.ones(4), ValueError, r'`delay_init` has shape \(4,\).*\(\d+, 3\)'),
    (0.1 * u.mV, ValueError, r'`delay_init` is in mV but the coupled variable \'x\''),
])
def test_network_delay_init_rejected(init, exc, text):
    with pytest.raises(exc, match=text):
        net(distance=D, speed=1 * u.mm / u.ms, delay_init=init)


def test_network_delay_init_callable_wrong_shape():
    n = net(distance=D, speed=1 * u.mm / u.ms, delay_init=lambda shape: jnp.zeros(3))
    with pytest.raises(ValueError, match=r'`delay_init` returned shape \(3,\)'):
        brainstate.nn.init_all_states(n)


def test_network_delay_init_per_region_with_batch():
    n = net(distance=D, speed=1 * u.mm / u.ms, delay_init=jnp.array([.1, .2, .3]))
    brainstate.nn.init_all_states(n, batch_size=2)
    L = n.max_delay_steps + 1
    assert n.buffer.value.shape == (3, 2 * L, 2)
    np.testing.assert_allclose(np.asarray(n.buffer.value[:, 0, :]), [[.1, .1], [.2, .2], [.3, .3]], rtol=1e-6)


def test_network_constant_delay_init_accepted():
    for init in (0.1, jnp.full(3, 0.1), braintools.init.Constant(0.1)):
        n = net(distance=D, speed=1 * u.mm / u.ms, delay_init=init)
        brainstate.nn.init_all_states(n)
        np.testing.assert_allclose(np.asarray(n.buffer.value), 0.1, rtol=1e-6)


def test_network_distance_speed_strings():
    with pytest.raises(TypeError, match=r'`speed` must be a number or a Quantity.*\'1\' \(str\)'):
        net(distance=np.ones((3, 3)), speed='1')
    with pytest.raises(TypeError, match=r'`distance` must be a \(3, 3\) array'):
        net(distance='10', speed=1.)


def test_network_noise_size():
    with pytest.raises(ValueError, match=r'`noise` has size \(5,\) but the network has 3 regions'):
        net(noise=brainmass.OUProcess(5, sigma=0.1))
    assert net(noise=brainmass.OUProcess(3, sigma=0.1)).noise is not None
    assert net(noise=brainmass.OUProcess(1, sigma=0.1)).noise is not None


def test_laplacian_bool_flags():
    with pytest.raises(TypeError, match='`fit` must be a bool'):
        brainmass.LaplacianConnParam(W, fit='no')
    with pytest.raises(TypeError, match='`return_diag` must be a bool'):
        brainmass.laplacian_connectivity(W, return_diag='yes')


def test_coupling_self_read_shape():
    with pytest.raises(ValueError, match=r'`y` \(the self read x_i\).*\(\.\.\., 3\).*got \(2,\)'):
        brainmass.diffusive_coupling(jnp.ones((3, 3)), jnp.ones(2), W, 1.)
    with pytest.raises(ValueError, match=r'`x_self`.*got \(4,\)'):
        brainmass.DiffusiveCoupling(conn=W, k=0.2)(jnp.ones((3, 3)), jnp.ones(4))


# ----------------------------------------------------------------------------- Fitter
def _fitter(**kw):
    node = brainmass.HopfStep(2, a=brainstate.nn.Param(0.1, t=brainstate.nn.SigmoidT(-1., 1.)), init_x=0.1)
    sim = brainmass.Simulator(node, dt=0.1 * u.ms)
    kw.setdefault('predict', lambda m: sim.run(1 * u.ms, monitors=['x'])['x'])
    return brainmass.Fitter(node, **kw), sim


@pytest.mark.parametrize('key', ['bounds', 'x0', 'jac', 'callback', 'constraints'])
def test_scipy_reserved_options(key):
    with pytest.raises(ValueError, match=rf"optimizer\['{key}'\] cannot be given to the scipy back end"):
        _fitter(backend='scipy', optimizer={'method': 'L-BFGS-B', key: [(0, 1)] * 5})
    with pytest.raises(ValueError, match=rf"optimizer\['{key}'\]"):
        _fitter(backend='scipy', optimizer={'method': 'L-BFGS-B', 'options': {key: None}})


def test_scipy_bounds_message_points_to_search_space():
    with pytest.raises(ValueError, match='search_space'):
        _fitter(backend='scipy', optimizer={'bounds': [(0, 1)] * 5})


@pytest.mark.parametrize('value, exc, text', [
    (np.nan, ValueError, r"params\['a'\] must be finite"),
    (jnp.ones(5), ValueError, r"params\['a'\] has shape \(5,\) but parameter 'a' has shape \(\)"),
    (5., ValueError, r"params\['a'\] = 5 is outside \(-1.0, 1.0\).*SigmoidT"),
    (1., ValueError, r"params\['a'\] = 1 lies on a bound"),
    ('0.5', TypeError, r"params\['a'\] must be a number"),
    (0.5 * u.mV, ValueError, r"params\['a'\] is in mV but parameter 'a' is dimensionless"),
])
def test_set_params_rejected(value, exc, text):
    f, _ = _fitter()
    before = f.current_params()['a']
    with pytest.raises(exc, match=text):
        f.set_params({'a': value})
    assert float(f.current_params()['a']) == pytest.approx(float(before))  # nothing written


def test_set_params_checks_all_before_writing():
    f, _ = _fitter()
    with pytest.raises(ValueError, match='unknown parameter'):
        f.set_params({'a': 0.5, 'b': 1.})
    assert float(f.current_params()['a']) == pytest.approx(0.1)
    f.set_params({'a': 0.5})
    assert float(f.current_params()['a']) == pytest.approx(0.5)


def test_set_params_units():
    class M(brainstate.nn.Module):
        def __init__(self):
            super().__init__()
            self.A = brainstate.nn.Param(jnp.ones(2) * 3. * u.mV, t=brainstate.nn.SigmoidT(2 * u.mV, 5 * u.mV))

    f = brainmass.Fitter(M(), loss_fn=lambda m: 0.)
    f.set_params({'A': 0.004 * u.volt})  # converted
    np.testing.assert_allclose(np.asarray(f.current_params()['A'].to_decimal(u.mV)), [4., 4.], rtol=1e-5)
    f.set_params({'A': 3.5})  # plain numbers: the parameter's unit
    np.testing.assert_allclose(np.asarray(f.current_params()['A'].to_decimal(u.mV)), [3.5, 3.5], rtol=1e-5)
    with pytest.raises(ValueError, match=r"params\['A'\] is in ms but parameter 'A' is in mV"):
        f.set_params({'A': 3 * u.ms})
    with pytest.raises(ValueError, match=r"search_space\['A'\] is in ms but parameter 'A' is in mV"):
        brainmass.Fitter(M(), loss_fn=lambda m: 0., search_space={'A': (3 * u.ms, 4 * u.ms)})


@pytest.mark.parametrize('rng, exc, text', [
    (('0', '1'), TypeError, r"search_space\['a'\] must hold numbers"),
    ((0. * u.mV, 0.5 * u.mV), ValueError, r"search_space\['a'\] is in mV but parameter 'a' is dimensionless"),
    ((np.zeros(5), np.ones(5) * .5), ValueError, r"search_space\['a'\] has a bound of shape \(5,\)"),
])
def test_search_space_rejected(rng, exc, text):
    with pytest.raises(exc, match=text):
        _fitter(search_space={'a': rng})


def test_fit_target_unit_mismatch():
    f, sim = _fitter()
    target = np.asarray(sim.run(1 * u.ms, monitors=['x'])['x'])
    with pytest.raises(ValueError, match=r'`target` is in mV but the prediction .* is dimensionless') as info:
        f.fit(target * u.mV, n_steps=1)
    assert isinstance(info.value, u.UnitMismatchError)
    assert isinstance(info.value.__cause__, u.UnitMismatchError)


# ----------------------------------------------------------------------------- objectives
def test_objective_unit_mismatch_names_both_units():
    x = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=r'`target` is dimensionless \(plain numbers\) but `prediction` is in mV'):
        obj.timeseries_rmse()(x * u.mV, x)
    with pytest.raises(u.UnitMismatchError, match=r'`target` is in ms but `prediction` is in mV'):
        obj.timeseries_rmse()(x * u.mV, x * u.ms)
    with pytest.raises(ValueError, match=r'`b` is dimensionless .* `a` is in mV'):
        obj.wasserstein_1d(x * u.mV, x)
    with pytest.raises(ValueError, match=r'combine\(\) term 1 \(fc_rmse\)'):
        obj.combine((1., obj.timeseries_rmse()), (1., obj.fc_rmse()))(x * u.mV, x * 1.1 * u.mV)
    # compatible units still convert
    assert float(obj.timeseries_rmse()(x * u.mV, x * 1e-3 * u.volt).to_decimal(u.mV)) == pytest.approx(0., abs=1e-5)


def test_import_brainmass_objectives():
    import sys
    mod = importlib.import_module('brainmass.objectives')
    import brainmass.objectives as alias
    from brainmass.objectives import fc_corr
    from brainmass.orchestration import objectives as real  # the Fitter's objective library, the same module
    assert mod is alias is real is brainmass.objectives
    assert fc_corr is real.fc_corr
    assert 'brainmass.orchestration.objectives' not in sys.modules  # one module, no alias entry


# ----------------------------------------------------------------------------- datasets
@pytest.mark.parametrize('name, content, text', [
    ('bad.zip', b'not a zip', r'bad\.zip.*expected a TVB .*weights\.txt.*BadZipFile'),
    ('bad.npz', b'garbage', r'bad\.npz.*expected a NumPy \.npz archive.*never loads'),
    ('bad.npy', b'garbage', r'bad\.npy.*expected a NumPy \.npy file'),
    ('bad.mat', b'garbage', r'bad\.mat.*expected a MATLAB \.mat file'),
    ('bad.txt', b'\xff\xfe\x00 1', r'bad\.txt.*expected a UTF-8 text file'),
])
def test_load_connectome_unreadable(tmp_path, name, content, text):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=text):
        datasets.load_connectome(path)


def test_load_connectome_zip_members(tmp_path):
    missing = tmp_path / 'nw.zip'
    with zipfile.ZipFile(missing, 'w') as z:
        z.writestr('foo.txt', '1 2\n3 4\n')
    with pytest.raises(ValueError, match=r'nw\.zip.*weights\.txt is missing'):
        datasets.load_connectome(missing)
    garbage = tmp_path / 'gw.zip'
    with zipfile.ZipFile(garbage, 'w') as z:
        z.writestr('sub/weights.txt', 'a b\nc d\n')
    with pytest.raises(ValueError, match=r'gw\.zip: sub/weights\.txt'):
        datasets.load_connectome(garbage)
    ok = tmp_path / 'ok.zip'
    with zipfile.ZipFile(ok, 'w') as z:
        z.writestr('weights.txt', '0 1\n1 0\n')
    assert datasets.load_connectome(ok).n_regions == 2


def test_load_connectome_npz_holding_one_array(tmp_path):
    np.save(tmp_path / 'w.npy', np.ones((2, 2)))
    os.replace(tmp_path / 'w.npy', tmp_path / 'w.npz')
    with pytest.raises(ValueError, match=r'w\.npz.*single \.npy array'):
        datasets.load_connectome(tmp_path / 'w.npz')


def test_load_connectome_missing_and_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'nope\.zip'):
        datasets.load_connectome(tmp_path / 'nope.zip')
    (tmp_path / 'd.npz').mkdir()
    with pytest.raises(IsADirectoryError, match=r'd\.npz'):
        datasets.load_connectome(tmp_path / 'd.npz')
