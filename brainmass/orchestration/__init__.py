"""Orchestration layer: the Simulator, the Fitter and the objective library."""
