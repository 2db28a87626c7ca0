"""Datasets: typed containers, a registry, bundled example data and file loaders.

Everything here runs with no download: the example data ship with the package.

>>> from brainmass import datasets
>>> datasets.list_datasets()
['delayed_match_task', 'example_connectome', 'example_signal']
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
from ._io import RUN_FORMATS, RunMeta, from_numpy, load_run, model_params, save_run, to_numpy

__all__ = ['Connectome', 'Signal', 'UnknownDatasetError', 'list_datasets', 'load_dataset',
           'register_dataset', 'unregister_dataset', 'describe_dataset', 'load_connectome',
           'load_example_connectome', 'load_example_signal', 'delayed_match_task',
           'DATA_DIR', 'SUPPORTED_FORMATS', 'process_sequence', 'SEQUENCE_MODES',
           'save_run', 'load_run', 'RunMeta', 'to_numpy', 'from_numpy', 'model_params', 'RUN_FORMATS']
