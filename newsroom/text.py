"""What counts as text a reader can see: one home for the rule, used by the comments' fields
(comments/text.py) and by what staff type for readers (alt text, live entries).

A character is visible when it is a letter, digit, punctuation mark or symbol that Unicode does
not mark as default-ignorable (zero-width spaces, fillers, variation selectors, tags) and is not
a blank look-alike (the braille blank). Spaces, controls, format characters and combining marks
on their own draw nothing. Combining marks stacked too high on one letter ("Zalgo" text) draw
over the lines around them: more than MAX_MARKS_PER_LETTER in a row is refused.
"""

import re
import unicodedata

# Default_Ignorable_Code_Point (Unicode's DerivedCoreProperties.txt): drawn as nothing.
DEFAULT_IGNORABLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
# Letters, digits, punctuation and symbols that still draw nothing (a braille blank).
BLANK_LOOKALIKES = "\u2800"
INVISIBLE = re.compile(f"[{DEFAULT_IGNORABLE}{BLANK_LOOKALIKES}]")
# Letters, marks' bases, digits, punctuation and symbols: what is drawn on the page.
VISIBLE_CATEGORIES = frozenset("LNPS")
# Real writing stacks a few marks on a letter (Vietnamese two, Tibetan and Indic scripts up to
# four or five); a run longer than this is drawn over the lines above and below.
MAX_MARKS_PER_LETTER = 8


def is_visible(char):
    """Whether one character draws something: a letter, digit, punctuation mark or symbol that
    is not default-ignorable (spaces, controls, format characters and marks alone do not)."""
    return unicodedata.category(char)[0] in VISIBLE_CATEGORIES and not INVISIBLE.match(char)


def has_visible(text):
    """Whether `text` (a str or None) holds at least one character a reader can see."""
    return any(is_visible(char) for char in text or "")


def marks_stacked_too_high(text):
    """Whether `text` has more than MAX_MARKS_PER_LETTER combining marks (Unicode categories
    Mn and Me) in a row, counted after NFC composition (so "é" typed as e + U+0301 is one
    letter, no mark)."""
    run = 0
    for char in unicodedata.normalize("NFC", text or ""):
        if unicodedata.category(char) in ("Mn", "Me"):
            run += 1
            if run > MAX_MARKS_PER_LETTER:
                return True
        else:
            run = 0
    return False
