r"""Wong-Wang reduced NMDA-gating models: a two-choice decision circuit and the
Deco et al. (2014) excitatory-inhibitory node for resting-state networks.

Both models describe populations by the fraction of open NMDA (or GABA)
channels :math:`S \in [0, 1]` and turn a synaptic current :math:`x` (nA) into a
firing rate (Hz) with the Abbott-Chance transfer function

.. math::

    H(x) = \frac{a x - b}{1 - \exp(-d\,(a x - b))},

which rises smoothly from 0 (far below threshold) to the linear branch
:math:`a x - b` (far above); its value at :math:`a x = b` is :math:`1/d`.

Two-choice decision model (Wong & Wang 2006)
---------------------------------------------
Two selective excitatory populations compete through shared inhibition (folded
into the effective couplings). With :math:`t` in ms and :math:`H` in Hz:

.. math::

    \frac{dS_i}{dt} = -\frac{S_i}{\tau_S} + (1 - S_i)\,\gamma\,\frac{H(x_i)}{1000}, \qquad i = 1, 2

    x_1 = J_{N,11} S_1 - J_{N,12} S_2 + I_0 + I_1 + I_{noise,1}, \qquad
    x_2 = J_{N,22} S_2 - J_{N,21} S_1 + I_0 + I_2 + I_{noise,2}

    I_{1,2} = J_{A,ext}\,\mu_0\,\left(1 \pm \frac{c'}{100\%}\right)

where :math:`c'` is the motion coherence in percent (:math:`\gamma H/1000` is
the paper's :math:`\gamma H` with the rate in kHz, i.e. per ms).

==========  ===========  =======  =====================================================
parameter   default      unit     meaning
==========  ===========  =======  =====================================================
tau_S       100          ms       NMDA decay time
gamma       0.641        -        kinetic parameter of NMDA gating
a           270          Hz/nA    gain of the transfer function
b           108          Hz       offset (threshold current b/a = 0.4 nA)
d           0.154        s        curvature of the transfer function
J_N11       0.2609       nA       self-excitation of population 1
J_N22       0.2609       nA       self-excitation of population 2
J_N12       0.0497       nA       effective inhibition of population 1 by 2
J_N21       0.0497       nA       effective inhibition of population 2 by 1
J_A_ext     2.243e-4     nA/Hz    external (AMPA) coupling, i.e. nC
mu_0        30           Hz       stimulus strength
I_0         0.3255       nA       background current
threshold   15           Hz       decision threshold tracked by ``update``
==========  ===========  =======  =====================================================

Plain numbers are read in the unit of the table (so ``b=108`` is 108 Hz and
``d=0.154`` is 0.154 s, as in the paper); quantities are converted.

States ``S1``, ``S2`` (dimensionless, clipped to [0, 1], start at 0.1, close to the
spontaneous state :math:`S \approx 0.10`, 1.8 Hz). ``update(coherence=0.)``
takes the coherence in percent (``None`` switches the stimulus off), adds the
stimulus currents :math:`I_{1,2}`, takes one step and returns the rates
``(r1, r2)`` in Hz. Extra inputs ``S1_inp`` / ``S2_inp`` and noise
``noise_S1`` / ``noise_S2`` are **currents in nA** added to :math:`x_i` (plain
numbers are nA). The paper's AMPA noise current,
:math:`\tau_{AMPA}\dot I_{noise} = -I_{noise} + \eta\sqrt{\tau_{AMPA}}\,\sigma_{noise}` with
:math:`\tau_{AMPA} = 2` ms and :math:`\sigma_{noise} = 0.02` nA, has the stationary standard
deviation :math:`\sigma_{noise}/\sqrt 2`:
``noise_S1=OUProcess(n, sigma=0.02 / np.sqrt(2), tau=2 * u.ms)`` (and the same for ``S2``). The first crossing of
``threshold`` by either rate is recorded: :meth:`WongWangStep.get_decision`.
This is a single decision circuit; for whole-brain networks use
:class:`WongWangExcInhStep` (in a Network the coupling current would arrive as
the coherence, the first positional input).

Excitatory-inhibitory node (Deco et al. 2014)
----------------------------------------------
One excitatory (NMDA, :math:`S_e`) and one inhibitory (GABA, :math:`S_i`) pool
per region, with local feedback inhibition :math:`J_i`:

.. math::

    I_e = W_e I_o + w_+ J_N S_e - J_i S_i + I_{ext} + J_N\,u_e, \qquad
    I_i = W_i I_o + J_N S_e - S_i + \lambda J_N\,u_e + J_N\,u_i

    r_e = H_e(I_e), \qquad r_i = H_i(I_i)

    \frac{dS_e}{dt} = -\frac{S_e}{\tau_e} + (1 - S_e)\,\gamma_e\,r_e, \qquad
    \frac{dS_i}{dt} = -\frac{S_i}{\tau_i} + \gamma_i\,r_i

with :math:`H_e` / :math:`H_i` the transfer function with
:math:`(a_e, b_e, d_e)` / :math:`(a_i, b_i, d_i)`, :math:`t` in ms and the rates
in Hz (so :math:`\gamma_e = 0.641/1000`, :math:`\gamma_i = 1/1000`).
:math:`u_e` and :math:`u_i` are the inputs to ``S_e`` and ``S_i`` (dimensionless,
in units of :math:`S_e`). In Deco et al. the long-range input is
:math:`G J_N \sum_j C_{ij} S_{e,j}`: in a :class:`~brainmass.Network` with
``coupled_var='S_e'`` and ``coupling='additive'`` the Network's ``k`` plays
:math:`G`, its current :math:`u_e = k\sum_j C_{ij} S_{e,j}` arrives as the first
input and enters :math:`I_e` as :math:`J_N u_e` (and :math:`I_i` as
:math:`\lambda J_N u_e`).

==========  ========  =======  ========================================================
parameter   default   unit     meaning
==========  ========  =======  ========================================================
a_e         310       1/nC     excitatory gain (= Hz/nA)
b_e         125       Hz       excitatory offset
d_e         0.16      s        excitatory curvature
gamma_e     6.41e-4   -        NMDA kinetic parameter, per ms per Hz (0.641/1000)
tau_e       100       ms       NMDA decay time
w_p         1.4       -        local recurrent excitation :math:`w_+`
W_e         1         -        scaling of the background current onto E
a_i         615       1/nC     inhibitory gain
b_i         177       Hz       inhibitory offset
d_i         0.087     s        inhibitory curvature
gamma_i     1e-3      -        GABA kinetic parameter, per ms per Hz (1/1000)
tau_i       10        ms       GABA decay time
W_i         0.7       -        scaling of the background current onto I
J_N         0.15      nA       NMDA coupling
J_i         1         nA       feedback inhibition I -> E (tune with :func:`fic_tuning`)
I_o         0.382     nA       background current
I_ext       0         nA       external current onto E
G           2         -        Deco's global coupling: **not applied by the node**; in a
                               Network pass it as ``k``; :func:`fic_tuning` uses it
lamda       0         -        long-range input onto I (:math:`\lambda`; 0 = E only)
==========  ========  =======  ========================================================

Plain numbers are read in the unit of the table; quantities are converted.
States ``S_e``, ``S_i`` (dimensionless, clipped to [0, 1], start at 0.001).
``update(S_e_inp, S_i_inp)`` returns ``S_e``; couple ``'S_e'``. Noise
(``noise_S_e`` / ``noise_E``, ``noise_S_i`` / ``noise_I``) is dimensionless and
acts on the input, i.e. on the population input current as
:math:`J_N\,\eta(t)` nA. An isolated node with :math:`J_i = 1` rests at
:math:`S_e \approx 0.165`, :math:`r_e \approx 3.1` Hz, :math:`r_i \approx 3.9` Hz;
:func:`fic_tuning` returns the per-region :math:`J_i` that clamps :math:`r_e` to
3 Hz in a network (feedback inhibition control, FIC).

References
----------
Wong, K.-F. & Wang, X.-J. (2006). A recurrent network mechanism of time
integration in perceptual decisions. *J. Neurosci.* 26(4), 1314-1328.
https://doi.org/10.1523/JNEUROSCI.3733-05.2006

Deco, G., Ponce-Alvarez, A., Hagmann, P., Romani, G. L., Mantini, D. & Corbetta, M.
(2014). How local excitation-inhibition ratio impacts the whole brain dynamics.
*J. Neurosci.* 34(23), 7886-7898. https://doi.org/10.1523/JNEUROSCI.5068-13.2014

Abbott, L. F. & Chance, F. S. (2005). Drivers and modulators from push-pull and
balanced synaptic input. *Prog. Brain Res.* 149, 147-155.
"""
from __future__ import annotations

