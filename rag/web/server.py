"""The HTTP server: one FastAPI application with the Gradio chat mounted at `/` and a plain JSON API
beside it, for programs that want one request per answer rather than Gradio's queue protocol.

    POST /api/ask     {"question": "...", "k": 5, "history": ["..."], "answerer": "extractive"}
                      -> the answer JSON of `rag ask --json`; errors -> {"error": "..."} with a 4xx status
    GET  /api/status  -> the index being served (source, chunks, model, build time, fresh or stale)

`python app.py` serves the JSON API as soon as the index is loaded, with a "starting" page at `/`, and
mounts the chat once Gradio is imported (about 5 s of the start here): `Switch` swaps the application
in place, running the chat's startup in the server's own loop.

Guards in front of every route, before a body is read: a size cap per request (small for questions,
larger only for the chat's upload route) and, when auth is on, a per-client backoff on failed logins.
With auth on, the API takes the same user and password (HTTP Basic) or `Authorization: Bearer $RAG_API_TOKEN`.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import hmac
import ipaddress
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import anyio
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from rag.answering import registry
from rag.errors import RagError
from rag.settings import Settings

log = logging.getLogger("rag.server")


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


class Throttle:
    """Failed logins per client: after `free_failures` in a row, each further attempt must wait
    `base_delay * 2**n` seconds (at most `max_delay`); a success clears it. An attempt counts as failed
    from the moment it starts, so guesses sent in parallel are slowed as well. Shared by Gradio's
    `/login` and the API's HTTP Basic check; at most `most_clients` are remembered (oldest first out)."""

    def __init__(self, free_failures: int = 5, base_delay: float = 1.0, max_delay: float = 300.0,
                 most_clients: int = 10_000, clock=time.monotonic) -> None:
        self.free_failures, self.base_delay, self.max_delay, self.clock = free_failures, base_delay, max_delay, clock
        self.most_clients = most_clients
        self.failures: dict[str, tuple[int, float]] = {}  # client -> (failures in a row, time of the last)
        self.lock = threading.Lock()

    def wait_for(self, client: str) -> float:
        count, last = self.failures.get(client, (0, 0.0))
        if count < self.free_failures:
            return 0.0
        delay = min(self.base_delay * 2 ** (count - self.free_failures), self.max_delay)
        return max(0.0, last + delay - self.clock())

    def attempt(self, client: str) -> float:
        """0 and the attempt counted as a failure until `succeeded`, or the seconds still to wait."""
        with self.lock:
            wait = self.wait_for(client)
            if wait <= 0:
                count, _ = self.failures.pop(client, (0, 0.0))
                self.failures[client] = (count + 1, self.clock())
                while len(self.failures) > self.most_clients:
                    self.failures.pop(next(iter(self.failures)))
            return wait

    def succeeded(self, client: str) -> None:
        with self.lock:
            self.failures.pop(client, None)


def too_many(wait: float) -> JSONResponse:
    return JSONResponse({"error": f"Too many failed logins: try again in {wait:.0f} s."},
                        status_code=429, headers={"Retry-After": str(max(1, round(wait)))})


def client_of(scope) -> str:
    return (scope.get("client") or ("?", 0))[0]


class LoginThrottle:
    """ASGI middleware for Gradio's `POST /login`: the throttle's wait, then the attempt."""

    def __init__(self, app, throttle: Throttle) -> None:
        self.app, self.throttle = app, throttle

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].rstrip("/") != "/login":
            return await self.app(scope, receive, send)
        client = client_of(scope)
        if (wait := self.throttle.attempt(client)) > 0:
            return await too_many(wait)(scope, receive, send)
        status = 0

        async def watched_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watched_send)
        if status == 200:
            self.throttle.succeeded(client)


def credentials_ok(header: str | None, auth: tuple[str, str] | None, token: str | None) -> bool:
    """HTTP Basic with the app's user and password, or a bearer token; anything goes when auth is off."""
    if auth is None:
        return True
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return bool(token) and hmac.compare_digest(value.strip().encode(), token.encode())
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except ValueError:
            return False
        return hmac.compare_digest(user.encode(), auth[0].encode()) & \
            hmac.compare_digest(password.encode(), auth[1].encode())
    return False


