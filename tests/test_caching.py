"""Readers without personal cookies share kept copies of public pages; nothing personal is ever
kept, and any change to a story, its results or its comments shows at once (and only where it
shows: purged by tag)."""

import pickle
import re
import time
import warnings
from datetime import timedelta

import pytest
from django.core import signing
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.importers import import_results
from articles.models import Article, OldLink
from comments import cookies, services
from comments.models import Comment
from newsroom import caching
from newsroom.caching import release as releases
from newsroom.caching import store
from newsroom.caching.middleware import Snapshot, TrackingParametersMiddleware, without_tracking

from .factories import (
    comment_form_data,
    make_article,
    make_comment,
    make_event,
    make_nation,
    make_result,
    make_tag,
    make_user,
)
from .frontcache import TRACKING_CASES

pytestmark = pytest.mark.django_db

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 600


@pytest.fixture
def story(committed):
    with committed():
        return make_article(title="Leerdam wins gold", body="The first version of the story.")


def is_kept(client, url):
    """Whether the page comes from the page cache: a kept page needs no database at all."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries) == 0


# --- Who shares a kept page -------------------------------------------------------------------


@pytest.mark.parametrize("sent, seen", TRACKING_CASES)
def test_tracking_parameters_are_dropped_from_every_link(sent, seen):
    assert without_tracking(sent) == seen


def test_a_shared_link_s_click_ids_share_one_kept_page(client, story):
    """Each click on a shared link has its own fbclid or gclid: one kept page for them all."""
    url = story.get_absolute_url()
    assert client.get(f"{url}?fbclid=IwAR0first&utm_source=facebook").status_code == 200
    assert is_kept(Client(), f"{url}?fbclid=IwAR0second&utm_source=facebook")
    assert is_kept(Client(), f"{url}?gclid=Cj0KCQ&utm_medium=cpc")
    assert is_kept(Client(), url)


def test_views_see_the_link_without_tracking(client, story, committed):
    """An old WordPress link shared with campaign parameters still redirects; the comment page
    and order asked for are kept apart from the plain page's."""
    with committed():
        OldLink.objects.create(path="/?p=12", article=story)
    assert client.get("/?p=12&utm_source=newsletter&utm_medium=email").status_code == 301
    url = story.get_absolute_url()
    client.get(f"{url}?corder=newest&fbclid=1")
    assert is_kept(Client(), f"{url}?corder=newest")
    assert not is_kept(Client(), f"{url}?corder=oldest&fbclid=1")


def test_redirects_within_the_site_take_the_tracking_along(story, committed):
    """So that analytics still reads the campaign on the page the link leads to: a missing
    slash, an old link, a comment's permalink (before its #fragment). Such a redirect is
    private: the next reader's link has its own."""
    url = story.get_absolute_url()
    with committed():
        OldLink.objects.create(path="/?p=12", article=story)
        comment = make_comment(article=story)
    expected = {
        f"{url.rstrip('/')}?utm_source=newsletter&page=2": f"{url}?page=2&utm_source=newsletter",
        "/?p=12&utm_source=newsletter&utm_medium=email": (
            f"{url}?utm_source=newsletter&utm_medium=email"
        ),
    }
    for link, location in expected.items():
        response = Client().get(link)
        assert response.status_code == 301 and response["Location"] == location, link
        assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    response = Client().get(f"/comments/{comment.pk}/?fbclid=IwAR0x")
    address, _, fragment = response["Location"].partition("#")
    assert address.endswith("fbclid=IwAR0x") and fragment == f"c{comment.pk}"
    assert Client().get(url.rstrip("/"))["Location"] == url  # nothing to carry
    assert "public" in Client().get("/?p=12")["Cache-Control"]  # the plain old link is kept


def test_a_redirect_to_another_site_takes_no_click_id(rf):
    elsewhere = TrackingParametersMiddleware(lambda r: HttpResponseRedirect("https://x.example/"))
    assert elsewhere(rf.get("/out/?fbclid=1"))["Location"] == "https://x.example/"


