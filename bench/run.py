#!/usr/bin/env python3
"""Benchmark, side by side in one run: Newsroom (`make serve`: gunicorn, PostgreSQL, Redis) with
and without Varnish in front, against the bare Django view on an identical gunicorn.

    createdb -h 127.0.0.1 -U postgres bench12
    .venv/bin/python bench/run.py --database-url postgres://postgres@127.0.0.1:5432/bench12 \\
        --stories 1000 --comments 10000 --duration 8 --output bench/results/<name>.json

What it starts (all stopped at the end, on error and on Ctrl-C too):
- the ceiling, "the bare Django view": a separate project made at run time with `django-admin
  startproject` (its defaults, DEBUG off, ALLOWED_HOSTS 127.0.0.1, no database) with one view
  returning a short fixed body, served by the same gunicorn command line as `make serve`
  (taken from `make -n serve`: same workers, same flags, same config);
- Newsroom by `make serve` with NEWSROOM_BENCH=1 (lifts the comment rate limit for the posting
  run, adds the in-app /bench/ceiling measured as an extra line only) and NEWSROOM_FRONT_CACHE
  pointing at
- varnishd running deploy/varnish/newsroom.vcl (its backend port replaced) in front of it.

Every page run asks as browsers do (`Accept-Encoding: gzip`) with wrk, right after a run of the
bare view, and is given as a ratio to it. "Cold" is a personal request (`Cookie:
comment_author=x`): no shared cache may answer it, the page is built from the app's shared
fragments. Medians of single requests: the article with every cache emptied (Redis FLUSHDB
before each request) and a typical story (10 comments) built with nothing kept. Race day
(bench/race_worker.py): readers spread over the bulk stories and the home page, a quiet run,
then the same run while a moderator approves a comment a second, an event's results change
every 5 s and an editor fixes a story every 10 s, through Varnish and on gunicorn alone; and
the delay from each commit to the first reader who sees the change. Varnish's hit counters
are read around each run through it.

Prints a table with the targets of issue 12 and writes bench/results/latest.json (or --output).
Needs wrk and varnishd with the xkey module. Not run in CI.
"""

import argparse
import gzip
import json
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
BIN = ROOT / ".venv" / "bin"
PYTHON = BIN / "python"
VCL = ROOT / "deploy" / "varnish" / "newsroom.vcl"
VCL_PORT_LINE = '.port = "8000";'
VARNISHD = "/usr/sbin/varnishd"
GZIP = "Accept-Encoding: gzip"
COLD = "Cookie: comment_author=x"  # a personal cookie: no shared cache answers
IN_APP_CEILING = "/bench/ceiling"
BARE_BODY = b"ceiling"
OTHERS_WARN = 0.15  # cores used by other jobs during a run worth a warning
SINGLE_RUNS = 15  # requests per median of single requests

BARE_URLS = '''"""The bare Django view: one fixed short body (bench/run.py)."""

from django.http import HttpResponse
from django.urls import path


def ceiling(request):
    return HttpResponse(b"ceiling", content_type="text/plain")


urlpatterns = [path("", ceiling)]
'''

RACE_SCRIPT = """
-- Readers spread over the stories and the home page (bench/run.py): each request picks one at
-- random; `home_share` of them read the home page.
local paths = {{
{paths}
}}
local home_share = {home_share}
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("id", threads) end
init = function(args) math.randomseed(os.time() * 1000 + id) end
request = function()
  if math.random() < home_share then
    return wrk.format(nil, "/")
  end
  return wrk.format(nil, paths[math.random(#paths)])
end
"""

POST_SCRIPT = """
-- Unique comments posted as a browser on the page does (bench/run.py): same-origin Fetch
-- Metadata, the form token from the form's data-token-url. Each thread's `id` and {run} keep
-- bodies apart (the same body twice from one client is refused as a duplicate).
local n = 0
local threads = {{}}
setup = function(thread) table.insert(threads, thread); thread:set("id", #threads) end
init = function(args) refused = 0 end
request = function()
  n = n + 1
  local body = "name=Bench+poster&website=&parent=&url=&token={token}"
    .. "&email=poster" .. id .. "-" .. n .. "%40example.com"
    .. "&body=Benchmark+comment+{run}+" .. id .. "+" .. n .. "+on+the+race"
  return wrk.format("POST", "{path}", {{
    ["Host"] = "{host}",
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Sec-Fetch-Site"] = "same-origin",
    ["Origin"] = "{origin}",
    ["Accept-Encoding"] = "gzip",
  }}, body)
end
response = function(status, headers, body)
  if status ~= 303 then refused = refused + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("refused") end
  io.write("NOT-303: " .. total .. "\\n")
end
"""


