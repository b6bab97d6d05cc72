import os
import secrets
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction

from articles.demo_images import draw_hero
from articles.demo_live import load_live_blog
from articles.images import process_hero_image
from articles.models import Article, Athlete, Competition, Event, Nation, Result, Section, Tag
from articles.times import parse_time
from comments.models import Comment

MILAN = ZoneInfo("Europe/Rome")

NATIONS = {
    "NED": "Netherlands",
    "JPN": "Japan",
    "KAZ": "Kazakhstan",
    "ITA": "Italy",
    "USA": "United States",
    "NOR": "Norway",
    "CAN": "Canada",
}
ATHLETES = {
    "jutta-leerdam": ("Jutta Leerdam", "NED"),
    "femke-kok": ("Femke Kok", "NED"),
    "miho-takagi": ("Miho Takagi", "JPN"),
    "nadezhda-morozova": ("Nadezhda Morozova", "KAZ"),
    "serena-pergher": ("Serena Pergher", "ITA"),
    "erin-jackson": ("Erin Jackson", "USA"),
    # Fictional skaters for the demo invitational: no real person's results are invented.
    "ingrid-demo-solberg": ("Ingrid Solberg (demo)", "NOR"),
    "maya-demo-tremblay": ("Maya Tremblay (demo)", "CAN"),
    "anna-demo-visser": ("Anna Visser (demo)", "NED"),
}
# slug, name, start (Milan time), results: (athlete, rank, time or None, notes)
OLYMPIC_EVENTS = [
    {
        "slug": "milano-cortina-2026-speed-skating-women-1000m",
        "name": "Women's 1000 m",
        "starts_at": datetime(2026, 2, 9, 17, 30, tzinfo=MILAN),
        "record": ("Olympic record", "Miho Takagi", "1:13.19", 2022),
        "results": [
            ("jutta-leerdam", 1, "1:12.31", "OR"),
            ("femke-kok", 2, "1:12.59", "OR"),
            ("miho-takagi", 3, "1:13.95", ""),
            ("nadezhda-morozova", 14, None, ""),
        ],
    },
    {
        "slug": "milano-cortina-2026-speed-skating-women-500m",
        "name": "Women's 500 m",
        "starts_at": datetime(2026, 2, 15, 16, 0, tzinfo=MILAN),
        "record": ("", "", None, None),
        "results": [
            ("femke-kok", 1, "36.49", "OR"),
            ("jutta-leerdam", 2, "37.15", ""),
            ("miho-takagi", 3, "37.27", ""),
            ("serena-pergher", 4, "37.30", ""),
            ("erin-jackson", 5, "37.32", ""),
        ],
    },
]
INVITATIONAL_EVENT = {
    "slug": "demo-winter-invitational-2026-women-1500m",
    "name": "Women's 1500 m",
    "starts_at": datetime(2026, 1, 17, 15, 0, tzinfo=MILAN),
    "record": ("", "", None, None),
    "results": [
        ("ingrid-demo-solberg", 1, "1:53.84", "PB"),
        ("anna-demo-visser", 2, "1:54.02", ""),
        ("maya-demo-tremblay", 2, "1:54.02", ""),
    ],
}