def test_a_link_reads_the_same_with_or_without_tracking(rf):
    """Text in a link's query string, percent-encoded or sent raw (as some clients do), is
    read the same once tracking parameters are dropped, and so is the page kept for it."""
    seen = []
    middleware = TrackingParametersMiddleware(lambda r: seen.append(dict(r.GET)) or HttpResponse())
    middleware(rf.get("/search/?q=caf%C3%A9&x=é"))
    middleware(rf.get("/search/?q=caf%C3%A9&x=é&utm_source=y"))
    assert seen[0] == seen[1] == {"q": ["café"], "x": ["é"]}
    Client().get("/search/?q=café&fbclid=1")
    html = Client().get("/search/?q=café").content.decode()
    assert "<title>Search: café" in html and "cafÃ©" not in html


def test_the_admin_keeps_its_query_string(rf):
    seen = []

    def view(request):
        seen.append(request)
        return HttpResponse()

    middleware = TrackingParametersMiddleware(view)
    middleware(rf.get("/admin/articles/article/?utm_source=x&q=gclid"))
    middleware(rf.get("/admin?utm_source=x"))
    middleware(rf.post("/stories/x/?fbclid=1"))
    middleware(rf.get("/stories/x/?fbclid=1&page=2"))
    assert [request.META["QUERY_STRING"] for request in seen] == [
        "utm_source=x&q=gclid",
        "utm_source=x",
        "fbclid=1",
        "page=2",
    ]
    assert seen[0].GET["utm_source"] == "x" and dict(seen[3].GET) == {"page": ["2"]}


def test_second_anonymous_reader_gets_the_kept_page_without_queries(
    client, story, django_assert_num_queries
):
    """The first cookieless reader fills the cache; the next is served with no query at all."""
    first = client.get(story.get_absolute_url())
    with django_assert_num_queries(0):
        second = Client().get(story.get_absolute_url())
    assert second.status_code == 200
    assert b"Leerdam wins gold" in second.content
    assert second["ETag"] == first["ETag"]


@pytest.mark.parametrize(
    "url_name", ["articles:home", "articles:results", "search", "articles:feed"]
)
def test_other_public_pages_are_kept(client, story, url_name):
    """Home, results, search and feeds are kept as well."""
    url = reverse(url_name) + ("?q=leerdam" if url_name == "search" else "")
    assert client.get(url).status_code == 200
    assert is_kept(Client(), url)


def test_a_reader_with_a_pending_comment_never_gets_or_fills_a_shared_copy(
    client, story, committed
):
    """Their signed cookie means a page made for them alone, showing their comment, kept nowhere."""
    url = story.get_absolute_url()
    Client().get(url)
    with committed():
        response = client.post(
            reverse("comments:post", kwargs={"slug": story.slug}),
            comment_form_data(story, body="Pending words of mine", email="me@example.com"),
        )
    assert response.status_code == 303
    assert cookies.cookie_name(cookies.PENDING) in response.cookies
    page = client.get(url)
    assert "Pending words of mine" in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert "Pending words of mine" not in Client().get(url).content.decode()
    assert not is_kept(client, url)


@pytest.mark.parametrize("cookie", ["sessionid", "messages"])
def test_any_personal_cookie_bypasses_the_cache(client, story, cookie):
    """A session or a message: the page is built afresh."""
    url = story.get_absolute_url()
    Client().get(url)
    client.cookies[cookie] = "x"
    assert client.get(url).status_code == 200
    assert not is_kept(client, url)


def test_saved_comment_details_get_the_kept_page_with_a_section_of_their_own(client, story):
    """Saved comment details change only the comment section: the rest is the kept page, the
    whole private (tests/test_returning_commenters.py)."""
    url = story.get_absolute_url()
    Client().get(url)
    client.cookies[cookies.cookie_name(cookies.AUTHOR)] = "x"
    assert is_kept(client, url)
    assert "no-store" in client.get(url)["Cache-Control"]


def test_staff_never_get_the_shared_copy(client, story):
    """A logged-in editor's requests carry a session, so they always see the live page."""
    url = story.get_absolute_url()
    Client().get(url)
    client.force_login(make_user(is_staff=True))
    assert not is_kept(client, url)


