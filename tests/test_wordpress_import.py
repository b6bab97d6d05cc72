"""Moving in from WordPress: `manage.py import_wordpress EXPORT.xml [--uploads DIR] [--dry-run]`.

The real export is WordPress's theme unit test data, read from ../shared/wordpress/ beside the
project (its README there: CI has shared/ beside the clone; the file is not copied into the
repo). Its expected numbers are counted from the file here with ElementTree, not taken
from the importer. Hostile and edge cases are small hand-made exports.
"""

import io
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import defusedxml.ElementTree as ET
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from PIL import Image

from articles.models import Article, OldLink, Section, Tag
from comments.models import Comment, ErasedImport
from comments.wordpress import uploads_path
from newsroom.caching import content_changed

from .test_security_privacy import email_traces

pytestmark = pytest.mark.django_db

THEME_DATA = (
    Path(__file__).resolve().parents[2] / "shared/wordpress/themeunittestdata.wordpress.xml"
)
WP = "{https://wordpress.org/export/1.2/}"
VNU_JAR = Path(sys.prefix) / "vnu/node_modules/vnu-jar/build/dist/vnu.jar"


def run_import(path, *options):
    """Run the command; returns what it printed."""
    out = io.StringIO()
    call_command("import_wordpress", str(path), *options, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def report_lines(output):
    """The report itself, without the dry-run heading and the closing line."""
    return [line for line in output.splitlines() if not line.startswith(("Dry run:", "Imported "))]


def needs_theme_data():
    if not THEME_DATA.exists():
        pytest.skip(f"the theme unit test export is not at {THEME_DATA} (shared/ beside the repo)")


# --- Hand-made exports ---------------------------------------------------------------------------

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Old site</title><link>https://old.example</link>
<wp:wxr_version>{version}</wp:wxr_version>
<wp:author><wp:author_login>jdoe</wp:author_login><wp:author_email>jdoe@old.example</wp:author_email>
<wp:author_display_name><![CDATA[Jane Doe]]></wp:author_display_name>
<wp:author_first_name></wp:author_first_name><wp:author_last_name></wp:author_last_name></wp:author>
<wp:category><wp:term_id>3</wp:term_id><wp:category_nicename>skating</wp:category_nicename>
<wp:category_parent></wp:category_parent><wp:cat_name><![CDATA[Skating]]></wp:cat_name></wp:category>
"""
FOOT = "</channel></rss>\n"


def comment(wp_id, *, approved="1", parent=0, kind="", email="reader@private.example",
            author="A Reader", content="Nice race.", date="2024-02-01 10:00:00"):  # fmt: skip
    return f"""<wp:comment><wp:comment_id>{wp_id}</wp:comment_id>
<wp:comment_author><![CDATA[{author}]]></wp:comment_author>
<wp:comment_author_email>{email}</wp:comment_author_email>
<wp:comment_author_url>https://reader.example/</wp:comment_author_url>
<wp:comment_author_IP>192.0.2.7</wp:comment_author_IP>
<wp:comment_date>{date}</wp:comment_date><wp:comment_date_gmt>{date}</wp:comment_date_gmt>
<wp:comment_content><![CDATA[{content}]]></wp:comment_content>
<wp:comment_approved>{approved}</wp:comment_approved><wp:comment_type>{kind}</wp:comment_type>
<wp:comment_parent>{parent}</wp:comment_parent><wp:comment_user_id>0</wp:comment_user_id>
</wp:comment>"""


def post(wp_id, title, *, status="publish", content="<p>Story text.</p>", slug=None,
         password="", post_type="post", extra="", date="2024-01-15 09:30:00"):  # fmt: skip
    slug = slug or title.lower().replace(" ", "-")
    return f"""<item><title>{title}</title>
<link>https://old.example/{date[:10].replace("-", "/")}/{slug}/</link>
<dc:creator><![CDATA[jdoe]]></dc:creator>
<content:encoded><![CDATA[{content}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{wp_id}</wp:post_id><wp:post_date>{date}</wp:post_date>
<wp:post_date_gmt>{date}</wp:post_date_gmt><wp:comment_status>open</wp:comment_status>
<wp:post_name>{slug}</wp:post_name><wp:status>{status}</wp:status>
<wp:post_type>{post_type}</wp:post_type><wp:post_password>{password}</wp:post_password>
<wp:is_sticky>0</wp:is_sticky>
<category domain="category" nicename="skating"><![CDATA[Skating]]></category>
<category domain="post_tag" nicename="ice"><![CDATA[Ice]]></category>
{extra}</item>
"""


def export(tmp_path, *items, version="1.2", name="export.xml"):
    path = tmp_path / name
    path.write_text(HEAD.format(version=version) + "".join(items) + FOOT, encoding="utf-8")
    return path


# --- The theme unit test data ---------------------------------------------------------------------


def expected_from_file():
    """What the theme export holds, counted with ElementTree, independently of the importer."""
    channel = ET.parse(THEME_DATA).getroot().find("channel")
    posts = [i for i in channel.findall("item") if i.findtext(f"{WP}post_type") == "post"]
    statuses = Counter(p.findtext(f"{WP}status") for p in posts)
    primary, tag_names = set(), set()
    comments, replies = Counter(), 0
    for p in posts:
        cats = [c for c in p.findall("category") if c.get("domain") == "category"]
        tags = [c for c in p.findall("category") if c.get("domain") == "post_tag"]
        primary.add(cats[0].get("nicename") if cats else "uncategorized")
        # Tags are matched by name, whatever their case (a category and a tag both called
        # "Template" are one tag here).
        tag_names |= {c.text.lower() for c in cats[1:] + tags}
        for c in p.findall(f"{WP}comment"):
            if c.findtext(f"{WP}comment_type") in ("pingback", "trackback"):
                continue
            comments[c.findtext(f"{WP}comment_approved")] += 1
            replies += c.findtext(f"{WP}comment_parent") != "0"
    protected = [p for p in posts if p.findtext(f"{WP}post_password")]
    return {
        "posts": posts,
        "statuses": statuses,
        "sections": len(primary),
        "tags": len(tag_names),
        "comments": comments,
        "replies": replies,
        "protected": protected,
        "authors": len(channel.findall(f"{WP}author")),
        "pages": sum(i.findtext(f"{WP}post_type") == "page" for i in channel.findall("item")),
    }


class ThemeImport(str):
    """The import's report, which also knows the uploads folder it was given."""

    def __new__(cls, report, uploads):
        self = super().__new__(cls, report)
        self.uploads = uploads
        return self


def theme_uploads(folder):
    """A stand-in for the theme site's wp-content/uploads in `folder`: a real picture at the
    place of every attachment and of every image in a post's text that is one of the site's
    uploads (on WordPress.com's file host, <site>.files.wordpress.com/2008/06/x.jpg, the path
    is the place in the uploads). Returns the set of places made."""
    text = THEME_DATA.read_text(encoding="utf-8")
    places = set(re.findall(r"<wp:meta_key>_wp_attached_file</wp:meta_key>\s*"
                            r"<wp:meta_value><!\[CDATA\[([^\]]+)\]\]>", text))  # fmt: skip
    places |= set(re.findall(r"files\.wordpress\.com/(\d{4}/\d\d/[^\"?<\s]+)", text))
    for number, place in enumerate(sorted(places)):
        path = folder / place
        path.parent.mkdir(parents=True, exist_ok=True)
        kind = "PNG" if place.lower().endswith(".png") else "JPEG"
        colour = (40 + number * 5 % 200, 90, 160)
        Image.new("RGB", (900, 600), colour).save(path, kind)
    return places


@pytest.fixture(scope="class")
def theme(django_db_setup, django_db_blocker, tmp_path_factory):
    """The theme export imported once, with a copy of its uploads, for the tests that only
    read it (committed for real, so its purges and search indexing run), and everything erased
    again after them. Yields the import's report."""
    needs_theme_data()
    uploads = tmp_path_factory.mktemp("uploads")
    theme_uploads(uploads)
    local = override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        MEDIA_ROOT=tmp_path_factory.mktemp("media"),
    )
    with local, django_db_blocker.unblock():
        try:
            yield ThemeImport(run_import(THEME_DATA, "--uploads", str(uploads)), uploads)
        finally:
            OldLink.objects.all().delete()
            Article.objects.all().delete()  # and their comments
            Tag.objects.all().delete()
            Section.objects.all().delete()
            get_user_model().objects.all().delete()
            ErasedImport.objects.all().delete()  # what deleting them left behind


class TestTheThemeUnitTestData:
    """WordPress's theme unit test export, imported once for these tests."""

    def test_theme_data_counts_match_the_file(self, theme):
        """Stories, sections, tags, authors, comments by status and threads: as many as the file
        holds; pages are skipped and counted."""
        expected = expected_from_file()
        statuses = expected["statuses"]
        assert Article.objects.count() == len(expected["posts"])
        assert Article.objects.filter(status="scheduled").count() == statuses["future"]
        # Password-protected posts become drafts, beside the real drafts.
        assert Article.objects.filter(status="draft").count() == statuses["draft"] + len(
            expected["protected"]
        )
        assert Article.objects.filter(status="published").count() == statuses["publish"] - len(
            expected["protected"]
        )
        assert Section.objects.count() == expected["sections"]
        assert Tag.objects.count() == expected["tags"]
        assert get_user_model().objects.count() == expected["authors"]
        assert Comment.objects.filter(status="approved").count() == expected["comments"]["1"]
        assert Comment.objects.filter(status="pending").count() == expected["comments"]["0"]
        assert Comment.objects.filter(parent__isnull=False).count() == expected["replies"]
        assert f"page (no such kind of page here): {expected['pages']}" in theme
        assert "pingback: 2" in theme and "trackback: 2" in theme

    def test_authors_are_staff_who_cannot_log_in(self, theme):
        reviewer = get_user_model().objects.get(username="themereviewteam")
        assert reviewer.is_staff and not reviewer.is_superuser
        assert not reviewer.has_usable_password()
        assert reviewer.get_full_name() == "Theme Reviewer"  # the display name
        buster = get_user_model().objects.get(username="themedemos")
        assert buster.get_full_name() == "Theme Buster"  # the display name, no first/last given

    def test_every_old_post_id_redirects_to_its_story(self, theme, client):
        """/?p=ID of every published post answers 301 with the story's address; a draft's and a
        password-protected post's old address reveals nothing."""
        for article in Article.objects.published():
            response = client.get("/", {"p": article.wordpress_id})
            assert response.status_code == 301, article.title
            assert response["Location"] == article.get_absolute_url()
            assert "public" in response["Cache-Control"]
        for article in Article.objects.exclude(pk__in=Article.objects.published()):
            response = client.get("/", {"p": article.wordpress_id})
            assert response.status_code == 200  # the home page, as for any unknown ?p=
            assert article.slug.encode() not in response.content

    def test_old_permalinks_categories_and_tags_redirect(self, theme, client):
        story = Article.objects.get(wordpress_id=1178)  # "Markup: HTML Tags and Formatting"
        for old in (
            "/2013/01/11/markup-html-tags-and-formatting/",
            "/2013/01/11/markup-html-tags-and-formatting",  # WordPress answered without the slash
            "/markup-html-tags-and-formatting/",
        ):
            response = client.get(old)
            assert response.status_code == 301, old
            assert response["Location"] == story.get_absolute_url()
        assert client.get(story.get_absolute_url()).status_code == 200
        section = Section.objects.get(slug="classic")
        for old in ("/category/classic/", "/?cat=192"):  # term 192 is "Classic" in the file
            response = client.get(old)
            assert (response.status_code, response["Location"]) == (301, section.get_absolute_url())
        # A tag whose old address is its new one answers at once. The WordPress tag "Media"
        # (/tag/media/) and category "Media" (slug media-2) are one tag here: the old address of
        # the tag leads to it.
        media = Tag.objects.get(name__iexact="media")
        assert media.slug == "media-2"
        assert client.get(media.get_absolute_url()).status_code == 200
        for old in ("/tag/media/", "/?tag=media"):
            response = client.get(old)
            assert (response.status_code, response["Location"]) == (301, media.get_absolute_url())
        assert client.get("/no-such-old-page/").status_code == 404

    def test_password_protected_post_never_public(self, theme, client):
        """Its content reaches no page, feed, sitemap or search results."""
        protected = Article.objects.get(wordpress_id=1168)
        assert protected.status == "draft"
        assert client.get(protected.get_absolute_url()).status_code == 404
        for url in ("/feed/", "/feed/atom/", "/sitemap-news.xml", "/", "/search/?q=password"):
            content = client.get(url).content.decode()
            assert protected.title not in content, url
            assert protected.slug not in content, url

    def test_comment_threads_shown_and_emails_private(self, theme, client):
        story = Article.objects.get(wordpress_id=1148)  # "Template: Comments"
        html = client.get(story.get_absolute_url()).content.decode()
        public = Comment.objects.filter(article=story, status="approved")
        assert public.exists()
        for comment in public:
            assert f'id="c{comment.pk}"' in html
        assert Comment.objects.filter(article=story, parent__isnull=False).exists()
        for email in Comment.objects.exclude(email="").values_list("email", flat=True):
            assert email not in html
        # Dates come from the export, not the time of the import.
        assert public.order_by("created_at").first().created_at.year < 2020

    def test_no_commenter_email_in_any_public_response(self, theme, client):
        """Every imported story, section, feed, sitemap and search page, and searches for the
        addresses themselves: no trace of an imported commenter's email."""
        emails = set(Comment.objects.exclude(email="").values_list("email", flat=True))
        assert emails
        traces = set().union(*map(email_traces, emails))
        urls = ["/", "/feed/", "/feed/atom/", "/sitemap.xml", "/sitemap-news.xml", "/archive/"]
        urls += [story.get_absolute_url() for story in Article.objects.published()]
        urls += [section.get_absolute_url() for section in Section.objects.all()]
        urls += [f"/search/?q={email}" for email in emails]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            # A search shows what was searched for: only the results must not hold an address.
            asked = url.removeprefix("/search/?q=") if url.startswith("/search/") else None
            body = (
                response.content.decode().replace(asked, "") if asked else response.content.decode()
            )
            for trace in traces:
                assert trace not in body, (url, trace)

    def test_featured_images_and_pictures_in_the_text_arrive(self, theme, client):
        """Every post whose featured image is an attachment of the export gets it as its hero;
        pictures in the text on WordPress.com's file host are the site's own uploads and are
        shown from the local copy, in WebP renditions, never from the old host."""
        channel = ET.parse(THEME_DATA).getroot().find("channel")
        items = channel.findall("item")
        attachments = {
            i.findtext(f"{WP}post_id")
            for i in items
            if i.findtext(f"{WP}post_type") == "attachment"
        }
        featured = {
            i.findtext(f"{WP}post_id")
            for i in items
            if i.findtext(f"{WP}post_type") == "post"
            for meta in i.findall(f"{WP}postmeta")
            if meta.findtext(f"{WP}meta_key") == "_thumbnail_id"
            and meta.findtext(f"{WP}meta_value") in attachments
        }
        assert featured
        with_hero = Article.objects.exclude(hero_image="")
        assert {str(pk) for pk in with_hero.values_list("wordpress_id", flat=True)} == featured
        assert re.search(r"^images in text: [1-9]\d* created", theme, re.M)
        # The one GIF is refused by the upload checks, and said so with its name.
        assert "spectacles.gif: “.gif” files are not accepted" in theme
        shown = 0
        for article in Article.objects.published():
            body = client.get(article.get_absolute_url()).content.decode()
            assert "files.wordpress.com" not in re.sub(r'<a [^>]*href="[^"]*"', "", body)
            shown += len(re.findall(r'<img [^>]*src="/media/wordpress/[^"]+\.webp"', body))
        assert shown >= 5

    def test_imported_pages_are_valid_html5(self, theme, client, tmp_path):
        if shutil.which("java") is None or not VNU_JAR.exists():
            pytest.skip("the Nu Html Checker needs Java and vnu.jar (`make test` installs it)")
        files = {}
        for article in Article.objects.published():
            path = tmp_path / f"story{article.pk}.html"
            response = client.get(article.get_absolute_url())
            assert response.status_code == 200
            path.write_bytes(response.content)
            files[path.name] = article.title
        result = subprocess.run(
            ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, [
                tmp_path / name for name in files])],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
        problems = [
            f"{files[Path(m['url']).name]}: {m['message']}"
            for m in messages
            if m["type"] == "error"
        ]
        assert not problems, "\n".join(problems)
        assert len(files) > 40

    def test_a_second_import_changes_nothing(
        self, theme, committed, django_capture_on_commit_callbacks
    ):
        before = {
            "stories": list(Article.objects.values_list("pk", "updated_at")),
            "comments": Comment.objects.count(),
            "links": OldLink.objects.count(),
        }
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            output = run_import(THEME_DATA, "--uploads", str(theme.uploads))
        assert f"stories: 0 created, 0 updated, {Article.objects.count()} unchanged" in output
        assert "comments: 0 created, 0 updated" in output
        assert "old links: 0 created, 0 updated" in output
        assert list(Article.objects.values_list("pk", "updated_at")) == before["stories"]
        assert Comment.objects.count() == before["comments"]
        assert OldLink.objects.count() == before["links"]
        assert callbacks == []  # nothing to purge, nothing to index


def test_dry_run_stores_nothing_and_prints_the_same_report(tmp_path, committed):
    uploads = tmp_path / "uploads"
    (uploads / "2024/01").mkdir(parents=True)
    Image.new("RGB", (400, 300), "white").save(uploads / "2024/01/a.jpg", "JPEG")
    path = export(
        tmp_path,
        post(1, "One", extra=comment(11) + comment(12, parent=11) + comment(13, kind="pingback")
             + "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key>"
             "<wp:meta_value>90</wp:meta_value></wp:postmeta>"),
        post(2, "Two", status="draft", content="<script>x()</script><p>Text</p>"),
        post(3, "About", post_type="page"),
        """<item><title>A</title><wp:post_id>90</wp:post_id><wp:post_type>attachment</wp:post_type>
<wp:attachment_url>https://old.example/wp-content/uploads/2024/01/a.jpg</wp:attachment_url></item>""",
    )  # fmt: skip
    dry = run_import(path, "--dry-run", "--uploads", str(uploads))
    assert dry.startswith("Dry run: nothing was saved.")
    assert Article.objects.count() == Comment.objects.count() == OldLink.objects.count() == 0
    assert Tag.objects.count() == Section.objects.count() == get_user_model().objects.count() == 0
    assert not list((tmp_path / "media").rglob("*.*"))  # no image file stored either
    with committed():
        real = run_import(path, "--uploads", str(uploads))
    assert report_lines(dry) == report_lines(real)
    assert "stories: 2 created" in real and "hero images: 1 created" in real


# --- Statuses, threads, updates -------------------------------------------------------------------


def test_statuses_map_and_nothing_private_becomes_public(tmp_path, committed, client):
    path = export(
        tmp_path,
        post(1, "Published story", extra=comment(11) + comment(12, approved="0")
             + comment(13, approved="spam") + comment(14, approved="trash")
             + comment(15, kind="pingback") + comment(16, kind="trackback")),
        post(2, "Future story", status="future", date="2099-01-01 10:00:00"),
        post(3, "Draft story", status="draft"),
        post(4, "Pending story", status="pending"),
        post(5, "Private story", status="private"),
        post(6, "Trashed story", status="trash"),
        post(7, "About us", post_type="page"),
        post(8, "A product", post_type="product"),
    )  # fmt: skip
    with committed():
        output = run_import(path)
    statuses = dict(Article.objects.values_list("wordpress_id", "status"))
    assert statuses == {1: "published", 2: "scheduled", 3: "draft", 4: "draft", 5: "draft"}
    comments = dict(Comment.objects.values_list("wordpress_id", "status"))
    assert comments == {11: "approved", 12: "pending", 13: "spam", 14: "rejected"}
    for reason in (
        "pingback: 1",
        "trackback: 1",
        "post with status trash: 1",
        "page (no such kind of page here): 1",
        "product (no such kind of page here): 1",
        "private post imported as a draft: 1",
        "pending post imported as a draft: 1",
    ):
        assert reason in output
    for wp_id in (2, 3, 4, 5):
        story = Article.objects.get(wordpress_id=wp_id)
        assert client.get(story.get_absolute_url()).status_code == 404
        assert client.get("/", {"p": wp_id}).status_code == 200
    html = client.get(Article.objects.get(wordpress_id=1).get_absolute_url()).content.decode()
    assert html.count("Nice race.") == 1  # only the approved one
    assert "reader@private.example" not in html and "192.0.2.7" not in html
    assert not Comment.objects.exclude(client_hash="").exists()  # the IP is not kept


def test_replies_keep_their_thread_in_any_order(tmp_path, committed):
    path = export(
        tmp_path,
        post(1, "Story", extra=comment(22, parent=21, content="A reply.")
             + comment(21, content="First!") + comment(23, parent=22, content="Deeper.")
             + comment(24, parent=99, content="Reply to a pingback.")),
    )  # fmt: skip
    with committed():
        output = run_import(path)
    by_id = {c.wordpress_id: c for c in Comment.objects.all()}
    assert by_id[22].parent == by_id[21] and by_id[23].parent == by_id[22]
    assert by_id[21].parent is None and by_id[24].parent is None
    assert "reply to a comment not imported, kept at the top level: 1" in output


def test_a_later_export_updates_what_changed(tmp_path, committed):
    with committed():
        run_import(export(tmp_path, post(1, "First title", extra=comment(11, approved="0"))))
    story = Article.objects.get(wordpress_id=1)
    later = export(
        tmp_path,
        post(1, "Better title", slug="first-title", extra=comment(11)),
        post(2, "New story"),
        name="later.xml",
    )
    with committed():
        output = run_import(later)
    assert "stories: 1 created, 1 updated, 0 unchanged" in output
    story.refresh_from_db()
    assert story.title == "Better title" and story.slug == "first-title"  # the address stays
    assert Comment.objects.get(wordpress_id=11).status == "approved"
    assert Article.objects.count() == 2


def test_a_later_import_keeps_what_was_done_here(tmp_path, committed, admin_user):
    """An editor's edit, a moderator's decision and a privacy erasure survive importing the
    same export again."""
    from comments.services import erase_commenter_data, reject

    path = export(
        tmp_path,
        post(1, "Edited here", extra=comment(11, email="gone@private.example") + comment(12)),
        post(2, "Untouched"),
    )
    with committed():
        run_import(path)
    edited = Article.objects.get(wordpress_id=1)
    edited.title = "Edited by the desk"
    edited.save()
    reject(Comment.objects.filter(wordpress_id=12), by=admin_user)
    erase_commenter_data(["gone@private.example"])
    with committed():
        output = run_import(path)
    edited.refresh_from_db()
    assert edited.title == "Edited by the desk"
    assert "story edited here since its import: kept as it is: 1" in output
    assert "stories: 0 created, 0 updated, 2 unchanged" in output
    assert Comment.objects.get(wordpress_id=12).status == "rejected"
    erased = Comment.objects.get(wordpress_id=11)
    assert (erased.name, erased.email, erased.website) == ("Anonymous", "", "")
    assert "comments: 0 created, 0 updated, 2 unchanged" in output


def test_what_was_deleted_here_is_not_brought_back(tmp_path, committed):
    """A privacy request that deleted a commenter's comments, and a story an editor deleted,
    stay deleted when the same export is imported again; only a keyed hash of each WordPress
    ID is kept to recognise them, nothing of what they said or who wrote them."""
    from comments.services import erase_commenter_data

    path = export(
        tmp_path,
        post(
            1,
            "Kept",
            extra=comment(11, email="gone@private.example", author="Gone Person")
            + comment(12, parent=11)
            + comment(13),
        ),  # fmt: skip
        post(2, "Deleted by the desk", extra=comment(21)),
    )
    with committed():
        run_import(path)
    with committed():
        assert erase_commenter_data(["gone@private.example"], delete=True) == 1
        Article.objects.get(wordpress_id=2).delete()  # and its comment
    from comments.models import erased_import_key

    assert set(ErasedImport.objects.values_list("key", flat=True)) == {
        erased_import_key("comment", 11),
        erased_import_key("comment", 21),
        erased_import_key("post", 2),
    }
    with committed():
        output = run_import(path)
    assert "comment deleted here since its import: not brought back: 1" in output
    assert "story deleted here since its import: not brought back: 1" in output
    assert "comment on a post that was not imported: 1" in output
    assert not Article.objects.filter(wordpress_id=2).exists()
    assert sorted(Comment.objects.values_list("wordpress_id", flat=True)) == [12, 13]
    assert not Comment.objects.filter(name="Gone Person").exists()
    assert not Comment.objects.filter(email="gone@private.example").exists()
    assert "stories: 0 created, 0 updated, 1 unchanged" in output
    assert "comments: 0 created, 0 updated, 2 unchanged" in output


def test_import_purges_the_pages_it_changes(tmp_path, committed, client, settings):
    """A kept feed shows the imported story at once: saves announce their tags after commit."""
    settings.PAGE_CACHE_SECONDS = 600
    assert b"Kept story" not in client.get("/feed/").content
    purges = []

    def purged(tags, **kwargs):
        purges.append(tags)

    content_changed.connect(purged)
    try:
        with committed():
            run_import(export(tmp_path, post(1, "Kept story"), post(2, "Another story")))
    finally:
        content_changed.disconnect(purged)
    assert b"Kept story" in client.get("/feed/").content
    # One purge for the whole import, naming each story, its thread, listings and terms.
    assert len(purges) == 1
    story = Article.objects.get(wordpress_id=1)
    assert {f"article-{story.pk}", "article-list", f"section-{story.section_id}"} <= purges[0]


# --- Content ------------------------------------------------------------------------------------


def test_content_becomes_markdown_and_refused_markup_is_reported(tmp_path, committed):
    content = """<h1>Big heading</h1>
First paragraph with <a href="https://example.org/">a link</a>
and a second line.

<ul><li>one</li><li>two</li></ul>
<blockquote>Quoted.</blockquote>
<table><thead><tr><th>Name</th><th>Time</th></tr></thead><tbody><tr><td>A</td><td>1:12</td></tr></tbody></table>
<script>alert(1)</script><p onclick="steal()">Click</p>
<a href="javascript:alert(2)">bad link</a> <img src="x.jpg" onerror="alert(3)">
[gallery ids="1,2"] <iframe src="https://evil.example/"></iframe>"""
    with committed():
        output = run_import(export(tmp_path, post(1, "Markup", content=content)))
    story = Article.objects.get()
    html = story.rendered_body
    kept = ("<h2>Big heading</h2>", '<a href="https://example.org/"', "<li>one</li>")
    kept += ("<blockquote>", "<th>Name</th>", "<td>1:12</td>", "bad link", "Click")
    for piece in kept:
        assert piece in html, piece
    for gone in ("script", "alert", "onclick", "javascript:", "iframe", "[gallery", "evil"):
        assert gone not in story.body and gone not in html, gone
    for reason in ("<script> element: 1", "<iframe> element: 1", "event handler attribute: 2",
                   "link that is not http(s) or mailto: 1", "[gallery] shortcode: 1"):  # fmt: skip
        assert f"in post content: {reason}" in output, reason
    assert "image in the text from elsewhere: not brought in: 1" in output
    assert "post 1 “Markup”: x.jpg" in output  # named, for an editor to find


def test_images_in_the_text_come_from_uploads_and_the_body_shows_the_local_copy(
    tmp_path, committed, client, settings
):
    """An image under wp-content/uploads is read from --uploads, checked and rendered like any
    upload, and the body shows the local copy (srcset, width, height, lazy); one missing from
    --uploads, one from another site and one the checks refuse are reported by name, and the
    story is imported without them. A second import stores nothing again and changes nothing."""
    from .factories import image_bytes, media_files

    uploads = tmp_path / "uploads"
    (uploads / "2024/01").mkdir(parents=True)
    (uploads / "2024/01/start line.png").write_bytes(image_bytes("PNG", size=(1000, 500)))
    (uploads / "2024/01/fake.jpg").write_bytes(b"<svg onload=alert(1)>")
    site = "https://old.example/wp-content/uploads/2024/01"
    content = (
        f'<p>Before.</p><p><img src="{site}/start%20line.png" alt="The start line" '
        f'onerror="alert(1)" width="300"></p><p>After.</p>'
        f'<img src="{site}/gone.png"><img src="https://cdn.example/elsewhere.gif" alt="Remote">'
        f'<img src="{site}/../../../../../../etc/passwd">'  # never outside --uploads
        f'<img src="{site}/fake.jpg" alt="Fake">'
        f'<p>Again: <img src="{site}/start%20line.png" alt="Same file"></p>'
    )
    path = export(tmp_path, post(7, "Pictures", content=content))
    dry = run_import(path, "--uploads", str(uploads), "--dry-run")
    assert media_files(settings) == []  # a dry run stores nothing
    with committed():
        output = run_import(path, "--uploads", str(uploads))
    assert report_lines(dry) == report_lines(output)
    assert "images in text: 1 created, 0 updated, 0 unchanged" in output  # stored once
    label = "post 7 “Pictures”:"
    for reason, named in [
        ("image in the text missing from the uploads: 2", f"{site}/gone.png"),
        (
            "image in the text from elsewhere: not brought in: 1",
            "https://cdn.example/elsewhere.gif “Remote”",
        ),
        ("image in the text refused: 1", f"{site}/fake.jpg “Fake”:"),
    ]:
        assert reason in output and f"{label} {named}" in output, reason
    story = Article.objects.get()
    stored = media_files(settings)
    assert stored and all(name.startswith("wordpress/2024/01/start line-") for name in stored)
    page = client.get(story.get_absolute_url()).content.decode()
    images = re.findall(r"<img [^>]*>", page.split('class="story-body"', 1)[-1])
    assert len(images) == 2 and "onerror" not in page
    first = images[0]
    assert 'alt="The start line"' in first and 'loading="lazy"' in first
    assert 'width="1000" height="500"' in first and "/media/wordpress/2024/01/" in first
    assert first.count("w.webp") == len(stored) + 1  # src and each rendition in srcset
    assert "Before." in page and "After." in page
    with committed():
        again = run_import(path, "--uploads", str(uploads))
    assert "images in text: 0 created, 0 updated, 1 unchanged" in again
    assert "stories: 0 created, 0 updated, 1 unchanged" in again
    assert media_files(settings) == stored


def test_text_about_markup_stays_text(tmp_path, committed):
    """A post that writes about HTML ("the &lt;em&gt; tag") shows those words, not italics."""
    content = "<p>Use the &lt;em&gt; tag, and 5 &lt; 6 &amp; 7.</p><pre>if a &lt; b:</pre>"
    with committed():
        run_import(export(tmp_path, post(1, "About markup", content=content)))
    html = Article.objects.get().rendered_body
    assert "Use the &lt;em&gt; tag, and 5 &lt; 6 &amp; 7." in html
    assert "if a &lt; b:" in html and "<em>" not in html


def test_featured_image_from_uploads_and_a_missing_one_reported(tmp_path, committed, client):
    uploads = tmp_path / "uploads"
    (uploads / "2024/01").mkdir(parents=True)
    Image.new("RGB", (800, 500), "steelblue").save(uploads / "2024/01/rink.jpg", "JPEG")
    attachment = """<item><title>Rink</title><wp:post_id>{id}</wp:post_id>
<wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status>
<wp:attachment_url>https://old.example/wp-content/uploads/2024/01/{file}</wp:attachment_url>
<wp:postmeta><wp:meta_key>_wp_attachment_image_alt</wp:meta_key>
<wp:meta_value><![CDATA[The ice rink]]></wp:meta_value></wp:postmeta></item>"""
    thumb = "<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value>{}</wp:meta_value></wp:postmeta>"  # noqa: E501
    path = export(
        tmp_path,
        post(1, "With picture", extra=thumb.format(90)),
        post(2, "Picture missing", extra=thumb.format(91)),
        post(3, "Picture outside", extra=thumb.format(92)),
        attachment.format(id=90, file="rink.jpg"),
        attachment.format(id=91, file="gone.jpg"),
        attachment.format(id=92, file="../../../../etc/passwd"),
        attachment.format(id=93, file="unused.jpg"),
    )
    with committed():
        output = run_import(path, "--uploads", str(uploads))
    story = Article.objects.get(wordpress_id=1)
    assert story.hero and story.hero_alt == "The ice rink"
    assert story.hero_renditions
    assert b"<img" in client.get(story.get_absolute_url()).content
    assert not Article.objects.get(wordpress_id=2).hero_image
    assert "featured image missing from the uploads: 1" in output
    assert "featured image with a path outside the uploads: 1" in output
    assert "attachment that is no story's featured image nor in a text: 1" in output
    with committed():
        again = run_import(path, "--uploads", str(uploads))
    assert "hero images: 0 created, 0 updated, 1 unchanged" in again


# --- Refused files ------------------------------------------------------------------------------


def test_malformed_xml_gives_line_and_column(tmp_path):
    path = export(tmp_path, post(1, "Fine"), "<item><title>Broken</item>")
    with pytest.raises(CommandError, match=r"not well-formed XML at line \d+, column \d+"):
        run_import(path)
    assert Article.objects.count() == 0  # the first post was rolled back too


def test_invalid_utf8_is_refused(tmp_path):
    path = export(tmp_path, post(1, "Fine"))
    path.write_bytes(path.read_bytes().replace(b"Fine", b"Fi\xff\xfene"))
    with pytest.raises(CommandError, match="not well-formed XML at line"):
        run_import(path)
    assert Article.objects.count() == 0


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss><channel><wp:wxr_version xmlns:wp="http://wordpress.org/export/1.2/">1.2</wp:wxr_version>
<item><title>&lol9;</title></item></channel></rss>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss><channel><item><title>&secret;</title></item></channel></rss>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["bomb", "external"])
def test_entities_are_refused(tmp_path, text):
    path = tmp_path / "evil.xml"
    path.write_text(text)
    with pytest.raises(CommandError, match="refused: it declares XML entities"):
        run_import(path)
    assert Article.objects.count() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('<?xml version="1.0"?><html><body/></html>', "its root element is <html>"),
        ("<rss><channel><item><title>x</title></item></channel></rss>", "no <wp:wxr_version>"),
        (HEAD.format(version="2.0") + FOOT, "WXR version 2.0"),
        ("", "not well-formed XML"),
    ],
    ids=["not-rss", "no-version", "unknown-version", "empty"],
)
def test_files_that_are_not_wordpress_exports_are_refused(tmp_path, text, message):
    path = tmp_path / "other.xml"
    path.write_text(text)
    with pytest.raises(CommandError, match=message):
        run_import(path)


