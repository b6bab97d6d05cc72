"""What this browser remembers about its own comments, in signed cookies only it holds.

`pending`: the ids of its own recent comments (the name is older than the rule): the pending ones
it alone sees, marked "awaiting moderation"; an approved one is its proof of identity, the only
thing that lets its next comment under the same name and address skip moderation
(comments/moderation.py). Every comment that is not spam is added, approved or not, so the
answer to a post never depends on which rule decided it.
`author`: name, email and website, only when the reader ticked "Save my name…".
A request carrying either is personal (both are registered with newsroom.caching in
CommentsConfig.ready()): its page is built for it alone, private and no-store. Both are read
only in the comment section, a hole of the story's page (comments.display.section_html), so
such a page is the kept public one with that section built for the reader; every read says so
(newsroom.caching.note_personal_read), so a page reading them elsewhere is built whole.
"""

from django.conf import settings
from django.core import signing

from newsroom.caching import note_personal_read

PENDING = "comments_pending"
AUTHOR = "comment_author"
PENDING_MAX_AGE = 30 * 86400
AUTHOR_MAX_AGE = 365 * 86400
PENDING_KEEP = 20
AUTHOR_FIELDS = ("name", "email", "website")


def cookie_name(base):
    # Over HTTPS the __Host- prefix pins the cookie to this exact host, path / and Secure.
    return f"__Host-{base}" if settings.SESSION_COOKIE_SECURE else base


def _read(request, base, max_age):
    note_personal_read()
    value = request.COOKIES.get(cookie_name(base))
    if not value:
        return None
    try:
        return signing.loads(value, salt=f"comments.{base}", max_age=max_age)
    except signing.BadSignature:
        return None


def _write(response, base, value, max_age):
    response.set_cookie(
        cookie_name(base),
        signing.dumps(value, salt=f"comments.{base}", compress=True),
        max_age=max_age,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def own_ids(request):
    """The ids of the comments this browser wrote (newest last), from its signed cookie; [] when
    it has none, or one that was tampered with or is older than PENDING_MAX_AGE."""
    value = _read(request, PENDING, PENDING_MAX_AGE)
    if not isinstance(value, list):
        return []
    return [pk for pk in value if isinstance(pk, int) and not isinstance(pk, bool)]


def add_own(request, response, comment):
    """Add `comment` to this browser's signed list of its own comments (the last PENDING_KEEP)."""
    ids = [pk for pk in own_ids(request) if pk != comment.pk][-(PENDING_KEEP - 1) :]
    _write(response, PENDING, [*ids, comment.pk], PENDING_MAX_AGE)


def remembered_author(request):
    value = _read(request, AUTHOR, AUTHOR_MAX_AGE)
    if not isinstance(value, dict):
        return {}
    return {key: str(value[key]) for key in AUTHOR_FIELDS if key in value}


def remember_author(response, cleaned_data):
    _write(response, AUTHOR, {key: cleaned_data[key] for key in AUTHOR_FIELDS}, AUTHOR_MAX_AGE)


def forget_author(request, response):
    if cookie_name(AUTHOR) in request.COOKIES:
        response.delete_cookie(cookie_name(AUTHOR), path="/", samesite="Lax")
