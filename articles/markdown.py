"""Article bodies: Markdown in, sanitised HTML out. nh3 decides what survives.

A picture in a body (an <img>, as import_wordpress writes for a post's images) is kept only
when every address it names is the site's own upload (MEDIA_URL): no asset from another host."""

import re

import markdown as markdown_lib
import nh3
from django.conf import settings
from markdown.extensions.smarty import SmartyExtension, SubstituteTextPattern

from newsroom.caching import renderer_version

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "em", "figcaption", "figure", "h2", "h3", "h4",
    "hr", "i", "img", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    # A results run-down from 4th place on ("4. ... 5. ...") keeps its numbers.
    "ol": {"start"},
    "img": {"src", "srcset", "sizes", "alt", "width", "height", "loading", "decoding"},
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


IMAGE_VALUES = {
    "width": re.compile(r"\d{1,5}"),
    "height": re.compile(r"\d{1,5}"),
    "loading": re.compile(r"lazy|eager"),
    "decoding": re.compile(r"async|sync|auto"),
    "sizes": re.compile(r"[\w\s().,:%-]{1,200}"),
}
IMAGE_WITHOUT_SOURCE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


def own_upload(url):
    """Whether `url` is one of the site's own uploads ("/media/..."), never another host's."""
    url = url.strip()
    return url.startswith(settings.MEDIA_URL) and not url.startswith("//") and ".." not in url


def _keep_attribute(tag, attribute, value):
    """nh3's last word on an allowed attribute: a list's start must be a whole number; a
    picture's addresses must be the site's own uploads, its other values plain."""
    if attribute == "start" and not (value.isascii() and value.isdigit()):
        return None
    if tag == "img":
        if attribute == "src":
            return value if own_upload(value) else None
        if attribute == "srcset":
            urls = [part.split()[0] for part in value.split(",") if part.strip()]
            return value if urls and all(map(own_upload, urls)) else None
        pattern = IMAGE_VALUES.get(attribute)
        if pattern is not None and not (value.isascii() and pattern.fullmatch(value)):
            return None
    return value


def render_markdown(text):
    """Sanitised HTML of an article body written in Markdown: tables, fenced code blocks, lists
    that keep their start number, smart quotes; only ALLOWED_TAGS and ALLOWED_ATTRIBUTES stay."""
    html = markdown_lib.markdown(
        text or "",
        extensions=["tables", "sane_lists", "fenced_code", SportsSmartyExtension()],
    )
    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        attribute_filter=_keep_attribute,
    )
    return IMAGE_WITHOUT_SOURCE.sub("", html)  # a picture from elsewhere: nothing of it


# What rendered a stored body: this file and the libraries it calls (see Article.body_renderer).
RENDERER = renderer_version(__file__, "markdown", "nh3")
