import zlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from newsroom.rendered import StoredBodyHTML

from . import rendering
from .addresses import email_key
from .policy import policy

AVATAR_COLOURS = 6
# The reason recorded on a banned commenter's new comment (moderation.rule_banned): spam, but
# shown to its author as held, like any comment that waits.
BANNED_REASON = "spam: banned"
# A comment's stored card (rendering.comment_card) and what it is rendered from: a save that
# has all of these renders the card again when it is stale.
CARD_FIELDS = ("card_html", "card_rendered_with")
CARD_SOURCES = (
    "name",
    "website",
    "is_staff_reply",
    "created_at",
    "edited_at",
    "body",
    "body_html",
    "body_rendered_with",
    "card_rendered_with",
)


def pending_first():
    """0 for a comment waiting for a moderator, 1 otherwise: the moderation queue's first key.
    (One definition, shared by the admin's ordering and the index that serves it.)"""
    return models.Case(
        models.When(status="pending", then=models.Value(0)),
        default=models.Value(1),
        output_field=models.IntegerField(),
    )


class CommentQuerySet(models.QuerySet):
    def public(self):
        """The one definition of a public comment (approved, see `public_q`): what threads,
        counts, feeds and permalinks show. Nothing else filters on the status by hand."""
        return self.filter(public_q())

    def pending(self):
        return self.filter(status=Comment.Status.PENDING)

    def for_author(self, comment_ids):
        """Comments the current browser wrote that wait, as their author sees them (ids come
        from its signed cookie): pending ones, and a banned commenter's, which went to spam
        but look held to their author (see moderation.rule_banned)."""
        held = Q(status=Comment.Status.PENDING) | Q(
            status=Comment.Status.SPAM, status_reason=BANNED_REASON
        )
        return self.filter(held, pk__in=list(comment_ids or []))

    def thread_starts(self):
        """Public comments shown at the top level: no parent, or a parent no longer public."""
        return self.public().filter(THREAD_START)

    def public_counts(self):
        """{"public": approved comments, "thread_starts": those shown at the top level}, in
        one query: a story's comment count and the number of its pages of threads."""
        return self.public().aggregate(
            public=models.Count("pk"), thread_starts=models.Count("pk", filter=THREAD_START)
        )

    def for_display(self):
        """Only what a public page shows: never the email or the client hash."""
        return self.only(
            "pk",
            "article_id",
            "parent_id",
            "name",
            "website",
            "body",
            "body_html",
            "body_rendered_with",
            "card_html",
            "card_rendered_with",
            "status",
            "is_staff_reply",
            "created_at",
            "edited_at",
        )


