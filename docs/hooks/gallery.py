"""MkDocs hook: the gallery page, made by running every script in ``examples/``.

``mkdocs build`` (``mkdocs.yml``: ``hooks: [docs/hooks/gallery.py]``) runs each example's
``main`` in this process, in a temporary working directory, with its printed output captured,
and replaces the ``<!-- gallery -->`` marker of ``docs/gallery.md`` with one section per
example: its docstring, the call that was run, the figures it wrote (every ``*.png`` it left
in the working directory, plus a figure of the data files of the two ``make_example_*``
scripts), what it printed, and its source. The figures become files of the site
(``gallery/<name>.png``); nothing is written into the repository.

Every ``examples/*.py`` is in the gallery. ``CALLS`` runs the slow ones at shorter durations
through their own arguments; an example not listed there runs as ``main()``. An example that
raises fails the build, so the site always shows examples that work.

Set ``BRAINMASS_GALLERY_CACHE`` to a directory to reuse the results of an earlier build while
``examples/``, ``brainmass/`` and this file are unchanged (handy with ``mkdocs serve``).
"""
import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import os
import pathlib
import re
import sys
import tempfile
import textwrap
import time

try:
    from mkdocs.exceptions import PluginError
except ImportError:  # imported without mkdocs (tests/test_docs_site.py reads CALLS and ORDER)
    PluginError = RuntimeError

log = logging.getLogger('mkdocs.hooks.gallery')

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / 'examples'
MARKER = '<!-- gallery -->'
PAGE = 'gallery.md'
FIGURES = 'gallery'  # the figures' folder in the site

# example -> keyword arguments of its main() for the gallery (shorter runs than the defaults)
CALLS = {
    'bold_wilson_cowan': {'duration_s': 20.0},
    'eeg_jansen_rit': {'duration_s': 3.0},
    'resting_state_bold': {'simulation_time': 40},
    'resting_state_study': {'argv': ['--quick']},
}
# the order of the page: first steps, then observation, then fitting; the rest alphabetically
ORDER = ['make_example_connectome', 'make_example_signal', 'eeg_jansen_rit', 'bold_wilson_cowan',
         'resting_state_bold', 'resting_state_study', 'fit_gradient', 'fit_gradient_free', 'fit_fc']

_results = {}  # example name -> {'doc', 'call', 'output', 'figures': {file name: bytes}}


def _plot_connectome(workdir, plt):
    """The weights and distances that make_example_connectome wrote."""
    import numpy as np

    import brainmass
    data = np.load(workdir / 'example_connectome.npz')
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    brainmass.viz.plot_connectivity(data['weights'], labels=list(data['labels']), ax=axes[0])
    axes[0].set_title('weights')
    brainmass.viz.plot_connectivity(data['distances'], labels=list(data['labels']), ax=axes[1])
    axes[1].set_title('distances (mm)')
    return fig


def _plot_signal(workdir, plt):
    """The Hopf-network signal that make_example_signal wrote."""
    import numpy as np

    import brainmass
    data = np.load(workdir / 'example_signal.npz')
    ts = np.arange(data['signal'].shape[0]) * float(data['dt_ms'])
    fig, ax = plt.subplots(figsize=(7, 3.2))
    brainmass.viz.plot_timeseries(data['signal'], ts, labels=list(data['labels']), ax=ax)
    ax.set_xlabel('time (ms, after the transient)')
    ax.set_title('example_signal: x of 8 Hopf nodes')
    return fig


# example -> a figure of the files it wrote, for the scripts that make data rather than figures
PLOTS = {
    'make_example_connectome': ('example_connectome.png', _plot_connectome),
    'make_example_signal': ('example_signal.png', _plot_signal),
}


def example_names():
    """Every ``examples/*.py``, in the gallery's order."""
    names = sorted(p.stem for p in EXAMPLES.glob('*.py') if not p.stem.startswith('_'))
    return [n for n in ORDER if n in names] + [n for n in names if n not in ORDER]


