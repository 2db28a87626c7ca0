"""Results I/O: save_run / load_run, to_numpy / from_numpy, FitResult.save / load (brainmass.datasets._io)."""
import collections
import json
import sys

import braintools
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np
import pytest

import brainmass
from brainmass import datasets
from brainmass.datasets._io import unit_from_json, unit_to_json
from brainmass import objectives
from brainmass.orchestration.fitter import FitResult, Fitter
from _helpers import precision

N = 3
UNITS = [u.mV, u.Hz, u.kHz, u.nA * u.meter, u.mV / u.second, u.UNITLESS, u.ms, u.tesla, u.uvolt,
         u.ms ** -1, u.mV / u.Hz ** 0.5, u.minute * u.mV, u.mS / u.cm ** 2, u.mV ** 2,
         u.Unit(u.mV.dim, scale=-3, factor=3.)]


def same(a, b):
    """Bit-identical values, same dtype, same unit (or both plain)."""
    assert isinstance(a, u.Quantity) == isinstance(b, u.Quantity), (a, b)
    if isinstance(a, u.Quantity):
        assert u.get_unit(a) == u.get_unit(b) and str(u.get_unit(a)) == str(u.get_unit(b))
    ma, mb = np.asarray(u.get_mantissa(a)), np.asarray(u.get_mantissa(b))
    assert ma.dtype == mb.dtype and ma.shape == mb.shape
    assert np.array_equal(ma, mb, equal_nan=True)


