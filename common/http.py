"""The client's address, read one way everywhere (access log, throttling)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The address of the client that sent this request.

    With ``MNR_TRUSTED_PROXIES = 0`` (no proxy in front), REMOTE_ADDR only:
    X-Forwarded-For is written by clients too. With N proxies, the N-th address
    from the right of X-Forwarded-For, the one the outermost of our proxies saw
    (what DRF's throttling uses with ``NUM_PROXIES = N``); the addresses a client
    put further left are never read. A value that is not an IP address falls
    back to REMOTE_ADDR."""
    remote_addr = request.META.get("REMOTE_ADDR") or None
    depth = max(settings.MNR_TRUSTED_PROXIES, 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if not depth or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(depth, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr
