"""brainmass: whole-brain neural-mass modelling on JAX."""
from ._version import __version__
from ._core.integrators import list_methods
from ._core.step import StepModel
from ._core.functions import sigmoid, sys2nd, bounded_input
from .noise import (Noise, GaussianNoise, WhiteNoise, OUProcess, BrownianNoise, ColoredNoise,
                    PinkNoise, BlueNoise, VioletNoise)
from .models import *  # noqa: F401,F403
from .models import __all__ as _models_all
from .orchestration.simulator import Simulator, SimulationDivergedError
from .network import (AdditiveCoupling, Coupling, DiffusiveCoupling, HyperbolicTangentCoupling,
                      SigmoidalCoupling, SigmoidalJansenRitCoupling, delay_index, additive_coupling,
                      diffusive_coupling, hyperbolic_tangent_coupling, sigmoidal_coupling,
                      sigmoidal_jansen_rit_coupling, LaplacianConnParam, laplacian_connectivity, Network)
from . import datasets, viz
from .datasets import Connectome, Signal, process_sequence
from .orchestration import objectives
import sys as _sys

# `import brainmass.objectives` / `from brainmass.objectives import fc_corr`: the same module object
# as `brainmass.objectives` (it lives at brainmass.orchestration.objectives)
_sys.modules.setdefault(__name__ + '.objectives', objectives)
del _sys
from .observation import (BOLDSignal, bold_from_trace, HRFKernel, FirstOrderVolterraHRFKernel, GammaHRFKernel,
                          DoubleExponentialHRFKernel, MixtureOfGammasHRFKernel, TemporalAverage, HRFBold,
                          LeadFieldModel, EEGLeadFieldModel, MEGLeadFieldModel, LeadfieldReadout,
                          compress_vertex_leadfield, build_fixed_orientation_weights)
from .orchestration.monitors import Observer, BOLDMonitor, AverageMonitor
from .orchestration.fitter import Fitter, FitResult

from .models.legacy import module_getattr as _legacy_getattr

# deprecated model names of earlier releases resolve to their *Step class with a DeprecationWarning
__getattr__ = _legacy_getattr(__name__)