import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

from .._core.step import StepModel
from .._core.units import in_unit, time_to_ms, to_unit
from .._core.validation import single_number

__all__ = ['WongWangStep', 'WongWangExcInhStep', 'transfer_function', 'fic_tuning']

#: unit of gamma_e / gamma_i: per ms per Hz (a dimensionless factor of 1000)
_PER_MS_HZ = u.kHz / u.Hz


def transfer_function(x, a, b, d):
    r"""Abbott-Chance rate :math:`H(x) = (ax - b)/(1 - e^{-d(ax - b)})` in Hz.

    ``x`` in nA, ``a`` in Hz/nA, ``b`` in Hz, ``d`` in s (plain magnitudes).
    With :math:`y = d(ax - b)` and :math:`g(y) = y/(1 - e^{-y})` it uses the
    identity :math:`g(y) = g(|y|) + \min(y, 0)`, so no exponential overflows for
    any ``x`` and gradients stay finite; at :math:`ax = b`, :math:`H = 1/d`.
    """
    y = d * (a * x - b)
    y_abs = jnp.maximum(jnp.abs(y), 1e-6)
    return (y_abs / -jnp.expm1(-y_abs) + jnp.minimum(y, 0.)) / d


def _in_hz(value, name: str, owner=None) -> float:
    """A single finite rate as a float in Hz (plain numbers are Hz)."""
    value = to_unit(value, u.Hz, name, what='a rate', example='15 * u.Hz, plain numbers are Hz', owner=owner)
    return single_number(value, name, owner, unit='Hz', kinds='a rate (e.g. 15 * u.Hz) or a number of Hz')


