"""Caching by what each page shows: every public response names its tags, and a change purges
exactly the tags it touches, from the app's store and from the front cache."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Event, Section
from comments import services
from comments.models import Comment
from newsroom.caching import collecting, content_changed, frontcache, tag_for

from .factories import (
    make_article,
    make_athlete,
    make_comment,
    make_competition,
    make_event,
    make_nation,
    make_result,
    make_section,
    make_tag,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def store_on(settings):
    settings.PAGE_CACHE_SECONDS = 600


@pytest.fixture
def purged():
    """The tag sets purged during the test, in order."""
    seen = []

    def record(tags, **kwargs):
        seen.append(set(tags))

    content_changed.connect(record)
    yield seen
    content_changed.disconnect(record)


@pytest.fixture
def site(committed):
    with committed():
        section = make_section(name="Speed skating", slug="speed-skating")
        tag = make_tag(name="Oval", slug="oval")
        competition = make_competition()
        event, other_event = make_event(competition=competition), make_event()
        athlete = make_athlete(name="Jutta Leerdam")
        make_result(event=event, athlete=athlete, rank=1, time_ms=72_310)
        make_result(event=other_event, rank=1, time_ms=36_490)
        story_a = make_article(title="Story A", section=section, tags=[tag], events=[event])
        story_b = make_article(title="Story B", section=section)
    return {
        "section": section,
        "tag": tag,
        "competition": competition,
        "event": event,
        "other_event": other_event,
        "athlete": athlete,
        "a": story_a,
        "b": story_b,
    }


def tags_of(response):
    return set(response["xkey"].split())


def is_kept(url):
    """Served from the store: no query at all."""
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(url).status_code == 200
    return len(queries) == 0


def serves_a_fresh_render(url):
    """Whether the page as served now (kept or not) is what a render with caching off shows."""
    with override_settings(PAGE_CACHE_SECONDS=0):
        fresh = Client().get(url).content
    return Client().get(url).content == fresh


def test_an_article_names_everything_it_shows(site):
    """The story, its section and tags, its events and athletes, its comment threads, the
    navigation and the stories its related stories are chosen from: those filed under its
    section, tags and events, not every story, event, tag or athlete there is."""
    story = site["a"]
    response = Client().get(story.get_absolute_url())
    tags = tags_of(response)
    expected = {
        f"article-{story.pk}",
        f"article-{site['b'].pk}",  # shown among the related stories
        f"section-{site['section'].pk}",
        f"tag-{site['tag'].pk}",
        f"event-{site['event'].pk}",
        f"athlete-{site['athlete'].pk}",
        f"thread-{story.pk}",
        "section-list",
        f"section-{site['section'].pk}-stories",
        f"tag-{site['tag'].pk}-stories",
        f"event-{site['event'].pk}-stories",
    }
    assert expected <= tags
    assert f"event-{site['other_event'].pk}" not in tags
    assert not tags & {"article-list", "article-all", "event-list", "tag-list", "athlete-list"}
    kept = Client().get(story.get_absolute_url())
    assert tags_of(kept) == tags  # a kept copy names the same tags


@pytest.mark.parametrize(
    "url", ["/", "/feed/", "/feed/atom/", "/sitemap.xml", "/results/", "/search/?q=story"]
)
def test_every_public_page_names_its_tags_and_may_be_kept_by_a_shared_cache(site, url):
    response = Client().get(url)
    assert response.status_code == 200
    assert "article-list" in tags_of(response) or "competition-list" in tags_of(response)
    cache_control = response["Cache-Control"]
    assert "public" in cache_control and "s-maxage=" in cache_control
    assert not response.cookies


def test_approving_a_comment_on_one_story_leaves_the_others_kept(site, committed, purged):
    """Only story A's threads are purged: story B, the home page, the medal table and the
    event page stay kept."""
    comment = make_comment(article=site["a"], status=Comment.Status.PENDING, body="Hold on")
    urls = {
        "b": site["b"].get_absolute_url(),
        "home": "/",
        "medals": site["competition"].get_absolute_url(),
        "event": site["event"].get_absolute_url(),
        "a": site["a"].get_absolute_url(),
    }
    for url in urls.values():
        Client().get(url)
    with committed():
        services.approve(Comment.objects.filter(pk=comment.pk), by=make_user())
    assert purged == [{f"thread-{site['a'].pk}"}]
    for name in ("b", "home", "medals", "event"):
        assert is_kept(urls[name]), name
    assert "Hold on" in Client().get(urls["a"]).content.decode()


def test_a_new_pending_comment_purges_nothing(site, committed, purged):
    with committed():
        make_comment(article=site["a"], status=Comment.Status.PENDING)
    assert purged == []


def test_a_result_purges_its_event_stories_medal_table_and_athlete_only(site, committed, purged):
    """A result entered on race day: its event page, the stories covering it, the medal table
    and the athlete's page change; another event's page stays kept."""
    urls = [
        site["event"].get_absolute_url(),
        site["a"].get_absolute_url(),
        site["competition"].get_absolute_url(),
        site["athlete"].get_absolute_url(),
    ]
    other = site["other_event"].get_absolute_url()
    for url in [*urls, other, site["b"].get_absolute_url()]:
        Client().get(url)
    with committed():
        make_result(event=site["event"], rank=2, time_ms=72_590)
    assert f"event-{site['event'].pk}" in set().union(*purged)
    for url in urls:
        assert not is_kept(url), url
    assert "1:12.59" in Client().get(site["event"].get_absolute_url()).content.decode()
    assert is_kept(other)
    assert is_kept(site["b"].get_absolute_url())


def test_a_story_published_in_the_admin_shows_everywhere_at_once(site, committed, admin_client):
    """Created with status Published and saved: home, section, tag, feeds and sitemap show it
    to readers at once (all were kept before)."""
    urls = [
        "/",
        site["section"].get_absolute_url(),
        "/feed/",
        "/feed/atom/",
        reverse("sitemap-section", kwargs={"section": "articles"}),
    ]
    for url in urls:
        assert "Breaking gold" not in Client().get(url).content.decode()
    with committed():
        response = admin_client.post(
            reverse("admin:articles_article_add"),
            {
                "title": "Breaking gold",
                "slug": "breaking-gold",
                "standfirst": "Fresh news.",
                "body": "The body.",
                "section": site["section"].pk,
                "status": "published",
                "published_at_0": "2026-01-01",
                "published_at_1": "12:00:00",
                "author": make_user(is_staff=True).pk,
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    story = Article.objects.get(slug="breaking-gold")
    for url in urls:
        html = Client().get(url).content.decode()
        assert "Breaking gold" in html or story.get_absolute_url() in html, url


def test_editing_a_story_leaves_unrelated_stories_events_and_athletes_kept(site, committed):
    """An editor's fix to story B (same section as A, no shared tag or event) on race day: the
    home page and B's section neighbours change; an unrelated story, the event and the
    athlete pages stay kept, in the app and at the edge."""
    elsewhere = make_section(name="Figure skating")
    with committed():
        unrelated = make_article(title="Unrelated", section=elsewhere)
    urls = {
        "a": site["a"].get_absolute_url(),
        "unrelated": unrelated.get_absolute_url(),
        "event": site["event"].get_absolute_url(),
        "athlete": site["athlete"].get_absolute_url(),
        "home": "/",
    }
    for url in urls.values():
        Client().get(url)
    with committed():
        story = Article.objects.get(pk=site["b"].pk)
        story.title = "Story B, corrected"
        story.save()
    for name in ("unrelated", "event", "athlete"):
        assert is_kept(urls[name]), name
    for name in ("a", "home"):  # A lists B among its related stories
        assert "Story B, corrected" in Client().get(urls[name]).content.decode(), name


def test_a_typo_fix_leaves_the_lists_of_stories_where_it_is_filed(site, committed, purged):
    """A new title shows wherever the story is shown (its own tag); only a change to what
    decides whether, where and in what order it is listed purges the stories filed with it."""
    story = Article.objects.get(pk=site["a"].pk)
    with committed():
        story.title = "Story A, spelled right"
        story.save()
    tags = set().union(*purged)
    assert {f"article-{story.pk}", "article-list"} <= tags
    assert not {tag for tag in tags if tag.endswith("-stories")}
    with committed():
        story.published_at -= timedelta(days=1)
        story.save()
    assert {
        f"section-{site['section'].pk}-stories",
        f"tag-{site['tag'].pk}-stories",
        f"event-{site['event'].pk}-stories",
    } <= purged[-1]


def test_a_story_published_shows_in_the_related_stories_of_its_section_tags_and_events(
    site, committed
):
    """Published in the section of A and B, with A's tag and event: both show it among their
    related stories at once; a story of another section stays kept."""
    elsewhere = make_section(name="Figure skating")
    with committed():
        unrelated = make_article(title="Unrelated", section=elsewhere)
    pages = [site["a"], site["b"], unrelated]
    for story in pages:
        Client().get(story.get_absolute_url())
    with committed():
        make_article(
            title="Fresh from the oval", section=site["section"], tags=[site["tag"]], events=[]
        )
    for story in pages[:2]:
        assert "Fresh from the oval" in Client().get(story.get_absolute_url()).content.decode()
    assert is_kept(unrelated.get_absolute_url())


@pytest.mark.parametrize("kind", ["tag", "event"])
def test_linking_a_story_to_a_tag_or_event_shows_in_the_related_stories_there(
    site, committed, kind
):
    """A story of another section given A's tag (or event) in the admin becomes one of A's
    related stories at once, and leaves them when the link goes (one at a time or all)."""
    elsewhere = make_section(name="Figure skating")
    with committed():
        story = make_article(title="Across the ice", section=elsewhere)
    links = getattr(Article.objects.get(pk=story.pk), f"{kind}s")
    url = site["a"].get_absolute_url()
    assert "Across the ice" not in Client().get(url).content.decode()
    with committed():
        links.add(site[kind])
    assert "Across the ice" in Client().get(url).content.decode()
    with committed():
        links.clear()
    assert "Across the ice" not in Client().get(url).content.decode()
    with committed():
        site[kind].articles.add(story)  # from the other side
    assert "Across the ice" in Client().get(url).content.decode()
    with committed():
        site[kind].articles.remove(story)
    assert "Across the ice" not in Client().get(url).content.decode()


def test_a_story_moved_between_sections_moves_between_their_related_stories(site, committed):
    with committed():
        elsewhere = make_section(name="Figure skating")
        other = make_article(title="Story C", section=elsewhere)
    url = site["a"].get_absolute_url()
    assert "Story B" in Client().get(url).content.decode()
    assert "Story C" not in Client().get(url).content.decode()
    for story, section in ((other, site["section"]), (site["b"], elsewhere)):
        with committed():
            story = Article.objects.get(pk=story.pk)
            story.section = section
            story.save()
        html = Client().get(url).content.decode()
        assert "Story C" in html, story
    assert "Story B" not in html


def test_a_story_deleted_or_unpublished_leaves_the_pages_that_listed_it(site, committed):
    """A covered the event with its tag; B is deleted, then A unpublished: the event page, the
    athlete page and B's neighbours stop listing them."""
    event_url, athlete_url = site["event"].get_absolute_url(), site["athlete"].get_absolute_url()
    with committed():
        other = make_article(title="Story C", section=site["section"], events=[site["event"]])
    for url in (event_url, athlete_url):
        assert "Story A" in Client().get(url).content.decode()
    assert "Story C" in Client().get(site["a"].get_absolute_url()).content.decode()
    with committed():
        Article.objects.filter(pk=other.pk).delete()
    assert "Story C" not in Client().get(site["a"].get_absolute_url()).content.decode()
    with committed():
        story = Article.objects.get(pk=site["a"].pk)
        story.status = Article.Status.DRAFT
        story.save()
    for url in (event_url, athlete_url):
        assert "Story A" not in Client().get(url).content.decode(), url


