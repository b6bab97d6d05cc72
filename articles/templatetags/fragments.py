"""{% shared_fragment name part ... [briefly] %}...{% endshared_fragment %}: HTML kept for every
reader until something it shows changes (newsroom.caching.fragment). A part that is a model
instance stands for its tag too: the fragment depends on it even though it was loaded before
the fragment was built (`{% shared_fragment "story" article article.section %}`). Wrap only
public HTML in it: never a form, a token or anything one reader brings. `briefly` keeps it no
longer than a whole page (PAGE_CACHE_SECONDS): for fragments anyone can multiply by varying the
address, such as search results per query."""

from django import template
from django.conf import settings
from django.db import models

from newsroom import caching

register = template.Library()


class SharedFragmentNode(template.Node):
    def __init__(self, parts, nodelist, *, briefly):
        self.parts = parts
        self.nodelist = nodelist
        self.briefly = briefly

    def render(self, context):
        values = [part.resolve(context) for part in self.parts]
        tags = [caching.tag_for(value) for value in values if isinstance(value, models.Model)]
        parts = tuple(
            caching.tag_for(value) if isinstance(value, models.Model) else str(value)
            for value in values
        )
        seconds = settings.PAGE_CACHE_SECONDS if self.briefly else caching.store.FRAGMENT_SECONDS
        return caching.fragment(parts, lambda: self.nodelist.render(context), seconds, tags=tags)


@register.tag
def shared_fragment(parser, token):
    bits = token.split_contents()[1:]
    briefly = bool(bits) and bits[-1] == "briefly"
    if briefly:
        bits = bits[:-1]
    if not bits:
        raise template.TemplateSyntaxError("shared_fragment needs a name.")
    nodelist = parser.parse(("endshared_fragment",))
    parser.delete_first_token()
    return SharedFragmentNode(
        [parser.compile_filter(bit) for bit in bits], nodelist, briefly=briefly
    )
