"""Every picture a browser can show comes out of an upload looking like the original, in every
rendition: palette and grey images with transparency, alpha, 16-bit greys, CMYK with and
without a colour profile, EXIF-rotated photos; and every size the limits accept gets renditions.
The files are made here with Pillow; a few pixels of each stored file are compared with what a
browser shows for the original."""

import io
import math
import struct

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageCms

from articles.images import WEBP_MAX_SIDE, process_hero_image, rendition_sizes

from .factories import make_article

pytestmark = pytest.mark.django_db

SIZE = (600, 400)
# Colour distance allowed between a stored pixel and the original one (lossy WebP and JPEG on
# flat colour): far less than any mistake (clipped to white, alpha dropped, profile ignored).
TOLERANCE = 14
# Where pixels are compared: the middle of each quadrant, (x, y) as fractions of the size.
SPOTS = [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)]


def quadrants(mode, colours, size=SIZE):
    """An image of four flat quadrants (top left, top right, bottom left, bottom right)."""
    image = Image.new(mode, size)
    width, height = size
    for (x, y), colour in zip([(0, 0), (1, 0), (0, 1), (1, 1)], colours, strict=True):
        box = (x * width // 2, y * height // 2, (x + 1) * width // 2, (y + 1) * height // 2)
        image.paste(colour, box)
    return image


def encoded(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def rgba(colour):
    return tuple(colour) + (255,) * (4 - len(colour))


def distance(seen, expected):
    """How far apart two RGBA colours look: only alpha counts where both are invisible."""
    seen, expected = rgba(seen), rgba(expected)
    if seen[3] < 8 and expected[3] < 8:
        return 0
    return math.dist(seen, expected)


def stored_pictures(article, renditions):
    storage = article.hero_image.storage
    yield "original", Image.open(storage.open(article.hero_image.name))
    for rendition in renditions:
        yield rendition["name"], Image.open(storage.open(rendition["name"]))


def assert_looks_like(name, data, expected):
    """Upload `data`; every stored file shows `expected` (RGBA per quadrant) at each spot."""
    article = make_article(hero_alt="A test picture")
    article.hero_image = SimpleUploadedFile(name, data)
    renditions = process_hero_image(article)
    assert renditions
    for stored, image in stored_pictures(article, renditions):
        assert image.mode in ("RGB", "RGBA"), stored
        assert "icc_profile" not in image.info, stored  # pixels are sRGB, as browsers assume
        image = image.convert("RGBA")
        for (fx, fy), colour in zip(SPOTS, expected, strict=True):
            seen = image.getpixel((int(fx * image.width), int(fy * image.height)))
            assert distance(seen, colour) <= TOLERANCE, (stored, (fx, fy), seen, colour)


COLOURS = [(200, 30, 30), (30, 160, 60), (20, 60, 200), (240, 200, 40)]


def palette_with_transparency(alpha_per_entry):
    image = quadrants("P", [0, 1, 2, 3])
    image.putpalette([channel for colour in COLOURS for channel in colour])
    return encoded(image, "PNG", transparency=alpha_per_entry)


def sixteen_bit_grey():
    levels = [0, 16448, 40000, 65535]  # 16-bit greys: black, dark, light grey, white
    image = Image.new("I", SIZE)
    width, height = SIZE
    for i, level in enumerate(levels):
        x, y = i % 2, i // 2
        box = (x * width // 2, y * height // 2, (x + 1) * width // 2, (y + 1) * height // 2)
        image.paste(level, box)
    image = image.convert("I;16")
    assert image.getpixel((width // 4, height * 3 // 4)) == 40000
    return encoded(image, "PNG"), [(round(v / 257),) * 3 + (255,) for v in levels]


MODES = {
    "RGB JPEG": (
        "photo.jpg",
        encoded(quadrants("RGB", COLOURS), "JPEG", quality=95),
        COLOURS,
    ),
    "RGBA PNG, opaque, half and fully transparent": (
        "alpha.png",
        encoded(
            quadrants(
                "RGBA",
                [(200, 30, 30, 255), (30, 160, 60, 128), (20, 60, 200, 0), (240, 200, 40, 64)],
            ),
            "PNG",
        ),
        [(200, 30, 30, 255), (30, 160, 60, 128), (0, 0, 0, 0), (240, 200, 40, 64)],
    ),
    "RGBA WebP": (
        "alpha.webp",
        encoded(
            quadrants("RGBA", [(200, 30, 30, 255), (30, 160, 60, 0)] * 2), "WEBP", lossless=True
        ),
        [(200, 30, 30, 255), (0, 0, 0, 0)] * 2,
    ),
    "P with one transparent entry": (
        "palette.png",
        palette_with_transparency(2),
        [*COLOURS[:2], (0, 0, 0, 0), COLOURS[3]],
    ),
    "P with alpha per entry (tRNS)": (
        "palette-alpha.png",
        palette_with_transparency(bytes([255, 128, 0, 255])),
        [(200, 30, 30, 255), (30, 160, 60, 128), (0, 0, 0, 0), (240, 200, 40, 255)],
    ),
    "P without transparency": (
        "palette-plain.png",
        encoded(quadrants("RGB", COLOURS).quantize(4), "PNG"),
        COLOURS,
    ),
    "LA PNG": (
        "grey-alpha.png",
        encoded(quadrants("LA", [(0, 255), (90, 128), (180, 0), (255, 200)]), "PNG"),
        [(0, 0, 0, 255), (90, 90, 90, 128), (0, 0, 0, 0), (255, 255, 255, 200)],
    ),
    "L PNG with a transparent grey (tRNS)": (
        "grey-trns.png",
        encoded(quadrants("L", [0, 90, 180, 255]), "PNG", transparency=180),
        [(0, 0, 0), (90, 90, 90), (0, 0, 0, 0), (255, 255, 255)],
    ),
    "L JPEG": (
        "grey.jpg",
        encoded(quadrants("L", [0, 90, 180, 255]), "JPEG", quality=95),
        [(0, 0, 0), (90, 90, 90), (180, 180, 180), (255, 255, 255)],
    ),
    "1-bit PNG": (
        "bilevel.png",
        encoded(quadrants("1", [0, 1, 1, 0]), "PNG"),
        [(0, 0, 0), (255, 255, 255), (255, 255, 255), (0, 0, 0)],
    ),
    "16-bit grey PNG (I;16)": ("grey16.png", *sixteen_bit_grey()),
    "CMYK JPEG without a profile": (
        "cmyk.jpg",
        encoded(
            quadrants("CMYK", [(0, 0, 0, 0), (255, 0, 0, 0), (0, 255, 255, 0), (0, 0, 0, 255)]),
            "JPEG",
            quality=95,
        ),
        [(255, 255, 255), (0, 255, 255), (255, 0, 0), (0, 0, 0)],
    ),
}


@pytest.mark.parametrize("case", list(MODES))
def test_every_mode_looks_like_the_original_in_every_rendition(case):
    """Transparency, bit depth and colour come out as a browser shows the original."""
    name, data, expected = MODES[case]
    assert_looks_like(name, data, expected)


# A CMYK printer profile made here: CMYK → XYZ through a 2-point grid (exact at the corners),
# on a cream paper that tints every ink, so ignoring the profile shows. (Colour management
# still maps the paper itself to white.)
PAPER = (250, 235, 200)
SRGB_TO_XYZ_D50 = [
    (0.4360747, 0.3850649, 0.1430804),
    (0.2225045, 0.7168786, 0.0606169),
    (0.0139322, 0.0971045, 0.7141733),
]


def _xyz(rgb):
    linear = [
        (c / 255 / 12.92) if c / 255 <= 0.04045 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb
    ]
    return [sum(m * c for m, c in zip(row, linear, strict=True)) for row in SRGB_TO_XYZ_D50]


def cmyk_profile():
    """An ICC v2 output profile (class prtr, CMYK to XYZ) with just what a reader needs."""
    grid = []
    for corner in range(16):
        c, m, y, k = ((corner >> shift) & 1 for shift in (3, 2, 1, 0))
        rgb = [p * (1 - ink) * (1 - k) for p, ink in zip(PAPER, (c, m, y), strict=True)]
        grid.extend(min(65535, round(value * 32768)) for value in _xyz(rgb))

    def fixed(value):
        return struct.pack(">i", round(value * 65536))

    identity = b"".join(fixed(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    lut = (
        b"mft2\0\0\0\0"
        + bytes([4, 3, 2, 0])
        + identity
        + struct.pack(">HH", 2, 2)
        + struct.pack(">8H", *([0, 65535] * 4))
        + struct.pack(f">{len(grid)}H", *grid)
        + struct.pack(">6H", *([0, 65535] * 3))
    )
    white = b"XYZ \0\0\0\0" + fixed(0.9642) + fixed(1.0) + fixed(0.8249)
    text = b"Test CMYK\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 12 + b"\0" * 67
    tags = [(b"desc", desc), (b"wtpt", white), (b"A2B0", lut)]
    offset = 128 + 4 + 12 * len(tags)
    table, body = struct.pack(">I", len(tags)), b""
    for signature, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", 128 + len(table) + len(body))
        + b"\0\0\0\0"
        + struct.pack(">I", 0x02100000)
        + b"prtrCMYKXYZ "
        + b"\0" * 12
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + fixed(0.9642)
        + fixed(1.0)
        + fixed(0.8249)
    )
    header += b"\0" * (128 - len(header))
    return header + table + body


def test_a_cmyk_jpeg_with_a_profile_looks_as_its_profile_says():
    """A CMYK JPEG is shown through its embedded profile (browsers do), not converted naively
    nor stored as RGB still carrying a CMYK profile."""
    profile = cmyk_profile()
    inks = [(0, 0, 0, 0), (255, 0, 0, 0), (0, 255, 255, 0), (0, 0, 0, 255)]
    original = quadrants("CMYK", inks)
    through_profile = ImageCms.profileToProfile(
        original,
        ImageCms.ImageCmsProfile(io.BytesIO(profile)),
        ImageCms.createProfile("sRGB"),
        outputMode="RGB",
    )
    expected = [through_profile.getpixel((int(x * SIZE[0]), int(y * SIZE[1]))) for x, y in SPOTS]
    cyan_on_paper = (0, PAPER[1], PAPER[2])
    assert distance(expected[1], cyan_on_paper) <= 3  # the paper tints the cyan ink
    naive = original.convert("RGB").getpixel((SIZE[0] - 1, 0))
    assert distance(naive, cyan_on_paper) > 30  # so a naive conversion looks different
    data = encoded(original, "JPEG", quality=95, icc_profile=profile)
    assert Image.open(io.BytesIO(data)).info.get("icc_profile") == profile
    assert_looks_like("cmyk-profile.jpg", data, expected)


def test_a_broken_profile_is_ignored_as_browsers_do():
    """An unreadable ICC profile does not stop the upload: the pixels are taken as sRGB."""
    data = encoded(quadrants("RGB", COLOURS), "JPEG", quality=95, icc_profile=b"not a profile")
    assert_looks_like("broken-profile.jpg", data, COLOURS)


ORIENTED = [(200, 30, 30), (30, 160, 60), (20, 60, 200), (240, 200, 40)]  # TL, TR, BL, BR
# What each EXIF orientation does to the stored quadrants, as (TL, TR, BL, BR) seen upright.
SEEN_UPRIGHT = {
    1: (0, 1, 2, 3),
    2: (1, 0, 3, 2),
    3: (3, 2, 1, 0),
    4: (2, 3, 0, 1),
    5: (0, 2, 1, 3),
    6: (2, 0, 3, 1),
    7: (3, 1, 2, 0),
    8: (1, 3, 0, 2),
}


@pytest.mark.parametrize("orientation", list(SEEN_UPRIGHT))
def test_every_exif_orientation_is_stored_upright(orientation):
    """A photo with any of the eight EXIF orientations is stored as the camera's viewer shows
    it, in the original and in every rendition (the tag itself is dropped with the EXIF)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encoded(quadrants("RGB", ORIENTED), "JPEG", quality=95, exif=exif.tobytes())
    expected = [ORIENTED[i] for i in SEEN_UPRIGHT[orientation]]
    assert_looks_like(f"oriented-{orientation}.jpg", data, expected)


@pytest.mark.parametrize("size", [(100, 20_000), (20_000, 100), (1, 40_000), (40_000, 1), (1, 1)])
def test_every_shape_the_limits_accept_gets_renditions(size):
    """Very tall, very wide and tiny pictures get WebP renditions WebP can hold (at most
    16,383 pixels a side), not an error."""
    article = make_article(hero_alt="A test picture")
    article.hero_image = SimpleUploadedFile("shape.png", encoded(Image.new("RGB", size), "PNG"))
    renditions = process_hero_image(article)
    assert renditions
    for rendition in renditions:
        with Image.open(article.hero_image.storage.open(rendition["name"])) as image:
            assert image.size == (rendition["width"], rendition["height"])
            assert 1 <= image.width <= WEBP_MAX_SIDE and 1 <= image.height <= WEBP_MAX_SIDE


def test_rendition_sizes_fit_webp_for_any_accepted_shape(settings):
    """Whatever the width and height under the pixel limit, every rendition size fits WebP,
    keeps the shape, and is no wider than the widest configured width."""
    widest = max(settings.HERO_RENDITION_WIDTHS)
    for width in (1, 2, 99, 100, 479, 480, 1600, 1601, 16_383, 16_384, 40_000, 400_000):
        for height in (1, 2, 100, 16_383, 16_384, 20_000, 100_000, 40_000_000):
            if width * height > settings.HERO_IMAGE_MAX_PIXELS:
                continue
            sizes = rendition_sizes(width, height)
            assert sizes, (width, height)
            for w, h in sizes:
                assert 1 <= w <= min(width, widest) and 1 <= h <= WEBP_MAX_SIDE, (width, height)
                if w > 10 and h > 10:
                    assert abs(w / h - width / height) / (width / height) < 0.1
