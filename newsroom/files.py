"""Uploads on the local disk, written whole or not at all.

Django's FileSystemStorage leaves a partial file behind when a write fails half way (a full
disk, a quota): a truncated original or a zero-byte rendition that nothing points at and that
keeps the disk full. This storage writes each file under a hidden temporary name in the same
folder, then links it into place under its final name, so a name in storage always holds a
whole file, and a failed write removes its temporary file before the error goes on.
"""

import contextlib
import os
import secrets

from django.core.files.storage import FileSystemStorage


class WholeFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose save() either stores the whole file or leaves nothing.

    Errors are the usual OSError (ENOSPC, EDQUOT, EACCES...), raised after cleaning up. The media
    folder must support hard links (every local Linux file system does).
    """

    def _save(self, name, content):
        folder = os.path.dirname(name)
        # No extension: the media view never serves a file in the middle of being written.
        temporary = os.path.join(folder, f".partial-{secrets.token_hex(8)}")
        try:
            temporary = super()._save(temporary, content)
        except BaseException:
            self._remove(temporary)
            raise
        try:
            if self._allow_overwrite:
                os.replace(self.path(temporary), self.path(name))
            else:
                while True:
                    try:
                        os.link(self.path(temporary), self.path(name))
                        break
                    except FileExistsError:  # taken since save() chose it: choose again
                        name = self.get_available_name(name)
        finally:
            self._remove(temporary)
        return name

    def _remove(self, name):
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path(name))
