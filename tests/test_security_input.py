"""Someone sends requests no browser would: forged cross-site posts, oversized bodies, SQL and
header injection, other hosts, other methods. Each gets a clear 4xx and nothing is stored."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from articles.models import Article
from comments.models import Comment

from .factories import comment_form_data, make_article, make_comment

pytestmark = pytest.mark.django_db


def comment_url(article):
    return reverse("comments:post", args=[article.slug])


def test_cross_site_comment_post_is_refused_clearly():
    """A cross-site form post (the browser says so) gets the styled 403 and stores nothing."""
    article = make_article()
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(
        comment_url(article), comment_form_data(article), headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert not Comment.objects.exists()


def test_same_origin_comment_post_is_accepted_without_a_token():
    """The same post from the site's own page goes through (the 403 is the origin check)."""
    article = make_article()
    browser = Client(enforce_csrf_checks=True)
    browser.get(article.get_absolute_url())
    data = comment_form_data(article)
    response = browser.post(comment_url(article), data, headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 303
    assert Comment.objects.count() == 1


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize(
    "path", ["/", "/search/?q=x", "/feed/", "/results/", "/healthz", "/media/x.jpg"]
)
def test_unsafe_methods_without_a_csrf_token_are_refused(method, path):
    """Every unsafe method from another site is refused, whichever URL it aims at."""
    article = make_article()
    browser = Client(enforce_csrf_checks=True, headers={"Sec-Fetch-Site": "cross-site"})
    for url in [path, article.get_absolute_url(), comment_url(article), "/admin/logout/"]:
        assert browser.generic(method, url).status_code in {403, 405}, url
    # Without Fetch Metadata or Origin (no browser), Django's token check still guards all
    # but the comment form, which answers a clear 400 for the empty post.
    browser = Client(enforce_csrf_checks=True)
    for url in [path, article.get_absolute_url(), "/admin/logout/"]:
        assert browser.generic(method, url).status_code in {403, 405}, url


def test_admin_login_without_csrf_token_is_refused():
    """Login CSRF: a forged admin login post is refused before credentials are checked."""
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/admin/login/", {"username": "a", "password": "b"})
    assert response.status_code == 403


def test_body_over_the_request_limit_is_413_before_it_is_read(client, settings):
    """A body over REQUEST_MAX_BYTES gets the styled 413 page with the limit in it."""
    article = make_article()
    too_big = b"x" * (settings.REQUEST_MAX_BYTES + 1)
    response = client.post(comment_url(article), too_big, content_type="text/plain")
    assert response.status_code == 413
    html = response.content.decode()
    assert "12 MB" in html and "<!DOCTYPE html>" in html
    assert not Comment.objects.exists()


def test_form_field_over_the_memory_limit_is_400(client, settings):
    """A form whose fields exceed DATA_UPLOAD_MAX_MEMORY_SIZE gets a 400, not a 500."""
    article = make_article()
    data = comment_form_data(article, body="x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10))
    response = client.post(comment_url(article), data)
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_too_many_form_fields_is_400(client, settings):
    """Thousands of form fields get a 400."""
    article = make_article()
    data = comment_form_data(article)
    data.update({f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)})
    assert client.post(comment_url(article), data).status_code == 400


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=xyz",
        "application/x-www-form-urlencoded; charset=no-such-charset",
        "application/json",
    ],
)
def test_malformed_bodies_are_4xx(client, content_type):
    """Broken multipart, unknown charsets and JSON where a form belongs: a 4xx, never a 500."""
    article = make_article()
    response = client.generic(
        "POST", comment_url(article), b"--xyz\r\nbroken", content_type=content_type
    )
    assert 400 <= response.status_code < 500


SQL_LOOKING = [
    "' OR '1'='1",
    "1; DROP TABLE comments_comment; --",
    "\\'; SELECT pg_sleep(5); --",
    "%' UNION SELECT password FROM auth_user --",
    "\x00",
]


@pytest.mark.parametrize("text", SQL_LOOKING)
def test_sql_looking_input_is_just_text(client, text):
    """Search and comments treat SQL-looking input as text; every table stays intact."""
    article = make_article(title="Ice")
    assert client.get("/search/", {"q": text}).status_code in {200, 400}
    response = client.post(comment_url(article), comment_form_data(article, body=f"Hm {text}"))
    assert response.status_code in {303, 400}
    assert Article.objects.filter(pk=article.pk).exists()
    if response.status_code == 303:
        assert Comment.objects.get().body == f"Hm {text}"


@pytest.mark.parametrize("parent", ["abc", "-1", "99999999999999999999", "1.5", "' OR 1=1"])
def test_junk_reply_parent_is_a_clear_400(client, parent):
    """A reply to a comment id that is junk or not there is refused with a message."""
    article = make_article()
    response = client.post(comment_url(article), comment_form_data(article, parent=parent))
    assert response.status_code == 400
    assert not Comment.objects.exists()


def test_line_breaks_in_a_name_cannot_inject_email_headers(client, settings):
    """A name with CR/LF and a fake Bcc header does not reach the moderators' email headers."""
    settings.MODERATOR_EMAILS = ["mods@example.com"]
    article = make_article()
    name = "Ann\r\nBcc: victim@example.com\r\nSubject: win"
    response = client.post(comment_url(article), comment_form_data(article, name=name))
    assert response.status_code in {303, 400}
    for message in mail.outbox:
        headers = message.message().as_string().split("\n\n", 1)[0]
        assert "victim@example.com" not in headers
        assert "Subject: win" not in headers
        assert message.recipients() == ["mods@example.com"]


@pytest.mark.parametrize(
    "host", ["evil.example", "testserver.evil.example", "testserver:80@evil.example", "a b"]
)
def test_requests_for_other_hosts_are_400(client, host):
    """A Host header we do not serve gets the styled 400, so no absolute link points away."""
    response = client.get("/", headers={"host": host})
    assert response.status_code == 400
    assert "evil.example" not in response.content.decode()


def test_forwarded_host_is_not_trusted(client):
    """X-Forwarded-Host cannot change the site's own absolute links (canonical, feeds)."""
    article = make_article()
    make_comment(article=article)
    for url in [article.get_absolute_url(), "/feed/", "/robots.txt", "/sitemap.xml"]:
        response = client.get(url, headers={"x-forwarded-host": "evil.example"})
        assert response.status_code == 200
        assert "evil.example" not in response.content.decode(), url
