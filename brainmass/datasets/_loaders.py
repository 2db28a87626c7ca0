"""Loaders: the bundled datasets, user connectome files, and a toy sequence task.

Supported connectome files (:func:`load_connectome`):

===========================  ==================================================
``.npz``                     arrays ``weights`` (or ``SC``, ``W``, ...),
                             optional ``distances`` / ``tract_lengths``,
                             ``labels``, ``centres``
``.npy`` / ``.txt`` /        one matrix per file: pass the weights as ``path``
``.csv``                     (or ``weights=``) and the distances as
                             ``distances=``; ``.txt`` is whitespace separated,
                             ``.csv`` comma separated, each optionally with a
                             header row and/or a first column of labels
``.mat``                     MATLAB (v4-v7.2, read with :func:`scipy.io.loadmat`);
                             variables ``weights``/``SC``/``sc``/``W`` and
                             ``distances``/``tract_lengths``/``D``/``lengths``
``.zip``                     The Virtual Brain connectivity archive:
                             ``weights.txt``, optional ``tract_lengths.txt``
                             and ``centres.txt`` (``label x y z`` per line)
a folder                     the same files, unzipped (a TVB connectivity folder)
===========================  ==================================================

Text matrices may also be ``;``- or tab-delimited: a first line holding ``;``
switches to ``;``; a ``.csv`` whose first line has tabs and no comma is read
as tab-separated.

Distances / tract lengths in files are read as millimetres.
"""
from __future__ import annotations

import bz2
import csv
import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Dict, Optional, Tuple

import brainunit as u
import numpy as np

from .._core.validation import check_int_at_least, short_repr
from ._registry import register_dataset
from ._types import Connectome, Signal

__all__ = ['DATA_DIR', 'SUPPORTED_FORMATS', 'load_connectome', 'load_example_connectome',
           'load_example_signal', 'delayed_match_task']

DATA_DIR = Path(__file__).resolve().parent / 'data'
SUPPORTED_FORMATS = ('.npz', '.npy', '.txt', '.csv', '.mat', '.zip')
_MATRIX_FORMATS = ('.npy', '.txt', '.csv')

_WEIGHT_KEYS = ('weights', 'weight', 'W', 'SC', 'sc', 'Cmat', 'C', 'conn', 'connectivity')
_DISTANCE_KEYS = ('distances', 'distance', 'tract_lengths', 'tract_length', 'lengths', 'D',
                  'Dmat', 'dist', 'fiber_lengths')
_LABEL_KEYS = ('labels', 'region_labels', 'names', 'region_names', 'regions')
_CENTRE_KEYS = ('centres', 'centers', 'coords', 'positions')


# ----------------------------------------------------------------------------
# Bundled datasets
# ----------------------------------------------------------------------------

def _bundled(filename: str, dataset: str) -> Path:
    path = DATA_DIR / filename
    if not path.is_file():
        raise FileNotFoundError(
            f'The bundled data file for dataset {dataset!r} is missing: expected {path}. '
            f'It ships with brainmass; reinstall the package, or regenerate the file '
            f'(see docs/datasets.md).')
    return path


def load_example_connectome() -> Connectome:
    """8-region example connectome: symmetric weights (max 1), distances in mm (max 80 mm).

    The weights are non-negative with a zero diagonal; labels are ``'R0'..'R7'``.
    Generated deterministically by ``examples/make_example_connectome.py``.

    Examples
    --------
    >>> from brainmass import datasets
    >>> conn = datasets.load_dataset('example_connectome')
    >>> conn.distances.max()
    Quantity(80., "mm")
    """
    with np.load(_bundled('example_connectome.npz', 'example_connectome'), allow_pickle=False) as f:
        return Connectome(weights=f['weights'], distances=f['distances'] * u.mm,
                          labels=f['labels'], centres=f['centres'] * u.mm,
                          name='example_connectome')


