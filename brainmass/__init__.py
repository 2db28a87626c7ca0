"""brainmass: whole-brain neural-mass modelling on JAX."""
import jax as _jax

_X64_BEFORE_IMPORT = bool(_jax.config.jax_enable_x64)
import brainstate as _brainstate  # noqa: E402 (importing brainstate resets jax_enable_x64)

if _X64_BEFORE_IMPORT and not _jax.config.jax_enable_x64:
    # the user turned on float64 before importing us: keep it (brainstate's precision follows)
    _brainstate.environ.set(precision=64)

from ._version import __version__  # noqa: E402
from ._core.integrators import list_methods
from ._core.params import UnitConst
from ._core.step import StepModel
from ._core.functions import sigmoid, sys2nd, bounded_input
from .noise import (Noise, GaussianNoise, WhiteNoise, OUProcess, BrownianNoise, ColoredNoise,
                    PinkNoise, BlueNoise, VioletNoise)
from .models import *  # noqa: F401,F403
from .models import __all__ as _models_all
from .orchestration.simulator import Simulator, SimulationDivergedError, InputUnitError
from .network import (AdditiveCoupling, Coupling, DiffusiveCoupling, HyperbolicTangentCoupling,
                      SigmoidalCoupling, SigmoidalJansenRitCoupling, delay_index, additive_coupling,
                      diffusive_coupling, hyperbolic_tangent_coupling, sigmoidal_coupling,
                      sigmoidal_jansen_rit_coupling, LaplacianConnParam, laplacian_connectivity, Network,
                      MixedNode)
from . import analysis, datasets, stimulus, viz
from .datasets import Connectome, Signal, load_run, process_sequence, save_run, to_numpy
from . import objectives
from .observation import (BOLDSignal, bold_from_trace, HRFKernel, FirstOrderVolterraHRFKernel, GammaHRFKernel,
                          DoubleExponentialHRFKernel, MixtureOfGammasHRFKernel, TemporalAverage, HRFBold,
                          LeadFieldModel, EEGLeadFieldModel, MEGLeadFieldModel, LeadfieldReadout,
                          compress_vertex_leadfield, build_fixed_orientation_weights)
from .orchestration.monitors import Observer, BOLDMonitor, AverageMonitor
from .orchestration.fitter import Fitter, FitResult
from . import sweep

from .models.legacy import module_getattr as _legacy_getattr

# Every public name, for `from brainmass import *` and for documentation tools. The documented
# namespaces datasets, viz, objectives and observation are included; `models`, `network` and
# `noise` are not (their classes are, and the bare names would shadow users' own variables).
__all__ = [
    '__version__',
    # namespaces
    'analysis', 'datasets', 'stimulus', 'viz', 'objectives', 'observation', 'sweep',
    # node models, their registry (list_models, ModelInfo, models_table) and fic_tuning
    *_models_all,
    # the model base class, integrators and shared functions
    'StepModel', 'list_methods', 'sigmoid', 'sys2nd', 'bounded_input',
    # noise processes
    'Noise', 'GaussianNoise', 'WhiteNoise', 'OUProcess', 'BrownianNoise', 'ColoredNoise',
    'PinkNoise', 'BlueNoise', 'VioletNoise',
    # couplings, delays, Laplacians and the Network
    'Coupling', 'DiffusiveCoupling', 'AdditiveCoupling', 'SigmoidalCoupling', 'HyperbolicTangentCoupling',
    'SigmoidalJansenRitCoupling', 'diffusive_coupling', 'additive_coupling', 'sigmoidal_coupling',
    'hyperbolic_tangent_coupling', 'sigmoidal_jansen_rit_coupling', 'delay_index',
    'laplacian_connectivity', 'LaplacianConnParam', 'Network', 'MixedNode',
    # observation models
    'BOLDSignal', 'bold_from_trace', 'HRFKernel', 'FirstOrderVolterraHRFKernel', 'GammaHRFKernel',
    'DoubleExponentialHRFKernel', 'MixtureOfGammasHRFKernel', 'TemporalAverage', 'HRFBold',
    'LeadFieldModel', 'EEGLeadFieldModel', 'MEGLeadFieldModel', 'LeadfieldReadout',
    'compress_vertex_leadfield', 'build_fixed_orientation_weights',
    # simulation, monitors and fitting
    'UnitConst', 'Simulator', 'SimulationDivergedError', 'InputUnitError', 'Observer', 'BOLDMonitor', 'AverageMonitor',
    'Fitter', 'FitResult',
    # data
    'Connectome', 'Signal', 'process_sequence', 'save_run', 'load_run', 'to_numpy',
]

# deprecated model names of earlier releases resolve to their *Step class with a DeprecationWarning
__getattr__ = _legacy_getattr(__name__)
