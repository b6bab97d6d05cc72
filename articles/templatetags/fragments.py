"""{% shared_fragment name part ... %}...{% endshared_fragment %}: HTML kept for every reader until
the next change to stories, results or comments (newsroom.pagecache.fragment). Wrap only public
HTML in it: never a form, a token or anything one reader brings."""

from django import template

from newsroom import pagecache

register = template.Library()


class SharedFragmentNode(template.Node):
    def __init__(self, parts, nodelist):
        self.parts = parts
        self.nodelist = nodelist

    def render(self, context):
        parts = tuple(str(part.resolve(context)) for part in self.parts)
        return pagecache.fragment(parts, lambda: self.nodelist.render(context))


@register.tag
def shared_fragment(parser, token):
    bits = token.split_contents()[1:]
    if not bits:
        raise template.TemplateSyntaxError("shared_fragment needs a name.")
    nodelist = parser.parse(("endshared_fragment",))
    parser.delete_first_token()
    return SharedFragmentNode([parser.compile_filter(bit) for bit in bits], nodelist)
