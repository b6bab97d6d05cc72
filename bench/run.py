#!/usr/bin/env python3
"""Benchmark: the real server (`make serve`, gunicorn) on a seeded PostgreSQL with Redis, loaded
with wrk, each page measured right after the ceiling (a bare Django view on the same server).

    .venv/bin/python bench/run.py --database-url postgres://postgres@127.0.0.1:5432/bench \\
        --stories 1000 --comments 1000

It seeds the database (seed_bulk, idempotent), starts `make serve` on 127.0.0.1 with
NEWSROOM_BENCH=1 (adds /bench/ceiling, lifts the comment rate limit), and measures for each page:
"warm" (anonymous readers, page cache filled), "cold" (a cookie the page cache ignores, so the page
is built every time; fragment caches still apply), plus the article's median with every cache
emptied before each request, and posting a comment. It prints a table and writes
bench/results/latest.json. Needs wrk (apt-get install wrk). Not run in CI.
"""

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = ROOT / ".venv" / "bin" / "python"
ARTICLE = "/stories/bench-gold-medal-story/"
PAGES = {
    "home": "/",
    "article": ARTICLE,
    "event": "/results/events/bench-women-1000m/",
    "medal table": "/results/bench-games/",
    "search": "/search/?q=gold+medal",
}
CEILING = "/bench/ceiling"
COLD_COOKIE = "bench=cold"  # any cookie but the CSRF one makes the page cache step aside
POST_SCRIPT = """
local n = 0
-- Each thread's `id` (a global in its own Lua state, set from the main state) keeps the bodies of
-- different threads apart, and {run} those of different runs: the same body twice from one
-- client is refused as a duplicate (a 400), which would measure the refusal, not the write.
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("id", threads) end
request = function()
  n = n + 1
  local body = "name=Bench+poster&website=&parent=&url=&token={token}"
    .. "&csrfmiddlewaretoken={csrf}&email=poster" .. id .. "-" .. n .. "%40example.com"
    .. "&body=Benchmark+comment+{run}+" .. id .. "+" .. n .. "+on+the+race"
  return wrk.format("POST", "{path}", {{
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "{cookie}",
    ["Referer"] = "{referer}",
  }}, body)
end
"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def manage(env, *args):
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def descendants(pid):
    """Every process below `pid` (make -> gunicorn master -> workers)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def peak_rss_mb(pid):
    """VmHWM, the peak resident memory, of each gunicorn worker (the master is left out)."""
    peaks = {}
    for child in descendants(pid):
        try:
            status = Path(f"/proc/{child}/status").read_text()
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"gunicorn" in cmdline and not descendants(child):
            peaks[child] = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
    return peaks


def start_server(env, port, log_file):
    server_env = env | {"HOST": "127.0.0.1", "PORT": str(port)}
    process = subprocess.Popen(
        ["make", "--no-print-directory", "serve"],
        cwd=ROOT,
        env=server_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"make serve stopped; see {log_file.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return process
        except OSError:
            time.sleep(0.5)
    stop_server(process)
    raise SystemExit("The server did not start within 120 seconds.")


def stop_server(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def parse_duration_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(base, path, args, *, headers=(), script=None):
    command = ["wrk", "--latency", "-t", str(args.threads), "-c", str(args.connections)]
    command += ["-d", f"{args.duration}s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    output = subprocess.run(
        [*command, base + path], capture_output=True, text=True, check=True, timeout=600
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": parse_duration_ms(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99_ms": parse_duration_ms(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - our own server
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body = response.read()
        return body, response.headers, (time.perf_counter() - started) * 1000


def all_caches_cleared_median(base, redis_url, runs=15):
    import redis

    store = redis.Redis.from_url(redis_url)
    times = []
    for _ in range(runs):
        store.flushdb()
        times.append(fetch(base + ARTICLE)[2])
    return statistics.median(times)


def posting_script(base, secret):
    """A wrk script posting unique comments with a valid CSRF cookie and form token."""
    body, headers, _ = fetch(base + ARTICLE)
    html = body.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    cookie = re.search(r"(csrftoken=[^;]+)", headers["Set-Cookie"]).group(1)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    script = POST_SCRIPT.format(
        token=urllib.parse.quote(token),
        csrf=csrf,
        path=ARTICLE + "comment/",
        cookie=cookie,
        referer=base + ARTICLE,
        run=uuid.uuid4().hex[:12],
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    time.sleep(3.5)  # the form refuses what is sent faster than anyone types
    return handle.name


def measure(base, args):
    results = {"pages": {}, "ceiling_runs": []}

    def against_ceiling(name, path, **options):
        ceiling = wrk(base, CEILING, args)
        page = wrk(base, path, args, **options)
        results["ceiling_runs"].append(ceiling)
        page["ratio"] = round(page["rps"] / ceiling["rps"], 3)
        page["p99_vs_ceiling"] = round(page["p99_ms"] / max(ceiling["p99_ms"], 0.001), 2)
        log(
            f"  {name:<22} {page['rps']:>8.0f} req/s  p50 {page['p50_ms']:>7.2f} ms  "
            f"p99 {page['p99_ms']:>7.2f} ms  {page['ratio']:>6.1%} of ceiling "
            f"({ceiling['rps']:.0f} req/s)"
            + (f"  {page['errors']} NOT 2xx/3xx" if page["errors"] else "")
        )
        return page

    for name, path in PAGES.items():
        fetch(base + path)  # fill the page cache
        results["pages"][name] = {
            "warm": against_ceiling(f"{name} (warm)", path),
            "cold": against_ceiling(f"{name} (cold)", path, headers=[f"Cookie: {COLD_COOKIE}"]),
        }
    script = posting_script(base, args)
    results["pages"]["post comment"] = {"post": against_ceiling("post comment", "/", script=script)}
    os.unlink(script)
    median = round(all_caches_cleared_median(base, args.redis_url), 2)
    results["article_all_caches_cleared_median_ms"] = median
    log(f"  article, every cache emptied: median {median} ms")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=False)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    if not (args.database_url or "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("Give --database-url (or DATABASE_URL) of a PostgreSQL database.")

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-" + "x" * 50),
        "DJANGO_SECURE": "0",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "NEWSROOM_BENCH": "1",
        "WEB_CONCURRENCY": str(args.workers),
    }
    log("Migrating and seeding (idempotent) ...")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_bulk", f"--stories={args.stories}", f"--comments={args.comments}")

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with open(RESULTS / "server.log", "w") as server_log:
        server = start_server(env, port, server_log)
        try:
            base = f"http://127.0.0.1:{port}"
            log(f"Server up at {base}; {args.duration} s per run, {args.connections} connections.")
            results = measure(base, args)
            results["worker_peak_rss_mb"] = {
                str(pid): round(mb, 1) for pid, mb in peak_rss_mb(server.pid).items()
            }
        finally:
            stop_server(server)
    ceilings = [run["rps"] for run in results["ceiling_runs"]]
    results["ceiling"] = {
        "rps_median": statistics.median(ceilings),
        "rps_min": min(ceilings),
        "rps_max": max(ceilings),
        "p99_ms_median": statistics.median(run["p99_ms"] for run in results["ceiling_runs"]),
    }
    results["setup"] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "stories": args.stories,
        "comments": args.comments,
        "workers": args.workers,
        "connections": args.connections,
        "threads": args.threads,
        "duration_s": args.duration,
        "cpus": os.cpu_count(),
    }
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    log(f"Peak worker memory: {results['worker_peak_rss_mb']} MB")
    log(f"Written to {args.output}")


if __name__ == "__main__":
    main()
