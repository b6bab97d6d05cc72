"""Moving in from WordPress: a WXR (WordPress eXtended RSS, versions 1.0 to 1.2) export read as
a stream and brought in as stories, sections, tags, staff authors, hero images and comments,
with the site's old addresses kept as OldLinks (301s).

What becomes what:

- a post: a story (title, slug, content as Markdown, excerpt as standfirst, author, dates in
  UTC). ``publish`` -> published, ``future`` -> scheduled, ``draft``, ``pending`` and
  ``private`` -> draft; a password-protected post -> draft too (its content must never reach a
  page, feed or search); ``trash`` and ``auto-draft`` are skipped.
- its first category: the story's section; its other categories and its tags: tags.
- an author: a staff user who cannot log in until given a password, with the display name.
- a featured image (``_thumbnail_id``): the hero image, read from a local copy of
  ``wp-content/uploads`` and validated and rendered like any upload; an image in the text that
  points into ``wp-content/uploads`` (or WordPress.com's file host, see uploads_path) likewise,
  its WebP renditions in the body's HTML.
- a comment: a comment with its thread, date, name, website, email (kept like every other
  commenter's, never shown) and status: approved (1) -> approved, 0 -> pending, spam -> spam,
  trash -> rejected; the IP address is not kept. Pingbacks and trackbacks are skipped.
- everything else (pages, menu items, attachments that are no post's featured image, custom
  post types, unused terms, markup the body format cannot hold) is counted in the report,
  never dropped silently.

Rows brought in keep their WordPress IDs (Article.wordpress_id, Comment.wordpress_id; sections
and tags are matched by slug, authors by login), so importing the same file again changes
nothing and a later export updates what changed, but never over what was done here: a story
saved since its import is left as it is, and an imported comment only ever takes a new status
from WordPress, when no one moderated it here (so an erased commenter's details never come
back); a story or comment deleted here (by an editor, a moderator or a privacy request)
leaves only a keyed hash of its WordPress ID (ErasedImport), by which a later import recognises
it and leaves it out. The whole file is one transaction.

It lives in the comments app because it writes both stories and comments: comments depends on
articles, never the reverse (like seed_demo).
"""

import os
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from urllib.parse import unquote, urlsplit

import defusedxml.ElementTree as SafeET
import markdownify
from bs4 import BeautifulSoup
from bs4 import Comment as HTMLComment
from defusedxml import DefusedXmlException
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.utils.html import format_html
from PIL import Image, ImageOps

from articles.images import (
    HeroImageNotStored,
    delete_files,
    render_hero_image,
    rendition_sizes,
    store_hero_image,
    validate_hero_image,
)
from articles.models import Article, OldLink, Section, Tag
from newsroom.caching import announced_together
from newsroom.slugs import unique_slug

from .models import Comment, ErasedImport, erased_import_key
from .text import imported_name
from .threads import reply_target

WP_NAMESPACE = "wordpress.org/export/"
PREFIXES = {
    "http://purl.org/rss/1.0/modules/content/": "content:",
    "http://purl.org/dc/elements/1.1/": "dc:",
    "http://wellformedweb.org/CommentAPI/": "wfw:",
}
SUPPORTED_VERSIONS = {"1.0", "1.1", "1.2"}
# A field longer than this (characters) is refused: its item is skipped and reported.
MAX_FIELD_CHARS = 2_000_000
UNCATEGORIZED = ("uncategorized", "Uncategorized")
IMPORTED = "imported from WordPress"  # a comment's status_reason until someone moderates it

POST_STATUSES = {
    "publish": Article.Status.PUBLISHED,
    "future": Article.Status.SCHEDULED,
    "draft": Article.Status.DRAFT,
    "pending": Article.Status.DRAFT,
    "private": Article.Status.DRAFT,
}
COMMENT_STATUSES = {
    "1": Comment.Status.APPROVED,
    "approve": Comment.Status.APPROVED,
    "0": Comment.Status.PENDING,
    "hold": Comment.Status.PENDING,
    "spam": Comment.Status.SPAM,
    "trash": Comment.Status.REJECTED,
    "post-trashed": Comment.Status.REJECTED,
}

# Markup the body keeps (as Markdown, or as text inside what is kept).
KEPT_ELEMENTS = {
    "a", "abbr", "acronym", "address", "b", "big", "blockquote", "br", "caption", "cite",
    "code", "dd", "del", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s",
    "samp", "small", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "tt", "u", "ul", "var", "html", "body", "[document]", "section",
    "article", "header", "footer", "main", "center", "font", "time",
}  # fmt: skip
# Markup whose content is dropped with it (it is code, or a player or form, not text).
DROPPED_WITH_CONTENT = {
    "script", "style", "iframe", "object", "embed", "form", "input", "button", "select",
    "textarea", "video", "audio", "source", "track", "svg", "math", "noscript", "canvas",
    "applet", "frame", "frameset", "link", "meta", "template", "head", "title", "map", "area",
}  # fmt: skip
# The elements wpautop never wraps in a paragraph or breaks lines around.
AUTOP_BLOCKS = (
    "table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|"
    "area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|"
    "hgroup|header|footer|nav|figure|figcaption|details|menu|summary|audio|video|iframe"
)
SHORTCODE = re.compile(r"\[(/?)([a-z][a-z0-9_-]*)((?:\s[^\]]*)?)\](?!\()")
KNOWN_SHORTCODES = {
    "audio", "caption", "embed", "gallery", "playlist", "video", "wp_caption", "code",
    "sourcecode", "youtube", "vimeo", "twitter", "instagram", "googlemaps", "soundcloud",
}  # fmt: skip
SAFE_SCHEMES = ("http", "https", "mailto")


