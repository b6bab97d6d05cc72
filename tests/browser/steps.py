"""Small steps the browser tests share: open a page, sign in, fill the comment form."""

from tests.factories import make_user

PASSWORD = "correct horse battery staple"  # tests/factories.make_user's password


def visit(page, path, *, status=200):
    """Open `path` and check the server's answer; returns the page for chaining."""
    response = page.goto(path)
    assert response.status == status, f"{path} answered {response.status}, not {status}"
    return page


def sign_in(page, username, *, groups=(), **fields):
    """Create a staff account and sign it in through the admin's login form."""
    user = make_user(username, groups=groups, **fields)
    visit(page, "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return user


def fill_comment(page, **fields):
    """Type into the comment form's fields by their contract names (body, name, email, website)."""
    for name, value in fields.items():
        page.fill(f"#comment-form [name={name}]", value)


def send_comment(page):
    """Press "Post comment" (twice when the site asks to confirm, as it does without
    JavaScript); returns the status of the page the browser lands on."""
    with page.expect_navigation() as navigation:
        page.click("#comment-form button[type=submit]")
    if "again to send it" in page.content():
        with page.expect_navigation() as navigation:
            page.click("#comment-form button[type=submit]")
    return navigation.value.status
