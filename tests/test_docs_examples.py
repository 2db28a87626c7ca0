"""Every ```python block of docs/*.md and README.md runs as written.

The blocks of one page run in order in one namespace (later blocks build on earlier
ones), statement by statement, in a temporary directory. A statement may raise only
when the docs say so: the exception's class name appears in the comment on that line or
on the comment line right after it (``# ValueError: ...``), which documents an error.
Signatures that are not runnable are ```text blocks.
"""
import ast
import pathlib
import re

import brainstate
import brainunit as u
import matplotlib
import pytest

matplotlib.use('Agg')

ROOT = pathlib.Path(__file__).parents[1]
PAGES = sorted((ROOT / 'docs').glob('*.md')) + [ROOT / 'README.md']
FENCE = re.compile(r'^\s*```(\w*)\s*$')


def python_blocks(path):
    """``(first line number, code)`` of each ```python block."""
    lines = path.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not FENCE.match(lines[j]):
            j += 1
        if match.group(1) == 'python':
            blocks.append((i + 2, '\n'.join(lines[i + 1:j])))
        i = j + 1
    return blocks


def documented_error(lines, statement):
    """The comment on a statement's last line and on the line after it (where errors are shown)."""
    last = lines[statement.end_lineno - 1]
    text = last[last.index('#'):] if '#' in last else ''
    if statement.end_lineno < len(lines) and lines[statement.end_lineno].lstrip().startswith('#'):
        text += lines[statement.end_lineno]
    return text


def run_block(code, where, namespace):
    lines = code.splitlines()
    for statement in ast.parse(code, filename=where).body:
        module = ast.Module(body=[statement], type_ignores=[])
        try:
            exec(compile(module, f'{where}+{statement.lineno - 1}', 'exec'), namespace)
        except Exception as err:
            if type(err).__name__ not in documented_error(lines, statement):
                raise AssertionError(f'{where}+{statement.lineno - 1}: '
                                     f'{ast.get_source_segment(code, statement)!r} raised '
                                     f'{type(err).__name__}: {err}') from err


@pytest.mark.parametrize('page', [p for p in PAGES if python_blocks(p)], ids=lambda p: p.name)
def test_page_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {'__name__': '__docs__'}
    try:
        for line, code in python_blocks(page):
            run_block(code, f'{page.name}:{line}', namespace)
    finally:
        brainstate.environ.set(dt=0.1 * u.ms, precision=32)
        matplotlib.pyplot.close('all')