class WordPressImportError(Exception):
    """The file was refused: nothing was stored. The message says why (with the line and
    column for a file that is not well-formed XML)."""


# --- The report ------------------------------------------------------------------------------


@dataclass
class Report:
    """What an import did (or, in a dry run, would do): per kind of row ("story", "section",
    "tag", "author", "comment", "hero image", "old link") how many were created, updated or
    unchanged; per reason how many things were skipped; and notes on single items."""

    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    notes: list = field(default_factory=list)

    KINDS = (
        "stories",
        "sections",
        "tags",
        "authors",
        "comments",
        "hero images",
        "images in text",
        "old links",
    )

    def count(self, kind, created=False, changed=True):
        if created:
            self.created[kind] += 1
        elif changed:
            self.updated[kind] += 1
        else:
            self.unchanged[kind] += 1

    def skip(self, reason, note=None, amount=1):
        self.skipped[reason] += amount
        if note:
            self.notes.append(note)

    def lines(self, max_notes=200):
        """The report as lines of text, the same for a dry run and a real one."""
        lines = []
        for kind in self.KINDS:
            lines.append(
                f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, "
                f"{self.unchanged[kind]} unchanged"
            )
        lines.append(f"Not imported or not kept ({sum(self.skipped.values())}):")
        lines += [f"  {reason}: {n}" for reason, n in sorted(self.skipped.items())] or ["  none"]
        if self.notes:
            lines.append("Details:")
            lines += [f"  {note}" for note in self.notes[:max_notes]]
            if len(self.notes) > max_notes:
                lines.append(f"  ... and {len(self.notes) - max_notes} more")
        return lines


# --- Reading the file ------------------------------------------------------------------------


def _local(tag):
    """An element's name with its WXR namespace as a short prefix: "wp:post_id", "title"."""
    if not tag.startswith("{"):
        return tag
    namespace, name = tag[1:].split("}", 1)
    if WP_NAMESPACE in namespace:
        return f"excerpt:{name}" if namespace.rstrip("/").endswith("excerpt") else f"wp:{name}"
    return PREFIXES.get(namespace, "") + name


class Node:
    """An element of the export with namespaces shortened: text of children by name."""

    def __init__(self, element):
        self.element = element

    def text(self, name, default=""):
        for child in self.element:
            if _local(child.tag) == name:
                value = (child.text or "").strip() if name != "content:encoded" else child.text
                return value or default
        return default

    def children(self, name):
        return [Node(child) for child in self.element if _local(child.tag) == name]

    def attribute(self, name):
        return self.element.get(name, "")


def too_long(node):
    """The name of the first field of an item (its comments' fields included) longer than
    MAX_FIELD_CHARS, or None."""
    for element in node.element.iter():
        if element.text and len(element.text) > MAX_FIELD_CHARS:
            return _local(element.tag)
    return None


def read_export(path):
    """Yield ("version" | "author" | "category" | "tag" | "term" | "item", Node) as the
    export is read, in file order, each element freed once handled (constant memory).

    Raises WordPressImportError for a file that is not well-formed XML (with line and column),
    declares entities or external references (refused: entity expansion and external files
    are how an XML file attacks its reader), or is not a WXR export."""
    seen_rss = False
    channel = None
    depth = 0
    try:
        for event, element in SafeET.iterparse(
            str(path), events=("start", "end"), forbid_dtd=False, forbid_entities=True
        ):
            name = _local(element.tag)
            if event == "start":
                depth += 1
                if depth == 1 and name != "rss":
                    raise WordPressImportError(
                        f"This is not a WordPress export: its root element is <{name}>, not <rss>."
                    )
                seen_rss = True
                if depth == 2 and name == "channel":
                    channel = element
                continue
            depth -= 1
            if depth != 2 or channel is None:
                continue
            kind = {
                "wp:wxr_version": "version",
                "wp:author": "author",
                "wp:category": "category",
                "wp:tag": "tag",
                "wp:term": "term",
                "item": "item",
                "wp:base_blog_url": "base",
                "link": "base",
            }.get(name)
            if kind is None:
                continue
            yield kind, Node(element)
            channel.remove(element)
    except SafeET.ParseError as error:
        line, column = error.position
        raise WordPressImportError(
            f"{path} is not well-formed XML at line {line}, column {column + 1}: "
            f"{str(error).split(':')[0]}. Nothing was imported."
        ) from None
    except DefusedXmlException as error:
        raise WordPressImportError(
            f"{path} was refused: it declares XML entities or external references "
            f"({type(error).__name__}), which a WordPress export never needs. "
            "Nothing was imported."
        ) from None
    if not seen_rss:
        raise WordPressImportError(f"{path} is empty. Nothing was imported.")


def parse_gmt(value):
    """A WXR date ("2013-01-11 20:22:19", UTC) as an aware datetime, or None when empty or
    WordPress's "0000-00-00 00:00:00"."""
    if not value or value.startswith("0000"):
        return None
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


# --- Content ---------------------------------------------------------------------------------


