"""The demo's finished live blog: the women's 500 m at Milano Cortina 2026, written from the
demo's results (seed_demo). Idempotent: entries are matched by their time."""

from datetime import datetime
from zoneinfo import ZoneInfo

from .models import Article, LiveEntry

MILAN = ZoneInfo("Europe/Rome")
STORY_SLUG = "kok-wins-olympic-500m-gold"
STARTED = datetime(2026, 2, 15, 15, 55, tzinfo=MILAN)
ENDED = datetime(2026, 2, 15, 17, 15, tzinfo=MILAN)
# (time in Milan, Markdown, key event)
ENTRIES = [
    ((15, 55), "Good afternoon from the Milan oval: the women's 500 m starts at 16:00. Femke "
     "Kok and Jutta Leerdam, first and second in the 1000 m, are the favourites; Erin "
     "Jackson of the United States defends her 2022 title.", False),
    ((16, 14), "Erin Jackson sets the early mark: **37.32**.", False),
    ((16, 22), "Serena Pergher goes faster: **37.30**, and the home crowd is on its feet.", False),
    ((16, 31), "Miho Takagi of Japan takes the lead in **37.27**.", False),
    ((16, 40), "Jutta Leerdam, the 1000 m champion, goes top in **37.15**.", True),
    ((16, 48), "**Olympic record!** Femke Kok stops the clock at **36.49**, 0.66 clear of "
     "Leerdam.", True),
    ((16, 55), "Pergher is pushed off the podium by 0.03 seconds: fourth for Italy, with "
     "Jackson fifth.", False),
    ((17, 5), "It's over: **Kok wins gold**, Leerdam silver, Takagi bronze. Two races, two "
     "Dutch one-twos in the sprints.", True),
]  # fmt: skip


def load_live_blog(author):
    """Add the finished live blog to the 500 m story (which seed_demo loaded before)."""
    story = Article.objects.get(slug=STORY_SLUG)
    if (story.live_started_at, story.live_ended_at) != (STARTED, ENDED):
        story.live_started_at, story.live_ended_at = STARTED, ENDED
        story.save(update_fields=["live_started_at", "live_ended_at"])
    have = set(story.live_entries.values_list("created_at", flat=True))
    for (hour, minute), body, key_event in ENTRIES:
        at = datetime(2026, 2, 15, hour, minute, tzinfo=MILAN)
        if at in have:
            continue
        entry = LiveEntry.objects.create(
            article=story, author=author, body=body, key_event=key_event
        )
        # Written during the race: its real times (auto_now_add would say today).
        LiveEntry.objects.filter(pk=entry.pk).update(created_at=at, updated_at=at)
