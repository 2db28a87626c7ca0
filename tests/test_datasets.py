"""Tests for brainmass.datasets: types, registry, bundled data, file loaders, toy task."""
import dataclasses
import importlib.util
import zipfile
from pathlib import Path

import brainunit as u
import numpy as np
import pytest
import scipy.io

from brainmass import datasets
from brainmass.datasets import Connectome, Signal

ROOT = Path(__file__).resolve().parents[1]
W = np.array([[0., 1., 2.], [1., 0., 3.], [2., 3., 0.]])
D = np.array([[0., 10., 20.], [10., 0., 30.], [20., 30., 0.]])


# ----------------------------------------------------------------------------
# The bundled example connectome (the seed tutorial prints these)
# ----------------------------------------------------------------------------

@pytest.fixture(scope='module')
def conn():
    return datasets.load_dataset('example_connectome')


def test_example_connectome_properties(conn):
    assert isinstance(conn, Connectome)
    assert conn.n_regions == 8 and conn.weights.shape == (8, 8)
    assert repr(list(conn.labels)) == repr([np.str_(f'R{i}') for i in range(8)])
    assert conn.labels.dtype.kind == 'U'
    assert str(u.get_unit(conn.distances)) == 'mm'
    assert str(conn.distances.max()) == '80. mm'
    assert float(u.get_magnitude(conn.distances.max())) == 80.0
    w, d = conn.weights, u.get_magnitude(conn.distances)
    assert np.array_equal(w, w.T) and np.array_equal(d, d.T)
    assert np.all(np.diag(w) == 0) and np.all(np.diag(d) == 0)
    assert np.all(w >= 0) and w.max() == 1.0
    assert np.all(d[~np.eye(8, dtype=bool)] > 0)
    assert u.get_magnitude(conn.centres).shape == (8, 3)
    assert repr(conn) == "Connectome(name='example_connectome', n_regions=8, distances=True)"