def autop(html):
    """WordPress's wpautop, as WordPress shows a classic-editor post: text separated by blank
    lines becomes paragraphs and a single newline a line break, never around or inside block
    markup (tables, lists, headings). <pre> is left as it is."""
    kept = []

    def keep(match):
        kept.append(match.group(0))
        return f"<pre>\x00{len(kept) - 1}\x00</pre>"

    html = re.sub(r"<pre[\s>].*?</pre>", keep, html, flags=re.DOTALL | re.IGNORECASE)
    html = re.sub(r"<!--.*?-->", "", html.replace("\r\n", "\n"), flags=re.DOTALL)
    html = re.sub(rf"(<(?:{AUTOP_BLOCKS})[\s/>])", r"\n\n\1", html, flags=re.IGNORECASE)
    html = re.sub(rf"(</(?:{AUTOP_BLOCKS})>)", r"\1\n\n", html, flags=re.IGNORECASE)
    paragraphs = [f"<p>{chunk.strip()}</p>" for chunk in re.split(r"\n\s*\n", html)]
    html = "\n".join(p for p in paragraphs if p != "<p></p>")
    block_tag = rf"</?(?:{AUTOP_BLOCKS})(?:[\s/][^>]*)?>"
    html = re.sub(rf"<p>\s*({block_tag})", r"\1", html, flags=re.IGNORECASE)
    html = re.sub(rf"({block_tag})\s*</p>", r"\1", html, flags=re.IGNORECASE)
    html = re.sub(r"(?<!>)\n(?!<)", "<br>\n", html)
    html = re.sub(rf"({block_tag})\s*<br>", r"\1", html, flags=re.IGNORECASE)
    html = re.sub(rf"<br>(\s*{block_tag})", r"\1", html, flags=re.IGNORECASE)
    return re.sub(r"<pre>\x00(\d+)\x00</pre>", lambda m: kept[int(m.group(1))], html)


def strip_shortcodes(html, problems):
    """Shortcodes out: a caption keeps its picture and text; any other known shortcode (a
    gallery, an embed) is removed and counted in `problems` (a Counter)."""

    def replace(match):
        closing, name, _attributes = match.groups()
        if name not in KNOWN_SHORTCODES:
            return match.group(0)
        if name not in ("caption", "wp_caption") and not closing:
            problems[f"[{name}] shortcode"] += 1
        return ""

    return SHORTCODE.sub(replace, html)


def safe_link(url):
    scheme = urlsplit(url.strip()).scheme.lower() if url else ""
    return not scheme or scheme in SAFE_SCHEMES


def html_to_markdown(html, keep_image=None):
    """(markdown, problems): WordPress post content as the Markdown body stories use, and a
    Counter of what could not be kept ("<script> element", "[gallery] shortcode", "image in
    the text", "event handler attribute", "javascript: link"...). Headings, lists, links,
    quotes, tables and code are kept; headings move down a level where needed (the story's
    title is the page's only h1). An image is kept when `keep_image(src, alt)` returns the
    HTML of its local copy (which then stands where it stood); otherwise it is left out, and
    counted unless `keep_image` was given (it reports what it refused)."""
    problems = Counter()
    if not html or not html.strip():
        return "", problems
    html = autop(strip_shortcodes(html, problems))
    soup = BeautifulSoup(html, "html.parser")
    images = {}  # placeholder word -> the kept image's HTML, put back after markdownify
    for comment in soup.find_all(string=lambda text: isinstance(text, HTMLComment)):
        comment.extract()
    for element in soup.find_all(True):
        if element.decomposed:
            continue
        name = element.name.lower()
        for attribute in list(element.attrs):
            if attribute.lower().startswith("on"):
                problems["event handler attribute"] += 1
                del element[attribute]
        if name in DROPPED_WITH_CONTENT:
            problems[f"<{name}> element"] += 1
            element.decompose()
        elif name == "img":
            kept = (
                keep_image(element.get("src", ""), element.get("alt", "")) if keep_image else None
            )
            if kept:
                placeholder = f"WPIMAGE{len(images)}X{secrets.token_hex(6)}"
                images[placeholder] = kept
                element.replace_with(placeholder)
            else:
                if keep_image is None:
                    problems["image in the text"] += 1
                element.decompose()
        elif name == "a" and not safe_link(element.get("href", "")):
            problems["link that is not http(s) or mailto"] += 1
            element.unwrap()
        elif name not in KEPT_ELEMENTS:
            problems[f"<{name}> element (its text kept)"] += 1
            element.unwrap()
    outline(soup)
    # Text that reads "<em>" (a post about HTML) stays text: Markdown would take it for markup.
    for text in soup.find_all(string=re.compile("<")):
        if not text.find_parent(["code", "pre"]):
            text.replace_with(text.replace("<", "&lt;"))
    markdown = markdownify.markdownify(
        str(soup), heading_style="ATX", bullets="-", strip=["span", "div", "font"]
    )
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip()
    for placeholder, kept in images.items():  # inline HTML: the body's sanitiser checks it
        markdown = markdown.replace(placeholder, kept)
    return markdown, problems


def outline(soup):
    """Headings as the page needs them under the story's title (its one h1): the body's
    highest level becomes h2, no heading is more than one level below the one before it, and
    none is below h4 (the body format has h2 to h4)."""
    headings = soup.find_all(re.compile(r"^h[1-6]$"))
    top = min((int(h.name[1]) for h in headings), default=2)
    previous = 1
    for heading in headings:
        level = min(int(heading.name[1]) - top + 2, previous + 1, 4)
        heading.name = f"h{level}"
        previous = level


