from django.conf import settings
from django.db import DatabaseError

from newsroom import caching

from .models import Section
from .models.stories import RESULTS_PAGES_NAME


def site(request):
    """Site name and the section navigation (kept, with the sections' tags, until a section
    changes); the navigation never takes a page down with it."""
    try:
        sections = caching.remember(("nav-sections",), lambda: list(Section.objects.all()))
    except DatabaseError:
        sections = []
    return {
        "SITE_NAME": settings.SITE_NAME,
        "RESULTS_PAGES_NAME": RESULTS_PAGES_NAME,
        "nav_sections": sections,
    }
