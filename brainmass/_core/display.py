"""Short texts of values for reprs, notebook tables and plot labels (units with the micro sign)."""
from __future__ import annotations

import html
import re

import brainunit as u
import numpy as np

__all__ = ['value_text', 'html_table', 'micro']


def value_text(value) -> str:
    """A short text of a number, array or quantity: ``'0.2 kHz'``, ``'(4,) 0.1..0.3 ms'``.

    Arrays of more than one element are summarised by their shape and range; units
    are written with the micro sign (``µV``).
    """
    unit = u.get_unit(value) if isinstance(value, u.Quantity) else u.UNITLESS
    try:
        arr = np.asarray(u.get_magnitude(value), dtype=float)
    except (TypeError, ValueError):
        return type(value).__name__
    unit_text = '' if unit.is_unitless else ' ' + micro(str(unit)).replace('1 / ', '/')
    if arr.size == 1:
        return f'{arr.item():.4g}{unit_text}'
    if arr.size == 0:
        return f'{arr.shape} (empty){unit_text}'
    return f'{arr.shape} {np.nanmin(arr):.4g}..{np.nanmax(arr):.4g}{unit_text}'


def html_table(title: str, rows) -> str:
    """A two-column HTML table (``rows``: (name, value) pairs), every text escaped."""
    body = ''.join(f'<tr><th style="text-align:left">{html.escape(str(k))}</th>'
                   f'<td style="text-align:left">{html.escape(str(v))}</td></tr>' for k, v in rows)
    return f'<table><caption style="text-align:left"><b>{html.escape(title)}</b></caption>{body}</table>'


def micro(text: str) -> str:
    """A unit's text with the micro prefix as 'µ' (``'uV' -> 'µV'``)."""
    return re.sub(r'(?<![A-Za-z])u(?=[A-Za-z])', '\u00b5', text)
