"""What a file is, by its first bytes, against what its suffix says: a PDF saved as page.html, a text file
renamed .pdf or a zip that is not a Word file is named for what it is, where its reader would index
garbage or give up with a parser's error.

    mismatch(data, ".html") -> "is a PDF, not an HTML page: rename it to .pdf" | None
"""
from __future__ import annotations

import re

ZIP = b"PK\x03\x04"  # a .docx is a zip archive
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of .doc and of encrypted .docx

# (first bytes, what the file is, the suffix it would be read under here, if any)
SIGNATURES: tuple[tuple[bytes, str, str | None], ...] = (
    (b"%PDF-", "a PDF", ".pdf"),
    (ZIP, "a zip archive", None),
    (OLE, "an older or encrypted Office file", None),
    (b"\x1f\x8b", "gzip-compressed", None),
    (b"\x89PNG\r\n\x1a\n", "a PNG image", None),
    (b"\xff\xd8\xff", "a JPEG image", None),
    (b"GIF8", "a GIF image", None),
    (b"{\\rtf", "an RTF document", None),
)

# What each suffix should hold, as the message names it; text-like suffixes hold no binary signature.
TEXT_LIKE = {".txt": "text", ".text": "text", ".md": "Markdown text", ".markdown": "Markdown text",
             ".html": "an HTML page", ".htm": "an HTML page"}
PDF_HEADER_WITHIN = 1024  # a PDF may have bytes before "%PDF-", up to this many (as readers accept)


def signature(data: bytes) -> tuple[str, str | None] | None:
    """(what the file is, the suffix it is read under) by its first bytes, or None if unknown."""
    for start, what, suffix in SIGNATURES:
        if data.startswith(start):
            return what, suffix
    return None


def looks_like_text(data: bytes) -> bool:
    """No NUL byte in the first few kilobytes and they decode as UTF-8 (a character cut at the end aside)."""
    head = data[:4096]
    if b"\x00" in head or not head.strip():
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3 and len(data) > len(head)
    return True


def mismatch(data: bytes, suffix: str) -> str | None:
    """Why a file does not hold what `suffix` says, in words that say what to do; None where it may."""
    found = signature(data)
    named = f": rename it to {found[1]}" if found and found[1] else ""
    if suffix in TEXT_LIKE:
        if found and found[1] != suffix and really(data, found[0]):  # "GIF89a is a format." is text
            return f"is {found[0]}, not {TEXT_LIKE[suffix]}{named}"
        return None
    if suffix == ".pdf" and data.strip() and b"%PDF-" not in data[:PDF_HEADER_WITHIN]:
        return expected_instead(data, found, "a PDF")
    if suffix == ".docx" and data.strip() and not data.startswith((ZIP, OLE)):  # OLE: the reader says why
        return expected_instead(data, found, "a Word file")
    return None


def really(data: bytes, what: str) -> bool:
    """Whether a file that begins like `what` is one: a PDF by its objects, RTF by its opening, a binary
    format by not reading as text."""
    if what == "a PDF":
        return re.search(rb"\d+\s+\d+\s+obj\b", data[:65536]) is not None
    return what == "an RTF document" or not looks_like_text(data)


def expected_instead(data: bytes, found: tuple[str, str | None] | None, kind: str) -> str:
    """What a file is instead of `kind`, by its signature or as text."""
    if found:
        return f"is {found[0]}, not {kind}" + (f": rename it to {found[1]}" if found[1] else "")
    if looks_like_text(data):
        return f"is text, not {kind}: rename it to .txt"
    return f"is not {kind} (it does not begin as one)"