def load_example_signal() -> Signal:
    """Simulated multi-region activity on the example connectome, with its FC and parameters.

    Reads ``data/example_signal.npz``, which holds ``signal`` (T, N),
    ``dt_ms`` (the sampling step in ms), optional ``labels`` and ``fc``, and
    one ``param_<name>`` entry per generating parameter (collected into
    ``Signal.params``).

    Raises
    ------
    FileNotFoundError
        When the data file is not present.
    """
    path = _bundled('example_signal.npz', 'example_signal')
    with np.load(path, allow_pickle=False) as f:
        params = {k[len('param_'):]: _item(f[k]) for k in f.files if k.startswith('param_')}
        return Signal(signal=f['signal'], dt=float(f['dt_ms']) * u.ms,
                      labels=f['labels'] if 'labels' in f.files else None,
                      fc=f['fc'] if 'fc' in f.files else None,
                      params=params, name='example_signal')


def _item(arr: np.ndarray):
    return arr.item() if arr.ndim == 0 else arr


# ----------------------------------------------------------------------------
# Readers for user files
# ----------------------------------------------------------------------------

def _find_key(names, candidates) -> Optional[str]:
    """The first of ``candidates`` in ``names`` (exact match first, then case-insensitive)."""
    for c in candidates:
        if c in names:
            return c
    lower = {n.lower(): n for n in names}
    for c in candidates:
        if c.lower() in lower:
            return lower[c.lower()]
    return None


_EXPECTED = {
    '.npz': 'a NumPy .npz archive (np.savez) of numeric arrays, with a weights matrix',
    '.npy': 'a NumPy .npy file (np.save) holding one numeric matrix',
    '.txt': 'a UTF-8 text file holding a whitespace-separated numeric matrix',
    '.csv': 'a UTF-8 text file holding a comma-separated numeric matrix',
    '.mat': 'a MATLAB .mat file (v4-v7.2) with a weights variable',
    '.zip': ('a TVB (The Virtual Brain) connectivity zip archive holding weights.txt (optional '
             'tract_lengths.txt, centres.txt)'),
}


class _Reason(ValueError):
    """Why a file cannot be read, in words (no exception name in the message)."""


def _unreadable(path, err, what=None) -> ValueError:
    """A ValueError naming the file and the format its extension promises (``err`` is chained by the caller)."""
    ext = Path(path).suffix.lower()
    text = str(err)
    if 'pickle' in text or 'Object arrays' in text:  # numpy's advice to allow pickles is not ours to give
        reason = 'it is not a NumPy file, or it holds Python objects, which brainmass never loads'
    elif isinstance(err, _Reason):
        reason = text
    else:
        reason = f'{type(err).__name__}: {text}' if text else type(err).__name__
    where = f'{os.fspath(path)!r}' + (f' ({what})' if what else '')
    return ValueError(f'Cannot read {where} as a connectome: expected {_EXPECTED.get(ext, "a connectome file")}; '
                      f'{reason}.')


