"""Observation models: neural activity -> BOLD, EEG, MEG.

* :mod:`.bold` - Balloon-Windkessel haemodynamics (:class:`BOLDSignal`).
* :mod:`.hrf` - HRF kernels (:mod:`.hrf_kernels`), :class:`TemporalAverage`, :class:`HRFBold`.
* :mod:`.leadfield` - EEG/MEG lead fields and a trainable read-out.

This layer imports only the foundation (brainstate, brainunit, braintools,
jax) and ``brainmass._core``; never models, network or orchestration.
"""
from .bold import BOLDSignal, bold_from_trace, balloon_rhs, bold_readout, FIELD_STRENGTHS
from .hrf import (HRFKernel, FirstOrderVolterraHRFKernel, GammaHRFKernel,
                  DoubleExponentialHRFKernel, MixtureOfGammasHRFKernel, TemporalAverage, HRFBold)
from .leadfield import (LeadFieldModel, EEGLeadFieldModel, MEGLeadFieldModel, LeadfieldReadout,
                        compress_vertex_leadfield, build_fixed_orientation_weights)

__all__ = ['BOLDSignal', 'bold_from_trace', 'balloon_rhs', 'bold_readout', 'FIELD_STRENGTHS',
           'HRFKernel', 'FirstOrderVolterraHRFKernel', 'GammaHRFKernel',
           'DoubleExponentialHRFKernel', 'MixtureOfGammasHRFKernel', 'TemporalAverage', 'HRFBold',
           'LeadFieldModel', 'EEGLeadFieldModel', 'MEGLeadFieldModel', 'LeadfieldReadout',
           'compress_vertex_leadfield', 'build_fixed_orientation_weights']
