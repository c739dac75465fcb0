"""A tiny PDF writer for tests: one page per string (Helvetica text) or per image (a scan without
a text layer), optional metadata title, valid cross-reference table."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ImagePage:
    """A page that is only a picture: 8-bit grayscale pixels, row by row, stretched over the page."""

    width: int
    height: int
    gray: bytes


def text_image(lines: list[str], width: int = 1275, height: int = 1650, size: int = 36) -> ImagePage:
    """Black text on white, drawn by Pillow (needs FreeType), the way a scanner would see a page."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size)
    for i, line in enumerate(lines):
        draw.text((100, 120 + i * int(size * 1.6)), line, fill=0, font=font)
    return ImagePage(width, height, image.tobytes())


def make_pdf(pages: Sequence[str | ImagePage], title: str | None = None) -> bytes:
    objects: list[bytes] = []
    n_pages = len(pages)
    # 1: catalog, 2: pages, 3: font, then (page, content) pairs, then images, then the info dictionary.
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    images: list[bytes] = []
    for i, page in enumerate(pages):
        if isinstance(page, ImagePage):
            number = 4 + 2 * n_pages + len(images)
            pixels = zlib.compress(page.gray)
            head = b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray " % (
                page.width,
                page.height,
            )
            head += b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n" % len(pixels)
            images.append(head + pixels + b"\nendstream")
            resources = f"/XObject << /Im1 {number} 0 R >>"
            stream = b"q 612 0 0 792 0 0 cm /Im1 Do Q"
        else:
            ops = ["BT /F1 12 Tf 72 720 Td 14 TL"]
            for line in page.split("\n"):
                esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(f"({esc}) Tj T*")
            ops.append("ET")
            resources = "/Font << /F1 3 0 R >>"
            stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << {resources} >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.extend(images)
    info = None
    if title is not None:
        esc = title.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        objects.append(f"<< /Title ({esc}) >>".encode("latin-1"))
        info = len(objects)
    return assemble_pdf(objects, info=info)


def assemble_pdf(objects: list[bytes], info: int | None = None) -> bytes:
    """A PDF file from numbered object bodies (1 = catalog), with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for num, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % num + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    info_ref = b" /Info %d 0 R" % info if info is not None else b""
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info_ref, xref)
    return bytes(out)
