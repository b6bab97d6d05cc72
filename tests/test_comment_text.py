"""What a reader (or a moderator) may type in a comment's text fields: something visible, no
characters that hide or disguise text (comments/text.py), wherever it is typed."""

import contextlib
import itertools
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from comments import text
from comments.models import Comment

from .factories import comment_form_data, make_article, make_comment, make_user

pytestmark = pytest.mark.django_db

_addresses = itertools.count(1)


def post(client, article, **fields):
    address = f"198.51.100.{next(_addresses) % 250 + 1}"
    return client.post(
        reverse("comments:post", kwargs={"slug": article.slug}),
        comment_form_data(article, **fields),
        REMOTE_ADDR=address,
    )


INVISIBLE_ONLY = [
    "\u200b\u200b",  # zero-width spaces (the example)
    "\u200c",  # zero-width non-joiner
    "\u200d\u200d",  # zero-width joiners
    "\u2060",  # word joiner
    "\ufeff",  # byte order mark
    "\u200e\u200f",  # direction marks
    "\u202e",  # right-to-left override
    "\u2066\u2069",  # isolates
    "\u0301\u0301",  # combining acute accents with nothing to sit on
    "\u20dd",  # combining enclosing circle (Me)
    "\u00a0\u3000",  # no-break and ideographic spaces
    "\u2028",  # line separator
    "\u3164",  # Hangul filler (a letter drawn as nothing)
    "\uffa0",  # halfwidth Hangul filler
    "\u115f\u1160",  # Hangul choseong/jungseong fillers
    "\u2800",  # braille blank
    "\u00ad",  # soft hyphen
    "\u034f",  # combining grapheme joiner
    "\ufe0f",  # variation selector
    "\U000e0041\U000e0042",  # tag characters
    "\u180e",  # Mongolian vowel separator
    " \u200b \u200b ",
]


@pytest.mark.parametrize("value", INVISIBLE_ONLY)
def test_a_name_with_nothing_visible_is_refused(client, value):
    """A name of invisible characters says so by the field; the typed comment is kept."""
    article = make_article()
    response = post(client, article, name=value, body="Kept words <b>here</b>")
    assert response.status_code == 400
    html = response.content.decode()
    # (Only spaces: the field is empty, and says so.)
    assert "Please enter a name with visible letters." in html or "Enter your name." in html
    assert "Kept words &lt;b&gt;here&lt;/b&gt;</textarea>" in html
    assert not Comment.objects.exists()


@pytest.mark.parametrize("value", INVISIBLE_ONLY)
def test_a_comment_with_nothing_visible_is_refused(client, value):
    article = make_article()
    response = post(client, article, body=value * 2, name="Kept Name")
    assert response.status_code == 400
    html = response.content.decode()
    assert (
        "Please write a comment with visible letters." in html
        or "Write your comment." in html
        or "contains invisible control characters" in html
    )
    assert 'value="Kept Name"' in html
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "value",
    ["\u200b\u200b", "\u2060\ufeff", "\u0301\u0301", "\u3164\u3164", "\u2800\u2800"],
)
def test_an_invisible_comment_gets_the_visible_letters_message(client, value):
    response = post(client, make_article(), body=value)
    assert "Please write a comment with visible letters." in response.content.decode()


@pytest.mark.parametrize(
    "value",
    [
        "Ev\u202eil",  # right-to-left override: "Evli" shown as another name
        "Ann\u2067a\u2069",  # isolates
        "Bo\u200bb",  # a zero-width space inside: two names that look alike
        "Bob\u200f",  # right-to-left mark
        "Bob\u2060",  # word joiner
        "Ann\ufeffa",
        "Line\nbreak",
        "Tab\there",
        "Bell\x07",
        "C1\x85control",
        "Del\x7f",
        "Non\ufdd0character",
        "Non\uffffcharacter",
        "Plane\U0001fffe",
        "Hangul\u3164filler",
        "Soft\u00adhyphen",
        "Lines\u2028apart",
    ],
)
def test_a_name_with_disallowed_characters_is_refused(client, value):
    article = make_article()
    response = post(client, article, name=value, body="My words")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Your name contains invisible control characters" in html
    assert "My words</textarea>" in html
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "value",
    [
        "Over\u202eride",
        "Embed\u202aded",
        "Iso\u2066late\u2069",
        "Null-ish\x01",
        "Escape\x1b[31m",
        "C1\x9b",
        "Vertical\x0btab",
        "Non\ufdefcharacter",
        "Non\ufffecharacter",
    ],
)
def test_a_comment_with_disallowed_characters_is_refused(client, value):
    article = make_article()
    response = post(client, article, body=value, name="Kept Name")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Your comment contains invisible control characters" in html
    assert 'value="Kept Name"' in html


