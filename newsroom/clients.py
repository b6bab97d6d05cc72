"""Who is asking: the one place that decides a request's client address."""

import ipaddress

from django.conf import settings


def client_ip(request):
    """The client's IP address as a string, or "" when it cannot be told.

    Behind our TLS proxy (TRUST_X_FORWARDED_FOR) it is the last X-Forwarded-For entry, the one
    the proxy itself appended; entries before it come from the client and could be forged.
    """
    candidate = request.META.get("REMOTE_ADDR", "")
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        candidate = forwarded or candidate
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return ""
