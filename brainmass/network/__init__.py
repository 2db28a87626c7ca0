"""Coupling/network layer: kernels, coupling modules, Laplacians, delays, Network."""
from .couplings import (AdditiveCoupling, Coupling, DiffusiveCoupling, HyperbolicTangentCoupling,
                        SigmoidalCoupling, SigmoidalJansenRitCoupling)
from .delays import delay_index
from .kernels import (additive_coupling, diffusive_coupling, hyperbolic_tangent_coupling,
                      sigmoidal_coupling, sigmoidal_jansen_rit_coupling)
from .laplacian import LaplacianConnParam, laplacian_connectivity
from .network import Network
from .heterogeneous import MixedNode
