"""Time series and phase portraits."""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from ..datasets._types import Signal
from ._common import as_array, check_labels, get_axes, unit_str, with_unit

__all__ = ['plot_timeseries', 'plot_phase_portrait']


def plot_timeseries(signal, ts=None, *, labels: Optional[Sequence[str]] = None, ax=None):
    """Plot one or many time series against time.

    Parameters
    ----------
    signal : array_like, Quantity or Signal, shape (T,) or (T, N)
        The trajectories, one column per region. A
        :class:`~brainmass.datasets.Signal` brings its own times and labels.
    ts : array_like or Quantity, shape (T,), optional
        Sample times. A quantity sets the x-label unit, e.g. ``'time (ms)'``;
        without ``ts`` the x-axis counts steps.
    labels : sequence of str, optional
        One legend entry per column.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on (default: a new figure).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np, brainunit as u
    >>> from brainmass import viz
    >>> ax = viz.plot_timeseries(np.random.rand(100, 2), ts=np.arange(100) * u.ms,
    ...                          labels=['A', 'B'])
    """
    if isinstance(signal, Signal):
        ts = signal.ts if ts is None else ts
        labels = list(signal.labels) if labels is None else labels
        signal = signal.signal
    y = as_array(signal, 'signal')
    y2 = y[:, None] if y.ndim == 1 else y
    labels = check_labels(labels, y2.shape[1])
    if ts is None:
        t, xlabel = np.arange(y2.shape[0]), 'step'
    else:
        t = as_array(ts, 'ts', ndims=(1,))
        if t.shape[0] != y2.shape[0]:
            raise ValueError(f'`ts` must have one time per row of `signal` ({y2.shape[0]}); '
                             f'got {t.shape[0]}.')
        xlabel = with_unit('time', unit_str(ts))
    ax = get_axes(ax)
    lines = ax.plot(t, y2, linewidth=1.0)
    ax.set_xlabel(xlabel)
    if unit_str(signal):
        ax.set_ylabel(with_unit('signal', unit_str(signal)))
    if labels is not None:
        for line, lab in zip(lines, labels):
            line.set_label(lab)
        ax.legend(fontsize='small', ncol=max(1, math.ceil(len(labels) / 10)))
    return ax


def plot_phase_portrait(x, y, *, ax=None):
    """Plot a trajectory in the (x, y) phase plane.

    Parameters
    ----------
    x, y : array_like or Quantity, shape (T,) or (T, N)
        The two state variables over time; ``N`` columns draw ``N`` curves.
        A marker shows each trajectory's start.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass import viz
    >>> t = np.linspace(0, 20, 500)
    >>> ax = viz.plot_phase_portrait(np.cos(t) * np.exp(-t / 10), np.sin(t) * np.exp(-t / 10))
    """
    xa, ya = as_array(x, 'x'), as_array(y, 'y')
    if xa.shape != ya.shape:
        raise ValueError(f'`x` and `y` must have the same shape; got {xa.shape} and {ya.shape}.')
    xa = xa[:, None] if xa.ndim == 1 else xa
    ya = ya[:, None] if ya.ndim == 1 else ya
    ax = get_axes(ax)
    for i in range(xa.shape[1]):
        (line,) = ax.plot(xa[:, i], ya[:, i], linewidth=1.0)
        ax.plot(xa[0, i], ya[0, i], 'o', color=line.get_color(), markersize=4)
    ax.set_xlabel(with_unit('x', unit_str(x)))
    ax.set_ylabel(with_unit('y', unit_str(y)))
    return ax
