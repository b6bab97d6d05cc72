"""Uploads kept across a form error: nothing an editor chose is silently dropped.

When an admin form with a file field comes back with an error elsewhere (a hero picture chosen,
its alt text forgotten), the browser cannot re-send the file. So each upload that passed its own
field's checks is stashed in storage under `kept/` (a name with no extension: the media view never
serves it) and the form re-offers it: "Keeping photo.jpg; choose another to replace it", with a
signed token in a hidden input naming the stash. The next send of the form picks the file up
again (unless another is chosen), and a successful save deletes the stash after commit. Stashes
never used are swept once older than settings.KEPT_UPLOAD_MAX_AGE seconds, whenever another
upload is stashed, so no orphan stays in MEDIA_ROOT for long.
"""

import logging
import os
import secrets
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html

logger = logging.getLogger(__name__)

FOLDER = "kept"
KEPT_SUFFIX = "__kept"  # the hidden input beside a file input: "<field>__kept"
SALT = "newsroom.uploads.kept"


@dataclass(frozen=True)
class Kept:
    """A stashed upload: `stored` is its name in storage, `name` the file name the editor chose."""

    stored: str
    name: str
    content_type: str

    def token(self, user_id):
        """A signed token naming this stash, valid for `user_id` only."""
        return signing.dumps(
            {"s": self.stored, "n": self.name, "t": self.content_type, "u": user_id}, salt=SALT
        )


def stash(upload, *, user_id):
    """Store an UploadedFile under kept/ and return its Kept, or None when storage refused it
    (a full disk: logged; the editor then chooses the file again, as before)."""
    sweep()
    try:
        upload.seek(0)
        stored = default_storage.save(
            f"{FOLDER}/{secrets.token_hex(16)}", ContentFile(upload.read())
        )
    except OSError as error:
        logger.error("An upload could not be kept across a form error: %s", error)
        return None
    finally:
        upload.seek(0)
    return Kept(stored, os.path.basename(upload.name or "upload"), upload.content_type or "")


def load(token, *, user_id):
    """The stashed upload a token names, as (Kept, UploadedFile), or None when the token is
    forged, expired, another user's, or its stash is gone."""
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.KEPT_UPLOAD_MAX_AGE)
    except signing.BadSignature:
        return None
    if data.get("u") != user_id or not str(data.get("s", "")).startswith(f"{FOLDER}/"):
        return None
    kept = Kept(data["s"], data["n"], data["t"])
    try:
        with default_storage.open(kept.stored) as file:
            content = file.read()
    except (OSError, ValueError):
        return None
    return kept, SimpleUploadedFile(kept.name, content, kept.content_type or None)


def discard_on_commit(kept):
    """Delete these stashes once the current transaction commits (their files were saved)."""
    names = [k.stored for k in kept]
    if names:
        transaction.on_commit(partial(_delete, names))


def _delete(names):
    for name in names:
        default_storage.delete(name)


def sweep():
    """Delete stashes older than settings.KEPT_UPLOAD_MAX_AGE seconds (forms never sent again)."""
    try:
        _folders, names = default_storage.listdir(FOLDER)
    except (OSError, NotImplementedError):
        return
    oldest = timezone.now() - timezone.timedelta(seconds=settings.KEPT_UPLOAD_MAX_AGE)
    for name in names:
        path = f"{FOLDER}/{name}"
        try:
            if default_storage.get_modified_time(path) < oldest:
                default_storage.delete(path)
        except (OSError, NotImplementedError):
            continue


class KeptUploadWidget:
    """Wraps a file field's widget: renders it, then the note and hidden token of a kept file.
    Everything else (reading the data, ids, labels) is the wrapped widget's."""

    def __init__(self, widget, kept, token):
        self.widget, self.kept, self.token = widget, kept, token

    def __getattr__(self, name):
        return getattr(self.widget, name)

    def __deepcopy__(self, memo):
        return self

    def render(self, name, value, attrs=None, renderer=None):
        note_id = f"{(attrs or {}).get('id') or 'id_' + name}_kept"
        attrs = {**(attrs or {}), "aria-describedby": note_id}
        return format_html(
            '{}<p class="kept-upload" id="{}">Keeping <strong>{}</strong>; choose another '
            'to replace it.</p><input type="hidden" name="{}" value="{}">',
            self.widget.render(name, value, attrs, renderer),
            note_id,
            self.kept.name,
            name + KEPT_SUFFIX,
            self.token,
        )


class KeepsUploadsForm:
    """Form mixin (put it first): files of a form sent with errors are kept and re-offered, and
    a kept file is taken again on the next send. `kept_for_user` (a user id) is set by
    KeepsUploadsAdmin.get_form; `kept_uploads()` are the stashes to discard after saving."""

    kept_for_user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._kept = {}
        for name in self._file_fields():
            # The admin puts a file input with a "clear" box in a fieldset whose legend names
            # it, which labels the group but not the input itself (axe: "label", critical).
            field = self.fields[name]
            field.widget.attrs.setdefault("aria-label", str(field.label or name))
        if not self.is_bound:
            return
        for name in self._file_fields():
            token = self.data.get(self.add_prefix(name) + KEPT_SUFFIX)
            key = self.add_prefix(name)
            if token and not self.files.get(key):
                found = load(token, user_id=self.kept_for_user)
                if found:
                    self.files = self.files.copy()
                    self.files[key] = found[1]
                    self._kept[name] = found

    def _file_fields(self):
        from django import forms

        return [name for name, field in self.fields.items() if isinstance(field, forms.FileField)]

    def full_clean(self):
        super().full_clean()
        if not self.is_bound or not self._errors:
            return
        for name in self._file_fields():
            upload = self.cleaned_data.get(name)
            if name in self._errors or not isinstance(upload, UploadedFile):
                continue  # refused (its error says why) or nothing new chosen
            kept = self._kept.get(name)
            if kept is None or kept[1] is not upload:
                kept = (stash(upload, user_id=self.kept_for_user), upload)
                if kept[0] is None:
                    continue
                self._kept[name] = kept
            field = self.fields[name]
            field.widget = KeptUploadWidget(
                field.widget, kept[0], kept[0].token(self.kept_for_user)
            )

    def kept_uploads(self):
        """The stashes this form's files came from (to discard once they are saved)."""
        return [kept for kept, _upload in self._kept.values()]


class KeepsUploadsAdmin:
    """ModelAdmin mixin: its forms keep uploads across errors (KeepsUploadsForm), and a save
    discards the stashes it used once it commits."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if not any(f.get_internal_type() in {"FileField", "ImageField"} for f in self._files()):
            return form
        return type(form.__name__, (KeepsUploadsForm, form), {"kept_for_user": request.user.pk})

    def _files(self):
        return [f for f in self.model._meta.get_fields() if hasattr(f, "upload_to")]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if isinstance(form, KeepsUploadsForm):
            discard_on_commit(form.kept_uploads())
