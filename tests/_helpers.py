"""Small helpers shared by the test modules (imported as ``from _helpers import ...``)."""
import brainstate
import brainunit as u
import jax.numpy as jnp
import numpy as np

import brainmass


def mag(x):
    """The plain numpy magnitude of a quantity or array."""
    return np.asarray(u.get_magnitude(x))


def rhs(model, state, *inputs):
    """The model's right-hand side (per ms magnitudes) at ``state``."""
    with brainstate.environ.context(dt=0.1 * u.ms):
        brainstate.nn.init_all_states(model)
        d = model.derivative({k: jnp.asarray(v) for k, v in state.items()}, 0. * u.ms, *inputs)
    return {k: np.asarray(v.to_decimal(u.kHz)) for k, v in d.items()}


def distinct_methods():
    """Every name of brainmass.list_methods(); aliases of one scheme (heun = rk2) are run once."""
    from brainmass._core.integrators import INTEGRATORS
    seen, out = set(), []
    for m in brainmass.list_methods():
        fn = INTEGRATORS.get(m, m)
        if fn not in seen:
            seen.add(fn)
            out.append(m)
    return out
