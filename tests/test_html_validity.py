"""Every kind of page a reader meets is valid HTML5, checked by the Nu Html Checker (vnu)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from articles.models import Article, Athlete, Competition, Event, Section, Tag

pytestmark = pytest.mark.django_db

# `make test` installs the current vnu release from the npm registry into the virtualenv.
VNU_JAR = Path(sys.prefix) / "vnu/node_modules/vnu-jar/build/dist/vnu.jar"


def public_pages():
    """One URL of every kind of public page, on the demo content."""
    article = Article.objects.get(slug="leerdam-wins-olympic-1000m-gold")
    urls = [
        "/",
        "/?page=1",
        article.get_absolute_url(),
        f"{article.get_absolute_url()}?corder=newest",
        reverse("articles:detail", args=["kok-wins-olympic-500m-gold"]),  # a finished live blog
        Section.objects.first().get_absolute_url(),
        Tag.objects.first().get_absolute_url(),
        reverse("articles:archive"),
        reverse("articles:archive-month", kwargs={"year": 2026, "month": 2}),
        "/no-such-page/",
        reverse("articles:results"),
        Competition.objects.first().get_absolute_url(),
        Event.objects.first().get_absolute_url(),
        Athlete.objects.first().get_absolute_url(),
        reverse("search") + "?q=leerdam",
        reverse("search") + "?q=",
        *reply_email_pages(),
    ]
    return urls


def reply_email_pages():
    """The confirm and mute pages of the reply emails' links, and a refused link's page."""
    from comments import reply_emails
    from comments.models import ReplySubscription

    subscription = ReplySubscription.objects.create(key="kim@example.com", email="kim@example.com")
    return [
        reverse(
            "comments:replies-confirm", args=[reply_emails.make_token(subscription, "confirm")]
        ),
        reverse("comments:replies-mute", args=[reply_emails.make_token(subscription, "mute")]),
        reverse("comments:replies-mute", args=["forged:token"]),
    ]


@pytest.mark.skipif(
    shutil.which("java") is None or not VNU_JAR.exists(),
    reason="the Nu Html Checker needs Java and vnu.jar (`make test` installs it with npm)",
)
def test_public_pages_are_valid_html5(client, tmp_path):
    """vnu reports no errors on any public page of the demo site."""
    call_command("seed_demo", verbosity=0)
    files = {}
    for i, url in enumerate(public_pages()):
        response = client.get(url)
        assert response.status_code in (200, 400, 404), url
        path = tmp_path / f"page{i}.html"
        path.write_bytes(response.content)
        files[path.name] = url
    # A known-bad page proves the checker really looked at the files.
    (tmp_path / "control.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
        "<body><p><div></p></body></html>"
    )
    paths = [str(tmp_path / name) for name in [*files, "control.html"]]
    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    errors = [m for m in messages if m.get("type") == "error"]
    assert any(m["url"].endswith("/control.html") for m in errors), "vnu did not check the pages"
    problems = [
        f"{files[Path(m['url']).name]}: line {m.get('lastLine')}: {m['message']}"
        for m in errors
        if not m["url"].endswith("/control.html")
    ]
    assert not problems, "\n".join(problems)


def test_machine_readable_times_have_whole_seconds(client):
    """A story published "now" (with microseconds) still gets a valid datetime attribute."""
    from django.utils import timezone

    from .factories import make_article

    moment = timezone.now().replace(microsecond=123456)
    article = make_article(published_at=moment - timezone.timedelta(minutes=1))
    html = client.get(article.get_absolute_url()).content.decode()
    expected = timezone.localtime(article.published_at).isoformat(timespec="seconds")
    assert f'datetime="{expected}"' in html
    assert ".123456" not in html