def create_api(service, auth: tuple[str, str] | None = None, token: str | None = None, limits: Limits = Limits(),
               login_throttle: dict | None = None, api_workers: int = 4) -> FastAPI:
    """The JSON API and the guards, without the chat.

    `api_workers`: API answers computed at once. More waiting requests queue in the event loop instead
    of filling the thread pool the chat's own events run in, so a person in the browser is not queued
    behind every program (the answering is CPU-bound: two cores gain nothing from more threads)."""
    server = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    workers = anyio.CapacityLimiter(api_workers)
    throttle = Throttle(**(login_throttle or {}))

    def refused(request: Request) -> JSONResponse | None:
        """None when the request may go on; guesses at the password here count like failed logins."""
        if auth is None:
            return None
        client = client_of(request.scope)
        if (wait := throttle.attempt(client)) > 0:
            return too_many(wait)
        if credentials_ok(request.headers.get("authorization"), auth, token):
            throttle.succeeded(client)
            return None
        return JSONResponse({"error": "This server needs a user and password (HTTP Basic) or a bearer token."},
                            status_code=401, headers={"WWW-Authenticate": 'Basic realm="rag"'})

    @server.post("/api/ask")
    async def api_ask(request: Request):
        """One question, one JSON answer; the work runs in a worker thread so requests overlap."""
        if (denied := refused(request)) is not None:
            return denied
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse({"error": 'Send a JSON object such as {"question": "...", "k": 5}.'},
                                status_code=400)
        unknown = set(body) - {"question", "k", "history", "answerer"}
        if unknown:
            return JSONResponse({"error": f"Unknown field(s): {', '.join(sorted(unknown))}; the fields are "
                                          "question, k, history and answerer."}, status_code=400)
        try:
            return await anyio.to_thread.run_sync(service.answer_json, body.get("question"), body.get("k", 5),
                                                  body.get("history"), body.get("answerer"), limiter=workers)
        except RagError as exc:
            log.info("bad /api/ask request: %s", exc)
            return JSONResponse({"error": str(exc)}, status_code=400)

    @server.get("/api/status")
    def api_status(request: Request):
        if (denied := refused(request)) is not None:
            return denied
        return service.status_json()

    server.add_middleware(BodyCap, limits=limits)
    if auth is not None:
        server.add_middleware(LoginThrottle, throttle=throttle)
    return server


STARTING_PAGE = """<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="1">
<title>Starting the chat</title></head><body style="font-family: sans-serif; margin: 3em">
<h2>Starting the chat…</h2><p>This page reloads by itself in a moment. The JSON API already answers:
<code>POST /api/ask</code>.</p></body></html>"""


def create_starting(service, auth: tuple[str, str] | None = None, token: str | None = None, **options) -> FastAPI:
    """The API, and for every other path a page that reloads itself until the chat is mounted."""
    server = create_api(service, auth, token, **options)

    @server.get("/{path:path}")
    def starting(path: str):
        return HTMLResponse(STARTING_PAGE, status_code=503, headers={"Retry-After": "1"})

    return server


def create_server(service, blocks, auth: tuple[str, str] | None = None, token: str | None = None,
                  **options) -> FastAPI:
    """The whole application: the JSON API first, then the chat (a gr.Blocks) mounted at `/`, same auth."""
    import gradio as gr

    from rag.web.app import CSS, HEAD
    from rag.web.service import MAX_UPLOAD_BYTES

    server = create_api(service, auth, token, **options)
    blocks.queue(default_concurrency_limit=4)
    gr.mount_gradio_app(server, blocks, path="", auth=auth, css=CSS, head=HEAD, theme=gr.themes.Soft(),
                        show_error=False, footer_links=["api"], max_file_size=MAX_UPLOAD_BYTES)
    return server


FAILED_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>The chat could not start</title></head>
<body style="font-family: sans-serif; margin: 3em"><h2>The chat could not start.</h2><p>The error is in the
server's log. The JSON API still answers: <code>POST /api/ask</code>.</p></body></html>"""


