"""The brainmass results file format: header, units, trees of arrays, and reading / writing files.

The shared layer of :mod:`brainmass.datasets._io` (runs), :mod:`._io_results` (fits and
sweeps) and :mod:`._io_xarray` (netCDF / HDF5); see :mod:`brainmass.datasets._io` for the layout.
"""
from __future__ import annotations

import datetime
import importlib
import json
import os
from pathlib import Path
from typing import Dict, Optional, Tuple

import brainunit as u
import numpy as np

from .._core.units import is_traced
from .._core.validation import check_choice, format_choices, short_repr
from ._loaders import existing_path

__all__ = ['read_kind', 'RUN_FORMATS', 'HEADER', 'MAGIC', 'VERSION', 'IO_EXTRA', 'KIND_TEXT', 'unit_to_json',
           'unit_from_json', 'encode_tree', 'decode_tree', 'unit_texts', 'library_versions', 'now_utc',
           'make_header', 'check_path', 'resolve_format', 'write_file', 'read_file']

#: ``format=`` values of :func:`save_run` and the extensions that select them
RUN_FORMATS = {'npz': ('.npz',), 'netcdf': ('.nc',), 'hdf5': ('.h5', '.hdf5')}
HEADER = '__brainmass__'
MAGIC = 'brainmass'
VERSION = 1
_VERSIONED = ('brainmass', 'jax', 'jaxlib', 'brainstate', 'brainunit', 'braintools', 'numpy')
IO_EXTRA = ("saving to netCDF / HDF5 needs xarray and h5netcdf (or netCDF4): "
            "pip install 'brainmass[io]'")
#: what a file of each kind holds, for the error raised when another kind is read
KIND_TEXT = {'run': 'a simulation run (read it with brainmass.datasets.load_run)',
             'fit': 'a FitResult (read it with brainmass.FitResult.load)',
             'sweep': 'a SweepResult (read it with brainmass.sweep.SweepResult.load)'}


# =============================================================================
# units
# =============================================================================
def unit_to_json(unit) -> Optional[dict]:
    """A JSON-ready description of a brainunit ``Unit`` (its components and names)."""
    parts = unit._display_parts
    return {'text': str(unit), 'dim': [float(e) for e in np.asarray(unit.dim._dims)],
            'scale': float(unit.scale), 'factor': float(unit.factor), 'name': unit.name,
            'dispname': unit.dispname, 'fullname': bool(unit.is_fullname),
            'parts': None if parts is None else [[n, d, float(e)] for n, d, e in parts]}


def unit_from_json(spec: dict):
    """The ``Unit`` described by :func:`unit_to_json` (equal to the original, same text)."""
    def num(x):
        return int(x) if float(x).is_integer() else float(x)

    dim = u.get_or_create_dimension([num(e) for e in spec['dim']])
    parts = spec['parts'] and [(n, d, num(e)) for n, d, e in spec['parts']]
    return u.Unit(dim, scale=num(spec['scale']), factor=spec['factor'], name=spec['name'],
                  dispname=spec['dispname'], is_fullname=spec['fullname'], display_parts=parts)


# =============================================================================
# trees of arrays <-> (JSON structure, flat arrays)
# =============================================================================
_PY_SCALARS = {t.__name__: t for t in (bool, int, float, complex)}


def _leaf(value, where: str, key: str, arrays: dict) -> dict:
    """Store one leaf in ``arrays[key]``; return its JSON description."""
    if is_traced(value):
        raise TypeError(f'{where} is a JAX tracer: save concrete values, outside jit / grad / vmap.')
    unit = u.get_unit(value) if isinstance(value, u.Quantity) else None
    try:
        arr = np.asarray(u.get_mantissa(value) if unit is not None else value)
    except (TypeError, ValueError) as err:
        raise TypeError(f'{where} must be an array, a Quantity or a number; got {short_repr(value)}.') from err
    if arr.dtype.kind not in 'biufc':
        raise TypeError(f'{where} must hold numbers (an array, a Quantity or a number); got '
                        f'{short_repr(value)} with dtype {arr.dtype}.')
    arrays[key] = arr
    py = type(value).__name__ if type(value) in _PY_SCALARS.values() else None
    return {'leaf': key, 'unit': None if unit is None else unit_to_json(unit), 'dtype': arr.dtype.str,
            'shape': list(arr.shape), 'py': py}


