"""What a person may type into a comment's text fields: one home for the rule, used by the
comment form, the edit form (comments/editing.py), the admin (its fields and the moderators'
reply) and the WordPress importer.

Every field needs something a reader can see (newsroom/text.py: what is visible): a value made
only of spaces, zero-width or other default-ignorable characters, bidirectional controls or
combining marks alone is refused, and so is one with accents stacked too high on a letter. Some
characters are refused anywhere they appear: controls (a body keeps its line breaks and tabs),
surrogates and noncharacters; the bidirectional embeddings, overrides and isolates that can make
text read differently from what it holds ("Trojan Source"); and, in a name, every invisible or
direction-changing character that could make two names look alike. Names are stored in Unicode
NFC, trimmed, with runs of spaces made one.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError

from newsroom.text import has_visible, is_visible, marks_stacked_too_high

# The explicit bidirectional formatting characters that reorder text around them.
BIDI_REORDERING = "\u202a-\u202e\u2066-\u2069"
# Every bidirectional control, the marks included (allowed in a body, where they help).
BIDI_CONTROLS = BIDI_REORDERING + "\u061c\u200e\u200f"
# C0 and C1 controls; a body keeps tab and line feed (carriage returns are made line feeds).
CONTROLS = "\x00-\x1f\x7f-\x9f"
BODY_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
SURROGATES = "\ud800-\udfff"
# U+FDD0..U+FDEF and the last two code points of every plane.
NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
# Invisible characters that have no place in a name: they only hide or disguise it. The
# zero-width joiner and non-joiner stay (some scripts and emoji sequences need them), and so do
# variation selectors and tag characters (emoji flags).
NAME_INVISIBLES = (
    "\u00ad\u115f\u1160\u180e\u200b\u2028\u2029\u2060-\u2064\u3164\ufeff\uffa0\ufff9-\ufffb"
)

NAME_FORBIDDEN = re.compile(
    f"[{CONTROLS}{SURROGATES}{NONCHARACTERS}{BIDI_CONTROLS}{NAME_INVISIBLES}]"
)
BODY_FORBIDDEN = re.compile(f"[{BODY_CONTROLS}{SURROGATES}{NONCHARACTERS}{BIDI_REORDERING}]")
SPACES = re.compile(r"\s+")

NAME_INVISIBLE = "Please enter a name with visible letters."
NAME_BAD = "Your name contains invisible control characters: please retype it."
BODY_INVISIBLE = "Please write a comment with visible letters."
BODY_BAD = "Your comment contains invisible control characters: please remove them."
REPLY_INVISIBLE = "Please write a reply with visible letters."
REPLY_BAD = "Your reply contains invisible control characters: please remove them."
WEBSITE_BAD = "Remove the invisible or control characters from the web address."
STACKED = "Too many accents are stacked on one letter: please remove some."


def tidy_name(name):
    """A name as stored: NFC, runs of whitespace made one space, trimmed ("" when nothing is
    left). Characters are not removed: see `check_name`."""
    return SPACES.sub(" ", unicodedata.normalize("NFC", name or "")).strip()


def check_name(name):
    """The name as stored (see `tidy_name`), or ValidationError: NAME_INVISIBLE (code
    "invisible") when nothing in it can be seen, NAME_BAD (code "forbidden") when it holds a
    control (a line break or tab inside it too), bidirectional or invisible character."""
    name = unicodedata.normalize("NFC", name or "").strip()
    if not has_visible(name):
        raise ValidationError(NAME_INVISIBLE, code="invisible")
    if NAME_FORBIDDEN.search(name):
        raise ValidationError(NAME_BAD, code="forbidden")
    if marks_stacked_too_high(name):
        raise ValidationError(STACKED, code="stacked")
    return tidy_name(name)


def tidy_body(body):
    """Line breaks made "\\n", surrounding whitespace trimmed; otherwise as typed."""
    return (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def check_body(body, *, invisible=BODY_INVISIBLE, forbidden=BODY_BAD):
    """The body as stored (see `tidy_body`), or ValidationError: `invisible` (code "invisible")
    when nothing in it can be seen, `forbidden` (code "forbidden") when it holds a control
    character other than tab and line feed, a surrogate, a noncharacter or a bidirectional
    embedding, override or isolate. An empty body is the caller's "required" message."""
    body = tidy_body(body)
    if body and not has_visible(body):
        raise ValidationError(invisible, code="invisible")
    if BODY_FORBIDDEN.search(body):
        raise ValidationError(forbidden, code="forbidden")
    if marks_stacked_too_high(body):
        raise ValidationError(STACKED, code="stacked")
    return body


def check_reply(body):
    """A moderator's reply: `check_body` with messages about a reply."""
    return check_body(body, invisible=REPLY_INVISIBLE, forbidden=REPLY_BAD)


def check_website(url):
    """A web address as typed, or ValidationError WEBSITE_BAD (code "forbidden") when any of
    its characters is not visible (an address has no spaces or invisible characters)."""
    url = (url or "").strip()
    if url and not all(is_visible(char) for char in url):
        raise ValidationError(WEBSITE_BAD, code="forbidden")
    return url


def imported_name(name, fallback="Anonymous"):
    """A name from another system (the WordPress importer), made acceptable instead of refused:
    tidied, its forbidden characters removed, `fallback` when nothing visible is left."""
    name = tidy_name(NAME_FORBIDDEN.sub("", tidy_name(name)))
    return name if has_visible(name) else fallback
