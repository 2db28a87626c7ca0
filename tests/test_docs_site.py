"""The documentation site's structure, checked without mkdocs (CI builds it with --strict).

Every page in docs/ is in the nav of mkdocs.yml and every nav entry exists; relative links
between pages resolve; the gallery hook can run every example; the docstring rewriting of the
API reference (docs/hooks/griffe_rst.py) turns reST math, roles and tables into Markdown.
"""
import ast
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[1]
DOCS = ROOT / 'docs'
MD_LINK = re.compile(r'\]\(([^)\s]+)\)')


def _module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nav_pages(text=None):
    """The .md files named in mkdocs.yml's ``nav:`` block (plain text: no YAML parser needed)."""
    text = (ROOT / 'mkdocs.yml').read_text() if text is None else text
    lines, pages, inside = text.splitlines(), [], False
    for line in lines:
        if re.match(r'^nav:\s*$', line):
            inside = True
            continue
        if inside and line and not line[0].isspace() and not line.startswith('#'):
            break  # the next top-level key
        if inside:
            pages += re.findall(r'(?:^\s*-\s*|:\s*)([\w./-]+\.md)\s*$', line)
    return pages


def doc_pages():
    return sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob('*.md')
                  if 'hooks' not in p.relative_to(DOCS).parts)


def test_nav_parser_reads_titles_and_bare_entries():
    text = 'site_name: x\nnav:\n  - Home: index.md\n  - Guide:\n      - a/b.md\n      - C: c.md\nplugins: []\n'
    assert nav_pages(text) == ['index.md', 'a/b.md', 'c.md']


def test_every_docs_page_is_in_the_nav():
    nav = nav_pages()
    missing = [page for page in doc_pages() if page not in nav]
    assert not missing, f'docs pages missing from the nav of mkdocs.yml: {missing}'


def test_every_nav_entry_exists_once():
    nav = nav_pages()
    assert len(nav) == len(set(nav)), f'pages listed twice in the nav: {[p for p in nav if nav.count(p) > 1]}'
    absent = [page for page in nav if not (DOCS / page).is_file()]
    assert not absent, f'nav entries without a file in docs/: {absent}'
    assert {'index.md', 'install.md', 'tour.md', 'gallery.md'} <= set(nav)


@pytest.mark.parametrize('page', doc_pages())
def test_relative_links_resolve(page):
    path = DOCS / page
    text = re.sub(r'```.*?```', '', path.read_text(), flags=re.S)  # links in code are not links
    for target in MD_LINK.findall(text):
        if re.match(r'^[a-z]+:', target) or target.startswith('#'):
            continue
        file = target.split('#')[0]
        resolved = (path.parent / file).resolve()
        assert resolved.is_file(), f'{page}: link {target!r} does not resolve'
        assert DOCS.resolve() in resolved.parents, f'{page}: link {target!r} leaves docs/ (not part of the site)'


def test_the_api_reference_covers_the_public_names():
    """Every name of brainmass.__all__ is rendered: by name, or as part of a documented namespace."""
    init = ast.parse((ROOT / 'brainmass' / '__init__.py').read_text())
    names = next(node.value for node in init.body if isinstance(node, ast.Assign)
                 and any(getattr(t, 'id', None) == '__all__' for t in node.targets))
    models = ast.parse((ROOT / 'brainmass' / 'models' / '__init__.py').read_text())
    model_names = next(node.value for node in models.body if isinstance(node, ast.Assign)
                       and any(getattr(t, 'id', None) == '__all__' for t in node.targets))
    public = [e.value for e in names.elts if isinstance(e, ast.Constant)]
    public += [e.value for e in model_names.elts if isinstance(e, ast.Constant)]
    api = '\n'.join(p.read_text() for p in (DOCS / 'api').glob('*.md'))
    entries = set(re.findall(r'^::: brainmass\.([\w.]+)', api, flags=re.M))
    # documented inside a namespace page (``::: brainmass.datasets`` renders its __all__)
    via_namespace = {'Connectome': 'datasets', 'Signal': 'datasets', 'process_sequence': 'datasets',
                     'save_run': 'datasets', 'load_run': 'datasets', 'to_numpy': 'datasets'}
    observation = ast.parse((ROOT / 'brainmass' / 'observation' / '__init__.py').read_text())
    for node in observation.body:
        if isinstance(node, ast.Assign) and any(getattr(t, 'id', None) == '__all__' for t in node.targets):
            via_namespace.update({e.value: 'observation' for e in node.value.elts})
    missing = [name for name in public if name != '__version__' and name not in entries
               and via_namespace.get(name) not in entries]
    assert not missing, f'public names without an entry in docs/api/*.md: {missing}'


