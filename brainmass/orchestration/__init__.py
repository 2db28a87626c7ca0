"""Orchestration layer: the Simulator and the Fitter (which uses :mod:`brainmass.objectives`).

``from brainmass.orchestration import objectives`` still gives :mod:`brainmass.objectives`.
"""
from .. import objectives  # noqa: F401 (the objective library, used by the Fitter)
