r"""Lead fields: region dipoles -> EEG / MEG sensors, unit-correctly.

A lead field :math:`L` (n_regions x n_sensors) maps region dipole moments
:math:`x` (nA m) to sensor readings :math:`y = x L` (a voltage for EEG, a
magnetic flux density for MEG). Also: helpers that reduce a vertex-level lead
field to regions, and a trainable normalised read-out (:class:`LeadfieldReadout`).
"""
from __future__ import annotations

import numbers
from typing import Optional

import brainstate
import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np

from .._core.params import ReassignableParams
from .._core.units import magnitude
from .._core.validation import as_numeric, check_choice, check_values

__all__ = ['LeadFieldModel', 'EEGLeadFieldModel', 'MEGLeadFieldModel', 'LeadfieldReadout',
           'compress_vertex_leadfield', 'build_fixed_orientation_weights']

DIPOLE_UNIT = u.nA * u.meter


def _count(value, name) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < 1:
        raise ValueError(f'`{name}` must be a positive int; got {value!r}.')
    return int(value)


def _axis_size(value, name) -> int:
    """A lead-field axis length from brainstate's size forms: an int or a 1-tuple such as ``(3,)``."""
    sizes = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(sizes) != 1:
        raise ValueError(f'`{name}` of a lead field is the length of one axis: an int or a 1-tuple '
                         f'such as (3,); got {value!r}.')
    return _count(sizes[0], name)


def _unit(value, name) -> u.Unit:
    if isinstance(value, u.Quantity):
        return u.get_unit(value)
    if isinstance(value, u.Unit):
        return value
    raise ValueError(f'`{name}` must be a brainunit unit (e.g. u.mV); got {value!r}.')


def _float(x):
    return jnp.asarray(x, dtype=jnp.result_type(float, jnp.asarray(x).dtype))


