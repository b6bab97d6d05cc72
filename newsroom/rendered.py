"""Derived HTML stored with the row it is derived from (story and comment bodies)."""

from django.db import models

STORED_FIELDS = ("body_html", "body_rendered_with")


class StoredBodyHTML(models.Model):
    """A model whose `body` text has its HTML stored beside it: rendered when the body is
    saved, with the version of the renderer that made it (a 16-hex-digit
    newsroom.caching.renderer_version). HTML from another version is stale (`body_is_stale`):
    whoever reads it renders it again (`render_body`) and stores that."""

    body_html = models.TextField(blank=True, default="", editable=False)
    body_rendered_with = models.CharField(max_length=16, blank=True, default="", editable=False)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        """Renders the body's HTML when the save writes the body (and whatever else
        `render_stored` renders)."""
        update_fields = kwargs.get("update_fields")
        rendered = self.render_stored(update_fields)
        if update_fields is not None and rendered:
            kwargs["update_fields"] = {*update_fields, *rendered}
        super().save(*args, **kwargs)

    def render_stored(self, update_fields):
        """Render the derived HTML a save writing `update_fields` (None: every field) must
        store; returns the names of the fields rendered. Here: the body's HTML when the body is
        written; a subclass storing more adds its own."""
        if update_fields is None or "body" in update_fields:
            self.render_body()
            return STORED_FIELDS
        return ()

    def body_renderer(self):
        """(render, version): the function from body text to HTML (str -> str) and its
        version. Subclasses say which."""
        raise NotImplementedError

    def render_body(self):
        """Render the body's HTML into `body_html` (not saved)."""
        render, version = self.body_renderer()
        self.body_html, self.body_rendered_with = render(self.body), version

    @property
    def body_is_stale(self):
        """Whether the stored HTML was made by another renderer (or never)."""
        return self.body_rendered_with != self.body_renderer()[1]