def _child(key: str, k) -> str:
    """Array key of an item: ``'result:' -> 'result:node.x'``, ``'result:both' -> 'result:both[y]'``."""
    return f'{key}{k}' if key.endswith(':') else f'{key}[{k}]'


def _unique(key: str, arrays: dict) -> str:
    """``key`` made a valid, unused array / netCDF variable name."""
    key = key.rstrip(':').replace('/', '|')
    base, i = key, 1
    while key in arrays or key == HEADER:
        key, i = f'{base}~{i}', i + 1
    return key


def encode_tree(tree, where: str, key: str, arrays: dict):
    """JSON structure of a tree of dicts (str keys), lists, tuples, None and leaves."""
    if tree is None:
        return {'none': True}
    if type(tree) is dict:
        for k in tree:
            if not isinstance(k, str):
                raise TypeError(f'{where} must have str keys; got the key {short_repr(k)}.')
        return {'dict': [[k, encode_tree(v, f'{where}[{k!r}]', _child(key, k), arrays)] for k, v in tree.items()]}
    if type(tree) in (list, tuple):
        items = [encode_tree(v, f'{where}[{i}]', _child(key, i), arrays) for i, v in enumerate(tree)]
        return {type(tree).__name__: items}
    if isinstance(tree, (dict, list, tuple)) and not isinstance(tree, u.Quantity):
        raise TypeError(f'{where} is a {type(tree).__name__}: only plain dicts, lists and tuples of '
                        f'arrays / Quantities can be saved (convert it to one of those).')
    return _leaf(tree, where, _unique(key, arrays), arrays)


def decode_tree(spec, arrays, source: str):
    if 'none' in spec:
        return None
    if 'dict' in spec:
        return {k: decode_tree(v, arrays, source) for k, v in spec['dict']}
    if 'list' in spec or 'tuple' in spec:
        items = [decode_tree(v, arrays, source) for v in spec.get('list', spec.get('tuple'))]
        return items if 'list' in spec else tuple(items)
    return _leaf_value(spec, arrays, source)


def _leaf_value(spec: dict, arrays, source: str):
    if spec['leaf'] not in arrays:
        raise ValueError(f'{source} is damaged: the array {spec["leaf"]!r} its header lists is missing.')
    arr = np.asarray(arrays[spec['leaf']])
    if list(arr.shape) != spec['shape']:
        raise ValueError(f'{source} is damaged: the array {spec["leaf"]!r} has shape {arr.shape}, '
                         f'its header says {tuple(spec["shape"])}.')
    arr = arr.astype(np.dtype(spec['dtype']), copy=False)  # netCDF stores bools as int8
    if spec['py']:
        return _PY_SCALARS[spec['py']](arr.item())
    return arr if spec['unit'] is None else u.Quantity(arr, unit=unit_from_json(spec['unit']))


def unit_texts(trees: dict) -> dict:
    """``{array key: unit text}`` of every leaf (the netCDF ``units`` attributes)."""
    out = {}

    def walk(spec):
        if 'leaf' in spec:
            out[spec['leaf']] = spec['unit']['text'] if spec['unit'] else '1'
        for sub in spec.get('dict', []):
            walk(sub[1])
        for sub in spec.get('list', spec.get('tuple', [])):
            walk(sub)

    for spec in trees.values():
        walk(spec)
    return out


# =============================================================================
# header
# =============================================================================


def library_versions() -> Dict[str, Optional[str]]:
    out = {}
    for name in _VERSIONED:
        try:
            out[name] = str(importlib.import_module(name).__version__)
        except Exception:  # not installed, or no __version__
            out[name] = None
    return out