def test_new_events_athletes_and_tags_leave_story_event_and_athlete_pages_kept(site, committed):
    """A results import creating events and athletes on race day, or a new tag typed into
    another story: no kept story, event or athlete page depends on which others exist."""
    urls = [
        site["a"].get_absolute_url(),
        site["event"].get_absolute_url(),
        site["athlete"].get_absolute_url(),
    ]
    for url in urls:
        Client().get(url)
    with committed():
        event = make_event(competition=site["competition"])
        make_result(event=event, athlete=make_athlete(name="New Skater"), rank=1, time_ms=1)
        make_tag(name="Brand new")
    for url in urls:
        assert is_kept(url), url


def test_a_section_renamed_in_the_admin_shows_in_the_navigation_at_once(site, committed):
    Client().get("/")
    Client().get(site["b"].get_absolute_url())
    with committed():
        section = Section.objects.get(pk=site["section"].pk)
        section.name = "Long track"
        section.save()
    for url in ["/", site["b"].get_absolute_url(), "/results/"]:
        assert ">Long track</a>" in Client().get(url).content.decode(), url


def test_editing_a_draft_purges_no_listing(site, committed, purged):
    with committed():
        draft = make_article(title="Not yet", status=Article.Status.DRAFT)
    Client().get("/")
    with committed():
        draft.body = "Still not yet."
        draft.save()
    assert all("article-list" not in tags for tags in purged)
    assert is_kept("/")  # home was never touched