def _offset_from_threshold(a, theta):
    """The transfer function's offset ``b = a * theta`` (Hz) for a threshold current ``theta`` (plain numbers nA)."""
    theta = to_unit(theta, u.nA, 'theta', what='a current', example='0.4 * u.nA')
    return in_unit(a, u.Hz / u.nA, 'a') * theta


class WongWangStep(StepModel):
    r"""Wong & Wang (2006) two-variable decision model (equations in the module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of independent decision circuits.
    tau_S : float or Quantity, default 100 ms
    gamma : float, default 0.641
    a, b, d : float or Quantity
        Transfer function: 270 Hz/nA, 108 Hz (``b=None``), 0.154 s.
    theta : float or Quantity, optional
        The threshold current of the transfer function instead of ``b``: ``b = a * theta``
        (plain numbers are nA). The paper's ``b = 108`` Hz is ``theta = 0.4`` nA; some
        implementations quote 0.31 nA, which moves the spontaneous and decision states.
        Give ``b`` or ``theta``, not both.
    J_N11, J_N22, J_N12, J_N21 : float or Quantity
        Effective recurrent couplings (nA).
    J_A_ext : float or Quantity, default 2.243e-4 nA/Hz
    mu_0 : float or Quantity, default 30 Hz
    I_0 : float or Quantity, default 0.3255 nA
    threshold : float or Quantity, default 15 Hz
        Decision threshold on the rates, tracked by :meth:`update`.
    noise_S1, noise_S2 : Noise, optional
        Noise currents (plain numbers, nA) added to :math:`x_1`, :math:`x_2`.
    init_S1, init_S2 : initializer or value, default 0.1
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> from brainmass.models.wong_wang import WongWangStep
    >>> node = WongWangStep(1)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(1500 * u.ms, inputs=51.2)
    >>> choice, when = node.get_decision()
    >>> int(choice[0])
    1
    """

    state_vars = ('S1', 'S2')
    state_bounds = {'S1': (0., 1.), 'S2': (0., 1.)}
    coupled_var = 'S1'
    #: update's own signature; a Network's current arrives as the coherence (module docstring)
    update_inputs = ('coherence', 'S1_inp', 'S2_inp')
    coupling_input = 'coherence'
    stage_inputs = False
    category = 'decision'
    use_case = 'two-choice perceptual decisions: accuracy and reaction times vs. coherence'

    def __init__(self, in_size, tau_S=100. * u.ms, gamma=0.641, a=270. * u.Hz / u.nA, b=None,
                 d=0.154 * u.second, J_N11=0.2609 * u.nA, J_N22=0.2609 * u.nA, J_N12=0.0497 * u.nA,
                 J_N21=0.0497 * u.nA, J_A_ext=2.243e-4 * u.nA / u.Hz, mu_0=30. * u.Hz, I_0=0.3255 * u.nA,
                 threshold=15. * u.Hz, *, theta=None, noise_S1=None, noise_S2=None, init_S1=0.1, init_S2=0.1,
                 method='exp_euler', name=None, **aliases):
        super().__init__(in_size, method=method, name=name, noise=dict(S1=noise_S1, S2=noise_S2),
                         init=dict(S1=init_S1, S2=init_S2), **aliases)
        if theta is not None:
            if b is not None:
                raise ValueError(f'Give either `b` or `theta` (the threshold current, b = a * theta), not '
                                 f'both; got b={b!r}, theta={theta!r}.')
            b = _offset_from_threshold(a, theta)
        elif b is None:
            b = 108. * u.Hz
        self.tau_S = self.time_param(tau_S, 'tau_S')
        self.gamma = self.param(gamma, 'gamma')
        self.a = self.param(a, 'a', unit=u.Hz / u.nA)
        self.b = self.param(b, 'b', unit=u.Hz)
        self.d = self.param(d, 'd', unit=u.second, positive=True)
        self.J_N11 = self.param(J_N11, 'J_N11', unit=u.nA)
        self.J_N22 = self.param(J_N22, 'J_N22', unit=u.nA)
        self.J_N12 = self.param(J_N12, 'J_N12', unit=u.nA)
        self.J_N21 = self.param(J_N21, 'J_N21', unit=u.nA)
        self.J_A_ext = self.param(J_A_ext, 'J_A_ext', unit=u.nA / u.Hz)
        self.mu_0 = self.param(mu_0, 'mu_0', unit=u.Hz)
        self.I_0 = self.param(I_0, 'I_0', unit=u.nA)
        self.threshold = _in_hz(threshold, 'threshold', 'WongWangStep')

    # ---------------------------------------------------------------- states
    def init_state(self, batch_size=None, **kwargs):
        """``S1``, ``S2`` plus the rates ``r1``, ``r2`` (Hz) and the decision record."""
        super().init_state(batch_size)
        for key, value in self._record_values().items():
            setattr(self, key, brainstate.ShortTermState(value))

    def reset_state(self, batch_size=None, **kwargs):
        super().reset_state(batch_size)
        for key, value in self._record_values().items():
            getattr(self, key).value = value

    def _record_values(self):
        r1, r2 = self.rates(self.S1.value, self.S2.value)
        shape = jnp.shape(r1)
        return dict(r1=r1 * u.Hz, r2=r2 * u.Hz, choice=jnp.zeros(shape, dtype=jnp.int32),
                    decision_time=jnp.full(shape, jnp.nan, dtype=brainstate.environ.dftype()) * u.ms,
                    n_steps=jnp.zeros((), dtype=jnp.int32))

    # -------------------------------------------------------- right-hand side
    def current_1(self, S1, S2, inp):
        """:math:`x_1` in nA (``inp``: stimulus + extra current + noise)."""
        return self.magnitude('J_N11') * S1 - self.magnitude('J_N12') * S2 + self.magnitude('I_0') + inp

    def current_2(self, S1, S2, inp):
        """:math:`x_2` in nA."""
        return self.magnitude('J_N22') * S2 - self.magnitude('J_N21') * S1 + self.magnitude('I_0') + inp

    def H(self, x):
        """Transfer function (Hz) of a current ``x`` (nA)."""
        return transfer_function(x, self.magnitude('a'), self.magnitude('b'), self.magnitude('d'))

    def _gating(self, S, x):
        return (-S / self.magnitude('tau_S') + (1. - S) * self.gamma.value() * self.H(x) / 1000.) / u.ms

    def dS1(self, S1, S2, inp):
        return self._gating(S1, self.current_1(S1, S2, inp))

    def dS2(self, S1, S2, inp):
        return self._gating(S2, self.current_2(S1, S2, inp))

    # ----------------------------------------------------------------- inputs
    def stimulus(self, coherence):
        r"""Stimulus currents :math:`J_{A,ext}\mu_0(1 \pm c'/100)` (nA) for a coherence in percent."""
        if coherence is None:
            return 0., 0.
        drive = self.magnitude('J_A_ext') * self.magnitude('mu_0')
        c = u.get_magnitude(coherence) / 100.
        return drive * (1. + c), drive * (1. - c)

    def rates(self, S1, S2, I1=0., I2=0.):
        """Rates ``(r1, r2)`` (Hz magnitudes) at gating ``S1, S2`` with external currents ``I1, I2`` (nA)."""
        return self.H(self.current_1(S1, S2, I1)), self.H(self.current_2(S1, S2, I2))

    def input_in_unit_of(self, var, value):
        # inputs to S1 / S2 are currents: nA quantities are converted, plain numbers are nA
        if isinstance(value, u.Quantity) and u.get_unit(value).has_same_dim(u.nA):
            return u.get_magnitude(value.to(u.nA))
        return super().input_in_unit_of(var, value)

    # ------------------------------------------------------------------- step
    def update(self, coherence=0., S1_inp=None, S2_inp=None):
        """One step under a stimulus of ``coherence`` percent; returns ``(r1, r2)`` in Hz.

        ``coherence=None`` switches the stimulus off. ``S1_inp`` / ``S2_inp``
        are extra currents (nA). The rates exclude the noise current.
        """
        I1, I2 = self.stimulus(coherence)
        I1 = I1 + self.input_in_unit_of('S1', S1_inp)
        I2 = I2 + self.input_in_unit_of('S2', S2_inp)
        self.integrate(S1_inp=I1, S2_inp=I2)
        r1, r2 = self.rates(self.S1.value, self.S2.value, I1, I2)
        self.r1.value = r1 * u.Hz
        self.r2.value = r2 * u.Hz
        self.n_steps.value = self.n_steps.value + 1
        now = self.n_steps.value * time_to_ms(brainstate.environ.get_dt(), 'dt') * u.ms
        crossed = (self.choice.value == 0) & (jnp.maximum(r1, r2) >= self.threshold)
        self.choice.value = jnp.where(crossed, jnp.where(r1 >= r2, 1, 2), self.choice.value).astype(jnp.int32)
        self.decision_time.value = u.math.where(crossed, now, self.decision_time.value)
        return self.output()

    def output(self):
        return self.r1.value, self.r2.value

    def get_decision(self, threshold=None):
        """Which population decided and when.

        Parameters
        ----------
        threshold : float or Quantity, optional
            ``None`` (or the model's ``threshold``): the first crossing tracked
            during the run since the states were initialised. Another value:
            the decision read from the current rates, with an unknown time.

        Returns
        -------
        choice : int array
            0 undecided, 1 or 2 the population whose rate crossed (the higher
            one when both are above).
        time : Quantity
            Time of the first crossing since initialisation (ms; NaN when
            undecided or not tracked).

        Raises
        ------
        RuntimeError
            Before the states exist (the model was never run or initialised).
        """
        if not isinstance(getattr(self, 'choice', None), brainstate.State):
            raise RuntimeError(f'{type(self).__name__}.get_decision() has no run to read: simulate the model '
                               f'first (e.g. brainmass.Simulator(node, dt=0.1 * u.ms).run(...)) or call '
                               f'node.init_state().')
        if threshold is not None:
            thr = _in_hz(threshold, 'threshold', 'WongWangStep.get_decision')
            if not np.isclose(thr, self.threshold):
                r1, r2 = u.get_magnitude(self.r1.value), u.get_magnitude(self.r2.value)
                choice = jnp.where(jnp.maximum(r1, r2) >= thr, jnp.where(r1 >= r2, 1, 2), 0)
                return choice.astype(jnp.int32), jnp.full(jnp.shape(r1), jnp.nan) * u.ms
        return self.choice.value, self.decision_time.value


