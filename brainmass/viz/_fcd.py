"""Functional connectivity dynamics: the FCD matrix and the distribution of its values."""
from __future__ import annotations

from typing import Optional

import numpy as np

from .._core.validation import check_bool, check_int_at_least
from ..datasets._types import Signal
from ._common import as_array, check_finite, get_axes

__all__ = ['plot_fcd', 'plot_fcd_distribution']


def _fcd_matrix(data, dt, window_size, step_size, is_matrix: bool):
    """``(FCD matrix, step between window starts in samples or None, dt in s or None)``."""
    from ..analysis import fcd
    from ..analysis._inputs import samples, sampling_interval
    dt_s = None if dt is None else sampling_interval(dt)
    if is_matrix:
        m = check_finite(as_array(data, 'data', ndims=(2,)), 'data')
        if m.shape[0] != m.shape[1]:
            raise ValueError(f'`data` must be a square (W, W) FCD matrix with is_matrix=True; got shape {m.shape}.')
        step = None if step_size is None else samples(step_size, 'step_size', dt_s, 1)
        if dt_s is not None and step is None:
            raise ValueError('`step_size` is required with `dt` and is_matrix=True: it places the windows in time.')
        return m, step, dt_s
    if window_size is None or step_size is None:
        raise ValueError('`window_size` and `step_size` are required to compute the FCD of a (T, N) series '
                         '(or pass an FCD matrix with is_matrix=True).')
    check_finite(as_array(data, 'data', ndims=(2,)), 'data')
    m = np.asarray(fcd(data, window_size, step_size, dt), dtype=float)
    return m, samples(step_size, 'step_size', dt_s, 1), dt_s


def plot_fcd(data, dt=None, *, window_size=None, step_size=None, is_matrix: bool = False, ax=None,
             cmap: str = 'viridis', colorbar: bool = True):
    """Plot the functional connectivity dynamics (FCD) matrix.

    Entry ``(k, l)`` is the correlation between the FC of windows ``k`` and
    ``l`` (see :func:`brainmass.analysis.fcd`). Both axes show the window
    start times: in seconds when ``dt`` is given, else in samples.

    Parameters
    ----------
    data : array_like, Quantity or Signal
        A (T, N) series (``N >= 3``, finite), whose FCD is computed with
        :func:`brainmass.analysis.fcd`; or, with ``is_matrix=True``, a (W, W)
        FCD matrix. A :class:`~brainmass.datasets.Signal` brings its ``dt``.
    dt : Quantity or float, optional
        The sampling step (plain numbers are milliseconds).
    window_size, step_size : int or Quantity
        Window length and shift between windows, in samples or as times
        (then ``dt`` is required). Both are required for a series; with
        ``is_matrix=True`` only ``step_size`` is used, to place the windows
        (required when ``dt`` is given; without it the axes count windows).
    is_matrix : bool
        Treat ``data`` as a precomputed FCD matrix.
    ax : matplotlib.axes.Axes, optional
    cmap : str
        Matplotlib colour map.
    colorbar : bool
        Add a colour bar (labelled ``'FC correlation'``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For a wrong shape, NaN/inf, a window longer than the series, fewer
        than 2 windows, or missing ``window_size`` / ``step_size``.
    TypeError
        For a ``dt`` that is not a time, or window sizes that are neither int
        samples nor times.

    Examples
    --------
    >>> import numpy as np, brainunit as u
    >>> from brainmass import viz
    >>> x = np.random.default_rng(0).normal(size=(1000, 4))
    >>> ax = viz.plot_fcd(x, 1 * u.ms, window_size=200, step_size=50)
    >>> ax.get_xlabel()
    'window start (s)'
    """
    if isinstance(data, Signal):
        dt = data.dt if dt is None else dt
        data = data.signal
    m, step, dt_s = _fcd_matrix(data, dt, window_size, step_size, check_bool(is_matrix, 'is_matrix'))
    if step is None:
        spacing, label = 1.0, 'window'
    else:
        spacing, label = (step * dt_s, 'window start (s)') if dt_s is not None else (step, 'window start (sample)')
    edges = (np.array([0, m.shape[0]]) - 0.5) * spacing
    ax = get_axes(ax)
    im = ax.imshow(m, cmap=cmap, interpolation='nearest', extent=(edges[0], edges[1], edges[1], edges[0]))
    ax.set_xlabel(label)
    ax.set_ylabel(label)
    if check_bool(colorbar, 'colorbar'):
        ax.figure.colorbar(im, ax=ax).set_label('FC correlation')
    return ax