STORIES = [
    {
        "slug": "leerdam-wins-olympic-1000m-gold",
        "title": "Jutta Leerdam wins historic Olympic gold in the 1000 m",
        "standfirst": (
            "Skating in the last pair, Leerdam broke the Olympic record with 1:12.31 to beat "
            "Femke Kok and turn her Beijing silver into gold."
        ),
        "section": "speed-skating",
        "tags": ["milano-cortina-2026", "jutta-leerdam", "femke-kok", "miho-takagi"],
        "published_at": datetime(2026, 2, 9, 19, 5, tzinfo=MILAN),
        "events": ["milano-cortina-2026-speed-skating-women-1000m"],
        "hero": {"sky": (24, 62, 140), "ice": (214, 232, 244), "accent": (240, 120, 0)},
        "hero_alt": "Drawing of a speed skater leaning into a bend of the oval under lights.",
        "hero_caption": "The Milano Speed Skating Stadium oval (illustration).",
        "body": """\
Jutta Leerdam is Olympic champion. Skating in the 15th and final pair of the women's 1000 m at
the Milano Speed Skating Stadium, with Miho Takagi of Japan beside her, the Dutch skater stopped
the clock at **1:12.31**, an Olympic record.

The time she had to beat belonged to her teammate Femke Kok, who moments earlier had skated
1:12.59, itself inside the old Olympic record of 1:13.19 that Takagi set in 2022. Kok's record
lasted a single pair. She takes silver, 0.28 behind.

Takagi, the 2022 champion, finished third for bronze, 1.64 seconds behind Leerdam.
Kazakhstan's Nadezhda Morozova placed 14th.

## From silver to gold

Four years ago in Beijing, Leerdam took silver in this event. In Milan she opened fast and held
her lap times through the final 400 m, where the 1000 m is usually lost.

> "I knew Femke's time was fast. I just had to skate my own race."

The Netherlands now have gold and silver in the event; the full results are below.
""",
    },
    {
        "slug": "kok-wins-olympic-500m-gold",
        "title": "Femke Kok sprints to 500 m gold in an Olympic record",
        "standfirst": (
            "Six days after her 1000 m silver, Kok won the 500 m in 36.49, with Leerdam second "
            "and Takagi third."
        ),
        "section": "speed-skating",
        "tags": ["milano-cortina-2026", "femke-kok", "jutta-leerdam", "miho-takagi"],
        "published_at": datetime(2026, 2, 15, 17, 40, tzinfo=MILAN),
        "events": ["milano-cortina-2026-speed-skating-women-500m"],
        "hero": {"sky": (90, 20, 60), "ice": (226, 236, 242), "accent": (0, 150, 200)},
        "hero_alt": "Drawing of a sprinter in a low crouch on a white speed skating oval.",
        "hero_caption": "A sprinter on the Milan oval (illustration).",
        "body": """\
Femke Kok is the Olympic 500 m champion. The Dutch sprinter won in **36.49**, an Olympic record,
to add gold to the silver she took in the 1000 m.

Jutta Leerdam, the 1000 m champion, was second, 0.66 behind. Miho Takagi of Japan took bronze in
37.27. Italy's Serena Pergher finished fourth to the delight of the home crowd, just 0.03 seconds
off the podium, and the 2022 champion Erin Jackson of the United States was fifth, 0.83 behind
Kok.

With two golds and two silvers from two races, the Dutch women leave the sprint distances of
these Games with four medals.
""",
    },
    {
        "slug": "what-the-dutch-double-means",
        "title": "Analysis: what the Dutch sprint double means for the next four years",
        "standfirst": (
            "Two races, two golds, two silvers: how a pair of teammates pushed each other to "
            "Olympic records."
        ),
        "section": "analysis",
        "tags": ["milano-cortina-2026", "jutta-leerdam", "femke-kok"],
        "published_at": datetime(2026, 2, 16, 9, 0, tzinfo=MILAN),
        "events": [
            "milano-cortina-2026-speed-skating-women-1000m",
            "milano-cortina-2026-speed-skating-women-500m",
        ],
        "hero": {"sky": (30, 90, 70), "ice": (230, 240, 236), "accent": (250, 190, 0)},
        "hero_alt": "Drawing of two skaters side by side on an oval track.",
        "hero_caption": "Teammates and rivals (illustration).",
        "body": """\
In the 1000 m, Femke Kok broke the Olympic record and still finished second, because Jutta
Leerdam broke it again one pair later. In the 500 m the order was reversed.

Rivalry inside one team is not new in Dutch skating, but rarely has it produced records on this
scale. Both skaters trained in different teams during the season, and both arrived in Milan in
form.

The next test comes at the World Championships, where the allround and sprint titles are at
stake.
""",
    },
    {
        "slug": "demo-invitational-solberg-wins-1500m",
        "title": "Solberg edges a tight 1500 m at the demo invitational",
        "standfirst": (
            "A demo story: two skaters tie for second, so there is no bronze and the medal "
            "table shows two silvers."
        ),
        "section": "results",
        "tags": ["demo"],
        "published_at": datetime(2026, 1, 17, 18, 0, tzinfo=MILAN),
        "events": ["demo-winter-invitational-2026-women-1500m"],
        "hero": {"sky": (60, 60, 80), "ice": (236, 238, 242), "accent": (200, 30, 60)},
        "hero_alt": "Drawing of a skater crossing the finish line of an indoor oval.",
        "hero_caption": "Finish line (illustration).",
        "body": """\
This story and its event are fictional demo content, written to show how Newsroom handles a tie.

Ingrid Solberg won the women's 1500 m in 1:53.84, a personal best. Anna Visser and Maya Tremblay
both stopped the clock at 1:54.02 and share second place.
""",
    },
]
SECTIONS = [
    ("speed-skating", "Speed skating", "Long track, short track and the oval's biggest nights."),
    # Named apart from the "Results & medals" pages (the slug, and so the URL, stays).
    ("results", "Race reports", "Race reports from every competition we cover."),
    ("analysis", "Analysis", "What the results mean."),
]
TAGS = {
    "milano-cortina-2026": "Milano Cortina 2026",
    "jutta-leerdam": "Jutta Leerdam",
    "femke-kok": "Femke Kok",
    "miho-takagi": "Miho Takagi",
    "demo": "Demo",
}
COMMENTS = [
    # story slug, name, email, website, body, status
    (
        "leerdam-wins-olympic-1000m-gold",
        "Marieke de Vries",
        "marieke@example.com",
        "",
        "What a race! Watching the last pair was nerve-racking.\nWorth staying up for.",
        Comment.Status.APPROVED,
    ),
    (
        "leerdam-wins-olympic-1000m-gold",
        "Kenji",
        "kenji@example.net",
        "https://example.net/skating",
        "Takagi was brilliant again. A bronze behind two Olympic records is no disgrace.",
        Comment.Status.APPROVED,
    ),
    (
        "leerdam-wins-olympic-1000m-gold",
        "Sam Reader",
        "sam.reader@example.org",
        "",
        "Does anyone know the 200 m split of the final pair?",
        Comment.Status.PENDING,
    ),
    (
        "kok-wins-olympic-500m-gold",
        "Lotte",
        "lotte@example.com",
        "",
        "36.49 at sea level. Incredible. <3",
        Comment.Status.APPROVED,
    ),
    (
        "kok-wins-olympic-500m-gold",
        "Giulia",
        "giulia@example.it",
        "",
        "So close for Serena! Three hundredths...",
        Comment.Status.PENDING,
    ),
]


