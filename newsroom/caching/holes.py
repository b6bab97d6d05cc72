"""Hole punching: a public page kept once, and only its personal parts built for each browser.

Some parts of a page depend on who asks: under a story, a reader's own comments waiting for a
moderator and the name they saved in the form. Such a part (a hole) is built inside `punch()`.
While a public page is built to be kept (`punching()`), each hole's HTML is marked and what it
needs to be built again is recorded: the name of its filler (registered by the app that owns it
with `register_filler()`) and its arguments. `cut()` takes the marks out of the page and notes
where each hole lies, and the kept page (newsroom.caching.middleware.Snapshot) keeps that.

A request personal only through cookies that change nothing but holes (registered with
``register_personal_cookie(name, holes=True)``) is then answered with the kept page and each
hole filled for that request alone (`fill()`): the cost of the part, not of the page. This is
what ESI or Varnish's hole punching does, inside the app, for pages that must stay private.

A page qualifies only if everything personal it showed was in holes: a personal cookie read
outside a hole while it was built (`note_personal_read()`, called by whoever reads one) makes
it unfit, and personal requests for it are built whole, as every personal request once was.
Holes are never inside kept fragments (their marks would be kept without their record).
"""

import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.utils.safestring import mark_safe

START, END = "<!--hole {}-->", "<!--/hole {}-->"
MARK = re.compile(rb"<!--/?hole \d+-->")

# {hole name: fill(request, *args) -> str of HTML}, registered by apps in their ready().
_fillers = {}
_punching = ContextVar("holes_punching", default=None)
_inside = ContextVar("inside_hole", default=False)


@dataclass
class Punched:
    """What building one page punched: its holes as (name, args), in the order they were built,
    and whether the page is `fit` to be answered by filling them (nothing personal outside)."""

    holes: list = field(default_factory=list)
    fit: bool = True


def register_filler(name, fill):
    """Fill hole `name` with `fill(request, *args)`, a str of HTML: the same HTML the page's
    own build gives inside `punch(name, ...)` for that request."""
    _fillers[name] = fill


@contextmanager
def punching():
    """Within this block (a public page being built to be kept), holes are marked and recorded
    in the Punched it yields."""
    punched = Punched()
    token = _punching.set(punched)
    try:
        yield punched
    finally:
        _punching.reset(token)


def punch(name, build, args):
    """build()'s HTML (a str) for hole `name`. While a page is punched it is marked, and
    `args()` (a tuple of picklable values, kept with the page) recorded: the filler is called
    with them. Otherwise `args` is not called."""
    token = _inside.set(True)
    try:
        html = build()
    finally:
        _inside.reset(token)
    punched = _punching.get()
    if punched is None:
        return html
    index = len(punched.holes)
    punched.holes.append((name, tuple(args())))
    return mark_safe(f"{START.format(index)}{html}{END.format(index)}")  # noqa: S308 - build()'s HTML


def note_personal_read():
    """Say that a personal cookie is being read (whatever it holds, even nothing): outside a
    hole, the page being punched cannot be answered by filling its holes."""
    punched = _punching.get()
    if punched is not None and not _inside.get():
        punched.fit = False


def cut(content, punched):
    """(`content` without hole marks, holes): `content` is a page's bytes as built while
    `punched` recorded its holes; holes is a tuple of (name, args, start, end), each hole's byte
    span in the returned content, or None when the page cannot be answered by filling holes
    (unfit, or its marks and record disagree)."""
    pieces, holes, at, length = [], [], 0, 0
    for index, (name, args) in enumerate(punched.holes):
        start_mark = START.format(index).encode()
        end_mark = END.format(index).encode()
        start = content.find(start_mark, at)
        end = content.find(end_mark, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            return MARK.sub(b"", content), None
        pieces.append(content[at:start])
        length += start - at
        inner = content[start + len(start_mark) : end]
        pieces.append(inner)
        holes.append((name, args, length, length + len(inner)))
        length += len(inner)
        at = end + len(end_mark)
    pieces.append(content[at:])
    stripped = b"".join(pieces)
    if MARK.search(stripped):  # a mark without a record: a hole inside a kept fragment
        return MARK.sub(b"", stripped), None
    return stripped, (tuple(holes) if punched.fit else None)


def fill(content, holes, request):
    """`content` (bytes, as `cut` gave it) with each of `holes` built again for `request` by
    its filler. Raises LookupError for a hole no app fills."""
    pieces, at = [], 0
    for name, args, start, end in holes:
        pieces += [content[at:start], str(_fillers[name](request, *args)).encode()]
        at = end
    pieces.append(content[at:])
    return b"".join(pieces)
