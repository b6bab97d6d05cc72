#!/usr/bin/env python3
"""The app's side of bench/run.py, run with the app's settings and code (not on its own).

    race_worker.py prepare              -> JSON on stdout: the URLs to read, the typical story
    race_worker.py changes --bases URL,URL --out FILE --go FILE

`prepare` puts back to pending the comments a previous run's moderator approved (so every run
starts from the same rows; run it before any cache is filled) and lists what the benchmark reads.

`changes` is race day's newsroom: a moderator approves one pending comment a second on a random
bulk story (comments.services.approve, which purges that story's tag after the commit), every
5 seconds the bench event's winning time changes (Result.save + Event.mark_results_changed),
and every 10 seconds an editor fixes the standfirst of a random bulk story (Article.save).
After each commit, a watcher per base URL polls the changed page until the change shows and
records the delay from the commit to the end of the first response showing it, then keeps
reading it for a second to catch a page that goes back to the old content. On SIGTERM it waits
for its watchers and writes everything to --out as JSON.
"""

import argparse
import gzip
import json
import os
import random
import signal
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402

from articles import times  # noqa: E402
from articles.models import Article, Event, Result  # noqa: E402
from comments import services  # noqa: E402
from comments.models import Comment  # noqa: E402

MODERATOR = "bench-moderator"
BENCH_ARTICLE = "bench-gold-medal-story"
BENCH_EVENT = "bench-women-1000m"
POLL_SECONDS = 0.01  # between reads until the change shows
GIVE_UP_SECONDS = 10
RECHECKS, RECHECK_SECONDS = 10, 0.1  # reads after it showed: does it stay?


def moderator():
    user, _ = get_user_model().objects.get_or_create(
        username=MODERATOR, defaults={"first_name": "Bench", "last_name": "Moderator"}
    )
    return user


def prepare():
    reset = Comment.objects.filter(moderated_by=moderator()).update(
        status=Comment.Status.PENDING, status_reason="bulk", moderated_by=None, moderated_at=None
    )
    # The winner's seeded time (seed_bulk), which the previous run changed.
    Result.objects.filter(event__slug=BENCH_EVENT, rank=1).update(time_ms=72_137)
    bulk = Article.objects.published().filter(slug__startswith="bulk-story-").order_by("pk")
    paths = [article.get_absolute_url() for article in bulk]
    # A typical story: exactly 10 comments, all approved (the lowest-numbered such story).
    typical = None
    for article in bulk[:200]:
        statuses = list(article.comments.values_list("status", flat=True))
        if len(statuses) == 10 and set(statuses) == {Comment.Status.APPROVED}:
            typical = {"slug": article.slug, "path": article.get_absolute_url(), "approved": 10}
            break
    print(
        json.dumps(
            {
                "story_paths": paths,
                "typical": typical,
                "article_path": Article.objects.get(slug=BENCH_ARTICLE).get_absolute_url(),
                "event_path": Event.objects.get(slug=BENCH_EVENT).get_absolute_url(),
                "pending_on_bulk_stories": Comment.objects.filter(
                    status=Comment.Status.PENDING, article__in=bulk
                ).count(),
                "reset_to_pending": reset,
            }
        )
    )


def read(url):
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        body = response.read()
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return response.status, response.headers.get("X-Cache", ""), body.decode()


