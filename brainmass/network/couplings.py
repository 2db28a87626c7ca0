"""Coupling modules: the kernels of :mod:`kernels` as trainable brainstate modules.

A coupling can be used three ways:

1. inside a :class:`~brainmass.Network` (``coupling='diffusive'`` etc.), which
   feeds it the delayed read of its ring buffer;
2. built directly from prefetch references, as in the Custom Coupling guide::

       x_src = node.prefetch_delay('x', (delays, delay_index(N)))   # (N, N)
       x_self = node.prefetch('x')                                   # (N,)
       coupling = DiffusiveCoupling(x_src, x_self, conn=W, k=0.5)
       current = coupling.update()

3. called on arrays, ``coupling(x_delayed, x_self)``, where ``x_delayed`` is
   ``(N, N)``, flattened ``(N*N,)`` or an undelayed ``(N,)`` source vector.

Every shape parameter (and ``k``, and ``conn``) goes through
``brainstate.nn.Param`` and may be trainable.
"""
from __future__ import annotations

import brainstate
import brainunit as u
import numpy as np

from .._core.validation import Default
from .kernels import check_self, jansen_rit_sigmoid, logistic, weighted_sum
from .laplacian import LaplacianConnParam

__all__ = ['Coupling', 'DiffusiveCoupling', 'AdditiveCoupling', 'SigmoidalCoupling',
           'HyperbolicTangentCoupling', 'SigmoidalJansenRitCoupling', 'as_conn_param']


def as_conn_param(conn, name='conn'):
    """Wrap a connectivity matrix as a Param (a Param passes through untouched)."""
    if isinstance(conn, brainstate.nn.Param):
        return conn
    if np.iscomplexobj(u.get_mantissa(conn) if isinstance(conn, u.Quantity) else conn):
        raise TypeError(f'`{name}` must be real numbers; got a complex array (it would be cast silently).')
    arr = u.math.asarray(conn, dtype=brainstate.environ.dftype())
    if not np.all(np.isfinite(np.asarray(u.get_magnitude(arr)))):
        raise ValueError(f'`{name}` contains NaN or inf.')
    return brainstate.nn.Param.init(arr)


class Coupling(brainstate.nn.Module):
    """Base class: ``C = post(sum_j W_ij pre(x_ij), x_self)``.

    Parameters
    ----------
    x : Prefetch reference, optional
        Delayed source read (``node.prefetch_delay(...)``), (N, N).
    y : Prefetch reference, optional
        Self read (``node.prefetch(...)``), (N,).
    conn : array_like or Param
        Weights (target row, source column).
    k : float, Quantity or Param
        Global strength (TVB's G). Given to a :class:`~brainmass.Network`, a coupling's ``k``
        becomes the Network's ``k`` if it was given explicitly (and the Network's was not);
        both given and different is a ``ValueError``.
    """

    needs_self = False

    def __init__(self, x=None, y=None, conn=None, k=Default(1.0)):
        super().__init__()
        self.x = x
        self.y = y
        self.conn = None if conn is None else as_conn_param(conn)
        self.k = brainstate.nn.Param.init(k)
        #: whether ``k`` was given (a Network then takes it as its ``k``; see :class:`~brainmass.Network`)
        self.k_given = not isinstance(k, Default)

    def share_network_params(self, conn, k):
        """Use a Network's ``conn`` and ``k`` (hidden from this module's graph, so
        parameter paths read ``'k'`` / ``'conn'`` on the Network)."""
        self.conn = conn
        self.k = k
        self.graph_invisible_attrs = tuple(self.graph_invisible_attrs) + ('conn', 'k')

    def pre(self, x):
        return x

    def post(self, s, x_self, conn):  # pragma: no cover - abstract
        raise NotImplementedError

    def conn_value(self):
        if self.conn is None:
            raise ValueError(f'{type(self).__name__} has no `conn`: pass conn=W.')
        return self.conn.value()

    def update(self, *args):
        """The (N,) coupling current (from the prefetch references or from args)."""
        if self.x is not None:
            delayed = self.x()
            x_self = self.y() if self.y is not None else None
        else:
            if not args:
                raise TypeError(f'{type(self).__name__} was built without prefetch references: call it as '
                                f'coupling(x_delayed, x_self).')
            delayed, x_self = args[0], (args[1] if len(args) > 1 else args[0])
        if self.needs_self and x_self is None:
            raise ValueError(f'{type(self).__name__} needs the self read y (node.prefetch(var)).')
        conn = self.conn_value()
        n = u.math.shape(conn)[-1]
        if self.needs_self:
            check_self(x_self, n, 'x_self')
        if u.math.shape(delayed)[-1:] == (n,) and u.math.shape(delayed)[-2:] != (n, n):
            delayed = u.math.expand_dims(delayed, -2)  # an undelayed source vector
            delayed = u.math.broadcast_to(delayed, tuple(u.math.shape(delayed)[:-2]) + (n, n))
        return self.post(weighted_sum(self.pre(delayed), conn), x_self, conn)

    def __call__(self, *args):
        return self.update(*args)