class LeadFieldModel(ReassignableParams, brainstate.nn.Module):
    r"""Linear forward model from region dipoles to sensors.

    .. math::

        y = s\, x L + \epsilon, \qquad \epsilon \sim \mathcal N(0, \Sigma),

    with dipoles :math:`x` (..., n_regions), lead field :math:`L`
    (n_regions, n_sensors) = (``in_size``, ``out_size``), optional
    dimensionless gain :math:`s` (``scale``) and optional sensor noise of
    covariance :math:`\Sigma` (``noise_cov``, drawn with ``brainstate.random``
    through its Cholesky factor). The result is a brainunit quantity in
    ``sensor_unit``.

    Units: ``L`` given as a quantity must have the dimension of
    sensor/dipole (e.g. V/(nA m)) and is converted; a plain array is read in
    ``sensor_unit / dipole_unit``. Input dipoles given as a quantity are
    converted to ``dipole_unit``; plain numbers are read in it. So a
    10 nA m dipole through a 1 V/(nA m) entry reads 10 V, whatever
    ``sensor_unit`` is.

    ===========  ==========  ===================  ==========================================
    parameter    default     unit                 meaning
    ===========  ==========  ===================  ==========================================
    in_size      -           -                    number of regions (int or 1-tuple)
    out_size     -           -                    number of sensors (int or 1-tuple)
    L            -           sensor/dipole        lead field, shape (in_size, out_size), finite
    sensor_unit  u.mV        -                    unit of the output
    dipole_unit  nA m        -                    unit of the input dipoles
    scale        None        -                    gain (float or brainstate.nn.Param)
    noise_cov    None        sensor_unit^2        (out_size, out_size) covariance
    ===========  ==========  ===================  ==========================================

    Raises ``ValueError`` for an ``L`` of the wrong shape (both shapes named),
    units, or with NaN/inf entries, an input with the wrong number of
    regions, or a noise covariance that is not a finite, symmetric, positive
    semi-definite (out_size, out_size) matrix. ``update(x)`` and ``model(x)`` are the same.

    References
    ----------
    Hamalainen, M. et al. (1993). Magnetoencephalography: theory,
    instrumentation, and applications. *Rev. Mod. Phys.* 65, 413-497.
    Mosher, J. C., Leahy, R. M., Lewis, P. S. (1999). EEG and MEG: forward
    solutions for inverse methods. *IEEE Trans. Biomed. Eng.* 46, 245-259.

    Examples
    --------
    >>> import brainunit as u, jax.numpy as jnp
    >>> from brainmass.observation import LeadFieldModel
    >>> lf = LeadFieldModel(1, 1, jnp.ones((1, 1)) * u.volt / (u.nA * u.meter))
    >>> lf(jnp.array([10.]) * u.nA * u.meter).to(u.volt)
    Quantity([10.], "V")
    """

    def __init__(self, in_size, out_size, L, sensor_unit=u.mV, dipole_unit=DIPOLE_UNIT,
                 scale=None, noise_cov=None, *, name: Optional[str] = None):
        super().__init__(name=name)
        self.n_regions = _axis_size(in_size, 'in_size')
        self.n_sensors = _axis_size(out_size, 'out_size')
        self.in_size, self.out_size = self.n_regions, self.n_sensors
        self.sensor_unit = self._check_sensor_unit(_unit(sensor_unit, 'sensor_unit'))
        self.dipole_unit = _unit(dipole_unit, 'dipole_unit')
        if not self.dipole_unit.has_same_dim(DIPOLE_UNIT):
            raise ValueError(f'`dipole_unit` must be a current dipole moment (e.g. nA*m); '
                             f'got {self.dipole_unit}.')
        self.L = self._leadfield(L)
        self.scale = None if scale is None else self._scale(scale)
        self.noise_chol = None if noise_cov is None else self._cholesky(noise_cov)

    # ---------------------------------------------------------------- checks
    def _scale(self, scale):
        if not isinstance(scale, brainstate.nn.Param):
            scale = as_numeric(scale, 'scale', type(self).__name__)
            check_values(scale, 'scale', type(self).__name__)
        return brainstate.nn.Param.init(scale)

    def _check_sensor_unit(self, unit):
        return unit

    def _leadfield(self, L):
        target = self.sensor_unit / self.dipole_unit
        if isinstance(L, brainstate.nn.Param):
            value = L.value()
            if isinstance(value, u.Quantity):
                raise ValueError('a Param lead field must hold a plain array (read in '
                                 'sensor_unit / dipole_unit).')
            self._check_shape(jnp.shape(value))
            check_values(value, 'L', type(self).__name__)
            return L
        if isinstance(L, u.Quantity):
            if not u.get_unit(L).has_same_dim(target):
                raise ValueError(f'`L` has unit {u.get_unit(L)}, which is not sensor/dipole '
                                 f'({target}); give it in e.g. {target}.')
            L = u.get_magnitude(L.to(target))
        L = _float(as_numeric(L, 'L', type(self).__name__, kinds='an array of numbers or a Quantity'))
        self._check_shape(L.shape)
        check_values(L, 'L', type(self).__name__)
        return brainstate.nn.Param.init(L)

    def _check_shape(self, shape):
        if tuple(shape) != (self.n_regions, self.n_sensors):
            raise ValueError(f'`L` must have shape (in_size, out_size) = ({self.n_regions}, '
                             f'{self.n_sensors}) (regions x sensors); got {tuple(shape)}.')

    def _cholesky(self, cov):
        if isinstance(cov, u.Quantity):
            if not u.get_unit(cov).has_same_dim(self.sensor_unit ** 2):
                raise ValueError(f'`noise_cov` has unit {u.get_unit(cov)}, expected '
                                 f'{self.sensor_unit ** 2}.')
            cov = u.get_magnitude(cov.to(self.sensor_unit ** 2))
        cov = np.asarray(as_numeric(cov, 'noise_cov', type(self).__name__), dtype=float)
        check_values(cov, 'noise_cov', type(self).__name__)
        n = self.n_sensors
        if cov.shape != (n, n):
            raise ValueError(f'`noise_cov` must have shape (out_size, out_size) = ({n}, {n}); '
                             f'got {cov.shape}.')
        if not np.allclose(cov, cov.T, rtol=1e-6, atol=1e-12 * max(np.abs(cov).max(), 1.)):
            raise ValueError('`noise_cov` must be symmetric.')
        w, V = np.linalg.eigh(cov)
        if w.min() < -1e-8 * max(abs(w).max(), 1e-300):
            raise ValueError(f'`noise_cov` must be positive semi-definite; its smallest '
                             f'eigenvalue is {w.min():g}.')
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:           # singular but PSD: symmetric square root
            chol = (V * np.sqrt(np.clip(w, 0., None))) @ V.T
        return jnp.asarray(chol, dtype=brainstate.environ.dftype())

    # -------------------------------------------------------------- forward
    def _dipoles(self, x):
        if isinstance(x, u.Quantity):
            if not u.get_unit(x).has_same_dim(self.dipole_unit):
                raise ValueError(f'the input dipoles have unit {u.get_unit(x)}, expected a dipole '
                                 f'moment such as {self.dipole_unit}.')
            x = u.get_magnitude(x.to(self.dipole_unit))
        x = _float(as_numeric(x, 'x', kinds='an array of dipole moments (numbers or a Quantity such as nA*m)'))
        if x.ndim == 0 or x.shape[-1] != self.n_regions:
            raise ValueError(f'the input must have shape (..., n_regions) with n_regions = '
                             f'{self.n_regions}; got {x.shape}.')
        return x

    def project(self, x):
        """Noise-free sensor magnitudes (plain, in ``sensor_unit``) before referencing."""
        y = self._dipoles(x) @ self.L.value()
        return y if self.scale is None else y * self.scale.value()

    def noise(self, shape):
        """Sensor noise samples of ``shape + (n_sensors,)`` (plain, in ``sensor_unit``)."""
        z = brainstate.random.randn(*tuple(shape), self.n_sensors)
        return z @ self.noise_chol.T

    def update(self, x):
        """Sensors (..., n_sensors) as a quantity in ``sensor_unit`` for dipoles (..., n_regions)."""
        y = self.project(x)
        if self.noise_chol is not None:
            y = y + self.noise(y.shape[:-1])
        return self._reference(y) * self.sensor_unit

    def _reference(self, y):
        return y

    def __call__(self, x):
        return self.update(x)

    def __repr__(self):
        return (f'{type(self).__name__}(in_size={self.n_regions}, out_size={self.n_sensors}, '
                f'sensor_unit={self.sensor_unit}, noise={self.noise_chol is not None})')