def html_to_text(html, limit=None):
    """WordPress HTML (a comment, an excerpt) as plain text with its paragraphs and line breaks;
    at most `limit` characters, cut at a word."""
    soup = BeautifulSoup(autop(strip_shortcodes(html or "", Counter())), "html.parser")
    for element in soup.find_all(DROPPED_WITH_CONTENT):
        element.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for paragraph in soup.find_all(["p", "li", "blockquote", "div", "h1", "h2", "h3", "h4"]):
        paragraph.append("\n\n")
    text = re.sub(r"[ \t]+", " ", soup.get_text())
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if limit and len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0].rstrip() + "…"
    return text


# --- Importing -------------------------------------------------------------------------------


def _cut(text, length, label, report, note):
    if len(text) > length:
        report.skip(f"{label} cut to {length} characters", note)
        return text[: length - 1].rstrip() + "…"
    return text


def uploads_path(url):
    """The path of a WordPress upload inside ``wp-content/uploads`` ("2024/01/x.jpg"), or None
    for a URL that is not one. Two forms are uploads: ``https://any.host/wp-content/uploads/...``
    (a self-hosted site, under any of its names) and WordPress.com's file host,
    ``https://<site>.files.wordpress.com/2008/06/x.jpg`` (its path is the uploads path). The
    query (WordPress.com's ``?w=604`` resizing) is ignored."""
    parts = urlsplit(url.strip())
    path = unquote(parts.path)
    if "/wp-content/uploads/" in path:
        return path.split("/wp-content/uploads/", 1)[1].lstrip("/")
    host = (parts.hostname or "").lower()
    if host.endswith(".files.wordpress.com") and path.strip("/"):
        return path.lstrip("/")
    return None


