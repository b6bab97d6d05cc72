"""A Redis cache that treats an unreachable Redis as an empty cache, so the site keeps serving."""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)
RETRY_AFTER_SECONDS = 5.0


class TolerantRedisCacheClient(RedisCacheClient):
    """Every operation answers as a miss while Redis is down, and Redis is not asked again for
    RETRY_AFTER_SECONDS after a failure, so an outage costs one timeout, not one per call."""

    down_until = 0.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        # Django builds a new redis.Redis for every operation, which copies its table of ~170
        # response callbacks each time (a sixth of a millisecond, several times per page). A
        # client is thread-safe and only wraps its connection pool, so one per pool is enough.
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client

    def _call(self, method, fallback, *args, **kwargs):
        if time.monotonic() < self.down_until:
            return fallback
        try:
            result = getattr(super(), method)(*args, **kwargs)
        except UNREACHABLE as error:
            if not self.down_until:
                logger.warning("Cache unavailable, serving without it: %s", type(error).__name__)
            self.down_until = time.monotonic() + RETRY_AFTER_SECONDS
            return fallback
        if self.down_until:
            logger.warning("Cache reachable again.")
            self.down_until = 0.0
        return result

    def add(self, key, value, timeout):
        return self._call("add", False, key, value, timeout)

    def get(self, key, default):
        return self._call("get", default, key, default)

    def set(self, key, value, timeout):
        return self._call("set", None, key, value, timeout)

    def touch(self, key, timeout):
        return self._call("touch", False, key, timeout)

    def delete(self, key):
        return self._call("delete", False, key)

    def get_many(self, keys):
        return self._call("get_many", {}, keys)

    def has_key(self, key):
        return self._call("has_key", False, key)

    def incr(self, key, delta):
        missing = object()
        result = self._call("incr", missing, key, delta)
        if result is missing:
            raise ValueError(f"Key '{key}' not found (cache unavailable).")
        return result

    def set_many(self, data, timeout):
        """Set every item; True when Redis took them, False when it could not be reached."""
        unreachable = object()
        return self._call("set_many", unreachable, data, timeout) is not unreachable

    def delete_many(self, keys):
        return self._call("delete_many", None, keys)

    def add_many(self, data, timeout, then_set=None):
        """add() of each (key, value), then set() of `then_set` (key, value, timeout) if given,
        in one round trip (a pipeline of SET NX, then SET)."""
        if time.monotonic() < self.down_until:
            return None

        def send():
            pipeline = self.get_client(None, write=True).pipeline(transaction=False)
            for key, value in data.items():
                pipeline.set(key, self._serializer.dumps(value), ex=timeout, nx=True)
            if then_set is not None:
                key, value, seconds = then_set
                if seconds == 0:
                    pipeline.delete(key)  # as set() does: kept for no time at all
                else:
                    pipeline.set(key, self._serializer.dumps(value), ex=seconds)
            return pipeline.execute()

        try:
            return send()
        except UNREACHABLE as error:
            if not self.down_until:
                logger.warning("Cache unavailable, serving without it: %s", type(error).__name__)
            self.down_until = time.monotonic() + RETRY_AFTER_SECONDS
            return None

    def clear(self):
        return self._call("clear", False)

    def probe(self):
        """Whether Redis answers a PING now, asked even within RETRY_AFTER_SECONDS of a
        failure (a failed probe does not extend that pause; an answer ends it)."""
        try:
            self.get_client(None, write=True).ping()
        except UNREACHABLE:
            return False
        if self.down_until:
            logger.warning("Cache reachable again.")
            self.down_until = 0.0
        return True


class TolerantRedisCache(RedisCache):
    """settings.CACHES backend: Django's Redis cache with TolerantRedisCacheClient, plus
    add_many() (Django has set_many but no add_many)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = TolerantRedisCacheClient

    def validate_key(self, key):
        """Accept every key. Django's check only warns about keys memcached would refuse, which
        Redis takes as they are, and it scans every character of every key: about a tenth of a
        kept page's time, whose lookup reads some thirty keys."""

    def probe(self):
        """Whether Redis answers now (a bool), even while failures keep it from being asked: how
        a process that missed a purge finds out, about once a second, that it can retire what
        the purge would have (newsroom.caching.store)."""
        return self._cache.probe()

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        """cache.set_many(): the keys that were not set, as Django's contract has it (its
        Redis backend answers [] whatever happened): all of them when Redis could not be
        reached, so a purge that did not land is known (newsroom.caching.store)."""
        if not data:
            return []
        keys = {
            self.make_and_validate_key(key, version=version): value for key, value in data.items()
        }
        if self._cache.set_many(keys, self.get_backend_timeout(timeout)):
            return []
        return list(data)

    def add_many(self, data, timeout=DEFAULT_TIMEOUT):
        """cache.add() of each item of `data`, in one round trip."""
        keys = {self.make_and_validate_key(key): value for key, value in data.items()}
        if keys:
            self._cache.add_many(keys, self.get_backend_timeout(timeout))

    def add_many_and_set(self, data, key, value, timeout=DEFAULT_TIMEOUT):
        """cache.add() of each item of `data` (kept until evicted), then cache.set(key, value,
        timeout), in one round trip: how the store keeps an entry with its tags."""
        keys = {self.make_and_validate_key(k): v for k, v in data.items()}
        then_set = (self.make_and_validate_key(key), value, self.get_backend_timeout(timeout))
        self._cache.add_many(keys, None, then_set=then_set)
