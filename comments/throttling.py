"""How often one client may post: the keyed hash of its address, the rate limits counted from
the database, and how long those hashes are kept."""

import hashlib
import math
from datetime import timedelta

from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.crypto import salted_hmac

from newsroom.clients import client_ip

from .models import Comment
from .policy import policy
from .refusals import RateLimited

# The first key of the advisory locks that make one client's posts wait for each other.
RATE_LOCK_SPACE = 7341


def client_hash(request):
    """A keyed hash of the client's IP: enough to rate-limit, never the address itself."""
    address = client_ip(request) or "unknown"
    return salted_hmac("comments.client", address, algorithm="sha256").hexdigest()


def wait_for_clients_other_posts(client):
    """Within the transaction that will save a comment: wait until any other post from the same
    client being saved at this moment is committed (or rolled back), so that each is counted
    after the one before. PostgreSQL: a transaction-scoped advisory lock on the client's hash;
    SQLite: its transactions already write one at a time (settings: IMMEDIATE)."""
    if connection.vendor == "postgresql":
        key = int(hashlib.sha256(client.encode()).hexdigest()[:7], 16)  # fits an int4
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RATE_LOCK_SPACE, key])


def check_rate_limit(client):
    """Refuse a client over any of the configured limits (RateLimited, with seconds to wait).

    Counted from the database, the one place every post is kept: the comments this client's
    hash (see `client_hash`) wrote within the longest window. So the limit holds across every
    process and server, whatever the cache does (down, hung, emptied or restarted). Call it
    after `wait_for_clients_other_posts`, in the transaction that saves the comment."""
    limits = policy("RATE_LIMITS")
    longest = max(window for _, window in limits)
    now = timezone.now()
    stamps = list(  # newest first
        Comment.objects.filter(client_hash=client, created_at__gt=now - timedelta(seconds=longest))
        .order_by("-created_at")
        .values_list("created_at", flat=True)[: max(limit for limit, _ in limits)]
    )
    for limit, window in limits:
        recent = [t for t in stamps if (now - t).total_seconds() < window]
        if len(recent) >= limit:
            wait = (recent[limit - 1] - now).total_seconds() + window
            raise RateLimited(retry_after=max(1, math.ceil(wait)))


def forget_old_client_hashes():
    """Client hashes are kept only as long as the policy says; the sweep runs at most hourly."""
    if not cache.add("comments:hash-sweep", 1, timeout=3600):
        return 0
    cutoff = timezone.now() - timedelta(days=policy("CLIENT_HASH_DAYS"))
    return (
        Comment.objects.filter(created_at__lt=cutoff).exclude(client_hash="").update(client_hash="")
    )