def _missing_weights(path, names) -> ValueError:
    return ValueError(f'No weights matrix found in {os.fspath(path)!r}: expected one of '
                      f'{", ".join(_WEIGHT_KEYS)}; the file holds {", ".join(sorted(names)) or "nothing"}.')


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _parse_table(text: str, delimiter: Optional[str], source: str) -> Tuple[np.ndarray, Optional[list]]:
    """A numeric matrix from text, with labels from a header row or first column if present."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith('#')]
    delimiter = _sniff_delimiter(lines, delimiter)
    if delimiter is None:
        rows = [ln.split() for ln in lines]
    else:
        rows = [[c.strip() for c in r] for r in csv.reader(lines, delimiter=delimiter)]
    if not rows:
        raise ValueError(f'{source!r} holds no data.')
    header = rows[0] if not all(_is_number(c) for c in rows[0]) else None
    body = rows[1:] if header is not None else rows
    row_labels = None
    if body and not any(_is_number(r[0]) for r in body):
        row_labels, body = [r[0] for r in body], [r[1:] for r in body]
    try:
        matrix = np.array(body, dtype=float)
    except ValueError:
        raise ValueError(f'{source!r} must hold a rectangular numeric matrix '
                         f'(optionally with a header row / label column).') from None
    if header is not None and len(header) == matrix.shape[-1] + 1:
        header = header[1:]  # drop the top-left corner cell
    return matrix, row_labels if row_labels is not None else header


def _sniff_delimiter(lines, delimiter: Optional[str]) -> Optional[str]:
    """``';'`` when the first line holds one; a tab for a ``.csv`` whose first line has tabs but no comma."""
    first = lines[0] if lines else ''
    if ';' in first:
        return ';'
    if delimiter == ',' and '\t' in first and ',' not in first:
        return '\t'
    return delimiter


def _read_matrix(source, name: str) -> Tuple[object, Optional[list]]:
    """A matrix (and labels, when the file has them) from a path or an array."""
    if not isinstance(source, (str, os.PathLike)):
        return source, None
    path = existing_path(source, name)
    ext = path.suffix.lower()
    if ext == '.npy':
        try:
            return np.load(path, allow_pickle=False), None
        except (ValueError, OSError, EOFError) as err:
            raise _unreadable(path, err) from err
    if ext in ('.txt', '.csv'):
        try:
            text = path.read_text(encoding='utf-8')
        except UnicodeDecodeError as err:
            raise _unreadable(path, err) from err
        return _parse_table(text, ',' if ext == '.csv' else None, str(path))
    raise ValueError(f'`{name}` must be a .npy, .txt or .csv file (or an array); got {path.name!r}.')


def _check_path(path, name: str) -> None:
    """TypeError naming ``name`` unless ``path`` is None, a str or an os.PathLike."""
    if path is None or isinstance(path, (str, os.PathLike)):
        return
    hint = (' To pass matrices, use `weights=` (and `distances=`).'
            if name == 'path' and not isinstance(path, bytes) else '')
    raise TypeError(f'`{name}` must be a file path: a str or an os.PathLike such as pathlib.Path, '
                    f'ending in one of {", ".join(SUPPORTED_FORMATS)}; got {short_repr(path)}.{hint}')


def existing_path(path, name: str = 'path') -> Path:
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f'`{name}` is a directory, not a file: {os.fspath(path)!r}.')
    if not path.is_file():
        raise FileNotFoundError(f'`{name}` file not found: {os.fspath(path)!r}.')
    return path


def _read_npz(path: Path) -> Dict[str, object]:
    try:
        f = np.load(path, allow_pickle=False)
        if not isinstance(f, np.lib.npyio.NpzFile):  # a plain .npy array saved under a .npz name
            raise _Reason('it holds a single .npy array, not an archive of named arrays')
        with f:
            data = {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as err:
        raise _unreadable(path, err) from err
    return _pick(data, path)


def _pick(data: Dict[str, object], path) -> Dict[str, object]:
    """Map a dict of named arrays onto Connectome fields using the accepted aliases."""
    wkey = _find_key(data, _WEIGHT_KEYS)
    if wkey is None:
        raise _missing_weights(path, data)
    out = {'weights': data[wkey]}
    for field, keys in (('distances', _DISTANCE_KEYS), ('labels', _LABEL_KEYS),
                        ('centres', _CENTRE_KEYS)):
        key = _find_key([k for k in data if k != wkey], keys)
        out[field] = data[key] if key is not None else None
    return out


def _mat_labels(value) -> Optional[list]:
    """Region labels from a MATLAB char matrix or cell array."""
    if value is None:
        return None
    arr = np.asarray(value)
    if arr.dtype.kind in 'US':
        return [str(s).strip() for s in arr.ravel()]
    return [str(np.asarray(v).ravel()[0]).strip() if np.size(v) else '' for v in arr.ravel()]


def _read_mat(path: Path) -> Dict[str, object]:
    import scipy.io
    try:
        raw = scipy.io.loadmat(path)
    except NotImplementedError:
        raise ValueError(f'{os.fspath(path)!r} is a MATLAB v7.3 (HDF5) file, which scipy cannot read; '
                         f"re-save it in MATLAB with save(..., '-v7') or export the matrices "
                         f'as .npy/.csv.') from None
    except Exception as err:  # noqa: BLE001 - loadmat fails in many ways on non-.mat data (MatReadError, ...)
        raise _unreadable(path, err) from err
    data = {k: v for k, v in raw.items() if not k.startswith('__')}
    out = _pick(data, path)
    out['labels'] = _mat_labels(out['labels'])
    return out


#: the files of a TVB connectivity zip, per Connectome field (aliases in order of preference)
_TVB_FILES = {'weights': ('weights.txt',), 'distances': ('tract_lengths.txt', 'distances.txt'),
              'centres': ('centres.txt', 'centers.txt')}


def _tvb_base(member: str) -> str:
    """A TVB member's file name, lower case, without a ``.bz2`` suffix (tvb-data compresses some)."""
    name = PurePosixPath(member).name.lower()
    return name[:-4] if name.endswith('.bz2') else name


