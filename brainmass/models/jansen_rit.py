r"""Jansen-Rit cortical column: three populations, three second-order synapses.

Jansen & Rit (1995), after Lopes da Silva et al. (1974). A column has a
pyramidal population and two interneuron populations (excitatory and
inhibitory). Each synaptic connection turns an afferent firing rate
:math:`m(t)` (Hz) into a post-synaptic potential :math:`y` (mV) through the
impulse response :math:`h(t) = A\,b\,t\,e^{-bt}`, i.e. the second-order ODE
:math:`\ddot y = A\,b\,m(t) - 2b\,\dot y - b^2 y`. Firing rates come from
membrane potentials through the sigmoid

.. math::

    S(v) = \frac{s_{max}}{1 + e^{\,r (v_0 - v)}} \quad [\mathrm{Hz}].

With the paper's :math:`y_0, y_1, y_2` named ``M``, ``E``, ``I``:

.. math::

    \dot M &= M_v, &\quad \dot M_v &= A_e b_e\,\bigl[S(E - I) + m_M\bigr] - 2 b_e M_v - b_e^2 M, \\
    \dot E &= E_v, &\quad \dot E_v &= A_e b_e\,\bigl[p + m_E + C_2\,S(C_1 M)\bigr] - 2 b_e E_v - b_e^2 E, \\
    \dot I &= I_v, &\quad \dot I_v &= A_i b_i\,\bigl[C_4\,S(C_3 M) + m_I\bigr] - 2 b_i I_v - b_i^2 I,

with :math:`C_1 = a_1 C`, :math:`C_2 = a_2 C`, :math:`C_3 = a_3 C`,
:math:`C_4 = a_4 C`.

* ``M`` (:math:`y_0`): the PSP that pyramidal firing :math:`S(E - I)` produces
  on both interneuron populations (the "pyramidal" block);
* ``E`` (:math:`y_1`): the excitatory PSP on pyramidal cells, driven by the
  excitatory interneurons and by the extrinsic input :math:`p`;
* ``I`` (:math:`y_2`): the inhibitory PSP on pyramidal cells, driven by the
  inhibitory interneurons.

:math:`E - I` is the mean membrane potential of the pyramidal cells: the
EEG proxy that ``update`` returns (mV). ``Mv``, ``Ev``, ``Iv`` are the time
derivatives (mV/s).

================  =========  =======  ===================================================
parameter         default    unit     meaning
================  =========  =======  ===================================================
Ae                3.25       mV       excitatory synaptic gain :math:`A`
Ai                22         mV       inhibitory synaptic gain :math:`B`
be                100        Hz       excitatory synaptic rate :math:`a` (1/time constant)
bi                50         Hz       inhibitory synaptic rate :math:`b`
C                 135        -        average number of synapses between populations
a1, a2            1, 0.8     -        :math:`C_1 = a_1 C` (pyr -> exc), :math:`C_2 = a_2 C` (exc -> pyr)
a3, a4            0.25       -        :math:`C_3 = a_3 C` (pyr -> inh), :math:`C_4 = a_4 C` (inh -> pyr)
s_max             5          Hz       maximal firing rate :math:`2 e_0`
v0                6          mV       firing threshold (half-maximal potential)
r                 0.56       1/mV     sigmoid steepness
p                 0          Hz       constant extrinsic drive (JR's :math:`p`, 120-320 Hz)
================  =========  =======  ===================================================

Units: rates (``be``, ``bi``, ``s_max``, ``p`` and the inputs) are quantities
or **plain numbers per millisecond** (kHz), the package-wide convention:
220 Hz is ``220 * u.Hz`` or ``0.22``. ``Ae``, ``Ai``, ``v0`` as plain numbers
are mV; ``r`` as a plain number is per mV.

Inputs: ``update(M_inp, E_inp, I_inp)`` takes afferent firing **rates**
(:math:`m_M, m_E, m_I` above), each added to the rate that drives that
block: ``M_inp`` to the pyramidal output :math:`S(E-I)` seen by the
interneurons, ``E_inp`` to :math:`p` (the paper's extrinsic input onto the
pyramidal cells' excitatory synapse, driven by the excitatory
interneurons), ``I_inp`` to the inhibitory interneurons' output. A drive
like :math:`p` alone is ``update(E_inp=m)``, or ``inputs=(None, m)`` in a
:class:`~brainmass.Simulator`.

In a :class:`~brainmass.Network` the coupling current is a rate that enters
like :math:`p` (as in Jansen & Rit's coupled columns and TVB): the model
declares ``coupling_input = 'E'``, so the Network passes it as ``E_inp``
whatever the argument order, and the Simulator's ``inputs`` fill ``M_inp``,
``I_inp`` in that order. Use ``coupling='sigmoidal_jansen_rit'`` (its rate
has ``cmax = 0.005`` per ms = 5 Hz = ``s_max``) with ``coupled_var='E - I'``
(TVB's ``y1 - y2``), so the source is the pyramidal potential. The states
also answer to the paper's names ``y0``..``y5`` there (``coupled_var='y1'``
couples ``E`` alone). The low-level ``derivative(state, t, Mv_inp, Ev_inp, Iv_inp)``
takes the velocity inputs in mV/s, i.e. gain times rate (:math:`A_e m_M`, ...).

Noise: ``noise_Mv``, ``noise_Ev``, ``noise_Iv`` act on the velocity
equations in mV/s and enter where the corresponding rate times its gain
does, so a rate noise :math:`\xi(t)` (Hz) on :math:`p` is
``noise_Ev`` with amplitude :math:`A_e\xi`, e.g.
``GaussianNoise(N, mean=3.25 * u.mV * 220 * u.Hz, sigma=3.25 * u.mV * 18 * u.Hz)``.

With :math:`p` drawn as white noise in 120-320 Hz the column produces the
alpha rhythm (spectral peak 8-12 Hz) reported by Jansen & Rit (1995); at a
constant :math:`p = 220` Hz it settles on an alpha limit cycle (about 11 Hz).

References
----------
Jansen, B. H. & Rit, V. G. (1995). Electroencephalogram and visual evoked
potential generation in a mathematical model of coupled cortical columns.
*Biol. Cybern.* 73, 357-366. doi:10.1007/BF00199471
Lopes da Silva, F. H. et al. (1974). Model of brain rhythmic activity.
*Kybernetik* 15, 27-37. doi:10.1007/BF00270757
Grimbert, F. & Faugeras, O. (2006). Bifurcation analysis of Jansen's neural
mass model. *Neural Comput.* 18, 3052-3068. doi:10.1162/neco.2006.18.12.3052
Momi, D. et al. (2023). TMS-evoked responses are driven by recurrent
large-scale network dynamics. *eLife* 12, e83232. doi:10.7554/eLife.83232
Griffiths, J. D. et al. (2022). Whole-brain modelling: past, present, and
future. *Adv. Exp. Med. Biol.* 1359, 313-355. doi:10.1007/978-3-030-89439-9_13
"""
from __future__ import annotations

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from .._core.functions import sigmoid, sys2nd
from .._core.step import StepModel
from .._core.units import time_to_ms
from .._core.validation import check_values, single_number

