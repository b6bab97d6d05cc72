"""A commenter's privacy: pending comments, cookies, caches, IP hashes, export and erasure,
and no email address anywhere public."""

import hashlib
import json
import logging
import re
from collections import deque
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comments import services
from comments.models import Comment

from .factories import comment_form_data, make_article, make_comment, make_user

pytestmark = pytest.mark.django_db


def post(client, article, address="203.0.113.9", **fields):
    return client.post(
        reverse("comments:post", kwargs={"slug": article.slug}),
        comment_form_data(article, **fields),
        REMOTE_ADDR=address,
    )


# --- Pending comments ----------------------------------------------------------------------


def test_pending_comment_is_invisible_to_everyone_else(client):
    """Another browser, or the same one without its cookie, never sees a pending comment."""
    article = make_article()
    post(client, article, body="Only I can see this")
    assert "Only I can see this" in client.get(article.get_absolute_url()).content.decode()
    assert "Only I can see this" not in Client().get(article.get_absolute_url()).content.decode()
    client.cookies.clear()
    assert "Only I can see this" not in client.get(article.get_absolute_url()).content.decode()


def test_pending_cookie_cannot_be_forged(client):
    """A hand-made or tampered cookie naming someone's pending comment shows nothing."""
    article = make_article()
    other = make_comment(article=article, status="pending", body="Someone else's secret")
    for value in (f"[{other.pk}]", "WzFd:forged:signature", "junk"):
        client.cookies["comments_pending"] = value
        html = client.get(article.get_absolute_url()).content.decode()
        assert "Someone else's secret" not in html


def test_the_cookie_only_shows_the_authors_own_comments(client):
    """A browser's cookie lists its own comments, so a neighbour's pending one stays hidden."""
    article = make_article()
    make_comment(article=article, status="pending", body="Neighbour's pending words")
    post(client, article, body="My own words")
    html = client.get(article.get_absolute_url()).content.decode()
    assert "My own words" in html
    assert "Neighbour&#x27;s pending words" not in html


def test_approved_comment_loses_the_awaiting_marker(client):
    """Once approved, the author sees their comment in the thread like everyone else."""
    article = make_article()
    post(client, article, body="Soon public")
    services.approve(Comment.objects.all(), by=make_user())
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Soon public" in html
    assert "awaiting moderation" not in html
    assert "Soon public" in Client().get(article.get_absolute_url()).content.decode()


def test_cookies_are_signed_httponly_and_lax(client):
    """The browser's comment cookies cannot be read by scripts and hold no readable id list."""
    article = make_article()
    response = post(client, article, remember="on")
    for name in ("comments_pending", "comment_author"):
        cookie = response.cookies[name]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        assert ":" in cookie.value  # signed


def test_secure_sites_use_host_prefixed_cookies(client, settings):
    """Over HTTPS the cookies are __Host- prefixed and Secure."""
    settings.SESSION_COOKIE_SECURE = True
    article = make_article()
    response = post(client, article, secure=True)
    cookie = response.cookies["__Host-comments_pending"]
    assert cookie["secure"] and cookie["path"] == "/"


# --- Caches --------------------------------------------------------------------------------


def test_personal_pages_are_never_cached(client):
    """Pages showing a pending comment, and the redirect that sets the cookie, are no-store."""
    article = make_article()
    plain = client.get(article.get_absolute_url())
    assert "no-store" not in plain.get("Cache-Control", "")
    assert "Cookie" in plain["Vary"]
    redirect = post(client, article)
    assert "no-store" in redirect["Cache-Control"] and "private" in redirect["Cache-Control"]
    personal = client.get(article.get_absolute_url())
    assert "no-store" in personal["Cache-Control"] and "private" in personal["Cache-Control"]


# --- Client addresses ----------------------------------------------------------------------


def test_ip_is_stored_only_as_a_keyed_hash(client, settings):
    """The client's IP never reaches the database; a keyed hash of it does."""
    article = make_article()
    post(client, article, address="198.51.100.77")
    comment = Comment.objects.get()
    assert len(comment.client_hash) == 64
    stored = json.dumps(list(Comment.objects.values().get().values()), default=str)
    assert "198.51.100.77" not in stored
    assert comment.client_hash != hashlib.sha256(b"198.51.100.77").hexdigest()
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert services.client_hash(FakeRequest("198.51.100.77")) != comment.client_hash


class FakeRequest:
    def __init__(self, address, forwarded=""):
        self.META = {"REMOTE_ADDR": address, "HTTP_X_FORWARDED_FOR": forwarded}


def test_old_client_hashes_are_wiped(settings):
    """Hashes older than CLIENT_HASH_DAYS are removed by the hourly sweep."""
    old = make_comment(client_hash="a" * 64)
    Comment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))
    recent = make_comment(client_hash="b" * 64)
    assert services.forget_old_client_hashes() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.client_hash, recent.client_hash) == ("", "b" * 64)


def test_clients_behind_the_proxy_are_told_apart(client, settings):
    """Behind the trusted proxy, readers are limited by their own address, not the proxy's."""
    settings.TRUST_X_FORWARDED_FOR = True
    article = make_article()
    url = reverse("comments:post", kwargs={"slug": article.slug})
    for i, body in enumerate(["From one", "From two"]):
        response = client.post(
            url,
            comment_form_data(article, body=body),
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i + 1}",
        )
        assert response.status_code == 303


def test_a_forged_x_forwarded_for_does_not_dodge_the_rate_limit(client, settings):
    """A client reaching the server directly (not through a trusted proxy) is limited by its
    own address however it varies X-Forwarded-For: the second post within the limit is a 429."""
    settings.TRUST_X_FORWARDED_FOR = True
    article = make_article()
    url = reverse("comments:post", kwargs={"slug": article.slug})
    answers = [
        client.post(
            url,
            comment_form_data(article, body=f"Spoofed {i}"),
            REMOTE_ADDR="198.51.100.200",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{i + 1}",
        ).status_code
        for i in range(3)
    ]
    assert answers == [303, 429, 429]


# --- Export and erasure --------------------------------------------------------------------


def test_export_prints_all_of_one_persons_data(capsys):
    """export_commenter_data prints every comment of that address as JSON, any status."""
    mine = [
        make_comment(email="Kim@Example.com", body="First"),
        make_comment(email="kim@example.com", body="Second", status="pending"),
    ]
    make_comment(email="someone@example.com", body="Not mine")
    call_command("export_commenter_data", "kim@example.com")
    data = json.loads(capsys.readouterr().out)
    assert [c["id"] for c in data["comments"]] == [c.pk for c in mine]
    assert {c["body"] for c in data["comments"]} == {"First", "Second"}
    assert data["comments"][1]["status"] == "pending"
    assert data["comments"][0]["article_url"] == mine[0].article.get_absolute_url()


def test_export_of_an_unknown_address_is_empty(capsys):
    """An address with no comments exports an empty list and says so."""
    call_command("export_commenter_data", "nobody@example.com")
    out = capsys.readouterr()
    assert json.loads(out.out)["comments"] == []
    assert "No comments" in out.err


@pytest.mark.parametrize("command", ["export_commenter_data", "erase_commenter_data"])
def test_privacy_commands_need_a_real_address(command):
    """A blank or malformed address is a clear error, never "every comment without email"."""
    staff = make_comment(email="", is_staff_reply=True)
    for bad in ("", "not-an-email"):
        with pytest.raises(CommandError, match="email address"):
            call_command(command, bad)
    staff.refresh_from_db()
    assert staff.name != "Anonymous"


def test_erase_anonymises(capsys):
    """erase_commenter_data: name Anonymous, email and website gone, others untouched."""
    mine = make_comment(email="kim@example.com", name="Kim", website="https://kim.example")
    theirs = make_comment(email="lee@example.com", name="Lee")
    call_command("erase_commenter_data", "KIM@example.com")
    assert "Anonymised 1 comment." in capsys.readouterr().out
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.name, mine.email, mine.website, mine.client_hash) == ("Anonymous", "", "", "")
    assert mine.body  # the text stays, anonymously
    assert (theirs.name, theirs.email) == ("Lee", "lee@example.com")


def test_erasing_leaves_no_name_in_a_stored_card(client, committed):
    """The card stored with a comment showed its author's name and website: erasing their data
    clears it, and the page shows the comment as Anonymous's."""
    mine = make_comment(email="kim@example.com", name="Kim Verbeek", website="https://kim.example")
    mine.refresh_from_db()
    assert "Kim Verbeek" in mine.card_html  # stored when it was written
    with committed():
        call_command("erase_commenter_data", "kim@example.com")
    mine.refresh_from_db()
    assert "Kim" not in mine.card_html and "kim.example" not in mine.card_html
    html = client.get(mine.article.get_absolute_url()).content.decode()
    assert "Kim" not in html and "kim.example" not in html
    assert "Anonymous" in html
    mine.refresh_from_db()
    assert "Anonymous" in mine.card_html and "Kim" not in mine.card_html


def test_erase_with_delete_removes_but_keeps_replies_by_others(capsys):
    """--delete removes that person's comments; other people's replies move up a level."""
    top = make_comment(email="lee@example.com")
    mine = make_comment(article=top.article, parent=top, email="kim@example.com")
    reply = make_comment(article=top.article, parent=mine, email="lee@example.com", body="Keep")
    call_command("erase_commenter_data", "kim@example.com", "--delete")
    assert "Deleted 1 comment." in capsys.readouterr().out
    assert not Comment.objects.filter(email="kim@example.com").exists()
    reply.refresh_from_db()
    assert reply.parent == top


