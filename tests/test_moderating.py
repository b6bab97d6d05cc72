"""A moderator decides which comments appear: rules first, then the admin queue."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from comments import moderation, services
from comments.models import Comment

from .factories import comment_form_data, make_article, make_comment, make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/comments/comment/"


def post(client, article, address="203.0.113.7", **fields):
    return client.post(
        reverse("comments:post", kwargs={"slug": article.slug}),
        comment_form_data(article, **fields),
        REMOTE_ADDR=address,
    )


@pytest.fixture
def moderator(client):
    user = make_user(groups=["Moderators"])
    client.force_login(user)
    return user


@pytest.fixture
def email_moderator(client):
    user = make_user(groups=["Moderators"])
    user.user_permissions.add(Permission.objects.get(codename="view_commenter_email"))
    client.force_login(user)
    return user


# --- Rules ---------------------------------------------------------------------------------


def test_new_commenter_is_held(client):
    """Someone the site does not know yet waits for a moderator."""
    post(client, make_article())
    comment = Comment.objects.get()
    assert (comment.status, comment.status_reason) == ("pending", "held: new commenter")


def returning_browser(article, name="Ada Reader", email="ada@example.com"):
    """A browser that posted a comment a moderator then approved: it holds the signed cookie."""
    browser = Client()
    post(browser, article, address="203.0.113.50", name=name, email=email, body="First time")
    first = Comment.objects.get(body="First time")
    assert first.status == "pending"
    Comment.objects.filter(pk=first.pk).update(status="approved")
    return browser


def test_returning_browser_is_approved_at_once(client):
    """The browser that wrote an approved comment posts again, under the same name and
    address (whatever their case): published straight away, nobody emailed."""
    article = make_article()
    browser = returning_browser(article, email="Ada@Example.com")
    mail.outbox.clear()
    response = post(
        browser,
        article,
        address="203.0.113.51",
        email="ada@example.com",
        name="ada reader",
        body="Back again",
    )
    comment = Comment.objects.get(body="Back again")
    assert (comment.status, comment.status_reason) == ("approved", "approved: returning commenter")
    assert response["Location"] == f"{article.get_absolute_url()}#c{comment.pk}"
    assert "Back again" in client.get(article.get_absolute_url()).content.decode()
    assert not mail.outbox  # nothing waits, nobody is emailed


def answer(response, comment):
    """What a poster sees of a post's answer: status, where it goes (this comment's own id taken
    out), and the cookies with their settings."""
    cookies = {
        name: {key: morsel[key] for key in ("max-age", "path", "secure", "httponly", "samesite")}
        for name, morsel in response.cookies.items()
    }
    return response.status_code, response["Location"].replace(f"#c{comment.pk}", "#cID"), cookies


def test_a_regulars_name_and_address_from_a_new_browser_look_like_any_guess():
    """A regular's name is public: posting with it and their right address from a fresh browser
    is held, and everything the poster sees (status, redirect, cookies, page) is exactly what a
    wrong address gets, so nobody can use the form to confirm an address or post as a regular."""
    article = make_article()
    make_comment(article=article, name="Ada Reader", email="regular@example.com")
    seen = []
    for n, email in enumerate(["regular@example.com", "wrong-guess@example.com"]):
        browser = Client()
        response = post(
            browser, article, address=f"198.51.100.{n + 1}", email=email, body="Is this thing on?"
        )
        comment = Comment.objects.get(email=email, body="Is this thing on?")
        assert (comment.status, comment.status_reason) == ("pending", "held: new commenter")
        page = browser.get(response["Location"]).content.decode()
        assert "Your comment is awaiting moderation" in page
        page = re.sub(r'nonce="[^"]+"', "", page).replace(f"c{comment.pk}", "cID")
        page = page.replace(f"/comments/{comment.pk}/edit/", "/comments/ID/edit/")
        page = re.sub(r"<time[^>]*>.*?</time>", "", page, flags=re.S)
        seen.append((answer(response, comment), page))
    assert seen[0] == seen[1]
    assert Comment.objects.public().count() == 1  # only the regular's own comment


def test_a_forged_or_tampered_cookie_proves_nothing():
    """A browser cannot make up the cookie: one naming the regular's approved comment but not
    signed by the site, or signed and then altered, is ignored and the comment waits."""
    from comments import cookies

    article = make_article()
    regular = make_comment(article=article, name="Ada Reader", email="regular@example.com")
    name = cookies.cookie_name(cookies.PENDING)
    genuine = cookies.signing.dumps([999999], salt=f"comments.{cookies.PENDING}", compress=True)
    forged = cookies.signing.dumps([regular.pk], salt="somewhere else", compress=True)
    unsigned = f"[{regular.pk}]"
    tampered = genuine.replace(genuine.split(":")[0], forged.split(":")[0])
    for n, value in enumerate([forged, unsigned, tampered]):
        browser = Client()
        browser.cookies[name] = value
        post(
            browser,
            article,
            address=f"198.51.100.{n + 10}",
            email="regular@example.com",
            body=f"Impostor {n}",
        )
        assert Comment.objects.get(body=f"Impostor {n}").status == "pending"


def test_a_browser_proves_only_its_own_name_and_address(client):
    """The returning browser under another name, or another address, waits like anyone."""
    article = make_article()
    browser = returning_browser(article)
    post(browser, article, address="203.0.113.52", name="Someone Else", body="Other name")
    post(browser, article, address="203.0.113.53", email="other@example.com", body="Other mail")
    assert Comment.objects.get(body="Other name").status == "pending"
    assert Comment.objects.get(body="Other mail").status == "pending"


def test_returning_authors_rule_can_be_switched_off(settings):
    """With APPROVE_KNOWN_EMAILS off, even a returning browser waits."""
    settings.COMMENTS = {**settings.COMMENTS, "APPROVE_KNOWN_EMAILS": False}
    article = make_article()
    post(returning_browser(article), article, address="203.0.113.54", body="Again")
    assert Comment.objects.get(body="Again").status == "pending"


def test_a_rejected_comment_proves_nothing():
    """Only an approved comment vouches for the browser that wrote it."""
    article = make_article()
    browser = returning_browser(article)
    Comment.objects.filter(body="First time").update(status="rejected")
    post(browser, article, address="203.0.113.55", body="Again")
    assert Comment.objects.get(body="Again").status_reason == "held: new commenter"


def test_two_links_hold_even_a_returning_commenter():
    """A body with 2 or more links waits, and the reason says how many."""
    article = make_article()
    body = "See https://a.example and www.b.example and http://c.example"
    post(returning_browser(article), article, address="203.0.113.56", body=body)
    comment = Comment.objects.get(body=body)
    assert (comment.status, comment.status_reason) == ("pending", "held: 3 links")


def test_one_link_is_fine():
    """A single link does not hold a comment by itself."""
    article = make_article()
    post(returning_browser(article), article, address="203.0.113.57", body="See https://a.example")
    assert Comment.objects.get(body="See https://a.example").status == "approved"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("body", "Cheap VIAGRA here"),
        ("name", "Payday Loan King"),
        ("website", "https://x.example/viagra"),
    ],
)
def test_blocklisted_word_goes_to_spam(client, field, value):
    """A blocklisted word in the name, website or body sends the comment to spam, unseen."""
    article = make_article()
    response = post(client, article, **{field: value})
    comment = Comment.objects.get()
    assert (comment.status, comment.status_reason) == ("spam", "spam: blocklist")
    assert response.status_code == 303
    assert response["Location"] == f"{article.get_absolute_url()}#comments"
    assert "comments_pending" not in response.cookies
    assert not mail.outbox


def test_blocklist_matches_whole_words_only(settings):
    """ "Casino bonus" is spam; "Casinoboulevard" is not."""
    settings.COMMENTS = {**settings.COMMENTS, "BLOCKLIST": ["casino"]}
    article = make_article()
    assert moderation.decide(Comment(article=article, name="A", body="casino!")).status == "spam"
    assert moderation.decide(Comment(article=article, name="A", body="Casinoboulevard")).status == (
        "pending"
    )


def test_comments_close_after_the_configured_days(settings):
    """Stories close by age, or by their own switch."""
    settings.COMMENTS = {**settings.COMMENTS, "CLOSE_AFTER_DAYS": 10}
    assert moderation.comments_open(make_article(published_at=timezone.now() - timedelta(days=9)))
    assert not moderation.comments_open(
        make_article(published_at=timezone.now() - timedelta(days=11))
    )
    assert not moderation.comments_open(make_article(comments_closed=True))
    settings.COMMENTS = {**settings.COMMENTS, "CLOSE_AFTER_DAYS": None}
    assert moderation.comments_open(make_article(published_at=timezone.now() - timedelta(days=999)))


# --- Moderator email -----------------------------------------------------------------------


def test_moderators_are_emailed_when_a_comment_waits(
    client, settings, django_capture_on_commit_callbacks
):
    """A pending comment emails the moderators, with no commenter data in any header."""
    settings.MODERATOR_EMAILS = ["desk@newsroom.example"]
    article = make_article(title="Leerdam wins")
    with django_capture_on_commit_callbacks(execute=True):
        post(client, article, name="Evil\r\nBcc: victim@example.com", email="sly@example.com")
    # The CR/LF name was refused by the form; a clean name goes through.
    assert not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        post(client, article, name="Sly Reader", email="sly@example.com")
    (message,) = mail.outbox
    assert message.to == ["desk@newsroom.example"]
    headers = message.message().as_string().split("\n\n", 1)[0]
    assert "sly@example.com" not in headers and "Sly Reader" not in headers
    assert "sly@example.com" not in message.body
    assert "Leerdam wins" in message.body and "Sly Reader" in message.body
    comment = Comment.objects.get()
    assert reverse("admin:comments_comment_change", args=[comment.pk]) in message.body


def test_no_email_without_moderator_addresses(client, settings, django_capture_on_commit_callbacks):
    """With no addresses configured nothing is sent and posting still works."""
    settings.MODERATOR_EMAILS = []
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, make_article()).status_code == 303
    assert not mail.outbox


def test_mail_failure_does_not_lose_the_comment(
    client, settings, django_capture_on_commit_callbacks
):
    """If the mail server is down, the comment is still saved and the reader redirected."""
    settings.MODERATOR_EMAILS = ["desk@newsroom.example"]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 1},
        }
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, make_article())
    assert response.status_code == 303
    assert Comment.objects.count() == 1


# --- Admin queue ---------------------------------------------------------------------------


def test_queue_opens_on_what_waits(client, moderator):
    """With no filter chosen the queue shows pending comments only, newest first, and the
    status filter marks "Waiting (pending)" as chosen; "All" is a choice of its own."""
    article = make_article(title="Queue story")
    make_comment(article=article, status="pending", body="Old pending words")
    make_comment(article=article, body="Approved words")
    make_comment(article=article, status="pending", body="New pending words")
    response = client.get(CHANGELIST)
    html = response.content.decode()
    assert "Approved words" not in html
    assert html.index("New pending") < html.index("Old pending")
    filters = response.context["cl"].filter_specs[0]
    chosen = [
        choice["display"]
        for choice in filters.choices(response.context["cl"])
        if choice["selected"]
    ]
    assert chosen == ["Waiting (pending)"]
    every = client.get(CHANGELIST + "?status__exact=all").content.decode()
    assert "Approved words" in every


def test_queue_shows_pending_first_with_its_columns(client, moderator):
    """Under "All", pending comments come first, then the rest newest first, with the
    moderation columns."""
    article = make_article(title="Queue story")
    make_comment(article=article, status="pending", body="Old pending words")
    make_comment(article=article, body="Approved words")
    make_comment(article=article, status="pending", body="New pending words")
    html = client.get(CHANGELIST + "?status__exact=all").content.decode()
    positions = [html.index(text) for text in ("New pending", "Old pending", "Approved words")]
    assert positions == sorted(positions)
    for column in ("Comment", "Story", "Name", "Status", "Created", "Moderated", "Actions"):
        assert f">{column}<" in html, column
    assert "Queue story" in html


def test_a_long_story_title_is_cut_short_with_the_whole_title_kept(client, moderator):
    """A long title does not wrap the column to eight lines: it is cut, and the whole title is
    in the cell's `title` and for screen readers."""
    title = "Leerdam " + "wins the thousand metres in a track record " * 3
    make_comment(article=make_article(title=title.strip()), status="pending")
    html = client.get(CHANGELIST).content.decode()
    cell = re.search(r'<td class="field-article_title">(.*?)</td>', html, re.S).group(1)
    assert f'title="{title.strip()}"' in cell
    assert "…" in cell and len(re.sub(r"<[^>]+>", "", cell.split("</span>")[0])) <= 48