def test_erasing_a_commenter_from_the_shell_reaches_kept_pages(site, committed):
    """export/erase from the shell purge the threads they change (here in the same process;
    tests/test_default_cache.py checks it across processes)."""
    make_comment(article=site["a"], name="Erin Erasable", email="erin@example.com")
    url = site["a"].get_absolute_url()
    assert "Erin Erasable" in Client().get(url).content.decode()
    with committed():
        call_command("erase_commenter_data", "erin@example.com", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert "Erin Erasable" not in Client().get(url).content.decode()


def test_a_rolled_back_change_purges_nothing(site, purged):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        Section.objects.filter(pk=site["section"].pk).first().save()
        raise RuntimeError("the editor's save failed")
    assert purged == []


# --- The front cache's purge interface ------------------------------------------------------


def test_varnish_purges_by_xkey(recorder):
    address, calls = recorder
    purger = frontcache.from_url(f"varnish://{address}")
    purger.purge({"article-1", "thread-1"})
    assert [(c[0], c[1], c[2]["xkey-purge"]) for c in calls.calls] == [
        ("PURGE", "/", "article-1 thread-1")
    ]
    assert purger.tag_header == "xkey"


def test_fastly_purges_by_surrogate_key(recorder, monkeypatch):
    address, calls = recorder
    monkeypatch.setenv("FASTLY_API_TOKEN", "fastly-secret")
    purger = frontcache.from_url(f"fastly://SERVICE123?api=http://{address}")
    purger.purge({"event-7", "competition-2"})
    method, path, headers, _ = calls.calls[0]
    assert (method, path) == ("POST", "/service/SERVICE123/purge")
    assert headers["surrogate-key"] == "competition-2 event-7"
    assert headers["fastly-key"] == "fastly-secret"
    assert purger.tag_header == "Surrogate-Key"


def test_cloudflare_purges_by_cache_tag_thirty_at_a_time(recorder, monkeypatch):
    address, calls = recorder
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "cf-secret")
    purger = frontcache.from_url(f"cloudflare://ZONE9?api=http://{address}")
    tags = {f"article-{n}" for n in range(45)}
    purger.purge(tags)
    assert [c[1] for c in calls.calls] == ["/client/v4/zones/ZONE9/purge_cache"] * 2
    sent = [json.loads(c[3])["tags"] for c in calls.calls]
    assert [len(batch) for batch in sent] == [30, 15]
    assert set().union(*sent) == tags
    assert calls.calls[0][2]["authorization"] == "Bearer cf-secret"
    assert purger.tag_header == "Cache-Tag"
    assert purger.header_value({"b", "a"}) == "a,b"