def _load(name):
    spec = importlib.util.spec_from_file_location(f'_gallery_{name}', EXAMPLES / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _call_text(kwargs):
    return 'main(' + ', '.join(f'{k}={v!r}' for k, v in kwargs.items()) + ')'


def run_example(name):
    """Run ``examples/<name>.py``'s ``main`` in a temporary directory: its output and figures."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    kwargs = CALLS.get(name, {})
    cwd, path = os.getcwd(), list(sys.path)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=f'gallery-{name}-') as tmp:
        workdir = pathlib.Path(tmp)
        os.chdir(workdir)
        sys.path.insert(0, str(EXAMPLES))  # fit_gradient_free imports fit_gradient
        buffer = io.StringIO()
        try:
            module = _load(name)
            if not callable(getattr(module, 'main', None)):
                raise PluginError(f'gallery: examples/{name}.py has no main() to run')
            with contextlib.redirect_stdout(buffer):
                module.main(**kwargs)
            if name in PLOTS:
                figure_name, plot = PLOTS[name]
                fig = plot(workdir, plt)
                fig.tight_layout()
                fig.savefig(workdir / figure_name, dpi=100)
        except PluginError:
            raise
        except Exception as err:
            raise PluginError(f'gallery: examples/{name}.py, {_call_text(kwargs)}, raised '
                              f'{type(err).__name__}: {err}\n{buffer.getvalue()}') from err
        finally:
            os.chdir(cwd)
            sys.path[:] = path
            plt.close('all')
        figures = {p.name: p.read_bytes() for p in sorted(workdir.glob('*.png'))}
    log.info('gallery: examples/%s.py ran in %.1f s', name, time.perf_counter() - start)
    return {'doc': module.__doc__ or '', 'call': _call_text(kwargs), 'output': buffer.getvalue(),
            'figures': figures}


def _sources_key():
    """A digest of everything the gallery depends on: the examples, the package and this hook."""
    digest = hashlib.sha256()
    for path in sorted([*EXAMPLES.glob('*.py'), *(ROOT / 'brainmass').rglob('*.py'),
                        *(ROOT / 'brainmass').rglob('*.npz'), pathlib.Path(__file__)]):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _cached_run(name, cache):
    if cache is None:
        return run_example(name)
    folder = pathlib.Path(cache) / name
    meta = folder / 'result.json'
    if meta.is_file():
        result = json.loads(meta.read_text())
        result['figures'] = {f: (folder / f).read_bytes() for f in result['figures']}
        log.info('gallery: examples/%s.py from the cache %s', name, folder)
        return result
    result = run_example(name)
    folder.mkdir(parents=True, exist_ok=True)
    for figure, content in result['figures'].items():
        (folder / figure).write_bytes(content)
    meta.write_text(json.dumps({**result, 'figures': sorted(result['figures'])}))
    return result


def on_files(files, config):
    """Run the examples and add their figures to the site."""
    from mkdocs.structure.files import File
    cache = os.environ.get('BRAINMASS_GALLERY_CACHE')
    if cache:
        cache = pathlib.Path(cache) / _sources_key()
    _results.clear()
    for name in example_names():
        _results[name] = _cached_run(name, cache)
        for figure, content in _results[name]['figures'].items():
            files.append(File.generated(config, f'{FIGURES}/{name}/{figure}', content=content))
    return files


_LITERAL = re.compile(r'^(.*?)(\s*)::\s*$')


def docstring_markdown(doc):
    """A docstring in the gallery: reST literal blocks (``text::`` + indented lines) as fences."""
    lines = textwrap.dedent('\n'.join((doc or '').strip('\n').splitlines()[1:])).splitlines()
    out, i = [], 0
    while i < len(lines):
        match = _LITERAL.match(lines[i])
        if match is None:
            out.append(lines[i])
            i += 1
            continue
        text = match.group(1)
        out.append(text + (':' if match.group(2) == '' and text else ''))
        i += 1
        block = []
        while i < len(lines) and (not lines[i].strip() or lines[i].startswith((' ', '\t'))):
            block.append(lines[i])
            i += 1
        code = textwrap.dedent('\n'.join(block)).strip('\n')
        language = 'bash' if all(line.startswith('python ') for line in code.splitlines() if line) else 'text'
        out += ['', f'```{language}', code, '```', '']
    return '\n'.join(out).strip()


def _fence(text, language):
    ticks = '````' if '```' in text else '```'
    return f'{ticks}{language}\n{text.rstrip()}\n{ticks}'


def section(name, result):
    """The gallery's Markdown for one example."""
    doc = result['doc'].strip()
    title = doc.splitlines()[0].strip() if doc else name
    source = (EXAMPLES / f'{name}.py').read_text()
    parts = [f'## {name}', '', f'**{title}**', '', docstring_markdown(doc), '',
             f'Built with `{result["call"]}` from `examples/{name}.py`'
             + (' (shorter than the script\'s default run).' if result['call'] != 'main()' else '.'), '']
    for figure in result['figures']:
        parts += [f'![{name}: {figure}]({FIGURES}/{name}/{figure})', '']
        if figure == PLOTS.get(name, ('',))[0]:
            parts += ['(Drawn by the gallery from the file the script wrote, with `brainmass.viz`.)', '']
    if result['output'].strip():
        parts += ['What it printed:', '', _fence(result['output'], 'text'), '']
    parts += [f'??? example "Source: examples/{name}.py"', '',
              textwrap.indent(_fence(source, 'python'), '    '), '']
    return '\n'.join(parts)


def on_page_markdown(markdown, page, config, files):
    """Put the examples' sections at the marker of the gallery page."""
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f'gallery: docs/{PAGE} lacks the marker {MARKER}')
    contents = '\n'.join(f'- [{name}](#{name})' for name in _results)
    body = '\n'.join(section(name, result) for name, result in _results.items())
    return markdown.replace(MARKER, contents + '\n\n' + body)
