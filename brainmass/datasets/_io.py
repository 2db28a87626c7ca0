"""Results I/O: simulation results and fits to files and back, with units, coordinates and provenance.

One place turns results into files: :func:`save_run` / :func:`load_run` for what
``Simulator.run`` returns, ``FitResult.save`` / ``FitResult.load`` (which call
:func:`save_fit` / :func:`load_fit` here) for fits, and :func:`to_numpy` /
:func:`from_numpy` to strip units explicitly (and put them back).

File layout. ``.npz`` (always available, read with ``allow_pickle=False``): one array
per leaf, named ``'result:node.x'``, ``'result:both[y][1]'``, ``'params:k'``, ...,
plus ``'__brainmass__'``, a JSON header holding the structure (dicts, lists,
tuples), each leaf's unit, dtype and kind, and the metadata. netCDF / HDF5 (through
xarray, the ``brainmass[io]`` extra): the same arrays as variables (a ``time``
dimension and coordinate from ``'ts'``, a ``region`` dimension labelled by
``labels``), a ``units`` attribute on each, and the same JSON header as the
global attribute ``__brainmass__``.

A unit is stored by its components (SI dimension exponents, decimal scale and
factor) together with its names, so it is rebuilt exactly (``unit ==`` original,
same text) without parsing or pickling.
"""
from __future__ import annotations

import dataclasses
import datetime
import importlib
import json
import numbers
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import brainstate
import brainunit as u
import numpy as np

from .._core.units import is_traced, strip, time_to_ms
from .._core.validation import check_bool, check_choice, format_choices, short_repr, single_number
from ._loaders import _existing

__all__ = ['save_run', 'load_run', 'RunMeta', 'to_numpy', 'from_numpy', 'model_params',
           'save_fit', 'load_fit', 'RUN_FORMATS']

#: ``format=`` values of :func:`save_run` and the extensions that select them
RUN_FORMATS = {'npz': ('.npz',), 'netcdf': ('.nc',), 'hdf5': ('.h5', '.hdf5')}
_HEADER = '__brainmass__'
_MAGIC = 'brainmass'
_VERSION = 1
_VERSIONED = ('brainmass', 'jax', 'jaxlib', 'brainstate', 'brainunit', 'braintools', 'numpy')
_IO_EXTRA = ("saving to netCDF / HDF5 needs xarray and h5netcdf (or netCDF4): "
             "pip install 'brainmass[io]'")


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
    while key in arrays or key == _HEADER:
        key, i = f'{base}~{i}', i + 1
    return key


def _encode(tree, where: str, key: str, arrays: dict):
    """JSON structure of a tree of dicts (str keys), lists, tuples, None and leaves."""
    if tree is None:
        return {'none': True}
    if type(tree) is dict:
        for k in tree:
            if not isinstance(k, str):
                raise TypeError(f'{where} must have str keys; got the key {short_repr(k)}.')
        return {'dict': [[k, _encode(v, f'{where}[{k!r}]', _child(key, k), arrays)] for k, v in tree.items()]}
    if type(tree) in (list, tuple):
        items = [_encode(v, f'{where}[{i}]', _child(key, i), arrays) for i, v in enumerate(tree)]
        return {type(tree).__name__: items}
    if isinstance(tree, (dict, list, tuple)) and not isinstance(tree, u.Quantity):
        raise TypeError(f'{where} is a {type(tree).__name__}: only plain dicts, lists and tuples of '
                        f'arrays / Quantities can be saved (convert it to one of those).')
    return _leaf(tree, where, _unique(key, arrays), arrays)


def _decode(spec, arrays, source: str):
    if 'none' in spec:
        return None
    if 'dict' in spec:
        return {k: _decode(v, arrays, source) for k, v in spec['dict']}
    if 'list' in spec or 'tuple' in spec:
        items = [_decode(v, arrays, source) for v in spec.get('list', spec.get('tuple'))]
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


# =============================================================================
# metadata
# =============================================================================
@dataclasses.dataclass(frozen=True)
class RunMeta:
    """What :func:`load_run` (``with_meta=True``) returns next to the result.

    Attributes
    ----------
    dt : Quantity or None
        The integration step given to :func:`save_run`.
    labels : list of str or None
        Region labels.
    params : dict
        ``{name: value}`` (Quantities keep their units); empty when none were saved.
    seed : int or None
        The random seed given to :func:`save_run`.
    attrs : dict
        Free-form JSON-compatible attributes given to :func:`save_run`.
    versions : dict
        ``{package: version}`` of brainmass, jax, jaxlib, brainstate, brainunit,
        braintools and numpy when the file was written (``None`` where not installed).
    created : str
        When the file was written (ISO 8601, UTC).
    format : str
        ``'npz'``, ``'netcdf'`` or ``'hdf5'``.
    """
    dt: Any = None
    labels: Optional[list] = None
    params: Dict[str, Any] = dataclasses.field(default_factory=dict)
    seed: Optional[int] = None
    attrs: Dict[str, Any] = dataclasses.field(default_factory=dict)
    versions: Dict[str, Optional[str]] = dataclasses.field(default_factory=dict)
    created: str = ''
    format: str = 'npz'