def test_a_front_cache_that_is_down_never_breaks_a_change(settings, committed, caplog):
    """Purging an unreachable front cache is logged; the editor's save goes through."""
    from .servers import free_port

    settings.FRONT_CACHE = f"varnish://127.0.0.1:{free_port()}"
    with committed():
        make_section(name="Curling", slug="curling")
    assert Section.objects.filter(slug="curling").exists()
    assert "Front cache purge failed" in caplog.text


def test_an_unknown_front_cache_is_a_clear_error():
    with pytest.raises(ValueError, match="varnish://HOST:PORT"):
        frontcache.from_url("squid://127.0.0.1:3128")


def test_the_front_cache_names_the_tag_header(settings, site):
    settings.FRONT_CACHE = "fastly://SERVICE123"
    response = Client().get(site["a"].get_absolute_url())
    assert f"article-{site['a'].pk}" in response["Surrogate-Key"].split()


def test_a_result_change_reaches_feeds_and_sitemaps_of_covering_stories(site, committed):
    """The covering stories read "Updated" and their feeds' and sitemap's dates move with
    it: all kept copies showing them are purged."""
    from articles.models import Event

    urls = [
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        "/sitemap-articles.xml",
        site["a"].get_absolute_url(),
    ]
    untouched = [
        site["b"].get_absolute_url(),
        site["other_event"].get_absolute_url(),
        site["section"].get_absolute_url(),
        "/",
    ]
    for url in urls + untouched:
        Client().get(url)
    with committed():
        Event.objects.get(pk=site["event"].pk).mark_results_changed()
    for url in urls:
        assert not is_kept(url), url
    for url in untouched:  # race day: results change every few seconds
        assert is_kept(url), url


