from .autosave import Autosave
from .live import LiveEntry
from .redirects import OldLink
from .results import Athlete, Competition, Event, Nation, Result
from .stories import Article, Section, Tag

__all__ = [
    "Article",
    "Athlete",
    "Autosave",
    "Competition",
    "Event",
    "LiveEntry",
    "Nation",
    "OldLink",
    "Result",
    "Section",
    "Tag",
]
