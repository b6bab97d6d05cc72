from django.conf import settings
from django.db import models


class Autosave(models.Model):
    """What an editor last typed into a story's form, stored while they type (the change page's
    script sends it every few seconds): at most one per story and editor, and one per editor for
    a story not saved yet (`article` empty). Never touches the story itself; the editor is
    offered it back when they return, and it is deleted when they save the story."""

    article = models.ForeignKey(
        "articles.Article", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField(default=dict, help_text="Form field name -> text typed.")
    saved_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["article", "user"], name="autosave_one_per_story_and_editor"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(article__isnull=True),
                name="autosave_one_new_story_per_editor",
            ),
        ]

    def __str__(self):
        return f"Autosave of {self.article_id or 'a new story'} by {self.user_id}"
