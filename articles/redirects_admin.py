"""The admin of old links (OldLink): editors list and search the site's old addresses, add a
301 by hand (say, for a story whose address changed) and delete one.

An old link is only looked up when nothing else answers (articles/redirects.py), so the form
refuses a path the site itself answers (it would never be used), as well as a full URL instead
of a path, a query string other than WordPress's plain permalinks on "/", and anything but
exactly one target (a story, a section or a tag)."""

from urllib.parse import unquote, urlsplit

from django import forms
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, QueryDict
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils.html import format_html

from newsroom.admin_base import EditorModelAdmin

from .models import OldLink
from .redirects import QUERY_LINKS, candidates, query_link


def site_answers(path, host):
    """Whether the site answers GET `path` (a decoded path, no query) itself, with anything
    but a 404, for an anonymous reader on `host`: then an old link there is never used. The
    view that would answer is run, as a reader's request would run it."""
    try:
        match = resolve(path)
    except Resolver404:
        return False
    request = RequestFactory().get(path, HTTP_HOST=host)
    request.user = AnonymousUser()
    try:
        response = match.func(request, *match.args, **match.kwargs)
    except Http404:
        return False
    except Exception:  # noqa: BLE001 - something lives there, even if it fails out of context
        return True
    return response.status_code != 404


class OldLinkForm(forms.ModelForm):
    host = "localhost"  # the editor's own host, set by OldLinkAdmin.get_form

    class Meta:
        model = OldLink
        fields = ["path", "article", "section", "tag"]
        help_texts = {
            "path": "The old address without the site’s name, starting with “/”: "
            "“/2013/01/11/slug/”, “/old-name/”, or “/?p=1241”.",
        }

    def clean_path(self):
        value = self.cleaned_data["path"].strip()
        parts = urlsplit(value)
        if parts.scheme or parts.netloc or value.startswith("//"):
            raise forms.ValidationError(
                "Enter only the path, starting with “/”, without the site’s name: “%(path)s”.",
                params={"path": parts.path or "/"},
            )
        if not value.startswith("/"):
            raise forms.ValidationError("The path must start with “/”.")
        path = unquote(parts.path)
        if parts.query:
            key = query_link(path, QueryDict(parts.query))
            if key is None:
                raise forms.ValidationError(
                    "Of query strings only WordPress’s plain links on the home page work: "
                    + ", ".join(f"“/?{name}=…”" for name in QUERY_LINKS)
                    + "."
                )
            return unquote(key)
        for spelling in candidates(path):
            if site_answers(spelling, self.host):
                raise forms.ValidationError(
                    "The site answers “%(path)s” itself, so this old link would never be used.",
                    params={"path": spelling},
                )
        return path

    def clean(self):
        cleaned = super().clean()
        targets = [name for name in ("article", "section", "tag") if cleaned.get(name)]
        if len(targets) != 1:
            raise forms.ValidationError(
                "Choose exactly one place it leads to: a story, a section or a tag."
            )
        return cleaned


@admin.register(OldLink)
class OldLinkAdmin(EditorModelAdmin):
    form = OldLinkForm
    list_display = ["path", "leads_to", "created_at"]
    list_select_related = ["article", "section", "tag"]
    search_fields = ["path", "article__title", "section__name", "tag__name"]
    raw_id_fields = ["article", "tag"]
    ordering = ["path"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.host = request.get_host()
        return form

    @admin.display(description="Leads to")
    def leads_to(self, link):
        target = link.article or link.section or link.tag
        kind = "Story" if link.article_id else "Section" if link.section_id else "Tag"
        return format_html("{}: {}", kind, target)