def test_example_connectome_is_reproducible_by_script(tmp_path, conn):
    spec = importlib.util.spec_from_file_location('mkconn', ROOT / 'examples' / 'make_example_connectome.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / 'c.npz'
    mod.main(out=out)
    with np.load(out) as f:
        np.testing.assert_array_equal(f['weights'], conn.weights)
        np.testing.assert_array_equal(f['distances'], u.get_magnitude(conn.distances))
        np.testing.assert_array_equal(f['labels'], conn.labels)


def test_each_load_returns_a_fresh_object(conn):
    again = datasets.load_dataset('example_connectome')
    assert again is not conn and again.weights is not conn.weights


# ----------------------------------------------------------------------------
# Connectome validation
# ----------------------------------------------------------------------------

def test_connectome_defaults_and_units():
    c = Connectome(W, distances=D)
    assert list(c.labels) == ['R0', 'R1', 'R2']
    assert str(u.get_unit(c.distances)) == 'mm'            # plain numbers are mm
    c_cm = Connectome(W, distances=D * u.cm)
    np.testing.assert_allclose(u.get_magnitude(c_cm.distances), D * 10)
    assert Connectome(W).distances is None
    assert len(c) == 3 and c.n_regions == 3


@pytest.mark.parametrize('weights, match', [
    (np.ones(3), 'square'),
    (np.ones((2, 3)), 'square'),
    (np.array([[0., np.nan], [1., 0.]]), 'finite'),
    (np.array([[0., np.inf], [1., 0.]]), 'finite'),
    (np.ones((2, 2)) * u.mV, 'dimensionless'),
    ([['a', 'b'], ['c', 'd']], 'numeric'),
])
def test_connectome_bad_weights(weights, match):
    with pytest.raises(ValueError, match=match) as info:
        Connectome(weights)
    assert '`weights`' in str(info.value)


@pytest.mark.parametrize('distances, match', [
    (np.ones((2, 2)), 'same shape'),
    (-D, 'non-negative'),
    (np.where(np.eye(3, dtype=bool), 0., np.nan), 'finite'),
    (D * u.ms, 'length'),
])
def test_connectome_bad_distances(distances, match):
    with pytest.raises(ValueError, match=match) as info:
        Connectome(W, distances=distances)
    assert '`distances`' in str(info.value)


def test_connectome_bad_labels_and_centres():
    with pytest.raises(ValueError, match='`labels`.*3'):
        Connectome(W, labels=['a', 'b'])
    with pytest.raises(ValueError, match=r'`centres`.*\(3, 3\)'):
        Connectome(W, centres=np.zeros((3, 2)))
    c = Connectome(W, labels=[b'a', b'b', b'c'], centres=np.zeros((3, 3)) * u.cm)
    assert list(c.labels) == ['a', 'b', 'c'] and str(u.get_unit(c.centres)) == 'mm'


def test_connectome_is_frozen_and_owns_its_arrays():
    w = W.copy()
    c = Connectome(w)
    w[0, 1] = 99.
    assert c.weights[0, 1] == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.weights = W


# ----------------------------------------------------------------------------
# Signal
# ----------------------------------------------------------------------------

def test_signal_computes_pearson_fc():
    x = np.random.default_rng(0).normal(size=(200, 4))
    s = Signal(x, dt=0.5 * u.ms)
    np.testing.assert_allclose(s.fc, np.corrcoef(x, rowvar=False))
    assert s.n_times == 200 and s.n_regions == 4 and list(s.labels)[0] == 'R0'
    assert str(s.ts[2]) == '1. ms' and s.params == {}


def test_signal_units_plain_dt_constant_columns():
    x = np.ones((50, 2)) * u.Hz
    s = Signal(x, dt=2.0, params={'k': 0.5})
    assert str(u.get_unit(s.signal)) == 'Hz' and str(s.dt) == '2. ms'
    np.testing.assert_array_equal(s.fc, np.eye(2))
    assert s.params == {'k': 0.5}


@pytest.mark.parametrize('kwargs, match', [
    (dict(signal=np.ones(10), dt=1.0), '`signal` must be 2-D'),
    (dict(signal=np.full((10, 2), np.nan), dt=1.0), '`signal` must be finite'),
    (dict(signal=np.ones((10, 2)), dt=-1.0 * u.ms), '`dt`.*> 0'),
    (dict(signal=np.ones((10, 2)), dt=0.0), '`dt`.*> 0'),
    (dict(signal=np.ones((10, 2)), dt=1.0 * u.mV), '`dt` must be a time'),
    (dict(signal=np.ones((10, 2)), dt=1.0, fc=np.eye(3)), '`fc` must have shape'),
    (dict(signal=np.ones((10, 2)), dt=1.0, labels=['a']), '`labels`'),
])
def test_signal_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Signal(**kwargs)


# ----------------------------------------------------------------------------
# Registry
# ----------------------------------------------------------------------------

@pytest.fixture
def cleanup():
    names = []
    yield names
    for n in names:
        if n in datasets.list_datasets():
            datasets.unregister_dataset(n)


def test_list_datasets_sorted_and_has_builtins():
    names = datasets.list_datasets()
    assert names == sorted(names)
    assert {'example_connectome', 'example_signal', 'delayed_match_task'} <= set(names)


def test_unknown_dataset_lists_names():
    for exc in (KeyError, ValueError):
        with pytest.raises(exc) as info:
            datasets.load_dataset('example_conectome')
        msg = str(info.value)
        assert "Did you mean 'example_connectome'" in msg and "'example_signal'" in msg


def test_register_load_duplicate_overwrite(cleanup):
    cleanup.append('toy')
    datasets.register_dataset('toy', lambda: 1, description='a toy')
    assert datasets.load_dataset('toy') == 1 and datasets.describe_dataset('toy') == 'a toy'
    assert 'toy' in datasets.list_datasets()
    with pytest.raises(ValueError, match="already registered.*overwrite=True"):
        datasets.register_dataset('toy', lambda: 2)
    datasets.register_dataset('toy', lambda: 2, overwrite=True)
    assert datasets.load_dataset('toy') == 2
    datasets.unregister_dataset('toy')
    assert 'toy' not in datasets.list_datasets()


def test_register_as_decorator_and_bad_args(cleanup):
    cleanup.append('toy_dec')

    @datasets.register_dataset('toy_dec')
    def _loader():
        """Toy loader.

        More text."""
        return 'x'

    assert datasets.load_dataset('toy_dec') == 'x'
    assert datasets.describe_dataset('toy_dec') == 'Toy loader.'
    with pytest.raises(TypeError, match='`loader`'):
        datasets.register_dataset('bad', 3)
    with pytest.raises(ValueError, match='`name`'):
        datasets.register_dataset('', lambda: 1)


# ----------------------------------------------------------------------------
# example_signal
# ----------------------------------------------------------------------------

def test_example_signal_missing_file(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets._loaders, 'DATA_DIR', tmp_path)
    with pytest.raises(FileNotFoundError, match='example_signal'):
        datasets.load_dataset('example_signal')


def test_example_signal_reads_file(tmp_path, monkeypatch):
    x = np.random.default_rng(1).normal(size=(40, 8))
    np.savez(tmp_path / 'example_signal.npz', signal=x, dt_ms=np.array(1.0),
             labels=np.array([f'R{i}' for i in range(8)]), fc=np.corrcoef(x, rowvar=False),
             param_k=np.array(0.5), param_a=np.array(-0.2))
    monkeypatch.setattr(datasets._loaders, 'DATA_DIR', tmp_path)
    s = datasets.load_dataset('example_signal')
    assert isinstance(s, Signal) and s.name == 'example_signal'
    assert s.signal.shape == (40, 8) and str(s.dt) == '1. ms'
    assert s.params == {'k': 0.5, 'a': -0.2}
    np.testing.assert_allclose(s.fc, np.corrcoef(x, rowvar=False))


# ----------------------------------------------------------------------------
# load_connectome: every format
# ----------------------------------------------------------------------------

def _check(c, labels=('R0', 'R1', 'R2'), distances=True):
    np.testing.assert_allclose(c.weights, W)
    if distances:
        np.testing.assert_allclose(u.get_magnitude(c.distances), D)
        assert str(u.get_unit(c.distances)) == 'mm'
    else:
        assert c.distances is None
    assert list(c.labels) == list(labels)


def test_load_npz(tmp_path):
    np.savez(tmp_path / 'c.npz', weights=W, distances=D, labels=np.array(['a', 'b', 'c']))
    c = datasets.load_connectome(tmp_path / 'c.npz')
    _check(c, labels='abc')
    assert c.name == 'c'
    np.savez(tmp_path / 'tvbish.npz', SC=W, tract_lengths=D)
    _check(datasets.load_connectome(str(tmp_path / 'tvbish.npz')))
    np.savez(tmp_path / 'nothing.npz', foo=W)
    with pytest.raises(ValueError, match='No weights matrix.*foo'):
        datasets.load_connectome(tmp_path / 'nothing.npz')


def test_save_round_trip(tmp_path):
    c = Connectome(W, distances=D, labels=['x', 'y', 'z'], centres=np.eye(3), name='mine')
    c2 = datasets.load_connectome(c.save(tmp_path / 'mine.npz'))
    _check(c2, labels='xyz')
    np.testing.assert_allclose(u.get_magnitude(c2.centres), np.eye(3))


def test_load_npy_pair_and_single(tmp_path):
    np.save(tmp_path / 'w.npy', W)
    np.save(tmp_path / 'd.npy', D)
    _check(datasets.load_connectome(weights=tmp_path / 'w.npy', distances=tmp_path / 'd.npy'))
    _check(datasets.load_connectome(tmp_path / 'w.npy'), distances=False)
    _check(datasets.load_connectome(weights=W, distances=D * u.cm / 10))


def test_load_txt_pair(tmp_path):
    np.savetxt(tmp_path / 'w.txt', W)
    np.savetxt(tmp_path / 'd.txt', D)
    c = datasets.load_connectome(weights=str(tmp_path / 'w.txt'), distances=str(tmp_path / 'd.txt'))
    _check(c)
    assert c.name == 'w'


def test_load_csv_plain_and_labelled(tmp_path):
    np.savetxt(tmp_path / 'w.csv', W, delimiter=',')
    np.savetxt(tmp_path / 'd.csv', D, delimiter=',')
    _check(datasets.load_connectome(tmp_path / 'w.csv', distances=tmp_path / 'd.csv'))
    rows = [',a,b,c'] + [f'{lab},' + ','.join(map(str, r)) for lab, r in zip('abc', W)]
    (tmp_path / 'wl.csv').write_text('\n'.join(rows) + '\n')
    _check(datasets.load_connectome(weights=tmp_path / 'wl.csv', distances=tmp_path / 'd.csv'),
           labels='abc')
    (tmp_path / 'bad.csv').write_text('1,2\n3\n')
    with pytest.raises(ValueError, match='rectangular'):
        datasets.load_connectome(tmp_path / 'bad.csv')


def test_load_mat(tmp_path):
    labels = np.array(['left A', 'left B', 'right C'], dtype=object)
    scipy.io.savemat(tmp_path / 'sc.mat', {'SC': W, 'D': D, 'labels': labels})
    _check(datasets.load_connectome(tmp_path / 'sc.mat'), labels=['left A', 'left B', 'right C'])
    scipy.io.savemat(tmp_path / 'tl.mat', {'weights': W, 'tract_lengths': D})
    _check(datasets.load_connectome(tmp_path / 'tl.mat'))
    scipy.io.savemat(tmp_path / 'x.mat', {'foo': W})
    with pytest.raises(ValueError, match='No weights matrix'):
        datasets.load_connectome(tmp_path / 'x.mat')


def _tvb_zip(path, files):
    with zipfile.ZipFile(path, 'w') as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def _txt(m):
    return '\n'.join(' '.join(f'{v:g}' for v in row) for row in m) + '\n'


def test_load_tvb_zip(tmp_path):
    centres = 'lA -10.0 5.0 2.0\nlB 0.0 1.5 -3.0\nrC 10.0 5.0 2.0\n'
    z = _tvb_zip(tmp_path / 'connectivity_3.zip',
                 {'weights.txt': _txt(W), 'tract_lengths.txt': _txt(D), 'centres.txt': centres,
                  'cortical.txt': '1\n1\n1\n'})
    c = datasets.load_connectome(z)
    _check(c, labels=['lA', 'lB', 'rC'])
    np.testing.assert_allclose(u.get_magnitude(c.centres)[1], [0.0, 1.5, -3.0])
    assert c.name == 'connectivity_3'


def test_load_tvb_zip_optional_files_missing(tmp_path):
    z = _tvb_zip(tmp_path / 'only_w.zip', {'conn/weights.txt': _txt(W)})
    c = datasets.load_connectome(z)
    _check(c, distances=False)
    assert c.centres is None
    z = _tvb_zip(tmp_path / 'none.zip', {'readme.txt': 'hi'})
    with pytest.raises(ValueError, match='weights.txt is missing'):
        datasets.load_connectome(z)


def test_load_connectome_errors(tmp_path):
    with pytest.raises(ValueError, match=r'\.npz, \.npy, \.txt, \.csv, \.mat, \.zip'):
        datasets.load_connectome(tmp_path / 'c.h5')
    with pytest.raises(FileNotFoundError, match='missing.npz'):
        datasets.load_connectome(tmp_path / 'missing.npz')
    with pytest.raises(ValueError, match='weights='):
        datasets.load_connectome()
    np.savez(tmp_path / 'c.npz', weights=W)
    with pytest.raises(ValueError, match='whole connectome'):
        datasets.load_connectome(tmp_path / 'c.npz', distances=D)
    np.save(tmp_path / 'w.npy', np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match='`weights` must be finite'):
        datasets.load_connectome(tmp_path / 'w.npy')


# ----------------------------------------------------------------------------
# delayed_match_task
# ----------------------------------------------------------------------------

def test_delayed_match_task_structure():
    x, y = datasets.delayed_match_task(64, seq_len=7, n_symbols=3, seed=1)
    assert x.shape == (64, 7, 3) and x.dtype == np.float32
    assert y.shape == (64,) and y.dtype == np.int32 and set(np.unique(y)) <= {0, 1, 2}
    np.testing.assert_array_equal(x[:, 0].sum(-1), 1.0)
    np.testing.assert_array_equal(x[:, 0].argmax(-1), y)
    assert np.all(x[:, 1:-1] == 0) and np.all(x[:, -1] == 1)


def test_delayed_match_task_seed_and_validation():
    a, ya = datasets.delayed_match_task()
    b, yb = datasets.delayed_match_task()
    _, yc = datasets.delayed_match_task(seed=5)
    assert a.shape == (128, 10, 4)
    np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(ya, yc)
    inputs, targets = datasets.load_dataset('delayed_match_task')
    np.testing.assert_array_equal(targets, ya)
    for kwargs in (dict(n_samples=0), dict(seq_len=1), dict(n_symbols=1), dict(n_samples=2.5)):
        with pytest.raises(ValueError, match=f'`{next(iter(kwargs))}`'):
            datasets.delayed_match_task(**kwargs)