def _fcd_values(data, name: str, dt, window_size, step_size) -> np.ndarray:
    """FCD values: computed from a (T, N) series, or a 1-D array of values in [-1, 1] as given."""
    from ..analysis import fcd_distribution
    if isinstance(data, Signal):
        dt = data.dt if dt is None else dt
        data = data.signal
    arr = check_finite(as_array(data, name), name)
    if arr.ndim == 2:
        if window_size is None or step_size is None:
            raise ValueError(f'`window_size` and `step_size` are required to compute the FCD of `{name}` '
                             f'(a (T, N) series).')
        return np.asarray(fcd_distribution(data, window_size, step_size, dt), dtype=float)
    if name == 'data' and (window_size is not None or step_size is not None):
        raise ValueError('1-D `data` is read as FCD values; `window_size` and `step_size` apply only to a '
                         '(T, N) series (for one region use x[:, None]; the FCD needs N >= 3).')
    if np.any(np.abs(arr) > 1.0 + 1e-6):
        raise ValueError(f'1-D `{name}` is read as FCD values, which are correlations in [-1, 1]; '
                         f'got values from {arr.min():g} to {arr.max():g}.')
    return arr


def plot_fcd_distribution(data, dt=None, *, window_size=None, step_size=None, target=None, ax=None,
                          bins: int = 50, label: Optional[str] = None):
    """Plot the distribution of the FCD values (the upper triangle of the FCD matrix).

    A density histogram on fixed bins over [-1, 1], so that histograms drawn
    on the same Axes (a model against a target) are comparable.

    Parameters
    ----------
    data : array_like, Quantity or Signal
        A (T, N) series (``N >= 3``, finite), whose values are computed with
        :func:`brainmass.analysis.fcd_distribution`; or a 1-D array of FCD
        values (e.g. an empirical distribution), in [-1, 1].
    dt : Quantity or float, optional
        The sampling step (plain numbers are milliseconds); needed only for
        window sizes given as times.
    window_size, step_size : int or Quantity
        The FCD windows (see :func:`brainmass.analysis.fcd`); required for a
        (T, N) series (``data`` or ``target``).
    target : array_like, Quantity or Signal, optional
        A target to compare with, in the same forms as ``data`` (a series
        uses the same windows and ``dt``); drawn as an outline labelled
        ``'target'``.
    ax : matplotlib.axes.Axes, optional
    bins : int
        Number of bins over [-1, 1].
    label : str, optional
        Legend entry of ``data``; a legend is drawn when a label or a target is given.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For a wrong shape, NaN/inf, 1-D values outside [-1, 1], a window
        longer than the series, or missing ``window_size`` / ``step_size``.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass import viz
    >>> rng = np.random.default_rng(0)
    >>> ax = viz.plot_fcd_distribution(rng.normal(size=(1000, 4)), window_size=200, step_size=50,
    ...                                target=rng.normal(size=(1000, 4)), label='model')
    """
    bins = check_int_at_least(bins, 1, 'bins')
    values = _fcd_values(data, 'data', dt, window_size, step_size)
    edges = np.linspace(-1.0, 1.0, bins + 1)
    ax = get_axes(ax)
    ax.hist(values, bins=edges, density=True, alpha=0.6, label=label)
    if target is not None:
        ax.hist(_fcd_values(target, 'target', dt, window_size, step_size), bins=edges, density=True,
                histtype='step', linewidth=1.5, color='k', label='target')
    ax.set_xlabel('FCD value (FC correlation)')
    ax.set_ylabel('density')
    if label is not None or target is not None:
        ax.legend(fontsize='small')
    return ax
