"""Node models: one file per model family, all on the ``*Step`` contract."""
from .coombes_byrne import CoombesByrneStep
from .epileptor import EpileptorStep
from .hopf import HopfStep, StuartLandauStep
from .horn import HORNSeqLayer, HORNSeqNetwork, HORNStep
from .jansen_rit import JansenRitStep, JansenRitTR
from .kuramoto import KuramotoNetwork
from .larter_breakspear import LarterBreakspearStep
from .linear import LinearStep, ThresholdLinearStep
from .lorenz import LorenzStep
from .montbrio import MontbrioPazoRoxinStep
from .oscillators import FitzHughNagumoStep, Generic2dOscillatorStep, VanDerPolStep
from .registry import ModelInfo, list_models, models_table
from .wilson_cowan import WilsonCowanStep
from .wilson_cowan_variants import (WilsonCowanAdaptiveStep, WilsonCowanDelayedStep, WilsonCowanDivisiveInputStep,
                                    WilsonCowanDivisiveStep, WilsonCowanLinearStep, WilsonCowanLogisticStep,
                                    WilsonCowanNoSaturationStep, WilsonCowanSimplifiedStep, WilsonCowanSymmetricStep,
                                    WilsonCowanThreePopulationStep)
from .wong_wang import WongWangExcInhStep, WongWangStep, fic_tuning

__all__ = [
    'HopfStep', 'StuartLandauStep', 'VanDerPolStep', 'FitzHughNagumoStep', 'Generic2dOscillatorStep',
    'KuramotoNetwork', 'LorenzStep', 'LinearStep', 'ThresholdLinearStep',
    'WilsonCowanStep', 'WilsonCowanNoSaturationStep', 'WilsonCowanSymmetricStep', 'WilsonCowanSimplifiedStep',
    'WilsonCowanLinearStep', 'WilsonCowanLogisticStep', 'WilsonCowanDivisiveStep', 'WilsonCowanDivisiveInputStep',
    'WilsonCowanDelayedStep', 'WilsonCowanAdaptiveStep', 'WilsonCowanThreePopulationStep',
    'JansenRitStep', 'JansenRitTR', 'MontbrioPazoRoxinStep', 'CoombesByrneStep',
    'LarterBreakspearStep', 'WongWangStep', 'WongWangExcInhStep', 'EpileptorStep',
    'HORNStep', 'HORNSeqLayer', 'HORNSeqNetwork',
    'ModelInfo', 'list_models', 'models_table', 'fic_tuning',
]

from .legacy import module_getattr as _legacy_getattr

# deprecated model names of earlier releases resolve to their *Step class with a DeprecationWarning
__getattr__ = _legacy_getattr(__name__)