def _versions() -> Dict[str, Optional[str]]:
    out = {}
    for name in _VERSIONED:
        try:
            out[name] = str(importlib.import_module(name).__version__)
        except Exception:  # not installed, or no __version__
            out[name] = None
    return out


def _check_dt(dt):
    if dt is None:
        return None
    ms = single_number(time_to_ms(dt, 'dt'), 'dt', kinds='a time (e.g. 0.1 * u.ms; plain numbers are ms)',
                       unit='ms', positive=True)
    return dt if isinstance(dt, u.Quantity) else ms * u.ms


def _check_labels(labels):
    if labels is None:
        return None
    if isinstance(labels, str) or not isinstance(labels, (list, tuple, np.ndarray)):
        raise TypeError(f'`labels` must be a list (or array) of region names (str); got {short_repr(labels)}.')
    bad = [x for x in labels if not isinstance(x, str)]
    if bad or np.ndim(labels) != 1:
        raise TypeError(f'`labels` must be a 1-D list of region names (str); got {short_repr(labels)}.')
    return [str(x) for x in labels]


def _check_seed(seed):
    if seed is None:
        return None
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (numbers.Integral, np.integer)):
        raise TypeError(f'`seed` must be an int or None; got {short_repr(seed)}.')
    return int(seed)


def _check_attrs(attrs) -> dict:
    if attrs is None:
        return {}
    if not isinstance(attrs, dict) or not all(isinstance(k, str) for k in attrs):
        raise TypeError(f'`attrs` must be a dict with str keys; got {short_repr(attrs)}.')
    try:
        json.dumps(attrs, allow_nan=True)
    except (TypeError, ValueError) as err:
        raise TypeError(f'`attrs` must hold JSON values only (str, numbers, bools, None, lists, '
                        f'dicts); {err}.') from err
    return dict(attrs)


def _param_values(params) -> dict:
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise TypeError(f'`params` must be a dict {{name: value}}; got {short_repr(params)}.')
    return {k: v.value() if isinstance(v, brainstate.nn.Param) else v for k, v in params.items()}


def model_params(model) -> Dict[str, Any]:
    """``{path: value}`` of every parameter (``brainstate.nn.Param``, constants too) of a model.

    Paths are dotted (``'k'``, ``'node.a'``); values are what ``param.value()`` gives
    (Quantities for parameters declared with a unit). Pass the result as
    ``save_run(..., params=model_params(net))``.
    """
    if not isinstance(model, brainstate.nn.Module):
        raise TypeError(f'`model` must be a brainstate.nn.Module (a *Step model or a Network); '
                        f'got {short_repr(model)}.')
    return {'.'.join(str(p) for p in path): param.value()
            for path, param in model.nodes(brainstate.nn.Param).items()}


# =============================================================================
# files
# =============================================================================
def _check_path(path) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f'`path` must be a file path: a str or an os.PathLike such as pathlib.Path; '
                        f'got {short_repr(path)}.')
    return os.fspath(path)


def _resolve_format(path: str, format) -> str:
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


def _write(path: str, format: str, header: dict, arrays: dict) -> str:
    if format == 'npz':
        with open(path, 'wb') as f:  # a file object: numpy would append '.npz' to a bare name
            np.savez(f, **{_HEADER: np.asarray(json.dumps(header))}, **arrays)
    else:
        _write_xarray(path, format, header, arrays)
    return path


def _read(path) -> Tuple[dict, dict, str]:
    """``(header, arrays, format)`` of a file written here; ValueError for any other file."""
    path = _existing(_check_path(path))
    format = _sniff(path)
    arrays = _read_npz(path) if format == 'npz' else _read_xarray(path, format)
    if _HEADER not in arrays:
        raise ValueError(f'{os.fspath(path)!r} is not a brainmass run file: it has no {_HEADER!r} header '
                         f'(files are written by brainmass.datasets.save_run or FitResult.save).')
    header = _parse_header(arrays.pop(_HEADER), path)
    return header, arrays, ('npz' if format == 'npz' else header.get('format', format))


