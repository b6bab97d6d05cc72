from django import template

from comments.models import Comment

register = template.Library()


@register.inclusion_tag("comments/admin/pending_notice.html", takes_context=True)
def pending_comments_notice(context):
    """How many comments wait for a moderator, for those who may moderate."""
    user = context["request"].user
    if not user.has_perm("comments.change_comment"):
        return {"count": None}
    return {"count": Comment.objects.pending().count()}
