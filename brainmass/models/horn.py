r"""Harmonic-oscillator recurrent network (HORN).

Effenberger, Carvalho, Dubinin & Singer (2025) model each node of a recurrent
network as a damped harmonic oscillator driven through a saturating
nonlinearity:

.. math::

    \ddot x + 2\gamma\,\dot x + \omega^2 x = \alpha\,\tanh(I + v\,x),

written here as a first-order system in position :math:`x` and velocity
:math:`y = \dot x`:

.. math::

    \dot x = y + I_x, \qquad
    \dot y = \alpha \tanh(I + v\,x) - 2\gamma\,y - \omega^2 x .

:math:`I` is the node's drive (external input plus, in a layer, recurrent
input); it enters inside the nonlinearity, as in the paper. :math:`v` is an
optional amplitude self-feedback into the node's own nonlinearity (0 by
default, which gives exactly the published node). :math:`I_x` is an optional
extra input to the position equation (0 in the paper).

In a layer (:class:`HORNSeqLayer`) of :math:`n` nodes receiving a sequence
:math:`s_t`, the drive is

.. math::

    I_t = W^{ih} s_t + b^{ih} + \frac{1}{\sqrt n}\big(W^{hh} y_t + b^{hh}\big),

(recurrent input from the velocities) and, like the paper, one input sample is
presented per step of size :math:`h` (1 ms by default) and the step is the
symplectic (semi-implicit) Euler update

.. math::

    y_{t+1} = y_t + h\,\big(\alpha\tanh(I_t + v x_t) - 2\gamma y_t - \omega^2 x_t\big), \qquad
    x_{t+1} = x_t + h\,y_{t+1},

which preserves the oscillation (plain explicit Euler at :math:`h = 1` would
make the undamped oscillator grow). The read-out of :class:`HORNSeqNetwork`
is linear in the final positions :math:`x_T`.

Units: time in ms (one input sample per ``h`` ms); ``omega`` in rad/ms,
``gamma`` per ms and ``alpha`` per ms^2 as plain numbers; ``v`` is
dimensionless. The paper's sequential-MNIST values are the defaults:
:math:`\alpha = 0.04`, :math:`\omega = 2\pi/28` (one cycle per image row of
28 pixels), :math:`\gamma = 0.01`, :math:`h = 1`.

==========  ==========  ========  ===============================================
parameter   default     unit      meaning
==========  ==========  ========  ===============================================
alpha       0.04        1/ms^2    excitability (gain of the driving force)
omega       2 pi / 28   rad/ms    natural angular frequency
gamma       0.01        1/ms      damping (the damping term is 2 gamma y)
v           0.0         -         amplitude self-feedback inside the tanh
==========  ==========  ========  ===============================================

States ``x`` (position / amplitude) and ``y`` (velocity), dimensionless,
start at 0. ``HORNStep.update(I, x_inp=None)`` returns ``x``: the first
positional input is the drive :math:`I` of the velocity equation, so in a
:class:`~brainmass.Network` the coupling current is a drive; couple ``'y'``
(recurrent input from the velocities, as in the paper) or ``'x'``.

References
----------
Effenberger, F., Carvalho, P., Dubinin, I. & Singer, W. (2025). The functional role
of oscillatory dynamics in neocortical circuits: a computational perspective.
*PNAS* 122(4), e2412830122. doi:10.1073/pnas.2412830122
"""
from __future__ import annotations

import math

import brainstate
import brainunit as u
import jax.numpy as jnp

from .._core.integrators import list_methods
from .._core.step import StepModel
from .._core.units import time_to_ms
from .._core.validation import check_choice, check_int_at_least

__all__ = ['HORNStep', 'HORNSeqLayer', 'HORNSeqNetwork']


