"""The network subpackage's pieces (issue 17, network side): the delay plan is a frozen dataclass per kind of
read, no file imports another's private names, a prefetched block leaves nothing behind on the Network, and
``Network.sized_for`` answers what the Simulator asks."""
import ast
import dataclasses
import pathlib

import brainstate
import jax
import brainunit as u
import numpy as np
import pytest

import brainmass
from brainmass.network.plan import DensePlan, SparsePlan, build_plan

NETWORK = pathlib.Path(brainmass.__file__).parent / 'network'


@pytest.mark.parametrize('path', sorted(NETWORK.glob('*.py')), ids=lambda p: p.name)
def test_no_file_imports_another_files_private_names(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level >= 1:
            private = [a.name for a in node.names if a.name.startswith('_')]
            assert not private, f'{path.name} imports {private} from .{node.module or ""}'


def test_plan_kind_follows_the_density_and_is_frozen():
    n = 10
    delays = np.full((n, n), 1.0)
    dense = build_plan(delays, 0.1, conn=np.ones((n, n)))
    sparse_w = np.zeros((n, n))
    sparse_w[0, 1] = sparse_w[2, 3] = 0.5  # 2 of 100 edges: below SPARSE_DENSITY
    sparse = build_plan(delays, 0.1, conn=sparse_w)
    trainable = build_plan(delays, 0.1, conn=None)
    assert isinstance(dense, DensePlan) and isinstance(sparse, SparsePlan) and isinstance(trainable, DensePlan)
    assert trainable.w is None and trainable.diag is None and trainable.conn is None
    # the edge list: targets, sources and weights of the nonzero edges; delay 1 ms = 10 steps: L = 11
    assert sparse.tgt.tolist() == [0, 2] and sparse.src.tolist() == [1, 3] and sparse.w.tolist() == [0.5, 0.5]
    assert (dense.L, dense.K, sparse.K) == (11, 10, 10)
    np.testing.assert_array_equal(np.asarray(dense.flat)[0, 1], 1 * 2 * 11 + (11 - 10))  # source row 1, slot L - d
    with pytest.raises(dataclasses.FrozenInstanceError):
        dense.K = 1
    assert dense.built_from(np.ones((n, n))) and not dense.built_from(np.full((n, n), 2.))
    assert not trainable.built_from(np.ones((n, n)))


def _delayed_network(n=3):
    brainstate.environ.set(dt=0.1 * u.ms)
    node = brainmass.HopfStep(n, a=0.1, w=0.3)
    return brainmass.Network(node, conn=np.full((n, n), 0.2), distance=np.full((n, n), 4.), speed=2.,
                             coupled_var='x', k=0.5)


def test_a_blocked_run_leaves_no_traced_value_on_the_network():
    net = _delayed_network()
    assert net.lookahead == 16  # 2 ms delays at dt 0.1 ms: the Simulator runs blocks of 16 steps
    brainmass.Simulator(net, dt=0.1 * u.ms).run(2 * u.ms)
    for module in net.nodes().values():  # the block's rows travel as arguments, never as attributes
        for name, value in vars(module).items():
            assert not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree_util.tree_leaves(value)), name


def test_sized_for_and_the_html_table():
    net = _delayed_network()
    assert net.sized_for(0.1 * u.ms) and net.sized_for(0.1) and not net.sized_for(0.2 * u.ms)
    assert net.sized_for(1e-4 * u.second)
    with pytest.raises(TypeError, match='`dt`'):
        net.sized_for(0.1 * u.mV)
    assert 'max 20 steps (2 ms at dt = 0.1 ms)' in net._repr_html_()
    instant = brainmass.Network(brainmass.HopfStep(2), conn=np.ones((2, 2)), coupled_var='x')
    assert instant.sized_for(1.0) and 'none (instantaneous)' in instant._repr_html_()


def test_standard_step_is_declared_and_inherited():
    """MixedNode integrates groups jointly by the declared `standard_step`, not by comparing methods."""
    from brainmass._core.step import StepModel
    assert brainmass.HopfStep.standard_step and brainmass.WilsonCowanStep.standard_step
    assert not brainmass.JansenRitStep.standard_step  # its own update
    assert not brainmass.WongWangStep.standard_step

    class OwnUpdate(brainmass.HopfStep):
        def update(self, x_inp=None, y_inp=None):
            return super().update(x_inp, y_inp)

    class Declared(OwnUpdate):
        standard_step = True  # the class says its update keeps the standard step

    assert not OwnUpdate.standard_step and Declared.standard_step
    assert not type('Sub', (OwnUpdate,), {}).standard_step  # inherited
    assert StepModel.standard_step