def _parse_header(raw, path) -> dict:
    try:
        header = json.loads(str(np.asarray(raw)))
    except ValueError as err:
        raise ValueError(f'{os.fspath(path)!r} has an unreadable {_HEADER!r} header: {err}.') from err
    if not isinstance(header, dict) or header.get('magic') != _MAGIC:
        raise ValueError(f'{os.fspath(path)!r} is not a brainmass run file: its header is not ours.')
    if header.get('version', 0) > _VERSION:
        raise ValueError(f'{os.fspath(path)!r} was written by a newer brainmass (file format '
                         f'{header["version"]}; this one reads up to {_VERSION}): upgrade brainmass.')
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


# ------------------------------------------------------------------ xarray
def _xarray():
    try:
        import xarray
    except ImportError as err:
        raise ImportError(f'{_IO_EXTRA} (xarray is not installed).') from err
    return xarray


def _engine(format: str) -> str:
    names = ('h5netcdf',) if format == 'hdf5' else ('netCDF4', 'h5netcdf')
    for name in names:
        try:
            importlib.import_module(name)
            return name.lower()
        except ImportError:
            continue
    raise ImportError(f'{_IO_EXTRA} (none of {", ".join(names)} is installed).')


def _dims(key: str, arr, n_time, n_region):
    """Dimension names of a variable: ``time`` first, ``region`` last where the sizes match."""
    dims = [f'{key}_dim{i}' for i in range(arr.ndim)]
    if n_time is not None and arr.ndim >= 1 and arr.shape[0] == n_time:
        dims[0] = 'time'
    if n_region is not None and arr.ndim >= 2 and arr.shape[-1] == n_region:
        dims[-1] = 'region'
    return dims


def _write_xarray(path: str, format: str, header: dict, arrays: dict):
    xr, engine = _xarray(), _engine(format)
    time_key, labels = header.get('time_key'), header['meta'].get('labels')
    ts = arrays.get(time_key)
    n_time = None if ts is None or ts.ndim != 1 else ts.shape[0]
    n_region = None if labels is None else len(labels)
    units = _unit_texts(header['trees'])
    data = {}
    for key, arr in arrays.items():
        if arr.dtype.kind == 'c':
            raise ValueError(f"`format` {format!r} cannot store the complex array {key!r}: use format='npz'.")
        dims = ['time'] if key == time_key and n_time is not None else _dims(key, arr, n_time, n_region)
        data[key] = xr.Variable(dims, arr, attrs={'units': units[key]})
    coords = {} if labels is None else {'region': np.asarray(labels, dtype=str)}
    if n_time is not None:
        coords['time'] = xr.Variable(['time'], ts, attrs={'units': units[time_key]})
    ds = xr.Dataset(data, coords=coords, attrs={_HEADER: json.dumps(header)})
    ds.to_netcdf(path, engine=engine, encoding={k: {'_FillValue': None} for k in ds.variables})


def _read_xarray(path: Path, format: str) -> dict:
    xr = _xarray()
    engine = _engine('hdf5') if format == 'hdf5' else 'scipy'  # netCDF-4 files are HDF5 files
    try:
        with xr.open_dataset(path, engine=engine, decode_cf=False, mask_and_scale=False) as ds:
            arrays = {k: np.asarray(v.values) for k, v in ds.data_vars.items()}
            if _HEADER in ds.attrs:
                arrays[_HEADER] = np.asarray(ds.attrs[_HEADER])
    except (OSError, ValueError) as err:
        raise ValueError(f'{os.fspath(path)!r} cannot be read as a netCDF / HDF5 file: {err}.') from err
    return arrays


# =============================================================================
# runs
# =============================================================================
def _check_result(result):
    if not isinstance(result, dict) or not result:
        raise TypeError(f'`result` must be a non-empty dict {{name: array or Quantity}} as returned by '
                        f'Simulator.run; got {short_repr(result)}.')


def _header(kind: str, format: str, trees: dict, meta: dict) -> dict:
    return {'magic': _MAGIC, 'version': _VERSION, 'kind': kind, 'format': format, 'trees': trees,
            'meta': meta}


def _unit_texts(trees: dict) -> dict:
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


