"""Parameter sweeps: a grid of parameter values, run as batched programs sharded over the devices.

``brainmass.sweep`` is this module::

    space = sweep.Space(k=sweep.grid(0.0, 0.5, 16), speed=sweep.log_grid(1.0, 100.0, 4, unit=u.mm / u.ms))
    result = sweep.run(lambda speed: make_network(speed), space, duration=..., metrics={...})
    result['fc_corr'].shape        # (16, 4)
    result.to_xarray()             # an xarray.Dataset when xarray is installed

=================================  ================================================
:class:`Space`                     named axes; their outer product is the grid
:func:`grid`, :func:`log_grid`     even / geometric grids (ends included)
:func:`random`                     sorted uniform draws with a seed
:func:`values`                     explicit values
:func:`run`                        simulate every point, keep the metrics
:class:`SweepResult`               the labelled table (``to_xarray``, ``to_dict``, ``best``)
:func:`parameter_paths`            the parameters a sweep can set (``'k'``, ``'node.a'``)
=================================  ================================================
"""
from .result import SweepResult
from .runner import parameter_paths, run
from .space import Axis, Space, grid, log_grid, random, values

__all__ = ['Space', 'Axis', 'grid', 'log_grid', 'random', 'values', 'run', 'SweepResult', 'parameter_paths']