class Watchers:
    def __init__(self, bases):
        self.bases = bases
        self.records = []
        self.threads = []
        self.lock = threading.Lock()

    def watch(self, kind, path, marker, committed):
        for base in self.bases:
            thread = threading.Thread(
                target=self._watch, args=(kind, base, path, marker, committed), daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def _watch(self, kind, base, path, marker, committed):
        record = {"kind": kind, "base": base, "path": path, "reads": 0, "errors": 0}
        deadline = committed + GIVE_UP_SECONDS
        while time.time() < deadline:
            try:
                status, cache, html = read(base + path)
            except OSError as error:  # a 5xx, a refused connection: counted, read again
                record["errors"] += 1
                record["last_error"] = str(error)
                time.sleep(POLL_SECONDS)
                continue
            record["reads"] += 1
            if marker in html:
                record["delay_ms"] = round((time.time() - committed) * 1000, 1)
                record["x_cache"] = cache
                break
            time.sleep(POLL_SECONDS)
        else:
            record["delay_ms"] = None  # never showed within GIVE_UP_SECONDS
        if record["delay_ms"] is not None:
            record["went_back"] = 0
            for _ in range(RECHECKS):
                time.sleep(RECHECK_SECONDS)
                try:
                    if marker not in read(base + path)[2]:
                        record["went_back"] += 1
                except OSError:
                    record["errors"] += 1
        with self.lock:
            self.records.append(record)

    def join(self):
        for thread in self.threads:
            thread.join(timeout=GIVE_UP_SECONDS + 5)


def committed_at():
    """Register first in the outer transaction: runs at its commit, before the app's purges."""
    stamp = {}
    transaction.on_commit(lambda: stamp.setdefault("t", time.time()))
    return stamp


def approve_one(user, watchers):
    comment = (
        Comment.objects.filter(
            status=Comment.Status.PENDING, article__slug__startswith="bulk-story-"
        )
        .select_related("article")
        .order_by("?")
        .first()
    )
    if comment is None:
        return "no pending comment left"
    with transaction.atomic():
        stamp = committed_at()
        services.approve(Comment.objects.filter(pk=comment.pk), by=user)
    watchers.watch(
        "comment approved",
        comment.article.get_absolute_url(),
        f'id="c{comment.pk}-author"',
        stamp["t"],
    )
    return None


def change_result(event, value_ms, article_path, watchers):
    """The winner's time changes: shown on the event page and in the story's podium table."""
    with transaction.atomic():
        stamp = committed_at()
        result = Result.objects.filter(event=event, rank=1).first()
        result.time_ms = value_ms
        result.save()
        event.mark_results_changed()
    marker = times.format_time(value_ms)
    watchers.watch("results (event page)", event.get_absolute_url(), marker, stamp["t"])
    watchers.watch("results (story)", article_path, marker, stamp["t"])


def edit_one(watchers):
    """An editor's fix to a live story's standfirst, shown on its page (and wherever it is
    listed with its standfirst)."""
    story = Article.objects.filter(slug__startswith="bulk-story-").order_by("?").first()
    if story is None:
        return "no bulk story to edit"
    marker = f"Corrected on race day {uuid.uuid4().hex[:10]}."
    with transaction.atomic():
        stamp = committed_at()
        story.standfirst = marker
        story.save()
    watchers.watch("story edited", story.get_absolute_url(), marker, stamp["t"])
    return None


def next_winner_time(event, previous):
    """A winner's time not shown before (1:10.00-1:11.99, faster than rank 2's seeded 1:12.27):
    another one each change, and never the one shown now."""
    current = Result.objects.filter(event=event, rank=1).values_list("time_ms", flat=True).first()
    value = previous
    while value in (previous, current):
        value = 70_000 + 10 * random.randrange(0, 200)
    return value


def changes(bases, out, approve_every, results_every, edit_every, go):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    user = moderator()
    event = Event.objects.get(slug=BENCH_EVENT)
    article_path = Article.objects.get(slug=BENCH_ARTICLE).get_absolute_url()
    watchers = Watchers(bases)
    winner_ms = None
    # Started, imported and connected: wait for the word (the file `go`), so that none of this
    # start-up lands in the measured run.
    Comment.objects.filter(status=Comment.Status.PENDING).exists()
    print("ready", flush=True)
    while not Path(go).exists() and not stop.is_set():
        time.sleep(0.02)
    summary = {"approvals": 0, "result_changes": 0, "edits": 0, "problems": []}
    started = time.monotonic()
    tick = 0
    while not stop.is_set():
        problem = approve_one(user, watchers)
        if problem:
            summary["problems"].append(problem)
        else:
            summary["approvals"] += 1
        if tick % max(1, round(results_every / approve_every)) == 0:
            winner_ms = next_winner_time(event, winner_ms)
            change_result(event, winner_ms, article_path, watchers)
            summary["result_changes"] += 1
        if edit_every and tick % max(1, round(edit_every / approve_every)) == 0:
            problem = edit_one(watchers)
            if problem:
                summary["problems"].append(problem)
            else:
                summary["edits"] += 1
        tick += 1
        stop.wait(max(0.0, started + tick * approve_every - time.monotonic()))
    watchers.join()
    summary["watches"] = watchers.records
    Path(out).write_text(json.dumps(summary, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare")
    run = sub.add_parser("changes")
    run.add_argument("--bases", required=True, help="comma-separated base URLs to watch")
    run.add_argument("--out", required=True)
    run.add_argument("--approve-every", type=float, default=1.0)
    run.add_argument("--results-every", type=float, default=5.0)
    run.add_argument("--edit-every", type=float, default=10.0, help="0: no editor's edits")
    run.add_argument("--go", required=True, help="start the changes once this file exists")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare()
    else:
        changes(
            args.bases.split(","),
            args.out,
            args.approve_every,
            args.results_every,
            args.edit_every,
            args.go,
        )


if __name__ == "__main__":
    main()
