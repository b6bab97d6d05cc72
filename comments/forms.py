import time

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout
from django import forms
from django.core import signing
from django.core.validators import URLValidator
from django.urls import reverse

from . import text
from .models import Comment
from .moderation import policy
from .threads import reply_target

PARENT_GONE = (
    "The comment you are replying to is no longer available. Send the form again to post "
    "yours as a new comment."
)
REQUIRED_NOTE = "Your email address will not be published. Required fields are marked *"
BODY_MIN, BODY_MAX = 2, 5000
TOKEN_SALT = "comments.form-token"  # noqa: S105 - a signing namespace, not a secret


CONFIRM = "confirm"
CONFIRM_MESSAGE = "Check your comment, then press “Post comment” again to send it."


def issue_token(article_pk, *, issued_at=None, min_seconds=None):
    """A signed note of when the form began to be used, for which story, and how long a person
    needs at least before sending it (`min_seconds`: MIN_SECONDS_TO_TYPE by default)."""
    issued_at = int(time.time() if issued_at is None else issued_at)
    if min_seconds is None:
        min_seconds = policy("MIN_SECONDS_TO_TYPE")
    return signing.dumps({"a": article_pk, "t": issued_at, "m": min_seconds}, salt=TOKEN_SALT)


class TokenInput(forms.HiddenInput):
    """The form's "shown at" token. A form shown to one reader (re-shown with its errors, or
    asking to confirm) gets a fresh one that needs MIN_SECONDS_TO_CONFIRM before sending; the
    form kept for everyone gets none: its script asks for one when the reader starts typing
    (`comments:token`), and without the script the first send asks to confirm."""

    def __init__(self, article_pk, *, issue):
        super().__init__()
        self.article_pk, self.issue = article_pk, issue

    def format_value(self, value):
        if not self.issue:
            return ""
        return issue_token(self.article_pk, min_seconds=policy("MIN_SECONDS_TO_CONFIRM"))


class WebsiteField(forms.URLField):
    """A commenter's website, wherever it is typed (the comment form, the admin): an http:// or
    https:// address only; ftp:, javascript: and the rest are refused with one message."""

    default_validators = [URLValidator(schemes=["http", "https"])]
    default_error_messages = {
        "invalid": "Enter a web address that starts with http:// or https://.",
    }

    def to_python(self, value):
        # Invisible and control characters are refused before the address is read (text.py).
        return super().to_python(text.check_website(value))


def clean_comment_body(body):
    """A reader's comment body as stored (comments/text.py's rule, then its length), or
    ValidationError with a message for the reader. Shared by the comment and edit forms."""
    body = text.check_body(body)
    if not body:
        raise forms.ValidationError("Write your comment.", code="required")
    if len(body) < BODY_MIN:
        raise forms.ValidationError(
            f"Your comment is too short: write at least {BODY_MIN} characters."
        )
    if len(body) > BODY_MAX:
        raise forms.ValidationError(
            f"Your comment is too long ({len(body):,} characters): "
            f"shorten it to {BODY_MAX:,} characters or fewer."
        )
    return body


