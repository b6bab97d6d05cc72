from .live import LiveEntry
from .results import Athlete, Competition, Event, Nation, Result
from .stories import Article, Section, Tag

__all__ = [
    "Article",
    "Athlete",
    "Competition",
    "Event",
    "LiveEntry",
    "Nation",
    "Result",
    "Section",
    "Tag",
]