@pytest.mark.parametrize("sitemap", ["sections", "tags"])
def test_section_and_tag_sitemaps_follow_their_newest_story(site, committed, sitemap):
    """Their lastmod is the newest story's date: publishing one purges them."""
    url = f"/sitemap-{sitemap}.xml"
    Client().get(url)
    assert is_kept(url)
    with committed():
        make_article(title="Newest", section=site["section"], tags=[site["tag"]])
    assert not is_kept(url)


@pytest.mark.parametrize("sitemap", ["competitions", "athletes"])
def test_competition_and_athlete_sitemaps_follow_their_events_results(site, committed, sitemap):
    """Their lastmod is the latest results stamp of their events: new results show at once."""
    url = f"/sitemap-{sitemap}.xml"
    Client().get(url)
    assert is_kept(url)
    with committed():
        event = Event.objects.get(pk=site["event"].pk)
        event.mark_results_changed(at=timezone.now() + timedelta(days=1))
    assert serves_a_fresh_render(url)


def test_a_result_moved_to_another_athlete_and_event_leaves_their_old_pages(site, committed):
    """A correction in the results admin (the wrong skater or race picked): the pages that
    showed the result where it was change too, not only those of where it went."""
    from articles.models import Result

    result = Result.objects.get(event=site["event"], athlete=site["athlete"])
    urls = [site[name].get_absolute_url() for name in ("athlete", "event", "a", "competition")]
    for url in urls:
        Client().get(url)
    with committed():
        result.athlete = make_athlete(name="Someone Else")
        result.event = site["other_event"]
        result.save()
    for url in urls:
        assert serves_a_fresh_render(url), url


def test_a_page_built_while_a_change_commits_is_kept_by_no_cache(site, monkeypatch):
    """A purge between the lookup and the end of building (rows read before the change):
    that reader gets the page, but neither the store nor a front cache keeps it."""
    from newsroom.caching import store

    real_lookup = store.lookup

    def lookup_then_a_change_commits(key):
        found = real_lookup(key)
        store.purge(["section-list"])  # an editor renames a section meanwhile
        return found

    url = site["b"].get_absolute_url()
    monkeypatch.setattr(store, "lookup", lookup_then_a_change_commits)
    response = Client().get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    monkeypatch.undo()
    assert not is_kept(url)


def test_the_redis_cache_adds_many_keys_in_one_go(settings):
    """add_many keeps what is there (SET NX), on a real Redis."""
    from django.core.cache import caches

    from .servers import redis_url

    url = redis_url(13)
    if url is None:
        pytest.skip("needs Redis (REDIS_URL or 127.0.0.1:6379)")
    settings.CACHES = {"default": {"BACKEND": "newsroom.cache.TolerantRedisCache", "LOCATION": url}}
    cache = caches["default"]
    cache.clear()
    cache.add_many({"a": 1, "b": [2]}, None)
    cache.add_many({"a": 5, "c": 3}, None)
    assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": [2], "c": 3}
    cache.clear()


