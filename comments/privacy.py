"""Who may see a commenter's email address, what everyone else sees instead, and a person's data
by address: export, anonymise, delete."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from newsroom.dates import machine_time

from .addresses import email_forms, email_key  # noqa: F401  (re-exported)
from .caching import announce_threads
from .models import Comment, ReplySubscription

EMAIL_PERMISSION = "comments.view_commenter_email"
DOTS = "•••"


def can_see_email(user):
    return user.has_perm(EMAIL_PERMISSION)


def mask_email(email):
    """jane@example.com -> j•••@e•••.com: enough to tell addresses apart, not to write to one."""
    if not email:
        return ""
    local, _, domain = email.rpartition("@")
    host, dot, tld = domain.rpartition(".")
    if not host:
        host, tld = domain, ""
    return f"{local[:1]}{DOTS}@{host[:1]}{DOTS}{dot}{tld}"


def comments_by_emails(emails):
    """Every comment written with one of these addresses, whatever their case."""
    query = Q(pk__in=[])
    for email in {email.strip() for email in emails if email and email.strip()}:
        query |= Q(email__iexact=email)
    return Comment.objects.filter(query)


def export_commenter_data(emails):
    """Everything stored about the people with these email addresses, as plain data."""
    comments = comments_by_emails(emails)
    return {
        "exported_at": machine_time(timezone.now()),
        "emails": sorted({email.strip().lower() for email in emails if email.strip()}),
        "comments": [
            {
                "id": comment.pk,
                "article": comment.article.title,
                "article_url": comment.article.get_absolute_url(),
                "in_reply_to": comment.parent_id,
                "name": comment.name,
                "email": comment.email,
                "website": comment.website,
                "body": comment.body,
                "status": comment.status,
                "created_at": machine_time(comment.created_at),
                "client_hash": comment.client_hash,
            }
            for comment in comments.select_related("article").order_by("created_at", "pk")
        ],
        "reply_subscriptions": [
            {
                "email": subscription.email,
                "comments": sorted(c.pk for c in subscription.comments.all()),
                "created_at": machine_time(subscription.created_at),
                "confirmation_sent_at": _optional_time(subscription.confirm_sent_at),
                "confirmed_at": _optional_time(subscription.confirmed_at),
                "muted_at": _optional_time(subscription.muted_at),
                "replies_emailed": sorted(n.reply_id for n in subscription.notices.all()),
            }
            for subscription in ReplySubscription.objects.for_emails(emails).prefetch_related(
                "comments", "notices"
            )
        ],
    }


def _optional_time(moment):
    """machine_time, or None for a moment that has not come (not confirmed, not muted)."""
    return machine_time(moment) if moment else None


@transaction.atomic
def delete_comments(comments):
    """Delete comments but not other people's replies: those move up to the nearest survivor."""
    doomed = set(comments.values_list("pk", flat=True))
    orphans = Comment.objects.filter(parent_id__in=doomed).exclude(pk__in=doomed)
    for reply in orphans.select_related("parent"):
        new_parent = reply.parent
        while new_parent is not None and new_parent.pk in doomed:
            new_parent = new_parent.parent
        Comment.objects.filter(pk=reply.pk).update(parent=new_parent)
        announce_threads([reply.article_id])
    Comment.objects.filter(pk__in=doomed).delete()
    return len(doomed)


def erase_commenter_data(emails, *, delete=False):
    """Anonymise (or delete) every comment written with these addresses, and delete their
    reply subscriptions (nothing more is emailed to them); returns how many comments."""
    comments = comments_by_emails(emails)
    ReplySubscription.objects.for_emails(emails).delete()
    if delete:
        return delete_comments(comments)
    with transaction.atomic():
        announce_threads(comments.values_list("article_id", flat=True))  # after the commit
        # The stored cards showed the name and website: gone too (rendered again when read).
        count = comments.update(
            name="Anonymous",
            email="",
            website="",
            client_hash="",
            card_html="",
            card_rendered_with="",
        )
    return count
