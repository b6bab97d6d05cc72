"""Bans: a moderator bans an email address or a client (the keyed hash comments store), hides
a banned commenter's earlier comments in one step, and lifts a ban. Every step is written to the
admin's log (django.contrib.admin's LogEntry, the moderation audit trail). What a ban does to a
new comment is a moderation rule: moderation.rule_banned."""

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Ban, Comment
from .moderating import mark_spam
from .privacy import comments_by_emails, email_forms, email_key


class AlreadyBanned(Exception):
    """An active ban on the same address or client exists: `ban` is that ban."""

    def __init__(self, ban):
        self.ban = ban
        super().__init__("This commenter is already banned.")


def audit(user, objects, flag, message):
    """One line per object in the admin's log (the audit trail), by `user`."""
    objects = list(objects)
    if objects:
        LogEntry.objects.log_actions(user.pk, objects, flag, message)


def ban(*, kind, value, reason, by):
    """Ban an address (`kind` Ban.Kind.EMAIL, kept as privacy.email_key) or a client hash
    (Ban.Kind.CLIENT); returns the new Ban. Raises AlreadyBanned when one is in force,
    ValueError for an empty value or reason."""
    value = email_key(value) if kind == Ban.Kind.EMAIL else (value or "").strip()
    reason = (reason or "").strip()
    if not value or not reason:
        raise ValueError("A ban needs an address or client, and a reason.")
    existing = Ban.objects.active().filter(kind=kind, value=value).first()
    if existing:
        raise AlreadyBanned(existing)
    try:
        with transaction.atomic():
            new = Ban.objects.create(kind=kind, value=value, reason=reason[:200], created_by=by)
    except IntegrityError:  # banned by someone else at the same moment
        raise AlreadyBanned(Ban.objects.active().get(kind=kind, value=value)) from None
    audit(by, [new], ADDITION, f"Banned ({new.get_kind_display().lower()}): {new.reason}")
    return new


def comments_of(bans):
    """Every comment written under the banned addresses or from the banned clients."""
    query = Q(pk__in=[])
    for each in bans:
        if each.kind == Ban.Kind.EMAIL:
            query |= Q(pk__in=comments_by_emails(email_forms(each.value)).values("pk"))
        else:
            query |= Q(client_hash=each.value)
    return Comment.objects.filter(query)


def hide_earlier_comments(bans, *, by):
    """Mark spam every comment of these bans that is not spam yet (one step, each logged);
    returns how many were hidden."""
    decided = mark_spam(comments_of(bans).exclude(status=Comment.Status.SPAM), by=by)
    hidden = Comment.objects.filter(pk__in=decided.changed).select_related("article")
    audit(by, hidden, CHANGE, "Marked spam (earlier comment of a banned commenter).")
    return len(decided.changed)


def lift(bans, *, by):
    """Lift the bans in force among `bans` (a queryset); returns how many were lifted. New
    comments are moderated as anyone's again; comments hidden earlier stay as they are."""
    with transaction.atomic():
        # Locked without the caller's joins (PostgreSQL locks no outer join's nullable side).
        ids = list(bans.values_list("pk", flat=True))
        lifting = list(Ban.objects.active().filter(pk__in=ids).select_for_update())
        Ban.objects.filter(pk__in=[b.pk for b in lifting]).update(
            lifted_at=timezone.now(), lifted_by=by
        )
    audit(by, lifting, CHANGE, "Lifted the ban.")
    return len(lifting)
