"""Analysis of simulated or recorded time series: pure, differentiable JAX functions.

Every function takes a series of shape ``(..., T, N)``: ``T`` samples along
axis -2, ``N`` regions along the last axis, any leading batch axes; as a JAX or
numpy array or a :mod:`brainunit` Quantity. Settings (sampling interval,
windows, bands) are checked in Python before anything is compiled; the series
may be traced, so the functions work under ``jax.jit``, ``jax.grad`` and
``jax.vmap``. The sampling interval ``dt`` is a time Quantity or a plain number
of milliseconds; frequencies are Quantities or plain numbers of Hz.

=================================  ================================================
:func:`fc`                         Pearson FC, ``(..., N, N)``
:func:`fcd`                        sliding-window FCD matrix, ``(..., W, W)``
:func:`fcd_distribution`           FCD upper-triangle values
:func:`welch_psd`                  Welch PSD (as ``scipy.signal.welch``)
:func:`peak_frequency`             peak of the PSD (parabolic or softmax)
:func:`band_power`                 power in a frequency band
:func:`hilbert_phase`              phase of the analytic signal
:func:`kuramoto_order`             Kuramoto order parameter ``R(t)``
:func:`synchrony`                  mean of ``R(t)``
:func:`metastability`              standard deviation of ``R(t)``
:func:`log_psd_distance`           objective: RMS log10-PSD difference
:func:`peak_frequency_match`       objective: RMS peak-frequency difference
=================================  ================================================

The package imports only ``brainmass._core``.
"""
from .connectivity import fc, fcd, fcd_distribution
from .objectives import log_psd_distance, peak_frequency_match
from .spectral import band_power, hilbert_phase, peak_frequency, welch_psd
from .synchrony import kuramoto_order, metastability, synchrony

__all__ = [
    'fc', 'fcd', 'fcd_distribution',
    'welch_psd', 'peak_frequency', 'band_power', 'hilbert_phase',
    'kuramoto_order', 'synchrony', 'metastability',
    'log_psd_distance', 'peak_frequency_match',
]
