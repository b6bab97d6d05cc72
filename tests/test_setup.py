"""A site owner sets the site up: settings from the environment, demo content, health checks."""

import os
import shutil
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
def test_seed_demo_with_debug_creates_demo_accounts(settings, capsys, tmp_path):
    """With debug on, seed_demo creates editor and moderator accounts and prints passwords."""
    settings.DEBUG = True
    settings.DEMO_PASSWORDS_FILE = tmp_path / "demo-passwords.txt"
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert "editor /" in output and "moderator /" in output
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.get(username="editor")
    assert editor.groups.filter(name="Editors").exists() and editor.is_staff


@pytest.mark.django_db
def test_demo_passwords_stay_the_same_for_a_checkout(settings, capsys, tmp_path):
    """The demo passwords are made once, kept in a file only its owner reads (named in the
    output and the README), and the same on every later run, which still signs in."""
    settings.DEBUG = True
    settings.DEMO_PASSWORDS_FILE = path = tmp_path / "demo-passwords.txt"
    from django.contrib.auth import get_user_model

    call_command("seed_demo")
    first = capsys.readouterr().out
    assert str(path) in first
    assert path.stat().st_mode & 0o777 == 0o600
    kept = dict(line.split(" ") for line in path.read_text().splitlines() if line[0] != "#")
    assert set(kept) == {"editor", "moderator"}
    call_command("seed_demo")
    assert capsys.readouterr().out == first
    for username, password in kept.items():
        assert f"Demo account {username} / {password} " in first
        assert get_user_model().objects.get(username=username).check_password(password)
    assert "demo-passwords.txt" in (ROOT / ".gitignore").read_text().split()
    assert "demo-passwords.txt" in (ROOT / "README.md").read_text()


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


# --- Installing: the site's needs for `make run`, the dev tools only for `make test` ---------

TEST_TOOLS = ["pytest", "playwright", "hypothesis", "django-storages", "boto3", "ruff", "djhtml"]


def make_dry_run(target, venv):
    """What `make TARGET` would run with its virtualenv at `venv` (nothing is run)."""
    result = subprocess.run(
        ["make", "-n", f"VENV={venv}", target], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_site_needs_none_of_the_test_tools():
    """pyproject.toml: the test and lint tools are in the `dev` extra, not the site's needs."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    site = " ".join(project["dependencies"]).lower()
    assert not [tool for tool in TEST_TOOLS if tool in site]
    dev = " ".join(project["optional-dependencies"]["dev"]).lower()
    assert all(tool in dev for tool in TEST_TOOLS if tool != "boto3")  # boto3: storages[s3]


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_run_installs_only_the_site_and_make_test_the_dev_tools(tmp_path):
    """`make run` installs `.` and `make test` `.[dev]`; after `make test`, `make run` installs
    nothing again, and after `make run`, `make test` still installs the dev tools."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").touch()
    run = make_dry_run("run", venv)
    assert "pip install --quiet -e .\n" in run and ".[dev]" not in run
    test = make_dry_run("test", venv)
    assert "pip install --quiet -e '.[dev]'" in test
    (venv / ".installed-site").touch()  # after `make run`
    assert "pip install" not in make_dry_run("run", venv)
    assert "pip install --quiet -e '.[dev]'" in make_dry_run("test", venv)
    (venv / ".installed-dev").touch()  # after `make test`
    assert "pip install" not in make_dry_run("run", venv)
    assert "pip install" not in make_dry_run("test", venv)
    lint = make_dry_run("lint", venv)
    assert "ruff check ." in lint and "ruff format --check ." in lint
    assert "djhtml --check" in lint
