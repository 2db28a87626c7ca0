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
import json
import numbers
from typing import Any, Dict, Optional

import brainstate
import brainunit as u
import numpy as np

from .._core.units import strip, time_to_ms
from .._core.validation import check_bool, short_repr, single_number
from ._io_format import (RUN_FORMATS, check_path, decode_tree, encode_tree, library_versions,
                         make_header, now_utc, read_kind, resolve_format, write_file)
from ._io_format import unit_from_json, unit_to_json  # noqa: F401  (importable from here, as before)
from ._io_results import load_fit, save_fit

__all__ = ['save_run', 'load_run', 'RunMeta', 'to_numpy', 'from_numpy', 'model_params',
           'save_fit', 'load_fit', 'RUN_FORMATS']


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
# runs
# =============================================================================
def _check_result(result):
    if not isinstance(result, dict) or not result:
        raise TypeError(f'`result` must be a non-empty dict {{name: array or Quantity}} as returned by '
                        f'Simulator.run; got {short_repr(result)}.')


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
    path = check_path(path)
    format = resolve_format(path, format)
    _check_result(result)
    meta = {'labels': _check_labels(labels), 'seed': _check_seed(seed), 'attrs': _check_attrs(attrs),
            'versions': library_versions(),
            'created': now_utc()}
    dt = _check_dt(dt)
    arrays = {}
    trees = {'result': encode_tree(result, '`result`', 'result:', arrays),
             'params': encode_tree(_param_values(params), '`params`', 'params:', arrays),
             'dt': encode_tree(dt, '`dt`', 'meta:dt', arrays)}
    header = make_header('run', format, trees, meta)
    ts_spec = dict(trees['result']['dict']).get('ts')
    header['time_key'] = ts_spec.get('leaf') if ts_spec else None
    return write_file(path, format, header, arrays)


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
    header, arrays, format, source = read_kind(path, 'run', 'a simulation run')
    result = decode_tree(header['trees']['result'], arrays, source)
    if not with_meta:
        return result
    m = header['meta']
    meta = RunMeta(dt=decode_tree(header['trees']['dt'], arrays, source), labels=m['labels'],
                   params=decode_tree(header['trees']['params'], arrays, source), seed=m['seed'],
                   attrs=m['attrs'], versions=m['versions'], created=m['created'], format=format)
    return result, meta


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
