"""Admin login lockout (django-axes) with its own limit for each kind of lock.

settings.LOGIN_LOCKOUTS lists (lockout parameters, failures) pairs: for instance 5 failures for
one username from one address, 20 from one address on any usernames, 50 on one username from
anywhere, each counted over AXES_COOLOFF_TIME. Whichever is reached first pauses sign-in for
that username, address or pair until the cool-off has passed. Axes itself has one limit for
all its kinds of lock; LockoutHandler gives each its own.
"""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, counting each kind of lock against its own limit."""

    def get_failures(self, request, credentials=None):
        """How near the nearest lock is, on axes' single scale: each kind's recent failures
        minus its own limit, plus AXES_FAILURE_LIMIT, the largest of these. So axes' own test,
        failures >= AXES_FAILURE_LIMIT, holds exactly when some kind has reached its limit."""
        attempts = self.get_user_attempts(request, credentials)  # one queryset per kind, in order
        limits = [limit for _parameters, limit in settings.LOGIN_LOCKOUTS]
        return max(
            (kind.aggregate(total=Sum("failures_since_start"))["total"] or 0)
            - limit
            + settings.AXES_FAILURE_LIMIT
            for kind, limit in zip(attempts, limits, strict=True)
        )

    def reset_user_attempts(self, request, credentials=None):
        """After a successful sign-in (AXES_RESET_ON_SUCCESS), forget only this user's failures
        from this address. Axes would forget every failure on the account and from the address,
        handing whoever is guessing the account elsewhere a fresh allowance each time its owner
        signs in. Returns how many records were deleted."""
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(
            username=username, ip_address=request.axes_ip_address
        ).delete()
        return count


def lockout_response(request, original_response=None, credentials=None):
    """The 429 lockout page, with Retry-After: the whole cool-off, which no lock outlasts
    (a refused attempt is not counted, so the newest counted failure is at most this old)."""
    cool_off = get_cool_off(request)
    response = render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        {"cooloff_timedelta": cool_off},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
