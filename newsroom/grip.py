"""Live updates through a GRIP proxy (Pushpin): Django holds no reader's connection.

A reader's stream request reaches Django through Pushpin; Django answers at once with what the
reader missed and the GRIP instructions `hold_stream()` adds (``Grip-Hold: stream`` and the
channels), and Pushpin keeps the connection open. When something changes, Django POSTs the new
event to Pushpin's publish API (`publish`, after the change commits) and Pushpin sends it to every
reader holding that channel. Several app servers share one Pushpin: whichever server publishes,
every held reader gets it. A channel can be reliable (Pushpin's prev-id and next link): an event
published while Pushpin was still subscribing a new stream is fetched again from the app.

``NEWSROOM_PUSHPIN_PUBLISH`` (settings.PUSHPIN_PUBLISH) names the publish endpoint, e.g.
``http://127.0.0.1:5561/publish/``; unset, nothing is published (readers poll instead).
"""

import json
import logging
import urllib.error
import urllib.request
from functools import partial

from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 2
# Sent by Pushpin on a held stream when nothing else was, so idle proxies keep it open.
KEEP_ALIVE = ":\\n\\n; format=cstring; timeout=20"


def through_proxy(request):
    """Whether `request` came through a GRIP proxy (Pushpin signs what it forwards with a
    ``Grip-Sig`` header). Without one, a stream request cannot be held."""
    return "HTTP_GRIP_SIG" in request.META


def hold_stream(response, channels, *, next_link=None):
    """Mark `response` (an HttpResponse whose body is the first events) so that the GRIP proxy
    keeps it open as a stream subscribed to `channels`: names (str), or (name, prev_id) pairs
    for a channel in Pushpin's reliable mode, where `prev_id` (str) is the id of the newest
    event the reader now has. `next_link` (a path) is where Pushpin asks for what the reader
    missed when a published event does not follow on from that id (one published before
    Pushpin subscribed this stream, say); it must answer like this response. Returns it."""
    names = []
    for channel in channels:
        if isinstance(channel, tuple):
            name, prev_id = channel
            names.append(f"{name}; prev-id={prev_id}")
        else:
            names.append(channel)
    response["Grip-Hold"] = "stream"
    response["Grip-Channel"] = ", ".join(names)
    response["Grip-Keep-Alive"] = KEEP_ALIVE
    if next_link:
        response["Grip-Link"] = f"<{next_link}>; rel=next"
    return response


def sse_event(data, *, event=None, event_id=None):
    """One server-sent event as text: optional ``id:`` and ``event:`` lines, then `data`
    (any JSON-serialisable value) as one ``data:`` line, then a blank line."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def publish(channel, content, *, event_id=None, prev_id=None):
    """Send `content` (server-sent event text, see `sse_event`) to every stream holding
    `channel`, now. With `event_id` and `prev_id` (str: this event's id and the one before it
    on the channel) it is a step of a reliable channel: a stream holding another prev-id asks
    its next link instead (see `hold_stream`); it is never held back waiting for a missing one.
    Returns True when Pushpin accepted it; False when publishing is off or failed (logged:
    readers then catch up by polling or on reconnect, nothing is lost)."""
    url = settings.PUSHPIN_PUBLISH
    if not url.startswith(("http://", "https://")):
        return False
    item = {"channel": channel, "formats": {"http-stream": {"content": content}}}
    if event_id is not None:
        item.update({"id": str(event_id), "prev-id": str(prev_id), "no-seq": True})
    body = json.dumps({"items": [item]}).encode()
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked above
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=PUBLISH_TIMEOUT_SECONDS) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError) as error:
        logger.warning("live update to %s not published: %s", channel, error)
        return False


def publish_on_commit(channel, content, *, using=None, **ids):
    """`publish` once the current transaction commits (at once outside one); never if it rolls
    back, so readers are never told of a change that did not happen. `ids`: `event_id` and
    `prev_id`, as for `publish`."""
    if settings.PUSHPIN_PUBLISH:
        transaction.on_commit(partial(publish, channel, content, **ids), using=using)