def same_tree(a, b):
    assert type(a) is type(b) or isinstance(a, u.Quantity) or hasattr(a, 'dtype'), (type(a), type(b))
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same_tree(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same_tree(x, y)
    elif a is None:
        assert b is None
    else:
        same(a, b)


def network():
    node = brainmass.HopfStep(N, a=brainstate.nn.Param(0.2, t=brainstate.nn.SigmoidT(-1., 1.)), w=0.3,
                              init_x=jnp.linspace(0.1, 0.3, N), init_y=0.05)
    return brainmass.Network(node, conn=np.ones((N, N)) - np.eye(N), coupled_var='x', k=0.1)


# ------------------------------------------------------------------------- units
@pytest.mark.parametrize('unit', UNITS, ids=str)
def test_unit_round_trips_exactly_through_json(unit):
    back = unit_from_json(json.loads(json.dumps(unit_to_json(unit))))
    assert back == unit and back.dim == unit.dim and str(back) == str(unit)
    assert (back.scale, back.factor) == (unit.scale, unit.factor)


@pytest.mark.parametrize('bits', [32, 64])
def test_quantities_of_many_units_round_trip_bit_identical(tmp_path, bits):
    with precision(bits):
        dtype = np.float64 if bits == 64 else np.float32
        values = np.random.default_rng(0).normal(size=(4, 2)).astype(dtype)
        result = {f'q{i}': u.Quantity(values * (i + 1), unit=unit) for i, unit in enumerate(UNITS)}
        result['plain'] = jnp.asarray(values)
        back = datasets.load_run(datasets.save_run(tmp_path / 'units.npz', result))
        same_tree(result, back)


# ------------------------------------------------------------------ simulations
@pytest.mark.parametrize('bits', [32, 64])
def test_network_run_round_trips_with_metadata(tmp_path, bits):
    with precision(bits):
        net = network()
        sim = brainmass.Simulator(net, dt=0.1 * u.ms)
        result = sim.run(2 * u.ms, monitors=['node.x', 'node.y'])
        path = datasets.save_run(str(tmp_path / 'run.npz'), result, dt=sim.dt, labels=['A', 'B', 'C'],
                                 params=datasets.model_params(net), seed=7, attrs={'note': 'baseline'})
        back, meta = datasets.load_run(path, with_meta=True)
    assert path == str(tmp_path / 'run.npz')
    same_tree({k: np.asarray(v) if not isinstance(v, u.Quantity) else v for k, v in result.items()}, back)
    assert np.asarray(back['node.x']).dtype == (np.float64 if bits == 64 else np.float32)
    assert u.get_unit(back['ts']) == u.ms
    assert meta.dt == 0.1 * u.ms and meta.labels == ['A', 'B', 'C'] and meta.seed == 7
    assert meta.attrs == {'note': 'baseline'} and meta.format == 'npz'
    assert set(meta.params) == {'conn', 'k', 'node.a', 'node.beta', 'node.w'}
    assert u.get_unit(meta.params['node.w']) == u.kHz
    assert float(meta.params['node.a']) == pytest.approx(0.2)
    assert meta.versions['brainmass'] == brainmass.__version__ and meta.versions['jax']
    assert meta.created.endswith('+00:00')


def test_batched_run_with_a_pytree_monitor_round_trips(tmp_path):
    sim = brainmass.Simulator(network(), dt=0.1 * u.ms)
    monitors = {'both': lambda m: {'x': m.node.x.value, 'pair': (m.node.y.value, m.node.x.value * u.mV)}}
    result = sim.run(1 * u.ms, monitors=monitors, batch_size=2)
    back = datasets.load_run(datasets.save_run(tmp_path / 'batched.npz', result))
    assert back['both']['x'].shape == (10, 2, N) and isinstance(back['both']['pair'], tuple)
    assert u.get_unit(back['both']['pair'][1]) == u.mV
    same(result['both']['pair'][1], back['both']['pair'][1])
    same(result['ts'], back['ts'])
    np.testing.assert_array_equal(np.asarray(result['both']['x']), back['both']['x'])


def test_nested_containers_scalars_and_none_keep_their_types(tmp_path):
    result = {'a': [1.5, 2, True, None], 'b': {'c': (np.arange(3, dtype=np.int16),)}, 'ts': np.arange(3.) * u.ms}
    back = datasets.load_run(datasets.save_run(tmp_path / 'r.run', result, format='npz'))
    assert back['a'] == [1.5, 2, True, None] and [type(x) for x in back['a'][:3]] == [float, int, bool]
    assert back['b']['c'][0].dtype == np.int16
    assert (tmp_path / 'r.run').exists() and not (tmp_path / 'r.run.npz').exists()  # written at exactly `path`


# ------------------------------------------------------------------ to_numpy
def test_to_numpy_strips_units_explicitly_and_from_numpy_restores_them():
    result = {'v': np.ones((2, 3), np.float32) * u.mV, 'x': jnp.zeros(2),
              'tree': {'r': (np.arange(2.) * u.Hz, np.ones(2))}, 'ts': np.arange(2.) * u.ms}
    plain = datasets.to_numpy(result)
    assert plain['units'] == {'v': 'mV', 'x': None, 'tree': {'r': ('Hz', None)}, 'ts': 'ms'}
    assert type(plain['v']) is np.ndarray and plain['v'].dtype == np.float32
    assert type(plain['x']) is np.ndarray and not isinstance(plain['tree']['r'][0], u.Quantity)
    same_tree({**result, 'x': np.zeros(2, np.float32)}, datasets.from_numpy(plain))
    with pytest.raises(ValueError, match="'units' entry"):
        datasets.to_numpy({'units': 1.})
    with pytest.raises(TypeError, match='`data`'):
        datasets.from_numpy({'v': 1.})


# ------------------------------------------------------------------ FitResult
class Tiny(brainstate.nn.Module):
    def __init__(self):
        super().__init__()
        self.tau = brainstate.nn.Param(5. * u.ms, t=brainstate.nn.SoftplusT(0. * u.ms))
        self.q = brainstate.nn.Param(jnp.full(2, 1.))


def test_fit_result_round_trips_without_the_live_objects(tmp_path):
    predict = lambda m: (m.q.value() * (m.tau.value() / u.ms) * u.mV)[None]
    fitter = Fitter(Tiny(), braintools.optim.Adam(lr=0.1), predict=predict, objective=objectives.timeseries_rmse())
    fit = fitter.fit(jnp.array([[2., 3.]]) * u.mV, n_steps=5)
    back = FitResult.load(fit.save(tmp_path / 'fit.npz'))
    assert isinstance(back, FitResult)
    for name in ('backend', 'best_loss', 'n_steps', 'stop_reason', 'initial_loss', 'n_evaluations', 'wall_time'):
        assert getattr(back, name) == getattr(fit, name), name
    same(fit.history, back.history)
    same(fit.prediction, back.prediction)
    assert list(back.best_params) == ['q', 'tau'] and u.get_unit(back.best_params['tau']) == u.ms
    same(fit.best_params['tau'], back.best_params['tau'])
    same(fit.best_params['q'], back.best_params['q'])
    assert back.model is None and back.optimizer is None and back.raw is None
    with pytest.raises(ValueError, match='FitResult.load'):
        datasets.load_run(tmp_path / 'fit.npz')


# ------------------------------------------------------------------ bad input
Pair = collections.namedtuple('Pair', 'a b')


@pytest.mark.parametrize('kwargs,error,match', [
    ({'path': 3}, TypeError, '`path` must be a file path'),
    ({'path': 'run.npz', 'format': 'csv'}, ValueError, "Unknown `format` 'csv'"),
    ({'path': 'run.txt'}, ValueError, 'Cannot tell the file format from `path`'),
    ({'result': [np.ones(3)]}, TypeError, '`result` must be a non-empty dict'),
    ({'result': {}}, TypeError, '`result` must be a non-empty dict'),
    ({'result': {'x': 'abc'}}, TypeError, r"`result`\['x'\] must hold numbers"),
    ({'result': {'x': {'y': object()}}}, TypeError, r"`result`\['x'\]\['y'\]"),
    ({'result': {'x': Pair(1., 2.)}}, TypeError, r"`result`\['x'\] is a Pair"),
    ({'result': {1: np.ones(2)}}, TypeError, '`result` must have str keys'),
    ({'labels': 'ABC'}, TypeError, '`labels`'),
    ({'labels': [1, 2, 3]}, TypeError, '`labels`'),
    ({'seed': True}, TypeError, '`seed`'),
    ({'seed': 1.5}, TypeError, '`seed`'),
    ({'attrs': {'f': np.ones}}, TypeError, '`attrs`'),
    ({'params': [1.]}, TypeError, '`params`'),
    ({'dt': 1 * u.mV}, TypeError, '`dt`'),
    ({'dt': -0.1 * u.ms}, ValueError, '`dt`'),
])
def test_bad_arguments_are_refused_naming_them(tmp_path, kwargs, error, match):
    args = {'path': tmp_path / 'run.npz', 'result': {'x': np.ones(3)}}
    args.update(kwargs)
    if isinstance(args['path'], str):
        args['path'] = tmp_path / args['path']
    with pytest.raises(error, match=match):
        datasets.save_run(args.pop('path'), args.pop('result'), **args)
    assert not (tmp_path / 'run.npz').exists()


def test_loading_a_file_that_is_not_a_brainmass_run_is_refused(tmp_path):
    np.savez(tmp_path / 'other.npz', x=np.ones(3))
    with pytest.raises(ValueError, match="no '__brainmass__' header"):
        datasets.load_run(tmp_path / 'other.npz')
    (tmp_path / 'text.npz').write_text('hello')
    with pytest.raises(ValueError, match='not a brainmass run file'):
        datasets.load_run(tmp_path / 'text.npz')
    np.savez(tmp_path / 'objects.npz', **{'__brainmass__': np.array([{'a': 1}], dtype=object)})
    with pytest.raises(ValueError, match='not a brainmass run file'):  # never unpickled
        datasets.load_run(tmp_path / 'objects.npz')
    with pytest.raises(FileNotFoundError, match='`path`'):
        datasets.load_run(tmp_path / 'missing.npz')
    with pytest.raises(TypeError, match='`path`'):
        datasets.load_run(None)
    with pytest.raises(TypeError, match='`with_meta`'):
        datasets.load_run(tmp_path / 'other.npz', with_meta='yes')
    datasets.save_run(tmp_path / 'run.npz', {'x': np.ones(2)})
    with pytest.raises(ValueError, match='load_run'):
        FitResult.load(tmp_path / 'run.npz')


# ------------------------------------------------------------------ netCDF / HDF5
def test_netcdf_without_xarray_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'xarray', None)  # import xarray -> ImportError
    with pytest.raises(ImportError, match=r'brainmass\[io\]'):
        datasets.save_run(tmp_path / 'run.nc', {'x': np.ones(2)})
    assert not (tmp_path / 'run.nc').exists()


