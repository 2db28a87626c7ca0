"""Every docstring example in the package runs and prints what it shows."""
import doctest
import importlib
import pkgutil

import brainstate
import brainunit as u
import pytest

import brainmass

MODULES = sorted(name for _, name, _ in pkgutil.walk_packages(brainmass.__path__, 'brainmass.')
                 if not name.endswith('__main__'))


@pytest.mark.parametrize('module_name', MODULES)
def test_docstring_examples(module_name):
    module = importlib.import_module(module_name)
    brainstate.environ.set(dt=0.1 * u.ms)
    brainstate.random.seed(0)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f'{result.failed} docstring example(s) of {module_name} failed (see the output above)'
