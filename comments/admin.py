import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html

from newsroom.admin_base import NewsroomModelAdmin

from . import banning, moderating, privacy, queue, text
from .forms import BODY_MAX, BODY_MIN, WebsiteField
from .models import Ban, Comment, pending_first
from .privacy import can_see_email, mask_email


class BanReasonForm(forms.Form):
    """What a moderator gives when banning from the list of comments."""

    reason = forms.CharField(max_length=200, help_text="Kept with the ban, seen by staff only.")
    hide_earlier = forms.BooleanField(
        required=False, label="Also hide their earlier comments (mark them as spam)"
    )
    confirm = forms.CharField(widget=forms.HiddenInput, initial="1")


APPROVE_AND_REPLY = "_approve_and_reply"  # the name of the change page's named button


class CommentAdminForm(forms.ModelForm):
    reply = forms.CharField(
        label="Reply as staff",
        required=False,
        min_length=BODY_MIN,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Published at once under this comment, with your name and a Staff badge.",
    )

    # The comment's moderation_stamp when the form was shown: a status change is refused when
    # someone else decided the comment since (see CommentAdmin.save_model).
    seen = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Comment
        fields = ["name", "email", "website", "body", "status"]
        # The public form's rule for websites: http(s) only (a link a reader can follow safely).
        field_classes = {"website": WebsiteField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen"].initial = self.instance.moderation_stamp
        # A status is a decision when it differs from the one the moderator saw, not from the
        # one stored now: a page left open while someone else decided only edits the text.
        seen_status = str(self.data.get("seen") or "").partition("@")[0]
        if self.is_bound and seen_status in Comment.Status.values:
            self.initial["status"] = seen_status

    # The readers' rule for text (comments/text.py), for what moderators type too.
    def clean_name(self):
        return text.check_name(self.cleaned_data["name"])

    def clean_body(self):
        return text.check_body(self.cleaned_data["body"])

    def clean_reply(self):
        reply = self.cleaned_data.get("reply")
        return text.check_reply(reply) if reply else reply

    @property
    def approve_and_reply(self):
        """Whether the moderator pressed "Approve and reply" (the button's name is in the POST)."""
        return self.is_bound and APPROVE_AND_REPLY in self.data

    def clean(self):
        """A reply never approves a held comment by itself: only "Approve and reply" does, and
        says so; a plain save with a reply to a held comment is refused, the reply kept."""
        cleaned = super().clean()
        status = cleaned.get("status", self.instance.status)
        reply = cleaned.get("reply")
        if self.approve_and_reply:
            if not reply:
                self.add_error("reply", "Write your reply, then press “Approve and reply”.")
            elif "status" in self.changed_data:
                self.add_error(
                    "status", "“Approve and reply” approves the comment: leave its status as is."
                )
        elif reply and status in (Comment.Status.REJECTED, Comment.Status.SPAM):
            self.add_error("reply", "Approve the comment before replying to it.")
        elif reply and status == Comment.Status.PENDING:
            self.add_error(
                "reply",
                "This comment is held, and stays held: press “Approve and reply” to publish it "
                "with your reply, or approve it first.",
            )
        return cleaned


@admin.register(Comment)
class CommentAdmin(NewsroomModelAdmin):
    form = CommentAdminForm
    change_form_template = "admin/comments/comment/change_form.html"  # carries `seen`
    list_display_links = ["excerpt"]
    list_filter = [queue.StatusFilter, "is_staff_reply", "created_at", "article__section"]
    list_select_related = ["article", "moderated_by", "parent"]
    date_hierarchy = "created_at"
    list_per_page = 50
    actions = [
        "approve",
        "reject",
        "mark_spam",
        "ban_emails",
        "ban_clients",
        "export_commenter_data",
        "erase_commenter_data",
        "delete_commenter_data",
    ]

    # --- Lists --------------------------------------------------------------------------

    def get_ordering(self, request):
        return [pending_first().asc(), "-created_at", "-pk"]

    class Media:
        css = {"all": ["css/comment_queue.css"]}
        js = ["js/comment_queue.js"]

    def get_list_display(self, request):
        commenter = "commenter_with_email" if can_see_email(request.user) else "commenter"
        return [
            "excerpt",
            "article_title",
            commenter,
            "status_seen",
            "created",
            "moderated",
            "row_actions",
        ]

    def lookup_allowed(self, lookup, value, request):
        # Filtering by email in the query string would reveal addresses letter by letter.
        if lookup.split("__")[0] == "email" and not can_see_email(request.user):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_search_fields(self, request):
        fields = ["name", "body", "article__title"]
        return [*fields, "email"] if can_see_email(request.user) else fields

    @admin.display(description="comment")
    def excerpt(self, comment):
        return queue.comment_cell(comment)

    @admin.display(description="story", ordering="article__title")
    def article_title(self, comment):
        return queue.story_cell(comment)

    @admin.display(description="name", ordering="name")
    def commenter(self, comment):
        """The name, and the address masked (see privacy.mask_email)."""
        return queue.commenter_cell(comment.name, mask_email(comment.email))

    @admin.display(description="name", ordering="name")
    def commenter_with_email(self, comment):
        """The name and the address, for moderators who may see addresses."""
        return queue.commenter_cell(comment.name, comment.email)

    @admin.display(description="created", ordering="created_at")
    def created(self, comment):
        return queue.when_cell(comment.created_at, "Created")

    @admin.display(description="moderated", ordering="moderated_at")
    def moderated(self, comment):
        return queue.when_cell(comment.moderated_at, "Moderated", comment.moderated_by)

    @admin.display(description="actions")
    def row_actions(self, comment):
        return queue.actions_cell(comment)

    @admin.display(description="email")
    def masked_email(self, comment):
        return mask_email(comment.email) or "—"

    @admin.display(description="status", ordering="status")
    def status_seen(self, comment):
        """The status, and (hidden, sent with a bulk action) the moderation_stamp shown, so
        that a decision on a comment someone else decided meanwhile is refused."""
        return format_html(
            '{}<input type="hidden" name="seen" value="{}:{}"><span class="cq-reason">{}</span>',
            comment.get_status_display(),
            comment.pk,
            comment.moderation_stamp,
            comment.status_reason,
        )

    # --- One comment --------------------------------------------------------------------

    def has_add_permission(self, request):
        # Readers write comments on the site; staff answer them from a comment's page.
        return False

    def get_fields(self, request, obj=None):
        email = ["email"] if can_see_email(request.user) else ["masked_email"]
        fields = [
            "article_title",
            "parent",
            "name",
            *email,
            "website",
            "body",
            "status",
            "status_reason",
            "created_at",
            "edited_at",
            "moderated_by",
            "moderated_at",
            "is_staff_reply",
        ]
        if request.user.has_perm("comments.add_comment"):
            fields.append("reply")
        return fields

    def get_readonly_fields(self, request, obj=None):
        return [
            "article_title",
            "parent",
            "masked_email",
            "status_reason",
            "created_at",
            "edited_at",
            "moderated_by",
            "moderated_at",
            "is_staff_reply",
        ]

    EDITABLE = ("name", "email", "website", "body")

    def save_model(self, request, comment, form, change):
        """The decision first, refused (and nothing saved) when someone else decided the comment
        since the form was shown; then the edited fields only, so a form open for a while never
        puts back the status it showed; then the reply."""
        if "status" in form.changed_data:
            seen = form.cleaned_data.get("seen")
            decided = moderating.set_status(
                Comment.objects.filter(pk=comment.pk),
                status=comment.status,
                by=request.user,
                seen={comment.pk: seen} if seen else None,
            )
            if decided.refused:
                request.comment_refused = decided.refused[0]
                return
        edited = [name for name in form.changed_data if name in self.EDITABLE]
        if edited:
            comment.save(update_fields=edited)
        comment.refresh_from_db()
        reply = form.cleaned_data.get("reply")
        if not (reply and request.user.has_perm("comments.add_comment")):
            return
        if form.approve_and_reply:
            seen = form.cleaned_data.get("seen")
            decided, _ = moderating.approve_and_reply(
                parent=comment, body=reply, by=request.user, seen=seen or None
            )
            if decided.refused:
                request.comment_refused = decided.refused[0]
                return
            request.comment_log = "Approved (Approve and reply) and replied."
            self.message_user(
                request,
                f"Approved “{comment.excerpt}” and published your reply.",
                messages.SUCCESS,
            )
            return
        moderating.staff_reply(parent=comment, body=reply, by=request.user)
        self.message_user(request, "Your reply is published.", messages.SUCCESS)

    def log_change(self, request, obj, message):
        """The admin's record of a change; a refused decision is recorded as refused."""
        refused = getattr(request, "comment_refused", None)
        if refused is not None:
            message = f"Refused: {refused}"
        elif getattr(request, "comment_log", None):
            message = request.comment_log
        return super().log_change(request, obj, message)

    def response_change(self, request, obj):
        refused = getattr(request, "comment_refused", None)
        if refused is None:
            return super().response_change(request, obj)
        self.message_user(request, f"Nothing was saved. {refused}", messages.ERROR)
        return HttpResponseRedirect(request.path)

    def delete_model(self, request, comment):
        privacy.delete_comments(Comment.objects.filter(pk=comment.pk))

    def delete_queryset(self, request, queryset):
        privacy.delete_comments(queryset)

    # --- Actions ------------------------------------------------------------------------

    def has_view_commenter_email_permission(self, request):
        return can_see_email(request.user)

    @admin.action(description="Approve selected comments", permissions=["change"])
    def approve(self, request, queryset):
        self.decide(request, queryset, Comment.Status.APPROVED, "Approved {} comment(s).")

    @admin.action(description="Reject selected comments", permissions=["change"])
    def reject(self, request, queryset):
        self.decide(request, queryset, Comment.Status.REJECTED, "Rejected {} comment(s).")

    @admin.action(description="Mark selected comments as spam", permissions=["change"])
    def mark_spam(self, request, queryset):
        self.decide(request, queryset, Comment.Status.SPAM, "Marked {} comment(s) as spam.")

    def decide(self, request, queryset, status, done, *, how="bulk action", chosen=None):
        """A decision on the selected comments, each checked against the status the list
        showed (its `seen` stamps); every decision and every refusal goes in the admin log, and
        the decision is kept for Undo. `chosen`: the ids the moderator chose (default: the
        ticked rows); only their stamps are checked."""
        if chosen is None:
            chosen = request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME)
        before = dict(queryset.values_list("pk", "status"))
        decided = moderating.set_status(
            queryset, status=status, by=request.user, seen=self.seen_stamps(request, chosen)
        )
        label = Comment.Status(status).label.lower()
        if decided.changed:
            LogEntry.objects.log_actions(
                request.user.pk,
                Comment.objects.filter(pk__in=decided.changed).select_related("article"),
                CHANGE,
                f"Marked {label} ({how}).",
            )
            queue.remember_decision(
                request, before={pk: before[pk] for pk in decided.changed}, status=status
            )
        for refusal in decided.refused:
            self.log_change(request, refusal.comment, f"Refused ({how}): {refusal}")
            self.message_user(request, str(refusal), messages.ERROR)
        if decided.changed or not decided.refused:
            self.message_user(request, done.format(len(decided.changed)), messages.SUCCESS)
        return decided

    # --- The queue's row actions and Undo -------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", wrap(self.decide_view), name="comments_comment_decide"),
            path("undo/", wrap(self.undo_view), name="comments_comment_undo"),
            *super().get_urls(),
        ]

    ROW_DONE = {
        Comment.Status.APPROVED: "Approved “{}”.",
        Comment.Status.REJECTED: "Rejected “{}”.",
        Comment.Status.SPAM: "Marked “{}” as spam.",
    }

    def decide_view(self, request, pk):
        """One row's Approve, Reject or Spam button (POST, the list's form with its `seen`
        stamps): decided like a bulk action on that one comment, then back to the same list."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        comment = get_object_or_404(Comment, pk=pk)
        status = request.POST.get("decision")
        if status not in self.ROW_DONE:
            self.message_user(request, "Choose Approve, Reject or Spam.", messages.ERROR)
        else:
            done = self.ROW_DONE[status].format(comment.excerpt)
            rows = Comment.objects.filter(pk=pk)
            self.decide(request, rows, status, done, how="row action", chosen=[pk])
        return HttpResponseRedirect(self.queue_url(request))

    def undo_view(self, request):
        """Undo the moderator's last decision (POST): each comment it changed goes back to the
        status it had, unless someone decided it again since (refused and said so); logged."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        last = queue.last_decision(request)
        queue.forget_decision(request)
        if not last:
            self.message_user(request, "There is no decision to undo.", messages.WARNING)
            return HttpResponseRedirect(self.queue_url(request))
        undone = 0
        label = Comment.Status(last["status"]).label.lower()
        for pk, previous, stamp in last["comments"]:
            back = Comment.Status(previous).label.lower()
            decided = moderating.set_status(
                Comment.objects.filter(pk=pk),
                status=previous,
                by=request.user,
                seen={pk: stamp},
                reason=f"{back} again: undone by {request.user.get_username()}",
            )
            for refusal in decided.refused:
                self.log_change(request, refusal.comment, f"Refused (undo): {refusal}")
                self.message_user(request, f"Not undone: {refusal}", messages.ERROR)
            if decided.changed:
                undone += 1
                LogEntry.objects.log_actions(
                    request.user.pk,
                    Comment.objects.filter(pk__in=decided.changed).select_related("article"),
                    CHANGE,
                    f"Undid “marked {label}”: {back} again.",
                )
        if undone:
            self.message_user(
                request, f"Undone: {undone} comment(s) no longer {label}.", messages.SUCCESS
            )
        return HttpResponseRedirect(self.queue_url(request))

    def queue_url(self, request):
        """The list the moderator was on: its query string, sent back as `_queue`."""
        url = reverse("admin:comments_comment_changelist")
        query = QueryDict(request.POST.get("_queue", "")).urlencode()
        return f"{url}?{query}" if query else url

    def changelist_view(self, request, extra_context=None):
        last = queue.last_decision(request)
        undo = None
        if last:
            count = len(last["comments"])
            status = Comment.Status(last["status"]).label.lower()
            undo = f"{count} comment{'s' if count != 1 else ''} marked {status}"
        return super().changelist_view(request, {**(extra_context or {}), "undo": undo})

    @staticmethod
    def seen_stamps(request, chosen):
        """{comment id: moderation_stamp} the changelist showed, from its `seen` inputs, for
        the comments in `chosen` (ids, as ints or strings) only: the list sends every row's."""
        chosen = {int(pk) for pk in chosen if str(pk).isdigit()}
        stamps = {}
        for value in request.POST.getlist("seen"):
            pk, _, stamp = value.partition(":")
            if pk.isdigit() and stamp and int(pk) in chosen:
                stamps[int(pk)] = stamp
        return stamps

    # --- Bans ---------------------------------------------------------------------------

    def has_ban_permission(self, request):
        return request.user.has_perm("comments.add_ban")

    @admin.action(description="Ban the selected commenters' email addresses", permissions=["ban"])
    def ban_emails(self, request, queryset):
        return self.ban(request, queryset, Ban.Kind.EMAIL)

    @admin.action(
        description="Ban the selected commenters' clients (network address)", permissions=["ban"]
    )
    def ban_clients(self, request, queryset):
        return self.ban(request, queryset, Ban.Kind.CLIENT)

    def ban(self, request, queryset, kind):
        """Ask for a reason (and whether to hide earlier comments), then ban each distinct
        address or client of the selected comments. The addresses are never shown here."""
        field = "email" if kind == Ban.Kind.EMAIL else "client_hash"
        values = sorted(set(queryset.exclude(**{field: ""}).values_list(field, flat=True)))
        if kind == Ban.Kind.EMAIL:
            values = sorted({privacy.email_key(value) for value in values})
        form = BanReasonForm(request.POST if "confirm" in request.POST else None)
        if not values:
            what = "address" if kind == Ban.Kind.EMAIL else "client (it is kept 30 days)"
            self.message_user(request, f"The selected comments have no {what}.", messages.ERROR)
            return None
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/comments/comment/ban.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Ban commenters",
                    "opts": self.opts,
                    "form": form,
                    "kind": Ban.Kind(kind).label.lower(),
                    "count": len(values),
                    "action": request.POST.get("action"),
                    "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                },
            )
        banned, already = [], 0
        for value in values:
            try:
                banned.append(
                    banning.ban(
                        kind=kind, value=value, reason=form.cleaned_data["reason"], by=request.user
                    )
                )
            except banning.AlreadyBanned:
                already += 1
        message = f"Banned {len(banned)} commenter(s)"
        message += f"; {already} already banned." if already else "."
        if form.cleaned_data["hide_earlier"]:
            bans = Ban.objects.active().filter(kind=kind, value__in=values)
            hidden = banning.hide_earlier_comments(bans, by=request.user)
            message += f" Marked {hidden} earlier comment(s) as spam."
        self.message_user(request, message, messages.SUCCESS)
        return None

    @admin.action(
        description="Export all data of the selected commenters (JSON)",
        permissions=["view_commenter_email"],
    )
    def export_commenter_data(self, request, queryset):
        emails = self.emails_of(queryset)
        data = privacy.export_commenter_data(emails)
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="commenter-data-{stamp}.json"'
        add_never_cache_headers(response)
        return response

    @admin.action(
        description="Erase the selected commenters (anonymise all their comments)",
        permissions=["change"],
    )
    def erase_commenter_data(self, request, queryset):
        emails = self.emails_of(queryset)
        count = privacy.erase_commenter_data(emails)
        self.message_user(
            request,
            f"Anonymised {count} comment(s) by {len(emails)} commenter(s).",
            messages.SUCCESS,
        )

    @admin.action(
        description="Erase the selected commenters (delete all their comments)",
        permissions=["delete"],
    )
    def delete_commenter_data(self, request, queryset):
        emails = self.emails_of(queryset)
        count = privacy.erase_commenter_data(emails, delete=True)
        self.message_user(
            request,
            f"Deleted {count} comment(s) by {len(emails)} commenter(s); replies by others kept.",
            messages.SUCCESS,
        )

    @staticmethod
    def emails_of(queryset):
        emails = queryset.exclude(email="").values_list("email", flat=True)
        return sorted({email.lower() for email in emails})


