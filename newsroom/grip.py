"""Live updates through a GRIP proxy (Pushpin): Django holds no reader's connection.

A reader's stream request reaches Django through Pushpin; Django answers at once with what the
reader missed and the GRIP instructions `hold_stream()` adds (``Grip-Hold: stream`` and the
channels), and Pushpin keeps the connection open. When something changes, Django POSTs the new
event to Pushpin's publish API (`publish`, after the change commits) and Pushpin sends it to every
reader holding that channel. Several app servers share one Pushpin: whichever server publishes,
every held reader gets it.

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


def hold_stream(response, channels):
    """Mark `response` (an HttpResponse whose body is the first events) so that the GRIP proxy
    keeps it open as a stream subscribed to `channels` (strings). Returns the response."""
    response["Grip-Hold"] = "stream"
    response["Grip-Channel"] = ", ".join(channels)
    response["Grip-Keep-Alive"] = KEEP_ALIVE
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


def publish(channel, content):
    """Send `content` (server-sent event text, see `sse_event`) to every stream holding
    `channel`, now. Returns True when Pushpin accepted it; False when publishing is off or
    failed (logged: readers then catch up by polling or on reconnect, nothing is lost)."""
    url = settings.PUSHPIN_PUBLISH
    if not url.startswith(("http://", "https://")):
        return False
    item = {"channel": channel, "formats": {"http-stream": {"content": content}}}
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


def publish_on_commit(channel, content, *, using=None):
    """`publish` once the current transaction commits (at once outside one); never if it rolls
    back, so readers are never told of a change that did not happen."""
    if settings.PUSHPIN_PUBLISH:
        transaction.on_commit(partial(publish, channel, content), using=using)