class Comment(StoredBodyHTML):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        SPAM = "spam", "Spam"

    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    name = models.CharField(max_length=80)
    email = models.EmailField(max_length=254, blank=True)
    website = models.URLField(max_length=200, blank=True)
    body = models.TextField(max_length=5000)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING, db_index=False)
    status_reason = models.CharField(
        "decided by", max_length=120, blank=True, help_text="Which rule or person set the status."
    )
    is_staff_reply = models.BooleanField(default=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Set on replies written by staff from the admin.",
    )
    client_hash = models.CharField(max_length=64, blank=True, editable=False)
    wordpress_id = models.PositiveBigIntegerField(
        "WordPress comment ID",
        null=True,
        blank=True,
        unique=True,
        editable=False,
        help_text="Set on comments brought in by import_wordpress: matched by a later import.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderated_comments",
        editable=False,
    )
    moderated_at = models.DateTimeField(null=True, blank=True, editable=False)
    edited_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When its author last edited it (comments/editing.py); empty if never.",
    )
    # Its card as readers see it (header and body, rendering.comment_card) in the site's time
    # zone, stored when it is written so a page of 200 comments renders none; with the version
    # (rendering.card_version) of what it was rendered from. A stale one (the renderer, the
    # comment or the zone changed) is rendered again when read: display.with_cards.
    card_html = models.TextField(blank=True, default="", editable=False)
    card_rendered_with = models.CharField(max_length=16, blank=True, default="", editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(fields=["article", "status", "created_at"], name="comment_article_idx"),
            models.Index(fields=["status", "-created_at"], name="comment_queue_idx"),
            # The moderation queue: pending first, newest first, read in index order.
            models.Index(
                pending_first(),
                models.F("created_at").desc(),
                models.F("id").desc(),
                name="comment_pending_first_idx",
            ),
            # Every lookup by address ignores case (known commenters, privacy requests).
            models.Index(Upper("email"), name="comment_email_upper_idx"),
            # The duplicate check on every post: one client's recent comments (only those carry
            # a hash, wiped after 30 days), not every comment on a busy story.
            models.Index(
                fields=["client_hash"],
                condition=~models.Q(client_hash=""),
                name="comment_client_idx",
            ),
        ]
        permissions = [("view_commenter_email", "Can see commenters' email addresses")]

    def __str__(self):
        return f"{self.name} on {self.article.title}: {self.body[:40]}"

    def get_absolute_url(self):
        """The comment's permalink (comments.views.permalink), which redirects to the page of
        comments that shows its thread."""
        return reverse("comments:permalink", kwargs={"pk": self.pk})

    @staticmethod
    def status_is_public(status):
        """Whether a comment with this status is public: the test `public_q` makes in SQL."""
        return status == Comment.Status.APPROVED

    @property
    def is_public(self):
        return Comment.status_is_public(self.status)

    def thread_root(self):
        """The comment that starts the thread this comment is shown in."""
        comment = self
        while comment.parent_id:
            parent = Comment.objects.only("pk", "parent_id", "status", "created_at").get(
                pk=comment.parent_id
            )
            if not parent.is_public:
                break
            comment = parent
        return comment

    def thread_page(self, order="oldest"):
        """The comments page (1-based) that shows this comment's thread, thread starts "oldest"
        or "newest" first. A comment that waits starts its thread where a new one goes (for
        its author: see comments.display.merge_waiting): the last page, or the first."""
        root = self.thread_root()
        starts = Comment.objects.filter(article_id=self.article_id).thread_starts()
        per_page = policy("THREADS_PER_PAGE")
        if not root.is_public:
            return 1 if order == "newest" else max(1, -(-starts.count() // per_page))
        if order == "newest":
            before = starts.filter(created_at__gte=root.created_at).exclude(
                created_at=root.created_at, pk__lte=root.pk
            )
        else:
            before = starts.filter(created_at__lte=root.created_at).exclude(
                created_at=root.created_at, pk__gte=root.pk
            )
        return before.count() // per_page + 1

    def body_renderer(self):
        return rendering.render_body, rendering.RENDERER

    @property
    def card_is_stale(self):
        """Whether the stored card is not this comment's as shown in the current time zone."""
        version = rendering.card_version(self, timezone.get_current_timezone_name())
        return self.card_rendered_with != version

    def render_card(self):
        """Render the card (header and body) into `card_html` for the current time zone (not
        saved), and the body's HTML first when that is stale."""
        if self.body_is_stale:
            self.render_body()
        body = mark_safe(self.body_html)  # noqa: S308 - sanitised by nh3 when rendered
        self.card_html = str(rendering.comment_card(self, body))
        self.card_rendered_with = rendering.card_version(self, timezone.get_current_timezone_name())

    def render_stored(self, update_fields):
        """The body's HTML when the body is written, and the card whenever it is stale (a new
        comment's, which needs its id, is stored just after it is inserted: save)."""
        rendered = super().render_stored(update_fields)
        deferred = self.get_deferred_fields()
        adding = self._state.adding  # no id or date yet: see save
        if not adding and not deferred.intersection(CARD_SOURCES) and self.card_is_stale:
            self.render_card()  # which renders a stale body too: both are written
            rendered = {*rendered, *CARD_FIELDS, "body_html", "body_rendered_with"}
        return rendered

    def save(self, *args, **kwargs):
        """Saves, storing the body's HTML and the card as render_stored says; a new comment's
        card is stored by one more UPDATE once its id is known."""
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            self.store_card()

    def store_card(self, **also):
        """Render the card and write it (with `also`, more field values) to this comment's row
        with one UPDATE, sending no signal."""
        self.render_card()
        Comment.objects.filter(pk=self.pk).update(
            card_html=self.card_html, card_rendered_with=self.card_rendered_with, **also
        )

    @property
    def safe_website(self):
        """The website as a link target, only when it is plain http(s)."""
        return self.website if self.website.lower().startswith(("http://", "https://")) else ""

    @property
    def initials(self):
        words = ["".join(ch for ch in word if ch.isalnum()) for word in self.name.split()]
        words = [word for word in words if word]
        if not words:
            return "?"
        letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
        return letters.upper()

    @property
    def avatar_colour(self):
        """A stable colour per name, from a small palette with readable contrast."""
        return zlib.crc32(self.name.casefold().encode()) % AVATAR_COLOURS

    @property
    def moderation_stamp(self):
        """What a moderator sees of this comment's moderation, as a string: its status and when
        it was last decided, and when its author last edited it (comments/editing.py). The admin
        sends back the stamp it showed with a decision, and a decision on a comment whose stamp
        has changed since is refused (moderating.set_status): nobody approves a text they did
        not see. The status comes first, before the first "@"."""
        when = self.moderated_at.isoformat() if self.moderated_at else "never"
        edited = f"@edited {self.edited_at.isoformat()}" if self.edited_at else ""
        return f"{self.status}@{when}{edited}"

    @property
    def edited_since_decided(self):
        """Whether its author edited it after the last moderator's decision (or it has none)."""
        return bool(self.edited_at) and (
            self.moderated_at is None or self.edited_at > self.moderated_at
        )

    @property
    def looks_held_to_author(self):
        """Whether its author is shown this comment as "awaiting moderation": held, or a
        banned commenter's (who is never told)."""
        return self.status == Comment.Status.PENDING or (
            self.status == Comment.Status.SPAM and self.status_reason == BANNED_REASON
        )

    @property
    def excerpt(self):
        text = " ".join(self.body.split())
        return text if len(text) <= 80 else text[:79].rstrip() + "…"


def public_q(prefix=""):
    """The one definition of a public comment, as a filter: approved. `prefix` reaches a related
    comment ("parent__")."""
    return Q(**{f"{prefix}status": Comment.Status.APPROVED})


# Where a public comment is shown at the top level: no parent, or a parent no longer public.
THREAD_START = Q(parent__isnull=True) | ~public_q("parent__")


def erased_import_key(kind, wordpress_id):
    """The keyed hash (HMAC-SHA256 with SECRET_KEY, 64 hex characters) that recognises an
    imported WordPress row after it was deleted here: `kind` "comment" or "post", `wordpress_id`
    an int."""
    from django.utils.crypto import salted_hmac

    value = f"{kind}:{int(wordpress_id)}"
    return salted_hmac("comments.erased-import", value, algorithm="sha256").hexdigest()


class ErasedImport(models.Model):
    """A comment or story brought in by import_wordpress and deleted here since (by a
    moderator, an editor or a privacy request), so that importing the export again does not
    bring it back. Only a keyed hash of its WordPress ID is kept: nothing of what it said or
    who wrote it."""

    key = models.CharField(max_length=64, unique=True, editable=False)
    erased_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "erased imported row"

    def __str__(self):
        return f"erased imported row {self.key[:12]}"


def remember_erased_import(sender, instance, using, **kwargs):
    """post_delete of a Comment or an Article: an imported one leaves its ErasedImport key."""
    if instance.wordpress_id is not None:
        kind = "comment" if sender is Comment else "post"
        key = erased_import_key(kind, instance.wordpress_id)
        ErasedImport.objects.using(using).get_or_create(key=key)


class BanQuerySet(models.QuerySet):
    def active(self):
        """Bans in force: not lifted."""
        return self.filter(lifted_at__isnull=True)

    def matching(self, *, email="", client=""):
        """Bans on this address (any case or IDN form: compared by privacy.email_key) or on this
        client hash; "" matches nothing."""
        query = Q(pk__in=[])
        if email:
            query |= Q(kind=Ban.Kind.EMAIL, value=email_key(email))
        if client:
            query |= Q(kind=Ban.Kind.CLIENT, value=client)
        return self.filter(query)


class Ban(models.Model):
    """A commenter a moderator banned, by email address or by client (the keyed hash of the
    address a comment came from, see throttling.client_hash): their new comments go to spam
    without telling them (moderation.rule_banned). Lifted, not deleted, so the record stays."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email address"
        CLIENT = "client", "Client (hashed network address)"

    kind = models.CharField(max_length=10, choices=Kind)
    value = models.CharField(
        max_length=254,
        help_text="The address (kept as privacy.email_key makes it: any case or IDN form "
        "matches), or a comment's client hash.",
    )
    reason = models.CharField(max_length=200, help_text="Why: kept with the ban, seen by staff.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    lifted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = BanQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "value"],
                condition=Q(lifted_at__isnull=True),
                name="comment_ban_one_active",
                violation_error_message="This commenter is already banned.",
            )
        ]

    def __str__(self):
        # Never the address: this is what the admin's log and pages call the ban.
        lifted = " (lifted)" if self.lifted_at else ""
        return f"Ban {self.pk} ({self.get_kind_display().lower()}){lifted}"

    @property
    def is_active(self):
        return self.lifted_at is None


def new_subscription_secret():
    """A random value carried (signed) by a subscription's links: they stop working when the
    subscription is deleted, even if its id were ever used again."""
    import secrets

    return secrets.token_urlsafe(16)


class ReplySubscriptionQuerySet(models.QuerySet):
    def active(self):
        """Subscriptions that get reply emails: confirmed by their address, not muted."""
        return self.filter(confirmed_at__isnull=False, muted_at__isnull=True)

    def for_emails(self, emails):
        """The subscriptions of these addresses (any case or IDN form: by email_key)."""
        keys = {email_key(email) for email in emails if email and email.strip()}
        return self.filter(key__in=keys)


class ReplySubscription(models.Model):
    """One address that asked to be emailed when someone replies to its comments (the
    comment form's "Email me when someone replies"), one row per person: `key` is its
    email_key, `comments` the comments posted with the box ticked. Nothing is sent before the
    address confirms by the link in an email (reply_emails.py); one click mutes it."""

    key = models.CharField(max_length=400, unique=True, editable=False)
    email = models.EmailField(max_length=254, editable=False, help_text="Where replies are sent.")
    comments = models.ManyToManyField(Comment, related_name="reply_subscriptions", blank=True)
    secret = models.CharField(max_length=32, default=new_subscription_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    confirm_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    muted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ReplySubscriptionQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        # Never the address: this is what logs and pages call it.
        return f"Reply subscription {self.pk}"

    @property
    def is_active(self):
        return self.confirmed_at is not None and self.muted_at is None


class ReplyNotice(models.Model):
    """A reply email sent: one per reply and subscription, however often the reply is
    approved."""

    subscription = models.ForeignKey(
        ReplySubscription, on_delete=models.CASCADE, related_name="notices"
    )
    reply = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscription", "reply"], name="reply_notice_once")
        ]

    def __str__(self):
        return f"Reply {self.reply_id} sent to subscription {self.subscription_id}"
