"""Several app servers, one Pushpin: an entry posted through one gunicorn server reaches a
reader whose stream Pushpin opened through another (one PostgreSQL, one Redis). Runs where
tests/test_scale_out.py runs (DATABASE_URL on PostgreSQL, a Redis) and Pushpin is installed."""

import json
import re

from .pushpin import EventStream, pushpin, requires_pushpin
from .servers import fetch, gunicorn
from .test_scale_out import ADMIN_PASSWORD, browser, deployment, post_form  # noqa: F401

STORY = "/stories/leerdam-wins-olympic-1000m-gold/"
TITLE = "Jutta Leerdam wins historic Olympic gold in the 1000 m"


def sign_in(server):
    opener, _ = browser()
    login_page = fetch(server + "/admin/login/", opener=opener)[2]
    status, _, _ = post_form(
        opener,
        server + "/admin/login/?next=/admin/",
        login_page,
        username="chief",
        password=ADMIN_PASSWORD,
        next="/admin/",
    )
    assert status == 200
    return opener


@requires_pushpin
def test_an_entry_posted_through_one_server_reaches_readers_of_another(
    deployment,  # noqa: F811
    static_root,
    tmp_path,
):
    env = {key: deployment[key] for key in ("DATABASE_URL", "REDIS_URL")}
    # The first server serves readers' streams through Pushpin; the second publishes.
    with (
        gunicorn(tmp_path, static_root, **env) as (first, _),
        pushpin(int(first.rsplit(":", 1)[1]), tmp_path) as (front, publish_url),
        gunicorn(tmp_path, static_root, NEWSROOM_PUSHPIN_PUBLISH=publish_url, **env) as (second, _),
    ):
        editor = sign_in(second)
        desks = fetch(second + "/admin/articles/liveentry/", opener=editor)[2]
        path = re.search(rf'href="([^"]+)">{TITLE}</a>', desks).group(1)
        desk = second + path
        started = post_form(editor, desk, fetch(desk, opener=editor)[2], action="start")
        assert started[0] == 200 and "Live coverage started" in started[2]

        # A reader's stream, opened through Pushpin and the first server.
        reader = EventStream(front + STORY + "live/stream/?after=0")
        posted = post_form(
            editor,
            desk,
            fetch(desk, opener=editor)[2],
            body="Posted through the second server",
            action="post",
        )
        assert posted[0] == 200 and "Posted." in posted[2]
        event = reader.next_event()
        assert event["event"] == "entry"
        assert "Posted through the second server" in json.loads(event["data"])["html"]
        reader.close()
