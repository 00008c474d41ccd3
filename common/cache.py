"""A Redis cache that degrades instead of failing: a Redis outage must never fail
or hang a request (docs/domain.md, "Routing"). Reads miss, writes are dropped, and the event
is logged; throttling then fails open until Redis is back."""

from __future__ import annotations

import logging
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)
ERRORS = (redis.RedisError, OSError)


def _degraded(name: str, default: Any):
    def method(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(super(ResilientRedisCache, self), name)(*args, **kwargs)
        except ERRORS as exc:
            logger.warning(
                "Cache %s failed (%s); continuing without cache", name, type(exc).__name__
            )
            return default(*args, **kwargs) if callable(default) else default

    method.__name__ = name
    return method


class ResilientRedisCache(RedisCache):
    get = _degraded("get", lambda key, default=None, version=None: default)
    set = _degraded("set", None)
    add = _degraded("add", False)
    touch = _degraded("touch", False)
    delete = _degraded("delete", False)
    get_many = _degraded("get_many", {})
    set_many = _degraded("set_many", [])
    delete_many = _degraded("delete_many", None)
    has_key = _degraded("has_key", False)
    incr = _degraded("incr", 0)
    clear = _degraded("clear", None)