ZALGO = "Z" + "\u0301\u0334\u0357" * 1000 + " zalgo"


@pytest.mark.parametrize("field", ["body", "name"])
def test_accents_stacked_over_the_page_are_refused(client, field):
    """Thousands of combining marks on one letter draw over the lines around it (and, once
    approved, over every reader's page): refused, what was typed kept."""
    value = ZALGO if field == "body" else ZALGO[:60]
    response = post(client, make_article(), **{field: value})
    assert response.status_code == 400
    assert "Too many accents are stacked on one letter" in response.content.decode()
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        "Nguye\u0302\u0303n Thi\u0323 Ánh",  # Vietnamese, typed decomposed
        "\u0f56\u0f66\u0f92\u0fb2\u0f74\u0f56\u0f66",  # Tibetan stacks
        "\u0915\u094d\u0937\u093f",  # Devanagari
        "a\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307",  # eight marks: still taken
    ],
)
def test_real_writing_with_marks_is_taken(client, body):
    assert post(client, make_article(), body=body).status_code == 303


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Zoe\u0308", "Zoë"),  # decomposed: stored composed (NFC)
        ("  Ada   Lovelace  ", "Ada Lovelace"),
        ("Ada\u00a0Lovelace", "Ada Lovelace"),
        ("محمد", "محمد"),  # right-to-left letters need no controls
        ("\u0915\u094d\u200d\u0937", "\u0915\u094d\u200d\u0937"),  # a joiner some scripts need
        ("نیما\u200cجان", "نیما\u200cجان"),  # Persian keeps its non-joiner
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # an emoji family
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("李小龍", "李小龍"),
        ("!!!", "!!!"),
    ],
)
def test_names_with_visible_letters_are_taken_and_stored_normalised(client, name, stored):
    response = post(client, make_article(), name=name)
    assert response.status_code == 303, response.content.decode()[:2000]
    assert Comment.objects.get().name == stored
    assert unicodedata.is_normalized("NFC", Comment.objects.get().name)


@pytest.mark.parametrize(
    "body",
    [
        "Two\tcolumns\nand lines",
        "Hebrew \u200fשלום\u200f with marks",  # direction marks help a body read right
        "Café ☕ — “quoted”",
        "e\u0301 accent",
        "\u200bStarts invisibly but has words",
    ],
)
def test_bodies_with_visible_text_are_kept_as_typed(client, body):
    response = post(client, make_article(), body=body)
    assert response.status_code == 303
    assert Comment.objects.get().body == body.strip()


@pytest.mark.parametrize(
    "website",
    [
        "https://exa\u200bmple.com",
        "https://example.com/\u202e",
        "\u200b\u200b",
        "https://example.com/\x00",
        "https://ex\u00adample.com",
    ],
)
def test_a_website_with_invisible_characters_is_refused(client, website):
    response = post(client, make_article(), website=website, body="Kept body")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Remove the invisible or control characters from the web address." in html
    assert "Kept body</textarea>" in html
    assert not Comment.objects.exists()


# --- The rule itself, for any input -------------------------------------------------------

invisible_chars = st.sampled_from(sorted(set("".join(INVISIBLE_ONLY)) | set(" \t\n\u2003")))


@given(st.text(alphabet=invisible_chars, min_size=1, max_size=12))
def test_any_name_of_invisible_characters_is_refused(value):
    with pytest.raises(ValidationError):
        text.check_name(value)


@given(st.text(alphabet=invisible_chars, max_size=12))
def test_any_body_of_invisible_characters_is_refused_or_empty(value):
    with contextlib.suppress(ValidationError):
        assert text.check_body(value) == ""


