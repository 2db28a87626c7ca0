"""Node models: one file per model family, all on the ``*Step`` contract."""
from .hopf import HopfStep, StuartLandauStep
from .montbrio import MontbrioPazoRoxinStep
from .wilson_cowan import WilsonCowanStep

__all__ = ['HopfStep', 'StuartLandauStep', 'MontbrioPazoRoxinStep', 'WilsonCowanStep']
