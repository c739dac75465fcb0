"""Plain text and Markdown: bytes to str, whatever the encoding, refusing binary data."""

from __future__ import annotations

import codecs

from qa.errors import IngestError


def decode_text(data: bytes, name: str) -> str:
    """Decode bytes as text: BOMs first, then UTF-8, then Windows-1252; refuse binary data."""
    for bom, enc in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(enc)
            except UnicodeDecodeError as e:
                raise IngestError(f"{name}: not valid {enc} text ({e.reason}).") from e
    if b"\x00" in data[:8192]:
        raise IngestError(f"{name}: looks like a binary file (NUL bytes), not text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    control = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\r\n\t\f")
    if control > 0.05 * min(len(text), 8192):
        raise IngestError(f"{name}: looks like a binary file, not text.")
    return text
