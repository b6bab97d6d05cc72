import ipaddress
import logging
import re
import textwrap

EMAIL = re.compile(r"[\w.%+-]+(?:@|%40)[\w-]+(?:\.[\w-]+)*")  # also URL-encoded
# Candidates only: each match is checked with the ipaddress module before it is masked.
IP_CANDIDATE = re.compile(
    r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}(?!\.?\d)|[0-9A-Fa-f]*:[0-9A-Fa-f:.]{2,})"
)
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
UNPRINTABLE_KEEP_NEWLINES = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def _mask_ip(match):
    text = match.group()
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return text
    return "[ip]"


def _escape(match):
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def scrub(text, *, keep_newlines=False):
    """Text safe for a log: no email, no IP address, and no control character that could start
    a forged line or drive a terminal."""
    text = EMAIL.sub("[email]", text)
    text = IP_CANDIDATE.sub(_mask_ip, text)
    pattern = UNPRINTABLE_KEEP_NEWLINES if keep_newlines else UNPRINTABLE
    return pattern.sub(_escape, text)


def _continuation(text):
    """A traceback keeps its lines, each indented, so none can pass for a record of its own."""
    return textwrap.indent(scrub(text, keep_newlines=True), "  ", lambda line: True)


class SafeLogFilter(logging.Filter):
    """Keep emails and IP addresses out of logs and stop CR/LF or terminal escapes from forging
    log lines: every record is one line; only tracebacks continue, indented."""

    def filter(self, record):
        if getattr(record, "scrubbed", False):
            return True  # already passed another handler's filter
        record.scrubbed = True
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _continuation(record.exc_text)
        if record.stack_info:
            record.stack_info = _continuation(record.stack_info)
        return True