def save_run(path, result, *, dt=None, labels=None, params=None, seed=None, attrs=None, format=None) -> str:
    """Write a simulation result (what ``Simulator.run`` returns) to a file, with its metadata.

    Parameters
    ----------
    path : str or os.PathLike
        The file. Its extension picks the format (``.npz``; ``.nc``: netCDF; ``.h5`` /
        ``.hdf5``: HDF5) unless ``format`` is given; the file is written at exactly this path.
    result : dict
        ``{name: array, Quantity, or a dict / list / tuple of them}``, e.g. with ``'ts'``.
    dt : Quantity or float, optional
        The integration step (plain numbers are ms).
    labels : list of str, optional
        Region labels (the last axis of the recorded arrays).
    params : dict, optional
        ``{name: value}`` (numbers, arrays, Quantities or ``brainstate.nn.Param``), e.g.
        ``Fitter.current_params()`` or :func:`model_params`.
    seed : int, optional
        The random seed of the run.
    attrs : dict, optional
        Anything else, JSON-compatible (``{'note': 'baseline'}``).
    format : {'npz', 'netcdf', 'hdf5'}, optional
        netCDF / HDF5 need the ``brainmass[io]`` extra (xarray, h5netcdf).

    Returns
    -------
    str
        The path written.
    """
    path = _check_path(path)
    format = _resolve_format(path, format)
    _check_result(result)
    meta = {'labels': _check_labels(labels), 'seed': _check_seed(seed), 'attrs': _check_attrs(attrs),
            'versions': _versions(),
            'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}
    dt = _check_dt(dt)
    arrays = {}
    trees = {'result': _encode(result, '`result`', 'result:', arrays),
             'params': _encode(_param_values(params), '`params`', 'params:', arrays),
             'dt': _encode(dt, '`dt`', 'meta:dt', arrays)}
    header = _header('run', format, trees, meta)
    ts_spec = dict(trees['result']['dict']).get('ts')
    header['time_key'] = ts_spec.get('leaf') if ts_spec else None
    return _write(path, format, header, arrays)


def load_run(path, *, with_meta: bool = False):
    """Read a file written by :func:`save_run`.

    Parameters
    ----------
    path : str or os.PathLike
        The file (its format is read from its content).
    with_meta : bool, default False
        Also return the metadata.

    Returns
    -------
    dict, or (dict, RunMeta)
        The result as saved: numpy arrays, Quantities with their units, the same
        nesting and dtypes (values bit-identical); with ``with_meta``, a :class:`RunMeta` too.
    """
    check_bool(with_meta, 'with_meta')
    header, arrays, format = _read(path)
    if header['kind'] != 'run':
        raise ValueError(f'{os.fspath(path)!r} holds {_KIND_TEXT.get(header["kind"], header["kind"])}, '
                         f'not a simulation run.')
    source = repr(os.fspath(path))
    result = _decode(header['trees']['result'], arrays, source)
    if not with_meta:
        return result
    m = header['meta']
    meta = RunMeta(dt=_decode(header['trees']['dt'], arrays, source), labels=m['labels'],
                   params=_decode(header['trees']['params'], arrays, source), seed=m['seed'],
                   attrs=m['attrs'], versions=m['versions'], created=m['created'], format=format)
    return result, meta


# =============================================================================
# fits
# =============================================================================
_FIT_SCALARS = ('backend', 'best_loss', 'n_steps', 'stop_reason', 'initial_loss', 'n_evaluations', 'wall_time')
_FIT_TREES = ('best_params', 'history', 'prediction')


def save_fit(path, fields: dict) -> str:
    """Write the fields of a ``FitResult`` (``_FIT_SCALARS`` and ``_FIT_TREES``) to an ``.npz`` file."""
    path = _check_path(path)
    _resolve_format(path, 'npz')
    scalars = {k: fields[k] for k in _FIT_SCALARS}
    for k in ('best_loss', 'initial_loss', 'wall_time'):
        scalars[k] = float(scalars[k])
    for k in ('n_steps', 'n_evaluations'):
        scalars[k] = int(scalars[k])
    arrays = {}
    trees = {k: _encode(fields[k], f'`{k}`', f'{k}:', arrays) for k in _FIT_TREES}
    meta = {'fit': scalars, 'versions': _versions(),
            'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}
    return _write(path, 'npz', _header('fit', 'npz', trees, meta), arrays)


def load_fit(path) -> dict:
    """The fields saved by :func:`save_fit`: ``{'best_loss': ..., 'best_params': {...}, ...}``."""
    header, arrays, _ = _read(path)
    if header['kind'] != 'fit':
        raise ValueError(f'{os.fspath(path)!r} holds {_KIND_TEXT.get(header["kind"], header["kind"])}, '
                         f'not a FitResult.')
    source = repr(os.fspath(path))
    fields = dict(header['meta']['fit'])
    fields.update({k: _decode(header['trees'][k], arrays, source) for k in _FIT_TREES})
    return fields


def save_sweep(path, axes: dict, metrics: dict, info: dict) -> str:
    """Write a sweep's table to an ``.npz`` file: ``axes`` ``{name: (kind, values)}`` (values a
    numpy array or a Quantity), ``metrics`` ``{name: array or Quantity}``, ``info`` (JSON-ready)."""
    path = _check_path(path)
    _resolve_format(path, 'npz')
    arrays = {}
    trees = {'coords': _encode({n: v for n, (_, v) in axes.items()}, '`coords`', 'coords:', arrays),
             'metrics': _encode(dict(metrics), '`metrics`', 'metrics:', arrays)}
    meta = {'axes': [[n, kind] for n, (kind, _) in axes.items()], 'info': info, 'versions': _versions(),
            'created': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}
    return _write(path, 'npz', _header('sweep', 'npz', trees, meta), arrays)


def load_sweep(path) -> dict:
    """``{'axes': {name: (kind, values)}, 'metrics': {...}, 'info': {...}, 'versions': {...}}`` of
    a file written by :func:`save_sweep`."""
    header, arrays, _ = _read(path)
    if header['kind'] != 'sweep':
        raise ValueError(f'{os.fspath(path)!r} holds {_KIND_TEXT.get(header["kind"], header["kind"])}, '
                         f'not a SweepResult.')
    source = repr(os.fspath(path))
    coords = _decode(header['trees']['coords'], arrays, source)
    meta = header['meta']
    return {'axes': {n: (kind, coords[n]) for n, kind in meta['axes']},
            'metrics': _decode(header['trees']['metrics'], arrays, source),
            'info': meta['info'], 'versions': meta.get('versions', {})}


_KIND_TEXT = {'run': 'a simulation run (read it with brainmass.datasets.load_run)',
              'fit': 'a FitResult (read it with brainmass.FitResult.load)',
              'sweep': 'a SweepResult (read it with brainmass.sweep.SweepResult.load)'}


# =============================================================================
# units stripped explicitly
# =============================================================================
def _is_quantity(x) -> bool:
    return isinstance(x, u.Quantity)


def _strip_tree(tree):
    """``(magnitudes, unit texts)`` of a dict / list / tuple tree (``None`` for plain arrays)."""
    if type(tree) is dict:
        pairs = {k: _strip_tree(v) for k, v in tree.items()}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    if type(tree) in (list, tuple):
        pairs = [_strip_tree(v) for v in tree]
        return type(tree)(p[0] for p in pairs), type(tree)(p[1] for p in pairs)
    if tree is None:
        return None, None
    return strip(tree), (str(u.get_unit(tree)) if _is_quantity(tree) else None)


def _attach(tree, units, where: str):
    if units is None:
        return tree
    if isinstance(units, str):
        return u.Quantity(tree, unit=u.Unit(units))
    try:
        if isinstance(units, dict):
            return {k: _attach(tree[k], units[k], f'{where}[{k!r}]') for k in units}
        pairs = enumerate(zip(tree, units, strict=True))
        return type(units)(_attach(t, s, f'{where}[{i}]') for i, (t, s) in pairs)
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"`data` does not match its 'units' entry at {where}.") from err


def to_numpy(result) -> dict:
    """The result with every Quantity replaced by its magnitude, and a ``'units'`` entry.

    ``units[name]`` is the unit text of a Quantity (``'mV'``, ``'ms'``), ``None`` for a
    plain array, or the same nesting of those for a dict / list / tuple. Arrays become
    numpy arrays (magnitudes in each Quantity's own unit, dtypes kept). :func:`from_numpy`
    puts the units back.
    """
    _check_result(result)
    if 'units' in result:
        raise ValueError("`result` already has a 'units' entry; rename it before to_numpy.")
    pairs = {k: _strip_tree(v) for k, v in result.items()}
    out = {k: p[0] for k, p in pairs.items()}
    out['units'] = {k: p[1] for k, p in pairs.items()}
    return out


def from_numpy(data) -> dict:
    """Undo :func:`to_numpy`: attach ``data['units']`` to the magnitudes again."""
    if not isinstance(data, dict) or not isinstance(data.get('units'), dict):
        raise TypeError(f"`data` must be a dict with a 'units' entry, as returned by to_numpy; "
                        f"got {short_repr(data)}.")
    units = data['units']
    return {k: _attach(v, units.get(k), f'`data`[{k!r}]') for k, v in data.items() if k != 'units'}
