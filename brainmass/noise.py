r"""Noise processes for neural-mass models.

A noise module is attached to a model variable with ``noise_<var>=`` (or to a
:class:`~brainmass.Network` with ``noise=``). Every step the model calls it and
adds its output to that variable's input, so the noise carries the unit of the
variable it drives (a unit mismatch is an error at construction).

Conventions
-----------
* **White** (:class:`GaussianNoise` / :class:`WhiteNoise`): each step returns
  :math:`\mu + \sigma\,\xi_n \sqrt{\mathrm{ms}/dt}` with :math:`\xi_n \sim N(0, 1)`.
  Integrated over a step (an input enters the right-hand side as ``inp / ms``
  or ``inp / tau``) the increment has standard deviation
  :math:`\sigma\sqrt{dt/\mathrm{ms}}`: the Euler-Maruyama scaling, so results do
  not depend on ``dt``.
* **Ornstein-Uhlenbeck** (:class:`OUProcess`):
  :math:`d\eta = (\mu - \eta)/\tau\,dt + \sigma\sqrt{2/\tau}\,dW`, updated with its
  exact discretisation. ``sigma`` is the *stationary standard deviation*:
  :math:`E[\eta] = \mu`, :math:`\mathrm{Var}[\eta] = \sigma^2`, and the
  autocorrelation is :math:`e^{-|s|/\tau}`.
* **Brownian** (:class:`BrownianNoise`): a Wiener path
  :math:`W_{n+1} = W_n + \sigma\sqrt{dt/\mathrm{ms}}\,\xi_n`.
* **Coloured** (:class:`ColoredNoise`, :class:`PinkNoise`, :class:`BlueNoise`,
  :class:`VioletNoise`): power spectrum :math:`\propto 1/f^{\beta}` made by
  fractional integration (:math:`\beta > 0`) or differencing (:math:`\beta < 0`)
  of white noise, :math:`(1 - B)^{-\beta/2}\xi` (Hosking 1981), truncated to
  ``n_taps`` coefficients. White noise is :math:`\beta = 0`.

State: every process keeps its present value in ``x``, a
``brainstate.HiddenState`` in the driven unit (a quantity when ``sigma`` /
``mean`` carry one) of shape ``in_size``, or ``(batch_size,) + in_size`` after
``init_state(batch_size)``. ``x`` is what the last ``update`` returned: the OU
value :math:`\eta`, the Wiener path :math:`W`, the white or coloured sample;
before the first ``update`` it is the initial value (OU: ``init`` or a
stationary draw; Brownian: ``mean``; white and coloured: ``mean``, default 0).
Coloured noise also keeps its filter's ``history`` of white draws.

Randomness: draws come from ``brainstate.random``, so
``brainstate.random.seed(s)`` makes runs reproducible bit for bit. With a batch
axis, batch member ``b`` draws from ``jax.random.fold_in(key, b)`` of the
step's key: a member's noise does not depend on ``batch_size`` (members 0 and
1 of a seeded run with ``batch_size=2`` and ``batch_size=4`` are identical),
whatever JAX's ``jax_threefry_partitionable`` setting.

References
----------
Uhlenbeck & Ornstein (1930) Phys. Rev. 36, 823. Gillespie (1996) Phys. Rev. E
54, 2084 (exact OU update). Hosking (1981) Biometrika 68, 165.
"""
from __future__ import annotations

# the processes live in the foundation layer (StepModel checks its noise against Noise); this is their
# public face: brainmass.noise.X and brainmass.X (standard_normal / fractional_filter for the stimuli)
from ._core.noise import (BlueNoise, BrownianNoise, ColoredNoise, GaussianNoise, Noise, OUProcess,  # noqa: F401
                          PinkNoise, VioletNoise, WhiteNoise, fractional_filter, standard_normal)

__all__ = ['Noise', 'GaussianNoise', 'WhiteNoise', 'OUProcess', 'BrownianNoise',
           'ColoredNoise', 'PinkNoise', 'BlueNoise', 'VioletNoise']