@pytest.mark.parametrize('name,format', [('run.nc', None), ('run.h5', None), ('run.data', 'hdf5')])
def test_netcdf_and_hdf5_round_trip(tmp_path, name, format):
    xr = pytest.importorskip('xarray')
    pytest.importorskip('h5netcdf')
    result = {'v': np.arange(6, dtype=np.float32).reshape(3, 2) * u.mV, 'flag': np.array([True, False]),
              'tree': {'a/b': (np.arange(3.), 2. * u.nA)}, 'ts': np.arange(3.) * 0.1 * u.ms}
    path = datasets.save_run(tmp_path / name, result, dt=0.1 * u.ms, labels=['L', 'R'], params={'k': 0.5 * u.Hz},
                             format=format)
    back, meta = datasets.load_run(path, with_meta=True)
    same_tree(result, back)
    assert meta.labels == ['L', 'R'] and meta.params['k'] == 0.5 * u.Hz
    assert meta.format == (format or ('netcdf' if name.endswith('.nc') else 'hdf5'))
    with xr.open_dataset(path) as ds:  # readable by xarray, with coordinates and units
        assert ds['result:v'].dims == ('time', 'region') and list(ds['region'].values) == ['L', 'R']
        assert ds['result:v'].attrs['units'] == 'mV'
