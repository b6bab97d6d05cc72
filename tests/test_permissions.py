"""Who may do what in the admin: anonymous visitors, editors, moderators and superusers against
every admin page and action. Expectations come from the spec, not from the code under test."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import reverse

from articles.models import Article, OldLink
from comments.models import Comment

from .factories import (
    make_article,
    make_athlete,
    make_author,
    make_ban,
    make_comment,
    make_competition,
    make_event,
    make_library_image,
    make_live_entry,
    make_nation,
    make_section,
    make_tag,
    make_user,
)

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "editor", "moderator", "superuser"]
FACTORIES = {
    "articles.article": make_article,
    "articles.author": make_author,
    "articles.section": make_section,
    "articles.tag": make_tag,
    "articles.competition": make_competition,
    "articles.event": make_event,
    "articles.libraryimage": make_library_image,
    "articles.liveentry": make_live_entry,
    "articles.nation": make_nation,
    "articles.oldlink": lambda: OldLink.objects.create(path="/old/", article=make_article()),
    "articles.athlete": make_athlete,
    "comments.comment": make_comment,
    "comments.ban": make_ban,
}


def spec_allows(role, label, action):
    """The spec's rule for a staff role and one model: may it view / add / change / delete?"""
    app = label.split(".")[0]
    if label == "comments.ban" and action == "delete":
        return False  # a ban is lifted, never deleted: its record stays (nobody deletes one)
    if role == "superuser":
        return True
    if label == "articles.author" and role in ("editor", "moderator"):
        # The names readers see for staff: everyone with a role sees them and adds their own
        # (one each); only their own is theirs to change, nobody else's to delete.
        return action in ("view", "add")
    if role == "editor":
        return app == "articles"  # stories and results; nothing about comments or accounts
    if role == "moderator":
        if label in ("comments.comment", "comments.ban"):
            return True  # moderate comments; ban, see and lift bans
        return label == "articles.article" and action == "view"  # reads stories, edits none
    return False


def registered_labels():
    return sorted(model._meta.label_lower for model in admin.site._registry)


@pytest.fixture
def login(client):
    def as_role(role):
        if role == "editor":
            client.force_login(make_user(groups=["Editors"]))
        elif role == "moderator":
            client.force_login(make_user(groups=["Moderators"]))
        elif role == "superuser":
            client.force_login(make_user(is_superuser=True))
        return client

    return as_role


def admin_url(label, page, *args):
    app, model = label.split(".")
    return reverse(f"admin:{app}_{model}_{page}", args=args)


def test_every_registered_model_is_in_the_matrix():
    """Each model in the admin is covered below; a new one must be added to FACTORIES."""
    staff_models = {label for label in registered_labels() if label.split(".")[0] in {
        "articles", "comments"}}  # fmt: skip
    assert staff_models <= set(FACTORIES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", registered_labels())
def test_changelist_and_add_pages_follow_the_spec(login, role, label):
    """List and add pages: anonymous goes to the login page; staff see exactly what the spec
    gives their role, and get a 403 for the rest."""
    client = login(role)
    model_admin = next(a for m, a in admin.site._registry.items() if m._meta.label_lower == label)
    listing = client.get(admin_url(label, "changelist"))
    adding = client.get(admin_url(label, "add"))
    if role == "anonymous":
        assert listing.status_code == adding.status_code == 302
        assert listing["Location"].startswith("/admin/login/")
        return
    assert listing.status_code == (200 if spec_allows(role, label, "view") else 403)
    request = listing.wsgi_request
    can_add = spec_allows(role, label, "add") and model_admin.has_add_permission(request)
    assert adding.status_code == (200 if can_add else 403)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("label", sorted(FACTORIES))
def test_change_and_delete_follow_the_spec(login, role, label):
    """One object's change, history and delete pages, and a POST of its change form."""
    obj = FACTORIES[label]()
    client = login(role)
    change = client.get(admin_url(label, "change", obj.pk))
    delete = client.get(admin_url(label, "delete", obj.pk))
    history = client.get(admin_url(label, "history", obj.pk))
    if role == "anonymous":
        assert {change.status_code, delete.status_code, history.status_code} == {302}
        return
    viewing = 200 if spec_allows(role, label, "view") else 403
    assert change.status_code == history.status_code == viewing
    assert delete.status_code == (200 if spec_allows(role, label, "delete") else 403)
    if viewing == 200 and not spec_allows(role, label, "change"):
        assert "Save" not in change.content.decode()
        posted = client.post(admin_url(label, "change", obj.pk), {"title": "Changed"})
        assert posted.status_code == 403
        obj.refresh_from_db()
        assert getattr(obj, "title", "") != "Changed"


def action_names(response):
    form = response.context["action_form"]
    return {name for name, _label in form.fields["action"].choices} if form else set()


def test_editors_publish_but_cannot_moderate(login):
    """Editors get the publish actions on stories and no way into comments at all."""
    client = login("editor")
    actions = action_names(client.get(admin_url("articles.article", "changelist")))
    assert {"publish", "unpublish"} <= actions
    comment = make_comment(status=Comment.Status.PENDING)
    response = client.post(
        admin_url("comments.comment", "changelist"),
        {"action": "approve", "_selected_action": [comment.pk]},
    )
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING


def test_moderators_moderate_but_cannot_publish(login):
    """Moderators get approve, reject and mark_spam; the publish actions are not theirs."""
    client = login("moderator")
    assert {"approve", "reject", "mark_spam"} <= action_names(
        client.get(admin_url("comments.comment", "changelist"))
    )
    draft = make_article(status=Article.Status.DRAFT, published_at=None)
    listing = client.get(admin_url("articles.article", "changelist"))
    assert not {"publish", "unpublish"} & action_names(listing)
    client.post(
        admin_url("articles.article", "changelist"),
        {"action": "publish", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT


def test_moderators_ban_from_the_queue_editors_cannot(login, client):
    """The ban actions are offered to moderators; editors see no comment or ban page at all,
    and a ban action posted by hand changes nothing."""
    comment = make_comment(status="pending")
    moderator = login("moderator")
    assert {"ban_emails", "ban_clients"} <= action_names(
        moderator.get(admin_url("comments.comment", "changelist"))
    )
    editor = login("editor")
    response = editor.post(
        admin_url("comments.comment", "changelist"),
        {"action": "ban_emails", "_selected_action": [comment.pk], "reason": "x", "confirm": "1"},
    )
    assert response.status_code == 403
    from comments.models import Ban

    assert not Ban.objects.exists()


def test_moderator_action_changes_the_comment(login):
    """The approve action really works for a moderator (so the 403s above mean something)."""
    client = login("moderator")
    comment = make_comment(status=Comment.Status.PENDING)
    client.post(
        admin_url("comments.comment", "changelist"),
        {"action": "approve", "_selected_action": [comment.pk]},
    )
    comment.refresh_from_db()
    assert comment.status == Comment.Status.APPROVED


def test_moderators_without_the_permission_never_see_an_email(login):
    """A moderator sees masked addresses in the list and on the comment, and cannot find a
    comment by searching for its author's email."""
    comment = make_comment(email="secret.person@example.org", status=Comment.Status.PENDING)
    client = login("moderator")
    pages = [
        client.get(admin_url("comments.comment", "changelist")),
        client.get(admin_url("comments.comment", "change", comment.pk)),
        client.get(admin_url("comments.comment", "changelist"), {"q": "secret.person"}),
        client.get(admin_url("comments.comment", "history", comment.pk)),
    ]
    for page in pages:
        assert page.status_code == 200
        assert "secret.person@example.org" not in page.content.decode()
    assert pages[2].context["cl"].result_count == 0


def test_the_email_permission_reveals_addresses(login):
    """With comments.view_commenter_email a moderator sees the address, as a superuser does."""
    comment = make_comment(email="secret.person@example.org")
    moderator = make_user(groups=["Moderators"])
    moderator.user_permissions.add(Permission.objects.get(codename="view_commenter_email"))
    client = login("anonymous")
    client.force_login(moderator)
    assert (
        "secret.person@example.org"
        in client.get(admin_url("comments.comment", "change", comment.pk)).content.decode()
    )


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 403), ("moderator", 403), ("editor", 200)]
)
def test_only_editors_preview_drafts(login, role, status):
    """The preview of an unpublished story is for editors; others get a 403."""
    draft = make_article(status=Article.Status.DRAFT, published_at=None)
    response = login(role).get(reverse("articles:preview", args=[draft.pk]))
    assert response.status_code == status
    if status == 403:
        assert draft.title not in response.content.decode()


