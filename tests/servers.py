"""Real servers for the tests that need one: a deployment's environment, manage.py in a
subprocess, gunicorn on a free loopback port, plain HTTP requests, scratch PostgreSQL databases."""

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
SECRET = "fault-tests-0123456789-abcdefghijklmnopqrstuvwxyz-0123456789"
SERVER_START_SECONDS = 20
_starts = itertools.count()


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**overrides):
    """A deployment's environment (debug off), with nothing inherited from the test run."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    keep.pop("REDIS_URL", None)
    return keep | {"DJANGO_SECRET_KEY": SECRET, "DJANGO_SECURE": "0"} | overrides


def manage(*args, env):
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@contextmanager
def gunicorn(tmp_path, static_root, *, workers=1, port=None, **env):
    """A real production server on `port` (a free loopback port when None); yields its base URL
    and log file (one per start: a server started again on a port has a log of its own)."""
    port = port or free_port()
    log_path = tmp_path / f"gunicorn-{port}-{next(_starts)}.log"
    full_env = environment(
        STATIC_ROOT=str(static_root),
        MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        **env,
    )
    command = [sys.executable, "-m", "gunicorn", "newsroom.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--config", "python:newsroom.gunicorn_conf", "--workers", str(workers)]
    command += ["--timeout", "30", "--access-logfile", "-"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _started(port, log_path):
            assert process.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "gunicorn did not start:\n" + log_path.read_text()
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _started(port, log_path):
    """Listening on `port` and done with its start (gunicorn_conf's when_ready, which purges the
    front cache for a new release, returns before the first worker boots)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return "Booting worker" in log_path.read_text()


def fetch(url, *, data=None, opener=None, headers=None, timeout=15):
    """(status, headers, body) for one request, whatever the status."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener()).open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def postgres_url():
    """The suite's DATABASE_URL when it points at PostgreSQL, else None."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@contextmanager
def scratch_postgres_database(name, server=None):
    """An empty database of its own on `server` (default: the suite's PostgreSQL server),
    dropped afterwards; yields its URL."""
    server = server or postgres_url().rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url(database):
    """Redis shared by the test's servers: REDIS_URL, else `database` on the local server;
    None when no Redis answers (the caller skips and says why)."""
    url = os.environ.get("REDIS_URL") or f"redis://127.0.0.1:6379/{database}"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.exceptions.RedisError:
        return None
    return url


def local_postgres_server():
    """A PostgreSQL server URL without a database name: the suite's, else the local one on
    5432; None when none answers (the caller skips and says why)."""
    url = postgres_url()
    server = url.rsplit("/", 1)[0] if url else "postgres://postgres@127.0.0.1:5432"
    try:
        psycopg.connect(f"{server}/postgres", connect_timeout=2).close()
    except psycopg.Error:
        return None
    return server


class HangingProxy:
    """A TCP proxy on a free loopback port in front of a real server, which the test can make
    hang: `hang()` and the proxy keeps every connection (and accepts new ones) but forwards no
    byte either way, as a server stopped with SIGSTOP or a firewall dropping packets does;
    `resume()` lets the bytes flow again. Use it as a context manager."""

    def __init__(self, host, port):
        self.upstream = (host, port)
        self.flowing = threading.Event()
        self.flowing.set()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        self.closed = False

    def __enter__(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.closed = True
        self.flowing.set()
        self.listener.close()
        for sock in self.sockets:
            with suppress(OSError):
                sock.close()

    def hang(self):
        self.flowing.clear()

    def resume(self):
        self.flowing.set()

    def _accept(self):
        while not self.closed:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source, target):
        try:
            while True:
                data = source.recv(65536)
                self.flowing.wait()
                if not data or self.closed:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                target.shutdown(socket.SHUT_WR)


@contextmanager
def throwaway_redis(port=None):
    """A redis-server of the test's own on `port` (default: a free one), nothing saved to disk;
    yields its process (stop it, SIGSTOP it, start another on the same port). Skips the test
    when redis-server is not installed."""
    import pytest

    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    port = port or free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    server.port = port
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=port, socket_connect_timeout=0.2).ping()
                break
            except redis.exceptions.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        yield server
    finally:
        server.send_signal(signal.SIGCONT)
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def site_on_throwaway_redis(tmp_path, static_root, *, workers=2):
    """gunicorn (`workers`) on a fresh, migrated SQLite database in `tmp_path`, its cache in a
    redis-server of its own (see throwaway_redis); yields (base URL, the DATABASE_URL and
    REDIS_URL it runs with, for manage(), the redis-server process)."""
    with throwaway_redis() as server:
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
            "REDIS_URL": f"redis://127.0.0.1:{server.port}/0",
        }
        manage("migrate", "--noinput", "-v0", env=environment(**env))
        with gunicorn(tmp_path, static_root, workers=workers, **env) as (base, _log):
            yield base, env, server
