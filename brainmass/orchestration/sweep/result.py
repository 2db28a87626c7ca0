"""The labelled table a sweep returns (:class:`SweepResult`)."""
from __future__ import annotations

import brainunit as u
import numpy as np

from ..._core.display import html_table, value_text

__all__ = ['SweepResult']


class SweepResult:
    """Metrics of every point of a sweep, on the grid of its :class:`~brainmass.sweep.Space`.

    ``result[metric]`` has shape ``space.shape + extra`` (``extra``: the shape of the
    metric's value at one point, labelled ``<metric>_dim0``, ...), with the metric's unit
    when it returned a Quantity.

    Attributes
    ----------
    space : Space
        The swept space (its ``names`` are the dims, its ``coords`` the coordinates).
    info : dict
        How it ran: ``vectorize`` ('batch' or 'vmap' per group of points), ``devices``,
        ``chunk_size``, ``n_chunks``, ``n_programs`` (simulations traced: one per structural
        group), ``n_compiles`` (programs compiled: one per group, whatever the number of
        chunks), ``compile_seconds`` (tracing and compiling), ``seconds`` (the whole sweep).

    Examples
    --------
    >>> import brainmass, brainunit as u, jax.numpy as jnp
    >>> from brainmass import sweep
    >>> node = brainmass.HopfStep(2, w=0.3, init_x=0.1)
    >>> res = sweep.run(node, sweep.Space(a=sweep.grid(-0.2, 0.2, 3)), duration=10 * u.ms, dt=0.1 * u.ms,
    ...                 monitors=['x'], metrics={'var': lambda r: jnp.var(r['x'])})
    >>> res['var'].shape
    (3,)
    >>> sorted(res.best('var'))
    ['a', 'index', 'var']
    """

    def __init__(self, space, data, units, info):
        self.space = space
        self._data = dict(data)
        self._units = dict(units)
        self.info = dict(info)

    # ------------------------------------------------------------ access
    @property
    def dims(self) -> tuple:
        return self.space.names

    @property
    def shape(self) -> tuple:
        return self.space.shape

    @property
    def coords(self) -> dict:
        """``{axis name: values}`` (Quantities for axes with a unit)."""
        return self.space.coords

    @property
    def metrics(self) -> tuple:
        """The metric names."""
        return tuple(self._data)

    def keys(self):
        return self._data.keys()

    def __iter__(self):
        return iter(self._data)

    def __contains__(self, name):
        return name in self._data

    def __getitem__(self, name):
        if name not in self._data:
            raise KeyError(f'no metric {name!r}; the metrics are {", ".join(map(repr, self._data))}.')
        unit = self._units.get(name)
        arr = self._data[name]
        return arr.copy() if unit is None else u.Quantity(arr, unit=unit)

    def extra_dims(self, name) -> tuple:
        """Names of the dims a metric adds to the grid (``('<name>_dim0', ...)``)."""
        return tuple(f'{name}_dim{i}' for i in range(self._data[name].ndim - len(self.shape)))

    # ------------------------------------------------------------ exports
    def to_dict(self) -> dict:
        """A plain dict: ``{'dims', 'coords', 'data', 'units', 'data_dims'}``.

        ``coords`` and ``data`` hold numpy arrays (magnitudes); ``units`` gives the unit text
        of every coordinate and metric (``''``: a plain number); ``data_dims`` the dims of
        each metric.
        """
        units = {name: _unit_text(axis.unit) for name, axis in self.space.axes.items()}
        units.update({name: _unit_text(self._units.get(name)) for name in self._data})
        return dict(dims=self.dims,
                    coords={name: axis.magnitudes.copy() for name, axis in self.space.axes.items()},
                    data={name: arr.copy() for name, arr in self._data.items()},
                    units=units,
                    data_dims={name: self.dims + self.extra_dims(name) for name in self._data})

    def to_xarray(self):
        """An ``xarray.Dataset``: dims = axis names, coords = axis values, one variable per metric.

        Units are in each coordinate's and variable's ``attrs['units']`` (absent for plain
        numbers). Raises ImportError when xarray is not installed (``pip install xarray``;
        :meth:`to_dict` needs nothing).
        """
        try:
            import xarray as xr
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError('SweepResult.to_xarray() needs xarray (pip install xarray); '
                              'SweepResult.to_dict() gives the same table as plain arrays.') from err
        d = self.to_dict()
        coords = {name: xr.Variable((name,), d['coords'][name], _attrs(d['units'][name])) for name in self.dims}
        data = {name: xr.Variable(d['data_dims'][name], arr, _attrs(d['units'][name]))
                for name, arr in d['data'].items()}
        return xr.Dataset(data, coords=coords, attrs={k: str(v) for k, v in self.info.items()})

    def save(self, path) -> str:
        """Write the table to an ``.npz`` file (read it back with :meth:`SweepResult.load`).

        Saved: every axis (kind, values, unit), every metric (values, unit), ``info`` and the
        package versions; values are bit-identical after :meth:`load`. Returns the path written.
        For netCDF, ``result.to_xarray().to_netcdf(path)`` (needs xarray).
        """
        from ...datasets._io_results import save_sweep
        axes = {name: (axis.kind, axis.values) for name, axis in self.space.axes.items()}
        metrics = {name: self[name] for name in self._data}
        return save_sweep(path, axes, metrics, {k: _json_ready(v) for k, v in self.info.items()})

    @classmethod
    def load(cls, path) -> 'SweepResult':
        """Read a table written by :meth:`SweepResult.save`."""
        from ...datasets._io_results import load_sweep
        from .space import Axis, Space
        saved = load_sweep(path)
        axes = {}
        for name, (kind, vals) in saved['axes'].items():
            unit = vals.unit if isinstance(vals, u.Quantity) else None
            axes[name] = Axis(kind, u.get_magnitude(vals), unit)
        data, units = {}, {}
        for name, value in saved['metrics'].items():
            if isinstance(value, u.Quantity):
                data[name], units[name] = np.asarray(value.mantissa), value.unit
            else:
                data[name] = np.asarray(value)
        return cls(Space(axes), data, units, saved['info'])

    # ------------------------------------------------------------ helpers
    def best(self, metric, higher_is_better=True) -> dict:
        """The point where a scalar metric is largest (or smallest); NaN points are skipped.

        Returns ``{axis: value, ..., metric: value, 'index': grid index}``.
        """
        if metric not in self._data:
            raise KeyError(f'no metric {metric!r}; the metrics are {", ".join(map(repr, self._data))}.')
        if not isinstance(higher_is_better, (bool, np.bool_)):
            raise TypeError(f'`higher_is_better` must be a bool; got {higher_is_better!r}.')
        arr = self._data[metric]
        if arr.ndim != len(self.shape):
            raise ValueError(f'best() needs a scalar metric; {metric!r} has shape {arr.shape[len(self.shape):]} '
                             f'at each point.')
        if not np.any(np.isfinite(arr)):
            raise ValueError(f'metric {metric!r} is NaN/inf at every point.')
        masked = np.where(np.isfinite(arr), arr, -np.inf if higher_is_better else np.inf)
        flat = int(np.argmax(masked) if higher_is_better else np.argmin(masked))
        index = tuple(int(i) for i in np.unravel_index(flat, self.shape))
        out = {name: axis.value(i) for (name, axis), i in zip(self.space.axes.items(), index)}
        value = arr[index].item()
        unit = self._units.get(metric)
        out[metric] = value if unit is None else u.Quantity(value, unit=unit)
        out['index'] = index
        return out

    def __repr__(self):
        dims = ', '.join(f'{n}: {len(a)}' for n, a in self.space.axes.items())
        mets = ', '.join(f'{m} {self._data[m].shape}' for m in self._data)
        info = self.info
        how = (f"{info.get('vectorize')}, {info.get('devices')} device{'s' if info.get('devices') != 1 else ''}, "
               f"{info.get('n_chunks')} chunk{'s' if info.get('n_chunks') != 1 else ''}")
        if 'seconds' in info:
            how += f", {info['seconds']:.2f} s"
        return f'SweepResult(dims=({dims}); metrics: {mets}; {how})'

    def _repr_html_(self):
        rows = [(name, f'{len(a)} values, {value_text(a.values)}') for name, a in self.space.axes.items()]
        rows += [(m, value_text(self[m])) for m in self._data]
        rows += [(k, v) for k, v in self.info.items()]
        return html_table('SweepResult', rows)


def _json_ready(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    return str(value)


def _unit_text(unit) -> str:
    return '' if unit is None or unit.is_unitless else str(unit)


def _attrs(unit_text):
    return {'units': unit_text} if unit_text else {}
