"""{% shared_fragment name part ... [briefly] %}...{% endshared_fragment %}: HTML kept for every
reader until the next change to stories, results or comments (newsroom.pagecache.fragment). Wrap
only public HTML in it: never a form, a token or anything one reader brings. `briefly` keeps it
no longer than a whole page (PAGE_CACHE_SECONDS): for fragments anyone can multiply by varying
the address, such as search results per query."""

from django import template
from django.conf import settings

from newsroom import pagecache

register = template.Library()


class SharedFragmentNode(template.Node):
    def __init__(self, parts, nodelist, *, briefly):
        self.parts = parts
        self.nodelist = nodelist
        self.briefly = briefly

    def render(self, context):
        parts = tuple(str(part.resolve(context)) for part in self.parts)
        seconds = settings.PAGE_CACHE_SECONDS if self.briefly else pagecache.FRAGMENT_SECONDS
        return pagecache.fragment(parts, lambda: self.nodelist.render(context), seconds)


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