def test_older_wxr_versions_import(tmp_path, committed):
    for version in ("1.0", "1.1"):
        text = (HEAD.format(version=version) + post(int(version[-1]) + 1, f"Story {version}")
                + FOOT).replace("export/1.2/", f"export/{version}/")  # fmt: skip
        path = tmp_path / f"v{version}.xml"
        path.write_text(text)
        with committed():
            run_import(path)
    assert Article.objects.count() == 2


def test_huge_fields_skip_their_item(tmp_path, committed):
    """A field over the limit (here a comment of 2 MB) skips its whole item, and says which."""
    path = export(
        tmp_path,
        post(1, "Huge", extra=comment(11, content="x" * 2_000_001)),
        post(2, "Normal"),
    )
    with committed():
        output = run_import(path)
    assert list(Article.objects.values_list("wordpress_id", flat=True)) == [2]
    assert "item with a field too long to import: 1" in output
    assert "item 1: its wp:comment_content is over 2,000,000 characters" in output


def test_ids_that_are_not_numbers_are_skipped(tmp_path, committed):
    path = export(
        tmp_path,
        post(1, "Fine", extra=comment(11) + comment("x1")),
        post(2, "Odd").replace("<wp:post_id>2<", "<wp:post_id>two<"),
    )
    with committed():
        output = run_import(path)
    assert list(Article.objects.values_list("wordpress_id", flat=True)) == [1]
    assert list(Comment.objects.values_list("wordpress_id", flat=True)) == [11]
    assert "post without a WordPress ID: 1" in output
    assert "comment without a WordPress ID: 1" in output


