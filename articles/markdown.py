"""Article bodies: Markdown in, sanitised HTML out. nh3 decides what survives.

A picture in a body (an <img>, as import_wordpress writes for a post's images, or a library
picture's reference ``[image:12]``, made HTML by articles/library.py before the Markdown) is kept
only when every address it names is the site's own upload (MEDIA_URL): no asset from another host.
`removed_by_sanitiser` tells the editor what did not survive."""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import markdown as markdown_lib
import nh3
from django.conf import settings
from markdown.extensions.smarty import SmartyExtension, SubstituteTextPattern
from markdown.extensions.tables import TableExtension

from newsroom.caching import renderer_version

from . import library

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


def _markdown_html(text):
    return markdown_lib.markdown(
        library.expand(text or ""),
        # Column alignment as the align attribute the sanitiser keeps (not a style it drops).
        extensions=[
            TableExtension(use_align_attribute=True),
            "sane_lists",
            "fenced_code",
            SportsSmartyExtension(),
        ],
    )


URL_SCHEMES = {"http", "https", "mailto"}
# How an editor would name what they typed, for the elements Markdown makes of it.
ELEMENT_NAMES = {"img": "picture", "script": "script", "iframe": "embedded frame"}


class _Removed(HTMLParser):
    """Collects what the sanitiser will drop from Markdown's HTML: elements outside
    ALLOWED_TAGS, attributes outside ALLOWED_ATTRIBUTES, links with another scheme."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            name = ELEMENT_NAMES.get(tag, f"<{tag}> element")
            detail = dict(attrs).get("src") or dict(attrs).get("alt") or ""
            self.found.append(f"a {name}{f' ({detail})' if detail else ''}")
            return
        if tag == "img" and not own_upload(dict(attrs).get("src") or ""):
            detail = dict(attrs).get("src") or dict(attrs).get("alt") or ""
            self.found.append(f"a picture from elsewhere{f' ({detail})' if detail else ''}")
            return
        for attribute, value in attrs:
            if attribute not in ALLOWED_ATTRIBUTES.get(tag, set()):
                self.found.append(f"the {attribute}=… of a <{tag}>")
            elif attribute == "href" and urlsplit(value or "").scheme not in {"", *URL_SCHEMES}:
                self.found.append(f"the link to {value}")

    handle_startendtag = handle_starttag


def removed_by_sanitiser(text):
    """What of the Markdown `text` readers will not get, in words an editor knows, without
    repeats: ["a picture (/media/skater.jpg)", "a script", "the style=… of a <p>"]. Empty
    when everything written is shown."""
    parser = _Removed()
    parser.feed(_markdown_html(text))
    parser.close()
    return list(dict.fromkeys([*library.missing(text), *parser.found]))


def render_markdown(text):
    """Sanitised HTML of an article body written in Markdown: tables, fenced code blocks, lists
    that keep their start number, smart quotes; only ALLOWED_TAGS and ALLOWED_ATTRIBUTES stay."""
    html = _markdown_html(text)
    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=_keep_attribute,
    )
    return IMAGE_WITHOUT_SOURCE.sub("", html)  # a picture from elsewhere: nothing of it


# What rendered a stored body: this file, the library pictures' HTML (articles/library.py) and
# the libraries it calls (see Article.body_renderer).
RENDERER = (
    renderer_version(__file__, "markdown", "nh3")[:8] + renderer_version(library.__file__)[:8]
)
