"""netCDF / HDF5 files through xarray (the ``brainmass[io]`` extra): the same arrays and header
as an ``.npz`` file, with ``time`` / ``region`` dimensions and a ``units`` attribute on each variable."""
from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

import numpy as np

from ._io_format import HEADER, IO_EXTRA, unit_texts

__all__ = ['write_xarray', 'read_xarray']


def _xarray():
    try:
        import xarray
    except ImportError as err:
        raise ImportError(f'{IO_EXTRA} (xarray is not installed).') from err
    return xarray


def _engine(format: str) -> str:
    names = ('h5netcdf',) if format == 'hdf5' else ('netCDF4', 'h5netcdf')
    for name in names:
        try:
            importlib.import_module(name)
            return name.lower()
        except ImportError:
            continue
    raise ImportError(f'{IO_EXTRA} (none of {", ".join(names)} is installed).')


def _dims(key: str, arr, n_time, n_region):
    """Dimension names of a variable: ``time`` first, ``region`` last where the sizes match."""
    dims = [f'{key}_dim{i}' for i in range(arr.ndim)]
    if n_time is not None and arr.ndim >= 1 and arr.shape[0] == n_time:
        dims[0] = 'time'
    if n_region is not None and arr.ndim >= 2 and arr.shape[-1] == n_region:
        dims[-1] = 'region'
    return dims


def write_xarray(path: str, format: str, header: dict, arrays: dict):
    xr, engine = _xarray(), _engine(format)
    time_key, labels = header.get('time_key'), header['meta'].get('labels')
    ts = arrays.get(time_key)
    n_time = None if ts is None or ts.ndim != 1 else ts.shape[0]
    n_region = None if labels is None else len(labels)
    units = unit_texts(header['trees'])
    data = {}
    for key, arr in arrays.items():
        if arr.dtype.kind == 'c':
            raise ValueError(f"`format` {format!r} cannot store the complex array {key!r}: use format='npz'.")
        dims = ['time'] if key == time_key and n_time is not None else _dims(key, arr, n_time, n_region)
        data[key] = xr.Variable(dims, arr, attrs={'units': units[key]})
    coords = {} if labels is None else {'region': np.asarray(labels, dtype=str)}
    if n_time is not None:
        coords['time'] = xr.Variable(['time'], ts, attrs={'units': units[time_key]})
    ds = xr.Dataset(data, coords=coords, attrs={HEADER: json.dumps(header)})
    ds.to_netcdf(path, engine=engine, encoding={k: {'_FillValue': None} for k in ds.variables})


def read_xarray(path: Path, format: str) -> dict:
    xr = _xarray()
    engine = _engine('hdf5') if format == 'hdf5' else 'scipy'  # netCDF-4 files are HDF5 files
    try:
        with xr.open_dataset(path, engine=engine, decode_cf=False, mask_and_scale=False) as ds:
            arrays = {k: np.asarray(v.values) for k, v in ds.data_vars.items()}
            if HEADER in ds.attrs:
                arrays[HEADER] = np.asarray(ds.attrs[HEADER])
    except (OSError, ValueError) as err:
        raise ValueError(f'{os.fspath(path)!r} cannot be read as a netCDF / HDF5 file: {err}.') from err
    return arrays