def log(message=""):
    print(message, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Processes ----------------------------------------------------------------------------


class Processes:
    """Everything this script starts, each in its own session, stopped by process group."""

    def __init__(self):
        self.running = []

    def start(self, name, command, *, log_path, **options):
        log_file = open(log_path, "w")  # noqa: SIM115 - closed in stop_all
        process = subprocess.Popen(
            command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True, **options
        )
        self.running.append((name, process, log_file))
        return process

    def stop(self, process, timeout=20):
        for entry in list(self.running):
            if entry[1] is process:
                self.running.remove(entry)
                self._stop(*entry, timeout=timeout)

    def stop_all(self):
        while self.running:
            self._stop(*self.running.pop(), timeout=20)

    @staticmethod
    def _stop(name, process, log_file, timeout):
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop within {timeout} s: killed")
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # anything left in its group
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        log_file.close()


def wait_until_up(process, url, name, log_path, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                f"{name} stopped; see {log_path}:\n{Path(log_path).read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own server
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{name} did not answer within {seconds} s; see {log_path}")


def gunicorn_command(host, port, workers):
    """`make serve`'s gunicorn command line, exactly as make would run it."""
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "serve",
         f"HOST={host}", f"PORT={port}", f"WEB_CONCURRENCY={workers}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    joined = dry.replace("\\\n", " ")
    line = next(line for line in joined.splitlines() if "gunicorn " in line)
    command = shlex.split(line)
    assert "newsroom.wsgi" in command, line
    return command


def make_bare_project(directory):
    """`django-admin startproject ceiling`, its defaults but DEBUG off, ALLOWED_HOSTS 127.0.0.1,
    no database, and one view returning a short fixed body at /."""
    subprocess.run([BIN / "django-admin", "startproject", "ceiling", directory], check=True)
    settings = Path(directory) / "ceiling" / "settings.py"
    text = settings.read_text()
    text = text.replace("DEBUG = True", "DEBUG = False").replace(
        "ALLOWED_HOSTS = []", 'ALLOWED_HOSTS = ["127.0.0.1"]'
    )
    text = re.sub(r"DATABASES = \{.*?\n\}\n", "DATABASES = {}\n", text, flags=re.S)
    assert "DEBUG = False" in text and "DATABASES = {}" in text, "startproject changed shape"
    settings.write_text(text)
    (Path(directory) / "ceiling" / "urls.py").write_text(BARE_URLS)


# --- Measuring ----------------------------------------------------------------------------


def parse_duration_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def cpu_snapshot():
    """{pid: (cpu seconds so far, parent pid, name)} of every process now."""
    tick = os.sysconf("SC_CLK_TCK")
    snapshot = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick
            snapshot[int(entry.name)] = (cpu, int(fields[1]), name)
    return snapshot


def others_cpu(before, after, seconds):
    """Cores used during a run by processes that are neither ours (this script's tree) nor the
    database and Redis that serve us: another job on the machine skews every figure."""
    children = {}
    for pid, (_, ppid, _) in after.items():
        children.setdefault(ppid, []).append(pid)
    ours, todo = {os.getpid()}, [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            ours.add(child)
            todo.append(child)
    used = {}
    for pid, (cpu, _, name) in after.items():
        if pid in ours or name.startswith(("postgres", "redis-server")):
            continue
        spent = cpu - before.get(pid, (0.0, 0, ""))[0]
        if spent > 0:
            used[name] = used.get(name, 0.0) + spent
    top = sorted(used.items(), key=lambda item: -item[1])[:3]
    return round(sum(used.values()) / seconds, 2), {
        name: round(spent / seconds, 2) for name, spent in top
    }


def wait_for_idle(seconds):
    """Up to `seconds`, until other jobs use at most OTHERS_WARN cores (1 s samples)."""
    waited, deadline = 0.0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        before = cpu_snapshot()
        time.sleep(1)
        if others_cpu(before, cpu_snapshot(), 1.0)[0] <= OTHERS_WARN:
            break
        waited += 1
    return waited


def wrk(url, args, *, headers=(GZIP,), script=None):
    command = ["wrk", "--latency", "-t", str(args.threads), "-c", str(args.connections)]
    command += ["-d", f"{args.duration}s", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    waited = wait_for_idle(args.wait_for_idle) if args.wait_for_idle else 0
    before, started = cpu_snapshot(), time.monotonic()
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=args.duration + 120
    ).stdout
    others, others_top = others_cpu(before, cpu_snapshot(), time.monotonic() - started)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    refused = re.search(r"NOT-303: (\d+)", output)
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", output)
    result = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50_ms": parse_duration_ms(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99_ms": parse_duration_ms(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(map(int, sockets.groups())) if sockets else 0,
        "transfer_per_s": f"{transfer.group(1)}{transfer.group(2)}" if transfer else "",
        "others_cpu_cores": others,
        "others_cpu_top": others_top,
        "waited_for_idle_s": waited,
    }
    if others > OTHERS_WARN:
        log(f"  (warning: other processes used {others} cores during this run: {others_top})")
    if refused:
        result["not_303"] = int(refused.group(1))
    return result


def fetch(url, headers=None, *, method="GET", data=None):
    """(status, headers, decoded body bytes, ms); no redirect followed, no error raised."""
    headers = {"Accept-Encoding": "gzip", **(headers or {})}
    request = urllib.request.Request(url, headers=headers, method=method, data=data)  # noqa: S310
    opener = urllib.request.build_opener(NoRedirect)
    started = time.perf_counter()
    try:
        response = opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        body = response.read()
        ms = (time.perf_counter() - started) * 1000
        if response.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return response.status, response.headers, body, ms


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def varnish_counters(workdir):
    output = subprocess.run(
        ["varnishstat", "-n", str(workdir), "-1", "-j",
         "-f", "MAIN.client_req", "-f", "MAIN.cache_hit", "-f", "MAIN.cache_miss",
         "-f", "MAIN.cache_hitmiss", "-f", "MAIN.cache_hitpass", "-f", "MAIN.s_pass",
         "-f", "MAIN.backend_req"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    data = json.loads(output)
    counters = data.get("counters", data)
    return {
        name.removeprefix("MAIN."): value["value"]
        for name, value in counters.items()
        if name.startswith("MAIN.")
    }


def varnish_delta(before, after):
    delta = {name: after[name] - before.get(name, 0) for name in after}
    delta["hit_ratio"] = round(delta["cache_hit"] / max(1, delta["client_req"]), 4)
    return delta


class Bench:
    def __init__(self, args, bases, varnish_workdir):
        self.args = args
        self.bare, self.app, self.front = bases["bare"], bases["app"], bases["front"]
        self.varnish_workdir = varnish_workdir
        self.results = {"pages": {}, "bare_runs": [], "single": {}, "race_day": {}, "checks": []}

    def check(self, name, ok, detail="", *, required=True):
        self.results["checks"].append(
            {"check": name, "ok": bool(ok), "required": required, "detail": detail}
        )
        label = "ok" if ok else ("FAILED" if required else "no")
        log(f"  [{label}] {name}" + (f": {detail}" if detail else ""))

    def through_front(self, run):
        before = varnish_counters(self.varnish_workdir)
        result = run()
        result["varnish"] = varnish_delta(before, varnish_counters(self.varnish_workdir))
        return result

    def against_bare(self, name, base, path, *, target=None, headers=(GZIP,), script=None):
        bare = wrk(self.bare + "/", self.args)
        self.results["bare_runs"].append(bare)

        def run():
            return wrk(base + path, self.args, headers=headers, script=script)

        page = self.through_front(run) if base == self.front else run()
        page["ratio"] = round(page["rps"] / bare["rps"], 3)
        page["bare_rps"] = bare["rps"]
        page["bare_p99_ms"] = bare["p99_ms"]
        page["bare_others_cpu_cores"] = bare["others_cpu_cores"]
        page["target_ratio"] = target
        problems = []
        if page["non_2xx_3xx"]:
            problems.append(f"{page['non_2xx_3xx']} NOT 2xx/3xx")
        if page["socket_errors"]:
            problems.append(f"{page['socket_errors']} socket errors")
        if page.get("not_303"):
            problems.append(f"{page['not_303']} not 303")
        if "varnish" in page:
            problems.append(f"hits {page['varnish']['hit_ratio']:.1%}")
        log(
            f"  {name:<28} {page['rps']:>8.0f} req/s  p50 {page['p50_ms']:>7.2f} ms  "
            f"p99 {page['p99_ms']:>7.2f} ms  {page['ratio']:>6.2f}x bare ({bare['rps']:.0f} req/s)"
            + ("  " + ", ".join(problems) if problems else "")
        )
        self.results["pages"][name] = page
        return page

    # --- checks before measuring ---

    def sanity(self, article, home):
        status, headers, body, _ = fetch(self.bare + "/")
        self.check(
            "bare view answers 200 with its body",
            status == 200 and body == BARE_BODY,
            f"{status} {body[:20]!r}",
        )
        for name, path in (("article", article), ("home", home)):
            status, headers, body, _ = fetch(self.app + path)
            control = headers.get("Cache-Control", "")
            self.check(
                f"{name} direct: 200, public, s-maxage, no Set-Cookie",
                status == 200
                and "public" in control
                and "s-maxage" in control
                and not headers.get("Set-Cookie"),
                f"{status}, Cache-Control: {control}, Set-Cookie: {headers.get('Set-Cookie')}",
            )
            self.check(
                f"{name} direct: gzip when asked (information: Varnish compresses)",
                headers.get("Content-Encoding") == "gzip",
                f"Content-Encoding: {headers.get('Content-Encoding')}, {len(body)} bytes",
                required=False,
            )
            status, headers, _, _ = fetch(self.app + path, {"Cookie": "comment_author=x"})
            control = headers.get("Cache-Control", "")
            self.check(
                f"{name} with comment_author cookie: personal (private)",
                status == 200 and "private" in control,
                f"{status}, {control}",
            )
            fetch(self.front + path)
            status, headers, body, _ = fetch(self.front + path)
            self.check(
                f"{name} via Varnish: second request is a gzipped HIT",
                status == 200
                and headers.get("X-Cache") == "HIT"
                and headers.get("Content-Encoding") == "gzip"
                and not headers.get("xkey"),
                f"{status}, X-Cache: {headers.get('X-Cache')}, "
                f"Content-Encoding: {headers.get('Content-Encoding')}, {len(body)} bytes",
            )
            status, headers, _, _ = fetch(self.front + path, {"Cookie": "comment_author=x"})
            self.check(
                f"{name} via Varnish with comment_author cookie: not from the cache",
                status == 200 and headers.get("X-Cache") == "MISS",
                f"{status}, X-Cache: {headers.get('X-Cache')}",
            )

    # --- single requests ---

    def flushed_median(self, name, path, target_ms):
        import redis

        store = redis.Redis.from_url(self.args.redis_url)
        times, statuses = [], set()
        for _ in range(SINGLE_RUNS):
            store.flushdb()
            status, _, _, ms = fetch(self.app + path)
            statuses.add(status)
            times.append(ms)
        figure = {
            "path": path,
            "median_ms": round(statistics.median(times), 2),
            "min_ms": round(min(times), 2),
            "max_ms": round(max(times), 2),
            "statuses": sorted(statuses),
            "target_ms": target_ms,
        }
        self.results["single"][name] = figure
        log(
            f"  {name:<44} median {figure['median_ms']:>7.2f} ms "
            f"(min {figure['min_ms']}, max {figure['max_ms']}) statuses {figure['statuses']}"
        )
        return figure

    def posting_script(self, article):
        """The posting run's wrk script, with a form token fetched as the form's script does."""
        status, _, body, _ = fetch(self.app + article)
        token_url = re.search(r'data-token-url="([^"]+)"', body.decode()).group(1)
        status, headers, body, _ = fetch(self.app + token_url)
        token = json.loads(body)["token"]
        self.check(
            "form token URL: JSON token, never kept",
            status == 200
            and any(
                word in headers.get("Cache-Control", "")
                for word in ("no-cache", "no-store", "private")
            ),
            f"{status}, Cache-Control: {headers.get('Cache-Control')}",
        )
        time.sleep(3.5)  # MIN_SECONDS_TO_TYPE: the form refuses what is sent faster
        host = self.app.removeprefix("http://")
        form = {
            "name": "Bench poster", "email": "check@example.com", "website": "", "parent": "",
            "url": "", "token": token, "body": f"Bench check {uuid.uuid4().hex[:12]} on the race",
        }  # fmt: skip
        status, headers, _, _ = fetch(
            self.app + article + "comment/",
            {"Sec-Fetch-Site": "same-origin", "Origin": self.app,
             "Content-Type": "application/x-www-form-urlencoded"},
            method="POST", data=urllib.parse.urlencode(form).encode(),
        )  # fmt: skip
        self.check(
            "one comment posted as a browser: 303",
            status == 303,
            f"{status} -> {headers.get('Location')}",
        )
        script = POST_SCRIPT.format(
            token=urllib.parse.quote(token), path=article + "comment/", host=host,
            origin=self.app, run=uuid.uuid4().hex[:12],
        )  # fmt: skip
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
            handle.write(script)
        return handle.name

    # --- race day ---

    def warm(self, base, paths):
        """Every URL once (4 at a time): what a day of readers has kept. Counts non-200s."""
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda path: fetch(base + path)[0], paths))
        return {str(s): statuses.count(s) for s in sorted(set(statuses))}

    def race(self, mode, base, paths, script, processes, watch_bases):
        args = self.args
        log(f"  {mode}: warming {len(paths)} pages ...")
        warmed = self.warm(base, paths)
        if set(warmed) != {"200"}:
            self.check(f"race day {mode}: every page answers 200 while warming", False, str(warmed))

        def run():
            return wrk(base + "/", args, script=script)

        measure = self.through_front if base == self.front else (lambda run: run())
        quiet = measure(run)
        out = Path(tempfile.mkstemp(prefix="race-", suffix=".json")[1])
        go = out.with_suffix(".go")
        worker_log = RESULTS / f"race-worker-{mode.replace(' ', '-')}.log"
        worker = processes.start(
            f"race worker ({mode})",
            [PYTHON, BENCH / "race_worker.py", "changes", "--bases", ",".join(watch_bases),
             "--out", out, "--go", go, "--edit-every", str(self.args.edit_every)],
            log_path=worker_log, cwd=ROOT, env=self.env,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "ready" not in worker_log.read_text():
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"The race worker did not start; see {worker_log}")
                time.sleep(0.1)
            go.touch()
            busy = measure(run)
        finally:
            processes.stop(worker, timeout=30)
            go.unlink(missing_ok=True)
        quiet_again = measure(run)
        try:
            changes = json.loads(out.read_text())
        except (OSError, ValueError):
            changes = {
                "approvals": 0,
                "result_changes": 0,
                "edits": 0,
                "watches": [],
                "problems": [f"no output; see {worker_log}"],
            }
        out.unlink(missing_ok=True)
        # The reference: the quiet runs before and after (drift and other jobs even out).
        quiet_rps = (quiet["rps"] + quiet_again["rps"]) / 2
        figure = {
            "warmed": warmed,
            "quiet": quiet,
            "busy": busy,
            "quiet_again": quiet_again,
            "busy_vs_quiet": round(busy["rps"] / quiet_rps, 3),
            "target_busy_vs_quiet": 0.9,
            "approvals": changes["approvals"],
            "result_changes": changes["result_changes"],
            "edits": changes.get("edits", 0),
            "worker_problems": changes["problems"],
            "visibility": visibility(changes["watches"], watch_bases, self),
        }
        self.results["race_day"][mode] = figure
        for label, run_result in (("quiet", quiet), ("busy", busy), ("quiet again", quiet_again)):
            extra = []
            if run_result["non_2xx_3xx"] or run_result["socket_errors"]:
                extra.append(
                    f"{run_result['non_2xx_3xx']} NOT 2xx/3xx, "
                    f"{run_result['socket_errors']} socket errors"
                )
            if "varnish" in run_result:
                extra.append(f"hits {run_result['varnish']['hit_ratio']:.1%}")
            log(
                f"  race day {mode} {label:<11} {run_result['rps']:>8.0f} req/s  p50 "
                f"{run_result['p50_ms']:>7.2f} ms  p99 {run_result['p99_ms']:>7.2f} ms  "
                + "  ".join(extra)
            )
        log(
            f"  race day {mode}: busy {figure['busy_vs_quiet']:.1%} of quiet; "
            f"{figure['approvals']} approvals, {figure['result_changes']} result changes, "
            f"{figure['edits']} story edits"
        )
        return figure


def visibility(watches, bases, bench):
    """Per base: the delays from commit to the first reader seeing the change."""
    names = {bench.front: "varnish", bench.app: "direct"}
    by_base = {}
    for base in bases:
        mine = [w for w in watches if w["base"] == base]
        seen = [w["delay_ms"] for w in mine if w.get("delay_ms") is not None]
        by_base[names.get(base, base)] = {
            "changes": len(mine),
            "never_seen": len(mine) - len(seen),
            "median_ms": round(statistics.median(seen), 1) if seen else None,
            "max_ms": round(max(seen), 1) if seen else None,
            "went_back": sum(w.get("went_back", 0) for w in mine),
            "read_errors": sum(w["errors"] for w in mine),
            "first_seen_x_cache": sorted({w.get("x_cache", "") for w in mine if "x_cache" in w}),
            "by_kind": {
                kind: sorted(w["delay_ms"] for w in mine if w["kind"] == kind and w.get("delay_ms"))
                for kind in sorted({w["kind"] for w in mine})
            },
            "target_max_ms": 1000,
        }
    return by_base


# --- Report -------------------------------------------------------------------------------


def run_notes(run, *, bare_others=None):
    """What to know about one wrk run besides its figures."""
    notes = []
    if "varnish" in run:
        notes.append(f"hits {run['varnish']['hit_ratio']:.2%}")
    if run["non_2xx_3xx"]:
        notes.append(f"{run['non_2xx_3xx']} NOT 2xx/3xx")
    if run["socket_errors"]:
        notes.append(f"{run['socket_errors']} socket errors")
    if run.get("not_303"):
        notes.append(f"{run['not_303']} not 303")
    if run["others_cpu_cores"] > OTHERS_WARN:
        notes.append(f"other jobs {run['others_cpu_cores']} cores")
    if bare_others is not None and bare_others > OTHERS_WARN:
        notes.append(f"other jobs {bare_others} cores in bare run")
    return ", ".join(notes)


def table(results):
    header = ("what", "figure", "ratio", "target", "", "notes")
    rows = []

    def row(what, figure, ratio, target, met, notes=""):
        verdict = "-" if met is None else ("met" if met else "MISSED")
        rows.append((what, figure, ratio, target, verdict, notes))

    for name, page in results["pages"].items():
        target = page["target_ratio"]
        row(
            name,
            f"{page['rps']:.0f} req/s, p50 {page['p50_ms']:.2f} ms, p99 {page['p99_ms']:.2f} ms",
            f"{page['ratio']:.2f}x bare ({page['bare_rps']:.0f})",
            f">= {target}x" if target else "",
            page["ratio"] >= target if target else None,
            run_notes(page, bare_others=page["bare_others_cpu_cores"]),
        )
    for name, single in results["single"].items():
        target = single.get("target_ms")
        row(
            name,
            f"median {single['median_ms']:.1f} ms (max {single['max_ms']:.1f})",
            "",
            f"<= {target} ms" if target else "",
            single["median_ms"] <= target if target else None,
            "" if single["statuses"] == [200] else f"statuses {single['statuses']}",
        )
    for mode, race in results["race_day"].items():
        for label in ("quiet", "quiet_again"):
            row(
                f"race day {mode}: {label.replace('_', ' ')}",
                f"{race[label]['rps']:.0f} req/s, p50 {race[label]['p50_ms']:.2f} ms, "
                f"p99 {race[label]['p99_ms']:.1f} ms",
                "",
                "",
                None,
                run_notes(race[label]),
            )
        row(
            f"race day {mode}: busy",
            f"{race['busy']['rps']:.0f} req/s, p50 {race['busy']['p50_ms']:.2f} ms, "
            f"p99 {race['busy']['p99_ms']:.1f} ms",
            f"{race['busy_vs_quiet']:.1%} of quiet (mean of both)",
            ">= 90%",
            race["busy_vs_quiet"] >= 0.9,
            ", ".join(
                filter(
                    None,
                    [
                        f"{race['approvals']} approvals, {race['result_changes']} result changes, "
                        f"{race.get('edits', 0)} story edits",
                        run_notes(race["busy"]),
                    ],
                )
            ),
        )
        for where, seen in race["visibility"].items():
            ok = seen["never_seen"] == 0 and seen["max_ms"] is not None and seen["max_ms"] <= 1000
            row(
                f"race day {mode}: change seen ({where})",
                f"median {seen['median_ms']} ms, max {seen['max_ms']} ms",
                "",
                "<= 1000 ms",
                ok and not seen["went_back"],
                f"{seen['changes']} changes watched, {seen['never_seen']} never seen, "
                f"{seen['went_back']} reads went back to the old page",
            )
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(line.rstrip() for line in lines)


def median_bare(results):
    runs = [run["rps"] for run in results["bare_runs"]]
    if not runs:  # --race-only
        return {}
    return {
        "rps_median": statistics.median(runs),
        "rps_min": min(runs),
        "rps_max": max(runs),
        "p99_ms_median": statistics.median(run["p99_ms"] for run in results["bare_runs"]),
    }


# --- Main ---------------------------------------------------------------------------------


def interrupted(signum, frame):
    raise KeyboardInterrupt


def measure_pages(bench, bases, prepared):
    """Pages against the bare view, posting, and single requests with nothing kept."""
    article, event = prepared["article_path"], prepared["event_path"]
    log("Pages (each right after a run of the bare view):")
    bench.against_bare("in-app ceiling (extra)", bases["app"], IN_APP_CEILING)
    bench.against_bare("article via Varnish", bases["front"], article, target=8)
    bench.against_bare("home via Varnish", bases["front"], "/")
    fetch(bases["app"] + article)
    fetch(bases["app"] + "/")
    bench.against_bare("article warm (gunicorn)", bases["app"], article, target=0.5)
    bench.against_bare("home warm (gunicorn)", bases["app"], "/", target=0.5)
    bench.against_bare("article cold (personal)", bases["app"], article,
                       target=0.14, headers=(GZIP, COLD))  # fmt: skip
    bench.against_bare("home cold (personal)", bases["app"], "/", headers=(GZIP, COLD))
    bench.against_bare("event page warm (gunicorn)", bases["app"], event)
    script = bench.posting_script(article)
    try:
        bench.against_bare("post comment (extra)", bases["app"], "/", script=script)
    finally:
        os.unlink(script)

    log("Single requests, Redis emptied before each:")
    bench.flushed_median("article, every cache emptied", article, 50)
    typical = prepared["typical"]
    if typical:
        bench.flushed_median(f"typical story ({typical['slug']}, 10 comments), nothing kept",
                             typical["path"], 25)  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), required=False)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=10000)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--home-share", type=float, default=0.1, help="share of race-day readers on the home page"
    )
    parser.add_argument(
        "--wait-for-idle",
        type=float,
        default=0,
        help="before each run, wait up to this many seconds for other jobs on the machine to "
        "stop using CPU (each run records what they used anyway)",
    )
    parser.add_argument(
        "--edit-every", type=float, default=10.0, help="race day: seconds between story edits"
    )
    parser.add_argument(
        "--race-only", action="store_true", help="race day only (to compare two versions)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    if not (args.database_url or "").startswith(("postgres://", "postgresql://")):
        raise SystemExit("Give --database-url (or DATABASE_URL) of a PostgreSQL database.")
    for tool in ("wrk", "varnishstat"):
        if not any(os.access(Path(d) / tool, os.X_OK) for d in os.environ["PATH"].split(":")):
            raise SystemExit(
                f"{tool} is not installed (apt-get install wrk varnish varnish-modules)"
            )

    # Ctrl-C and SIGTERM alike unwind through the `finally` that stops everything.
    signal.signal(signal.SIGTERM, interrupted)
    RESULTS.mkdir(parents=True, exist_ok=True)
    ports = {name: free_port() for name in ("bare", "app", "front")}
    front_cache = f"varnish://127.0.0.1:{ports['front']}"
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-" + "x" * 50),
        "DJANGO_SECURE": "0",
        "DJANGO_DEBUG": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "NEWSROOM_BENCH": "1",
        "NEWSROOM_FRONT_CACHE": front_cache,
        "WEB_CONCURRENCY": str(args.workers),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def manage(*command):
        subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, check=True)

    log("Migrating and seeding (idempotent) ...")
    manage("migrate", "--noinput", "-v0")
    manage("seed_bulk", f"--stories={args.stories}", f"--comments={args.comments}")
    prepared = json.loads(
        subprocess.run([PYTHON, BENCH / "race_worker.py", "prepare"], cwd=ROOT, env=env,
                       capture_output=True, text=True, check=True).stdout
    )  # fmt: skip
    article = prepared["article_path"]
    log(
        f"{len(prepared['story_paths'])} bulk stories, {prepared['pending_on_bulk_stories']} "
        f"pending comments on them ({prepared['reset_to_pending']} put back to pending); typical "
        f"story {prepared['typical']}"
    )

    import redis

    redis.Redis.from_url(args.redis_url).flushdb()
    processes = Processes()
    with ExitStack() as stack:
        stack.callback(processes.stop_all)
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="newsroom-bench-")))
        bare_dir = tmp / "bare"
        bare_dir.mkdir()
        make_bare_project(bare_dir)
        bare_command = gunicorn_command("127.0.0.1", ports["bare"], args.workers)
        bare_command[bare_command.index("newsroom.wsgi")] = "ceiling.wsgi"
        bare_command[0] = str(ROOT / bare_command[0])  # .venv/bin/gunicorn, from another cwd
        bare_env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "NEWSROOM_"))
        }
        bare_env["PYTHONPATH"] = str(ROOT)  # for `--config python:newsroom.gunicorn_conf`
        bare = processes.start("bare Django view", bare_command, log_path=RESULTS / "bare.log",
                               cwd=bare_dir, env=bare_env)  # fmt: skip
        app = processes.start(
            "make serve", ["make", "--no-print-directory", "serve"],
            log_path=RESULTS / "server.log", cwd=ROOT,
            env=env | {"HOST": "127.0.0.1", "PORT": str(ports["app"])},
        )  # fmt: skip
        vcl_text = VCL.read_text()
        assert vcl_text.count(VCL_PORT_LINE) == 1, f"{VCL} must have one {VCL_PORT_LINE}"
        vcl = tmp / "newsroom.vcl"
        vcl.write_text(vcl_text.replace(VCL_PORT_LINE, f'.port = "{ports["app"]}";'))
        varnish_workdir = tmp / "varnish"
        front = processes.start(
            "varnishd",
            [VARNISHD, "-F", "-j", "none", "-a", f"127.0.0.1:{ports['front']}", "-f", vcl,
             "-n", varnish_workdir, "-s", "malloc,256m", "-t", "0"],
            log_path=RESULTS / "varnishd.log",
        )  # fmt: skip
        bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        wait_until_up(bare, bases["bare"] + "/", "bare Django view", RESULTS / "bare.log")
        wait_until_up(app, bases["app"] + "/healthz", "make serve", RESULTS / "server.log")
        wait_until_up(front, bases["front"] + "/healthz", "varnishd", RESULTS / "varnishd.log")
        log(
            f"Bare view {bases['bare']}, Newsroom {bases['app']}, Varnish {bases['front']}; "
            f"{args.duration} s per run, {args.connections} connections, {args.threads} threads."
        )
        log("Bare gunicorn: " + shlex.join(map(str, bare_command)))

        bench = Bench(args, bases, varnish_workdir)
        bench.env = env
        # The very first article request after the start, with Redis emptied (no target).
        status, _, _, first_ms = fetch(bases["app"] + article)
        bench.results["single"]["article, first request after start (Redis empty)"] = {
            "path": article, "median_ms": round(first_ms, 2), "max_ms": round(first_ms, 2),
            "statuses": [status], "target_ms": None,
        }  # fmt: skip
        log("Checks:")
        bench.sanity(article, "/")
        if not args.race_only:
            measure_pages(bench, bases, prepared)

        log("Race day:")
        paths = prepared["story_paths"]
        lua = RACE_SCRIPT.format(
            paths="\n".join(f'  "{path}",' for path in paths), home_share=args.home_share
        )
        race_script = tmp / "race.lua"
        race_script.write_text(lua)
        bench.race("through Varnish", bases["front"], paths + ["/"], race_script, processes,
                   [bases["front"], bases["app"]])  # fmt: skip
        bench.race("gunicorn alone", bases["app"], paths + ["/"], race_script, processes,
                   [bases["app"]])  # fmt: skip
        bench.results["worker_peak_rss_mb"] = {
            str(pid): round(mb, 1) for pid, mb in peak_rss_mb(app.pid).items()
        }

    results = bench.results
    results["bare"] = median_bare(results)
    results["setup"] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "stories": args.stories,
        "comments": args.comments,
        "workers": args.workers,
        "connections": args.connections,
        "threads": args.threads,
        "duration_s": args.duration,
        "home_share": args.home_share,
        "edit_every_s": args.edit_every,
        "race_only": args.race_only,
        "wait_for_idle_s": args.wait_for_idle,
        "cpus": os.cpu_count(),
        "accept_encoding": "gzip",
        "bare_gunicorn": shlex.join(map(str, bare_command)),
        "article": article,
        "typical_story": prepared["typical"],
        "git_commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                     text=True).stdout.strip(),
        "git_uncommitted": subprocess.run(["git", "status", "--porcelain"], cwd=ROOT,
                                          capture_output=True, text=True).stdout.splitlines(),
    }  # fmt: skip
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    failed = [c["check"] for c in results["checks"] if c["required"] and not c["ok"]]
    if failed:
        print("\nChecks FAILED: " + "; ".join(failed))
    if results["bare"]:
        print(
            f"\nBare view: median {results['bare']['rps_median']:.0f} req/s "
            f"({results['bare']['rps_min']:.0f}-{results['bare']['rps_max']:.0f}); "
            f"worker peak memory {results['worker_peak_rss_mb']} MB"
        )
    log(f"Written to {args.output}")


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


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit("Interrupted: everything started was stopped.") from None
