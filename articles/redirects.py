"""Old addresses keep working: a request nothing else answers is looked up among the OldLinks
(the permalinks a WordPress site had, see comments.wordpress) and answered with a 301.

Two kinds of old address: WordPress's query-string links on the home page (/?p=ID,
/?page_id=ID, /?cat=ID, /?tag=slug), looked up before the home page is built, and paths
(/2013/01/11/slug/, /slug/, /category/x/), looked up only when the site answers 404, so a
normal page costs no query."""

from django.db import DatabaseError
from django.http import HttpResponsePermanentRedirect
from django.utils.cache import patch_cache_control

from newsroom.caching import frontcache, tag_for

from .models import OldLink

# WordPress's "plain" permalinks: the only query parameters an old link is looked up by.
QUERY_LINKS = ("p", "page_id", "cat", "tag")
# Shared caches may keep a redirect this long: it carries its target's tag, so a change of the
# target's address (a slug changed back: A -> B -> A) purges it. Browsers keep none (max-age=0):
# one kept from before would send a reader round a loop that no purge can reach.
REDIRECT_SECONDS = 3600


def query_link(path, params):
    """The OldLink.path of a query-string link ("/?p=12"), or None when the request is not
    one (another path, no such parameter, or more than that one parameter)."""
    if path != "/" or len(params) != 1:
        return None
    (name,) = params.keys()
    value = params.get(name, "")
    return f"/?{name}={value}" if name in QUERY_LINKS and value else None


def keep_old_address(article, old_path):
    """After a published `article` changed its slug: its earlier address `old_path` ("/stories/
    old-slug/") answers with a 301 to the current one. An OldLink names the story, not an
    address, so every earlier address leads straight to the current one (A -> B -> C: A goes
    to C, no chain); one for the address it has again (A -> B -> A) is dropped. Returns
    whether a redirect was kept (False when the address did not change)."""
    new_path = article.get_absolute_url()
    if old_path == new_path:
        return False
    release_address(article)
    OldLink.objects.update_or_create(
        path=old_path, defaults={"article": article, "section": None, "tag": None}
    )
    return True


def release_address(article):
    """The story's current address is its page again: any OldLink at that address (its own,
    from an earlier slug, or another story's) goes, so it never redirects away from, or to,
    itself. Called whenever a story's slug changes, published or not."""
    OldLink.objects.filter(path=article.get_absolute_url()).delete()


def redirect_for(path):
    """A 301 response to where the old address `path` leads now, or None (also when the
    database cannot be reached: the page then answers as it would have, a 404 or the 503)."""
    try:
        link = OldLink.objects.select_related("article", "section", "tag").filter(path=path).first()
    except DatabaseError:
        return None
    url = link.target_url() if link else None
    if url is None or url == path:
        return None  # (never a 301 to itself: the page there answers, or its 404 stands)
    response = HttpResponsePermanentRedirect(url)
    target = link.article or link.section or link.tag
    frontcache.name_tags(response, [tag_for(target)])
    patch_cache_control(response, public=True, max_age=0, s_maxage=REDIRECT_SECONDS)
    return response


def candidates(path):
    """The spellings of an old path worth looking up: as asked, and with or without its
    trailing slash (WordPress answered both)."""
    yield path
    yield path[:-1] if path.endswith("/") and len(path) > 1 else f"{path}/"


class OldLinkMiddleware:
    """Answers old addresses with a 301 to their new page (see the module's docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in ("GET", "HEAD"):
            key = query_link(request.path, request.GET)
            if key is not None:
                response = redirect_for(key)
                if response is not None:
                    return response
        response = self.get_response(request)
        if response.status_code == 404 and request.method in ("GET", "HEAD"):
            for path in candidates(request.path):
                redirect = redirect_for(path)
                if redirect is not None:
                    return redirect
        return response