class EEGLeadFieldModel(LeadFieldModel):
    r"""EEG forward model: :class:`LeadFieldModel` with voltage sensors.

    .. math::

        y = s\, x L + \epsilon, \qquad
        y^{\text{avg}}_c = y_c - \frac{1}{C}\sum_{c'} y_{c'} \ \ (\text{reference='average'}).

    ``sensor_unit`` must be a voltage (default mV); with
    ``reference='average'`` the sensors are re-referenced to their mean, so
    they sum to 0 at every sample (noise included).

    ===========  ==========  ===================  ==========================================
    parameter    default     unit                 meaning
    ===========  ==========  ===================  ==========================================
    in_size      -           -                    number of regions (int or 1-tuple)
    out_size     -           -                    number of electrodes (int or 1-tuple)
    L            -           V/(nA m)             lead field (in_size, out_size)
    sensor_unit  u.mV        voltage              unit of the output
    noise_cov    None        sensor_unit^2        electrode noise covariance
    reference    None        -                    None or 'average'
    ===========  ==========  ===================  ==========================================

    Examples
    --------
    >>> import jax.numpy as jnp, brainunit as u
    >>> from brainmass.observation import EEGLeadFieldModel
    >>> eeg = EEGLeadFieldModel(2, 3, jnp.arange(6.).reshape(2, 3), reference='average')
    >>> y = eeg(jnp.ones(2))
    >>> abs(float(u.get_magnitude(y).sum())) < 1e-6
    True
    """

    def __init__(self, in_size, out_size, L, sensor_unit=u.mV, noise_cov=None, reference=None, *,
                 dipole_unit=DIPOLE_UNIT, scale=None, name: Optional[str] = None):
        self.reference = check_choice(reference, (None, 'average'), 'reference')
        super().__init__(in_size, out_size, L, sensor_unit=sensor_unit, dipole_unit=dipole_unit,
                         scale=scale, noise_cov=noise_cov, name=name)

    def _check_sensor_unit(self, unit):
        if not unit.has_same_dim(u.volt):
            raise ValueError(f'EEG `sensor_unit` must be a voltage (e.g. u.mV, u.uvolt); got {unit}.')
        return unit

    def _reference(self, y):
        if self.reference == 'average':
            return y - jnp.mean(y, axis=-1, keepdims=True)
        return y


