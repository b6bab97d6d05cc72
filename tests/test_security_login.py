"""Someone guesses admin passwords: lockout per user and address together, per address, and
(more slowly) per user; the same answer for real and made-up usernames; no way to be sent off
the site after signing in; the client's address taken from X-Forwarded-For only when a trusted
proxy sent it."""

import ipaddress
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
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
    assert response["Retry-After"] == "900"  # the whole cool-off, in seconds


def limit(parameters):
    return dict((str(kind), n) for kind, n in settings.LOGIN_LOCKOUTS)[str(parameters)]


def test_wrong_passwords_from_one_address_lock_only_that_address_out(client):
    """Five failures on one username from one address lock that pair (429, Retry-After), but
    the user still signs in from another address: nobody can lock staff out from one place."""
    make_user("edna", is_staff=True)
    for _ in range(limit(["username", "ip_address"]) - 1):
        assert attempt(client, "edna", ip="198.51.100.1").status_code == 200
    assert_locked_out(attempt(client, "edna", ip="198.51.100.1"))
    assert_locked_out(attempt(client, "edna", PASSWORD, ip="198.51.100.1"))
    assert attempt(client, "edna", PASSWORD, ip="203.0.113.50").status_code == 302


def test_one_account_guessed_from_many_addresses_is_locked_more_slowly(client):
    """Failures on one username spread over many addresses lock the account at the slower
    per-user limit, even for the right password, and not before."""
    make_user("edna", is_staff=True)
    per_pair = limit(["username", "ip_address"])
    for n in range(limit("username") - 1):
        response = attempt(client, "edna", ip=f"198.51.{n // (per_pair - 1)}.{n % (per_pair - 1)}")
        assert response.status_code == 200, n
    assert_locked_out(attempt(client, "edna", ip="203.0.113.1"))
    assert_locked_out(attempt(client, "edna", PASSWORD, ip="203.0.113.50"))


def test_the_owner_signing_in_does_not_reset_a_guess_from_elsewhere(client):
    """A successful sign-in forgets its own typos, not the failures others made on the account
    from other addresses: the per-user count keeps going."""
    make_user("edna", is_staff=True)
    per_pair = limit(["username", "ip_address"])
    for n in range(limit("username") - 1):
        attempt(client, "edna", ip=f"198.51.{n // (per_pair - 1)}.{n % (per_pair - 1)}")
    assert attempt(client, "edna", PASSWORD, ip="203.0.113.50").status_code == 302
    client.logout()
    assert_locked_out(attempt(client, "edna", ip="203.0.113.1"))


def test_one_client_guessing_many_usernames_is_locked_out(client):
    """Failures from one address, each on a different username, lock that address out (at the
    per-address limit) and nobody else."""
    make_user("real", is_staff=True)
    for n in range(limit("ip_address") - 1):
        assert attempt(client, f"guess{n}", ip="198.51.100.7").status_code == 200
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
    for _ in range(limit(["username", "ip_address"]) - 1):
        known = attempt(client, "edna", ip="198.51.100.1")
        unknown = attempt(client, "nobody-here", ip="198.51.100.2")
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


def test_lockout_page_needs_no_inline_code(client):
    """The lockout page is the site's styled page: external stylesheet, no inline style/script."""
    for _ in range(limit(["username", "ip_address"])):
        response = attempt(client, "edna", ip="198.51.100.1")
    html = response.content.decode()
    assert "/static/css/site.css" in html
    assert "style=" not in html and "<script>" not in html and " on" not in html.split(">", 1)[1]


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_behind_the_proxy_the_client_is_the_address_the_proxy_appended():
    """From the trusted proxy (loopback by default) only the last X-Forwarded-For entry counts;
    the ones before it were written by the client."""
    factory = RequestFactory()
    forged = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    assert client_ip(forged) == "203.0.113.9"
    assert client_ip(factory.get("/", REMOTE_ADDR="::1", HTTP_X_FORWARDED_FOR="2001:db8::7")) == (
        "2001:db8::7"
    )
    assert client_ip(factory.get("/", REMOTE_ADDR="127.0.0.1")) == "127.0.0.1"
    assert client_ip(factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="junk")) == ""


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_x_forwarded_for_from_an_untrusted_sender_is_ignored():
    """A client that reaches the server directly, not through a trusted proxy, is known by its
    own address whatever X-Forwarded-For it sends (behind the proxy too: DJANGO_SECURE=1)."""
    factory = RequestFactory()
    for peer in ["198.51.100.4", "10.0.0.2", "::ffff:198.51.100.4"]:
        request = factory.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR="1.1.1.1, 127.0.0.1")
        assert client_ip(request) == peer.removeprefix("::ffff:")


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_a_chain_of_configured_proxies_is_walked_back_to_the_client(settings):
    """With NEWSROOM_TRUSTED_PROXIES listing a CDN's range and the local proxy, the client is the
    rightmost address that is not one of them."""
    settings.TRUSTED_PROXIES = [
        ipaddress.ip_network("127.0.0.1"),
        ipaddress.ip_network("192.0.2.0/24"),
    ]
    request = RequestFactory().get(
        "/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5, 192.0.2.9"
    )
    assert client_ip(request) == "203.0.113.5"


