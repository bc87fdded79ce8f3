"""PDFs made in the test that cost far more to read than their size: many pages, text that expands,
a stream that inflates to hundreds of megabytes."""
from __future__ import annotations

import zlib


def pdf(page_streams: list[int], streams: list[bytes], pages: int | None = None) -> bytes:
    """A PDF whose pages draw the given (compressed) content streams; `page_streams[i]` is the stream
    index of page i, so many pages can share one stream."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    stream_ids = []
    for data in streams:
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream")
        stream_ids.append(len(objects))
    kids = []
    for index in page_streams:
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % stream_ids[index])
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % len(kids)
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out


def text_stream(lines: int, line: str = "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do") -> bytes:
    body = "BT /F1 10 Tf 72 720 Td 12 TL " + " ".join(f"({line}) Tj T*" for _ in range(lines)) + " ET"
    return zlib.compress(body.encode("latin-1"), 9)


def text_bomb(pages: int = 400, lines: int = 200) -> bytes:
    """~5 MB of text from a file of a few KB: every page draws the same compressed stream."""
    return pdf([0] * pages, [text_stream(lines)])


def page_bomb(pages: int = 5000) -> bytes:
    return pdf([0] * pages, [text_stream(1)])


def zlib_bomb(megabytes: int = 300) -> bytes:
    """One content stream that inflates to `megabytes` of zeros."""
    squeeze = zlib.compressobj(9)
    chunk = b"\0" * 1_000_000
    data = b"".join(squeeze.compress(chunk) for _ in range(megabytes)) + squeeze.flush()
    return pdf([0], [data])