class MEGLeadFieldModel(LeadFieldModel):
    r"""MEG forward model: :class:`LeadFieldModel` with magnetic-field sensors.

    .. math::

        y = s\, x L + \epsilon .

    ``sensor_unit`` must be a magnetic flux density (default tesla; e.g.
    ``u.ftesla`` for fT).

    ===========  ==========  ===================  ==========================================
    parameter    default     unit                 meaning
    ===========  ==========  ===================  ==========================================
    in_size      -           -                    number of regions (int or 1-tuple)
    out_size     -           -                    number of sensors (int or 1-tuple)
    L            -           T/(nA m)             lead field (in_size, out_size)
    sensor_unit  u.tesla     flux density         unit of the output
    noise_cov    None        sensor_unit^2        sensor noise covariance
    ===========  ==========  ===================  ==========================================

    Examples
    --------
    >>> import jax.numpy as jnp, brainunit as u
    >>> from brainmass.observation import MEGLeadFieldModel
    >>> meg = MEGLeadFieldModel(2, 4, jnp.ones((2, 4)) * u.ftesla / (u.nA * u.meter), sensor_unit=u.ftesla)
    >>> meg(jnp.ones(2)).shape
    (4,)
    """

    def __init__(self, in_size, out_size, L, sensor_unit=u.tesla, noise_cov=None, *,
                 dipole_unit=DIPOLE_UNIT, scale=None, name: Optional[str] = None):
        super().__init__(in_size, out_size, L, sensor_unit=sensor_unit, dipole_unit=dipole_unit,
                         scale=scale, noise_cov=noise_cov, name=name)

    def _check_sensor_unit(self, unit):
        if not unit.has_same_dim(u.tesla):
            raise ValueError(f'MEG `sensor_unit` must be a magnetic flux density (e.g. u.tesla, '
                             f'u.ftesla); got {unit}.')
        return unit