def wp_id(text):
    """A WordPress ID (a whole number, 1 or more) from its text, or 0 when it is not one."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else 0


def _username(login):
    name = re.sub(r"[^\w.@+-]", "-", login or "").strip("-")[:150]
    return name or "wordpress-author"


def old_path(url_or_path):
    """The decoded path of an old link ("https://site/2013/01/x/" -> "/2013/01/x/"), or ""."""
    if not url_or_path:
        return ""
    parts = urlsplit(url_or_path.strip())
    path = unquote(parts.path or "/")
    if parts.query:
        return f"{path}?{unquote(parts.query)}"
    return path if path.startswith("/") else f"/{path}"


class Importer:
    """One import of one export file. Use `run()`; the caller holds the transaction."""

    def __init__(self, path, *, uploads=None, dry_run=False, progress=None):
        self.path = Path(path)
        self.uploads = Path(uploads).resolve() if uploads else None
        self.dry_run = dry_run
        self.progress = progress or (lambda: None)
        self.report = Report()
        self.version = None
        self.authors = {}  # username -> User
        self.author_rows = {}  # login -> Node, as declared at the top of the export
        self.categories = {}  # nicename -> (name, parent nicename)
        self.category_ids = {}  # nicename -> WordPress term id (a str of digits)
        self.terms_used = set()
        self.declared_terms = {}  # ("category" | "tag", nicename) -> name
        self.sections = {}  # nicename -> Section
        self.tags = {}  # nicename -> Tag
        self.attachments = {}  # WordPress id -> (relative path, alt, caption)
        self.featured = []  # (Article pk, attachment id): ids only, however many posts
        self.stored_files = []
        self.linked = {}  # old path -> True, once claimed in this import (see old_link)
        self.weak_links = {}  # old path -> Tag (see old_link)
        self.content_images = {}  # uploads-relative path -> renditions (None: refused)
        # Keyed hashes of imported comments deleted here since (few: read once).
        self.erased = set(ErasedImport.objects.values_list("key", flat=True))

    # The file, element by element.

    def run(self):
        """Import the file; returns the Report. Raises WordPressImportError (nothing stored)."""
        try:
            for kind, node in read_export(self.path):
                if kind != "version" and kind != "base" and self.version is None:
                    raise WordPressImportError(
                        f"{self.path} is not a WordPress export: it has no <wp:wxr_version> "
                        "before its content. Nothing was imported."
                    )
                getattr(self, f"read_{kind}")(node)
            if self.version is None:
                raise WordPressImportError(
                    f"{self.path} is not a WordPress export: it has no <wp:wxr_version>. "
                    "Nothing was imported."
                )
            for path, tag in self.weak_links.items():
                self.old_link(path, tag=tag)
            self.import_featured_images()
            self.count_unused()
        except BaseException:
            delete_files(self.stored_files)  # the transaction rolls back: no row points at them
            raise
        return self.report

    def read_base(self, node):
        pass

    def read_version(self, node):
        version = (node.element.text or "").strip()
        if version not in SUPPORTED_VERSIONS:
            raise WordPressImportError(
                f"This export is WXR version {version or '(none)'}; versions 1.0 to 1.2 can be "
                "imported. Nothing was imported."
            )
        self.version = version

    def read_author(self, node):
        self.author_rows[node.text("wp:author_login")] = node

    def read_category(self, node):
        nicename = unquote(node.text("wp:category_nicename"))
        self.categories[nicename] = (node.text("wp:cat_name"), node.text("wp:category_parent"))
        self.declared_terms[("category", nicename)] = node.text("wp:cat_name")
        if node.text("wp:term_id").isdigit():
            self.category_ids[nicename] = node.text("wp:term_id")

    def read_tag(self, node):
        nicename = unquote(node.text("wp:tag_slug"))
        self.declared_terms[("tag", nicename)] = node.text("wp:tag_name")

    def read_term(self, node):
        taxonomy = node.text("wp:term_taxonomy") or "unknown"
        if taxonomy not in ("category", "post_tag"):
            self.report.skip(f"term of taxonomy {taxonomy}")

    def read_item(self, node):
        self.progress()
        field_name = too_long(node)
        if field_name:
            self.report.skip(
                "item with a field too long to import",
                f"item {node.text('wp:post_id') or '(no id)'}: its {field_name} is over "
                f"{MAX_FIELD_CHARS:,} characters",
            )
            return
        post_type = node.text("wp:post_type") or "post"
        if post_type == "attachment":
            self.read_attachment(node)
        elif post_type == "post":
            self.import_post(node)
        else:
            self.report.skip(f"{post_type} (no such kind of page here)")
            comments = len(node.children("wp:comment"))
            if comments:
                self.report.skip(f"comment on a {post_type}", amount=comments)

    # Authors, sections, tags.

    def author(self, login):
        username = _username(login)
        if username in self.authors:
            return self.authors[username]
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is not None:
            self.report.count("authors", changed=False)
        else:
            row = self.author_rows.get(login)
            display = row.text("wp:author_display_name") if row else ""
            first = row.text("wp:author_first_name") if row else ""
            last = row.text("wp:author_last_name") if row else ""
            if display and f"{first} {last}".strip() != display:
                first, _, last = display.rpartition(" ")
                first, last = (first, last) if first else (last, "")
            email = row.text("wp:author_email") if row else ""
            try:
                EmailValidator()(email)
            except ValidationError:
                email = ""
            user = User(
                username=username,
                first_name=first[:150],
                last_name=last[:150],
                email=email,
                is_staff=True,
            )
            user.set_unusable_password()
            user.save()
            self.report.count("authors", created=True)
        self.authors[username] = user
        return user

    def section(self, nicename, name):
        if nicename in self.sections:
            return self.sections[nicename]
        section = (
            Section.objects.filter(slug=nicename).first()
            or Section.objects.filter(name__iexact=name).first()
        )
        created = section is None
        if created:
            section = Section(
                name=name[:80], slug=unique_slug(Section, nicename or name, fallback="section")
            )
            section.save()
        self.report.count("sections", created=created, changed=False)
        self.sections[nicename] = section
        self.old_link(f"/category/{self.category_path(nicename)}/", section=section)
        if nicename in self.category_ids:
            self.old_link(f"/?cat={self.category_ids[nicename]}", section=section)
        return section

    def category_path(self, nicename):
        path, seen = [nicename], {nicename}
        parent = self.categories.get(nicename, ("", ""))[1]
        while parent and parent not in seen:
            path.insert(0, parent)
            seen.add(parent)
            parent = self.categories.get(parent, ("", ""))[1]
        return "/".join(path)

    def tag(self, nicename, name, old_prefix):
        key = (old_prefix, nicename)
        if key in self.tags:
            return self.tags[key]
        tag = (
            Tag.objects.filter(slug=nicename).first()
            or Tag.objects.filter(name__iexact=name).first()
        )
        created = tag is None
        if created:
            tag = Tag(name=name[:80], slug=unique_slug(Tag, nicename or name, fallback="tag"))
            tag.save()
        if created or not any(t.pk == tag.pk for t in self.tags.values()):
            self.report.count("tags", created=created, changed=False)
        self.tags[key] = tag
        if old_prefix == "tag":
            self.old_link(f"/tag/{nicename}/", tag=tag)
            self.old_link(f"/?tag={nicename}", tag=tag)
        else:
            self.old_link(f"/category/{self.category_path(nicename)}/", tag=tag, weak=True)
            if nicename in self.category_ids:
                self.old_link(f"/?cat={self.category_ids[nicename]}", tag=tag, weak=True)
        return tag

    def old_link(self, path, *, article=None, section=None, tag=None, weak=False):
        """Point the old address `path` at a story, section or tag. Within one import the first
        claim wins; a `weak` one (a category that became a tag) waits for the end of the file
        and is made only if no section claimed the address."""
        if not path or path in ("/", "/?") or path in self.linked:
            return
        if weak:
            self.weak_links.setdefault(path, tag)
            return
        self.linked[path] = True
        target = {"article": article, "section": section, "tag": tag}
        target_url = (article or section or tag).get_absolute_url()
        if path == target_url or len(path) > OldLink._meta.get_field("path").max_length:
            return
        link = OldLink.objects.filter(path=path).first()
        if link is None:
            OldLink.objects.create(path=path, **target)
            self.report.count("old links", created=True)
        elif (link.article_id, link.section_id, link.tag_id) != tuple(
            getattr(t, "pk", None) for t in target.values()
        ):
            for name, value in target.items():
                setattr(link, name, value)
            link.save()
            self.report.count("old links")
        else:
            self.report.count("old links", changed=False)

    # Posts.

    def import_post(self, node):
        post_id = wp_id(node.text("wp:post_id"))
        title_text = node.text("title") or "(untitled)"
        label = f"post {post_id} “{title_text[:60]}”"
        if not post_id:
            self.report.skip("post without a WordPress ID", label)
            return
        if self.erased and erased_import_key("post", post_id) in self.erased:
            self.report.skip("story deleted here since its import: not brought back", label)
            comments = len(node.children("wp:comment"))
            if comments:
                self.report.skip("comment on a post that was not imported", amount=comments)
            return
        wp_status = node.text("wp:status") or "draft"
        if wp_status not in POST_STATUSES:
            self.report.skip(f"post with status {wp_status}", label)
            comments = len(node.children("wp:comment"))
            if comments:
                self.report.skip("comment on a post that was not imported", amount=comments)
            return
        status = POST_STATUSES[wp_status]
        if node.text("wp:post_password"):
            status = Article.Status.DRAFT
            self.report.skip(
                "password-protected post imported as a draft",
                f"{label}: password-protected, imported as a draft (never public)",
            )
        elif wp_status in ("private", "pending"):
            self.report.skip(f"{wp_status} post imported as a draft")
        if node.text("wp:is_sticky") == "1":
            self.report.skip("sticky flag (stories are not pinned here)")

        published_at = parse_gmt(node.text("wp:post_date_gmt")) or parse_gmt(
            node.text("wp:post_date")
        )
        if status != Article.Status.DRAFT and published_at is None:
            status = Article.Status.DRAFT
            self.report.skip("post without a date imported as a draft", label)

        body, problems = html_to_markdown(
            node.text("content:encoded"), partial(self.content_image, label=label)
        )
        for problem, count in problems.items():
            self.report.skip(f"in post content: {problem}", amount=count)
        if problems:
            self.report.notes.append(
                f"{label}: not kept: "
                + ", ".join(f"{count} × {problem}" for problem, count in sorted(problems.items()))
            )
        standfirst = (
            html_to_text(node.text("excerpt:encoded"), 600)
            or html_to_text(node.text("content:encoded").split("<!--more-->")[0], 300).split(
                "\n\n"
            )[0][:300]
        )

        categories, tags = [], []
        for term in node.children("category"):
            domain, nicename = term.attribute("domain"), unquote(term.attribute("nicename"))
            name = (term.element.text or "").strip() or nicename
            if domain == "category":
                categories.append((nicename, name))
            elif domain == "post_tag":
                tags.append((nicename, name, "tag"))
            else:
                self.report.skip(f"post's {domain or 'unknown'} term")
            self.terms_used.add(("category" if domain == "category" else "tag", nicename))
        primary = categories[0] if categories else UNCATEGORIZED
        section = self.section(*primary)
        tags += [(nicename, name, "category") for nicename, name in categories[1:]]

        values = {
            "title": _cut(title_text, 200, "title", self.report, label),
            "standfirst": standfirst,
            "body": body,
            "author": self.author(node.text("dc:creator")),
            "section": section,
            "status": status,
            "published_at": published_at,
            "comments_closed": node.text("wp:comment_status") == "closed",
        }
        article = Article.objects.filter(wordpress_id=post_id).first()
        created = article is None
        if not created and article.updated_at != article.wordpress_synced_at:
            self.report.skip("story edited here since its import: kept as it is", label)
            self.report.count("stories", changed=False)
            self.post_links(article, node, unquote(node.text("wp:post_name")), published_at)
            self.import_comments(article, node, label)
            return
        if created:
            slug_source = unquote(node.text("wp:post_name")) or title_text
            article = Article(wordpress_id=post_id, **values)
            article.slug = unique_slug(Article, slug_source, fallback=article.slug_fallback())
            changed = True
        else:
            changed = any(
                getattr(article, f"{name}_id" if name in ("author", "section") else name)
                != (value.pk if name in ("author", "section") else value)
                for name, value in values.items()
            )
            for name, value in values.items():
                setattr(article, name, value)
        if changed:
            self.save_story(article)
        tag_rows = [self.tag(*tag) for tag in tags]
        wanted = {tag.pk for tag in tag_rows}
        if set(article.tags.values_list("pk", flat=True)) != wanted:
            article.tags.set(wanted)
            changed = True
        self.report.count("stories", created=created, changed=changed)

        for meta in node.children("wp:postmeta"):
            key, value = meta.text("wp:meta_key"), meta.text("wp:meta_value")
            if key == "_thumbnail_id" and wp_id(value):
                self.featured.append((article.pk, wp_id(value)))
            elif key == "_wp_old_slug" and value:
                self.post_links(article, node, unquote(value), published_at)
        self.post_links(article, node, unquote(node.text("wp:post_name")), published_at)
        self.import_comments(article, node, label)

    def save_story(self, article):
        """Save a story and note that this save is the import's: a later import leaves the
        story alone once it has been saved by anyone else (its updated_at moved on)."""
        article.save()
        Article.objects.filter(pk=article.pk).update(wordpress_synced_at=article.updated_at)
        article.wordpress_synced_at = article.updated_at

    def post_links(self, article, node, slug, published_at):
        """Every old address of a post: /?p=ID, its <link>, /slug/ and /YYYY/MM/DD/slug/."""
        self.old_link(f"/?p={node.text('wp:post_id')}", article=article)
        if node.text("link") and urlsplit(node.text("link")).path not in ("", "/"):
            self.old_link(old_path(node.text("link")), article=article)
        if slug:
            self.old_link(f"/{slug}/", article=article)
            local = parse_gmt(node.text("wp:post_date")) or published_at
            if local:
                self.old_link(f"/{local:%Y/%m/%d}/{slug}/", article=article)

    # Comments.

    def import_comments(self, article, node, label):
        rows = {}
        for comment in node.children("wp:comment"):
            comment_type = comment.text("wp:comment_type") or "comment"
            comment_id = wp_id(comment.text("wp:comment_id"))
            if comment_type in ("pingback", "trackback"):
                self.report.skip(comment_type)
                continue
            if comment_type != "comment":
                self.report.skip(f"comment of type {comment_type}")
                continue
            approved = comment.text("wp:comment_approved") or "0"
            if approved not in COMMENT_STATUSES:
                self.report.skip(f"comment with status {approved}")
                continue
            if not comment_id:
                self.report.skip("comment without a WordPress ID")
                continue
            if self.erased and erased_import_key("comment", comment_id) in self.erased:
                self.report.skip("comment deleted here since its import: not brought back")
                continue
            rows[comment_id] = comment
        done = {}
        pending = dict(rows)
        while pending:
            progressed = False
            for comment_id, comment in list(pending.items()):
                parent_id = wp_id(comment.text("wp:comment_parent"))
                if parent_id in pending and parent_id != comment_id:
                    continue  # its parent first
                parent = done.get(parent_id)
                if parent is None and parent_id:
                    parent = Comment.objects.filter(wordpress_id=parent_id, article=article).first()
                    if parent is None:
                        self.report.skip("reply to a comment not imported, kept at the top level")
                if parent is not None:
                    target = reply_target(parent)
                    if target != parent:
                        self.report.skip("reply deeper than threads go here, moved up a level")
                    parent = target
                done[comment_id] = self.import_comment(article, comment, comment_id, parent, label)
                del pending[comment_id]
                progressed = True
            if not progressed:  # a cycle of parents: break it at the top level
                comment_id, comment = next(iter(pending.items()))
                done[comment_id] = self.import_comment(article, comment, comment_id, None, label)
                del pending[comment_id]

    def import_comment(self, article, node, comment_id, parent, label):
        note = f"comment {comment_id} on {label}"
        email = node.text("wp:comment_author_email")
        try:
            EmailValidator()(email) if email else None
        except ValidationError:
            email = ""
            self.report.skip("comment email that is not an address", note)
        website = node.text("wp:comment_author_url")
        if website:
            try:
                URLValidator(schemes=["http", "https"])(website)
                if len(website) > 200:
                    raise ValidationError("too long")
            except ValidationError:
                website = ""
                self.report.skip("comment website that is not an http(s) address", note)
        values = {
            "article": article,
            "parent": parent,
            # Never an invisible name: text.py's rule, made to fit instead of refused.
            "name": _cut(
                imported_name(node.text("wp:comment_author")),
                80,
                "commenter name",
                self.report,
                note,
            ),
            "email": email[:254],
            "website": website,
            "body": html_to_text(node.text("wp:comment_content")) or "(empty)",
            "status": COMMENT_STATUSES[node.text("wp:comment_approved") or "0"],
        }
        created_at = parse_gmt(node.text("wp:comment_date_gmt")) or parse_gmt(
            node.text("wp:comment_date")
        )
        comment = Comment.objects.filter(wordpress_id=comment_id).first()
        if comment is not None:
            return self.update_comment(comment, values["status"], note)
        comment = Comment(wordpress_id=comment_id, status_reason=IMPORTED, **values)
        comment.save()
        if created_at:
            comment.created_at = created_at
            comment.store_card(created_at=created_at)  # the card shows the date
        self.report.count("comments", created=True)
        return comment

    def update_comment(self, comment, status, note):
        """A comment imported before: only a status WordPress changed is taken, and only when
        no one moderated the comment here. Nothing else is rewritten, so what a moderator
        decided and what a privacy request erased (name, email, website) never come back."""
        if comment.status == status:
            self.report.count("comments", changed=False)
        elif comment.moderated_at is not None or comment.status_reason != IMPORTED:
            self.report.skip("comment moderated here since its import: its status kept", note)
            self.report.count("comments", changed=False)
        else:
            comment.status = status
            comment.save(update_fields=["status"])
            self.report.count("comments")
        return comment

    # Attachments and hero images.

    def content_image(self, src, alt, *, label):
        """The HTML of the local copy of an image in a post's text (see html_to_markdown), or
        None when it is not brought in, reported with the reason and the image named: one
        from another site, or missing from --uploads, or refused by the upload checks."""
        relative = uploads_path(src)
        note = f"{label}: {src[:200] or '(no src)'}" + (f" “{alt[:80]}”" if alt else "")
        if relative is None:
            self.report.skip("image in the text from elsewhere: not brought in", note)
            return None
        if self.uploads is None:
            self.report.skip("image in the text not brought in: no --uploads folder given", note)
            return None
        file_path = (self.uploads / relative).resolve()
        if not relative or not file_path.is_relative_to(self.uploads) or not file_path.is_file():
            self.report.skip("image in the text missing from the uploads", note)
            return None
        if relative not in self.content_images:
            try:
                self.content_images[relative] = self.store_content_image(relative, file_path)
            except ValidationError as error:
                self.content_images[relative] = None
                self.report.skip("image in the text refused", f"{note}: {' '.join(error.messages)}")
            except HeroImageNotStored as error:
                raise WordPressImportError(f"{note}: {error} Nothing was imported.") from error
        renditions = self.content_images[relative]
        if renditions is None:
            return None
        largest = renditions[-1]
        return format_html(
            '<img src="{}" srcset="{}" sizes="(min-width: 48em) 48em, 100vw" width="{}" '
            'height="{}" alt="{}" loading="lazy" decoding="async">',
            default_storage.url(largest["name"]),
            ", ".join(f"{default_storage.url(r['name'])} {r['width']}w" for r in renditions),
            largest["width"],
            largest["height"],
            alt.strip(),
        )

    def store_content_image(self, relative, file_path):
        """Store the upload at `file_path` (validated and rendered like any upload) as WebP
        renditions named after its place in wp-content/uploads ("wordpress/2024/01/x-640w.webp"),
        once: an image stored by an earlier import is used again as it is, so a second import
        writes the same body. Returns the renditions list, smallest first; counted in the
        report. A dry run stores nothing. Raises ValidationError when it is refused."""
        stem = "wordpress/" + os.path.splitext(relative)[0]
        with file_path.open("rb") as handle:
            upload = File(handle, name=file_path.name)
            validate_hero_image(upload)
            with Image.open(file_path) as image:
                width, height = ImageOps.exif_transpose(image).size
            names = [
                {"name": f"{stem}-{w}w.webp", "width": w, "height": h}
                for w, h in rendition_sizes(width, height)
            ]
            if all(default_storage.exists(r["name"]) for r in names):
                self.report.count("images in text", changed=False)
                return names
            rendered = render_hero_image(upload, file_path.name)
        renditions = []
        for width, height, data in rendered.renditions:
            name = f"{stem}-{width}w.webp"
            if not self.dry_run:
                try:
                    default_storage.delete(name)  # a half-stored earlier attempt
                    name = default_storage.save(name, ContentFile(data))
                except OSError as error:
                    raise HeroImageNotStored(error) from error
                self.stored_files.append(name)
            renditions.append({"name": name, "width": width, "height": height})
        self.report.count("images in text", created=True)
        return renditions

    def read_attachment(self, node):
        url = node.text("wp:attachment_url")
        relative = ""
        for meta in node.children("wp:postmeta"):
            if meta.text("wp:meta_key") == "_wp_attached_file":
                relative = meta.text("wp:meta_value")
        if not relative and url:
            # A file elsewhere: its path is the best guess at its place in the uploads.
            relative = uploads_path(url) or unquote(urlsplit(url).path).lstrip("/")
        alt = next(
            (
                meta.text("wp:meta_value")
                for meta in node.children("wp:postmeta")
                if meta.text("wp:meta_key") == "_wp_attachment_image_alt"
            ),
            "",
        )
        self.attachments[wp_id(node.text("wp:post_id"))] = (
            relative,
            alt or node.text("title"),
            html_to_text(node.text("excerpt:encoded"), 300),
        )

    def import_featured_images(self):
        for article_pk, attachment_id in self.featured:
            article = Article.objects.get(pk=article_pk)
            note = f"featured image {attachment_id} of story “{article.title[:60]}”"
            if attachment_id not in self.attachments:
                self.report.skip("featured image not in the export", note)
                continue
            if article.hero_image:
                self.report.count("hero images", changed=False)
                continue
            if self.uploads is None:
                self.report.skip("featured image not imported: no --uploads folder given")
                continue
            relative, alt, caption = self.attachments[attachment_id]
            file_path = (self.uploads / relative).resolve()
            if not relative or not file_path.is_relative_to(self.uploads):
                self.report.skip("featured image with a path outside the uploads", note)
                continue
            if not file_path.is_file():
                self.report.skip(
                    "featured image missing from the uploads",
                    f"{note}: {relative} is not in {self.uploads}",
                )
                continue
            try:
                with file_path.open("rb") as handle:
                    upload = File(handle, name=file_path.name)
                    validate_hero_image(upload)
                    rendered = render_hero_image(upload, file_path.name)
            except ValidationError as error:
                self.report.skip("featured image refused", f"{note}: {' '.join(error.messages)}")
                continue
            article.hero_alt = _cut(alt or article.title, 250, "image alt text", self.report, note)
            article.hero_caption = caption[:300]
            if not self.dry_run:
                renditions, stored = store_hero_image(article, rendered)
                self.stored_files += stored
                article.hero_renditions = renditions
            self.save_story(article)
            self.report.count("hero images", created=True)

    def count_unused(self):
        used = {attachment_id for _article_pk, attachment_id in self.featured}
        used |= {  # and those brought in as images in a post's text
            attachment_id
            for attachment_id, (relative, _alt, _caption) in self.attachments.items()
            if self.content_images.get(relative)
        }
        unused = len(set(self.attachments) - used)
        if unused:
            self.report.skip(
                "attachment that is no story's featured image nor in a text", amount=unused
            )
        for kind, nicename in self.declared_terms:
            if (kind, nicename) not in self.terms_used:
                self.report.skip(f"{kind} no imported post uses")


def import_wordpress(path, *, uploads=None, dry_run=False, progress=None):
    """Import the WXR export at `path` (a str or Path) in one transaction; returns a Report.

    `uploads`: a local copy of wp-content/uploads for featured images (None: none imported,
    and that is reported). `dry_run`: everything is checked and counted, then rolled back (no
    file is stored). `progress`: called with no argument after each item. Raises
    WordPressImportError when the file is refused; then nothing is stored."""
    # One purge of everything the import touched, after its commit (not one per row).
    with transaction.atomic(), announced_together():
        importer = Importer(path, uploads=uploads, dry_run=dry_run, progress=progress)
        report = importer.run()
        if dry_run:
            transaction.set_rollback(True)
    return report
