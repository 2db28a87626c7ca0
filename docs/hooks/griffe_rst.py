"""Griffe extension for the API reference: the reST bits of brainmass's docstrings as Markdown.

The docstrings are numpy style with a little reStructuredText, which mkdocstrings would show
verbatim; before they are parsed this extension rewrites

* ``.. math::`` blocks as ``$$ ... $$`` display math and ``:math:`x``` as ``$x$`` (rendered by
  pymdownx.arithmatex and MathJax, ``mkdocs.yml``);
* ``:class:`~brainmass.X```, ``:func:``, ``:meth:``, ``:mod:``, ``:attr:``, ``:data:`` ... roles as
  code spans (`` `X` ``; ``~`` keeps the last dotted part, as in Sphinx);
* ``:sup:`2``` as ``<sup>2</sup>``;
* reST simple tables (columns under ``====  ====`` rules; a row whose first cell is blank
  continues the row above) as Markdown tables;
* a paragraph ending in ``::`` (a reST literal block follows) as one ending in ``:``;
* in a Parameters section, ``a, w, beta : float, default 0.25, 0.2, 1.0`` as one entry per
  name (same type and description; a list of defaults is dropped, so each name's default
  comes from the signature), because griffe would give every name of such a line the first
  name's default.

Doctest blocks (``>>>``) and the numpy sections are left as they are.
"""
import re
import textwrap

try:
    import griffe
except ImportError:  # rst_to_markdown alone needs no griffe (tests/test_docs_site.py)
    griffe = None

_MATH_ROLE = re.compile(r':math:`([^`]+)`')
_SUP_ROLE = re.compile(r':sup:`([^`]+)`')
_REF_ROLE = re.compile(r':(?:py:)?(?:class|func|meth|mod|attr|data|obj|exc|const|ref|term):`(~?)([^`]+)`')
_MATH_BLOCK = re.compile(r'^(\s*)\.\. math::(.*)$')
_LITERAL = re.compile(r'^(\s*)(.*?)(\s?)::\s*$')
_RULE = re.compile(r'^(\s*)=+( +=+)+\s*$')


def _columns(rule):
    """The start of each column of a simple table, from its ``===  ===`` rule."""
    return [m.start() for m in re.finditer(r'=+', rule)]


def _cells(line, starts):
    ends = starts[1:] + [None]
    return [line[a:b].strip() if b is not None else line[a:].strip() for a, b in zip(starts, ends)]


def _rows(lines, starts):
    rows = []
    for line in lines:
        cells = _cells(line, starts)
        if rows and not cells[0]:  # continues the row above
            rows[-1] = [f'{old} {new}'.strip() for old, new in zip(rows[-1], cells)]
        else:
            rows.append(cells)
    return rows


def _table(lines, i):
    """``(markdown lines, next index)`` of the simple table whose top rule is ``lines[i]``, or None."""
    indent, starts = _RULE.match(lines[i]).group(1), _columns(lines[i])
    ends = [j for j in range(i + 1, len(lines)) if _RULE.match(lines[j])]
    if not ends or any(not lines[j].strip() for j in range(i + 1, ends[0])):
        return None
    first, after = ends[0], ends[0] + 1
    header, body = [], lines[i + 1:first]
    if len(ends) > 1 and after < len(lines) and lines[after].strip() and \
            all(lines[j].strip() for j in range(after, ends[1])):
        header, body, after = _rows(body, starts), lines[after:ends[1]], ends[1] + 1
    header = header[0] if header else [''] * len(starts)

    def row(cells):
        return indent + '| ' + ' | '.join(_escape_pipes(c) for c in cells) + ' |'
    table = ['', row(header), indent + '|' + '---|' * len(starts)] + [row(r) for r in _rows(body, starts)] + ['']
    return table, after


def _escape_pipes(cell):
    """``|`` outside code spans escaped, so it does not split a Markdown table cell."""
    parts = re.split(r'(`+[^`]*`+)', cell)
    return ''.join(part if part.startswith('`') else part.replace('|', '\\|') for part in parts)


