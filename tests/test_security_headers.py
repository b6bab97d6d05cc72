"""A security scanner looks at the site: deploy checks, headers scored by the Mozilla HTTP
Observatory's rules, cookies, the HTTPS redirect and the Content-Security-Policy."""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse

from .factories import image_bytes, make_article, make_tag, make_user

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_FILE = ROOT / "newsroom" / "settings.py"
SECURITY_PREFIXES = ("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_", "X_FRAME_OPTIONS", "TRUST_")
SPEC_URLS = [
    "/",
    "/sitemap.xml",
    "/feed/",
    "/feed/atom/",
    "/search/?q=skating",
    "/results/",
    "/robots.txt",
    "/healthz",
    "/admin/login/",
    "/no/such/page/",
    "/static/css/site.css",
]


@pytest.fixture
def production_security(settings, monkeypatch):
    """The security settings exactly as settings.py computes them for a deployment
    (debug off, DJANGO_SECURE on), applied to this test."""
    monkeypatch.setenv("DJANGO_SECURE", "1")
    monkeypatch.setenv("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    monkeypatch.delenv("DJANGO_DEBUG", raising=False)
    computed = runpy.run_path(str(SETTINGS_FILE))
    for name, value in computed.items():
        if name.startswith(SECURITY_PREFIXES):
            setattr(settings, name, value)
    assert settings.SECURE_SSL_REDIRECT and settings.SESSION_COOKIE_SECURE
    return settings


# --- The Observatory's scoring rules (mdn/mdn-http-observatory, src/analyzer/tests/*.js and
# src/grader/charts.js), for one HTTPS response. Each rule gives (result, score modifier). ---

DANGEROUSLY_BROAD = {"ftp:", "http:", "https:", "*", "http://*", "http://*.*", "https://*"}
DANGEROUSLY_BROAD |= {"https://*.*"}
UNSAFE_INLINE = {"'unsafe-inline'", "data:"}
NONCES_HASHES = ("'sha256-", "'sha384-", "'sha512-", "'nonce-")
SIX_MONTHS = 15_552_000


def parse_csp(header):
    policy = {}
    for directive in header.split(";"):
        name, *sources = directive.split() or [""]
        if name:
            policy.setdefault(name.lower(), set(sources))
    return policy


def score_csp(headers):
    header = headers.get("Content-Security-Policy")
    if not header:
        return "csp-not-implemented", -25
    csp = parse_csp(header)
    default = csp.get("default-src")
    script = set(csp.get("script-src") or default or {"*"})
    style = set(csp.get("style-src") or default or {"*"})
    objects = set(csp.get("object-src") or default or {"*"})
    for sources in (script, style):
        if any(s.startswith(NONCES_HASHES) for s in sources):
            sources.discard("'unsafe-inline'")
    active = [s for d, v in csp.items() if d not in {"img-src", "media-src"} for s in v]
    passive = [s for d in ("img-src", "media-src") for s in csp.get(d, default or set())]
    if script & (DANGEROUSLY_BROAD | UNSAFE_INLINE) or objects & DANGEROUSLY_BROAD:
        return "csp-implemented-with-unsafe-inline", -20
    if any(s.startswith(("http:", "ftp:")) for s in active):
        return "csp-implemented-with-insecure-scheme", -20
    if "'unsafe-eval'" in script | style:
        return "csp-implemented-with-unsafe-eval", -10
    if any(s.startswith(("http:", "ftp:")) for s in passive):
        return "csp-implemented-with-insecure-scheme-in-passive-content-only", -10
    if style & (DANGEROUSLY_BROAD | UNSAFE_INLINE):
        return "csp-implemented-with-unsafe-inline-in-style-src-only", 0
    if default == {"'none'"}:
        return "csp-implemented-with-no-unsafe-default-src-none", 10
    return "csp-implemented-with-no-unsafe", 5


def score_hsts(headers):
    header = headers.get("Strict-Transport-Security")
    if not header:
        return "hsts-not-implemented", -20
    values = [part.strip().lower() for part in header.split(";")]
    ages = [v.removeprefix("max-age=") for v in values if v.startswith("max-age=")]
    if "," in header or not ages or not ages[0].isdigit():
        return "hsts-header-invalid", -20
    if int(ages[0]) < SIX_MONTHS:
        return "hsts-implemented-max-age-less-than-six-months", -10
    return "hsts-implemented-max-age-at-least-six-months", 0


def score_cookies(response, hsts_ok):
    jar = response.cookies
    if not jar:
        return "cookies-not-found", 0
    worst = ("cookies-secure-with-httponly-sessions-and-samesite", 5)
    for name, morsel in jar.items():
        session = any(word in name.lower() for word in ("login", "sess"))
        samesite = morsel["samesite"].lower()
        findings = []
        if samesite and samesite not in {"lax", "strict", "none"}:
            findings.append(("cookies-samesite-flag-invalid", -20))
        if not morsel["secure"]:
            findings.append(
                ("cookies-without-secure-flag-but-protected-by-hsts", -5)
                if hsts_ok
                else ("cookies-without-secure-flag", -20)
            )
            if session:
                findings.append(("cookies-session-without-secure-flag", -40))
        if "csrf" in name.lower() and not samesite:
            findings.append(("cookies-anticsrf-without-samesite-flag", -20))
        if session and not morsel["httponly"]:
            findings.append(("cookies-session-without-httponly-flag", -30))
        if not samesite:
            findings.append(("cookies-secure-with-httponly-sessions", 0))
        worst = min([worst, *findings], key=lambda finding: finding[1])
    return worst


def score_x_content_type_options(headers):
    value = headers.get("X-Content-Type-Options")
    if value is None:
        return "x-content-type-options-not-implemented", -5
    if value.strip().lower() != "nosniff":
        return "x-content-type-options-header-invalid", -5
    return "x-content-type-options-nosniff", 0


def score_x_frame_options(headers):
    if "frame-ancestors" in parse_csp(headers.get("Content-Security-Policy", "")):
        return "x-frame-options-implemented-via-csp", 5
    value = (headers.get("X-Frame-Options") or "").strip().lower()
    if value in {"deny", "sameorigin"} or value.startswith("allow-from"):
        return "x-frame-options-sameorigin-or-deny", 0
    return "x-frame-options-not-implemented-or-invalid", -20


def score_referrer_policy(headers):
    value = headers.get("Referrer-Policy")
    if value is None:
        return "referrer-policy-not-implemented", 0
    good = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
    bad = {"origin", "origin-when-cross-origin", "unsafe-url", "no-referrer-when-downgrade"}
    known = [v.strip().lower() for v in value.split(",") if v.strip().lower() in good | bad]
    if known and known[-1] in good:
        return "referrer-policy-private", 5
    if known:
        return "referrer-policy-unsafe", -5
    return "referrer-policy-header-invalid", -5


def score_corp(headers):
    value = (headers.get("Cross-Origin-Resource-Policy") or "").strip().lower()
    if not value:
        return "cross-origin-resource-policy-not-implemented", 0
    if value in {"same-origin", "same-site"}:
        return f"cross-origin-resource-policy-implemented-with-{value}", 10
    if value == "cross-origin":
        return "cross-origin-resource-policy-implemented-with-cross-origin", 0
    return "cross-origin-resource-policy-header-invalid", -5


def score_cors(headers, origin):
    allowed = (headers.get("Access-Control-Allow-Origin") or "").strip().lower()
    credentials = (headers.get("Access-Control-Allow-Credentials") or "").strip().lower()
    if allowed and allowed == origin and credentials == "true":
        return "cross-origin-resource-sharing-implemented-with-universal-access", -50
    return "cross-origin-resource-sharing-not-universal", 0


def observatory(response, origin="https://evil.example"):
    """Every rule's (result, modifier) for one response fetched over HTTPS."""
    headers = response.headers
    hsts = score_hsts(headers)
    return {
        "content-security-policy": score_csp(headers),
        "cookies": score_cookies(response, hsts_ok=hsts[1] >= 0),
        "strict-transport-security": hsts,
        "x-content-type-options": score_x_content_type_options(headers),
        "x-frame-options": score_x_frame_options(headers),
        "referrer-policy": score_referrer_policy(headers),
        "cross-origin-resource-policy": score_corp(headers),
        "cross-origin-resource-sharing": score_cors(headers, origin),
    }


def penalties(response):
    return {test: result for test, result in observatory(response).items() if result[1] < 0}


# --- The tests ---


def test_check_deploy_passes_with_debug_off():
    """`manage.py check --deploy --fail-level WARNING` passes with a deployment's settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment |= {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "news.example.com",
        "NEWSROOM_SITE_URL": "https://news.example.com",
    }
    result = check_deploy(environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    # Without the site's address, the links in emails would be relative: said, by its id.
    del environment["NEWSROOM_SITE_URL"]
    result = check_deploy(environment)
    assert result.returncode != 0 and "newsroom.W001" in result.stderr + result.stdout


def check_deploy(environment):
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_deployments_hash_passwords_with_argon2(monkeypatch):
    """Production settings hash new passwords with Argon2 (tests swap in a fast hasher)."""
    monkeypatch.setenv("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    computed = runpy.run_path(str(SETTINGS_FILE))
    assert computed["PASSWORD_HASHERS"][0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_the_scorer_penalises_weak_headers():
    """The scoring rules catch what they should: a weak response collects penalties."""
    weak = HttpResponse()
    weak["Content-Security-Policy"] = "default-src *; script-src 'self' 'unsafe-inline'"
    weak["Referrer-Policy"] = "unsafe-url"
    weak["Strict-Transport-Security"] = "max-age=600"
    weak["Access-Control-Allow-Origin"] = "https://evil.example"
    weak["Access-Control-Allow-Credentials"] = "true"
    weak["Cross-Origin-Resource-Policy"] = "anyone"
    weak.set_cookie("sessionid", "x", samesite=None)
    weak.set_cookie("csrftoken", "y", secure=True)
    found = penalties(weak)
    assert found == {
        "content-security-policy": ("csp-implemented-with-unsafe-inline", -20),
        "cookies": ("cookies-session-without-secure-flag", -40),
        "strict-transport-security": ("hsts-implemented-max-age-less-than-six-months", -10),
        "x-content-type-options": ("x-content-type-options-not-implemented", -5),
        "x-frame-options": ("x-frame-options-not-implemented-or-invalid", -20),
        "referrer-policy": ("referrer-policy-unsafe", -5),
        "cross-origin-resource-policy": ("cross-origin-resource-policy-header-invalid", -5),
        "cross-origin-resource-sharing": (
            "cross-origin-resource-sharing-implemented-with-universal-access",
            -50,
        ),
    }


@pytest.mark.django_db
def test_every_kind_of_page_scores_without_penalty(client, production_security):
    """Pages, feeds, admin, errors, static and media files: zero Observatory penalties."""
    article = make_article(tags=[make_tag()])
    media_name = default_storage.save("heroes/scan.jpg", ContentFile(image_bytes("JPEG")))
    urls = [
        *SPEC_URLS,
        article.get_absolute_url(),
        article.section.get_absolute_url(),
        f"/media/{media_name}",
    ]
    for url in urls:
        response = client.get(url, secure=True, headers={"origin": "https://evil.example"})
        assert response.status_code < 500, url
        assert penalties(response) == {}, url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
        assert "Permissions-Policy" in response, url


@pytest.mark.django_db
def test_home_page_earns_the_observatory_bonuses(client, production_security):
    """The front page gets the best result of every rule the Observatory has."""
    make_article()
    results = observatory(client.get("/", secure=True))
    assert results["content-security-policy"][0] == (
        "csp-implemented-with-no-unsafe-default-src-none"
    )
    assert results["x-frame-options"][1] == 5
    assert results["referrer-policy"][1] == 5
    assert results["cross-origin-resource-policy"][1] == 10
    assert results["strict-transport-security"][1] == 0


@pytest.mark.django_db
def test_login_cookies_are_host_prefixed_secure_httponly_and_samesite(client, production_security):
    """After an admin login, the session and CSRF cookies earn the cookie bonus."""
    make_user("sam", is_staff=True)
    login_page = client.get("/admin/login/", secure=True)
    assert observatory(login_page)["cookies"][0] == (
        "cookies-secure-with-httponly-sessions-and-samesite"
    )
    response = client.post(
        "/admin/login/",
        {"username": "sam", "password": "correct horse battery staple"},
        secure=True,
    )
    assert response.status_code == 302
    assert observatory(response)["cookies"][1] == 5
    session = response.cookies["__Host-sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"
    assert session["path"] == "/" and not session["domain"]
    assert "__Host-csrftoken" in login_page.cookies


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_on_the_same_host(client, production_security):
    """A request over plain HTTP gets a permanent redirect to the same URL over HTTPS."""
    response = client.get("/search/?q=ice", headers={"host": "localhost"})
    assert response.status_code == 301
    assert response["Location"] == "https://localhost/search/?q=ice"
    assert "Strict-Transport-Security" not in response  # HSTS only means something over HTTPS


@pytest.mark.django_db
def test_health_check_answers_the_proxy_over_plain_http(client, production_security):
    """A probe of the app server itself (from a trusted proxy address, loopback by default,
    with no X-Forwarded-Proto: Varnish's, a load balancer's) gets /healthz over plain HTTP."""
    assert client.get("/healthz").status_code == 200
    assert client.head("/healthz", REMOTE_ADDR="::1").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("peer", "headers"),
    [
        ("127.0.0.1", {"X-Forwarded-Proto": "http", "X-Forwarded-For": "198.51.100.7"}),
        ("127.0.0.1", {"X-Forwarded-Proto": "http"}),
        ("198.51.100.7", {}),
    ],
)
def test_health_check_from_the_public_is_redirected_to_https(
    client, production_security, peer, headers
):
    """/healthz reached over plain HTTP through the public proxy, or by a client that is not a
    trusted proxy, is redirected to HTTPS like every page (the Observatory's redirect test),
    and over HTTPS it answers."""
    response = client.get("/healthz", REMOTE_ADDR=peer, headers={"host": "localhost", **headers})
    assert response.status_code == 301
    assert response["Location"] == "https://localhost/healthz"
    secure = client.get("/healthz", headers={"host": "localhost", "X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert "Strict-Transport-Security" in secure


def test_csp_has_every_required_directive(client, settings):
    """The policy forbids plugins, <base>, framing and foreign form targets, and inline code."""
    csp = parse_csp(client.get("/robots.txt")["Content-Security-Policy"])
    assert csp["default-src"] == {"'none'"}
    assert csp["object-src"] == {"'none'"}
    assert csp["base-uri"] == {"'none'"}
    assert csp["frame-ancestors"] == {"'none'"}
    assert csp["form-action"] == {"'self'"}
    assert csp["script-src"] == {"'self'"}  # a nonce is only added for a page that uses one
    assert csp["style-src"] == {"'self'"}
    every_source = set().union(*csp.values())
    assert not every_source & {"'unsafe-inline'", "'unsafe-eval'", "*", "https:", "http:"}
    assert all(source.startswith("'") or source == "data:" for source in every_source)


@pytest.mark.django_db
def test_a_page_with_a_nonce_is_never_shared_cacheable(client, production_security):
    """Any response whose CSP carries a nonce is private: a shared cache must not reuse it."""
    article = make_article()
    make_user("nina", is_staff=True)
    for url in [*SPEC_URLS, article.get_absolute_url()]:
        response = client.get(url, secure=True)
        cache_control = response.get("Cache-Control", "")
        if "'nonce-" in response.get("Content-Security-Policy", ""):
            assert "private" in cache_control or "no-store" in cache_control, url
            assert "public" not in cache_control, url
