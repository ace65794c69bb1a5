"""Small real images for tests that upload a logo or favicon: valid PNG files written with the
stdlib (no image library), so the ticket service's check by the file's bytes accepts them."""

from __future__ import annotations

import struct
import zlib


def png(colour: tuple[int, int, int] = (0xC0, 0x39, 0x2B), size: int = 8) -> bytes:
    """A ``size`` x ``size`` PNG of one ``colour`` (RGB)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(colour) * size for _ in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(rows)),
            chunk(b"IEND", b""),
        )
    )
