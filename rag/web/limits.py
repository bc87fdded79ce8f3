"""What a request may carry and cost, checked before any route runs: body caps, open requests per
client, the upload inbox's quota, file paths in Gradio events (only the upload inbox), and Range
headers. What each promises is in SECURITY.md; tests/security/ holds each to it.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import anyio
from fastapi.responses import JSONResponse

from rag.web import uploads


@dataclass(frozen=True)
class Limits:
    """Request body caps in bytes, checked before the body is read. Uploads are only taken on Gradio's
    upload route, which the chat's Documents panel uses; every other request carries a question at most."""
    body: int = 32_000
    upload: int = 100_000_000
    upload_paths: tuple[str, ...] = ("/gradio_api/upload",)

    def cap(self, path: str) -> int:
        return self.upload if path.rstrip("/") in self.upload_paths else self.body


class BodyTooLarge(Exception):
    pass


def too_large(limit: int) -> JSONResponse:
    return JSONResponse({"error": f"The request is larger than this server takes ({limit:,} bytes)."},
                        status_code=413)


class BodyCap:
    """ASGI middleware: refuse a request whose declared length is over the cap without reading it, and
    stop one that streams past the cap (no Content-Length) as soon as it does."""

    def __init__(self, app, limits: Limits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.cap(scope["path"])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = limit + 1
            if declared > limit:
                return await too_large(limit)(scope, receive, send)
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await too_large(limit)(scope, receive, send)

def client_of(scope) -> str:
    return (scope.get("client") or ("?", 0))[0]

def refuse(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def read_body(receive) -> tuple[bytes, list[dict]]:
    """The whole body (under the body cap, which stands outside), and its messages to replay."""
    messages, body = [], b""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    return body, messages


def replaying(messages: list[dict], receive):
    pending = list(messages)

    async def replay():
        return pending.pop(0) if pending else await receive()

    return replay


UNREADABLE = "\x00"  # stands for a body too deep to read: refused like a forged path


def named_paths(body: bytes) -> list[str]:
    """Every file path a Gradio event body names: the "path" of each object in it."""
    try:
        data = json.loads(body)
    except RecursionError:
        return [UNREADABLE]
    except ValueError:
        return []  # not JSON: Gradio refuses it itself
    found, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("path"), str):  # what Gradio reads (or fetches, for a URL); its "url"
                found.append(item["path"])         # is only where the browser may download it from
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


class ForgedPaths:
    """A Gradio event may name only files inside the upload inbox. Gradio itself checks this only for
    an app it launched, and copies any other readable file into its cache first; so the check is made
    here, on the request, before Gradio sees it. The refusal says nothing about the path."""

    def __init__(self, app, inbox: Callable[[], Path], prefix: str = "/gradio_api/",
                 exempt: tuple[str, ...] = ("/gradio_api/upload",)) -> None:
        self.app, self.inbox, self.prefix, self.exempt = app, inbox, prefix, exempt

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(self.prefix)
                or scope["path"].rstrip("/") in self.exempt):
            return await self.app(scope, receive, send)
        body, messages = await read_body(receive)
        inbox = self.inbox()
        if any(not uploads.inside(path, inbox) for path in named_paths(body)):
            return await refuse(400, uploads.FORGED)(scope, receive, send)
        await self.app(scope, replaying(messages, receive), send)

class ConnectionCap:
    """At most `most` requests open at once per client, so one client holding streams open (Gradio's
    heartbeat never ends) cannot take every connection the server has."""

    def __init__(self, app, most: int = 64) -> None:
        self.app, self.most = app, most
        self.open: dict[str, int] = {}
        self.lock = threading.Lock()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        client = client_of(scope)
        with self.lock:
            if self.open.get(client, 0) >= self.most:
                refused = True
            else:
                refused = False
                self.open[client] = self.open.get(client, 0) + 1
        if refused:
            return await refuse(429, "Too many open requests from this client.")(scope, receive, send)
        try:
            await self.app(scope, receive, send)
        finally:
            with self.lock:
                left = self.open.get(client, 1) - 1
                if left:
                    self.open[client] = left
                else:
                    self.open.pop(client, None)


class UploadQuota:
    """Before an upload is read: stale inbox files are swept, and an upload is refused with the reason
    when what the inbox holds, plus what uploads in flight declared, would pass `most` bytes, or when
    one client's uploads in flight would pass `per_client` (two files of the largest size)."""

    def __init__(self, app, inbox: Callable[[], Path], most: int = uploads.MAX_INBOX_BYTES,
                 per_client: int = 2 * uploads.MAX_UPLOAD_BYTES + 1_000_000, most_files: int = 2000,
                 paths: tuple[str, ...] = ("/gradio_api/upload",)) -> None:
        self.app, self.inbox, self.most, self.per_client, self.paths = app, inbox, most, per_client, paths
        self.reserved: dict[str, int] = {}  # bytes declared by uploads in flight, by client
        self.lock = threading.Lock()
        self.most_files = most_files

    @staticmethod
    def held(inbox: Path) -> tuple[int, int]:
        """Stale uploads swept; then the bytes and the files the inbox holds."""
        uploads.sweep(inbox)
        return uploads.folder_bytes(inbox), uploads.file_count(inbox)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].rstrip("/") in self.paths:
            inbox = self.inbox()
            declared = dict(scope["headers"]).get(b"content-length")
            try:
                incoming = int(declared) if declared is not None else -1
            except ValueError:
                incoming = -1
            if incoming < 0:  # a chunked upload would be counted only once it is stored
                return await refuse(411, "An upload must declare its length.")(scope, receive, send)
            # The folder walk runs in a thread: the server's loop never waits on the disk.
            held, files = await anyio.to_thread.run_sync(self.held, inbox)
            client = client_of(scope)
            with self.lock:
                refused = (held + sum(self.reserved.values()) + incoming > self.most or files >= self.most_files
                           or self.reserved.get(client, 0) + incoming > self.per_client)
                if not refused:
                    self.reserved[client] = self.reserved.get(client, 0) + incoming
            if refused:
                return await refuse(413, "The server holds too many uploads waiting to be added; "
                                         "try again in a few minutes.")(scope, receive, send)
            try:
                return await self.app(scope, receive, send)
            finally:
                with self.lock:
                    left = self.reserved.get(client, 0) - incoming
                    if left > 0:
                        self.reserved[client] = left
                    else:
                        self.reserved.pop(client, None)
        await self.app(scope, receive, send)


RANGE = re.compile(r"bytes=(?:(\d{1,15})-(\d{0,15})|-\d{1,15})")  # one range: Gradio reads no more


def valid_range(value: str) -> bool:
    match = RANGE.fullmatch(value)
    return bool(match) and not (match.group(1) and match.group(2) and int(match.group(2)) < int(match.group(1)))


class RangeCheck:
    """A malformed Range header on a file route is a 416, not an error inside Gradio."""

    def __init__(self, app, prefix: str = "/gradio_api/file=") -> None:
        self.app, self.prefix = app, prefix

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            values = [v for k, v in scope["headers"] if k.lower() == b"range"]
            if len(values) > 1 or (values and not valid_range(values[0].decode("latin-1").strip())):
                return await refuse(416, "The Range header is not valid.")(scope, receive, send)
        await self.app(scope, receive, send)
