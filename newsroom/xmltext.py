"""Text that ends up in XML (RSS, Atom, sitemaps): one definition of what XML 1.0 can carry.

XML 1.0 allows tab, line feed, carriage return and every character from U+0020 up, except the
surrogates (U+D800-U+DFFF) and U+FFFE/U+FFFF. A single other character (a U+0008 pasted from a
word processor, say) makes a whole feed unreadable, so every XML output passes its text through
`xml_safe()`, and every admin text field refuses such characters with `validate_xml_text`.
"""

import re

from django.core.exceptions import ValidationError

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(value):
    """`value` as text with every character XML 1.0 forbids removed."""
    return NOT_XML.sub("", str(value))


def validate_xml_text(value):
    """Refuse text with a character that XML 1.0 (and so a feed or a sitemap) cannot carry."""
    found = NOT_XML.search(str(value or ""))
    if found:
        raise ValidationError(
            "This text contains an invisible control character (U+%(code)04X) that feeds and "
            "sitemaps cannot carry: delete it (retype the text around it) and save again.",
            code="invalid_character",
            params={"code": ord(found.group())},
        )