def test_staff_change_their_own_author_profile_and_nobody_elses(login):
    """An editor or moderator may change their own display name; another's is read-only."""
    for role in ("editor", "moderator"):
        client = login(role)
        user = client.get("/admin/").wsgi_request.user
        mine, theirs = make_author(user=user), make_author()
        for author, allowed in ((mine, True), (theirs, False)):
            url = admin_url("articles.author", "change", author.pk)
            response = client.post(url, {"name": "Changed", "slug": author.slug, "bio": ""})
            assert response.status_code == (302 if allowed else 403), role
            author.refresh_from_db()
            assert (author.name == "Changed") is allowed
        assert client.get(admin_url("articles.author", "add")).status_code == 403  # one each


def test_staff_without_a_group_see_nothing(client):
    """A staff account in no group can sign in but opens no model page."""
    client.force_login(make_user(is_staff=True))
    assert client.get("/admin/").status_code == 200
    for label in registered_labels():
        assert client.get(admin_url(label, "changelist")).status_code == 403, label


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("anonymous", False), ("moderator", False), ("editor", True), ("superuser", True)],
)
def test_revisions_autosave_and_presence_are_for_those_who_change_stories(login, role, allowed):
    """Editors list, compare and restore versions, autosave and announce they are editing;
    moderators (who read stories) get none of it, not even the list of versions."""
    from articles import revisions

    article = make_article(body="The first body.")
    revisions.record([article], user=make_user(), comment="First")
    article.body = "Changed."
    article.save()
    revisions.record([article], user=make_user(), comment="Second")
    newer, older = revisions.versions_of(article)
    client = login(role)
    compare = client.get(
        admin_url("articles.article", "compare", article.pk),
        {"older": older.pk, "newer": newer.pk},
    )
    restore = client.post(admin_url("articles.article", "restore", article.pk, older.pk))
    autosave = client.post(admin_url("articles.article", "autosave", article.pk), {"body": "x"})
    presence = client.post(admin_url("articles.article", "presence", article.pk))
    history = client.get(admin_url("articles.article", "history", article.pk))
    if role == "anonymous":
        assert {compare.status_code, restore.status_code, autosave.status_code} == {302}
        return
    expected = [200, 302, 200, 200] if allowed else [403, 403, 403, 403]
    got = [r.status_code for r in (compare, restore, autosave, presence)]
    assert got == expected
    assert ("Compare the chosen versions" in history.content.decode()) is allowed
    article.refresh_from_db()
    assert article.body == ("The first body." if allowed else "Changed.")