_SECTION_RULE = re.compile(r'^\s*-{3,}\s*$')
_SHARED = re.compile(r'^([A-Za-z_*][\w*]*(?:\s*,\s*[A-Za-z_*][\w*]*)+)\s+:\s*(.*)$')
_DEFAULT = re.compile(r',?\s*\bdefault\b.*$')


def split_shared_parameters(lines):
    """Parameters-section entries naming several parameters, as one entry per name."""
    out, section, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        if i + 1 < len(lines) and _SECTION_RULE.match(lines[i + 1]) and line.strip():
            section = line.strip()
        shared = _SHARED.match(line) if section in ('Parameters', 'Other Parameters') else None
        if shared is None:
            out.append(line)
            i += 1
            continue
        j = i + 1
        while j < len(lines) and (not lines[j].strip() or lines[j][0].isspace()):
            j += 1
        description = lines[i + 1:j]
        while description and not description[-1].strip():
            description.pop()
        kind, default = shared.group(2).strip(), _DEFAULT.search(shared.group(2))
        if default is not None and ',' in default.group(0).lstrip(','):  # one default per name
            kind = _DEFAULT.sub('', kind).strip()
        for name in re.split(r'\s*,\s*', shared.group(1)):
            out += [f'{name} : {kind}'.rstrip()] + description
        out += [''] * (j - i - 1 - len(description))
        i = j
    return out


def _ref(match):
    text = match.group(2)
    if '<' in text and text.endswith('>'):  # :class:`title <target>`
        text = text[:text.index('<')].strip()
    elif match.group(1):
        text = text.rsplit('.', 1)[-1]
    return f'`{text.lstrip(".")}`'


def rst_to_markdown(text):
    """The docstring ``text`` with its reST math, roles and literal-block markers as Markdown."""
    lines = split_shared_parameters(text.splitlines())
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if _RULE.match(line):
            table = _table(lines, i)
            if table is not None:
                out += table[0]
                i = table[1]
                continue
        block = _MATH_BLOCK.match(line)
        if block is not None:
            indent, first = block.group(1), block.group(2).strip()
            body = [indent + '    ' + first] if first else []  # text on the directive's line
            i += 1
            while i < len(lines) and (not lines[i].strip() or
                                      len(lines[i]) - len(lines[i].lstrip()) > len(indent)):
                body.append(lines[i])
                i += 1
            math = [m for m in textwrap.dedent('\n'.join(body)).strip('\n').splitlines()
                    if not m.lstrip().startswith(':')]  # options such as :label:
            if not any('\\begin' in m for m in math):  # several rows need an environment, as in Sphinx
                env = 'aligned' if any('&' in m for m in math) else 'gathered' if any(
                    '\\\\' in m for m in math) else None
                if env:
                    math = [f'\\begin{{{env}}}'] + math + [f'\\end{{{env}}}']
            out += ['', f'{indent}$$'] + [indent + m for m in math] + [f'{indent}$$', '']
            continue
        literal = _LITERAL.match(line)
        if literal is not None and not literal.group(2).startswith('..') and '>>>' not in line:
            text_part = literal.group(2)
            line = literal.group(1) + text_part + (':' if text_part and not literal.group(3) else '')
        out.append(line)
        i += 1
    text = '\n'.join(out)
    text = _MATH_ROLE.sub(lambda m: f'${m.group(1).strip()}$', text)
    text = _SUP_ROLE.sub(r'<sup>\1</sup>', text)
    return _REF_ROLE.sub(_ref, text)


if griffe is not None:
    class RstToMarkdown(griffe.Extension):
        """Rewrites each docstring once, when griffe creates the object."""

        def on_instance(self, *, obj, **kwargs):
            if obj.docstring is not None:
                obj.docstring.value = rst_to_markdown(obj.docstring.value)