def test_trusted_proxies_come_from_the_environment(monkeypatch):
    """NEWSROOM_TRUSTED_PROXIES is a comma list of addresses and CIDR ranges; loopback when
    unset; a typo stops the server with a clear message rather than trusting nobody quietly."""
    from newsroom.settings import env_networks

    monkeypatch.setenv("NEWSROOM_TRUSTED_PROXIES", " 10.0.0.0/8, 2001:db8::1 ")
    assert [str(n) for n in env_networks("NEWSROOM_TRUSTED_PROXIES", "")] == [
        "10.0.0.0/8",
        "2001:db8::1/128",
    ]
    monkeypatch.delenv("NEWSROOM_TRUSTED_PROXIES")
    assert [str(n) for n in settings.TRUSTED_PROXIES] == ["127.0.0.0/8", "::1/128"]
    monkeypatch.setenv("NEWSROOM_TRUSTED_PROXIES", "10.0.0.0/33")
    with pytest.raises(SystemExit, match="not an IP address or CIDR range"):
        env_networks("NEWSROOM_TRUSTED_PROXIES", "")


@override_settings(TRUST_X_FORWARDED_FOR=False)
def test_without_a_proxy_x_forwarded_for_is_ignored():
    """Served directly, a client cannot pick its own address with X-Forwarded-For."""
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_ip(request) == "198.51.100.4"


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_lockout_behind_the_proxy_counts_each_client_separately(client):
    """Behind the proxy every request has the proxy's address; one client's failures do not
    lock out the others."""
    make_user("edna", is_staff=True)
    for n in range(limit("ip_address")):
        client.post(
            "/admin/login/",
            {"username": f"guess{n}", "password": "x"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.66",
        )
    response = client.post(
        "/admin/login/",
        {"username": "edna", "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.5",
    )
    assert response.status_code == 302


@override_settings(TRUST_X_FORWARDED_FOR=True)
def test_a_forged_x_forwarded_for_does_not_escape_the_lockout(client):
    """A client talking to the server directly cannot dodge its lockout by sending a new
    X-Forwarded-For with each guess."""
    make_user("edna", is_staff=True)
    for n in range(limit(["username", "ip_address"]) - 1):
        client.post(
            "/admin/login/",
            {"username": "edna", "password": "x"},
            REMOTE_ADDR="198.51.100.9",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}",
        )
    response = client.post(
        "/admin/login/",
        {"username": "edna", "password": "x"},
        REMOTE_ADDR="198.51.100.9",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
    )
    assert_locked_out(response)


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
    # An unsafe `next` lands on the admin, not the missing /accounts/profile/ (the last target
    # is a harmless path on this site, followed as it is).
    assert response["Location"] in ("/admin/", target)


@pytest.mark.parametrize("path", ["//evil.example", "//evil.example/path", "/\\evil.example"])
def test_slash_redirects_never_leave_the_site(client, path):
    """The trailing-slash redirect cannot be turned into a jump to another host."""
    response = client.get("/", PATH_INFO=path)  # as sent: the test client would read a host
    assert response.status_code in {301, 302, 404}
    if response.status_code != 404:
        assert lands_on(response["Location"], f"http://testserver{path}") == "testserver"
