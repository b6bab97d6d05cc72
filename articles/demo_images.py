"""Hero pictures for the demo stories, drawn with Pillow (no photos taken from anywhere)."""

import io

from PIL import Image, ImageDraw


def draw_hero(*, sky, ice, accent, seed=0, size=(1600, 900)):
    width, height = size
    image = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(image)
    for y in range(height // 2):
        shade = tuple(int(c + (255 - c) * y / height) for c in sky)
        draw.line([(0, y), (width, y)], fill=shade)
    draw.rectangle([0, height * 0.45, width, height], fill=ice)
    # The oval of a 400 m speed skating track, seen from the stands.
    for lane, colour in enumerate([(255, 255, 255), accent, (255, 255, 255)]):
        inset = 60 + lane * 45
        draw.ellipse(
            [inset, height * 0.5 + lane * 20, width - inset, height - 40 - lane * 20],
            outline=colour,
            width=10,
        )
    # A skater's silhouette, leaning into the bend.
    x = 420 + (seed * 380) % 800
    base = int(height * 0.78)
    draw.polygon(
        [(x, base - 210), (x + 70, base - 170), (x + 150, base - 60), (x + 40, base - 110)],
        fill=(20, 24, 28),
    )
    draw.ellipse([x - 30, base - 260, x + 25, base - 205], fill=(20, 24, 28))
    draw.line([(x + 40, base - 110), (x - 40, base - 10)], fill=(20, 24, 28), width=22)
    draw.line([(x + 120, base - 70), (x + 200, base)], fill=(20, 24, 28), width=22)
    draw.line([(x - 90, base - 5), (x + 10, base - 5)], fill=(200, 205, 210), width=6)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()
