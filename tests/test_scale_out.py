"""App servers are stateless: two gunicorn servers on one PostgreSQL and one Redis behave as one
site. Also the settings that make scaling out a configuration change (read replica, S3)."""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import dj_database_url
import psycopg
import pytest
import redis
from django.conf import settings
from django.core import signing

from comments.forms import TOKEN_SALT

from .servers import ROOT, SECRET, environment, fetch, gunicorn, manage, postgres_url, redis_url

STORY = "/stories/leerdam-wins-olympic-1000m-gold/"
ADMIN_PASSWORD = "scale-out-admin-password-0123456789"  # noqa: S105 - a throwaway test database


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """A database of its own (not the test transaction), migrated and seeded, and a clean Redis."""
    if not postgres_url():
        pytest.skip("Needs DATABASE_URL pointing at PostgreSQL (two servers share one database).")
    cache_url = redis_url(12)
    if not cache_url:
        pytest.skip("Needs a reachable Redis (REDIS_URL or 127.0.0.1:6379) for the shared cache.")
    config = dj_database_url.parse(postgres_url())
    name = f"{os.environ.get('DJANGO_TEST_DATABASE_NAME', 'test')}_scaleout"
    admin_url = postgres_url().rsplit("/", 1)[0] + "/postgres"
    database_url = postgres_url().rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    store = redis.Redis.from_url(cache_url)
    store.flushdb()
    env = environment(DATABASE_URL=database_url, REDIS_URL=cache_url)
    try:
        manage("migrate", "--noinput", "-v0", env=env)
        manage("seed_demo", "-v0", env=env)
        manage(
            "createsuperuser",
            "--noinput",
            "--username=chief",
            "--email=chief@example.com",
            env=env | {"DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
        )
        yield {"DATABASE_URL": database_url, "REDIS_URL": cache_url, "user": config["USER"]}
    finally:
        store.flushdb()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def servers(deployment, static_root, tmp_path_factory):
    """Two production servers, each on its own loopback port, sharing database and cache."""
    env = {key: deployment[key] for key in ("DATABASE_URL", "REDIS_URL")}
    tmp_path = tmp_path_factory.mktemp("scaleout")
    with (
        gunicorn(tmp_path, static_root, **env) as (first, _),
        gunicorn(tmp_path, static_root, **env) as (second, _),
    ):
        yield first, second


def browser():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def field(html, name):
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def post_form(opener, target, form_html, /, **fields):
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]*)"', form_html)
    data = {"csrfmiddlewaretoken": token.group(1), **fields} if token else fields
    return fetch(
        target,
        data=urllib.parse.urlencode(data).encode(),
        opener=opener,
        headers={"Referer": target},
    )


def comment_fields(server, html, body):
    """The form as a reader fills it in, typing begun a minute ago (so the typing-speed check
    passes): the story comes from the token its script would fetch."""
    url = server + re.search(r'data-token-url="([^"]+)"', html).group(1)
    script_token = json.loads(fetch(url)[2])["token"]
    story_pk = signing.loads(script_token, salt=TOKEN_SALT, key=SECRET)["a"]
    token = signing.dumps({"a": story_pk, "t": int(time.time()) - 60}, salt=TOKEN_SALT, key=SECRET)
    return {"name": "Ada", "email": "ada@example.com", "body": body, "token": token, "url": ""}


def run_sql(deployment, sql):
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", sql],
        cwd=ROOT,
        env=environment(**{k: deployment[k] for k in ("DATABASE_URL", "REDIS_URL")}),
        check=True,
        timeout=60,
    )