def _tvb_members(names, path) -> Dict[str, Optional[str]]:
    """The zip member holding each TVB file; refuse a zip that mixes several connectomes.

    Every file must come from one folder of the zip, once: two ``weights.txt``
    (e.g. ``subjA/weights.txt`` and ``subjB/weights.txt``), or files from
    different folders, or both spellings of one file, raise ValueError.
    Each file may be bz2-compressed (``weights.txt.bz2``).
    """
    names = [m for m in names if not m.endswith('/') and not m.startswith('__MACOSX')]
    known = {f: field for field, files in _TVB_FILES.items() for f in files}
    hits = [m for m in names if _tvb_base(m) in known]
    by_field = {field: [m for m in hits if known[_tvb_base(m)] == field]
                for field in _TVB_FILES}
    folders = {str(PurePosixPath(m).parent) for m in hits}
    clash = hits if len(folders) > 1 else [m for ms in by_field.values() if len(ms) > 1 for m in ms]
    if clash:
        raise ValueError(f'{os.fspath(path)!r} mixes more than one connectome: its members '
                         f'{", ".join(sorted(clash))} conflict. A TVB connectivity zip holds one '
                         f'weights.txt (with optional tract_lengths.txt and centres.txt) in one '
                         f'folder; make one zip per subject, or unpack it and load one folder\'s '
                         f'files with load_connectome(weights=..., distances=...).')
    if not by_field['weights']:
        raise ValueError(f'{os.fspath(path)!r} is not a TVB connectivity zip: weights.txt is missing '
                         f'(it holds {", ".join(sorted(names)) or "nothing"}).')
    return {field: (ms[0] if ms else None) for field, ms in by_field.items()}


def _decode(raw: bytes, member: str) -> str:
    """UTF-8 text of a member, bz2-decompressed when its name ends in ``.bz2``."""
    return (bz2.decompress(raw) if member.lower().endswith('.bz2') else raw).decode('utf-8')


def _read_member(zf, path, member: Optional[str]) -> Optional[str]:
    if member is None:
        return None
    try:
        return _decode(zf.read(member), member)
    except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError, zlib.error) as err:
        raise _unreadable(path, err, f'member {member}') from err


def _read_tvb_zip(path: Path) -> Dict[str, object]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise _unreadable(path, err) from err
    with zf:
        members = _tvb_members(zf.namelist(), path)
        texts = {field: _read_member(zf, path, m) for field, m in members.items()}
    return _tvb_fields(texts, members, path)


def _read_tvb_folder(path: Path) -> Dict[str, object]:
    """An unzipped TVB connectivity: ``weights.txt`` (optional ``tract_lengths.txt``, ``centres.txt``) in ``path``."""
    names = sorted(p.name for p in path.iterdir() if p.is_file())
    if 'weights.txt' not in (_tvb_base(n) for n in names):
        raise ValueError(f'{os.fspath(path)!r} is not a TVB connectivity folder: weights.txt is '
                         f'missing (it holds {", ".join(names) or "nothing"}). A folder must hold '
                         f'weights.txt, with optional tract_lengths.txt and centres.txt.')
    members = _tvb_members(names, path)
    texts = {}
    for field, member in members.items():
        try:
            texts[field] = None if member is None else _decode((path / member).read_bytes(), member)
        except (UnicodeDecodeError, OSError) as err:
            raise _unreadable(path / member, err) from err
    return _tvb_fields(texts, members, path)


