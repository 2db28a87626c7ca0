"""Typed containers for the data brainmass ships or reads: :class:`Connectome` and :class:`Signal`.

Both are frozen dataclasses that validate their fields on construction, so a
bad matrix fails loudly here (naming the field and the problem) rather than as
a shape error deep inside a compiled simulation.

This module imports nothing from the rest of brainmass but a ``_core`` helper.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Mapping, Optional

import brainunit as u
import numpy as np

from .._core.validation import short_repr

__all__ = ['Connectome', 'Signal']


# ----------------------------------------------------------------------------
# Small validation helpers (private)
# ----------------------------------------------------------------------------

def _has_unit(value) -> bool:
    return isinstance(value, u.Quantity) and not u.get_unit(value).is_unitless


def _float_array(value, name: str) -> np.ndarray:
    """A float64 numpy copy of ``value``; a Quantity must be dimensionless."""
    if _has_unit(value):
        raise ValueError(f'`{name}` must be dimensionless; got a quantity in {u.get_unit(value)}.')
    try:
        return np.array(u.get_magnitude(value), dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f'`{name}` must be a numeric array; got {type(value).__name__} ({err}).') from None


def _check_finite(arr: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f'`{name}` must be finite; found {int(bad.sum())} NaN/inf value(s), '
                         f'the first at index {first}.')


def _check_square(arr: np.ndarray, name: str) -> None:
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f'`{name}` must be a square 2-D (N, N) matrix; got shape {arr.shape}.')
    if arr.shape[0] < 1:
        raise ValueError(f'`{name}` must have at least one region; got shape {arr.shape}.')


def _to_mm(value, name: str) -> np.ndarray:
    """Magnitude of ``value`` in millimetres; plain numbers are read as mm."""
    if isinstance(value, u.Quantity) and not u.get_unit(value).is_unitless:
        if u.get_dim(value) != u.get_dim(u.mm):
            raise ValueError(f'`{name}` must be a length (e.g. in u.mm); got a quantity in '
                             f'{u.get_unit(value)}.')
        value = value.to(u.mm)
    return _float_array(u.get_magnitude(value), name)


def _labels(labels, n: int, name: str = 'labels') -> np.ndarray:
    """1-D numpy str array of length ``n`` (default ``R0 .. R{n-1}``)."""
    if labels is None:
        return np.array([f'R{i}' for i in range(n)])
    arr = np.asarray(labels)
    if arr.dtype.kind == 'S':
        arr = np.char.decode(arr, 'utf-8')
    arr = np.array([str(x).strip() for x in arr.ravel()]) if arr.ndim else np.array([str(arr)])
    if arr.shape != (n,):
        raise ValueError(f'`{name}` must hold one label per region ({n}); got {arr.size}.')
    return arr


def _time_quantity(dt, name: str = 'dt') -> u.Quantity:
    """``dt`` as a positive time Quantity; plain numbers are read as ms."""
    if isinstance(dt, u.Quantity) and not u.get_unit(dt).is_unitless:
        if u.get_dim(dt) != u.get_dim(u.ms):
            raise ValueError(f'`{name}` must be a time (e.g. 0.1 * u.ms); got a quantity in '
                             f'{u.get_unit(dt)}.')
    else:
        try:
            dt = np.asarray(u.get_magnitude(dt), dtype=float) * u.ms
        except (TypeError, ValueError):
            raise TypeError(f'`{name}` must be a time step: a time Quantity (e.g. 0.1 * u.ms) or a '
                            f'number of ms; got {short_repr(dt)}.') from None
    if np.size(u.get_magnitude(dt)) != 1:
        raise ValueError(f'`{name}` must be a scalar time step; got shape {np.shape(u.get_magnitude(dt))}.')
    mag = float(np.asarray(u.get_magnitude(dt)).reshape(()))
    if not np.isfinite(mag) or mag <= 0:
        raise ValueError(f'`{name}` must be a finite time step > 0; got {dt}.')
    return u.Quantity(mag, unit=u.get_unit(dt))


NORMALIZATIONS = ('max', 'log', 'row_sum')


def normalized_weights(w: np.ndarray, kind) -> np.ndarray:
    """``w`` normalised by ``kind`` (see :meth:`Connectome.normalized`)."""
    if not isinstance(kind, str) or kind not in NORMALIZATIONS:
        raise ValueError(f'`kind` must be one of {", ".join(repr(k) for k in NORMALIZATIONS)}; '
                         f'got {short_repr(kind)}.')
    if not np.any(w):
        raise ValueError(f'Cannot normalise (kind={kind!r}): all weights are zero.')
    if kind == 'max':
        return w / np.abs(w).max()
    if (w < 0).any():
        raise ValueError(f'kind={kind!r} needs non-negative weights; the smallest is {w.min()}.')
    if kind == 'log':
        return np.log1p(w) / np.log1p(w.max())
    sums = w.sum(axis=1, keepdims=True)
    return np.divide(w, sums, out=np.zeros_like(w), where=sums > 0)


def pearson_fc(x: np.ndarray) -> np.ndarray:
    """Pearson FC of a (T, N) array; constant columns give 0 off-diagonal, 1 on it."""
    if x.shape[0] < 2:
        raise ValueError(f'`signal` needs at least 2 time points to compute `fc`; got {x.shape[0]}.')
    with np.errstate(invalid='ignore', divide='ignore'):
        fc = np.corrcoef(x, rowvar=False).reshape(x.shape[1], x.shape[1])
    fc = np.nan_to_num(fc, nan=0.0)
    np.fill_diagonal(fc, 1.0)
    return fc


# ----------------------------------------------------------------------------
# Connectome
# ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Connectome:
    """A structural connectome: coupling weights, distances and region labels.

    Parameters
    ----------
    weights : array_like, shape (N, N)
        Structural-connectivity (coupling) weights, dimensionless and finite.
        ``weights[i, j]`` is the strength of the connection from region ``j``
        onto region ``i``. Stored as a float64 numpy array.
    distances : Quantity or array_like, shape (N, N), optional
        Inter-region distances (tract lengths): finite and non-negative. Any
        length unit is converted to ``u.mm``; plain numbers are read as mm.
        ``None`` when the connectome has no distances (no conduction delays).
    labels : sequence of str, optional
        One name per region; defaults to ``'R0' .. 'R{N-1}'``. Stored as a
        numpy ``str`` array.
    centres : Quantity or array_like, shape (N, 3), optional
        Region centre coordinates, converted to ``u.mm`` (plain numbers: mm).
    name : str
        A short name for the connectome.

    Raises
    ------
    ValueError
        When a field has the wrong shape, holds NaN/inf, a distance is
        negative, or a quantity has the wrong unit; the message names the field.

    Notes
    -----
    The instance is frozen (fields cannot be re-assigned) and owns copies of
    its arrays, so changing the arrays passed in does not change it.

    Examples
    --------
    >>> import numpy as np, brainunit as u
    >>> from brainmass.datasets import Connectome
    >>> conn = Connectome(np.array([[0., 1.], [1., 0.]]),
    ...                   distances=np.array([[0., 20.], [20., 0.]]) * u.mm)
    >>> conn
    Connectome(name='connectome', n_regions=2, distances=True)
    >>> list(conn.labels)
    [np.str_('R0'), np.str_('R1')]
    """

    weights: np.ndarray
    distances: Optional[u.Quantity] = None
    labels: Optional[np.ndarray] = None
    centres: Optional[u.Quantity] = None
    name: str = 'connectome'

    def __post_init__(self):
        w = _float_array(self.weights, 'weights')
        _check_square(w, 'weights')
        _check_finite(w, 'weights')
        n = w.shape[0]
        object.__setattr__(self, 'weights', w)
        object.__setattr__(self, 'distances', self._validate_distances(self.distances, w.shape))
        object.__setattr__(self, 'labels', _labels(self.labels, n))
        object.__setattr__(self, 'centres', self._validate_centres(self.centres, n))
        object.__setattr__(self, 'name', str(self.name))

    @staticmethod
    def _validate_distances(distances, shape):
        if distances is None:
            return None
        d = _to_mm(distances, 'distances')
        if d.shape != shape:
            raise ValueError(f'`distances` must have the same shape as `weights` {shape}; got {d.shape}.')
        _check_finite(d, 'distances')
        if (d < 0).any():
            raise ValueError(f'`distances` must be non-negative; the smallest is {d.min()} mm.')
        return u.Quantity(d, unit=u.mm)

    @staticmethod
    def _validate_centres(centres, n):
        if centres is None:
            return None
        c = _to_mm(centres, 'centres')
        if c.shape != (n, 3):
            raise ValueError(f'`centres` must have shape (N, 3) = ({n}, 3); got {c.shape}.')
        _check_finite(c, 'centres')
        return u.Quantity(c, unit=u.mm)

    @property
    def n_regions(self) -> int:
        """Number of regions ``N``."""
        return int(self.weights.shape[0])

    def __len__(self) -> int:
        return self.n_regions

    def __repr__(self) -> str:
        return (f'Connectome(name={self.name!r}, n_regions={self.n_regions}, '
                f'distances={self.distances is not None})')

    def _repr_html_(self) -> str:
        """A small HTML table for notebooks: regions, first labels, weight statistics, distance range."""
        from .._core.display import html_table, value_text
        labels = ', '.join(str(s) for s in self.labels[:5]) + (', ...' if self.n_regions > 5 else '')
        w = self.weights
        off = w[~np.eye(self.n_regions, dtype=bool)] if self.n_regions > 1 else w.ravel()
        rows = [('name', self.name), ('regions', self.n_regions), ('labels', labels),
                ('weights', f'{w.min():.4g}..{w.max():.4g}, mean {w.mean():.4g}, '
                            f'{int(np.count_nonzero(off))} non-zero off-diagonal')]
        if self.distances is not None:
            rows.append(('distances', value_text(self.distances)))
        if self.centres is not None:
            rows.append(('centres', 'yes (mm)'))
        return html_table('Connectome', rows)

    def normalized(self, kind: str = 'max') -> 'Connectome':
        """A new connectome with normalised weights (distances, labels, centres, name unchanged).

        Parameters
        ----------
        kind : {'max', 'log', 'row_sum'}
            * ``'max'``: ``W / max(|W|)`` -- the largest weight becomes 1 (signs kept).
            * ``'log'``: ``log1p(W) / log1p(max(W))`` -- compresses the orders of
              magnitude of tractography counts; zeros stay 0, the largest becomes 1.
              Needs non-negative weights.
            * ``'row_sum'``: ``W[i, j] / sum_k W[i, k]`` -- each region's total input
              (``weights[i, :]`` is what region ``i`` receives) becomes 1; a row of
              zeros (a region with no input) stays zero. Needs non-negative weights.

        Returns
        -------
        Connectome

        Raises
        ------
        ValueError
            For an unknown ``kind``, all-zero weights, or negative weights with
            ``'log'`` / ``'row_sum'``.

        Examples
        --------
        >>> import numpy as np
        >>> from brainmass.datasets import Connectome
        >>> conn = Connectome(np.array([[0., 2.], [6., 0.]]))
        >>> conn.normalized('max').weights
        array([[0.        , 0.33333333],
               [1.        , 0.        ]])
        >>> conn.normalized('row_sum').weights
        array([[0., 1.],
               [1., 0.]])
        """
        w = normalized_weights(self.weights, kind)
        return dataclasses.replace(self, weights=w)

    def save(self, path) -> str:
        """Write the connectome to a ``.npz`` file readable by :func:`load_connectome`.

        Distances and centres are stored in mm. Returns the path written.

        Examples
        --------
        >>> conn.save('my_connectome.npz')  # doctest: +SKIP
        'my_connectome.npz'
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f'`path` must be a file path (a str or an os.PathLike such as '
                            f'pathlib.Path) ending in .npz; got {short_repr(path)}.')
        path = os.fspath(path)
        if not path.endswith('.npz'):
            raise ValueError(f'`path` must end in .npz; got {path!r}.')
        arrays = {'weights': self.weights, 'labels': self.labels}
        if self.distances is not None:
            arrays['distances'] = u.get_magnitude(self.distances)
        if self.centres is not None:
            arrays['centres'] = u.get_magnitude(self.centres)
        np.savez(path, **arrays)
        return path