def test_a_form_with_errors_is_never_kept(client, story):
    """A refused comment re-shows the form with its errors to that reader only."""
    url = story.get_absolute_url()
    response = client.post(
        reverse("comments:post", kwargs={"slug": story.slug}),
        comment_form_data(story, email="not-an-address", body="Rude words"),
    )
    assert response.status_code == 400
    page = Client().get(url).content.decode()
    assert "not-an-address" not in page
    assert "Your comment was not posted" not in page


def test_health_check_is_never_kept(client):
    """/healthz always asks the database."""
    client.get(reverse("healthz"))
    assert not is_kept(Client(), reverse("healthz"))


def test_no_commenter_email_is_ever_kept_in_the_cache(client, story, committed):
    """After comments are posted, approved and shown, no cached value holds an email address."""
    with committed():
        make_comment(article=story, email="approved-person@example.com")
        client.post(
            reverse("comments:post", kwargs={"slug": story.slug}),
            comment_form_data(story, email="pending-person@example.com"),
        )
    Client().get(story.get_absolute_url())
    client.get(story.get_absolute_url())
    kept = b"".join(value for value in cache._cache.values())
    assert b"pending-person" not in kept
    assert b"approved-person" not in kept
    assert any(isinstance(entry.value, Snapshot) for _key, entry in kept_entries())


# --- The comment form on a kept page ----------------------------------------------------------


def test_a_fresh_browser_posts_a_comment_from_a_kept_page(story, committed):
    """The kept page carries no token and sets no cookie; a new reader posts from it (the
    browser says the post comes from the same origin)."""
    url = story.get_absolute_url()
    Client().get(url)  # someone else filled the cache
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url)
    assert page.status_code == 200
    assert not CSRF_INPUT.search(page.content.decode())
    assert not page.cookies
    assert "public" in page["Cache-Control"]
    with committed():
        response = browser.post(
            reverse("comments:post", kwargs={"slug": story.slug}),
            comment_form_data(story),
            headers={"Sec-Fetch-Site": "same-origin"},
        )
    assert response.status_code == 303
    assert Comment.objects.filter(article=story).count() == 1


# --- Conditional GET --------------------------------------------------------------------------