def _tvb_fields(texts, members, path) -> Dict[str, object]:
    """Connectome fields from the texts of a TVB connectivity's files."""
    def source(field):
        return f'{os.fspath(path)}: {members[field]}'

    out = {'weights': _parse_table(texts['weights'], None, source('weights'))[0],
           'distances': None, 'labels': None, 'centres': None}
    if texts['distances'] is not None:
        out['distances'] = _parse_table(texts['distances'], None, source('distances'))[0]
    if texts['centres'] is not None:
        out['labels'], out['centres'] = _parse_centres(texts['centres'], source('centres'))
    return out


def _parse_centres(text: str, source: str = 'centres.txt') -> Tuple[Optional[list], np.ndarray]:
    """TVB ``centres.txt``: ``label x y z`` per line (the label column may be absent).

    A line with extra columns after ``x y z`` (tvb-data's connectivity_66 has a
    trailing ``None``) is read as TVB reads it: label first, then ``x y z``.
    """
    rows = [_centre_row(ln.split(), source) for ln in text.splitlines() if ln.strip()]
    labels = [lab for lab, _ in rows]
    return (labels if all(labels) else None), np.array([xyz for _, xyz in rows], dtype=float)


def _centre_row(tokens: list, source: str) -> Tuple[str, list]:
    for label, xyz in ((' '.join(tokens[:-3]), tokens[-3:]), (tokens[0] if tokens else '', tokens[1:4])):
        if len(xyz) == 3 and all(_is_number(t) for t in xyz):
            return label, [float(t) for t in xyz]
    raise ValueError(f'{source!r} must hold "label x y z" on each line; got {" ".join(tokens)!r}.')


def load_connectome(path=None, *, weights=None, distances=None, labels=None,
                    name: Optional[str] = None) -> Connectome:
    """Read a structural connectome from user files.

    Parameters
    ----------
    path : str or path-like, optional
        A connectome file: ``.npz``, ``.mat``, a TVB connectivity ``.zip``, or
        a single weights matrix (``.npy``, ``.txt``, ``.csv``). The format is
        chosen by the extension. A folder (with no such extension) is read as
        an unzipped TVB connectivity: ``weights.txt``, optional
        ``tract_lengths.txt`` and ``centres.txt``.
    weights : str, path-like or array_like, optional
        The weights matrix as a ``.npy``/``.txt``/``.csv`` file or an array,
        instead of ``path``.
    distances : str, path-like, array_like or Quantity, optional
        The distances (tract lengths) as a file or an array; plain numbers are
        millimetres. Only with a single-matrix ``path`` or ``weights=``.
    labels : sequence of str, optional
        Region labels; override those found in the files.
    name : str, optional
        The connectome's name; defaults to the file name without extension.

    Returns
    -------
    Connectome

    Raises
    ------
    ValueError
        For an unsupported extension (the message lists the supported ones),
        a file without a weights matrix, or an invalid matrix.
    FileNotFoundError
        When a file does not exist.

    Examples
    --------
    >>> from brainmass import datasets
    >>> conn = datasets.load_connectome('connectivity_76.zip')               # doctest: +SKIP
    >>> conn = datasets.load_connectome('connectivity_76/')  # unzipped      # doctest: +SKIP
    >>> conn = datasets.load_connectome(weights='w.npy', distances='d.npy')  # doctest: +SKIP
    >>> conn = datasets.load_connectome('sc.mat')                            # doctest: +SKIP
    """
    _check_path(path, 'path')
    if name is not None and not isinstance(name, str):
        raise TypeError(f'`name` must be a str; got {short_repr(name)}.')
    fields = _read_fields(path, weights, distances)
    if fields['weights'] is None:
        raise ValueError('Pass a connectome file as `path`, or the matrices as `weights=` '
                         '(and optionally `distances=`).')
    if labels is not None:
        fields['labels'] = labels
    if name is None:
        src = path if path is not None else (weights if isinstance(weights, (str, os.PathLike)) else None)
        name = Path(src).stem if src is not None else 'connectome'
    return Connectome(name=name, **fields)


