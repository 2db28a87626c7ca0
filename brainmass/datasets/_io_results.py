"""Fits and sweeps to ``.npz`` files and back (``FitResult.save`` / ``load``, ``SweepResult.save`` / ``load``)."""
from __future__ import annotations


from ._io_format import (check_path, decode_tree, encode_tree, library_versions, make_header,
                         now_utc, read_kind, resolve_format, write_file)

__all__ = ['save_fit', 'load_fit', 'save_sweep', 'load_sweep']


_FIT_SCALARS = ('backend', 'best_loss', 'n_steps', 'stop_reason', 'initial_loss', 'n_evaluations', 'wall_time')
_FIT_TREES = ('best_params', 'history', 'prediction')


def save_fit(path, fields: dict) -> str:
    """Write the fields of a ``FitResult`` (``_FIT_SCALARS`` and ``_FIT_TREES``) to an ``.npz`` file."""
    path = check_path(path)
    resolve_format(path, 'npz')
    scalars = {k: fields[k] for k in _FIT_SCALARS}
    for k in ('best_loss', 'initial_loss', 'wall_time'):
        scalars[k] = float(scalars[k])
    for k in ('n_steps', 'n_evaluations'):
        scalars[k] = int(scalars[k])
    arrays = {}
    trees = {k: encode_tree(fields[k], f'`{k}`', f'{k}:', arrays) for k in _FIT_TREES}
    meta = {'fit': scalars, 'versions': library_versions(),
            'created': now_utc()}
    return write_file(path, 'npz', make_header('fit', 'npz', trees, meta), arrays)


def load_fit(path) -> dict:
    """The fields saved by :func:`save_fit`: ``{'best_loss': ..., 'best_params': {...}, ...}``."""
    header, arrays, _, source = read_kind(path, 'fit', 'a FitResult')
    fields = dict(header['meta']['fit'])
    fields.update({k: decode_tree(header['trees'][k], arrays, source) for k in _FIT_TREES})
    return fields


def save_sweep(path, axes: dict, metrics: dict, info: dict) -> str:
    """Write a sweep's table to an ``.npz`` file: ``axes`` ``{name: (kind, values)}`` (values a
    numpy array or a Quantity), ``metrics`` ``{name: array or Quantity}``, ``info`` (JSON-ready)."""
    path = check_path(path)
    resolve_format(path, 'npz')
    arrays = {}
    trees = {'coords': encode_tree({n: v for n, (_, v) in axes.items()}, '`coords`', 'coords:', arrays),
             'metrics': encode_tree(dict(metrics), '`metrics`', 'metrics:', arrays)}
    meta = {'axes': [[n, kind] for n, (kind, _) in axes.items()], 'info': info, 'versions': library_versions(),
            'created': now_utc()}
    return write_file(path, 'npz', make_header('sweep', 'npz', trees, meta), arrays)


def load_sweep(path) -> dict:
    """``{'axes': {name: (kind, values)}, 'metrics': {...}, 'info': {...}, 'versions': {...}}`` of
    a file written by :func:`save_sweep`."""
    header, arrays, _, source = read_kind(path, 'sweep', 'a SweepResult')
    coords = decode_tree(header['trees']['coords'], arrays, source)
    meta = header['meta']
    return {'axes': {n: (kind, coords[n]) for n, kind in meta['axes']},
            'metrics': decode_tree(header['trees']['metrics'], arrays, source),
            'info': meta['info'], 'versions': meta.get('versions', {})}
