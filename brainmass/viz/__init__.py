"""Plotting helpers for neural-mass simulations (matplotlib).

Every function draws on the given ``ax`` (or a new figure), returns the Axes,
and never calls ``plt.show()``, so it is safe on a headless machine. Inputs
may be numpy or JAX arrays or brainunit quantities: units are stripped for
plotting and written into the axis labels. The data types of
:mod:`brainmass.datasets` (:class:`~brainmass.datasets.Connectome`,
:class:`~brainmass.datasets.Signal`) are accepted where they make sense.

Examples
--------
>>> import numpy as np, brainunit as u
>>> from brainmass import viz
>>> x = np.sin(np.linspace(0, 10, 200))[:, None] * np.ones(3)
>>> ax = viz.plot_timeseries(x, ts=np.arange(200) * 0.1 * u.ms)
>>> ax.get_xlabel()
'time (ms)'
"""
from ._timeseries import plot_phase_portrait, plot_timeseries
from ._connectivity import plot_connectivity, plot_functional_connectivity
from ._spectra import plot_power_spectrum, plot_spectrogram
from ._fcd import plot_fcd, plot_fcd_distribution
from ._sweep import plot_sweep

__all__ = ['plot_timeseries', 'plot_phase_portrait', 'plot_connectivity',
           'plot_functional_connectivity', 'plot_power_spectrum',
           'plot_fcd', 'plot_fcd_distribution', 'plot_spectrogram', 'plot_sweep']
