"""The duplicate rule keys on the commenter: the same person sending the same text again on a
story is refused; another person behind the same network address is not."""

import pytest
from django.urls import reverse

from comments.models import Comment

from .factories import comment_form_data, make_article, make_comment

pytestmark = pytest.mark.django_db

OFFICE = "192.0.2.44"


def post(client, article, address=OFFICE, **fields):
    return client.post(
        reverse("comments:post", kwargs={"slug": article.slug}),
        comment_form_data(article, **fields),
        REMOTE_ADDR=address,
    )


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.COMMENTS = {**getattr(settings, "COMMENTS", {}), "RATE_LIMITS": [(100, 1)]}


def test_two_people_behind_one_address_may_post_the_same_short_text(client, django_user_model):
    """A family or an office: same network address, different people, same "Great race!"."""
    article = make_article()
    first = post(client, article, name="Anna", email="anna@example.com", body="Great race!")
    client.cookies.clear()  # another browser in the same office
    second = post(client, article, name="Bert", email="bert@example.com", body="Great race!")
    assert (first.status_code, second.status_code) == (303, 303)
    assert sorted(Comment.objects.values_list("name", flat=True)) == ["Anna", "Bert"]


@pytest.mark.parametrize(
    "again",
    ["anna@example.com", "ANNA@Example.COM", " anna@example.com "],
)
def test_the_same_person_sending_it_again_is_refused(client, again):
    article = make_article()
    assert post(client, article, email="anna@example.com", body="Great race!").status_code == 303
    response = post(client, article, email=again, body="  Great race!  ")
    assert response.status_code == 400
    assert "You have already posted this comment on this story." in response.content.decode()
    assert "Great race!  </textarea>" in response.content.decode()
    assert Comment.objects.count() == 1


def test_the_same_person_from_another_address_is_known_by_their_browser(client):
    """The browser's signed cookie proves it wrote the first: a new network address (a phone
    moving from wifi to mobile data) does not let the same text through twice."""
    article = make_article()
    assert post(client, article, address="192.0.2.1", body="Great race!").status_code == 303
    response = post(client, article, address="198.51.100.9", body="Great race!")
    assert response.status_code == 400
    assert Comment.objects.count() == 1


def test_the_same_text_on_another_story_is_not_a_duplicate(client):
    one, two = make_article(), make_article()
    assert post(client, one, body="Great race!").status_code == 303
    assert post(client, two, body="Great race!").status_code == 303


def test_a_stranger_guessing_the_address_learns_nothing(client):
    """Someone elsewhere typing a commenter's address and their public text is not refused:
    the refusal would tell them who wrote it."""
    article = make_article()
    make_comment(
        article=article, email="marieke@example.com", body="What a race!", status="approved"
    )
    response = post(client, article, address="203.0.113.99", email="marieke@example.com",
                     body="What a race!")  # fmt: skip
    assert response.status_code == 303


def test_the_duplicate_check_reads_only_the_commenters_recent_comments():
    """Run on every post: the client's part through the client-hash index, nothing through a
    scan of every comment."""
    from django.db import connection

    from comments.posting import same_text_by_them

    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL query plans")
    comment = make_comment(article=make_article())
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = same_text_by_them(comment, "a" * 64, own_ids=[comment.pk, 7]).explain()
    # (The browser's part reads at most cookies.PENDING_KEEP ids, by an index either way.)
    assert "comment_client_idx" in plan, plan
    assert "Seq Scan" not in plan, plan
