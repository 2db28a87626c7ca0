"""Node models: one file per model family, all on the ``*Step`` contract."""
from .hopf import HopfStep, StuartLandauStep
from .horn import HORNSeqLayer, HORNSeqNetwork, HORNStep
from .kuramoto import KuramotoNetwork
from .linear import LinearStep, ThresholdLinearStep
from .lorenz import LorenzStep
from .montbrio import MontbrioPazoRoxinStep
from .oscillators import FitzHughNagumoStep, Generic2dOscillatorStep, VanDerPolStep
from .wilson_cowan import WilsonCowanStep

__all__ = [
    'HopfStep', 'StuartLandauStep', 'VanDerPolStep', 'FitzHughNagumoStep', 'Generic2dOscillatorStep',
    'KuramotoNetwork', 'LorenzStep', 'LinearStep', 'ThresholdLinearStep',
    'WilsonCowanStep', 'MontbrioPazoRoxinStep',
    'HORNStep', 'HORNSeqLayer', 'HORNSeqNetwork',
]
