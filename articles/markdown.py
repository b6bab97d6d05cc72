"""Article bodies: Markdown in, sanitised HTML out. nh3 decides what survives."""

import markdown as markdown_lib
import nh3
from markdown.extensions.smarty import SmartyExtension, SubstituteTextPattern

from newsroom.caching import renderer_version

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3", "h4",
    "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    # A results run-down from 4th place on ("4. ... 5. ...") keeps its numbers.
    "ol": {"start"},
    "td": {"align"},
    "th": {"align", "scope"},
}
# An apostrophe before a two-digit year stands for the missing century: the Games of ’26.
YEAR_ABBREVIATION = r"(?<!\w)'(?=\d{2}(?!\d))"


class SportsSmartyExtension(SmartyExtension):
    """Smart quotes that know a year cut short ('26, '98) takes an apostrophe, not an opening
    quote; Python-Markdown's smarty handles only decades ('80s)."""

    def educateQuotes(self, md):
        super().educateQuotes(md)
        apostrophe = SubstituteTextPattern(
            YEAR_ABBREVIATION, (self.substitutions["right-single-quote"],), md
        )
        # Ahead of every other quote rule (they are registered from priority 30 down).
        self.inlinePatterns.register(apostrophe, "smarty-year-abbreviation", 31)


def _keep_attribute(tag, attribute, value):
    """nh3's last word on an allowed attribute: a list's start must be a whole number."""
    if attribute == "start" and not (value.isascii() and value.isdigit()):
        return None
    return value


def render_markdown(text):
    """Sanitised HTML of an article body written in Markdown: tables, fenced code blocks, lists
    that keep their start number, smart quotes; only ALLOWED_TAGS and ALLOWED_ATTRIBUTES stay."""
    html = markdown_lib.markdown(
        text or "",
        extensions=["tables", "sane_lists", "fenced_code", SportsSmartyExtension()],
    )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        attribute_filter=_keep_attribute,
    )


# What rendered a stored body: this file and the libraries it calls (see Article.body_renderer).
RENDERER = renderer_version(__file__, "markdown", "nh3")
