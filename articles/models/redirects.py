from django.db import models


class OldLink(models.Model):
    """An address the site had before it moved here (e.g. a WordPress permalink), answered with
    a 301 to what is there now: a story, a section or a tag (exactly one of them).

    `path` is what a request asks for, decoded, with the leading slash: "/2013/01/11/slug/", or
    for a query-string link the path and its one parameter, "/?p=1241". Looked up only when
    nothing else answers (see articles.redirects)."""

    path = models.CharField(max_length=500, unique=True)
    article = models.ForeignKey(
        "articles.Article", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    section = models.ForeignKey(
        "articles.Section", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    tag = models.ForeignKey(
        "articles.Tag", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(article__isnull=False, section__isnull=True, tag__isnull=True)
                | models.Q(article__isnull=True, section__isnull=False, tag__isnull=True)
                | models.Q(article__isnull=True, section__isnull=True, tag__isnull=False),
                name="oldlink_one_target",
            )
        ]

    def __str__(self):
        return self.path

    def target_url(self):
        """Where the old address leads now, or None: a story that is not published (a draft, a
        scheduled or private one) is never revealed by its old address."""
        if self.article_id:
            return self.article.get_absolute_url() if self.article.is_published else None
        return (self.section or self.tag).get_absolute_url()