def _read_fields(path, weights, distances) -> Dict[str, object]:
    if path is None:
        return _read_pair(weights, distances)
    ext = Path(path).suffix.lower()
    if ext not in SUPPORTED_FORMATS and Path(path).is_dir():
        if weights is not None or distances is not None:
            raise ValueError('A TVB connectivity folder holds the whole connectome; do not also '
                             'pass `weights=` or `distances=`.')
        return _read_tvb_folder(Path(path))
    if ext not in SUPPORTED_FORMATS:
        raise ValueError(f'Unsupported connectome file {os.fspath(path)!r}: the extension must be one '
                         f'of {", ".join(SUPPORTED_FORMATS)}.')
    if ext in _MATRIX_FORMATS:
        if weights is not None:
            raise ValueError('Pass the weights either as `path` or as `weights=`, not both.')
        return _read_pair(path, distances)
    if weights is not None or distances is not None:
        raise ValueError(f'A {ext} file holds the whole connectome; do not also pass '
                         f'`weights=` or `distances=`.')
    path = existing_path(path)
    reader = {'.npz': _read_npz, '.mat': _read_mat, '.zip': _read_tvb_zip}[ext]
    return reader(path)


def _read_pair(weights, distances) -> Dict[str, object]:
    w, w_labels = _read_matrix(weights, 'weights') if weights is not None else (None, None)
    d, d_labels = _read_matrix(distances, 'distances') if distances is not None else (None, None)
    return {'weights': w, 'distances': d, 'labels': w_labels if w_labels is not None else d_labels,
            'centres': None}


# ----------------------------------------------------------------------------
# A toy sequence task
# ----------------------------------------------------------------------------

def delayed_match_task(n_samples: int = 128, *, seq_len: int = 10, n_symbols: int = 4,
                       seed: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """A delayed-recall sequence task: report, at the cue, the symbol shown first.

    Each trial is ``seq_len`` steps over ``n_symbols`` input channels:

    * step 0 shows the *sample*: a one-hot vector of a random symbol;
    * steps 1 .. ``seq_len - 2`` are a silent delay (all zeros);
    * the last step is the *cue*: all channels on (ones), a pattern distinct
      from every symbol, asking the network to answer.

    The target is the sample's symbol index, to be read out at the last step.
    Chance accuracy is ``1 / n_symbols``.

    Parameters
    ----------
    n_samples : int
        Number of trials (>= 1).
    seq_len : int
        Steps per trial (>= 2: the sample and the cue; the delay is ``seq_len - 2``).
    n_symbols : int
        Number of symbols, which is also the number of input channels (>= 2).
    seed : int
        Seed of the numpy random generator (the data are deterministic given it).

    Returns
    -------
    inputs : numpy.ndarray, float32, shape (n_samples, seq_len, n_symbols)
    targets : numpy.ndarray, int32, shape (n_samples,)
        Symbol indices in ``[0, n_symbols)``.

    Examples
    --------
    >>> from brainmass import datasets
    >>> x, y = datasets.delayed_match_task(64, seq_len=12, n_symbols=3)
    >>> x.shape, y.shape
    ((64, 12, 3), (64,))
    >>> bool((x[:, 0].argmax(-1) == y).all())
    True
    """
    for value, name, low in ((n_samples, 'n_samples', 1), (seq_len, 'seq_len', 2),
                             (n_symbols, 'n_symbols', 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f'`{name}` must be an int >= {low}; got {value!r}.')
    check_int_at_least(seed, 0, 'seed')
    rng = np.random.default_rng(seed)
    targets = rng.integers(0, n_symbols, size=n_samples).astype(np.int32)
    inputs = np.zeros((n_samples, seq_len, n_symbols), dtype=np.float32)
    inputs[np.arange(n_samples), 0, targets] = 1.0
    inputs[:, -1, :] = 1.0
    return inputs, targets


# ----------------------------------------------------------------------------
# Built-in registrations
# ----------------------------------------------------------------------------

register_dataset('example_connectome', load_example_connectome,
                 description='8-region example connectome: symmetric weights (max 1), '
                             'distances in mm (max 80 mm), labels R0..R7.',
                 overwrite=True)
register_dataset('example_signal', load_example_signal,
                 description='Simulated activity on the example connectome, with its FC '
                             'and the generating parameters.',
                 overwrite=True)
register_dataset('delayed_match_task', delayed_match_task,
                 description='Toy delayed-recall sequence task (inputs, targets) with the '
                             'default settings of delayed_match_task().',
                 overwrite=True)
