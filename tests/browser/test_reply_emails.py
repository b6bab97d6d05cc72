"""A reader asks for reply emails in a real browser: the checkbox on the comment form, the
confirmation page from the email and the mute page, each usable without JavaScript and
passing axe, with no console error or CSP violation."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from comments import services
from comments.models import Comment, ReplySubscription
from tests.factories import make_user

from .steps import fill_comment, send_comment, visit
from .test_accessibility import axe_violations

pytestmark = pytest.mark.browser

STORY = "/stories/leerdam-wins-olympic-1000m-gold/"


def run_worker():
    import signal

    kept = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command(
            "db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0
        )
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


def path_in(message, kind):
    return re.search(rf"https?://[^/\s]+(/comments/replies/{kind}/\S+)", message.body).group(1)


@pytest.mark.parametrize("javascript", [True, False])
def test_a_reader_ticks_the_box_confirms_and_mutes(open_page, settings, javascript):
    """The box is a labelled checkbox; the email's link opens a page whose button confirms;
    a reply is emailed; its mute link's page has a button that mutes."""
    settings.SITE_URL = "https://news.example"
    page = open_page(java_script_enabled=javascript)
    visit(page, STORY)
    fill_comment(page, body="Tell me of replies", name="Sanne", email="sanne@example.com")
    page.get_by_label("Email me when someone replies").check()
    assert send_comment(page) == 200
    mail.outbox.clear()
    run_worker()
    (confirmation,) = mail.outbox
    visit(page, path_in(confirmation, "confirm"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Email you when someone replies?")
    assert not javascript or axe_violations(page) == []  # axe needs scripts
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, email me about replies").click()
    expect(page.get_by_role("status")).to_contain_text("each approved reply")
    assert ReplySubscription.objects.get().is_active

    comment = Comment.objects.get(body="Tell me of replies")
    services.approve(Comment.objects.filter(pk=comment.pk), by=make_user("mo"))
    comment.refresh_from_db()
    services.staff_reply(parent=comment, body="Thanks, Sanne", by=make_user("desk"))
    mail.outbox.clear()
    run_worker()
    (reply,) = mail.outbox
    visit(page, path_in(reply, "mute"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop emails about replies?")
    assert not javascript or axe_violations(page) == []  # axe needs scripts
    with page.expect_navigation():
        page.get_by_role("button", name="Stop these emails").click()
    expect(page.get_by_role("status")).to_contain_text("No more emails about replies")
    assert ReplySubscription.objects.get().muted_at is not None