class WongWangExcInhStep(StepModel):
    r"""Deco et al. (2014) excitatory-inhibitory Wong-Wang node (equations in the module docstring).

    Parameters
    ----------
    in_size : int or tuple
        Number of regions.
    a_e, b_e, d_e, gamma_e, tau_e, w_p, W_e : float, array or Quantity
        Excitatory pool (1/nC, Hz, s, per ms per Hz, ms, -, -).
    a_i, b_i, d_i, gamma_i, tau_i, W_i : float, array or Quantity
        Inhibitory pool.
    J_N, J_i, I_o, I_ext : float, array or Quantity
        Currents in nA (``J_i`` per region, e.g. from :func:`fic_tuning`).
    G : float
        Deco's global coupling (reference for :func:`fic_tuning`; a Network's ``k`` plays it).
    lamda : float
        Fraction of the long-range input that also drives the inhibitory pool.
    noise_S_e, noise_S_i : Noise, optional
        Dimensionless noise on the inputs (``noise_E`` / ``noise_I`` also accepted).
    init_S_e, init_S_i : initializer or value, default 0.001
    method : str, default 'exp_euler'

    Examples
    --------
    >>> import brainmass, brainunit as u
    >>> from brainmass.models.wong_wang import WongWangExcInhStep
    >>> node = WongWangExcInhStep(2)
    >>> res = brainmass.Simulator(node, dt=0.1 * u.ms).run(100 * u.ms, monitors=['S_e'])
    >>> res['S_e'].shape
    (1000, 2)
    """

    state_vars = ('S_e', 'S_i')
    state_bounds = {'S_e': (0., 1.), 'S_i': (0., 1.)}
    noise_aliases = {'E': 'S_e', 'I': 'S_i'}
    coupled_var = 'S_e'
    category = 'population rate'
    use_case = 'resting-state fMRI networks with feedback inhibition control (Deco 2014)'

    def __init__(self, in_size, a_e=310. / u.ncoulomb, b_e=125. * u.Hz, d_e=0.16 * u.second, gamma_e=0.641 / 1000,
                 tau_e=100. * u.ms, w_p=1.4, W_e=1.0, a_i=615. / u.ncoulomb, b_i=177. * u.Hz,
                 d_i=0.087 * u.second, gamma_i=1. / 1000, tau_i=10. * u.ms, W_i=0.7, J_N=0.15 * u.nA,
                 J_i=1.0 * u.nA, I_o=0.382 * u.nA, I_ext=0. * u.nA, G=2.0, lamda=0.0, *, noise_S_e=None,
                 noise_S_i=None, init_S_e=0.001, init_S_i=0.001, method='exp_euler', name=None, **aliases):
        noise = dict(S_e=aliases.pop('noise_E', noise_S_e), S_i=aliases.pop('noise_I', noise_S_i))
        super().__init__(in_size, method=method, name=name, noise=noise,
                         init=dict(S_e=init_S_e, S_i=init_S_i), **aliases)
        self.a_e = self.param(a_e, 'a_e', unit=u.Hz / u.nA)
        self.b_e = self.param(b_e, 'b_e', unit=u.Hz)
        self.d_e = self.param(d_e, 'd_e', unit=u.second, positive=True)
        self.gamma_e = self.param(gamma_e, 'gamma_e', unit=_PER_MS_HZ)
        self.tau_e = self.time_param(tau_e, 'tau_e')
        self.w_p = self.param(w_p, 'w_p')
        self.W_e = self.param(W_e, 'W_e')
        self.a_i = self.param(a_i, 'a_i', unit=u.Hz / u.nA)
        self.b_i = self.param(b_i, 'b_i', unit=u.Hz)
        self.d_i = self.param(d_i, 'd_i', unit=u.second, positive=True)
        self.gamma_i = self.param(gamma_i, 'gamma_i', unit=_PER_MS_HZ)
        self.tau_i = self.time_param(tau_i, 'tau_i')
        self.W_i = self.param(W_i, 'W_i')
        self.J_N = self.param(J_N, 'J_N', unit=u.nA)
        self.J_i = self.param(J_i, 'J_i', unit=u.nA)
        self.I_o = self.param(I_o, 'I_o', unit=u.nA)
        self.I_ext = self.param(I_ext, 'I_ext', unit=u.nA)
        self.G = self.param(G, 'G')
        self.lamda = self.param(lamda, 'lamda')

    # ------------------------------------------------------------- currents
    def current_e(self, S_e, S_i, inp):
        """Excitatory input current :math:`I_e` (nA); ``inp`` is :math:`u_e` (S_e units)."""
        J_N, I_o = self.magnitude('J_N'), self.magnitude('I_o')
        return (self.W_e.value() * I_o + self.w_p.value() * J_N * S_e - self.magnitude('J_i') * S_i
                + self.magnitude('I_ext') + J_N * inp)

    def current_i(self, S_e, S_i, inp):
        """Inhibitory input current :math:`I_i` (nA); ``inp`` is :math:`u_i + \\lambda u_e` (S_e units)."""
        J_N = self.magnitude('J_N')
        return self.W_i.value() * self.magnitude('I_o') + J_N * S_e - S_i + J_N * inp

    def H_e(self, I):
        """Excitatory rate (Hz) of a current ``I`` (nA)."""
        return transfer_function(I, self.magnitude('a_e'), self.magnitude('b_e'), self.magnitude('d_e'))

    def H_i(self, I):
        """Inhibitory rate (Hz) of a current ``I`` (nA)."""
        return transfer_function(I, self.magnitude('a_i'), self.magnitude('b_i'), self.magnitude('d_i'))

    # -------------------------------------------------------- right-hand side
    def dS_e(self, S_e, S_i, inp):
        r_e = self.H_e(self.current_e(S_e, S_i, inp))
        return (-S_e / self.magnitude('tau_e') + (1. - S_e) * self.magnitude('gamma_e') * r_e) / u.ms

    def dS_i(self, S_e, S_i, inp):
        r_i = self.H_i(self.current_i(S_e, S_i, inp))
        return (-S_i / self.magnitude('tau_i') + self.magnitude('gamma_i') * r_i) / u.ms

    def _gather_inputs(self, inputs, named, with_noise=True):
        # lamda: the long-range input u_e also drives the inhibitory pool, u_i + lamda u_e
        inp = super()._gather_inputs(inputs, named, with_noise)
        u_e, u_i, lam = inp['S_e'], inp['S_i'], self.lamda.value()
        if callable(u_e) or callable(u_i):  # inputs given as functions of the stage state (Network)
            at = lambda v, s: v(s) if callable(v) else v
            inp['S_i'] = lambda s: at(u_i, s) + lam * at(u_e, s)
        else:
            inp['S_i'] = u_i + lam * u_e
        return inp

    def output(self):
        return self.S_e.value

    def firing_rates(self, S_e_inp=0., S_i_inp=0.):
        """``(r_e, r_i)`` in Hz at the current states (inputs in S_e units, noise excluded)."""
        S_e, S_i = self.S_e.value, self.S_i.value
        r_e = self.H_e(self.current_e(S_e, S_i, S_e_inp))
        r_i = self.H_i(self.current_i(S_e, S_i, S_i_inp + self.lamda.value() * S_e_inp))
        return r_e * u.Hz, r_i * u.Hz


