"""Uploads in S3-compatible object storage (NEWSROOM_S3_BUCKET), still served from our own host.

Pages may load nothing from another host, so an image's URL stays under MEDIA_URL and the media
view (newsroom/views.py) streams it from the bucket with its safe headers.
"""

from django.conf import settings
from storages.backends.s3 import S3Storage


class S3MediaStorage(S3Storage):
    def url(self, name, parameters=None, expire=None, http_method=None):
        return f"{settings.MEDIA_URL}{name.lstrip('/')}"
