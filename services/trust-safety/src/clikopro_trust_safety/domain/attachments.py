"""Attachments of incident messages: recognised by their content (signatures and headers), never by the
name or type the uploader declared."""

from __future__ import annotations

import struct

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def recognise(data: bytes) -> str | None:
    """The media type of a PDF, JPEG or PNG file, or None for anything else."""
    if data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:]:
        return PDF
    # JPEG: start of image, then a marker segment (APPn, DQT, SOF...), and an end of image.
    if data.startswith(b"\xff\xd8\xff") and len(data) > 4 and data.rstrip(b"\x00").endswith(b"\xff\xd9"):
        return JPEG
    # PNG: signature, then the IHDR chunk (13 bytes of data) with a width and height of at least 1.
    if data.startswith(_PNG_SIGNATURE) and len(data) >= 33 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        if width and height and data.endswith(b"IEND\xaeB`\x82"):
            return PNG
    return None