def test_a_reply_shows_what_it_answers(client, moderator):
    """ "In response to NAME: excerpt" under a reply in the queue."""
    parent = make_comment(name="Ada", body="Which lane was she in?")
    make_comment(article=parent.article, parent=parent, status="pending", body="Lane four")
    html = client.get(CHANGELIST).content.decode()
    assert "In response to <bdi>Ada</bdi>: “<bdi>Which lane was she in?</bdi>”" in html


def test_queue_can_be_sorted_by_a_column(client, moderator):
    """Clicking a column header sorts by it instead of the queue order."""
    make_comment(name="Zoe", status="pending")
    make_comment(name="Abe", status="pending")
    response = client.get(CHANGELIST + "?o=3")  # the third column: name
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(">Abe<") < html.index(">Zoe<")


def test_filters_by_status(client, moderator):
    """The status filter narrows the list."""
    make_comment(status="spam", body="Spam words")
    make_comment(status="pending", body="Pending words")
    html = client.get(CHANGELIST + "?status__exact=spam").content.decode()
    assert "Spam words" in html and "Pending words" not in html


@pytest.mark.parametrize(
    ("action", "status"),
    [("approve", "approved"), ("reject", "rejected"), ("mark_spam", "spam")],
)
def test_bulk_actions_record_who_and_when(client, moderator, action, status):
    """approve, reject and mark_spam change the status and note the moderator and the time."""
    comments = [make_comment(status="pending") for _ in range(2)]
    response = client.post(
        CHANGELIST, {"action": action, "_selected_action": [c.pk for c in comments]}
    )
    assert response.status_code == 302
    for comment in comments:
        comment.refresh_from_db()
        assert comment.status == status
        assert comment.moderated_by == moderator
        assert timezone.now() - comment.moderated_at < timedelta(minutes=1)
        assert comment.status_reason == f"{status} by {moderator.username}"