def now_utc() -> str:
    """The time now, ISO 8601 in UTC to the second: the ``created`` entry of a file's metadata."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')


def make_header(kind: str, format: str, trees: dict, meta: dict) -> dict:
    return {'magic': MAGIC, 'version': VERSION, 'kind': kind, 'format': format, 'trees': trees,
            'meta': meta}


# =============================================================================
# files
# =============================================================================
def check_path(path) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f'`path` must be a file path: a str or an os.PathLike such as pathlib.Path; '
                        f'got {short_repr(path)}.')
    return os.fspath(path)


def resolve_format(path: str, format) -> str:
    if format is not None:
        return check_choice(format, tuple(RUN_FORMATS), 'format')
    ext = Path(path).suffix.lower()
    for name, exts in RUN_FORMATS.items():
        if ext in exts:
            return name
    known = ', '.join(e for exts in RUN_FORMATS.values() for e in exts)
    raise ValueError(f'Cannot tell the file format from `path` {path!r}: end it in one of {known}, '
                     f'or pass format= (one of {format_choices(RUN_FORMATS)}).')


def _sniff(path: Path) -> str:
    with open(path, 'rb') as f:
        head = f.read(8)
    if head.startswith(b'PK'):
        return 'npz'
    if head.startswith(b'\x89HDF'):
        return 'hdf5'
    if head.startswith(b'CDF'):
        return 'netcdf'
    raise ValueError(f'{os.fspath(path)!r} is not a brainmass run file: it is neither an .npz archive nor '
                     f'a netCDF / HDF5 file.')


def write_file(path: str, format: str, header: dict, arrays: dict) -> str:
    """Write ``header`` and ``arrays`` to ``path`` in ``format``; return ``path``."""
    if format == 'npz':
        with open(path, 'wb') as f:  # a file object: numpy would append '.npz' to a bare name
            np.savez(f, **{HEADER: np.asarray(json.dumps(header))}, **arrays)
    else:
        from ._io_xarray import write_xarray  # the optional backend, loaded when first used
        write_xarray(path, format, header, arrays)
    return path


def read_file(path) -> Tuple[dict, dict, str]:
    """``(header, arrays, format)`` of a file written here; ValueError for any other file."""
    path = existing_path(check_path(path))
    format = _sniff(path)
    if format == 'npz':
        arrays = _read_npz(path)
    else:
        from ._io_xarray import read_xarray  # the optional backend, loaded when first used
        arrays = read_xarray(path, format)
    if HEADER not in arrays:
        raise ValueError(f'{os.fspath(path)!r} is not a brainmass run file: it has no {HEADER!r} header '
                         f'(files are written by brainmass.datasets.save_run or FitResult.save).')
    header = _parse_header(arrays.pop(HEADER), path)
    return header, arrays, ('npz' if format == 'npz' else header.get('format', format))


def _parse_header(raw, path) -> dict:
    try:
        header = json.loads(str(np.asarray(raw)))
    except ValueError as err:
        raise ValueError(f'{os.fspath(path)!r} has an unreadable {HEADER!r} header: {err}.') from err
    if not isinstance(header, dict) or header.get('magic') != MAGIC:
        raise ValueError(f'{os.fspath(path)!r} is not a brainmass run file: its header is not ours.')
    if header.get('version', 0) > VERSION:
        raise ValueError(f'{os.fspath(path)!r} was written by a newer brainmass (file format '
                         f'{header["version"]}; this one reads up to {VERSION}): upgrade brainmass.')
    return header


def _read_npz(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, KeyError) as err:
        raise ValueError(f'{os.fspath(path)!r} is not a brainmass run file: it cannot be read as an .npz '
                         f'archive of numeric arrays ({err}).') from err
    except Exception as err:  # zipfile.BadZipFile and friends
        raise ValueError(f'{os.fspath(path)!r} is not a brainmass run file: {type(err).__name__}: {err}.') from err


def read_kind(path, kind: str, what: str) -> Tuple[dict, dict, str, str]:
    """:func:`read_file` of a file that must hold ``kind`` (``'run'``, ``'fit'``, ``'sweep'``):
    ``(header, arrays, format, source)``; another kind is a ValueError naming its reader."""
    header, arrays, format = read_file(path)
    if header['kind'] != kind:
        raise ValueError(f'{os.fspath(path)!r} holds {KIND_TEXT.get(header["kind"], header["kind"])}, '
                         f'not {what}.')
    return header, arrays, format, repr(os.fspath(path))