class BanForm(forms.ModelForm):
    hide_earlier = BanReasonForm.base_fields["hide_earlier"]

    class Meta:
        model = Ban
        fields = ["kind", "value", "reason"]
        labels = {"value": "Email address or client hash"}

    def clean(self):
        cleaned = super().clean()
        kind, value = cleaned.get("kind"), cleaned.get("value")
        if kind == Ban.Kind.EMAIL and value:
            if "@" not in value:
                self.add_error("value", "Enter an email address.")
            else:
                cleaned["value"] = privacy.email_key(value)
        value = cleaned.get("value")
        if kind and value and Ban.objects.active().filter(kind=kind, value=value).exists():
            self.add_error("value", "This commenter is already banned.")
        return cleaned


@admin.register(Ban)
class BanAdmin(NewsroomModelAdmin):
    """Bans: added here or from the list of comments, lifted (never deleted), all logged by
    comments/banning.py."""

    form = BanForm

    def get_list_display(self, request):
        shown = "banned_plain" if can_see_email(request.user) else "banned"
        return [shown, "kind", "reason", "created_by", "created_at", "in_force", "lifted_at"]

    list_filter = ["kind", ("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["reason"]
    actions = ["lift"]
    readonly_fields = ["created_by", "created_at", "lifted_by", "lifted_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["kind", "value", "reason", "hide_earlier"]
        return ["kind", "banned", "reason", *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["kind", "banned", "reason", *self.readonly_fields]

    def has_delete_permission(self, request, obj=None):
        return False  # lifted, not deleted: the record stays

    @admin.display(description="banned")
    def banned(self, ban):
        """The address masked (see privacy.mask_email); a client's hash cut short."""
        if ban.kind == Ban.Kind.CLIENT:
            return f"client {ban.value[:12]}…"
        return mask_email(ban.value)

    @admin.display(description="banned")
    def banned_plain(self, ban):
        """The address, for moderators who may see addresses; a client's hash cut short."""
        return ban.value if ban.kind == Ban.Kind.EMAIL else self.banned(ban)

    @admin.display(description="in force", boolean=True)
    def in_force(self, ban):
        return ban.is_active

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by")

    def save_model(self, request, obj, form, change):
        """A new ban through comments/banning.py (which logs it), and its earlier comments
        hidden when asked."""
        if change:
            return
        try:
            new = banning.ban(kind=obj.kind, value=obj.value, reason=obj.reason, by=request.user)
        except banning.AlreadyBanned as refusal:
            new = refusal.ban
        obj.pk, obj.created_at, obj.created_by = new.pk, new.created_at, new.created_by
        if form.cleaned_data.get("hide_earlier"):
            hidden = banning.hide_earlier_comments([new], by=request.user)
            self.message_user(request, f"Marked {hidden} earlier comment(s) as spam.")

    def log_addition(self, request, obj, message):
        return None  # banning.ban wrote it, with the reason

    @admin.action(description="Lift the selected bans", permissions=["change"])
    def lift(self, request, queryset):
        count = banning.lift(queryset, by=request.user)
        self.message_user(request, f"Lifted {count} ban(s).", messages.SUCCESS)
