from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError

NAV_CACHE_KEY = "nav-sections"


def site(request):
    """Site name and the section navigation; the nav never takes a page down with it."""
    from articles.models import Section

    try:
        sections = cache.get_or_set(NAV_CACHE_KEY, lambda: list(Section.objects.all()), 300)
    except DatabaseError:
        sections = []
    return {"SITE_NAME": settings.SITE_NAME, "nav_sections": sections}