__all__ = ['JansenRitStep', 'JansenRitTR']

_MV_PER_S = u.mV / u.second


def _khz(rate):
    """A rate as a plain number per ms (quantities converted; None -> 0)."""
    if rate is None:
        return 0.
    if isinstance(rate, u.Quantity):
        if not u.get_unit(rate).has_same_dim(u.kHz):
            raise ValueError(f'Jansen-Rit inputs are firing rates (e.g. 220 * u.Hz, or plain numbers per ms); '
                             f'got a quantity in {u.get_unit(rate)}. In a Network use '
                             f"coupling='sigmoidal_jansen_rit', whose current is a rate.")
        return rate.to_decimal(u.kHz)
    return rate


def _step_ms(value, name):
    """A positive, finite time step of JansenRitTR as a float in ms."""
    return single_number(time_to_ms(value, name), name, 'JansenRitTR', unit='ms', positive=True,
                         kinds='a time (e.g. 0.1 * u.ms) or a number of ms')


class JansenRitStep(StepModel):
    r"""Jansen-Rit neural mass (equations and units in the module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of columns (regions).
    Ae, Ai : float or Quantity
        Excitatory / inhibitory synaptic gains (plain numbers: mV).
    be, bi : float or Quantity
        Excitatory / inhibitory synaptic rates (plain numbers: per ms).
    C, a1, a2, a3, a4 : float
        Connectivity constant and the four fractions of it.
    s_max : float or Quantity
        Maximal firing rate (plain numbers: per ms).
    v0 : float or Quantity
        Sigmoid threshold (plain numbers: mV).
    r : float or Quantity
        Sigmoid steepness (plain numbers: per mV).
    p : float or Quantity, default 0 Hz
        Constant extrinsic drive onto the pyramidal cells (plain numbers: per ms).
    noise_Mv, noise_Ev, noise_Iv : Noise, optional
        Noise in mV/s on each velocity equation (see the module docstring).
    init_M, init_E, init_I : default 0 mV
    init_Mv, init_Ev, init_Iv : default 0 mV/s
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainmass, brainunit as u, numpy as np
    >>> node = brainmass.JansenRitStep(1, p=220 * u.Hz)
    >>> p = np.random.default_rng(0).uniform(-100., 100., (5000, 1)) * u.Hz   # p = 220 +- 100 Hz
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(500 * u.ms, inputs=(None, p))   # E_inp
    >>> u.get_unit(res['output'])   # E - I, the pyramidal membrane potential
    Unit("mV")
    """

    state_vars = ('M', 'E', 'I', 'Mv', 'Ev', 'Iv')
    state_units = {'M': u.mV, 'E': u.mV, 'I': u.mV, 'Mv': _MV_PER_S, 'Ev': _MV_PER_S, 'Iv': _MV_PER_S}
    input_vars = ('Mv', 'Ev', 'Iv')
    #: update's own signature: afferent rates onto the M, E and I blocks (API order)
    update_inputs = ('M_inp', 'E_inp', 'I_inp')
    #: a Network's coupling current is a rate entering like p (E_inp); declared, not positional
    coupling_input = 'E'
    #: update converts rates, so the coupling current is passed as a value
    stage_inputs = False
    #: the notation of Jansen & Rit (1995) and TVB: y0..y5
    state_aliases = {'y0': 'M', 'y1': 'E', 'y2': 'I', 'y3': 'Mv', 'y4': 'Ev', 'y5': 'Iv'}
    #: the state a brainmass.Network should couple (see the module docstring)
    coupled_var = 'E - I'
    category = 'population rate'
    use_case = 'EEG/MEG alpha rhythm and evoked potentials of a cortical column'

    def __init__(self, in_size, Ae=3.25 * u.mV, Ai=22. * u.mV, be=100. * u.Hz, bi=50. * u.Hz, C=135.,
                 a1=1.0, a2=0.8, a3=0.25, a4=0.25, s_max=5. * u.Hz, v0=6. * u.mV, r=0.56 / u.mV,
                 p=0. * u.Hz, *, noise_Mv=None, noise_Ev=None, noise_Iv=None, init_M=0. * u.mV,
                 init_E=0. * u.mV, init_I=0. * u.mV, init_Mv=0. * _MV_PER_S, init_Ev=0. * _MV_PER_S,
                 init_Iv=0. * _MV_PER_S, method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name,
                         noise=dict(Mv=noise_Mv, Ev=noise_Ev, Iv=noise_Iv),
                         init=dict(M=init_M, E=init_E, I=init_I, Mv=init_Mv, Ev=init_Ev, Iv=init_Iv),
                         **aliases)
        self.Ae = self.param(Ae, 'Ae', unit=u.mV)
        self.Ai = self.param(Ai, 'Ai', unit=u.mV)
        self.be = self.param(be, 'be', unit=u.kHz, positive=True)
        self.bi = self.param(bi, 'bi', unit=u.kHz, positive=True)
        self.C = self.param(C, 'C')
        self.a1 = self.param(a1, 'a1')
        self.a2 = self.param(a2, 'a2')
        self.a3 = self.param(a3, 'a3')
        self.a4 = self.param(a4, 'a4')
        self.s_max = self.param(s_max, 's_max', unit=u.kHz)
        self.v0 = self.param(v0, 'v0', unit=u.mV)
        self.r = self.param(r, 'r', unit=u.mV ** -1)
        self.p = self.param(p, 'p', unit=u.kHz)

    def S(self, v):
        """Firing rate (kHz, a quantity) of a population at membrane potential ``v`` (mV)."""
        s_max, v0, r = self.magnitude('s_max'), self.magnitude('v0'), self.magnitude('r')
        return sigmoid(v.to_decimal(u.mV), s_max, v0, r) * u.kHz

    def _psp(self, A, b, y, yv, rate, inp):
        """Second-order synapse driven by ``rate``, plus the velocity input ``inp`` scaled by b."""
        b = b * u.kHz
        return sys2nd(A * u.mV, b, rate, y, yv) + b * inp

    def dM(self, Mv):
        return Mv

    def dE(self, Ev):
        return Ev

    def dI(self, Iv):
        return Iv

    def dMv(self, M, E, I, Mv, inp):
        return self._psp(self.magnitude('Ae'), self.magnitude('be'), M, Mv, self.S(E - I), inp)

    def dEv(self, M, E, Ev, inp):
        C = self.C.value()
        rate = self.magnitude('p') * u.kHz + self.a2.value() * C * self.S(self.a1.value() * C * M)
        return self._psp(self.magnitude('Ae'), self.magnitude('be'), E, Ev, rate, inp)

    def dIv(self, M, I, Iv, inp):
        C = self.C.value()
        rate = self.a4.value() * C * self.S(self.a3.value() * C * M)
        return self._psp(self.magnitude('Ai'), self.magnitude('bi'), I, Iv, rate, inp)

    def update(self, M_inp=None, E_inp=None, I_inp=None):
        """One step with afferent rates (quantities, or plain numbers per ms); returns E - I (mV).

        ``M_inp`` adds to the pyramidal output seen by the interneurons, ``E_inp`` to ``p``,
        ``I_inp`` to the inhibitory interneurons' output (the module docstring).
        """
        Ae, Ai = self.magnitude('Ae') * u.mV, self.magnitude('Ai') * u.mV
        self.integrate(Mv=Ae * _khz(M_inp) * u.kHz, Ev=Ae * _khz(E_inp) * u.kHz,
                       Iv=Ai * _khz(I_inp) * u.kHz)
        return self.output()

    def output(self):
        return self.E.value - self.I.value


