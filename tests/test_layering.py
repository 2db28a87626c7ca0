"""Suggested tests (helper 'rooms'): the foundation imports nothing above it; the delayed Wilson-Cowan
step keeps no per-trace attribute; the Wilson-Cowan constructors built from model_params."""
import ast
import inspect
import pathlib

import brainunit as u
import pytest

import brainmass

CORE = pathlib.Path(brainmass.__file__).parent / '_core'


@pytest.mark.parametrize('path', sorted(CORE.glob('*.py')), ids=lambda p: p.name)
def test_core_imports_only_its_siblings_and_third_party(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            upward = node.level > 1 or (node.level == 0 and (node.module or '').split('.')[0] == 'brainmass')
            assert not upward, f'{path.name} imports {"." * node.level}{node.module or ""} from above _core'
        elif isinstance(node, ast.Import):
            assert not any(a.name.split('.')[0] == 'brainmass' for a in node.names), path.name


def test_noise_public_names_are_the_core_classes():
    from brainmass import _core
    for name in brainmass.noise.__all__:
        assert getattr(brainmass, name) is getattr(brainmass.noise, name) is getattr(_core.noise, name)


def test_delayed_step_keeps_no_trace_state():
    node = brainmass.WilsonCowanDelayedStep(2, delay_EE=0.5 * u.ms, delay_EI=0.)
    brainmass.Simulator(node, dt=0.1 * u.ms).run(2 * u.ms, inputs=1.0)
    assert '_lagged' not in node.__dict__


def test_variant_signatures_come_from_their_declared_parameters():
    sig = inspect.signature(brainmass.WilsonCowanThreePopulationStep.__init__).parameters
    assert list(sig)[:3] == ['self', 'in_size', 'tau_E'] and sig['tau_M'].default == 2. * u.ms
    assert [p for p in sig if p.startswith(('noise_', 'init_'))] == [
        'noise_E', 'noise_I', 'noise_M', 'init_rE', 'init_rI', 'init_rM']
    with pytest.raises(TypeError, match="WilsonCowanSymmetricStep\\(\\) got an unexpected keyword argument 'tau_E'"):
        brainmass.WilsonCowanSymmetricStep(2, tau_E=1.)
    with pytest.raises(TypeError, match="unexpected keyword argument 'r'"):
        brainmass.WilsonCowanNoSaturationStep(2, r=0.5)


def test_no_module_imports_another_files_private_names():
    """Names shared across files are public within the package (issue 17: no `from .x import _y`)."""
    root = pathlib.Path(__file__).parents[1] / 'brainmass'
    found = []
    for path in root.rglob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                found += [f'{path.relative_to(root)}: from {"." * node.level}{node.module or ""} import {a.name}'
                          for a in node.names if a.name.startswith('_') and not a.name.startswith('__')]
    assert not found, '\n'.join(found)