def test_missing_file_and_uploads_folder(tmp_path):
    with pytest.raises(CommandError, match="There is no file"):
        run_import(tmp_path / "nope.xml")
    path = export(tmp_path, post(1, "Fine"))
    with pytest.raises(CommandError, match="There is no folder"):
        run_import(path, "--uploads", str(tmp_path / "nope"))


def test_sanity_of_the_admin_listing_untouched(tmp_path, committed, admin_client):
    """Imported stories open in the admin like any other (the WordPress id is not editable)."""
    with committed():
        run_import(export(tmp_path, post(1, "Admin story")))
    story = Article.objects.get()
    response = admin_client.get(reverse("admin:articles_article_change", args=[story.pk]))
    assert response.status_code == 200
    assert b"wordpress_id" not in response.content


@pytest.mark.parametrize(
    ("url", "place"),
    [
        ("https://old.example/wp-content/uploads/2024/01/a.jpg", "2024/01/a.jpg"),
        ("http://www.old.example/blog/wp-content/uploads/2024/01/a%20b.png?x=1", "2024/01/a b.png"),
        ("https://site.files.wordpress.com/2008/06/canola2.jpg?w=604", "2008/06/canola2.jpg"),
        ("//site.files.wordpress.com/2008/06/canola2.jpg", "2008/06/canola2.jpg"),
        ("https://upload.wikimedia.org/wikipedia/commons/a.jpg", None),
        ("https://files.wordpress.com.evil.example/2008/06/a.jpg", None),
        ("https://site.files.wordpress.com/", None),
        ("", None),
    ],
)
def test_which_addresses_are_the_sites_own_uploads(url, place):
    """Self-hosted uploads under any host name, and WordPress.com's file host, are the site's
    own; anything else is a picture from elsewhere."""
    assert uploads_path(url) == place
