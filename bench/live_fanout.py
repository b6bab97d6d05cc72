#!/usr/bin/env python3
"""Live fan-out on loopback: N readers hold a live story's stream through Pushpin while the desk
posts an entry every second. Measures what issue 15 asks: does every reader get every entry,
the delivery delay (from the start of the entry's save to its arrival at each reader: p50, p95,
max), and whether the gunicorn workers stay free (a normal page's latency, quiet vs during).

    .venv/bin/python bench/live_fanout.py --readers 1000 --entries 10

Runs its own SQLite database, gunicorn (2 workers) and Pushpin in a temporary folder. Readers
are plain sockets in one asyncio loop in this process, which also posts the entries (ORM, so
the post publishes after commit exactly as the live desk does).
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pushpin import pushpin  # noqa: E402
from tests.servers import environment, gunicorn, manage  # noqa: E402

STORY_SLUG = "leerdam-wins-olympic-1000m-gold"


def page_latencies(url, count):
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            response.read()
        seconds.append(time.perf_counter() - start)
        time.sleep(0.05)
    return seconds


async def reader(host, port, path, received, ready):
    stream_reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    while (await stream_reader.readline()) not in (b"\r\n", b""):
        pass  # headers
    ready()
    while True:
        line = await stream_reader.readline()
        if not line:
            return
        if line.startswith(b"id: "):
            received.append((int(line[4:]), time.perf_counter()))


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(args):
    with tempfile.TemporaryDirectory(prefix="newsroom-fanout-") as folder:
        await measure(args, Path(folder))


async def measure(args, work):
    env = environment(
        DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
        STATIC_ROOT=str(work / "static"),
        NEWSROOM_CACHE_DIR=str(work / "cache"),
    )
    for command in (
        ("migrate", "--noinput", "-v0"),
        ("seed_demo", "-v0"),
        ("collectstatic", "--noinput", "-v0"),
    ):
        manage(*command, env=env)
    with gunicorn(
        work,
        work / "static",
        workers=2,
        **{k: v for k, v in env.items() if k in ("DATABASE_URL", "NEWSROOM_CACHE_DIR")},
    ) as (app, _):
        port = int(app.rsplit(":", 1)[1])
        with pushpin(port, work) as (front, publish_url):
            os.environ.update(
                {
                    k: env[k]
                    for k in (
                        "DATABASE_URL",
                        "DJANGO_SECRET_KEY",
                        "DJANGO_SECURE",
                        "NEWSROOM_CACHE_DIR",
                    )
                }
            )
            os.environ["NEWSROOM_PUSHPIN_PUBLISH"] = publish_url
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # setup reads in this loop, once
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
            import django

            django.setup()
            from articles import live
            from articles.models import Article, LiveEntry

            story = Article.objects.get(slug=STORY_SLUG)
            live.start_coverage(story)
            page = app + story.get_absolute_url()
            quiet = page_latencies(page, 30)

            host, front_port = "127.0.0.1", int(front.rsplit(":", 1)[1])
            path = story.get_absolute_url() + "live/stream/?after=0"
            inboxes = [[] for _ in range(args.readers)]
            connected = 0

            def ready():
                nonlocal connected
                connected += 1

            tasks = []
            for inbox in inboxes:
                tasks.append(asyncio.create_task(reader(host, front_port, path, inbox, ready)))
                await asyncio.sleep(0.002)  # not one SYN flood
            deadline = time.monotonic() + 60
            while connected < args.readers and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            connect_done = connected

            during = []
            probe = threading.Thread(target=lambda: during.extend(page_latencies(page, 30)))
            sent = {}
            probe.start()
            for _ in range(args.entries):
                start = time.perf_counter()
                entry = await asyncio.to_thread(
                    LiveEntry.objects.create, article=story, author=story.author, body="Pair update"
                )
                sent[entry.pk] = start
                await asyncio.sleep(1)
            await asyncio.sleep(3)
            probe.join()
            for task in tasks:
                task.cancel()

    delays = [at - sent[pk] for inbox in inboxes for pk, at in inbox if pk in sent]
    complete = sum(1 for inbox in inboxes if {pk for pk, _ in inbox} >= set(sent))
    print(f"readers connected: {connect_done}/{args.readers}")
    print(f"entries posted: {len(sent)}; readers who got every entry: {complete}/{args.readers}")
    print(f"deliveries: {len(delays)} of {len(sent) * args.readers}")
    if delays:
        p50, p95 = statistics.median(delays), percentile(delays, 0.95)
        print(f"delivery seconds: p50 {p50:.3f} p95 {p95:.3f} max {max(delays):.3f}")
    for name, seconds in (("quiet", quiet), ("during", during)):
        p50, p95 = statistics.median(seconds), percentile(seconds, 0.95)
        print(f"story page seconds, gunicorn direct, {name}: p50 {p50:.4f} p95 {p95:.4f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
