from .autosave import Autosave
from .corrections import Correction
from .library import LibraryImage
from .live import LiveEntry
from .people import Author, Byline, display_name
from .redirects import OldLink
from .results import Athlete, Competition, Event, Nation, Result
from .stories import Article, Section, Tag

__all__ = [
    "Article",
    "Athlete",
    "Author",
    "Autosave",
    "Byline",
    "Competition",
    "Correction",
    "Event",
    "LibraryImage",
    "LiveEntry",
    "Nation",
    "OldLink",
    "Result",
    "Section",
    "Tag",
    "display_name",
]
