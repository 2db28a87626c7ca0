"""Connectivity and functional-connectivity heatmaps."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ..datasets._types import Connectome, Signal
from ._common import as_array, check_labels, get_axes, unit_str

__all__ = ['plot_connectivity', 'plot_functional_connectivity']


def _matrix_ticks(ax, labels, n: int) -> None:
    if labels is None:
        return
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(labels, rotation=90, fontsize='small')
    ax.set_yticklabels(labels, fontsize='small')


def plot_connectivity(matrix, *, labels: Optional[Sequence[str]] = None, ax=None,
                      cmap: str = 'viridis', colorbar: bool = True):
    """Draw a connectivity (or distance) matrix as a labelled heatmap.

    Parameters
    ----------
    matrix : array_like, Quantity or Connectome, shape (N, N)
        The matrix; a quantity's unit labels the colour bar. A
        :class:`~brainmass.datasets.Connectome` plots its weights with its labels.
    labels : sequence of str, optional
        Region names for both axes' ticks.
    ax : matplotlib.axes.Axes, optional
    cmap : str
        Matplotlib colour map.
    colorbar : bool
        Add a colour bar.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from brainmass import datasets, viz
    >>> conn = datasets.load_dataset('example_connectome')
    >>> ax = viz.plot_connectivity(conn.distances, labels=list(conn.labels))
    """
    if isinstance(matrix, Connectome):
        labels = list(matrix.labels) if labels is None else labels
        matrix = matrix.weights
    m = as_array(matrix, 'matrix', ndims=(2,))
    if m.shape[0] != m.shape[1]:
        raise ValueError(f'`matrix` must be square (N, N); got shape {m.shape}.')
    labels = check_labels(labels, m.shape[0])
    ax = get_axes(ax)
    im = ax.imshow(m, cmap=cmap, interpolation='nearest')
    _matrix_ticks(ax, labels, m.shape[0])
    if colorbar:
        cb = ax.figure.colorbar(im, ax=ax)
        if unit_str(matrix):
            cb.set_label(unit_str(matrix))
    return ax


def plot_functional_connectivity(data, *, is_matrix: bool = False,
                                 labels: Optional[Sequence[str]] = None, ax=None):
    """Plot functional connectivity (Pearson correlation between regions).

    Parameters
    ----------
    data : array_like, Quantity or Signal
        A (T, N) trajectory, whose FC is computed with
        :func:`braintools.metric.functional_connectivity`; or, with
        ``is_matrix=True``, an (N, N) FC matrix. A
        :class:`~brainmass.datasets.Signal` plots its ``fc``.
    is_matrix : bool
        Treat ``data`` as a precomputed FC matrix.
    labels : sequence of str, optional
        Region names for the ticks.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        A heatmap with the ``RdBu_r`` colour map on [-1, 1] and a colour bar.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass import viz
    >>> ax = viz.plot_functional_connectivity(np.random.rand(200, 4))
    """
    if isinstance(data, Signal):
        labels = list(data.labels) if labels is None else labels
        data, is_matrix = data.fc, True
    if is_matrix:
        fc = as_array(data, 'data', ndims=(2,))
        if fc.shape[0] != fc.shape[1]:
            raise ValueError(f'`data` must be a square (N, N) FC matrix with is_matrix=True; '
                             f'got shape {fc.shape}.')
    else:
        x = as_array(data, 'data', ndims=(2,))
        if x.shape[0] < 2:
            raise ValueError(f'`data` must be a (T, N) trajectory with T >= 2; got shape {x.shape}.')
        import braintools
        fc = np.asarray(braintools.metric.functional_connectivity(x), dtype=float)
    labels = check_labels(labels, fc.shape[0])
    ax = get_axes(ax)
    im = ax.imshow(fc, cmap='RdBu_r', vmin=-1.0, vmax=1.0, interpolation='nearest')
    _matrix_ticks(ax, labels, fc.shape[0])
    ax.figure.colorbar(im, ax=ax).set_label('Pearson r')
    return ax
