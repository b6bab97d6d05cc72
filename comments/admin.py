import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from newsroom.admin_base import NewsroomModelAdmin

from . import services
from .forms import BODY_MAX, BODY_MIN, WebsiteField
from .models import Comment, pending_first
from .privacy import can_see_email, mask_email


class CommentAdminForm(forms.ModelForm):
    reply = forms.CharField(
        label="Reply as staff",
        required=False,
        min_length=BODY_MIN,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Published at once under this comment, with your name and a Staff badge.",
    )

    class Meta:
        model = Comment
        fields = ["name", "email", "website", "body", "status"]
        # The public form's rule for websites: http(s) only (a link a reader can follow safely).
        field_classes = {"website": WebsiteField}

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status", self.instance.status)
        if cleaned.get("reply") and status in (Comment.Status.REJECTED, Comment.Status.SPAM):
            self.add_error("reply", "Approve the comment before replying to it.")
        return cleaned


@admin.register(Comment)
class CommentAdmin(NewsroomModelAdmin):
    form = CommentAdminForm
    list_display_links = ["excerpt"]
    list_filter = ["status", "is_staff_reply", "created_at", "article__section"]
    list_select_related = ["article", "moderated_by"]
    date_hierarchy = "created_at"
    list_per_page = 50
    actions = [
        "approve",
        "reject",
        "mark_spam",
        "export_commenter_data",
        "erase_commenter_data",
        "delete_commenter_data",
    ]

    # --- Lists --------------------------------------------------------------------------

    def get_ordering(self, request):
        return [pending_first().asc(), "-created_at", "-pk"]

    def get_list_display(self, request):
        email = "email" if can_see_email(request.user) else "masked_email"
        return [
            "excerpt",
            "article_title",
            "name",
            email,
            "status",
            "status_reason",
            "created_at",
            "moderated_by",
            "moderated_at",
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
        return comment.excerpt

    @admin.display(description="story", ordering="article__title")
    def article_title(self, comment):
        return comment.article.title

    @admin.display(description="email")
    def masked_email(self, comment):
        return mask_email(comment.email) or "—"

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
            "moderated_by",
            "moderated_at",
            "is_staff_reply",
        ]

    def save_model(self, request, comment, form, change):
        new_status = comment.status
        if "status" in form.changed_data:
            comment.status = form.initial["status"]
        super().save_model(request, comment, form, change)
        if new_status != comment.status:
            services.set_status(
                Comment.objects.filter(pk=comment.pk), status=new_status, by=request.user
            )
            comment.refresh_from_db()
        reply = form.cleaned_data.get("reply")
        if reply and request.user.has_perm("comments.add_comment"):
            services.staff_reply(parent=comment, body=reply, by=request.user)
            self.message_user(request, "Your reply is published.", messages.SUCCESS)

    def delete_model(self, request, comment):
        services.delete_comments(Comment.objects.filter(pk=comment.pk))

    def delete_queryset(self, request, queryset):
        services.delete_comments(queryset)

    # --- Actions ------------------------------------------------------------------------

    def has_view_commenter_email_permission(self, request):
        return can_see_email(request.user)

    @admin.action(description="Approve selected comments", permissions=["change"])
    def approve(self, request, queryset):
        count = services.approve(queryset, by=request.user)
        self.message_user(request, f"Approved {count} comment(s).", messages.SUCCESS)

    @admin.action(description="Reject selected comments", permissions=["change"])
    def reject(self, request, queryset):
        count = services.reject(queryset, by=request.user)
        self.message_user(request, f"Rejected {count} comment(s).", messages.SUCCESS)

    @admin.action(description="Mark selected comments as spam", permissions=["change"])
    def mark_spam(self, request, queryset):
        count = services.mark_spam(queryset, by=request.user)
        self.message_user(request, f"Marked {count} comment(s) as spam.", messages.SUCCESS)

    @admin.action(
        description="Export all data of the selected commenters (JSON)",
        permissions=["view_commenter_email"],
    )
    def export_commenter_data(self, request, queryset):
        emails = self.emails_of(queryset)
        data = services.export_commenter_data(emails)
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
        count = services.erase_commenter_data(emails)
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
        count = services.erase_commenter_data(emails, delete=True)
        self.message_user(
            request,
            f"Deleted {count} comment(s) by {len(emails)} commenter(s); replies by others kept.",
            messages.SUCCESS,
        )

    @staticmethod
    def emails_of(queryset):
        emails = queryset.exclude(email="").values_list("email", flat=True)
        return sorted({email.lower() for email in emails})
