"""seed_bulk fills a database for benchmarks: the asked-for sizes, once, and a story to measure."""

import pytest
from django.core.management import CommandError, call_command

from articles import search
from articles.models import Article
from comments.models import Comment

pytestmark = pytest.mark.django_db


def bulk_counts():
    return (
        Article.objects.filter(slug__startswith="bulk-story-").count(),
        Comment.objects.filter(article__slug__startswith="bulk-story-").count(),
    )


def test_adds_the_sizes_asked_for_once(client):
    """The same sizes twice add nothing; bigger sizes add only the difference."""
    call_command("seed_bulk", stories=5, comments=40, batch_size=7, verbosity=0)
    assert bulk_counts() == (5, 40)
    call_command("seed_bulk", stories=5, comments=40, verbosity=0)
    assert bulk_counts() == (5, 40)
    call_command("seed_bulk", stories=8, comments=50, verbosity=0)
    assert bulk_counts() == (8, 50)
    assert Comment.objects.filter(article__slug="bulk-story-8").exists()


def test_bench_story_has_a_30_row_table_and_200_approved_comments(client):
    """The story the benchmark reads shows its results and all 200 comments on one page."""
    call_command("seed_bulk", stories=2, comments=3, verbosity=0)
    call_command("seed_bulk", stories=2, comments=3, verbosity=0)
    story = Article.objects.get(slug="bench-gold-medal-story")
    assert story.comments.public().count() == 200
    assert story.events.get().results.count() == 30
    page = client.get(story.get_absolute_url())
    assert page.status_code == 200
    assert page.content.count(b'class="comment-card"') == 200


def test_bulk_stories_are_published_searchable_and_mixed_in_status(client):
    """Bulk rows skip model signals, so the command indexes them itself."""
    call_command("seed_bulk", stories=3, comments=100, verbosity=0)
    story = Article.objects.get(slug="bulk-story-2")
    assert story.is_published
    word = story.title.split()[0]
    assert story in search.articles(search.Query.parse(word))
    statuses = set(Comment.objects.values_list("status", flat=True))
    assert statuses == {"approved", "pending", "rejected", "spam"}
    assert client.get("/").status_code == 200


def test_refuses_sizes_that_make_no_sense():
    """Zero stories is an error with a message, not a crash."""
    with pytest.raises(CommandError, match="--stories"):
        call_command("seed_bulk", stories=0, comments=1, verbosity=0)
