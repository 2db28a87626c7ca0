"""Parameter sweeps (public face of :mod:`brainmass.orchestration.sweep`).

``import brainmass.sweep`` / ``from brainmass.sweep import Space, grid, run``; see
docs/sweep.md. The implementation lives in the orchestration layer beside the Simulator.
"""
from .orchestration.sweep import (Axis, Space, SweepResult, grid, log_grid, parameter_paths, random, run,
                                  values)

__all__ = ['Space', 'Axis', 'grid', 'log_grid', 'random', 'values', 'run', 'SweepResult', 'parameter_paths']
