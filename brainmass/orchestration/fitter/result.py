"""What a fit returns (:class:`FitResult`) and what a back end has found so far (:class:`Progress`)."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Dict, List, Optional

import brainunit as u
import numpy as np

__all__ = ['FitResult', 'STOP_REASONS']

#: why a fit ended before n_steps (FitResult.stop_reason)
STOP_REASONS = ('callback', 'non-finite loss', 'interrupted')


@dataclasses.dataclass(repr=False, eq=False)
class FitResult:
    """What :meth:`Fitter.fit` returns.

    Attributes
    ----------
    backend : str
        ``'grad'``, ``'nevergrad'`` or ``'scipy'``.
    best_loss : float
        The lowest loss found; it is the loss of ``best_params`` (re-evaluating
        them with :meth:`Fitter.evaluate` gives exactly this value).
    best_params : dict
        ``{path: constrained value}`` (``'k'``, ``'node.a'``), the values that
        produced ``best_loss``; the model is left holding them.
    history : numpy.ndarray
        The loss after every step ('grad'), the best loss so far after every
        generation ('nevergrad'), or the loss at every iteration ('scipy').
    n_steps : int
        Steps / generations / iterations actually done (fewer when stopped early:
        see ``stop_reason``).
    prediction : array or None
        The prediction at ``best_params`` (after ``transient``); ``None`` with ``loss_fn``.
    optimizer : object
        The optimizer used: the braintools optimizer, or the nevergrad / scipy method name.
    raw : object
        Back-end specific: ``{'initial_loss', 'best_step', ...}`` ('grad'), the nevergrad
        optimizer ('nevergrad'), the ``scipy.optimize.OptimizeResult`` ('scipy').
    model : brainstate.nn.Module
        The fitted model (holding ``best_params``).
    initial_loss : float
        The loss at the starting parameters (nan for 'nevergrad', which starts from a population).
    n_evaluations : int
        Number of loss evaluations.
    wall_time : float
        Seconds spent in ``fit`` (tracing and compiling included).
    stop_reason : str or None
        Why the fit ended before ``n_steps``: ``'callback'`` (a callback returned
        True), ``'non-finite loss'`` ('grad'), ``'interrupted'`` (a
        ``KeyboardInterrupt``: the partial result kept as ``Fitter.result``);
        ``None`` when it ran to the end (or scipy's method converged).
    """
    backend: str
    best_loss: float
    best_params: Dict[str, Any]
    history: np.ndarray
    n_steps: int
    prediction: Any
    optimizer: Any
    raw: Any
    model: Any
    initial_loss: float = float('nan')
    n_evaluations: int = 0
    wall_time: float = 0.
    stop_reason: Optional[str] = None

    def __repr__(self):
        params = ', '.join(f'{k!r}: {short_value(v)}' for k, v in self.best_params.items())
        hist = self.history
        h = f'[{hist[0]:.4g} ... {hist[-1]:.4g}] ({hist.size} values)' if hist.size else '[]'
        opt = self.optimizer if isinstance(self.optimizer, (str, type(None))) else type(self.optimizer).__name__
        stop = '' if self.stop_reason is None else f', stop_reason={self.stop_reason!r}'
        return (f'FitResult(backend={self.backend!r}, optimizer={opt!r}, n_steps={self.n_steps}{stop},\n'
                f'          best_loss={self.best_loss:.6g}, initial_loss={self.initial_loss:.6g},\n'
                f'          best_params={{{params}}},\n'
                f'          history={h}, n_evaluations={self.n_evaluations}, '
                f'wall_time={self.wall_time:.2f} s)')

    def _repr_html_(self) -> str:
        """A small HTML table for notebooks: backend, losses, best parameters (with units), steps, stop reason."""
        from ..._core.display import html_table, value_text
        rows = [('backend', self.backend), ('best loss', f'{self.best_loss:.6g}'),
                ('initial loss', f'{self.initial_loss:.6g}'),
                *((f'best {k}', value_text(v)) for k, v in self.best_params.items()),
                ('steps', self.n_steps), ('evaluations', self.n_evaluations),
                ('stop_reason', self.stop_reason or 'ran to the end'),
                ('wall time', f'{self.wall_time:.2f} s')]
        return html_table('FitResult', rows)

    def save(self, path) -> str:
        """Write the result to an ``.npz`` file (read it back with :meth:`FitResult.load`).

        Saved: ``backend``, ``best_loss``, ``best_params`` (with units), ``history``,
        ``n_steps``, ``stop_reason``, ``prediction``, ``initial_loss``, ``n_evaluations``,
        ``wall_time`` and the package versions. Not saved: the live ``model``,
        ``optimizer`` and ``raw`` (they load as ``None``). Returns the path written.
        """
        from ...datasets._io import save_fit
        return save_fit(path, {f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    @classmethod
    def load(cls, path) -> 'FitResult':
        """Read a result written by :meth:`FitResult.save` (``model``, ``optimizer``, ``raw``: ``None``)."""
        from ...datasets._io import load_fit
        return cls(**load_fit(path), optimizer=None, raw=None, model=None)


class Progress:
    """What a back end has found so far (kept outside it, so an interrupted fit keeps its best)."""

    def __init__(self):
        self.best_loss, self.best_x, self.prediction, self.best_step = float('inf'), None, None, 0
        self.history: List[float] = []
        self.initial_loss = float('nan')
        self.n_evaluations = 0
        self.optimizer = self.raw = self.stop_reason = None

    def offer(self, loss, x, prediction, step):
        """Keep ``x`` when its loss is finite and lower than the best so far."""
        if math.isfinite(loss) and loss < self.best_loss:
            self.best_loss, self.best_x, self.prediction, self.best_step = loss, x, prediction, step


def short_value(v):
    mag = np.asarray(u.get_magnitude(v))
    unit = u.get_unit(v)
    text = f'{float(mag):.6g}' if mag.size == 1 else np.array2string(mag.ravel(), precision=4, threshold=6)
    return text if unit.is_unitless else f'{text} {unit}'