@pytest.fixture
def redis_store(settings):
    """The default cache on a real Redis (database 13), emptied before and after."""
    from django.core.cache import caches

    from .servers import redis_url

    url = redis_url(13)
    if url is None:
        pytest.skip("needs Redis (REDIS_URL or 127.0.0.1:6379)")
    settings.CACHES = {"default": {"BACKEND": "newsroom.cache.TolerantRedisCache", "LOCATION": url}}
    caches["default"].clear()
    yield url
    caches["default"].clear()


CONNECTION_COMMANDS = {"hello", "select", "info", "client|setinfo", "client"}


def redis_calls(url):
    """{command: calls so far} from the Redis server itself, without those of connecting."""
    import redis

    stats = redis.Redis.from_url(url).info("commandstats")
    calls = {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}
    return {name: n for name, n in calls.items() if name not in CONNECTION_COMMANDS}


def test_a_kept_page_is_served_with_one_cache_read(site, redis_store):
    """A page this process kept before is answered from one Redis round trip (the entry and its
    tags' purge numbers in one MGET), and no query."""
    url = site["a"].get_absolute_url()
    assert Client().get(url).status_code == 200  # built and kept
    before = redis_calls(redis_store)
    assert is_kept(url)
    after = redis_calls(redis_store)
    assert {
        name: n - before.get(name, 0) for name, n in after.items() if n != before.get(name, 0)
    } == {"mget": 1}


@pytest.mark.parametrize("hint", ["other tags", "all but one", "none"])
def test_a_process_that_knew_other_tags_never_serves_a_stale_page(
    site, redis_store, committed, hint
):
    """What a process remembers of a page's tags is only a hint: when the page was rebuilt by
    another process with other tags, or the hint is lost, a purge of any of its tags still
    retires it."""
    from newsroom.caching import store

    url = site["a"].get_absolute_url()
    assert Client().get(url).status_code == 200
    athlete_tag = tag_for(site["athlete"])
    for key, tags in store._known_tags.items():  # noqa: SLF001 - the hint under test
        if athlete_tag in tags:
            store._known_tags[key] = {  # noqa: SLF001
                "other tags": ("nothing-it-shows",),
                "all but one": tuple(tag for tag in tags if tag != athlete_tag),
                "none": (),
            }[hint]
    with committed():
        site["athlete"].name = "Jutta Leerdam-Kramer"
        site["athlete"].save()
    assert "Jutta Leerdam-Kramer" in Client().get(url).content.decode()
    assert is_kept(url)


def test_a_personal_page_reads_its_kept_fragments_in_one_round_trip(site, redis_store, committed):
    """A reader with a cookie of their own gets a page built for them, from the kept story,
    threads and form, all read in one Redis round trip (after this process built it once)."""
    from comments import cookies

    reader = Client()
    reader.cookies[cookies.AUTHOR] = "not-a-signed-value"
    url = site["a"].get_absolute_url()
    assert reader.get(url).status_code == 200
    before = redis_calls(redis_store)
    with CaptureQueriesContext(connection) as queries:
        response = reader.get(url)
    after = redis_calls(redis_store)
    assert "private" in response["Cache-Control"]
    assert len(queries) == 1  # the story its address names
    assert {
        name: n - before.get(name, 0) for name, n in after.items() if n != before.get(name, 0)
    } == {"mget": 1}
    with committed():
        site["section"].name = "Long track"
        site["section"].save()
    assert "Long track" in reader.get(url).content.decode()


def test_the_redis_cache_keeps_an_entry_and_its_tags_in_one_go(redis_store):
    """add_many_and_set: the adds keep what is there, the set replaces, a zero timeout keeps
    nothing."""
    from django.core.cache import caches

    cache = caches["default"]
    cache.set("tag-a", 1)
    cache.add_many_and_set({"tag-a": 7, "tag-b": 7}, "entry", "page", 60)
    assert cache.get_many(["tag-a", "tag-b", "entry"]) == {"tag-a": 1, "tag-b": 7, "entry": "page"}
    cache.add_many_and_set({"tag-c": 8}, "entry", "newer", 0)
    assert cache.get_many(["tag-c", "entry"]) == {"tag-c": 8}


