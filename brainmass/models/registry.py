"""The model registry: which models brainmass has, what they are for.

Every concrete ``*Step`` class registers itself in
:data:`brainmass._core.step.MODEL_REGISTRY` when it is defined (its class
attributes ``state_vars``, ``category`` and ``use_case`` are the metadata).
Network-level models that are not ``*Step`` nodes (``KuramotoNetwork``, the
HORN sequence models) are added from :mod:`brainmass.models` when present.
The model files are imported lazily, at call time.

Examples
--------
>>> import brainmass
>>> from brainmass.models.registry import list_models, models_table
>>> info = {m.name: m for m in list_models()}
>>> info['HopfStep'].n_state_vars
2
>>> print(models_table())  # doctest: +SKIP
"""
from __future__ import annotations

import importlib
import pkgutil
import re
import sys
import warnings
from typing import NamedTuple

from .._core.step import MODEL_REGISTRY

__all__ = ['ModelInfo', 'list_models', 'models_table', 'model_details', 'load_all_models']

#: Models that are not ``*Step`` nodes: fallback (category, states, use case) when the class lacks them.
_NON_STEP = {
    'KuramotoNetwork': ('oscillator', ('theta',), 'phase synchronisation; Kuramoto order parameter'),
    'HORNStep': ('sequence learning', ('x', 'y'), 'harmonic-oscillator recurrent unit for sequence tasks'),
    'HORNSeqLayer': ('sequence learning', ('x', 'y'), 'a layer of HORN units driven by a sequence'),
    'HORNSeqNetwork': ('sequence learning', ('x', 'y'), 'HORN network with read-out for sequence tasks'),
}

_SKIP_MODULES = {'legacy', 'registry'}


class ModelInfo(NamedTuple):
    """One registered model."""
    name: str
    category: str
    n_state_vars: int
    use_case: str


def load_all_models():
    """Import :mod:`brainmass.models` and each of its model files (fills the registry).

    A model file that fails to import is skipped with a warning naming it.
    """
    package = importlib.import_module('brainmass.models')
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith('_') or module.name in _SKIP_MODULES:
            continue
        try:
            importlib.import_module(f'{package.__name__}.{module.name}')
        except Exception as err:  # a broken model file must not hide the others
            warnings.warn(f'brainmass.models.{module.name} could not be imported ({err}); its models are '
                          f'left out of the registry.', RuntimeWarning, stacklevel=2)
    return package


def _model_classes() -> dict:
    package = load_all_models()
    classes = {name: cls for name, cls in MODEL_REGISTRY.items() if not hasattr(cls, 'deprecated_alias_of')}
    for name in _NON_STEP:
        cls = getattr(package, name, None)
        if cls is None:
            for module in _imported_model_modules(package):
                cls = getattr(module, name, None)
                if cls is not None:
                    break
        if cls is not None and name not in classes:
            classes[name] = cls
    return classes


def _imported_model_modules(package):
    prefix = package.__name__ + '.'
    return [m for key, m in sys.modules.items() if key.startswith(prefix) and m is not None]


def _states(name, cls):
    states = tuple(getattr(cls, 'state_vars', ()) or ())
    return states or _NON_STEP.get(name, ('', ()))[1]


def _info(name, cls) -> ModelInfo:
    fallback = _NON_STEP.get(name, ('', (), ''))
    category = getattr(cls, 'category', '') or fallback[0] or 'other'
    use_case = getattr(cls, 'use_case', '') or fallback[2] or _first_doc_line(cls)
    return ModelInfo(name, category, len(_states(name, cls)), use_case)


def _first_doc_line(cls):
    doc = (cls.__doc__ or '').strip().splitlines()
    return doc[0].strip() if doc else ''


def list_models(as_table=False, category=None):
    """Every model brainmass knows, as :class:`ModelInfo` ``(name, category, n_state_vars, use_case)``.

    Parameters
    ----------
    as_table : bool, default False
        Return the text table of :func:`models_table` instead of the list.
    category : str, optional
        Keep only this category ('oscillator', 'population rate', 'decision',
        'epilepsy', 'sequence learning', ...).

    Returns
    -------
    list of ModelInfo (sorted by category, then name), or str
    """
    infos = sorted((_info(name, cls) for name, cls in _model_classes().items()),
                   key=lambda m: (m.category, m.name))
    if category is not None:
        infos = [m for m in infos if m.category == category]
    return _render(infos, 'text') if as_table else infos


def _coupled_var(name, cls):
    """``cls.coupled_var``; else the first "couple ``'v'``" / "coupled_var='v'" in its docstrings
    naming one of its states; else the variable the Network current enters (its first input)."""
    explicit = getattr(cls, 'coupled_var', None)
    if isinstance(explicit, str):
        return explicit
    states = _states(name, cls)
    module = sys.modules.get(cls.__module__)
    for doc in (cls.__doc__, getattr(module, '__doc__', None)):
        for found in re.findall(r"[Cc]ouple\s+``'(\w+)'``|coupled_var\s*=\s*'(\w+)'", doc or ''):
            var = found[0] or found[1]
            if var in states:
                return var
    order = getattr(cls, 'input_vars', None) or states
    return order[0] if order else ''


def model_details():
    """Per model: name, category, states, the variable a Network couples, use case (dicts)."""
    rows = []
    for name, cls in _model_classes().items():
        info = _info(name, cls)
        rows.append(dict(name=name, category=info.category, states=_states(name, cls),
                         coupled_var=_coupled_var(name, cls), use_case=info.use_case))
    return sorted(rows, key=lambda r: (r['category'], r['name']))


def _render(infos, fmt):
    header = ('model', 'category', 'states', 'use case')
    rows = [(m.name, m.category, str(m.n_state_vars), m.use_case) for m in infos]
    return _table(header, rows, fmt)


def _table(header, rows, fmt):
    if fmt == 'markdown':
        lines = ['| ' + ' | '.join(header) + ' |', '|' + '|'.join('---' for _ in header) + '|']
        lines += ['| ' + ' | '.join(cell.replace('|', '\\|') for cell in row) + ' |' for row in rows]
        return '\n'.join(lines)
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]
    fmt_row = lambda row: '  '.join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip()
    return '\n'.join([fmt_row(header), fmt_row(['-' * w for w in widths])] + [fmt_row(r) for r in rows])


def models_table(fmt='text', details=False):
    """The registry as a table.

    Parameters
    ----------
    fmt : {'text', 'markdown'}
    details : bool, default False
        Columns model, category, states (names), coupled var, use case
        instead of model, category, number of states, use case.
    """
    if fmt not in ('text', 'markdown'):
        raise ValueError(f"Unknown `fmt` {fmt!r}; choose one of: 'text', 'markdown'.")
    if not details:
        return _render(list_models(), fmt)
    header = ('model', 'category', 'states', 'coupled var', 'use case')
    rows = [(r['name'], r['category'], ', '.join(r['states']), r['coupled_var'], r['use_case'])
            for r in model_details()]
    return _table(header, rows, fmt)