class JansenRitTR(JansenRitStep):
    r"""Jansen-Rit network advanced by one repetition time (TR) per ``update``.

    The whole-brain EEG-fitting set-up of Momi et al. (2023) and Griffiths
    et al. (2022): the model is compared to data sampled every TR (e.g. 1 ms
    for EEG), while the dynamics need a finer integration step. One
    ``update`` therefore runs ``tr / dt`` internal steps of
    :class:`JansenRitStep` (inside one compiled loop) and returns the
    pyramidal potential :math:`E - I` at the end of the TR. Run it with a
    Simulator whose dt is the TR: ``Simulator(model, dt=model.tr)``.

    Regions are coupled inside every internal step, without delays, through
    the full pyramidal potential:

    .. math::

        m_{E,i}(t) \mathrel{+}= k \sum_j W_{ij}\, S\bigl(E_j(t) - I_j(t)\bigr),

    i.e. the other columns' pyramidal firing enters like the extrinsic drive
    :math:`p` (Jansen & Rit 1995, coupled columns; TVB). External inputs are
    held constant over a TR.

    Parameters
    ----------
    in_size : int
        Number of regions N.
    Ae, ..., p : see :class:`JansenRitStep`.
    conn : array_like (N, N), optional
        Structural weights (row = target, column = source), used as given.
        None: uncoupled columns.
    k : float or Param, default 1.0
        Global coupling strength.
    tr : Quantity or float, default 1 ms
        Sampling interval of the output (plain numbers: ms).
    dt : Quantity or float, default 0.1 ms
        Internal integration step; ``tr`` must be a whole multiple of it.

    Examples
    --------
    >>> import brainmass, brainunit as u, numpy as np
    >>> W = np.random.default_rng(0).uniform(0, 1, (4, 4)); np.fill_diagonal(W, 0)
    >>> model = brainmass.JansenRitTR(4, p=220 * u.Hz, conn=W, k=5.0, tr=1 * u.ms, dt=0.1 * u.ms)
    >>> res = brainmass.Simulator(model, dt=model.tr).run(200 * u.ms)
    >>> res['output'].shape    # one sample of E - I per TR
    (200, 4)
    """

    use_case = 'fitting a Jansen-Rit network to EEG sampled at a coarse TR'

    def __init__(self, in_size, Ae=3.25 * u.mV, Ai=22. * u.mV, be=100. * u.Hz, bi=50. * u.Hz, C=135.,
                 a1=1.0, a2=0.8, a3=0.25, a4=0.25, s_max=5. * u.Hz, v0=6. * u.mV, r=0.56 / u.mV,
                 p=0. * u.Hz, *, conn=None, k=1.0, tr=1. * u.ms, dt=0.1 * u.ms, **kwargs):
        super().__init__(in_size, Ae=Ae, Ai=Ai, be=be, bi=bi, C=C, a1=a1, a2=a2, a3=a3, a4=a4,
                         s_max=s_max, v0=v0, r=r, p=p, **kwargs)
        tr_ms, dt_ms = _step_ms(tr, 'tr'), _step_ms(dt, 'dt')
        n_sub = int(round(tr_ms / dt_ms))
        if n_sub < 1 or not np.isclose(n_sub * dt_ms, tr_ms, rtol=1e-6, atol=0.):
            raise ValueError(f'`tr` of JansenRitTR ({tr_ms} ms) must be a whole multiple of `dt` ({dt_ms} ms).')
        self._tr_ms = float(tr_ms)
        self.tr = tr_ms * u.ms
        self.dt = dt_ms * u.ms
        self.n_substeps = n_sub
        self.k = self.param(k, 'k')
        self.conn = None
        if conn is not None:
            n = int(np.prod(self.varshape))
            W = conn if isinstance(conn, brainstate.nn.Param) else jnp.asarray(
                u.get_magnitude(conn), dtype=brainstate.environ.dftype())
            shape = tuple(u.math.shape(W.value() if isinstance(W, brainstate.nn.Param) else W))
            if len(self.varshape) != 1 or shape != (n, n):
                raise ValueError(f'`conn` of JansenRitTR must be ({n}, {n}) for in_size {self.varshape}; '
                                 f'got {shape}.')
            if not isinstance(W, brainstate.nn.Param):
                check_values(W, 'conn', 'JansenRitTR')
            self.conn = brainstate.nn.Param.init(W)

    def coupling_rate(self):
        """:math:`k \\sum_j W_{ij} S(E_j - I_j)` as a plain number per ms (0 without ``conn``)."""
        if self.conn is None:
            return 0.
        s = self.S(self.E.value - self.I.value).to_decimal(u.kHz)
        return self.k.value() * (s @ self.conn.value().T)

    def update(self, M_inp=None, E_inp=None, I_inp=None):
        """Advance one TR (``n_substeps`` internal steps); return E - I (mV) at its end.

        The inputs are those of :meth:`JansenRitStep.update`, held over the TR.
        """
        outer = float(time_to_ms(brainstate.environ.get_dt(), 'dt'))
        if not np.isclose(outer, self._tr_ms, rtol=1e-6, atol=0.):
            raise ValueError(f'JansenRitTR advances one TR ({self._tr_ms} ms) per update but the simulation dt is '
                             f'{outer} ms: run it with brainmass.Simulator(model, dt=model.tr).')
        t0 = brainstate.environ.get('t', 0. * u.ms)
        M_rate, E_rate, I_rate = _khz(M_inp), _khz(E_inp), _khz(I_inp)

        def substep(i):
            with brainstate.environ.context(dt=self.dt, t=t0 + i * self.dt):
                JansenRitStep.update(self, M_inp=M_rate, E_inp=E_rate + self.coupling_rate(), I_inp=I_rate)

        brainstate.transform.for_loop(substep, jnp.arange(self.n_substeps))
        return self.output()
