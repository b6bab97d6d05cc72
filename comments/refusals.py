"""What the site refuses a comment or a reply for, each with a message for the person."""


class CommentRefused(Exception):
    """A comment the site will not take, with a message for the reader."""


class CommentsClosed(CommentRefused):
    def __init__(self):
        super().__init__("Comments on this story are closed, so your comment was not posted.")


class DuplicateComment(CommentRefused):
    def __init__(self):
        super().__init__("You have already posted this comment on this story.")


class RateLimited(CommentRefused):
    def __init__(self, retry_after):
        self.retry_after = retry_after
        super().__init__(
            f"You are commenting faster than we allow. Please wait {retry_after} "
            f"second{'s' if retry_after != 1 else ''} and send your comment again."
        )


class CannotReply(CommentRefused):
    pass
