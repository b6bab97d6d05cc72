"""Who is asking: the one place that decides a request's client address.

Everything that needs the client's address (the comment rate limit through its keyed hash,
the admin login lockout through AXES_CLIENT_IP_CALLABLE) calls client_ip(); nothing else reads
REMOTE_ADDR or X-Forwarded-For.
"""

import ipaddress

from django.conf import settings


def parse_ip(text):
    """`text` as an ipaddress object (an IPv4-mapped IPv6 address as its IPv4), or None."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def is_trusted_proxy(address):
    """Whether an ipaddress object is one of settings.TRUSTED_PROXIES (NEWSROOM_TRUSTED_PROXIES)."""
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_ip(request):
    """The client's IP address as a string, or "" when it cannot be told.

    Served directly (TRUST_X_FORWARDED_FOR off, i.e. DJANGO_SECURE=0), it is the connection's
    address. Behind the TLS proxy, X-Forwarded-For is read only when the connection comes from a
    trusted proxy address: walking it from the right, the first entry that is not a trusted
    proxy is the client (entries further left were written by the client and could be forged).
    A client that reaches the server directly is known by its own address, whatever it sends.
    """
    peer = parse_ip(request.META.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    if not (settings.TRUST_X_FORWARDED_FOR and is_trusted_proxy(peer)):
        return str(peer)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        address = parse_ip(hop)
        if address is None:
            return ""  # the proxy passed on something that is not an address: cannot tell
        if not is_trusted_proxy(address):
            break
    return str(address)