def test_admin_export_action_downloads_json(client):
    """With the email permission, the export action downloads the selected people's data."""
    user = make_user(groups=["Moderators"])
    user.user_permissions.add(Permission.objects.get(codename="view_commenter_email"))
    client.force_login(user)
    comment = make_comment(email="kim@example.com", body="Exported words")
    make_comment(email="kim@example.com", body="Also exported", status="spam")
    response = client.post(
        "/admin/comments/comment/?status__exact=all",  # the list the approved comment is on
        {"action": "export_commenter_data", "_selected_action": [comment.pk]},
    )
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert {c["body"] for c in data["comments"]} == {"Exported words", "Also exported"}


def test_admin_export_action_refused_without_permission(client):
    """A moderator without the email permission cannot run the export, even by posting it."""
    client.force_login(make_user(groups=["Moderators"]))
    comment = make_comment(email="kim@example.com")
    response = client.post(
        "/admin/comments/comment/",
        {"action": "export_commenter_data", "_selected_action": [comment.pk]},
    )
    assert not response.get("Content-Type", "").startswith("application/json")
    assert b"kim@example.com" not in response.content


def test_admin_erase_action_anonymises(client):
    """The erase action anonymises every comment of the selected people."""
    client.force_login(make_user(groups=["Moderators"]))
    first = make_comment(email="kim@example.com")
    second = make_comment(email="kim@example.com")
    client.post(
        "/admin/comments/comment/?status__exact=all",
        {"action": "erase_commenter_data", "_selected_action": [first.pk]},
    )
    second.refresh_from_db()
    assert (second.name, second.email) == ("Anonymous", "")


# --- No email in public ---------------------------------------------------------------------


def test_no_email_in_logs(client, caplog, settings, django_capture_on_commit_callbacks):
    """Posting, failing validation and emailing moderators log no commenter address."""
    settings.MODERATOR_EMAILS = ["desk@newsroom.example"]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 1},
        }
    }
    caplog.set_level(logging.DEBUG)
    article = make_article()
    with django_capture_on_commit_callbacks(execute=True):
        post(client, article, email="secret.person@example.com")
    post(client, article, email="secret.person@example.com", body="x")
    assert "secret.person" not in caplog.text


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "action") and value:
                self.links.append(value)


def crawl(client, start, limit=600):
    """Every same-site page reachable from `start`, breadth first: {url: response}."""
    seen, queue, pages = set(start), deque(start), {}
    while queue and len(pages) < limit:
        url = queue.popleft()
        response = client.get(url)
        pages[url] = response
        content_type = response.get("Content-Type", "")
        if response.status_code in (301, 302, 303, 307, 308):
            found = [response["Location"]]
        elif "html" in content_type:
            parser = Links()
            parser.feed(response.content.decode())
            found = parser.links
        elif "xml" in content_type:
            text = response.content.decode()
            found = [part.split("<", 1)[0] for part in text.split("<loc>")[1:]]
            found += [part.split('"', 1)[0] for part in text.split('href="')[1:]]
        else:
            found = []
        for link in found:
            target = urlsplit(urljoin(f"http://testserver{url}", urldefrag(link)[0]))
            if target.netloc not in ("", "testserver"):
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            if path.startswith(("/admin/", "/static/", "/media/")) or path in seen:
                continue
            seen.add(path)
            queue.append(path)
    return pages


def test_crawl_of_the_demo_site_finds_no_commenter_email(client):
    """Following every same-site link from / (plus feeds, sitemap, search) shows no address."""
    call_command("seed_demo", verbosity=0)
    article = Comment.objects.first().article
    assert Comment.objects.pending().exists() and Comment.objects.public().exists()
    emails = {email.lower() for email in Comment.objects.values_list("email", flat=True) if email}
    needles = set(emails)
    for email in emails:
        needles |= {
            hashlib.md5(email.encode()).hexdigest(),  # noqa: S324 - what Gravatar uses
            hashlib.sha256(email.encode()).hexdigest(),
        }
    pending_bodies = list(Comment.objects.pending().values_list("body", flat=True))
    start = [
        "/",
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        "/robots.txt",
        "/search/?q=example",
        "/search/?q=marieke",
        f"{article.get_absolute_url()}?replyto={Comment.objects.public().first().pk}",
        # The story's comment feeds and every comment's permalink (a pending one's is a 404).
        reverse("comments:feed", args=[article.slug]),
        reverse("comments:feed-atom", args=[article.slug]),
        f"{article.get_absolute_url()}?corder=newest",
        *(comment.get_absolute_url() for comment in Comment.objects.all()),
    ]
    pages = crawl(client, start)
    assert any("/comments/feed/atom/" in url for url in pages)
    assert len(pages) > 20
    assert any(response.status_code == 200 for response in pages.values())
    assert any(
        f'id="c{c.pk}"' in r.content.decode(errors="replace")
        for c in Comment.objects.public()
        for r in pages.values()
    )
    for url, response in pages.items():
        text = (response.content.decode(errors="replace") + str(response.headers)).lower()
        for needle in needles:
            assert needle not in text, f"{url} shows {needle}"
        for body in pending_bodies:
            assert body.lower() not in text, f"{url} shows a pending comment"