class LeadfieldReadout(brainstate.nn.Module):
    r"""Trainable, normalised lead-field read-out (gain and offset).

    .. math::

        \hat L_{rc} = \frac{L_{rc}}{\sqrt{\sum_{r'} L_{r'c}^2}}, \qquad
        \tilde x_r = x_r - \frac{1}{R}\sum_{r'} x_{r'}, \qquad
        y_c = y_0 \sum_r \hat L_{rc}\, \tilde x_r + c_{y0},

    i.e. ``y = y0 * (normalize(lm).T @ demean(x)) + cy0`` for one sample
    ``x`` of shape (n_regions,); for ``x`` of shape (..., n_regions) the same
    is applied to every sample along the last axis. ``normalize`` scales
    every sensor's column of the lead field to unit L2 norm over regions
    (``normalize=False``: :math:`\hat L = L`); ``demean`` subtracts the mean
    across regions of every sample (``demean=False``: :math:`\tilde x = x`).
    Everything is plain (dimensionless) arrays: quantities are reduced to
    their magnitudes.

    ==========  =======  ========================================================
    parameter   default  meaning
    ==========  =======  ========================================================
    lm          -        lead field (n_regions, n_sensors); plain floats accepted
    y0          -        gain: a float (made a trainable Param) or a Param
    cy0         -        offset: a float (made a trainable Param) or a Param
    normalize   True     scale each sensor's column to unit norm
    demean      True     subtract the across-region mean of the input
    ==========  =======  ========================================================

    References
    ----------
    The EEG read-out of WhoBPyT (https://github.com/GriffithsLab/whobpyt), as
    used in Momi, D., Wang, Z., Griffiths, J. D. (2023). TMS-evoked responses
    are driven by recurrent large-scale network dynamics. *eLife* 12, e83232.
    (WhoBPyT normalises per sensor with an L1 norm and lays the lead field
    out sensors x regions; this class uses the layout and L2 norm above.)

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from brainmass.observation import LeadfieldReadout
    >>> ro = LeadfieldReadout([[1., 0.], [0., 2.]], y0=2., cy0=0.5)
    >>> ro(jnp.array([1., 3.]))
    Array([-1.5,  2.5], dtype=float32)
    """

    def __init__(self, lm, y0, cy0, normalize=True, demean=True, *, name: Optional[str] = None):
        super().__init__(name=name)
        lm = magnitude(lm)
        lm = lm.value() if isinstance(lm, brainstate.nn.Param) else lm
        self.lm = _float(lm)
        if self.lm.ndim != 2:
            raise ValueError(f'`lm` must be a 2-D (n_regions, n_sensors) array; got shape {self.lm.shape}.')
        check_values(self.lm, 'lm', 'LeadfieldReadout')
        self.y0 = _trainable(y0, 'y0')
        self.cy0 = _trainable(cy0, 'cy0')
        self.normalize = bool(normalize)
        self.demean = bool(demean)

    @property
    def n_regions(self) -> int:
        return self.lm.shape[0]

    def matrix(self):
        """The (optionally normalised) lead field used by :meth:`update`."""
        if not self.normalize:
            return self.lm
        norm = jnp.sqrt(jnp.sum(self.lm ** 2, axis=0, keepdims=True))
        return self.lm / jnp.where(norm > 0, norm, 1.)

    def update(self, x):
        x = _float(magnitude(x))
        if x.ndim == 0 or x.shape[-1] != self.n_regions:
            raise ValueError(f'the input must have shape (..., n_regions) with n_regions = '
                             f'{self.n_regions}; got {x.shape}.')
        if self.demean:
            x = x - jnp.mean(x, axis=-1, keepdims=True)
        return self.y0.value() * (x @ self.matrix()) + self.cy0.value()

    def __call__(self, x):
        return self.update(x)


def _trainable(value, name):
    if isinstance(value, brainstate.nn.Param):
        return value
    if isinstance(value, u.Quantity):
        raise ValueError(f'`{name}` must be a plain number or a brainstate.nn.Param; got a quantity.')
    try:
        return brainstate.nn.Param(_float(value))
    except TypeError as err:
        raise ValueError(f'`{name}` must be a number, an array or a brainstate.nn.Param; '
                         f'got {value!r}.') from err


