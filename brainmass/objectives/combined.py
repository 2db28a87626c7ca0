"""Weighted sums of objectives: :func:`combine`."""
from __future__ import annotations

import numbers

import brainunit as u
import numpy as np

from .._core.units import unit_phrase
from ._common import UnitMismatchError, check_finite, mark_objective, weight_sign

__all__ = ['combine']


def _is_weight(w):
    if isinstance(w, bool):
        return False
    if isinstance(w, numbers.Real):
        return True
    return np.ndim(w) == 0 and hasattr(w, 'dtype')


def combine(*terms):
    r"""Weighted sum of objectives.

    .. math::  L(p, t) = \sum_i w_i\, f_i(p, t)

    Parameters
    ----------
    *terms : (weight, objective) pairs
        ``weight`` a real number (or 0-d array / Quantity), ``objective`` a
        callable ``f(prediction, target)``. Terms whose results carry
        different units cannot be added: give such a term a reciprocal-unit
        weight (e.g. ``(1 / u.mV, timeseries_rmse())``). All terms get the
        same target, so they must expect the same kind of target (all
        time series, or all an FC matrix, ...): mixing kinds is a
        ``ValueError``.

    Returns
    -------
    callable
        ``f(prediction, target)`` with the attributes the Fitter reads:
        ``terms`` (the pairs), ``time_flexible`` (every term is; a plain
        function counts as flexible), ``target_kind`` (the terms' kind),
        ``higher_is_better`` (every term points that way: a similarity with a
        positive weight or a loss with a negative one).

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass.objectives import fc_corr, fcd_wasserstein
    >>> x = np.random.default_rng(0).normal(size=(120, 4))
    >>> loss = combine((1.0, fc_corr(as_loss=True)), (0.5, fcd_wasserstein(20, 10)))
    >>> float(loss(x, x)) < 1e-5
    True
    """
    if not terms:
        raise ValueError('combine() needs at least one (weight, objective) pair.')
    for i, term in enumerate(terms):
        if not isinstance(term, (tuple, list)) or len(term) != 2:
            raise TypeError(f'combine() term {i} must be a (weight, objective) '
                            f'pair, got {term!r}.')
        w, f = term
        if not _is_weight(w):
            raise TypeError(f'combine() term {i}: weight must be a real number, '
                            f'got {w!r} ({type(w).__name__}).')
        if not callable(f):
            raise TypeError(f'combine() term {i}: objective must be callable '
                            f'f(prediction, target), got {f!r}.')
    terms = tuple((w, f) for w, f in terms)
    kind = _common_target_kind(terms)

    def validate_target(target):
        for _, f in terms:
            getattr(f, 'validate_target', check_finite)(target)

    def combined(prediction, target):
        total = None
        for i, (w, f) in enumerate(terms):
            value = w * f(prediction, target)
            try:
                total = value if total is None else total + value
            except u.UnitMismatchError as err:
                raise UnitMismatchError(
                    f'combine() term {i} ({getattr(f, "__name__", "objective")}) gives a result '
                    f'{unit_phrase(u.get_unit(value))} but the terms before it give one '
                    f'{unit_phrase(u.get_unit(total))}: they cannot be added. Weight the terms so that all give '
                    f'the same unit, e.g. (1 / u.mV, timeseries_rmse()) for a loss in mV.') from err
        return total
    combined = mark_objective(combined, 'combined_objective',
                              higher_is_better=all(_points_up(w, f) for w, f in terms),
                              time_flexible=all(getattr(f, 'time_flexible', True) for _, f in terms),
                              target_kind=kind, validate_target=validate_target)
    combined.terms = terms
    return combined


def _points_up(w, f):
    """Whether the term ``w * f`` grows as the fit improves (a similarity with w > 0, a loss with w < 0)."""
    sign = weight_sign(w)
    return sign > 0 if getattr(f, 'higher_is_better', False) else sign < 0


def _common_target_kind(terms):
    kinds = {i: f.target_kind for i, (_, f) in enumerate(terms) if getattr(f, 'target_kind', None)}
    if len(set(kinds.values())) > 1:
        listed = ', '.join(f'term {i} ({getattr(terms[i][1], "__name__", "objective")}): {k}'
                           for i, k in kinds.items())
        raise ValueError(f'combine() terms expect different kinds of target ({listed}); every term gets the '
                         f'same target, so combine terms of one kind.')
    return next(iter(kinds.values()), 'timeseries')