class Switch:
    """The ASGI application uvicorn runs: at first `first` (the API and the starting page), then, once
    `switch_to` is called from another thread, the whole application, whose startup (Gradio's queue)
    runs inside the server's loop and whose shutdown the server's own waits for."""

    def __init__(self, first) -> None:
        self.current = first
        self.loop: asyncio.AbstractEventLoop | None = None
        self.started = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._lifespan = None  # the swapped-in application's lifespan, a future in the server's loop

    async def __call__(self, scope, receive, send):
        if scope["type"] != "lifespan":
            return await self.current(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.loop, self._stopping = asyncio.get_running_loop(), asyncio.Event()
                self.started.set()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._stopping.set()
                if self._lifespan is not None:
                    try:
                        await asyncio.wait_for(asyncio.wrap_future(self._lifespan), 10)
                    except Exception:
                        log.exception("the chat did not shut down cleanly")
                await send({"type": "lifespan.shutdown.complete"})
                return

    def switch_to(self, application: FastAPI, timeout: float = 120) -> None:
        """Start `application` in the server's loop and serve it; raises when its startup fails."""
        if not self.started.wait(timeout):
            raise RagError("The server did not start.")
        ready = threading.Event()

        async def lifespan() -> None:
            async with application.router.lifespan_context(application):
                ready.set()
                await self._stopping.wait()

        self._lifespan = asyncio.run_coroutine_threadsafe(lifespan(), self.loop)
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self._lifespan.done():
                self._lifespan.result()  # its exception, if it failed
                raise RagError("The chat stopped during its startup.")
            if time.monotonic() > deadline:
                raise RagError("The chat did not start in time.")
        self.current = application

    def fail(self) -> None:
        """The chat will not come: say so at `/` instead of "starting" forever; the API stays."""
        page = HTMLResponse(FAILED_PAGE, status_code=503)
        api = self.current

        async def failed(scope, receive, send):
            if scope["type"] == "http" and not scope["path"].startswith("/api/"):
                return await page(scope, receive, send)
            return await api(scope, receive, send)

        self.current = failed


def mount_chat(switch: Switch, service, auth: tuple[str, str] | None, token: str | None) -> None:
    """Import Gradio, build the chat and swap it in: run in a thread while the API already answers."""
    try:
        from rag.web.app import build_app

        switch.switch_to(create_server(service, build_app(service), auth, token))
        service.chat_ready = True
        log.info("the chat is ready")
    except Exception:
        log.exception("the chat could not be started; the JSON API keeps answering")
        switch.fail()


class Running:
    """A server started in a thread (tests, benchmarks): `close()` stops it."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread) -> None:
        self.server, self.thread = server, thread

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(application, host: str, port: int, block: bool = True) -> Running | None:
    """Run the application with uvicorn; with block=False in a thread, returned once it accepts requests."""
    config = uvicorn.Config(application, host=host, port=port, log_level="warning" if block else "error",
                            access_log=False, timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    if block:
        server.run()
        return None
    thread = threading.Thread(target=server.run, daemon=True, name=f"server-{port}")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RagError(f"The server on {host}:{port} did not start.")
        time.sleep(0.02)
    return Running(server, thread)


# ---------------------------------------------------------------- command line

def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def port_is_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def parse_auth(value: str | None) -> tuple[str, str] | None:
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise RagError("--auth must be user:password.")
    return user, password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The web chat over the indexed document.")
    parser.add_argument("--host", default=os.environ.get("RAG_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RAG_PORT", "7860")))
    parser.add_argument("--auth", default=os.environ.get("RAG_AUTH"), help="user:password (or $RAG_AUTH)")
    parser.add_argument("--insecure", action="store_true", help="allow a non-loopback host without --auth")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--source", type=Path)
    parser.add_argument("--answerer", choices=registry.names(), help="the default answerer")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (or RAG_OPENAI_BASE_URL)")
    parser.add_argument("--model", help="openai: model name; local: folder, .gguf file or gemma3-270m")
    parser.add_argument("--watch", action="store_true", help="rebuild in the background when the source files "
                                                             "change on disk (make run turns it on)")
    args = parser.parse_args(argv)
    try:
        auth = parse_auth(args.auth)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and not auth and not args.insecure:
        print(f"error: serving on {args.host} exposes the chat and its rebuild button to the network; "
              "give --auth user:password (or RAG_AUTH), or --insecure to do it anyway.", file=sys.stderr)
        return 2
    if not port_is_free(args.host, args.port):
        print(f"error: port {args.port} is in use: use --port or PORT=.", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from rag.web.service import ChatService

    try:
        service = ChatService(Settings.from_env(source=args.source, index_dir=args.index, answerer=args.answerer,
                                                base_url=args.base_url, model=args.model),
                              watch=args.watch)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    service.embedder.embed(["warm up"])  # load the model before the first question
    token = os.environ.get("RAG_API_TOKEN")
    service.chat_ready = False
    switch = Switch(create_starting(service, auth, token))
    threading.Thread(target=mount_chat, args=(switch, service, auth, token), daemon=True, name="chat-ui").start()
    print(f"Serving the chat at http://{args.host}:{args.port} (the JSON API, POST /api/ask and GET /api/status, "
          "answers at once; the page follows in a few seconds)", flush=True)
    serve(switch, args.host, args.port)
    return 0
