"""A scalar metric of a parameter sweep over its one or two axes."""
from __future__ import annotations

from typing import Optional

import brainunit as u
import numpy as np

from .._core.display import micro
from .._core.validation import check_bool
from ._common import get_axes, unit_str, with_unit

__all__ = ['plot_sweep']


def _axis_label(name: str, axis) -> str:
    unit = axis.unit_text()
    return f'{name} ({micro(unit)})' if unit else name


def _tick_text(values: np.ndarray) -> list:
    return [f'{v:.3g}' for v in values]


def plot_sweep(result, metric: str, *, x: Optional[str] = None, ax=None, cmap: str = 'viridis',
               mark_best: bool = True, higher_is_better: bool = True, colorbar: bool = True):
    """Plot a scalar metric of a sweep over its one or two axes (a line or a heat map).

    Parameters
    ----------
    result : brainmass.sweep.SweepResult
        A sweep over one or two axes (reduce larger spaces first, or sweep a slice).
    metric : str
        A scalar metric of ``result``.
    x : str, optional
        The axis on the horizontal axis of a 2-D map (default: the second axis, so the
        array's rows go up the vertical axis). Cells sit at their grid index, labelled with
        the axis values, so log grids are evenly spaced.
    ax : matplotlib.axes.Axes, optional
    cmap : str
        Matplotlib colour map (2-D maps).
    mark_best : bool
        Mark the best point (NaN points skipped) with a white star (2-D) or a dot (1-D).
    higher_is_better : bool
        Which end of the metric is best, for ``mark_best``.
    colorbar : bool
        Add a colour bar labelled with the metric (and its unit) to a 2-D map.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For an unknown metric or axis, a metric that is not a scalar per point, or a space
        of more than two axes.
    TypeError
        When ``result`` is not a sweep result.

    Examples
    --------
    >>> import brainmass, brainunit as u, jax.numpy as jnp
    >>> from brainmass import sweep, viz
    >>> node = brainmass.HopfStep(2, init_x=0.1)
    >>> res = sweep.run(node, sweep.Space(a=sweep.grid(-0.2, 0.2, 3), w=[0.2, 0.3]), duration=5 * u.ms,
    ...                 dt=0.1 * u.ms, monitors=['x'], metrics={'var': lambda r: jnp.var(r['x'])})
    >>> ax = viz.plot_sweep(res, 'var')
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('w', 'a')
    """
    space = getattr(result, 'space', None)
    if space is None or not hasattr(result, 'metrics'):
        raise TypeError(f'`result` must be a brainmass.sweep.SweepResult; got {type(result).__name__}.')
    if metric not in result.metrics:
        raise ValueError(f'`metric` {metric!r} is not a metric of the sweep; it has '
                         f'{", ".join(map(repr, result.metrics))}.')
    dims = result.dims
    values = np.asarray(u.get_magnitude(result[metric]), dtype=float)
    if values.ndim != len(dims):
        raise ValueError(f'`metric` {metric!r} has shape {values.shape[len(dims):]} at each point; '
                         f'plot_sweep plots a scalar per point.')
    if len(dims) > 2:
        raise ValueError(f'plot_sweep draws one or two axes; the sweep has {len(dims)} ({", ".join(dims)}). '
                         f'Plot a slice (e.g. result[metric][:, :, 0]) with matplotlib, or sweep fewer axes.')
    if x is not None and x not in dims:
        raise ValueError(f'`x` must be one of the sweep axes {dims}; got {x!r}.')
    mark_best = check_bool(mark_best, 'mark_best')
    best = result.best(metric, higher_is_better) if mark_best and np.isfinite(values).any() else None
    label = with_unit(metric, unit_str(result[metric]))
    ax = get_axes(ax)
    if len(dims) == 1:
        axis = space.axes[dims[0]]
        ax.plot(axis.magnitudes, values, marker='o')
        ax.set_xlabel(_axis_label(dims[0], axis))
        ax.set_ylabel(label)
        if best is not None:
            ax.plot(axis.magnitudes[best['index'][0]], values[best['index']], 'o', color='tab:red', ms=9)
        return ax
    xname = dims[1] if x is None else x
    yname = dims[0] if xname == dims[1] else dims[1]
    grid = values if xname == dims[1] else values.T
    xa, ya = space.axes[xname], space.axes[yname]
    mesh = ax.pcolormesh(np.arange(len(xa)), np.arange(len(ya)), grid, shading='nearest', cmap=cmap)
    ax.set_xticks(np.arange(len(xa)), _tick_text(xa.magnitudes))
    ax.set_yticks(np.arange(len(ya)), _tick_text(ya.magnitudes))
    ax.set_xlabel(_axis_label(xname, xa))
    ax.set_ylabel(_axis_label(yname, ya))
    if best is not None:
        index = dict(zip(dims, best['index']))
        ax.plot(index[xname], index[yname], marker='*', color='white', ms=14, mec='black')
    if check_bool(colorbar, 'colorbar'):
        ax.figure.colorbar(mesh, ax=ax).set_label(label)
    return ax