def fresh(url):
    """The page as built with nothing kept."""
    with override_settings(PAGE_CACHE_SECONDS=0):
        return Client().get(url).content.decode()


def test_an_athlete_renamed_or_moved_shows_in_results_tables_and_the_medal_table(site, committed):
    """The event's results table, the stories covering it and the medal table show the
    athlete's name and nation: renaming either, or moving the athlete to another nation,
    reaches every kept page, though the event page reads its rows before its fragments."""
    athlete, other_nation = site["athlete"], make_nation(name="Netherlands", code="NED")
    urls = [
        site["event"].get_absolute_url(),
        site["a"].get_absolute_url(),
        site["competition"].get_absolute_url(),
    ]
    for change in ("rename athlete", "rename nation", "move athlete"):
        for url in urls:
            Client().get(url)
        with committed():
            if change == "rename athlete":
                athlete.name = "Jutta Leerdam-Renamed"
            elif change == "rename nation":
                athlete.nation.name = "Renamed Nation"
                athlete.nation.save()
            else:
                athlete.nation = other_nation
            athlete.save()
        for url in urls:
            assert Client().get(url).content.decode() == fresh(url), (change, url)
    assert "Netherlands" in fresh(site["competition"].get_absolute_url())


def test_a_kept_search_finds_an_athlete_renamed_to_match(site, committed):
    """A search kept while nothing matched finds an athlete renamed to match it."""
    url = "/search/?q=leerdan"
    assert "Leerdan" not in Client().get(url).content.decode()
    with committed():
        site["athlete"].name = "Jutta Leerdan"
        site["athlete"].save()
    assert "Jutta Leerdan" in Client().get(url).content.decode()


def test_rows_read_for_one_fragment_and_shown_in_another_tag_the_second(site):
    """A queryset fetched while one fragment was built declares its rows again when another
    fragment shows them."""
    results = site["event"].results.for_table()
    list(results)  # read while building something else
    with collecting() as found:
        for _ in results:
            pass
    assert {f"athlete-{site['athlete'].pk}", f"nation-{site['athlete'].nation_id}"} <= found


def test_a_covering_story_shows_when_its_results_were_updated(site, committed):
    """Race day: new results stamp the stories covering the event ("Updated ..." and their
    structured data's dateModified): every kept part of their pages follows."""
    url = site["a"].get_absolute_url()
    Client().get(url)
    with committed():
        event = Event.objects.get(pk=site["event"].pk)
        event.mark_results_changed(at=timezone.now() + timedelta(minutes=7))
    assert Client().get(url).content.decode() == fresh(url)


def test_a_result_leaves_the_other_events_of_its_competition_and_other_medal_tables_kept(
    site, committed
):
    """Race day at one competition: a result in one event leaves the competition's other
    events, the stories covering only them, their athletes and another competition's medal
    table kept (they show the competition, not its medals)."""
    with committed():
        sibling = make_event(competition=site["competition"])
        rival = make_athlete(name="Femke Kok")
        make_result(event=sibling, athlete=rival, rank=1, time_ms=36_490)
        story = make_article(title="The 500 m", section=site["section"], events=[sibling])
        second = make_athlete(name="Marrit Fledderus")  # not new when the result comes
    untouched = [
        sibling.get_absolute_url(),
        story.get_absolute_url(),
        rival.get_absolute_url(),
        site["other_event"].competition.get_absolute_url(),
    ]
    changed = [site["event"].get_absolute_url(), site["competition"].get_absolute_url()]
    for url in untouched + changed:
        Client().get(url)
    with committed():
        make_result(event=site["event"], athlete=second, rank=2, time_ms=72_590)
    for url in untouched:
        assert is_kept(url), url
    for url in changed:
        assert Client().get(url).content.decode() == fresh(url), url


def test_an_event_moved_to_another_competition_takes_its_medals_along(site, committed):
    urls = [
        site["competition"].get_absolute_url(),
        site["other_event"].competition.get_absolute_url(),
    ]
    for url in urls:
        Client().get(url)
    with committed():
        event = Event.objects.get(pk=site["event"].pk)
        event.competition = site["other_event"].competition
        event.save()
    for url in urls:
        assert Client().get(url).content.decode() == fresh(url), url
