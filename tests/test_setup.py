"""A site owner sets the site up: settings from the environment, demo content, health checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.models import Article, Event, LiveEntry
from comments.models import Comment

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_secret_key_stops_with_one_clear_sentence():
    """With debug off and no secret key, start-up says what to set, without a traceback."""
    result = run_manage("check")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "DJANGO_SECRET_KEY is not set: set it to a long random string "
        "(or set DJANGO_DEBUG=1 for local development)."
    ]


def test_debug_on_needs_no_secret_key():
    """Local development works with only DJANGO_DEBUG=1."""
    result = run_manage("check", DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


def test_settings_read_the_environment():
    """Hosts, database and Redis come from the spec's environment variables."""
    code = (
        "from django.conf import settings as s;"
        "print(s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'], "
        "s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1], s.DEBUG)"
    )
    result = run_manage(
        "shell",
        "-v0",
        "-c",
        code,
        DJANGO_SECRET_KEY="x" * 50,
        DJANGO_ALLOWED_HOSTS="news.example.com, www.news.example.com",
        DATABASE_URL="postgres://u:p@db.example:5432/news",
        REDIS_URL="redis://127.0.0.1:6379/5",
    )
    assert result.returncode == 0, result.stderr
    assert "['news.example.com', 'www.news.example.com']" in result.stdout
    assert "postgresql" in result.stdout
    assert "Redis" in result.stdout
    assert result.stdout.strip().endswith("False")


@pytest.mark.django_db
def test_seed_demo_loads_the_leerdam_story_and_is_idempotent(settings, capsys):
    """seed_demo loads stories, results and comments; running it twice changes nothing."""
    settings.DEBUG = False
    call_command("seed_demo")
    counts = (Article.objects.count(), Event.objects.count(), Comment.objects.count())
    entries = list(LiveEntry.objects.values_list("pk", "body", "key_event", "created_at"))
    call_command("seed_demo")
    assert (Article.objects.count(), Event.objects.count(), Comment.objects.count()) == counts
    assert list(LiveEntry.objects.values_list("pk", "body", "key_event", "created_at")) == entries
    output = capsys.readouterr().out
    assert "no demo accounts" in output
    story = Article.objects.get(slug="leerdam-wins-olympic-1000m-gold")
    assert story.is_published and story.hero_renditions
    assert story.events.get().results.count() == 4
    assert Comment.objects.filter(status=Comment.Status.PENDING).exists()
    assert Comment.objects.filter(status=Comment.Status.APPROVED).exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(username__in=["editor", "moderator"]).exists()


@pytest.mark.django_db
def test_seed_demo_with_debug_creates_demo_accounts(settings, capsys):
    """With debug on, seed_demo creates editor and moderator accounts and prints passwords."""
    settings.DEBUG = True
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert "editor /" in output and "moderator /" in output
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.get(username="editor")
    assert editor.groups.filter(name="Editors").exists() and editor.is_staff


@pytest.mark.django_db
def test_healthz_answers_200_with_a_database_round_trip(client):
    """The health check touches the database and says so."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "up"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_robots_txt_points_to_sitemap_and_keeps_admin_out(client):
    """robots.txt names the sitemap and disallows /admin/."""
    response = client.get("/robots.txt")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Disallow: /admin/" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text


@pytest.mark.django_db
def test_unknown_url_gets_the_styled_404(client):
    """A made-up address gets the site's own 404 page."""
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    assert "find that page" in response.content.decode()


@pytest.mark.django_db
def test_media_url_traversal_is_404(client):
    """Media paths cannot climb out of the media folder."""
    assert client.get("/media/../manage.py").status_code == 404
    assert client.get("/media/%2e%2e/%2e%2e/etc/passwd.jpg").status_code == 404
    assert client.get("/media/heroes/nothing.jpg").status_code == 404


def test_favicon_ico_leads_to_the_site_icon(client):
    """Clients asking for /favicon.ico are sent to the SVG icon, not a 404."""
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("img/favicon.svg")


@pytest.mark.django_db
def test_admin_pages_link_the_site_icon(admin_client):
    """The admin names the site icon too, so browsers don't ask for a missing favicon."""
    html = admin_client.get("/admin/").content.decode()
    assert 'rel="icon"' in html and "favicon.svg" in html