@given(st.text(max_size=40))
def test_any_accepted_name_is_visible_normalised_and_clean(value):
    """Whatever is typed, an accepted name shows something, is NFC, has no forbidden
    character and no surrounding space; check_name never fails in any other way."""
    try:
        name = text.check_name(value)
    except ValidationError as error:
        assert error.code in ("invisible", "forbidden", "stacked")
        return
    assert text.has_visible(name)
    assert unicodedata.is_normalized("NFC", name)
    assert not text.NAME_FORBIDDEN.search(name)
    assert name == name.strip()
    assert text.check_name(name) == name  # idempotent


@given(st.text(max_size=40))
def test_any_accepted_body_is_visible_and_clean(value):
    try:
        body = text.check_body(value)
    except ValidationError as error:
        assert error.code in ("invisible", "forbidden", "stacked")
        return
    assert body == "" or text.has_visible(body)
    assert not text.BODY_FORBIDDEN.search(body)


@given(st.text(max_size=30))
def test_an_imported_name_is_always_visible(value):
    name = text.imported_name(value)
    assert text.check_name(name) == name


# --- Other ways in: the admin, the importer -------------------------------------------------


@pytest.fixture
def moderator(client):
    user = make_user(groups=["Moderators"])
    client.force_login(user)
    return user


def admin_form(comment, **fields):
    return {
        "name": comment.name,
        "website": "",
        "body": comment.body,
        "status": comment.status,
        "seen": comment.moderation_stamp,
        "reply": "",
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reply": "\u200b\u200b\u200b"}, "Please write a reply with visible letters."),
        ({"reply": "Thanks\u202e for that"}, "Your reply contains invisible control characters"),
        ({"name": "\u200b\u200b"}, "Please enter a name with visible letters."),
        ({"body": "\u2060\u2060\u2060"}, "Please write a comment with visible letters."),
        ({"website": "https://a\u200b.example"}, "Remove the invisible or control characters"),
    ],
)
def test_the_admin_applies_the_same_rule(client, moderator, fields, message):
    comment = make_comment(status="approved", body="Original words")
    url = reverse("admin:comments_comment_change", args=[comment.pk])
    response = client.post(url, admin_form(comment, **fields))
    assert response.status_code == 200
    assert message in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "Original words"
    assert Comment.objects.count() == 1


def test_the_importer_never_stores_an_invisible_name(tmp_path, committed):
    from .test_wordpress_import import comment, export, post, run_import

    path = export(
        tmp_path,
        post(1, "Story", extra=comment(31, author="\u200b\u200b")
             + comment(32, author="Ev\u202eil Twin") + comment(33, author="Zoe\u0308")),
    )  # fmt: skip
    with committed():
        run_import(path)
    names = dict(Comment.objects.values_list("wordpress_id", "name"))
    assert names == {31: "Anonymous", 32: "Evil Twin", 33: "Zoë"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("\u200b\u200b", "Please write a reply with visible letters."),
        ("Hi\u202e there", "Your reply contains invisible control characters"),
        ("  \n ", "Write your reply."),
    ],
)
def test_a_staff_reply_from_any_caller_follows_the_rule(body, message):
    """moderating.staff_reply itself refuses, whoever calls it (not only the admin's form)."""
    from comments.moderating import staff_reply
    from comments.refusals import CannotReply

    parent = make_comment(status="approved")
    with pytest.raises(CannotReply, match=message):
        staff_reply(parent=parent, body=body, by=make_user(groups=["Moderators"]))
    assert Comment.objects.count() == 1


def test_names_stored_before_the_rule_are_made_visible():
    """Migration 0010 gives a stored invisible name "Anonymous" and strips disguising
    characters from the others; good names are left as they are."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("comments.migrations.0010_comment_edited_at")
    names = ["\u200b\u200b", "Ev\u202eil", "Zoe\u0308", "Good Name", "\u3164"]
    comments = [make_comment(name="x") for _ in names]
    for comment, name in zip(comments, names, strict=True):
        Comment.objects.filter(pk=comment.pk).update(name=name)
    migration.make_names_visible(apps, None)
    stored = [Comment.objects.get(pk=c.pk).name for c in comments]
    assert stored == ["Anonymous", "Evil", "Zoë", "Good Name", "Anonymous"]


@given(st.text(max_size=30))
def test_any_accepted_website_is_all_visible(value):
    try:
        url = text.check_website(value)
    except ValidationError:
        return
    assert url == "" or all(text.is_visible(char) for char in url)