class DiffusiveCoupling(Coupling):
    r"""Diffusive coupling :math:`C_i = k\sum_j W_{ij}(x_j(t-\tau_{ij}) - x_i(t))`.

    Pulls each region toward its neighbours; vanishes on synchrony.
    Signature ``DiffusiveCoupling(x, y, conn, k=1.0)``.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp, brainmass
    >>> c = brainmass.DiffusiveCoupling(conn=np.array([[0., 1.], [1., 0.]]), k=0.5)
    >>> c(jnp.array([1., 3.]), jnp.array([1., 3.])).tolist()
    [1.0, -1.0]
    """

    needs_self = True

    def post(self, s, x_self, conn):
        return self.k.value() * (s - x_self * u.math.sum(conn, axis=-1))


class AdditiveCoupling(Coupling):
    r"""Additive coupling :math:`C_i = k\sum_j W_{ij}x_j(t-\tau_{ij}) + b`.

    With a :class:`LaplacianConnParam` as ``conn`` it applies
    :math:`C_i = -k(L\tilde x)_i` (the Network's ``coupling='laplacian'``).
    Signature ``AdditiveCoupling(x, conn, k=1.0, b=0.0)``.
    """

    def __init__(self, x=None, conn=None, k=Default(1.0), b=0.0):
        super().__init__(x=x, conn=conn, k=k)
        self.b = brainstate.nn.Param.init(b)

    @property
    def sign(self):
        return -1. if isinstance(self.conn, LaplacianConnParam) else 1.

    def post(self, s, x_self, conn):
        return self.sign * self.k.value() * s + self.b.value()


class SigmoidalCoupling(Coupling):
    r"""Sigmoidal coupling :math:`C_i = k\,\sigma(\mathrm{slope}(a\sum_j W_{ij}x_j + b - \mathrm{mid}))`.

    Bounded in (0, k); at zero input :math:`k\sigma(-\mathrm{slope}\cdot\mathrm{mid})`.
    Signature ``SigmoidalCoupling(x, conn, k=1, a=1, b=0, slope=1, midpoint=0)``.
    """

    def __init__(self, x=None, conn=None, k=Default(1.0), a=1.0, b=0.0, slope=1.0, midpoint=0.0):
        super().__init__(x=x, conn=conn, k=k)
        self.a = brainstate.nn.Param.init(a)
        self.b = brainstate.nn.Param.init(b)
        self.slope = brainstate.nn.Param.init(slope)
        self.midpoint = brainstate.nn.Param.init(midpoint)

    def post(self, s, x_self, conn):
        z = self.a.value() * u.get_magnitude(s) + self.b.value() - self.midpoint.value()
        return self.k.value() * logistic(self.slope.value() * z)


class HyperbolicTangentCoupling(Coupling):
    r"""Hyperbolic-tangent coupling :math:`C_i = k\tanh(\mathrm{scale}\sum_j W_{ij}x_j)`.

    Symmetric saturation to :math:`\pm k`.
    Signature ``HyperbolicTangentCoupling(x, conn, k=0.5, scale=2.0)``.
    """

    def __init__(self, x=None, conn=None, k=Default(0.5), scale=2.0):
        super().__init__(x=x, conn=conn, k=k)
        self.scale = brainstate.nn.Param.init(scale)

    def post(self, s, x_self, conn):
        return self.k.value() * u.math.tanh(self.scale.value() * u.get_magnitude(s))


class SigmoidalJansenRitCoupling(Coupling):
    r"""Jansen-Rit pre-synaptic transfer :math:`C_i = k\sum_j W_{ij}\sigma_{JR}(x_j)`.

    :math:`\sigma_{JR}(x) = c_{min} + (c_{max}-c_{min})/(1+e^{r(\mathrm{mid}-x)})`,
    with ``x`` in mV (quantities are converted). Couple the pyramidal
    potential (``y1 - y2`` / ``E - I``) of a Jansen-Rit node.
    Signature ``SigmoidalJansenRitCoupling(x, conn, k=1, cmin=0, cmax=0.005, midpoint=6, r=0.56)``.
    """

    def __init__(self, x=None, conn=None, k=Default(1.0), cmin=0.0, cmax=0.005, midpoint=6.0, r=0.56):
        super().__init__(x=x, conn=conn, k=k)
        self.cmin = brainstate.nn.Param.init(cmin)
        self.cmax = brainstate.nn.Param.init(cmax)
        self.midpoint = brainstate.nn.Param.init(midpoint)
        self.r = brainstate.nn.Param.init(r)

    def pre(self, x):
        if isinstance(x, u.Quantity):
            x = u.get_magnitude(x.to(u.mV)) if not u.get_unit(x).is_unitless else u.get_magnitude(x)
        return jansen_rit_sigmoid(x, self.cmin.value(), self.cmax.value(), self.midpoint.value(),
                                  self.r.value())

    def post(self, s, x_self, conn):
        return self.k.value() * s