def test_moderators_emails_and_the_pages_of_their_links_show_no_commenter_email(client, settings):
    """The waiting-comment emails, the confirmation pages their links open (and every page
    those link to), the page after acting and the "already used" page: no address, no hash."""
    from comments.posting import notify_moderators

    settings.MODERATOR_EMAILS = ["desk@newsroom.example"]
    settings.SITE_URL = "http://testserver"
    call_command("seed_demo", verbosity=0)
    emails = {email.lower() for email in Comment.objects.values_list("email", flat=True) if email}
    needles = set(emails)
    for email in emails:
        needles |= {
            hashlib.md5(email.encode()).hexdigest(),  # noqa: S324 - what Gravatar uses
            hashlib.sha256(email.encode()).hexdigest(),
        }
    mail.outbox.clear()
    for comment in Comment.objects.pending():
        notify_moderators(comment)
    assert mail.outbox
    links = []
    for message in mail.outbox:
        text = message.message().as_string().lower()
        for needle in needles:
            assert needle not in text, f"an email shows {needle}"
        links += re.findall(r"http://testserver(/comments/moderate/\S+)", message.body)
    assert len(links) == 2 * len(mail.outbox)
    pages = crawl(client, links)
    first = links[0]
    pages["POST " + first] = client.post(first)
    pages["used " + first] = client.get(first)
    assert pages["POST " + first].status_code == 200 and pages["used " + first].status_code == 409
    assert sum(url.startswith("/comments/moderate/") for url in pages) >= len(links)
    for url, response in pages.items():
        text = (response.content.decode(errors="replace") + str(response.headers)).lower()
        for needle in needles:
            assert needle not in text, f"{url} shows {needle}"


def test_reply_emails_and_the_pages_of_their_links_show_no_commenter_email(client, settings):
    """The reply emails' links (confirm, mute), the pages they open and every page those
    link to, before and after their button is pressed: no commenter's address, no hash. The
    links' tokens carry an id, never the address."""
    from comments import reply_emails

    settings.SITE_URL = "http://testserver"
    call_command("seed_demo", verbosity=0)
    emails = {email.lower() for email in Comment.objects.values_list("email", flat=True) if email}
    needles = set(emails)
    for email in emails:
        needles |= {
            hashlib.md5(email.encode()).hexdigest(),  # noqa: S324 - what Gravatar uses
            hashlib.sha256(email.encode()).hexdigest(),
        }
    parent = Comment.objects.public().exclude(email="").first()
    with_box = comment_form_data(parent.article, email=parent.email, notify_replies="on")
    assert post(client, parent.article, **with_box).status_code == 303
    subscription = reply_emails.ReplySubscription.objects.get()
    subscription.comments.add(parent)
    mail.outbox.clear()
    reply_emails.send_confirmation(subscription.pk)
    reply_emails.confirm(subscription)
    reply = make_comment(article=parent.article, parent=parent, email="other@example.org")
    assert reply_emails.send_replies(reply.pk) == 1
    links = []
    for message in mail.outbox:
        links += re.findall(r"http://testserver(/comments/replies/\S+)", message.body)
        links += re.findall(
            r"<http://testserver(/comments/replies/\S+)>",
            message.extra_headers.get("List-Unsubscribe", ""),
        )
    assert {link.split("/")[3] for link in links} == {"confirm", "mute"}
    for link in links:
        assert not any(needle in link.lower() for needle in needles)
    pages = crawl(Client(), links)
    for link in set(links):
        pages["POST " + link] = Client().post(link)
    pages["forged"] = Client().get("/comments/replies/mute/forged:token/")
    assert pages["forged"].status_code == 400
    assert sum(url.startswith("/comments/replies/") for url in pages) >= 2
    for url, response in pages.items():
        text = (response.content.decode(errors="replace") + str(response.headers)).lower()
        for needle in needles:
            assert needle not in text, f"{url} shows {needle}"