# -------------------------------------------------------------------- helpers
def compress_vertex_leadfield(L_vertex, vertex_to_region, n_regions=None, weights=None, reduce='mean'):
    r"""Reduce a vertex lead field to regions.

    .. math::

        L_{r} = \sum_{i \in r} w_i L_i \quad (\text{'sum'}), \qquad
        L_{r} = \frac{\sum_{i \in r} w_i L_i}{\sum_{i \in r} w_i} \quad (\text{'mean'}),

    Parameters
    ----------
    L_vertex : array or Quantity, shape (n_vertices, n_sensors[, 3])
        Vertex lead field (units kept).
    vertex_to_region : int array, shape (n_vertices,)
        Region index of every vertex; a negative index drops the vertex.
    n_regions : int, optional
        Number of regions (default ``max(vertex_to_region) + 1``).
    weights : array, shape (n_vertices,), optional
        Vertex weights (e.g. areas); default 1.
    reduce : {'mean', 'sum'}
        Weighted mean or weighted sum. A region without vertices gets zeros.

    Returns
    -------
    array or Quantity, shape (n_regions, n_sensors[, 3])

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from brainmass.observation import compress_vertex_leadfield
    >>> compress_vertex_leadfield(jnp.array([[1.], [3.], [5.]]), jnp.array([0, 0, 1]))
    Array([[2.],
           [5.]], dtype=float32)
    """
    reduce = check_choice(reduce, ('mean', 'sum'), 'reduce')
    unit = u.get_unit(L_vertex) if isinstance(L_vertex, u.Quantity) else None
    L = _float(u.get_magnitude(L_vertex) if unit is not None else L_vertex)
    if L.ndim not in (2, 3):
        raise ValueError(f'`L_vertex` must have shape (n_vertices, n_sensors) or (n_vertices, '
                         f'n_sensors, 3); got {L.shape}.')
    labels = np.asarray(vertex_to_region)
    if labels.shape != (L.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f'`vertex_to_region` must be an int array of shape ({L.shape[0]},) '
                         f'(one region per vertex); got {labels.dtype} {labels.shape}.')
    n = int(labels.max()) + 1 if n_regions is None else _count(n_regions, 'n_regions')
    if labels.max() >= n:
        raise ValueError(f'`vertex_to_region` has index {labels.max()} but n_regions is {n}.')
    w = jnp.ones(L.shape[0], L.dtype) if weights is None else _float(weights)
    if w.shape != (L.shape[0],):
        raise ValueError(f'`weights` must have shape ({L.shape[0]},); got {w.shape}.')
    w = jnp.where(labels >= 0, w, 0.)
    seg = np.where(labels >= 0, labels, 0)
    wL = L * w.reshape((-1,) + (1,) * (L.ndim - 1))
    out = jax.ops.segment_sum(wL, seg, num_segments=n)
    if reduce == 'mean':
        total = jax.ops.segment_sum(w, seg, num_segments=n)
        total = total.reshape((-1,) + (1,) * (L.ndim - 1))
        out = out / jnp.where(total != 0, total, 1.)
    return out if unit is None else out * unit


def build_fixed_orientation_weights(normals, L_vertex_3d):
    r"""Project a free-orientation lead field onto the cortical normals.

    .. math::

        L_{ic} = \sum_{k=1}^{3} L_{ick}\, \frac{n_{ik}}{\lVert n_i \rVert} .

    Parameters
    ----------
    normals : array, shape (n_vertices, 3)
        Surface normals (normalised here; a zero normal raises ValueError).
    L_vertex_3d : array or Quantity, shape (n_vertices, n_sensors, 3)
        Free-orientation lead field (units kept).

    Returns
    -------
    array or Quantity, shape (n_vertices, n_sensors)

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from brainmass.observation import build_fixed_orientation_weights
    >>> L3 = jnp.arange(6.).reshape(1, 2, 3)
    >>> build_fixed_orientation_weights(jnp.array([[0., 0., 2.]]), L3)
    Array([[2., 5.]], dtype=float32)
    """
    unit = u.get_unit(L_vertex_3d) if isinstance(L_vertex_3d, u.Quantity) else None
    L = _float(u.get_magnitude(L_vertex_3d) if unit is not None else L_vertex_3d)
    n = _float(normals)
    if L.ndim != 3 or L.shape[-1] != 3:
        raise ValueError(f'`L_vertex_3d` must have shape (n_vertices, n_sensors, 3); got {L.shape}.')
    if n.shape != (L.shape[0], 3):
        raise ValueError(f'`normals` must have shape (n_vertices, 3) = ({L.shape[0]}, 3); got {n.shape}.')
    norm = jnp.linalg.norm(n, axis=-1, keepdims=True)
    if not isinstance(norm, jax.core.Tracer) and bool(jnp.any(norm == 0)):
        raise ValueError('`normals` has a zero-length normal; every vertex needs a direction.')
    out = jnp.einsum('vsk,vk->vs', L, n / norm)
    return out if unit is None else out * unit
