"""Without REDIS_URL (the default settings), every process on the machine shares one cache: a
change made from the shell reaches the pages a running two-worker server keeps at once."""

import pytest

from .servers import environment, fetch, gunicorn, manage

STORY = "/stories/leerdam-wins-olympic-1000m-gold/"
EVENT = "/results/events/demo-winter-invitational-2026-women-1500m/"
READS = 12  # enough requests that both workers answer some


@pytest.fixture(scope="module")
def site(tmp_path_factory, static_root):
    tmp_path = tmp_path_factory.mktemp("defaultcache")
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "NEWSROOM_CACHE_DIR": str(tmp_path / "cache"),
    }
    manage("migrate", "--noinput", "-v0", env=environment(**env))
    manage("seed_demo", "-v0", env=environment(**env))
    with gunicorn(tmp_path, static_root, workers=2, **env) as (base, log):
        yield base, env, tmp_path


def pages(base, path):
    return [fetch(base + path) for _ in range(READS)]


def test_pages_are_kept_in_the_shared_cache(site):
    base, _env, tmp_path = site
    for status, headers, _body in pages(base, STORY):
        assert status == 200
        assert "public" in headers["Cache-Control"]
    assert any((tmp_path / "cache").iterdir())


def test_erasing_a_commenter_from_the_shell_shows_at_once_on_every_worker(site):
    base, env, _tmp_path = site
    assert all("Marieke de Vries" in body for _s, _h, body in pages(base, STORY))
    manage("erase_commenter_data", "marieke@example.com", env=environment(**env))
    assert not any("Marieke de Vries" in body for _s, _h, body in pages(base, STORY))


def test_a_results_import_from_the_shell_shows_at_once_on_every_worker(site):
    base, env, tmp_path = site
    assert not any("1:52.99" in body for _s, _h, body in pages(base, EVENT))
    results = tmp_path / "results.csv"
    results.write_text(
        "rank,athlete,nation,time\n1,Ingrid Solberg (demo),NOR,1:52.99\n"
        "2,Anna Visser (demo),NED,1:54.02\n2,Maya Tremblay (demo),CAN,1:54.02\n"
    )
    manage(
        "import_results",
        "demo-winter-invitational-2026-women-1500m",
        str(results),
        env=environment(**env),
    )
    assert all("1:52.99" in body for _s, _h, body in pages(base, EVENT))
