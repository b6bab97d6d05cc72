"""Who may see a commenter's email address, and what everyone else sees instead."""

EMAIL_PERMISSION = "comments.view_commenter_email"
DOTS = "•••"


def can_see_email(user):
    return user.has_perm(EMAIL_PERMISSION)


def mask_email(email):
    """jane@example.com -> j•••@e•••.com: enough to tell addresses apart, not to write to one."""
    if not email:
        return ""
    local, _, domain = email.rpartition("@")
    host, dot, tld = domain.rpartition(".")
    if not host:
        host, tld = domain, ""
    return f"{local[:1]}{DOTS}@{host[:1]}{DOTS}{dot}{tld}"
