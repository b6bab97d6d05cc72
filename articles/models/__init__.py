from .redirects import OldLink
from .results import Athlete, Competition, Event, Nation, Result
from .stories import Article, Section, Tag

__all__ = [
    "Article",
    "Athlete",
    "Competition",
    "Event",
    "Nation",
    "OldLink",
    "Result",
    "Section",
    "Tag",
]
