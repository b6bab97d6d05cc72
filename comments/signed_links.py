"""Links in emails that act when followed (the moderators' approve and spam links,
comments/email_links.py; commenters' confirm and mute links, comments/reply_emails.py): how a
signed token is read, and how a link that cannot act is refused. Imports no model."""

from django.core import signing


class LinkRefused(Exception):
    """A link from an email that cannot act (here, and the commenters' links in
    comments/reply_emails.py): the HTTP status, the page's heading and what to tell the person
    (the exception's message), and the comment when there is one."""

    def __init__(self, status, heading, message, comment=None):
        self.status, self.heading, self.comment = status, heading, comment
        super().__init__(message)


def signed_payload(token, *, salt, max_age, expired):
    """The dict a link's signed `token` holds, or LinkRefused: 410 with the message `expired`
    once older than `max_age` seconds (None: never), 400 for a changed or cut token, or one
    that holds no dict."""
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkRefused(410, "This link has expired", expired) from None
    except signing.BadSignature:
        raise LinkRefused(
            400,
            "This link is not valid",
            "The link was changed or cut short. Open it again from the email, whole.",
        ) from None
    if not isinstance(payload, dict):
        raise LinkRefused(400, "This link is not valid", "The link does not fit this page.")
    return payload