class Command(BaseCommand):
    help = "Load the demo content (stories, results, comments). Safe to run again."

    def handle(self, *args, **options):
        with transaction.atomic():
            desk = self.newsdesk_user()
            sections = {
                slug: Section.objects.update_or_create(
                    slug=slug, defaults={"name": name, "description": description, "position": i}
                )[0]
                for i, (slug, name, description) in enumerate(SECTIONS)
            }
            tags = {
                slug: Tag.objects.update_or_create(slug=slug, defaults={"name": name})[0]
                for slug, name in TAGS.items()
            }
            self.load_results()
            for story in STORIES:
                self.load_story(story, desk, sections, tags)
            load_live_blog(desk)
            self.load_comments()
        if settings.DEBUG:
            self.demo_accounts()
        else:
            self.stdout.write("DEBUG is off, so no demo accounts were created.")
        self.stdout.write(self.style.SUCCESS("Demo content is loaded."))

    def newsdesk_user(self):
        user, created = get_user_model().objects.get_or_create(
            username="newsdesk", defaults={"first_name": "Newsroom", "last_name": "staff"}
        )
        if created:
            user.set_unusable_password()
            user.save()
        return user

    def load_results(self):
        nations = {
            code: Nation.objects.update_or_create(code=code, defaults={"name": name})[0]
            for code, name in NATIONS.items()
        }
        athletes = {
            slug: Athlete.objects.update_or_create(
                slug=slug, defaults={"name": name, "nation": nations[code]}
            )[0]
            for slug, (name, code) in ATHLETES.items()
        }
        olympics, _ = Competition.objects.update_or_create(
            slug="milano-cortina-2026",
            defaults={
                "name": "Milano Cortina 2026 Winter Olympics",
                "place": "Milan and Cortina d'Ampezzo, Italy",
                "starts_on": date(2026, 2, 6),
                "ends_on": date(2026, 2, 22),
            },
        )
        invitational, _ = Competition.objects.update_or_create(
            slug="demo-winter-invitational-2026",
            defaults={
                "name": "Demo Winter Invitational 2026",
                "place": "A fictional oval",
                "starts_on": date(2026, 1, 16),
                "ends_on": date(2026, 1, 18),
            },
        )
        for competition, venue, events in [
            (olympics, "Milano Speed Skating Stadium", OLYMPIC_EVENTS),
            (invitational, "Demo Oval", [INVITATIONAL_EVENT]),
        ]:
            for spec in events:
                label, holder, record_time, year = spec["record"]
                event, _ = Event.objects.update_or_create(
                    slug=spec["slug"],
                    defaults={
                        "competition": competition,
                        "sport": "Speed skating",
                        "name": spec["name"],
                        "starts_at": spec["starts_at"],
                        "venue": venue,
                        "status": Event.Status.FINAL,
                        "results_official": True,
                        "record_label": label,
                        "record_holder": holder,
                        "record_time_ms": parse_time(record_time) if record_time else None,
                        "record_year": year,
                    },
                )
                for athlete_slug, rank, time, notes in spec["results"]:
                    Result.objects.update_or_create(
                        event=event,
                        athlete=athletes[athlete_slug],
                        defaults={
                            "rank": rank,
                            "time_ms": parse_time(time) if time else None,
                            "status": Result.Status.FINISHED,
                            "notes": notes,
                        },
                    )

    def load_story(self, story, desk, sections, tags):
        fields = {
            "title": story["title"],
            "standfirst": story["standfirst"],
            "body": story["body"],
            "section": sections[story["section"]],
            "status": Article.Status.PUBLISHED,
            "published_at": story["published_at"],
            "hero_alt": story["hero_alt"],
            "hero_caption": story["hero_caption"],
            "hero_credit": "Illustration: Newsroom",
        }
        article, _ = Article.objects.update_or_create(
            slug=story["slug"], defaults=fields, create_defaults={**fields, "author": desk}
        )
        article.tags.set([tags[slug] for slug in story["tags"]])
        article.events.set(Event.objects.filter(slug__in=story["events"]))
        if not article.hero_renditions:
            seed = STORIES.index(story)
            article.hero_image = ContentFile(
                draw_hero(seed=seed, **story["hero"]), name=f"{story['slug']}.jpg"
            )
            article.hero_renditions = process_hero_image(article)
            article.save()

    def load_comments(self):
        for slug, name, email, website, body, status in COMMENTS:
            Comment.objects.get_or_create(
                article=Article.objects.get(slug=slug),
                email=email,
                body=body,
                defaults={
                    "name": name,
                    "website": website,
                    "status": status,
                    "status_reason": "demo content",
                },
            )

    def demo_accounts(self):
        # The names readers see on bylines and staff replies (never the login name).
        accounts = [
            ("editor", "Editors", "Sanne", "Visser"),
            ("moderator", "Moderators", "Mo", "Jansen"),
        ]
        passwords = demo_passwords([username for username, *_ in accounts])
        for username, group_name, first_name, last_name in accounts:
            user, _ = get_user_model().objects.get_or_create(
                username=username,
                defaults={"is_staff": True, "first_name": first_name, "last_name": last_name},
            )
            password = passwords[username]
            user.is_staff = True
            if not user.check_password(password):
                user.set_password(password)
            user.save()
            user.groups.set([Group.objects.get(name=group_name)])
            self.stdout.write(f"Demo account {username} / {password} ({group_name})")
        self.stdout.write(f"The demo passwords are kept in {settings.DEMO_PASSWORDS_FILE}.")


def demo_passwords(usernames):
    """{username: password} of the demo accounts, the same on every run of this checkout: read
    from settings.DEMO_PASSWORDS_FILE (lines "username password"), a new random one made and
    written there (readable by its owner only) for a username it lacks."""
    path = Path(settings.DEMO_PASSWORDS_FILE)
    passwords = {}
    if path.exists():
        for line in path.read_text().splitlines():
            username, _, password = line.strip().partition(" ")
            if password and not username.startswith("#"):
                passwords[username] = password
    missing = [username for username in usernames if username not in passwords]
    if missing:
        passwords |= {username: secrets.token_urlsafe(12) for username in missing}
        lines = ["# Demo accounts for /admin/ (made by seed_demo; delete this file for new ones)"]
        lines += [f"{username} {password}" for username, password in passwords.items()]
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write("\n".join(lines) + "\n")
    return passwords
