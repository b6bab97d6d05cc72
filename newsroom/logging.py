import logging
import re

EMAIL = re.compile(r"[^\s@<>\"']+@[^\s@<>\"']+\.[A-Za-z]{2,}")
UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class SafeLogFilter(logging.Filter):
    """Keep emails out of logs and stop CR/LF or terminal escapes from forging log lines."""

    def filter(self, record):
        message = record.getMessage()
        message = EMAIL.sub("[email]", message)
        message = UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", message)
        record.msg = message
        record.args = None
        return True
