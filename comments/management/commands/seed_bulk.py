"""Bulk data for benchmarks: many stories and comments, plus one "bench" story to measure.

Idempotent per size: bulk stories and comments are numbered, so a second run with the same sizes
adds nothing and a run with bigger sizes adds only the difference. Rows go in with bulk_create
in batches (one transaction each), which skips model signals, so the search index is rebuilt for
the new stories and the page cache is emptied at the end.
"""

import random
import sys
from contextlib import contextmanager
from datetime import timedelta
from itertools import islice

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from articles import search
from articles.models import (
    Article,
    Athlete,
    Competition,
    Event,
    Nation,
    Result,
    Section,
    Tag,
)
from comments.models import Comment

STORY_SLUG = "bulk-story-{}"
BENCH_SLUG = "bench-gold-medal-story"
BENCH_THREADS, BENCH_RESULTS = 50, 30  # 50 threads of 4 comments: 200
SECTIONS = ["Speed skating", "Figure skating", "Skiing", "Biathlon", "Ice hockey", "Curling"]
TAGS = [f"Topic {n}" for n in range(1, 21)]
WORDS = (  # noqa: SIM905 - one readable line of filler words
    "gold silver bronze medal record oval final heat sprint relay lap finish start coach "
    "training season champion title olympic world cup team nation crowd track time race "
    "skater skier jump turn ice snow mountain valley podium lead chase break margin"
).split()
# Comment statuses in a realistic mix: most approved, a queue of pending ones, some refused.
STATUS_MIX = ["approved"] * 85 + ["pending"] * 10 + ["rejected"] * 3 + ["spam"] * 2


def chunks(iterable, size):
    iterator = iter(iterable)
    while batch := list(islice(iterator, size)):
        yield batch


@contextmanager
def keeping_created_at():
    """Let bulk rows keep the creation times we give them instead of "now"."""
    field = Comment._meta.get_field("created_at")
    field.auto_now_add = False
    try:
        yield
    finally:
        field.auto_now_add = True


def text(rng, words):
    return " ".join(rng.choice(WORDS) for _ in range(words))


