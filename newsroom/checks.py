"""Deployment checks of our own settings, run by `manage.py check --deploy` beside Django's."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def site_url_is_set(app_configs=None, **kwargs):
    """newsroom.W001 when NEWSROOM_SITE_URL is unset with debug off: the links in emails (the
    moderators' approve and spam links, commenters' confirm, mute and reply links) are then
    relative, which no mail client can open."""
    if settings.DEBUG or settings.SITE_URL:
        return []
    return [
        checks.Warning(
            "NEWSROOM_SITE_URL is not set: links in the emails to moderators and commenters "
            "are relative and cannot be opened from a mail client.",
            hint="Set NEWSROOM_SITE_URL to the site's address, e.g. https://news.example.",
            id="newsroom.W001",
        )
    ]
