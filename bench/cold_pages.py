#!/usr/bin/env python3
"""Pages built with nothing kept, measured inside one process: the CPU time of each request.

    .venv/bin/python bench/cold_pages.py --database-url postgres://postgres@127.0.0.1:5432/bench12

Runs the app's own request handler (Django's test client: every middleware, no HTTP server) on
the database `seed_bulk` fills, emptying the app's cache (the Redis database of --redis-url)
before each request, and prints the median, fastest and slowest CPU time (time.process_time:
what other jobs on a busy machine disturb least) and the median wall time of: a typical story
(exactly 10 approved comments, the one bench/race_worker.py picks) and the article with 200
comments and 30 results (`/stories/bench-gold-medal-story/`). What each process keeps for
itself (the blank comment form, which tags an entry carried) stays, as it does in a server.
Seed first (`manage.py seed_bulk --stories 1000 --comments 10000`); not part of CI.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--requests", type=int, default=40, help="measured requests per page")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("Give --database-url (or DATABASE_URL): the database seed_bulk filled.")
    os.environ.update(
        {
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-" + "x" * 50),
            "DJANGO_SECURE": "0",
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "testserver",
            "NEWSROOM_BENCH": "1",
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from articles.models import Article
    from comments.models import Comment

    call_command("collectstatic", "--noinput", verbosity=0)  # the hashed names pages link to
    pages = {"article, 200 comments": "/stories/bench-gold-medal-story/"}
    bulk = Article.objects.published().filter(slug__startswith="bulk-story-").order_by("pk")
    for article in bulk[:200]:
        statuses = list(article.comments.values_list("status", flat=True))
        if len(statuses) == 10 and set(statuses) == {Comment.Status.APPROVED}:
            pages = {"typical story, 10 comments": article.get_absolute_url(), **pages}
            break
    client = Client(headers={"accept-encoding": "gzip"})
    for name, path in pages.items():
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)  # the first also stores what a deploy left stale
        assert response.status_code == 200, (path, response.status_code)
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(path)
        print(f"{name} ({path}): {len(queries)} queries, {len(response.content):,} bytes")
    for number in range(1, args.rounds + 1):
        for name, path in pages.items():
            cpu, wall = [], []
            for _ in range(args.requests):
                cache.clear()
                started_cpu, started = time.process_time(), time.perf_counter()
                response = client.get(path)
                cpu.append((time.process_time() - started_cpu) * 1000)
                wall.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200
            print(
                f"round {number}: {name:<28} CPU median {statistics.median(cpu):6.2f} ms "
                f"(min {min(cpu):6.2f}, max {max(cpu):6.2f}); "
                f"wall median {statistics.median(wall):6.2f} ms (min {min(wall):6.2f})"
            )


if __name__ == "__main__":
    main()