def test_two_servers_act_as_one_site(servers, deployment):
    """Posted through one server, a comment is pending and shown to its author through the
    other; the rate limit counts across both; approval through one clears both cached pages."""
    first, second = servers
    # Both servers serve (and keep) the anonymous page.
    for base in servers:
        status, _, html = fetch(base + STORY)
        assert status == 200 and "Scaling out nicely" not in html
    # Change the title behind the site's back: both keep serving the kept copy.
    run_sql(
        deployment,
        "from articles.models import Article; "
        f"Article.objects.filter(slug='{STORY.split('/')[2]}').update(title='Kept copy test')",
    )
    for base in servers:
        assert "Kept copy test" not in fetch(base + STORY)[2]

    reader, _jar = browser()
    status, _, html = fetch(first + STORY, opener=reader)
    response = post_form(
        reader,
        first + STORY + "comment/",
        html,
        **comment_fields(first, html, "Scaling out nicely, thanks for the coverage."),
    )
    assert response[0] == 200, response[2][:500]  # followed the 303 to the story
    status, headers, html = fetch(second + STORY, opener=reader)
    assert "Scaling out nicely" in html
    assert "Your comment is awaiting moderation" in html
    assert "no-store" in headers["Cache-Control"]
    assert "Scaling out nicely" not in fetch(second + STORY)[2]

    # The rate limit is kept in Redis: the same client posting again through the other server.
    status, _, _html = post_form(
        reader,
        second + STORY + "comment/",
        html,
        **comment_fields(second, html, "A second thought, straight away."),
    )
    assert status == 429

    # A moderator approves through the first server; both servers show the comment at once.
    moderator, _ = browser()
    login_page = fetch(first + "/admin/login/", opener=moderator)[2]
    status, _, _ = post_form(
        moderator,
        first + "/admin/login/?next=/admin/",
        login_page,
        username="chief",
        password=ADMIN_PASSWORD,
        next="/admin/",
    )
    assert status == 200
    changelist = fetch(first + "/admin/comments/comment/?status__exact=pending", opener=moderator)
    pk = re.search(r'name="_selected_action" value="(\d+)"', changelist[2]).group(1)
    status, _, _ = post_form(
        moderator,
        first + "/admin/comments/comment/",
        changelist[2],
        action="approve",
        _selected_action=pk,
    )
    assert status == 200
    for base in servers:
        html = fetch(base + STORY)[2]
        assert "Scaling out nicely" in html
        assert "Kept copy test" in html


# --- Settings that make scaling out a configuration change ------------------------------------


def settings_with(**env):
    code = (
        "from django.conf import settings as s; "
        "print(s.STORAGES['default']['BACKEND']); print(getattr(s, 'DATABASE_ROUTERS', [])); "
        "print(s.DATABASES.get('replica', {}).get('HOST')); print(s.MIDDLEWARE[0])"
    )
    return manage("shell", "-v0", "-c", code, env=environment(**env)).stdout.split("\n")


def test_a_bucket_name_moves_uploads_to_s3():
    """NEWSROOM_S3_BUCKET switches the upload storage to S3; unset keeps the local folder."""
    assert settings_with()[0] == "newsroom.files.WholeFileSystemStorage"
    assert settings_with(NEWSROOM_S3_BUCKET="news-media")[0] == "newsroom.storage.S3MediaStorage"


def test_s3_uploads_are_still_linked_from_our_own_host():
    """Pages load nothing from another host: an image in the bucket keeps a /media/ URL."""
    from newsroom.storage import S3MediaStorage

    storage = S3MediaStorage(bucket_name="news-media", endpoint_url="http://127.0.0.1:9")
    assert storage.url("heroes/2026/02/gold-800.webp") == "/media/heroes/2026/02/gold-800.webp"


def test_a_replica_url_routes_reads_to_the_replica():
    """DATABASE_REPLICA_URL adds the replica, the router and the primary-for-writers rule."""
    lines = settings_with(
        DATABASE_URL="postgres://u@primary.internal/news",
        DATABASE_REPLICA_URL="postgres://u@replica.internal/news",
    )
    assert lines[1:4] == [
        "['newsroom.routers.ReplicaRouter']",
        "replica.internal",
        "newsroom.routers.PrimaryForWritersMiddleware",
    ]
    assert settings_with()[1] == "[]"


def test_router_reads_from_the_replica_unless_the_request_may_have_written(rf):
    """GETs without personal cookies read the replica; posts, staff and commenters the primary."""
    from django.contrib.auth import get_user_model

    from comments import cookies
    from newsroom.routers import PrimaryForWritersMiddleware, ReplicaRouter

    router, model = ReplicaRouter(), get_user_model()
    seen = {}

    def view(request):
        seen[request.method, tuple(request.COOKIES)] = router.db_for_read(model)

    middleware = PrimaryForWritersMiddleware(view)
    middleware(rf.get("/"))
    middleware(rf.post("/"))
    with_session = rf.get("/")
    with_session.COOKIES[settings.SESSION_COOKIE_NAME] = "x"
    middleware(with_session)
    commenter = rf.get("/")
    commenter.COOKIES[cookies.cookie_name(cookies.PENDING)] = "x"
    middleware(commenter)
    assert list(seen.values()) == ["replica", "default", "default", "default"]
    assert router.db_for_write(model) == "default"
    assert router.allow_migrate("replica", "articles") is False