class Command(BaseCommand):
    help = "Add bulk stories and comments for benchmarks (idempotent per size)."

    def add_arguments(self, parser):
        parser.add_argument("--stories", type=int, default=1000)
        parser.add_argument("--comments", type=int, default=10000)
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, stories, comments, batch_size, **options):
        if stories < 1 or comments < 0 or batch_size < 1:
            raise CommandError("--stories must be 1 or more, --comments 0 or more.")
        self.verbose = options["verbosity"] > 0
        self.batch_size = batch_size
        self.now = timezone.now()
        author, _ = get_user_model().objects.get_or_create(
            username="bulk-author", defaults={"first_name": "Bulk", "last_name": "Writer"}
        )
        sections = [
            Section.objects.get_or_create(slug=f"bulk-{n}", defaults={"name": f"{name} (bulk)"})[0]
            for n, name in enumerate(SECTIONS, 1)
        ]
        tags = [
            Tag.objects.get_or_create(slug=f"bulk-topic-{n}", defaults={"name": f"{name} (bulk)"})[
                0
            ]
            for n, name in enumerate(TAGS, 1)
        ]
        added = self.add_stories(stories, author, sections, tags)
        story_ids = list(
            Article.objects.filter(slug__startswith="bulk-story-")
            .order_by("pk")
            .values_list("pk", flat=True)[:stories]
        )
        comments_added = self.add_comments(comments, story_ids)
        self.add_bench_story(author, sections[0], tags[0])
        if added or comments_added:
            self.vacuum()
        cache.clear()  # bulk inserts send no signals: nothing kept may outlive them
        self.stdout.write(
            f"{added} stories and {comments_added} comments added; "
            f"{Article.objects.count()} stories and {Comment.objects.count()} comments in all."
        )

    def vacuum(self):
        """Statistics and the visibility map for the loaded tables at once, as autovacuum would
        give them later: without them the planner guesses and counts read every row."""
        if connection.vendor != "postgresql":
            return
        # VACUUM cannot run inside a transaction (a test's); ANALYZE alone can.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE"
        with connection.cursor() as cursor:
            for model in (Article, Article.tags.through, Article.events.through, Comment):
                cursor.execute(f'{command} "{model._meta.db_table}"')

    def progress(self, total, desc):
        return tqdm(total=total, desc=desc, unit="row", file=sys.stderr, disable=not self.verbose)

    def add_stories(self, count, author, sections, tags):
        existing = Article.objects.filter(slug__startswith="bulk-story-").count()
        todo = range(existing + 1, count + 1)
        new_ids = []
        with self.progress(len(todo), "Stories") as bar:
            for batch in chunks(todo, self.batch_size):
                with transaction.atomic():
                    created = Article.objects.bulk_create(
                        self.story(n, author, sections) for n in batch
                    )
                    Article.tags.through.objects.bulk_create(
                        Article.tags.through(article_id=article.pk, tag_id=tags[index].pk)
                        for n, article in zip(batch, created, strict=True)
                        for index in {n % len(tags), (n * 7 + 3) % len(tags)}
                    )
                new_ids += [article.pk for article in created]
                bar.update(len(batch))
        if new_ids:
            for batch in chunks(new_ids, self.batch_size):
                search.index_articles(batch)
        return len(new_ids)

    def story(self, n, author, sections):
        rng = random.Random(n)
        title = f"{text(rng, 6).capitalize()} ({n})"
        paragraphs = "\n\n".join(text(rng, 60).capitalize() + "." for _ in range(5))
        return Article(
            title=title,
            slug=STORY_SLUG.format(n),
            standfirst=text(rng, 25).capitalize() + ".",
            body=f"## {text(rng, 4).capitalize()}\n\n{paragraphs}",
            author=author,
            section=sections[n % len(sections)],
            status=Article.Status.PUBLISHED,
            # Newest first: story 1 went live an hour ago, then one every 30 minutes back in time.
            published_at=self.now - timedelta(hours=1, minutes=30 * n),
        )

    def add_comments(self, count, story_ids):
        existing = Comment.objects.filter(article__slug__startswith="bulk-story-").count()
        todo = range(existing + 1, count + 1)
        with self.progress(len(todo), "Comments") as bar, keeping_created_at():
            for batch in chunks(todo, self.batch_size):
                with transaction.atomic():
                    Comment.objects.bulk_create(self.comment(n, story_ids) for n in batch)
                bar.update(len(batch))
        return len(todo)

    def comment(self, n, story_ids):
        rng = random.Random(-n)
        return Comment(
            article_id=story_ids[n % len(story_ids)],
            name=f"Reader {n}",
            email=f"reader{n}@example.com",
            body=text(rng, rng.randint(8, 60)).capitalize() + ".",
            status=STATUS_MIX[n % len(STATUS_MIX)],
            status_reason="bulk",
            created_at=self.now - timedelta(seconds=n),
        )

    @transaction.atomic
    def add_bench_story(self, author, section, tag):
        """One story to measure: an event with a 30-row results table and 200 approved comments
        (50 threads of a comment and three replies, all on the first page of comments)."""
        competition, _ = Competition.objects.get_or_create(
            slug="bench-games",
            defaults={
                "name": "Bench Games",
                "starts_on": self.now.date(),
                "ends_on": self.now.date(),
            },
        )
        event, _ = Event.objects.get_or_create(
            slug="bench-women-1000m",
            defaults={
                "competition": competition,
                "sport": "Speed skating",
                "name": "Women's 1000 m (bench)",
                "starts_at": self.now - timedelta(hours=3),
                "status": Event.Status.FINAL,
                "results_official": True,
            },
        )
        if not event.results.exists():
            nations = [
                Nation.objects.get_or_create(code=f"B{n:02d}", defaults={"name": f"Benchland {n}"})[
                    0
                ]
                for n in range(1, 11)
            ]
            athletes = [
                Athlete.objects.get_or_create(
                    slug=f"bench-athlete-{n}",
                    defaults={"name": f"Bench Athlete {n}", "nation": nations[n % 10]},
                )[0]
                for n in range(1, BENCH_RESULTS + 1)
            ]
            Result.objects.bulk_create(
                Result(event=event, athlete=athlete, rank=n, time_ms=72_000 + n * 137)
                for n, athlete in enumerate(athletes, 1)
            )
            event.mark_results_changed()
        article, created = Article.objects.get_or_create(
            slug=BENCH_SLUG,
            defaults={
                "title": "Bench skater wins gold in a record time",
                "standfirst": "The story the benchmark reads: results and 200 comments.",
                "body": "\n\n".join(text(random.Random(0), 80) for _ in range(8)),
                "author": author,
                "section": section,
                "status": Article.Status.PUBLISHED,
                "published_at": self.now - timedelta(minutes=30),
            },
        )
        if created:
            article.tags.add(tag)
            article.events.add(event)
        if article.comments.exists():
            return
        rng = random.Random(1)

        def comment(parent, n):
            return Comment.objects.create(
                article=article,
                parent=parent,
                name=f"Bench reader {n}",
                email=f"bench{n}@example.com",
                body=text(rng, 40).capitalize() + ". https://example.com/",
                status=Comment.Status.APPROVED,
                status_reason="bulk",
            )

        for thread in range(BENCH_THREADS):
            top = comment(None, f"{thread}-1")
            comment(top, f"{thread}-2")
            comment(comment(top, f"{thread}-3"), f"{thread}-4")