def test_gallery_hook_can_run_every_example():
    gallery = _module(DOCS / 'hooks' / 'gallery.py')
    assert gallery.MARKER in (DOCS / 'gallery.md').read_text()
    names = gallery.example_names()
    assert sorted(names) == sorted(p.stem for p in (ROOT / 'examples').glob('*.py'))
    assert set(gallery.CALLS) <= set(names) and set(gallery.PLOTS) <= set(names)
    for name in names:
        tree = ast.parse((ROOT / 'examples' / f'{name}.py').read_text())
        main = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == 'main']
        assert main, f'examples/{name}.py has no main() for the gallery'
        arguments = {a.arg for a in main[0].args.args + main[0].args.kwonlyargs}
        assert set(gallery.CALLS.get(name, {})) <= arguments, f'gallery calls {name}.main with unknown arguments'


def test_gallery_docstrings_become_markdown():
    gallery = _module(DOCS / 'hooks' / 'gallery.py')
    doc = 'Title.\n\nRun::\n\n    python examples/x.py   # note\n\nAnd ``code``.\n'
    assert gallery.docstring_markdown(doc) == 'Run:\n\n```bash\npython examples/x.py   # note\n```\n\nAnd ``code``.'


def test_rst_math_roles_and_tables_become_markdown():
    convert = _module(DOCS / 'hooks' / 'griffe_rst.py').rst_to_markdown
    assert convert(r'rate :math:`\tau` of :class:`~brainmass.network.Network`') == r'rate $\tau$ of `Network`'
    assert convert(':func:`brainmass.analysis.fc` and :sup:`2`') == '`brainmass.analysis.fc` and <sup>2</sup>'
    block = convert('A\n\n.. math::\n\n    x &= 1, \\\\\n    y &= 2\n\nB')
    assert block == 'A\n\n\n$$\n\\begin{aligned}\nx &= 1, \\\\\ny &= 2\n\\end{aligned}\n$$\n\nB'
    table = convert('=====  ====\nname   unit\n=====  ====\ntau    ms\n       (time)\nk      -\n=====  ====\n')
    assert table.strip() == '| name | unit |\n|---|---|\n| tau | ms (time) |\n| k | - |'
    headerless = convert('======  =====\n``a|b``  x|y\n======  =====')
    assert headerless.strip() == '|  |  |\n|---|---|\n| ``a|b`` | x\\|y |'
    assert convert('Example::\n\n    code') == 'Example:\n\n    code'
    assert convert('Parameters\n----------\nx : float') == 'Parameters\n----------\nx : float'


def test_shared_parameter_lines_are_split_so_each_name_keeps_its_own_default():
    convert = _module(DOCS / 'hooks' / 'griffe_rst.py').rst_to_markdown
    doc = 'Parameters\n----------\na, w : float, default 0.2, 0.3\n    Rates.\n\n    More.\nm : str\n'
    assert convert(doc) == 'Parameters\n----------\na : float\n    Rates.\n\n    More.\nw : float\n' \
                           '    Rates.\n\n    More.\nm : str'
    assert convert('Returns\n-------\na, b : float\n') == 'Returns\n-------\na, b : float'
    shared_default = convert('Parameters\n----------\ninit_a, init_b : default 0\nc, d :\n    Both.')
    assert shared_default == 'Parameters\n----------\ninit_a : default 0\ninit_b : default 0\nc :\n    Both.\nd :\n    Both.'