def test_approval_makes_a_pending_comment_public(client, moderator):
    """Invisible while pending, the comment shows to everyone once approved."""
    comment = make_comment(status="pending", body="Wait for me")
    url = comment.article.get_absolute_url()
    reader = client.__class__()
    assert "Wait for me" not in reader.get(url).content.decode()
    client.post(CHANGELIST, {"action": "approve", "_selected_action": [comment.pk]})
    assert "Wait for me" in reader.get(url).content.decode()


def test_status_change_in_the_form_is_recorded(client, moderator):
    """Changing the status on a comment's page also notes who did it."""
    comment = make_comment(status="pending")
    url = reverse("admin:comments_comment_change", args=[comment.pk])
    response = client.post(
        url,
        {"name": comment.name, "website": "", "body": comment.body, "status": "rejected"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    comment.refresh_from_db()
    assert (comment.status, comment.moderated_by) == ("rejected", moderator)
    assert comment.email.startswith("reader")  # the masked form left the address alone


@pytest.mark.parametrize(
    "website", ["ftp://files.example/x", "javascript:alert(1)", "file:///etc/passwd"]
)
def test_the_admin_refuses_websites_the_public_form_refuses(client, moderator, website):
    """Only http(s) websites, in the admin as in the comment form: the same message, nothing
    changed."""
    comment = make_comment(status="pending", website="https://ok.example/")
    url = reverse("admin:comments_comment_change", args=[comment.pk])
    response = client.post(
        url, {"name": comment.name, "website": website, "body": comment.body, "status": "pending"}
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["website"]
    assert errors == ["Enter a web address that starts with http:// or https://."]
    comment.refresh_from_db()
    assert comment.website == "https://ok.example/"


def test_staff_reply_from_the_admin(client, moderator):
    """A moderator's reply to an approved comment is published at once as a staff reply."""
    moderator.first_name, moderator.last_name = "Mo", "Derator"
    moderator.save()
    parent = make_comment(status="approved", body="Question?")
    url = reverse("admin:comments_comment_change", args=[parent.pk])
    response = client.post(
        url,
        {
            "name": parent.name,
            "website": "",
            "body": parent.body,
            "status": "approved",
            "reply": "Thanks for asking!",
        },
    )
    assert response.status_code == 302
    reply = Comment.objects.get(parent=parent)
    assert (reply.status, reply.is_staff_reply, reply.user) == ("approved", True, moderator)
    assert reply.name == "Mo Derator" and reply.email == ""
    parent.refresh_from_db()
    assert parent.status == "approved"
    html = client.get(parent.article.get_absolute_url()).content.decode()
    assert "Thanks for asking!" in html and "Staff" in html


def test_no_reply_to_spam(client, moderator):
    """Replying to spam is refused with a message by the reply box."""
    parent = make_comment(status="spam")
    url = reverse("admin:comments_comment_change", args=[parent.pk])
    response = client.post(
        url,
        {"name": parent.name, "website": "", "body": parent.body, "status": "spam", "reply": "Hi"},
    )
    assert response.status_code == 200
    assert "Approve the comment before replying to it." in response.content.decode()
    assert not Comment.objects.filter(parent=parent).exists()


def test_admin_index_shows_the_pending_count(client, moderator):
    """The admin front page says how many comments wait."""
    for _ in range(3):
        make_comment(status="pending")
    make_comment()
    html = client.get("/admin/").content.decode()
    assert "3 comments waiting for moderation" in html
    assert f"{CHANGELIST}?status__exact=pending" in html


def test_editors_do_not_see_the_pending_count(client):
    """People who cannot moderate are not shown the queue."""
    make_comment(status="pending")
    client.force_login(make_user(groups=["Editors"]))
    assert "waiting for moderation" not in client.get("/admin/").content.decode()


def test_deleting_a_comment_keeps_other_peoples_replies(client, moderator):
    """Deleting a comment in the admin moves its replies up instead of deleting them."""
    top = make_comment()
    middle = make_comment(article=top.article, parent=top)
    reply = make_comment(article=top.article, parent=middle, body="Keep me")
    client.post(reverse("admin:comments_comment_delete", args=[middle.pk]), {"post": "yes"})
    reply.refresh_from_db()
    assert reply.parent == top
    assert not Comment.objects.filter(pk=middle.pk).exists()


# --- Emails masked -------------------------------------------------------------------------


def test_emails_are_masked_without_the_permission(client, moderator):
    """A moderator without view_commenter_email sees j•••@e•••.com, in the list and the form."""
    comment = make_comment(email="jane@example.com", status="pending")
    html = client.get(CHANGELIST).content.decode()
    assert "j•••@e•••.com" in html and "jane@example.com" not in html
    page = client.get(reverse("admin:comments_comment_change", args=[comment.pk]))
    assert "j•••@e•••.com" in page.content.decode()
    assert "jane@example.com" not in page.content.decode()
    assert 'name="email"' not in page.content.decode()


def test_emails_are_shown_with_the_permission(client, email_moderator):
    """With view_commenter_email the address is visible and editable."""
    comment = make_comment(email="jane@example.com", status="pending")
    assert "jane@example.com" in client.get(CHANGELIST).content.decode()
    page = client.get(reverse("admin:comments_comment_change", args=[comment.pk]))
    assert 'name="email"' in page.content.decode()


def test_email_filters_in_the_address_bar_need_the_permission(client, moderator):
    """A masked moderator cannot recover an address letter by letter with ?email__…= filters."""
    make_comment(email="marieke@example.com")
    response = client.get(CHANGELIST + "?email__istartswith=m")
    assert response.status_code == 400
    moderator.user_permissions.add(Permission.objects.get(codename="view_commenter_email"))
    assert client.get(CHANGELIST + "?email__istartswith=m").status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "?created_at__year=99999999999",
        "?created_at__year=9999&created_at__month=12&created_at__day=31",
    ],
)
def test_junk_date_filters_are_not_a_500(client, moderator, query):
    """Out-of-range dates in the date hierarchy reload the list instead of crashing."""
    response = client.get(CHANGELIST + query)
    assert response.status_code in (200, 302)


def test_approval_purges_kept_pages_only_after_the_change(transactional_db):
    """The story's thread tag is purged after the approval is in the database, never before,
    and only that story's."""
    from newsroom.caching import content_changed

    comment = make_comment(status="pending")
    seen = []

    def purged(tags, **kwargs):
        seen.append((set(tags), Comment.objects.get(pk=comment.pk).status))

    content_changed.connect(purged)
    try:
        moderator = make_user(is_staff=True)
        services.approve(Comment.objects.filter(pk=comment.pk), by=moderator)  # as in admin
    finally:
        content_changed.disconnect(purged)
    assert seen == [({f"thread-{comment.article_id}"}, "approved")]


def test_search_by_email_only_with_the_permission(client, moderator):
    """Searching an address finds nothing for a masked moderator, and finds it with the right."""
    make_comment(email="jane@example.com", body="Jane's words", status="pending")
    assert (
        "Jane&#x27;s words" not in client.get(CHANGELIST + "?q=jane@example.com").content.decode()
    )
    moderator.user_permissions.add(Permission.objects.get(codename="view_commenter_email"))
    assert "Jane&#x27;s words" in client.get(CHANGELIST + "?q=jane@example.com").content.decode()


def test_export_action_needs_the_email_permission(client, moderator):
    """The JSON export is not offered to moderators who may not see addresses."""
    make_comment()
    html = client.get(CHANGELIST).content.decode()
    assert 'value="export_commenter_data"' not in html
    assert re.search(r'value="approve"', html)
    assert 'value="reject"' in html and 'value="mark_spam"' in html


def test_mask_email_shapes():
    """Masking keeps one letter of each part and the top-level domain."""
    from comments.privacy import mask_email

    assert mask_email("jane@example.com") == "j•••@e•••.com"
    assert mask_email("x@localhost") == "x•••@l•••"
    assert mask_email("a.b@mail.example.co.uk") == "a•••@m•••.uk"
    assert mask_email("") == ""


def test_set_status_is_shared_by_every_caller(db):
    """The same service approves for the admin, and reports only real changes."""
    user = make_user()
    pending = make_comment(status="pending")
    make_comment(status="approved")
    assert len(services.approve(Comment.objects.all(), by=user).changed) == 1
    pending.refresh_from_db()
    assert pending.moderated_by == user


# --- Two moderators at the same moment ----------------------------------------------------


def seen_on_the_list(client):
    """The `seen` stamps the changelist sent with its rows, as a bulk action posts them."""
    html = client.get(CHANGELIST).content.decode()
    return re.findall(r'<input type="hidden" name="seen" value="([^"]+)">', html)


def other_moderator():
    from django.test import Client

    user = make_user(username="bea", groups=["Moderators"])
    browser = Client()
    browser.force_login(user)
    return user, browser


def admin_log(comment):
    from django.contrib.admin.models import LogEntry

    return [
        (entry.user.username, entry.get_change_message())
        for entry in LogEntry.objects.filter(object_id=str(comment.pk)).order_by("pk")
    ]


def test_a_bulk_decision_on_a_comment_decided_since_is_refused(client, moderator):
    """Ann loads the queue; Bea rejects a comment; Ann then approves it with another from the
    same list: hers is refused, saying Bea rejected it and when; the other is approved; the
    admin log holds Bea's decision, Ann's approval and Ann's refused attempt."""
    contested = make_comment(status="pending", body="Contested words")
    other = make_comment(status="pending", body="Uncontested words")
    ann_saw = seen_on_the_list(client)
    bea, bea_browser = other_moderator()
    bea_browser.post(
        CHANGELIST,
        {
            "action": "reject",
            "_selected_action": [contested.pk],
            "seen": seen_on_the_list(bea_browser),
        },
    )

    response = client.post(
        CHANGELIST,
        {"action": "approve", "_selected_action": [contested.pk, other.pk], "seen": ann_saw},
        follow=True,
    )
    html = response.content.decode()
    contested.refresh_from_db()
    other.refresh_from_db()
    assert (contested.status, contested.moderated_by) == ("rejected", bea)
    assert (other.status, other.moderated_by) == ("approved", moderator)
    refusal = "“Contested words” was not marked approved: since you saw it, bea made it rejected"
    assert refusal in html
    assert "Approved 1 comment(s)." in html
    assert [who for who, _ in admin_log(contested)] == ["bea", moderator.username]
    assert "Marked rejected" in admin_log(contested)[0][1]
    assert admin_log(contested)[1][1].startswith("Refused (bulk action): “Contested words”")
    assert admin_log(other) == [(moderator.username, "Marked approved (bulk action).")]


def test_a_decision_on_a_comment_decided_and_undone_since_is_refused(client, moderator):
    """Status alone is not enough: pending, approved by Bea and put back to pending since Ann
    looked is still a change Ann has not seen."""
    comment = make_comment(status="pending", body="Back and forth")
    ann_saw = seen_on_the_list(client)
    bea, _browser = other_moderator()
    services.approve(Comment.objects.filter(pk=comment.pk), by=bea)
    services.set_status(Comment.objects.filter(pk=comment.pk), status="pending", by=bea)
    client.post(
        CHANGELIST, {"action": "mark_spam", "_selected_action": [comment.pk], "seen": ann_saw}
    )
    comment.refresh_from_db()
    assert (comment.status, comment.moderated_by) == ("pending", bea)


def test_a_decision_on_a_comments_page_decided_since_is_refused(client, moderator):
    """Ann opens a comment's page; Bea marks it spam; Ann's "approved" (with an edit) is refused
    with who and when, nothing of her form is saved, and the admin log records both."""
    comment = make_comment(status="pending", body="Pick me")
    url = reverse("admin:comments_comment_change", args=[comment.pk])
    page = client.get(url).content.decode()
    ann_saw = re.search(r'name="seen" value="([^"]+)"', page).group(1)
    assert ann_saw == comment.moderation_stamp
    bea, bea_browser = other_moderator()
    bea_browser.post(
        url, {"name": comment.name, "body": comment.body, "status": "spam", "seen": ann_saw}
    )

    response = client.post(
        url,
        {"name": comment.name, "body": "Pick me, edited", "status": "approved", "seen": ann_saw},
        follow=True,
    )
    html = response.content.decode()
    comment.refresh_from_db()
    assert (comment.status, comment.moderated_by, comment.body) == ("spam", bea, "Pick me")
    assert "Nothing was saved." in html
    assert "since you saw it, bea made it spam at" in html
    assert response.redirect_chain == [(url, 302)]
    log = admin_log(comment)
    assert [who for who, _ in log] == ["bea", moderator.username]
    assert log[1][1].startswith("Refused: “Pick me” was not marked approved")


def test_a_comments_page_open_a_while_never_puts_its_status_back(client, moderator):
    """Editing only the body on a page loaded before Bea's decision keeps Bea's decision."""
    comment = make_comment(status="pending", body="Typo hre")
    url = reverse("admin:comments_comment_change", args=[comment.pk])
    ann_saw = comment.moderation_stamp
    bea, _browser = other_moderator()
    services.approve(Comment.objects.filter(pk=comment.pk), by=bea)
    edit = {"name": comment.name, "body": "Typo here", "status": "pending", "seen": ann_saw}
    client.post(url, edit)
    comment.refresh_from_db()
    assert (comment.status, comment.body) == ("approved", "Typo here")


@pytest.mark.django_db(transaction=True)
def test_two_moderators_deciding_at_the_same_moment_one_is_refused():
    """Ann approves and Bea rejects the same comment from the same list at the same moment:
    exactly one decision is taken, the other is refused."""
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite's test database is in memory, shared by threads without locking")
    comment = make_comment(status="pending")
    seen = {comment.pk: comment.moderation_stamp}
    users = [make_user(groups=["Moderators"]) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes = []

    def decide(user, status):
        start.wait()
        outcomes.append(
            services.set_status(
                Comment.objects.filter(pk=comment.pk), status=status, by=user, seen=seen
            )
        )
        connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(user, status))
        for user, status in zip(users, ["approved", "rejected"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((len(o.changed), len(o.refused)) for o in outcomes) == [(0, 1), (1, 0)]


# --- Defects of round one (issue 14) ---------------------------------------------------------


def test_a_comment_is_named_by_its_storys_title_in_the_admin(client, moderator):
    """The change page's title names the story by its title, not by its number."""
    article = make_article(title="Leerdam wins gold")
    comment = make_comment(article=article, name="Reader One", body="Great race today")
    assert str(comment) == "Reader One on Leerdam wins gold: Great race today"
    html = client.get(reverse("admin:comments_comment_change", args=[comment.pk])).content
    assert "Reader One on Leerdam wins gold" in html.decode()
    assert f"Reader One on {article.pk}:" not in html.decode()


def reply_form(comment, reply, **extra):
    return {
        "name": comment.name,
        "website": "",
        "body": comment.body,
        "status": comment.status,
        "seen": comment.moderation_stamp,
        "reply": reply,
        **extra,
    }


def test_a_plain_reply_to_a_held_comment_leaves_it_held_and_says_so(client, moderator):
    """Save with a reply on a held comment (two links in it): nothing is published, the comment
    stays held, the reply box says why and keeps what was typed."""
    parent = make_comment(status="pending", body="See http://a.example and http://b.example")
    url = reverse("admin:comments_comment_change", args=[parent.pk])
    response = client.post(url, reply_form(parent, "Thanks, looking into it"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "This comment is held" in html and "Approve and reply" in html
    assert "Thanks, looking into it" in html
    parent.refresh_from_db()
    assert parent.status == "pending"
    assert not Comment.objects.filter(parent=parent).exists()


def test_approve_and_reply_is_a_named_action_that_says_it_approved(client, moderator):
    """ "Approve and reply" approves the held comment and publishes the reply, says both, and
    the admin log records the approval."""
    parent = make_comment(status="pending", body="Question with http://a.example")
    url = reverse("admin:comments_comment_change", args=[parent.pk])
    response = client.post(
        url, reply_form(parent, "Here is the answer", _approve_and_reply="1"), follow=True
    )
    html = response.content.decode()
    assert "Approved" in html and "published your reply" in html
    parent.refresh_from_db()
    assert (parent.status, parent.moderated_by) == ("approved", moderator)
    reply = Comment.objects.get(parent=parent)
    assert (reply.status, reply.is_staff_reply) == ("approved", True)
    assert any("Approved" in message for _, message in admin_log(parent))


def test_approve_and_reply_on_a_comment_decided_since_is_refused(client, moderator):
    """If another moderator rejected the comment meanwhile, nothing is approved or published."""
    parent = make_comment(status="pending")
    seen = parent.moderation_stamp
    bea, _ = other_moderator()
    services.reject(Comment.objects.filter(pk=parent.pk), by=bea)
    url = reverse("admin:comments_comment_change", args=[parent.pk])
    form = reply_form(parent, "Too late?", _approve_and_reply="1", seen=seen)
    response = client.post(url, form, follow=True)
    assert "bea made it rejected" in response.content.decode()
    parent.refresh_from_db()
    assert parent.status == "rejected"
    assert not Comment.objects.filter(parent=parent).exists()


def test_a_staff_reply_is_stored_with_its_card(db):
    """A staff reply's card, with its Staff badge, is stored when it is published."""
    parent = make_comment()
    reply = services.staff_reply(parent=parent, body="Thanks for reading", by=make_user())
    reply.refresh_from_db()
    assert '<span class="comment-badge">Staff</span>' in reply.card_html
    assert "Thanks for reading" in reply.card_html
    assert f'id="c{reply.pk}-author"' in reply.card_html
    assert not reply.card_is_stale


def test_the_service_never_approves_a_held_comment_silently(db):
    """staff_reply refuses a held parent; approve_and_reply is the one way to do both."""
    user = make_user(groups=["Moderators"])
    parent = make_comment(status="pending")
    with pytest.raises(services.CannotReply):
        services.staff_reply(parent=parent, body="Hello there", by=user)
    parent.refresh_from_db()
    assert parent.status == "pending"


# --- The queue's row actions and Undo ------------------------------------------------------


def decide_url(comment):
    return reverse("admin:comments_comment_decide", args=[comment.pk])


UNDO = reverse("admin:comments_comment_undo")


def row_actions(html, comment):
    """The labels of a row's actions, as the list shows them."""
    row = re.search(rf'name="seen" value="{comment.pk}:.*?</tr>', html, re.S).group(0)
    return re.findall(r'class="cq-action[^"]*"[^>]*>([^<]+)<', row)


def test_each_row_offers_the_decisions_its_comment_can_still_take(client, moderator):
    """A held comment: Approve, Reject, Spam, "Approve and reply"; an approved one: Reject,
    Spam, Reply (no Approve); each names the comment's author for screen readers."""
    held = make_comment(status="pending", name="Held Reader")
    public = make_comment(status="approved")
    html = client.get(CHANGELIST + "?status__exact=all").content.decode()
    assert row_actions(html, held) == ["Approve", "Reject", "Spam", "Approve and reply"]
    assert row_actions(html, public) == ["Reject", "Spam", "Reply"]
    assert "Held Reader’s comment" in html


@pytest.mark.parametrize(
    ("decision", "message"),
    [("approved", "Approved “"), ("rejected", "Rejected “"), ("spam", "as spam.")],
)
def test_a_rows_button_decides_that_comment_and_returns_to_the_same_list(
    client, moderator, decision, message
):
    """Approve / Reject / Spam on one row: that comment only, recorded and logged, then back to
    the list the moderator was on, saying what was done."""
    comment = make_comment(status="pending", body="Row action words")
    other = make_comment(status="pending")
    response = client.post(
        decide_url(comment),
        {"decision": decision, "seen": seen_on_the_list(client), "_queue": "status__exact=pending"},
    )
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST + "?status__exact=pending"
    comment.refresh_from_db()
    other.refresh_from_db()
    assert (comment.status, comment.moderated_by, other.status) == (decision, moderator, "pending")
    label = Comment.Status(decision).label.lower()
    assert admin_log(comment) == [(moderator.username, f"Marked {label} (row action).")]
    assert message in client.get(response["Location"]).content.decode()


def test_a_rows_button_on_a_comment_decided_since_is_refused(client, moderator):
    """The row's stamp is checked like a bulk action's: Bea's rejection stands, Ann is told."""
    comment = make_comment(status="pending", body="Contested row")
    ann_saw = seen_on_the_list(client)
    bea, _ = other_moderator()
    services.reject(Comment.objects.filter(pk=comment.pk), by=bea)
    response = client.post(
        decide_url(comment), {"decision": "approved", "seen": ann_saw}, follow=True
    )
    assert "bea made it rejected" in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "rejected"


def test_a_rows_button_needs_a_post_a_known_decision_and_the_right(client, moderator):
    """A GET changes nothing (405); an unknown decision changes nothing and says so; an editor
    is refused."""
    comment = make_comment(status="pending")
    assert client.get(decide_url(comment)).status_code == 405
    response = client.post(decide_url(comment), {"decision": "deleted"}, follow=True)
    assert "Choose Approve, Reject or Spam." in response.content.decode()
    editor = Client()
    editor.force_login(make_user(groups=["Editors"]))
    assert editor.post(decide_url(comment), {"decision": "approved"}).status_code == 403
    comment.refresh_from_db()
    assert comment.status == "pending"


def test_undo_puts_back_the_previous_status_and_is_logged(client, moderator):
    """Spam by mistake, then Undo: the comment is pending again, and the log holds both."""
    comment = make_comment(status="pending", body="Not spam at all")
    client.post(decide_url(comment), {"decision": "spam", "seen": seen_on_the_list(client)})
    html = client.get(CHANGELIST).content.decode()
    assert "Undo: 1 comment marked spam" in html
    response = client.post(UNDO, {"_queue": ""}, follow=True)
    assert "Undone: 1 comment(s) no longer spam." in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "pending"
    assert comment.status_reason == f"pending again: undone by {moderator.username}"
    assert [message for _, message in admin_log(comment)] == [
        "Marked spam (row action).",
        "Undid “marked spam”: pending again.",
    ]
    assert "Undo:" not in client.get(CHANGELIST).content.decode()
    response = client.post(UNDO, follow=True)
    assert "There is no decision to undo." in response.content.decode()


def test_undo_of_a_bulk_decision_puts_back_each_comments_status(client, moderator):
    """A bulk approval over a held and a rejected comment, undone: each gets its own back."""
    held = make_comment(status="pending")
    rejected = make_comment(status="rejected")
    client.post(CHANGELIST, {"action": "approve", "_selected_action": [held.pk, rejected.pk]})
    client.post(UNDO)
    held.refresh_from_db()
    rejected.refresh_from_db()
    assert (held.status, rejected.status) == ("pending", "rejected")


def test_undo_after_someone_else_decided_again_is_refused(client, moderator):
    """Ann approves, Bea rejects it, Ann presses Undo: refused, Bea's decision stands."""
    comment = make_comment(status="pending", body="Twice decided")
    client.post(decide_url(comment), {"decision": "approved", "seen": seen_on_the_list(client)})
    bea, _ = other_moderator()
    services.reject(Comment.objects.filter(pk=comment.pk), by=bea)
    response = client.post(UNDO, follow=True)
    assert "Not undone:" in response.content.decode()
    comment.refresh_from_db()
    assert comment.status == "rejected"


def test_a_decision_is_refused_only_for_the_comments_it_is_about(client, moderator):
    """The list sends every row's stamp; a comment Ann did not select, decided meanwhile by
    Bea, neither stops nor clutters Ann's decision on another row (no refusal about it)."""
    mine = make_comment(status="pending", body="Ann decides this")
    theirs = make_comment(status="pending", body="Bea decides that")
    ann_saw = seen_on_the_list(client)
    bea, _ = other_moderator()
    services.reject(Comment.objects.filter(pk=theirs.pk), by=bea)
    response = client.post(decide_url(mine), {"decision": "approved", "seen": ann_saw}, follow=True)
    html = response.content.decode()
    assert "Approved “Ann decides this”." in html and "was not marked" not in html
    bulk = client.post(
        CHANGELIST + "?status__exact=all",
        {"action": "mark_spam", "_selected_action": [mine.pk], "seen": seen_on_the_list(client)},
        follow=True,
    )
    assert "was not marked" not in bulk.content.decode()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.status, theirs.status) == ("spam", "rejected")
    assert admin_log(theirs) == []