class CommentForm(forms.ModelForm):
    body = forms.CharField(
        label="Comment",
        widget=forms.Textarea(attrs={"rows": 6, "minlength": BODY_MIN, "maxlength": BODY_MAX}),
        strip=False,
        error_messages={"required": "Write your comment."},
    )
    name = forms.CharField(
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={
            "required": "Enter your name.",
            "max_length": "Shorten your name to 80 characters or fewer.",
        },
    )
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="Only the moderators see it.",
        error_messages={
            "required": "Enter your email address.",
            "invalid": "Enter an email address like name@example.com.",
            "max_length": "That email address is too long.",
        },
    )
    website = WebsiteField(
        required=False,
        max_length=200,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"autocomplete": "url"}),
        error_messages={"max_length": "Shorten the web address to 200 characters or fewer."},
    )
    parent = forms.ModelChoiceField(
        queryset=Comment.objects.none(), required=False, widget=forms.HiddenInput
    )
    url = forms.CharField(
        label="Leave this field empty",
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    token = forms.CharField(required=False)
    remember = forms.BooleanField(
        label="Save my name, email and website in this browser for the next time I comment.",
        required=False,
    )
    notify_replies = forms.BooleanField(
        label="Email me when someone replies",
        required=False,
        help_text="We first email you a link to confirm; every email has a link to stop them.",
    )

    class Meta:
        model = Comment
        fields = ["name", "email", "website", "body", "parent"]

    def __init__(self, *args, article, issue_token=True, with_csrf=True, **kwargs):
        super().__init__(*args, instance=Comment(article=article), **kwargs)
        self.article = article
        self.fields["parent"].queryset = Comment.objects.public().filter(article=article)
        self.fields["token"].widget = TokenInput(article.pk, issue=issue_token)
        self.helper = FormHelper(self)
        # Django's CSRF token only where a session exists (see comments.views).
        self.helper.disable_csrf = not with_csrf
        # "#respond": a re-shown form with its errors opens scrolled to the form.
        action = reverse("comments:post", kwargs={"slug": article.slug})
        self.helper.form_action = f"{action}#respond"
        self.helper.form_id = "comment-form"
        # The server's messages, all at once in the summary and beside each field, instead of
        # the browser's bubble for the first empty field only; `required` still tells assistive
        # technology which fields are needed.
        self.helper.attrs = {
            "novalidate": True,
            "data-token-url": reverse("comments:token", kwargs={"slug": article.slug}),
        }
        # Our own form template: the error summary above the form replaces crispy's.
        self.helper.template = "comments/crispy_form.html"
        self.helper.layout = Layout(
            HTML(f'<p class="comment-notes">{REQUIRED_NOTE}</p>'),
            "body",
            "name",
            "email",
            "website",
            Div(Field("url"), css_class="comment-hp", aria_hidden="true"),
            "parent",
            "token",
            "remember",
            "notify_replies",
            HTML('<button type="submit" class="btn">Post comment</button>'),
        )

    def clean_name(self):
        return text.check_name(self.cleaned_data["name"])

    def clean_body(self):
        return clean_comment_body(self.cleaned_data["body"])

    def clean_parent(self):
        parent = self.cleaned_data["parent"]
        return reply_target(parent) if parent else None

    def clean(self):
        cleaned = super().clean()
        if self.has_error("parent"):
            # The comment being answered has gone: say so, and let a resend post a new comment.
            del self._errors["parent"]
            self.data = self.data.copy()
            self.data["parent"] = ""
            self.add_error(None, PARENT_GONE)
        if self.cleaned_data.get("url"):
            raise forms.ValidationError(
                "Your comment was not sent because the field “Leave this field empty” was "
                "filled in. Please empty it and send your comment again."
            )
        self.check_token(self.data.get("token", ""))
        return cleaned

    def check_token(self, token):
        if not token:
            # Sent from the form kept for everyone without its script: a person confirms.
            raise forms.ValidationError(CONFIRM_MESSAGE, code=CONFIRM)
        try:
            issued = signing.loads(token, salt=TOKEN_SALT)
        except signing.BadSignature as error:
            raise forms.ValidationError(
                "This form is missing part of what it needs. Please send your comment again."
            ) from error
        if not isinstance(issued, dict) or issued.get("a") != self.article.pk:
            raise forms.ValidationError(
                "This form belongs to another story. Please send your comment again."
            )
        age = time.time() - issued.get("t", 0)
        if age > policy("FORM_MAX_AGE_HOURS") * 3600:
            raise forms.ValidationError(
                "This form was open so long that it expired. Please send your comment again."
            )
        if age < issued.get("m", policy("MIN_SECONDS_TO_TYPE")):
            raise forms.ValidationError(
                "That was faster than anyone can type. Please check your comment and send it again."
            )

    @property
    def only_needs_confirming(self):
        """Whether the one thing wrong is that the reader has not confirmed yet."""
        errors = self.errors.as_data()
        return list(errors) == ["__all__"] and all(
            error.code == CONFIRM for error in errors["__all__"]
        )

    @property
    def replying_to(self):
        """The comment this form answers, when the reader came from a "Reply" link or posted one."""
        if self.is_bound:
            return self.cleaned_data.get("parent") if hasattr(self, "cleaned_data") else None
        return self.initial.get("parent")
