"""A name -> loader registry for datasets.

A dataset is any zero-argument callable (a *loader*) registered under a name;
:func:`load_dataset` calls it. The bundled datasets register themselves when
:mod:`brainmass.datasets` is imported; users can add their own with
:func:`register_dataset`.
"""
from __future__ import annotations

import difflib
from typing import Callable, Dict, NamedTuple, Optional

__all__ = ['UnknownDatasetError', 'list_datasets', 'load_dataset', 'register_dataset',
           'describe_dataset', 'unregister_dataset']


class UnknownDatasetError(KeyError, ValueError):
    """Raised for a dataset name that is not registered.

    It is both a :class:`KeyError` and a :class:`ValueError`, so either
    ``except`` clause catches it.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


class _Entry(NamedTuple):
    loader: Callable[[], object]
    description: str


_REGISTRY: Dict[str, _Entry] = {}


def _check_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f'`name` must be a non-empty string; got {name!r}.')
    return name


def _entry(name) -> _Entry:
    _check_name(name)
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f' Did you mean {close[0]!r}?' if close else ''
        raise UnknownDatasetError(f'Unknown dataset {name!r}.{hint} Available datasets: '
                                  f'{", ".join(repr(n) for n in list_datasets()) or "(none)"}.')
    return _REGISTRY[name]


def list_datasets() -> list:
    """Names of all registered datasets, sorted.

    Examples
    --------
    >>> from brainmass import datasets
    >>> 'example_connectome' in datasets.list_datasets()
    True
    """
    return sorted(_REGISTRY)


def load_dataset(name: str):
    """Load the dataset registered under ``name`` by calling its loader.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`.

    Returns
    -------
    object
        Whatever the loader returns: a :class:`Connectome` for
        ``'example_connectome'``, a :class:`Signal` for ``'example_signal'``.

    Raises
    ------
    UnknownDatasetError
        (a ``KeyError`` and a ``ValueError``) when ``name`` is not registered;
        the message lists the available names.

    Examples
    --------
    >>> from brainmass import datasets
    >>> conn = datasets.load_dataset('example_connectome')
    >>> conn.weights.shape
    (8, 8)
    """
    return _entry(name).loader()


def register_dataset(name: str, loader: Optional[Callable[[], object]] = None, *,
                     description: Optional[str] = None, overwrite: bool = False):
    """Register a zero-argument ``loader`` under ``name``.

    Parameters
    ----------
    name : str
        The dataset name used with :func:`load_dataset`.
    loader : callable, optional
        A zero-argument callable returning the data. Omit it to use
        ``register_dataset`` as a decorator.
    description : str, optional
        One line shown by :func:`describe_dataset`; defaults to the first
        line of the loader's docstring.
    overwrite : bool
        Replace an existing registration instead of raising.

    Returns
    -------
    callable
        The loader (so it can decorate a function).

    Raises
    ------
    ValueError
        When ``name`` is already registered and ``overwrite`` is False, or
        ``name`` is not a non-empty string.
    TypeError
        When ``loader`` is not callable.

    Examples
    --------
    >>> import numpy as np
    >>> from brainmass import datasets
    >>> @datasets.register_dataset('two_regions', description='A 2-region toy connectome')
    ... def _two_regions():
    ...     return datasets.Connectome(np.array([[0., 1.], [1., 0.]]), name='two_regions')
    >>> datasets.load_dataset('two_regions').n_regions
    2
    """
    _check_name(name)
    if loader is None:
        return lambda fn: register_dataset(name, fn, description=description, overwrite=overwrite)
    if not callable(loader):
        raise TypeError(f'`loader` must be a zero-argument callable; got {type(loader).__name__}.')
    if name in _REGISTRY and not overwrite:
        raise ValueError(f'A dataset named {name!r} is already registered; pass overwrite=True '
                         f'to replace it.')
    if description is None:
        doc = (getattr(loader, '__doc__', None) or '').strip()
        description = doc.splitlines()[0] if doc else ''
    _REGISTRY[name] = _Entry(loader, str(description))
    return loader


def unregister_dataset(name: str) -> None:
    """Remove the dataset registered under ``name`` (unknown names raise :class:`UnknownDatasetError`)."""
    _entry(name)
    del _REGISTRY[name]


def describe_dataset(name: str) -> str:
    """The one-line description of the dataset registered under ``name``.

    Examples
    --------
    >>> from brainmass import datasets
    >>> print(datasets.describe_dataset('example_connectome'))  # doctest: +ELLIPSIS
    8-region example connectome...
    """
    return _entry(name).description
