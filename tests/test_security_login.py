"""Someone guesses admin passwords: lockout per user and per client, the same answer for
real and made-up usernames, and no way to be sent off the site after signing in."""

from urllib.parse import urljoin, urlsplit

import pytest
from django.test import RequestFactory, override_settings

from newsroom.clients import client_ip

from .factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def attempt(client, username, password="wrong guess", ip="198.51.100.1"):  # noqa: S107
    return client.post(
        "/admin/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def lands_on(location, page="http://testserver/admin/login/"):
    """The host a browser goes to for this Location (it reads a backslash as a slash and
    ignores leading spaces and control characters)."""
    location = location.lstrip("".join(map(chr, range(33)))).replace("\\", "/")
    return urlsplit(urljoin(page, location)).netloc


def assert_locked_out(response):
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed sign-in attempts" in html
    assert "15 minutes" in html
    assert 'name="password"' not in html  # no form to keep guessing with


def test_five_wrong_passwords_lock_the_account_even_from_elsewhere(client, settings):
    """After five failures on one username, even the right password from another address is
    refused, with a clear message and a 429."""
    make_user("edna", is_staff=True)
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "edna", ip=f"198.51.100.{n + 1}").status_code == 200
    assert_locked_out(attempt(client, "edna", ip="198.51.100.9"))
    assert_locked_out(attempt(client, "edna", PASSWORD, ip="203.0.113.50"))


def test_one_client_guessing_many_usernames_is_locked_out(client, settings):
    """Five failures from one address, each on a different username, lock that address out."""
    make_user("real", is_staff=True)
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, f"guess{n}", ip="198.51.100.7")
    assert_locked_out(attempt(client, "another-guess", ip="198.51.100.7"))
    assert_locked_out(attempt(client, "real", PASSWORD, ip="198.51.100.7"))
    assert attempt(client, "real", PASSWORD, ip="203.0.113.8").status_code == 302


def test_unknown_and_known_usernames_get_the_same_answers(client, settings):
    """A wrong password and a made-up username read the same, and lock out the same way, so
    nobody can learn which accounts exist."""
    make_user("edna", is_staff=True)
    known = attempt(client, "edna", ip="198.51.100.1")
    unknown = attempt(client, "nobody-here", ip="198.51.100.2")
    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].errors == unknown.context["form"].errors
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        known = attempt(client, "edna", ip=f"198.51.100.{10 + n}")
        unknown = attempt(client, "nobody-here", ip=f"198.51.100.{20 + n}")
    assert known.status_code == unknown.status_code == 429
    assert known.content.replace(b"edna", b"") == unknown.content.replace(b"nobody-here", b"")


def test_a_successful_login_resets_the_count(client, settings):
    """A few typos followed by the right password start the count again."""
    make_user("edna", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "edna")
    assert attempt(client, "edna", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "edna").status_code == 200


def test_lockout_page_needs_no_inline_code(client, settings):
    """The lockout page is the site's styled page: external stylesheet, no inline style/script."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        response = attempt(client, "edna", ip=f"198.51.100.{n + 1}")
    html = response.content.decode()
    assert "/static/css/site.css" in html
    assert "style=" not in html and "<script>" not in html and " on" not in html.split(">", 1)[1]


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_behind_the_proxy_the_client_is_the_address_the_proxy_appended():
    """Behind the TLS proxy only the last X-Forwarded-For entry counts; forged ones do not."""
    factory = RequestFactory()
    forged = factory.get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9"
    )
    assert client_ip(forged) == "203.0.113.9"
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
    assert client_ip(factory.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="junk")) == ""


@override_settings(TRUST_X_FORWARDED_FOR=False)
def test_without_a_proxy_x_forwarded_for_is_ignored():
    """Served directly, a client cannot pick its own address with X-Forwarded-For."""
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_ip(request) == "198.51.100.4"


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_lockout_behind_the_proxy_counts_each_client_separately(client, settings):
    """Behind the proxy every request has the proxy's address; one client's failures do not
    lock out the others."""
    make_user("edna", is_staff=True)
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/admin/login/",
            {"username": f"guess{n}", "password": "x"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    response = client.post(
        "/admin/login/",
        {"username": "edna", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.5",
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "https:evil.example",
        "http://testserver@evil.example/",
        " https://evil.example/",
        "javascript:alert(1)",
        "/%2F%2Fevil.example",
    ],
)
def test_login_never_redirects_off_the_site(client, target):
    """Whatever `next` says, a successful login lands on this site."""
    make_user("edna", is_staff=True)
    response = client.post(
        "/admin/login/",
        {"username": "edna", "password": PASSWORD, "next": target},
        REMOTE_ADDR="198.51.100.1",
    )
    assert response.status_code == 302
    assert lands_on(response["Location"]) == "testserver"


@pytest.mark.parametrize("path", ["//evil.example", "//evil.example/path", "/\\evil.example"])
def test_slash_redirects_never_leave_the_site(client, path):
    """The trailing-slash redirect cannot be turned into a jump to another host."""
    response = client.get("/", PATH_INFO=path)  # as sent: the test client would read a host
    assert response.status_code in {301, 302, 404}
    if response.status_code != 404:
        assert lands_on(response["Location"], f"http://testserver{path}") == "testserver"
