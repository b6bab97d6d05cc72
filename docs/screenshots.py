"""Screenshots of the main pages, desktop and phone, for the README.

    .venv/bin/python docs/screenshots.py

Builds a throwaway SQLite database with the demo content (`seed_demo`), starts the development
server on it, photographs each page with Debian's Chromium through Playwright, and writes small
palette PNGs to docs/screenshots/. Nothing in the developer's own database or media changes.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
STORY = "/stories/leerdam-wins-olympic-1000m-gold/"
# The story's change page: found in the admin's list (its id differs between databases).
STORY_ADMIN = ("/admin/articles/article/?q=leerdam+wins", "#result_list th a")
# (file name, path or (list path, link to follow), viewport, element to scroll to the top or
# None, demo account to sign in as or None)
SHOTS = [
    ("home-desktop", "/", DESKTOP, None, None),
    ("home-phone", "/", PHONE, None, None),
    ("story-desktop", STORY, DESKTOP, None, None),
    ("story-phone", STORY, PHONE, None, None),
    ("results-desktop", STORY, DESKTOP, ".story-results", None),
    ("results-phone", STORY, PHONE, ".story-results", None),
    ("comments-desktop", STORY, DESKTOP, "#comments", None),
    ("medals-desktop", "/results/milano-cortina-2026/", DESKTOP, None, None),
    ("medals-phone", "/results/milano-cortina-2026/", PHONE, "main table", None),
    ("search-desktop", "/search/?q=leerdam", DESKTOP, None, None),
    ("moderation-desktop", "/admin/comments/comment/", DESKTOP, None, "moderator"),
    ("story-add-1280", "/admin/articles/article/add/", DESKTOP, None, "editor"),
    ("story-add-375", "/admin/articles/article/add/", PHONE, None, "editor"),
    ("story-change-1280", STORY_ADMIN, DESKTOP, None, "editor"),
    ("story-change-375", STORY_ADMIN, PHONE, None, "editor"),
]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env, *args):
    command = [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True, text=True)


def wait_until_up(url, *, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):  # noqa: S310 (our server)
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"The development server did not answer at {url} within {seconds} s.")


def shrink(path):
    """A 256-colour palette PNG: a fraction of the size, indistinguishable for flat pages."""
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def photograph(url, accounts):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium is not installed (apt-get install chromium).")
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-background-networking"]
        )
        staff = {}
        for name, path, viewport, scroll_to, signed_in in SHOTS:
            key = (signed_in, viewport["width"])
            if key not in staff:
                staff[key] = browser.new_context(
                    base_url=url, viewport=viewport, reduced_motion="reduce"
                )
                if signed_in:
                    sign_in(staff[key].new_page(), signed_in, accounts[signed_in])
            page = staff[key].new_page()
            if isinstance(path, tuple):
                page.goto(path[0])
                page.goto(page.locator(path[1]).first.get_attribute("href"))
            else:
                page.goto(path)
            if scroll_to:
                page.locator(scroll_to).first.evaluate(
                    "element => element.scrollIntoView({behavior: 'instant'})"
                )
            target = OUT / f"{name}.png"
            page.screenshot(path=target, animations="disabled")
            page.close()
            shrink(target)
            print(f"{target.relative_to(ROOT)}  {target.stat().st_size // 1024} KB")
        browser.close()


def sign_in(page, username, password):
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    page.close()


def main():
    with tempfile.TemporaryDirectory(prefix="newsroom-screenshots-") as scratch:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{scratch}/db.sqlite3",
            "MEDIA_ROOT": f"{scratch}/media",
            "DJANGO_AXES_ENABLED": "0",
        }
        env.pop("REDIS_URL", None)
        manage(env, "migrate", "--noinput")
        seeded = manage(env, "seed_demo").stdout
        accounts = dict(re.findall(r"Demo account (\w+) / (\S+)", seeded))
        port = free_port()
        server = subprocess.Popen(  # noqa: S603 (our own manage.py)
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_up(url)
            photograph(url, accounts)
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
