"""Helpers shared by the plotting modules of :mod:`brainmass.viz`: the Axes, units and input checks."""
from __future__ import annotations

from typing import Optional

import brainunit as u
import numpy as np

from .._core.display import micro

__all__ = ['get_axes', 'unit_str', 'as_array', 'check_labels', 'with_unit', 'check_finite']


def get_axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _, ax = plt.subplots()
    return ax


def unit_str(x) -> str:
    """The unit of ``x`` as text (micro prefix as 'µ': ``'µV'``), or '' when dimensionless."""
    if isinstance(x, u.Quantity):
        unit = u.get_unit(x)
        if not unit.is_unitless:
            return micro(str(unit))
    return ''


def as_array(x, name: str, ndims=(1, 2)) -> np.ndarray:
    """``x`` without units as a float numpy array, checking its number of dimensions."""
    try:
        arr = np.asarray(u.get_magnitude(x), dtype=float)
    except (TypeError, ValueError) as err:
        raise ValueError(f'`{name}` must be a numeric array; got {type(x).__name__} ({err}).') from None
    if arr.ndim not in ndims:
        want = ' or '.join(f'{d}-D' for d in ndims)
        raise ValueError(f'`{name}` must be {want}; got shape {arr.shape}.')
    return arr


def check_labels(labels, n: int, name: str = 'labels') -> Optional[list]:
    if labels is None:
        return None
    labels = [str(s) for s in labels]
    if len(labels) != n:
        raise ValueError(f'`{name}` must hold one label per region ({n}); got {len(labels)}.')
    return labels


def with_unit(text: str, unit: str) -> str:
    return f'{text} ({unit})' if unit else text


def check_finite(arr: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(arr).all():
        raise ValueError(f'`{name}` must be finite; it holds {int((~np.isfinite(arr)).sum())} NaN/inf value(s).')
    return arr