# ----------------------------------------------------------------------------
# Signal
# ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Signal:
    """A multi-region time series with its sampling step and functional connectivity.

    Parameters
    ----------
    signal : array_like or Quantity, shape (T, N)
        Activity of ``N`` regions over ``T`` time points; finite. Units are
        kept (stored with a numpy mantissa).
    dt : Quantity
        Sampling step, a positive time (e.g. ``0.1 * u.ms``). A plain number
        is read as milliseconds.
    labels : sequence of str, optional
        One name per region; defaults to ``'R0' .. 'R{N-1}'``.
    fc : array_like, shape (N, N), optional
        Functional connectivity. When omitted it is computed as the Pearson
        correlation between the columns of ``signal`` (constant columns give
        0 off the diagonal; the diagonal is 1).
    params : dict, optional
        The parameters that generated the signal (e.g. a model's coupling).
    name : str
        A short name for the signal.

    Raises
    ------
    ValueError
        When ``signal`` is not 2-D or not finite, ``dt`` is not a positive
        time, or ``fc`` / ``labels`` do not match ``N``.

    Examples
    --------
    >>> import numpy as np, brainunit as u
    >>> from brainmass.datasets import Signal
    >>> x = np.random.default_rng(0).normal(size=(100, 3))
    >>> sig = Signal(x, dt=1.0 * u.ms)
    >>> sig.fc.shape, sig.n_regions, sig.n_times
    ((3, 3), 3, 100)
    """

    signal: Any
    dt: u.Quantity
    labels: Optional[np.ndarray] = None
    fc: Optional[np.ndarray] = None
    params: Optional[Mapping[str, Any]] = None
    name: str = 'signal'

    def __post_init__(self):
        x = self._validate_signal(self.signal)
        mag = np.asarray(u.get_magnitude(x))
        n = mag.shape[1]
        object.__setattr__(self, 'signal', x)
        object.__setattr__(self, 'dt', _time_quantity(self.dt, 'dt'))
        object.__setattr__(self, 'labels', _labels(self.labels, n))
        object.__setattr__(self, 'fc', self._validate_fc(self.fc, mag))
        object.__setattr__(self, 'params', dict(self.params or {}))
        object.__setattr__(self, 'name', str(self.name))

    @staticmethod
    def _validate_signal(signal):
        unit = u.get_unit(signal) if isinstance(signal, u.Quantity) else None
        try:
            mag = np.array(u.get_magnitude(signal), dtype=float)
        except (TypeError, ValueError) as err:
            raise ValueError(f'`signal` must be a numeric (T, N) array; got {type(signal).__name__} '
                             f'({err}).') from None
        if mag.ndim != 2:
            raise ValueError(f'`signal` must be 2-D with shape (T, N) = (time, regions); '
                             f'got shape {mag.shape}.')
        if mag.shape[0] < 1 or mag.shape[1] < 1:
            raise ValueError(f'`signal` must have at least one time point and one region; got {mag.shape}.')
        _check_finite(mag, 'signal')
        if unit is None or unit.is_unitless:
            return mag
        return u.Quantity(mag, unit=unit)

    @staticmethod
    def _validate_fc(fc, mag):
        n = mag.shape[1]
        if fc is None:
            return pearson_fc(mag)
        fc = _float_array(fc, 'fc')
        if fc.shape != (n, n):
            raise ValueError(f'`fc` must have shape (N, N) = ({n}, {n}); got {fc.shape}.')
        _check_finite(fc, 'fc')
        return fc

    @property
    def n_regions(self) -> int:
        """Number of regions ``N``."""
        return int(np.shape(u.get_magnitude(self.signal))[1])

    @property
    def n_times(self) -> int:
        """Number of time points ``T``."""
        return int(np.shape(u.get_magnitude(self.signal))[0])

    @property
    def ts(self) -> u.Quantity:
        """Sample times ``0, dt, 2 dt, ...`` (a time Quantity of length ``T``)."""
        return np.arange(self.n_times) * self.dt

    @property
    def duration(self) -> u.Quantity:
        """Total duration ``T * dt``."""
        return self.n_times * self.dt

    def __repr__(self) -> str:
        return (f'Signal(name={self.name!r}, n_times={self.n_times}, n_regions={self.n_regions}, '
                f'dt={self.dt})')

    def _repr_html_(self) -> str:
        """A small HTML table for notebooks: name, shape, dt, duration, value range."""
        from .._core.display import html_table, value_text
        rows = [('name', self.name), ('regions', self.n_regions), ('time points', self.n_times),
                ('dt', value_text(self.dt)), ('duration', value_text(self.duration)),
                ('values', value_text(self.signal))]
        return html_table('Signal', rows)