class HORNStep(StepModel):
    r"""A bank of HORN damped-driven harmonic oscillators (module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of oscillators.
    alpha : float, array or brainstate.nn.Param, default 0.04
        Excitability (per ms^2).
    omega : float, array, Quantity or brainstate.nn.Param, default 2 pi / 28
        Natural angular frequency (rad/ms; a quantity such as
        ``2 * jnp.pi * 10 * u.Hz`` is converted).
    gamma : float, array, Quantity or brainstate.nn.Param, default 0.01
        Damping rate (per ms).
    v : float, array or brainstate.nn.Param, default 0.
        Amplitude self-feedback inside the nonlinearity.
    noise_x, noise_y : Noise, optional
        Dimensionless noise; ``noise_y`` is added to the drive ``I``.
    init_x, init_y : default 0.
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainunit as u
    >>> import brainmass
    >>> node = brainmass.HORNStep(4, alpha=0.3)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(50 * u.ms, inputs=1.0, monitors=['x', 'y'])
    >>> res['x'].shape
    (500, 4)
    """

    state_vars = ('x', 'y')
    input_vars = ('y', 'x')
    category = 'sequence learning'
    use_case = 'oscillatory recurrent network for sequence tasks (HORN)'

    def __init__(self, in_size, alpha=0.04, omega=2. * math.pi / 28., gamma=0.01, v=0.0, *,
                 noise_x=None, noise_y=None, init_x=0., init_y=0., method='exp_euler', name=None,
                 **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(x=noise_x, y=noise_y),
                         init=dict(x=init_x, y=init_y), **aliases)
        self.alpha = self.param(alpha, 'alpha')
        self.omega = self.param(omega, 'omega', unit=u.kHz)
        self.gamma = self.param(gamma, 'gamma', unit=u.kHz)
        self.v = self.param(v, 'v')

    def dx(self, y, inp):
        return (y + inp) / u.ms

    def dy(self, x, y, inp):
        force = self.alpha.value() * jnp.tanh(inp + self.v.value() * x)
        return (force - 2. * self.magnitude('gamma') * y - self.magnitude('omega') ** 2 * x) / u.ms

    def output(self):
        return self.x.value


SYMPLECTIC = 'symplectic_euler'


class HORNSeqLayer(brainstate.nn.Module):
    r"""A recurrent layer of HORN oscillators stepping one input sample per step.

    Parameters
    ----------
    num_in : int
        Input dimension.
    num_hidden : int
        Number of oscillators ``n``.
    alpha, omega, gamma, v :
        Node parameters (see :class:`HORNStep`; scalars or one per oscillator).
    h : float or Quantity, default 1.0
        Step per input sample (plain numbers are ms); the paper uses h = 1.
    method : str, default 'symplectic_euler'
        'symplectic_euler' (the paper's update) or any name of
        :func:`brainmass.list_methods`, which then steps the node with that
        integrator at ``dt = h``.
    rec_scale : float, optional
        Gain of the recurrent input; default :math:`1/\sqrt n` as in the paper.
    w_init_in, w_init_rec : initializers, optional
        Initializers of the input and recurrent weights (brainstate defaults).
    noise_x, noise_y, init_x, init_y :
        Passed to the :class:`HORNStep` node (``self.node``).

    Examples
    --------
    >>> import brainstate, jax.numpy as jnp
    >>> import brainmass
    >>> layer = brainmass.HORNSeqLayer(num_in=2, num_hidden=8)
    >>> _ = brainstate.nn.init_all_states(layer, batch_size=4)
    >>> layer.update(jnp.ones((4, 2))).shape
    (4, 8)
    """

    def __init__(self, num_in, num_hidden, alpha=0.04, omega=2. * math.pi / 28., gamma=0.01, v=0.0, *,
                 h=1.0, method=SYMPLECTIC, rec_scale=None, w_init_in=None, w_init_rec=None,
                 noise_x=None, noise_y=None, init_x=0., init_y=0., name=None):
        super().__init__(name=name)
        self.num_in = check_int_at_least(num_in, 1, 'num_in')
        self.num_hidden = check_int_at_least(num_hidden, 1, 'num_hidden')
        self.method = check_choice(method, [SYMPLECTIC] + list_methods(), 'method')
        self.h = float(time_to_ms(h, 'h'))
        if not self.h > 0:
            raise ValueError(f'`h` must be > 0; got {h}.')
        self.rec_scale = 1. / math.sqrt(self.num_hidden) if rec_scale is None else float(rec_scale)
        node_method = 'exp_euler' if method == SYMPLECTIC else method
        self.node = HORNStep(self.num_hidden, alpha=alpha, omega=omega, gamma=gamma, v=v, noise_x=noise_x,
                             noise_y=noise_y, init_x=init_x, init_y=init_y, method=node_method)
        kw_in = {} if w_init_in is None else dict(w_init=w_init_in)
        kw_rec = {} if w_init_rec is None else dict(w_init=w_init_rec)
        self.i2h = brainstate.nn.Linear(self.num_in, self.num_hidden, **kw_in)
        self.h2h = brainstate.nn.Linear(self.num_hidden, self.num_hidden, **kw_rec)

    def drive(self, s):
        """Input to the nonlinearity: input weights plus scaled recurrent velocities."""
        return self.i2h(s) + self.rec_scale * self.h2h(self.node.y.value)

    def update(self, s):
        """Present one input sample ``s`` (``(batch, num_in)`` or ``(num_in,)``); return ``x``."""
        drive = self.drive(s)
        node = self.node
        if self.method != SYMPLECTIC:
            with brainstate.environ.context(dt=self.h * u.ms):
                node.integrate(drive)
            return node.x.value
        inp = node._gather_inputs((drive,), {})
        step = self.h * u.ms
        x, y = node.x.value, node.y.value
        y = y + u.maybe_decimal(step * node.dy(x, y, inp['y']))
        x = x + u.maybe_decimal(step * node.dx(y, inp['x']))
        node.y.value = y
        node.x.value = x
        return x