def test_unchanged_page_answers_304_to_if_none_match(client, story):
    """A reader's browser revalidating an unchanged home page gets 304 Not Modified."""
    url = reverse("articles:home")
    first = client.get(url)
    assert first["ETag"].startswith('"')
    assert "public" in first["Cache-Control"] and "s-maxage=" in first["Cache-Control"]
    again = Client().get(url, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_an_article_is_the_same_for_every_browser_so_any_revalidates_it(story):
    """No page carries a reader's token now: any browser's ETag of it matches."""
    url = story.get_absolute_url()
    first = Client().get(url)
    assert Client().get(url, headers={"if-none-match": first["ETag"]}).status_code == 304


def test_changed_page_answers_200_with_a_new_etag(client, story, committed):
    """After an edit, the old ETag no longer matches."""
    url = story.get_absolute_url()
    old = client.get(url)["ETag"]
    with committed():
        story.title = "Leerdam wins gold in record time"
        story.save()
    response = Client().get(url, headers={"if-none-match": old})
    assert response.status_code == 200
    assert response["ETag"] != old
    assert b"record time" in response.content


# --- Invalidation -----------------------------------------------------------------------------


def test_approving_a_comment_shows_it_on_the_kept_page(client, story, committed):
    """A moderator's approval retires the kept copy at once."""
    comment = make_comment(article=story, status=Comment.Status.PENDING, body="Worth the wait")
    url = story.get_absolute_url()
    assert "Worth the wait" not in client.get(url).content.decode()
    with committed():
        services.approve(Comment.objects.filter(pk=comment.pk), by=make_user())
    assert "Worth the wait" in Client().get(url).content.decode()


def test_a_new_pending_comment_leaves_kept_pages_in_place(client, story, committed):
    """Pending comments change no public page, so posting one does not empty the cache."""
    url = story.get_absolute_url()
    Client().get(url)
    with committed():
        make_comment(article=story, status=Comment.Status.PENDING)
    assert is_kept(Client(), url)


def test_importing_results_shows_them_on_the_kept_pages(client, committed):
    """A results import retires kept copies of the event page and its stories."""
    make_nation("NED")
    event = make_event(slug="women-1000m")
    with committed():
        story = make_article(events=[event])
    urls = [event.get_absolute_url(), story.get_absolute_url()]
    for url in urls:
        assert "Jutta Leerdam" not in client.get(url).content.decode()
    with committed():
        import_results(event=event, data=b"rank,athlete,nation,time\n1,Jutta Leerdam,NED,1:12.31\n")
    for url in urls:
        assert "Jutta Leerdam" in Client().get(url).content.decode()


def test_editing_results_in_the_admin_shows_them(client, committed):
    """A result saved one by one (as the admin does) retires the kept event page too."""
    event = make_event()
    url = event.get_absolute_url()
    client.get(url)
    with committed():
        make_result(event=event, rank=1, time_ms=72_310)
    assert "1:12.31" in Client().get(url).content.decode()


def test_publishing_from_the_admin_list_shows_the_story_on_home(client, committed):
    """The admin's bulk "publish" (a queryset update) retires the kept home page."""
    with committed():
        draft = make_article(title="Fresh off the ice", status=Article.Status.DRAFT)
    editor = make_user(is_superuser=True)
    assert "Fresh off the ice" not in Client().get("/").content.decode()
    client.force_login(editor)
    with committed():
        client.post(
            reverse("admin:articles_article_changelist"),
            {"action": "publish", "_selected_action": [draft.pk]},
        )
    assert "Fresh off the ice" in Client().get("/").content.decode()


def test_a_scheduled_story_cuts_the_keeping_time_short(committed):
    """Kept pages expire when the next scheduled story goes live, so it appears on time."""
    assert caching.keep_seconds(600) == 600
    with committed():
        make_article(
            status=Article.Status.SCHEDULED, published_at=timezone.now() + timedelta(seconds=90)
        )
    assert 80 <= caching.keep_seconds(600) <= 90
    response = Client().get("/")
    s_maxage = int(re.search(r"s-maxage=(\d+)", response["Cache-Control"]).group(1))
    assert 80 <= s_maxage <= 90


def test_the_cache_can_be_turned_off(client, story, settings):
    """PAGE_CACHE_SECONDS = 0 serves every page from its view."""
    settings.PAGE_CACHE_SECONDS = 0
    client.get(story.get_absolute_url())
    assert not is_kept(Client(), story.get_absolute_url())


# --- Shared fragments (comment threads, results tables) --------------------------------------


def reader_with_a_cookie():
    """A reader the whole-page store steps aside for (a personal cookie: here saved comment
    details it cannot read): the page is built for them, from the shared fragments."""
    reader = Client()
    reader.cookies[cookies.cookie_name(cookies.AUTHOR)] = "unreadable"
    return reader


def kept_entries():
    """(key, Entry) for everything the store keeps in the test cache."""
    return [
        (key, pickle.loads(value))  # noqa: S301 - our own test cache
        for key, value in cache._cache.items()
        if ":kept:" in key
    ]


def kept_fragments():
    """The text of every kept fragment."""
    return [entry.value for _key, entry in kept_entries() if isinstance(entry.value, str)]


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_comment_threads_are_built_once_for_every_reader(story):
    """The second reader's page reuses the first one's rendered threads: fewer queries."""
    for _ in range(3):
        make_comment(article=story, parent=make_comment(article=story))
    url = story.get_absolute_url()
    first = queries_for(reader_with_a_cookie(), url)
    assert kept_fragments()
    assert queries_for(reader_with_a_cookie(), url) < first


def test_junk_comment_page_numbers_share_page_one(story):
    """?cpage= junk, or a page past the last, shows a page that exists and takes no cache
    entry of its own (here there is one page)."""
    make_comment(article=story)
    url = story.get_absolute_url()
    for junk in ["", "x", "1.5", "-2", "０", "9" * 50, "2", "77", "123456789", "9" * 5000]:
        assert reader_with_a_cookie().get(url, {"cpage": junk}).status_code == 200
    threads = [html for html in kept_fragments() if 'id="comments-heading"' in html]
    assert len(threads) == 1


def test_approving_a_comment_retires_the_kept_threads(story, committed):
    """An approved comment shows at once, also to readers whose page is built for them."""
    make_comment(article=story, body="Already here")
    comment = make_comment(article=story, status=Comment.Status.PENDING, body="Worth the wait")
    url = story.get_absolute_url()
    assert "Worth the wait" not in reader_with_a_cookie().get(url).content.decode()
    with committed():
        services.approve(Comment.objects.filter(pk=comment.pk), by=make_user())
    html = reader_with_a_cookie().get(url).content.decode()
    assert "Worth the wait" in html and "2 comments" in html


def test_a_pending_comment_never_enters_the_shared_threads(story):
    """The author sees their pending comment; it is never in what other readers are given."""
    make_comment(article=story, body="Public words")
    pending = make_comment(article=story, status=Comment.Status.PENDING, body="Secret words")
    author = reader_with_a_cookie()
    author.cookies[cookies.cookie_name(cookies.PENDING)] = cookies.signing.dumps(
        [pending.pk], salt=f"comments.{cookies.PENDING}", compress=True
    )
    url = story.get_absolute_url()
    assert "Secret words" in author.get(url).content.decode()  # fills the shared fragment
    assert kept_fragments()
    assert not any("Secret words" in html for html in kept_fragments())
    html = reader_with_a_cookie().get(url).content.decode()
    assert "Public words" in html and "Secret words" not in html


def test_editing_a_result_retires_the_kept_results_tables(committed):
    """A corrected time shows at once on the event page and on the story's podium table."""
    event = make_event()
    result = make_result(event=event, rank=1, time_ms=72_310)
    with committed():
        story = make_article(events=[event])
    urls = [event.get_absolute_url(), story.get_absolute_url()]
    for url in urls:
        assert "1:12.31" in reader_with_a_cookie().get(url).content.decode()
    assert kept_fragments()
    with committed():
        result.time_ms = 72_450
        result.save()
    for url in urls:
        html = reader_with_a_cookie().get(url).content.decode()
        assert "1:12.45" in html and "1:12.31" not in html


def blank_form(html):
    return html[
        html.index('<section id="respond"') : html.index("</section>", html.index("respond"))
    ]


def test_the_blank_comment_form_is_shared_and_a_session_gets_its_own(story, committed):
    """Readers without a session share one rendered blank form with no token in it; a signed-in
    reader's form carries their CSRF token and is never kept."""
    url = story.get_absolute_url()
    form = blank_form(reader_with_a_cookie().get(url).content.decode())
    assert "csrfmiddlewaretoken" not in form and 'name="token" value=""' in form
    editor = Client(enforce_csrf_checks=True)
    editor.force_login(make_user(is_staff=True))
    html = editor.get(url).content.decode()
    token = CSRF_INPUT.search(html).group(1)
    assert not any(token in fragment for fragment in kept_fragments())
    with committed():
        response = editor.post(
            reverse("comments:post", kwargs={"slug": story.slug}),
            {**comment_form_data(story), "csrfmiddlewaretoken": token},
        )
    assert response.status_code == 303


def test_the_blank_form_renders_without_asking_for_a_token_it_does_not_have(settings):
    """The tokenless blank form does not call {% csrf_token %} at all: with debug on, Django
    warned on every rendering that the token was missing."""
    from comments.forms import _blank_form

    settings.DEBUG = True
    _blank_form.clear()
    story = make_article()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = Client().get(story.get_absolute_url())
    assert response.status_code == 200 and "csrfmiddlewaretoken" not in response.content.decode()


def test_the_shared_blank_form_is_what_a_full_rendering_of_the_story_s_form_gives():
    """The blank form is rendered once per process for a stand-in story and given each story's
    slug: byte for byte what rendering the form for that story gives."""
    from comments.forms import STAND_IN_SLUG, CommentForm

    for slug in ("first-story", "second_story-2"):
        story = make_article(slug=slug)
        shared = blank_form(reader_with_a_cookie().get(story.get_absolute_url()).content.decode())
        form = CommentForm(article=story, initial={"remember": False, "parent": None},
                           issue_token=False, with_csrf=False)  # fmt: skip
        full = render_to_string(
            "comments/form.html",
            {"request": RequestFactory().get("/"), "article": story, "form": form,
             "csrf_token": None, "replying_to": None},
        )  # fmt: skip
        assert shared == blank_form(full) and STAND_IN_SLUG not in shared


def test_kept_pages_and_forms_still_serve_after_the_secret_key_changes(story, settings):
    """Rotating SECRET_KEY leaves kept copies in the cache: they hold nothing signed, so they
    are served as they are."""
    url = story.get_absolute_url()
    Client().get(url)  # a kept page
    reader_with_a_cookie().get(url)  # a kept blank form
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    for reader in (Client(), reader_with_a_cookie()):
        response = reader.get(url)
        assert response.status_code == 200
        assert 'id="comment-form"' in response.content.decode()


def test_a_deploy_that_changes_a_template_the_code_or_static_files_starts_with_nothing_kept(
    settings, tmp_path
):
    """Keys carry the release: a digest of templates, code and the static files' hashed names,
    so pages kept by the old release are never served by the new one; an unchanged restart
    keeps them."""
    settings.BASE_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "static"
    (tmp_path / "templates").mkdir()
    (tmp_path / "articles").mkdir()
    settings.STATIC_ROOT.mkdir()
    template, code = tmp_path / "templates" / "page.html", tmp_path / "articles" / "markdown.py"
    manifest = settings.STATIC_ROOT / "staticfiles.json"
    template.write_text("<p>Old</p>")
    code.write_text("EXTENSIONS = []")
    manifest.write_text('{"paths": {"css/site.css": "css/site.1.css"}}')
    before = releases.release()
    assert releases.release() == before
    template.write_text("<p>New</p>")
    after_template = releases.release()
    code.write_text("EXTENSIONS = ['smarty']")
    after_code = releases.release()
    manifest.write_text('{"paths": {"css/site.css": "css/site.2.css"}}')
    assert len({before, after_template, after_code, releases.release()}) == 4


def test_a_deploy_that_changes_any_template_file_changes_the_release(settings, tmp_path):
    """Not only .html and .py: a sitemap's XML template, an email's text template or any other
    file under the templates and code folders is part of the release; bytecode and migrations
    are not (they change no page)."""
    settings.BASE_DIR = tmp_path
    settings.STATIC_ROOT = tmp_path / "static"
    sitemap = tmp_path / "templates" / "sitemaps" / "sitemap.xml"
    email = tmp_path / "comments" / "templates" / "comments" / "emails" / "reply.txt"
    bytecode = tmp_path / "articles" / "__pycache__" / "views.cpython-312.pyc"
    migration = tmp_path / "articles" / "migrations" / "0002_more.py"
    for path in (sitemap, email, bytecode, migration):
        path.parent.mkdir(parents=True)
        path.write_text("old")
    before = releases.release()
    bytecode.write_text("new")
    migration.write_text("new")
    assert releases.release() == before
    sitemap.write_text("<urlset>new</urlset>")
    after_sitemap = releases.release()
    email.write_text("new")
    assert len({before, after_sitemap, releases.release()}) == 3


def test_every_release_shares_one_purge_sequence():
    """Kept pages and fragments are keyed by release, purges are not: during a rolling deploy
    a change made through a server of either release retires what both keep."""
    assert caching.RELEASE not in store.SEQUENCE_KEY + store.PURGED_KEY
    assert caching.RELEASE in store.ENTRY_KEY


def test_a_remembered_commenters_form_is_built_for_them_and_never_kept(story):
    """Saved name and email fill that reader's form only: they never enter a shared cache, and
    the next reader gets a blank form."""
    url = story.get_absolute_url()
    regular = reader_with_a_cookie()
    regular.cookies[cookies.cookie_name(cookies.AUTHOR)] = signing.dumps(
        {"name": "Saved Name", "email": "saved@example.com", "website": ""},
        salt=f"comments.{cookies.AUTHOR}",
        compress=True,
    )
    assert 'value="saved@example.com"' in regular.get(url).content.decode()
    stranger_html = reader_with_a_cookie().get(url).content.decode()
    assert "saved@example.com" not in stranger_html and "Saved Name" not in stranger_html
    kept = b"".join(value for value in cache._cache.values())
    assert b"saved@example.com" not in kept and b"Saved Name" not in kept


def test_a_reply_form_is_built_for_its_reader(story):
    """?replyto= gives that reader a reply form; the kept blank form stays a plain one."""
    comment = make_comment(article=story, name="Ada")
    url = story.get_absolute_url()
    reader_with_a_cookie().get(url)
    reply_html = reader_with_a_cookie().get(f"{url}?replyto={comment.pk}").content.decode()
    assert f'name="parent" value="{comment.pk}"' in reply_html
    plain_html = reader_with_a_cookie().get(url).content.decode()
    assert f'name="parent" value="{comment.pk}"' not in plain_html
    assert 'name="parent"' in plain_html


def test_pages_built_from_kept_fragments_show_a_new_story_at_once(story, committed):
    """Home, section and tag listings (and their story counts) are kept as fragments; a story
    published a moment later is on all of them for a reader whose page is built for them."""
    tag = make_tag(name="Speed skating", slug="speed-skating")
    urls = [reverse("articles:home"), story.section.get_absolute_url(), tag.get_absolute_url()]
    reader = reader_with_a_cookie()
    for url in urls:
        assert "Brand new headline" not in reader.get(url).content.decode()
    with committed():
        make_article(title="Brand new headline", section=story.section, tags=[tag])
    for url in urls:
        assert "Brand new headline" in reader.get(url).content.decode()


def test_results_pages_built_from_kept_fragments_show_an_import_at_once(committed):
    """Event, medal table and athlete pages kept as fragments change with the next import."""
    make_nation("NED")
    event = make_event(slug="women-1000m")
    reader = reader_with_a_cookie()
    event_url, medals_url = event.get_absolute_url(), event.competition.get_absolute_url()
    assert "Jutta Leerdam" not in reader.get(event_url).content.decode()
    assert "Nation NED" not in reader.get(medals_url).content.decode()
    with committed():
        import_results(event=event, data=b"rank,athlete,nation,time\n1,Jutta Leerdam,NED,1:12.31\n")
    assert "Jutta Leerdam" in reader.get(event_url).content.decode()
    assert "Nation NED" in reader.get(medals_url).content.decode()
    athlete_url = event.results.get().athlete.get_absolute_url()
    assert "1:12.31" in reader.get(athlete_url).content.decode()
    with committed():
        import_results(event=event, data=b"rank,athlete,nation,time\n1,Jutta Leerdam,NED,1:12.45\n")
    assert "1:12.45" in reader.get(athlete_url).content.decode()


def test_a_page_built_from_scratch_reads_the_next_go_live_once(story, committed):
    """The story, threads, form and page are each kept until the next scheduled story goes
    live: that moment is read once per request, and again by the next request."""
    make_comment(article=story)
    url = story.get_absolute_url()

    def go_live_reads():
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            assert Client().get(url).status_code == 200
        return [q["sql"] for q in queries if 'MIN("articles_article"."published_at")' in q["sql"]]

    assert len(go_live_reads()) == 1
    with committed():
        make_article(
            status=Article.Status.SCHEDULED, published_at=timezone.now() + timedelta(seconds=90)
        )
    assert len(go_live_reads()) == 1
    page = next(key for key, entry in kept_entries() if isinstance(entry.value, Snapshot))
    assert 0 < cache._expire_info[page] - time.time() <= 90


def test_a_renamed_author_shows_at_once_on_a_page_built_from_fragments(story, committed):
    """The byline is in the kept story; renaming its author (no change to stories) still shows."""
    url = story.get_absolute_url()
    with committed():
        story.author.first_name, story.author.last_name = "Old", "Name"
        story.author.save()
    assert "Old Name" in reader_with_a_cookie().get(url).content.decode()
    assert "Old Name" in Client().get(url).content.decode()
    with committed():
        story.author.first_name = "New"
        story.author.save()
    assert "New Name" in Client().get(url).content.decode()
    html = reader_with_a_cookie().get(url).content.decode()
    assert "New Name" in html and "Old Name" not in html


def test_search_results_are_kept_no_longer_than_a_page(client, committed, settings):
    """Anyone can add a kept search by typing a new query: those live as long as a kept page."""
    with committed():
        make_article(title="Skeleton gold")
    reader_with_a_cookie().get(reverse("search"), {"q": "skeleton"})
    searches = [
        key
        for key, entry in kept_entries()
        if isinstance(entry.value, list)
        and all(isinstance(pk, int) for pk in entry.value)
        or "Skeleton gold" in str(entry.value)
    ]
    assert searches
    for key in searches:
        assert cache._expire_info[key] - time.time() <= settings.PAGE_CACHE_SECONDS


def test_shared_fragments_expire_when_a_scheduled_story_goes_live(committed):
    """Related stories and threads kept as fragments are rebuilt once a scheduled story is live."""
    with committed():
        make_article(
            status=Article.Status.SCHEDULED, published_at=timezone.now() + timedelta(seconds=90)
        )
    caching.fragment(("probe",), lambda: "html")
    key = store.entry_key(("fragment", "probe"))
    seconds_left = next(
        cache._expire_info[k] - time.time() for k in cache._cache if k.endswith(key)
    )
    assert 0 < seconds_left <= 90


# --- Derived HTML stored when it is written ---------------------------------------------------


def test_a_story_body_is_rendered_when_saved_and_again_after_a_new_renderer(story, monkeypatch):
    """The Markdown body's HTML is stored with the story; a deploy that changes the renderer
    re-renders it when it is first read, and stores that."""
    from articles import markdown

    assert story.body_html == "<p>The first version of the story.</p>"
    assert story.body_rendered_with == markdown.RENDERER
    monkeypatch.setattr(markdown, "RENDERER", "a-new-renderer00")
    monkeypatch.setattr(markdown, "render_markdown", lambda text: "<p>New renderer</p>")
    fresh = Article.objects.get(pk=story.pk)
    assert fresh.rendered_body == "<p>New renderer</p>"
    assert Article.objects.get(pk=story.pk).body_rendered_with == "a-new-renderer00"


def test_a_comment_body_is_rendered_when_saved_and_again_after_a_new_renderer(story, monkeypatch):
    """A comment's HTML is stored with it; after a renderer change the threads render it
    once more and store it, all of a page's comments in one query."""
    from comments import rendering

    comment = make_comment(article=story, body="See www.example.com\nand more")
    assert 'href="https://www.example.com"' in comment.body_html
    assert comment.body_rendered_with == rendering.RENDERER
    monkeypatch.setattr(rendering, "RENDERER", "a-new-renderer00")
    html = Client().get(story.get_absolute_url()).content.decode()
    assert 'href="https://www.example.com"' in html
    assert Comment.objects.get(pk=comment.pk).body_rendered_with == "a-new-renderer00"


# --- How a kept page is sent ------------------------------------------------------------------


def test_a_kept_page_is_sent_gzipped_to_browsers_that_ask(story):
    """Compressed once when it is kept; a client that does not ask gets it plain. Each form
    has its own ETag, and both vary by Accept-Encoding."""
    import gzip

    url = story.get_absolute_url()
    plain = Client().get(url)
    zipped = Client().get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content) / 3
    assert int(zipped["Content-Length"]) == len(zipped.content)
    assert "Content-Encoding" not in plain
    assert zipped["ETag"] != plain["ETag"]
    for response in (plain, zipped):
        assert "Accept-Encoding" in response["Vary"] and "Cookie" in response["Vary"]
    again = Client().get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped["ETag"]})
    assert again.status_code == 304


def test_a_kept_page_carries_every_security_header(story):
    """Served before most of the middleware runs, a kept page still gets the headers every
    page has."""
    url = story.get_absolute_url()
    Client().get(url)
    kept = Client().get(url)
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
        "Cross-Origin-Resource-Policy",
        "Permissions-Policy",
    ):
        assert header in kept, header
    assert is_kept(Client(), url)


def test_the_shared_blank_form_holds_no_token_whoever_built_it(story):
    """A reader with a personal cookie may be the first to build the blank form everyone then
    shares: it carries no "shown at" token of theirs."""
    url = story.get_absolute_url()
    builder = reader_with_a_cookie().get(url).content.decode()
    assert 'name="token" value=""' in builder
    for reader in (Client(), reader_with_a_cookie()):
        assert 'name="token" value=""' in reader.get(url).content.decode()