def _bisect(f, lo, hi, n_iter=200):
    """Vectorised bisection for an increasing ``f`` with ``f(lo) <= 0 <= f(hi)``."""
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    for _ in range(n_iter):
        mid = 0.5 * (lo + hi)
        below = f(mid) < 0
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    return 0.5 * (lo + hi)


def fic_tuning(node, conn=None, G=None, target_rate=3. * u.Hz, return_state=False):
    r"""Feedback inhibition control (Deco et al. 2014): the ``J_i`` that clamps :math:`r_e`.

    For each region it solves the stationary equations of
    :class:`WongWangExcInhStep` with :math:`r_e` fixed at ``target_rate``:
    :math:`S_e^* = \gamma_e r^* \tau_e / (1 + \gamma_e r^* \tau_e)`, the
    long-range input :math:`u_e = G\sum_j C_{ij} S_e^*` (additive coupling), the
    current :math:`I_e^* = H_e^{-1}(r^*)`, the inhibitory fixed point
    :math:`S_i^* = \gamma_i \tau_i H_i(I_i)` (by bisection) and finally
    :math:`J_i = (W_e I_o + w_+ J_N S_e^* + I_{ext} + J_N u_e - I_e^*)/S_i^*`.
    Deco et al. reach the same fixed point by iterating simulations.

    Parameters
    ----------
    node : WongWangExcInhStep
        Supplies every parameter except ``J_i`` (constant parameters only).
    conn : array_like (N, N), optional
        Structural connectivity (row = target); ``None`` for isolated regions.
        Use the same matrix (diagonal zeroed) as the Network.
    G : float, optional
        Global coupling; default ``node.G``. Pass the Network's ``k``.
    target_rate : float or Quantity, default 3 Hz
    return_state : bool, default False
        Also return the fixed point ``(S_e, S_i)``, e.g. as initial states
        (``init_S_e=S_e, init_S_i=S_i``) to skip the slow transient.

    Returns
    -------
    J_i : Quantity (N,) in nA
        Pass it as ``WongWangExcInhStep(N, J_i=J_i)``.
    S_e, S_i : ndarray (N,)
        Only with ``return_state``.
    """
    p = {name: np.asarray(node.magnitude(name), dtype=float)
         for name in ('a_e', 'b_e', 'd_e', 'gamma_e', 'tau_e', 'w_p', 'W_e', 'a_i', 'b_i', 'd_i', 'gamma_i',
                      'tau_i', 'W_i', 'J_N', 'I_o', 'I_ext', 'G', 'lamda')}
    r = _in_hz(target_rate, 'target_rate', 'fic_tuning')
    G = p['G'] if G is None else np.asarray(u.get_magnitude(G), dtype=float)
    n = int(np.prod(node.varshape))
    strength = np.zeros(n) if conn is None else np.asarray(u.get_magnitude(conn), dtype=float).reshape(n, n).sum(1)
    x = p['gamma_e'] * r * p['tau_e']
    S_e = x / (1. + x)
    u_e = G * strength * S_e

    def H(I, a, b, d):
        return np.asarray(transfer_function(jnp.asarray(I), a, b, d), dtype=float)

    # excitatory current giving the target rate (H_e increasing in I)
    I_e = _bisect(lambda I: H(I, p['a_e'], p['b_e'], p['d_e']) - r, np.full(n, -10.), np.full(n, 10.))
    # inhibitory fixed point S_i = gamma_i tau_i H_i(I_i(S_i)) (decreasing residual in S_i)
    drive_i = p['W_i'] * p['I_o'] + p['J_N'] * S_e + p['lamda'] * p['J_N'] * u_e
    residual = lambda S_i: S_i - p['gamma_i'] * p['tau_i'] * H(drive_i - S_i, p['a_i'], p['b_i'], p['d_i'])
    upper = p['gamma_i'] * p['tau_i'] * H(drive_i, p['a_i'], p['b_i'], p['d_i'])
    S_i = _bisect(residual, np.zeros(n), np.broadcast_to(upper, (n,)) + 1e-12)
    J_i = (p['W_e'] * p['I_o'] + p['w_p'] * p['J_N'] * S_e + p['I_ext'] + p['J_N'] * u_e - I_e) / S_i
    shape = tuple(node.varshape)
    J_i = np.broadcast_to(J_i, (n,)).reshape(shape) * u.nA
    if return_state:
        return J_i, np.broadcast_to(S_e, (n,)).reshape(shape), np.broadcast_to(S_i, (n,)).reshape(shape)
    return J_i