class HORNSeqNetwork(brainstate.nn.Module):
    r"""A HORN layer with a linear read-out of the final positions.

    Parameters
    ----------
    num_in, num_hidden, num_out : int
        Input, oscillator and output dimensions.
    **layer_kwargs
        Passed to :class:`HORNSeqLayer` (``alpha``, ``omega``, ``gamma``,
        ``v``, ``h``, ``method``, ...).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> import brainmass
    >>> net = brainmass.HORNSeqNetwork(num_in=1, num_hidden=16, num_out=2)
    >>> xs = jnp.zeros((20, 8, 1))          # (time, batch, num_in)
    >>> net.predict(xs).shape
    (8, 2)
    """

    def __init__(self, num_in, num_hidden, num_out, *, name=None, **layer_kwargs):
        super().__init__(name=name)
        self.num_out = check_int_at_least(num_out, 1, 'num_out')
        self.layer = HORNSeqLayer(num_in, num_hidden, **layer_kwargs)
        self.readout = brainstate.nn.Linear(self.layer.num_hidden, self.num_out)

    def update(self, s):
        """One step of the layer, then the read-out of the current positions."""
        return self.readout(self.layer.update(s))

    def _prepare(self, batch_size):
        node = self.layer.node
        state = getattr(node, 'x', None)
        shape = None if state is None else jnp.shape(state.value)
        want = tuple(node.varshape) if batch_size is None else (batch_size,) + tuple(node.varshape)
        if shape != want:
            brainstate.nn.init_all_states(self, batch_size=batch_size)
        else:
            brainstate.nn.reset_all_states(self, batch_size=batch_size)

    def predict(self, xs, reset=True):
        """Run a whole sequence and return the read-out of the final state.

        Parameters
        ----------
        xs : array, shape (T, batch, num_in) or (T, num_in)
            Input sequence, time first.
        reset : bool, default True
            Reset the oscillators to their initial state first.

        Returns
        -------
        array, shape (batch, num_out) or (num_out,)
        """
        xs = jnp.asarray(xs)
        if xs.ndim not in (2, 3) or xs.shape[-1] != self.layer.num_in:
            raise ValueError(f'`xs` must have shape (T, batch, {self.layer.num_in}) or (T, {self.layer.num_in}); '
                             f'got {xs.shape}.')
        if reset:
            self._prepare(xs.shape[1] if xs.ndim == 3 else None)
        brainstate.transform.for_loop(self.layer.update, xs)
        return self.readout(self.layer.node.x.value)
