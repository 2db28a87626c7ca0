r"""The Fitter: fit the trainable parameters of a model with one of three back ends.

Every back end drives the same **pure** function of one flat vector,

.. math::  \ell(\theta) = \text{objective}\big(\text{predict}(\text{model}[\theta]),\ \text{target}\big),

where :math:`\theta` concatenates the *unconstrained* values of the model's
trainable parameters (the ``brainstate.ParamState`` inside every
``brainstate.nn.Param(..., fit=True)``). It is built once per :meth:`Fitter.fit`:

1. the user's ``predict`` / ``loss_fn`` runs **once** under
   ``brainstate.transform.StatefulFunction`` with :math:`\theta` written into
   the parameter states, giving one jaxpr (the simulation is traced and built
   at most once per fit - ``Simulator.trace_count`` grows by one the first time;
   a later fit of the same model with the same settings, by this Fitter or a new
   one, re-uses the cached trace and adds none);
2. the jaxpr, fed with the states' values at the start of the fit, is a pure
   JAX function; every back end transforms it without tracing Python again:
   ``jax.value_and_grad`` ('grad', 'scipy'), ``jax.vmap`` over a population
   ('nevergrad').

Gradients: ``gradient='auto'`` (default) differentiates one parameter value in
forward mode (the Jacobian by ``jax.jvp``, transposed for ``jax.grad``:
cheaper than reverse mode through a long loop, and no memory per step) and
several in reverse mode; ``'forward'`` / ``'reverse'`` force one.

Back ends
---------
``'grad'``
    A ``braintools.optim`` optimizer (default ``Adam(lr=1e-2)``) steps
    :math:`\theta`; ``n_steps`` optimizer steps.
``'nevergrad'``
    A nevergrad optimizer (default differential evolution, ``'DE'``) searches
    the box of the constrained values; each generation of ``n_sample``
    candidates (default 16) is evaluated as one ``jax.vmap``-ed batch (a loop
    when the model cannot be vmapped); ``n_steps`` generations.
``'scipy'``
    ``scipy.optimize.minimize`` with a bounded method (default ``'L-BFGS-B'``
    with exact JAX gradients), started from the current values; ``n_steps``
    iterations.

Boxes for the gradient-free back ends come from the parameters' bounding
transforms (``SigmoidT(lower, upper)``, ``SoftplusT(lower)``, ...) or from
``search_space={'k': (0., 2.)}``.

Randomness: every evaluation starts from the same initial condition and the
same random stream - the state of ``brainstate.random`` when ``fit`` starts
(common random numbers), so a noisy model gives a deterministic objective.
Seed it with ``brainstate.random.seed(...)`` before ``fit``.

Modules: ``fitter`` (the :class:`Fitter`), ``parameters`` (:class:`FitParameter`,
:func:`trainable_parameters`, bounds and the flat-vector layout), ``program`` (the traced
objective), ``backends`` (the three back ends), ``checks`` (argument checks) and ``result``
(:class:`FitResult`).
"""
from .checks import BACKENDS, DEFAULT_N_SAMPLE, GRADIENTS, SCIPY_METHODS
from .fitter import Fitter
from .parameters import FitParameter, trainable_parameters, transform_bounds
from .result import STOP_REASONS, FitResult

__all__ = ['Fitter', 'FitResult', 'FitParameter', 'trainable_parameters', 'transform_bounds',
           'BACKENDS', 'GRADIENTS', 'SCIPY_METHODS', 'DEFAULT_N_SAMPLE', 'STOP_REASONS']
