"""The HTTP server: one FastAPI application with the Gradio chat mounted at `/` and the JSON API
(`rag.web.api`) beside it.

`python app.py` serves the JSON API as soon as the index is loaded, with a "starting" page at `/`, and
mounts the chat once Gradio is imported (about 5 s of the start here): `Switch` swaps the application
in place, running the chat's startup in the server's own loop.

Guards in front of every route, before a body is read: a size cap per request (small for questions,
larger only for the chat's upload route) and, when auth is on, a per-client backoff on failed logins.
With auth on, the API takes the same user and password (HTTP Basic) or `Authorization: Bearer $RAG_API_TOKEN`.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.routing import Mount

from rag.errors import RagError
from rag.web.access import LoginThrottle, SignInGate
from rag.web.api import create_api
from rag.web.limits import BodyCap, ConnectionCap, ForgedPaths, RangeCheck, UploadQuota
from rag.web.uploads import MAX_UPLOAD_BYTES

log = logging.getLogger("rag.server")


def guard(server: FastAPI, service, signed_in=None, connections_per_client: int = 64) -> FastAPI:
    """Put the guards in front of every route, innermost first (Starlette runs the last added first):
    bodies are capped before anything reads them, and no route runs for a client over its open
    requests. `signed_in(scope)`: with auth on and the chat mounted, who passes the sign-in gate."""
    state = server.state
    server.add_middleware(RangeCheck)
    server.add_middleware(ForgedPaths, inbox=lambda: service.inbox)
    server.add_middleware(UploadQuota, inbox=lambda: service.inbox)
    if state.auth is not None and signed_in is not None:
        server.add_middleware(SignInGate, signed_in=signed_in)
    if state.auth is not None:
        server.add_middleware(LoginThrottle, throttle=state.throttle)
    server.add_middleware(BodyCap, limits=state.limits)
    server.add_middleware(ConnectionCap, most=connections_per_client)
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

    return guard(server, service)


def quiet_queue(blocks, idle_poll: float = 0.2) -> None:
    """Gradio's queue polls for work every millisecond when idle on Linux: over a second of CPU in 20 s
    of an idle server. Polling every `idle_poll` s costs an event at most that much delay to start;
    the JSON API does not go through this queue. (Gradio internals: skipped when they are not there.)"""
    queue = getattr(blocks, "_queue", None)
    for name in ("sleep_when_free", "progress_update_sleep_when_free"):
        if queue is not None and hasattr(queue, name):
            setattr(queue, name, idle_poll)


def create_server(service, blocks, auth: tuple[str, str] | None = None, token: str | None = None,
                  **options) -> FastAPI:
    """The whole application: the JSON API first, then the chat (a gr.Blocks) mounted at `/`, same auth."""
    import gradio as gr  # heavy (seconds to import): the API module loads without it

    from rag.web.app import CSS, HEAD  # deferred with Gradio: the API answers before it has loaded

    server = create_api(service, auth, token, **options)
    blocks.queue(default_concurrency_limit=4)
    quiet_queue(blocks)
    gr.mount_gradio_app(server, blocks, path="", auth=auth, css=CSS, head=HEAD, theme=gr.themes.Soft(),
                        show_error=False, footer_links=["api"], max_file_size=MAX_UPLOAD_BYTES)
    chat = next(route.app for route in server.routes if isinstance(route, Mount))
    service.inbox = Path(chat.uploaded_file_dir).resolve()  # where its upload route writes

    def signed_in(scope) -> bool:
        """Gradio's session cookie names a live login. Credentials in a header are not checked here: a
        check outside the login backoff would let anyone guess the password at full speed."""
        cookies = Request(scope).cookies
        return any(cookies.get(name) in chat.tokens
                   for name in (f"access-token-{chat.cookie_id}", f"access-token-unsecure-{chat.cookie_id}"))

    return guard(server, service, signed_in)


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
        from rag.web.app import build_app  # Gradio: seconds to import, done in this thread

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


def serve(application, host: str, port: int, block: bool = True,
          forwarded_allow_ips: str | None = None, max_connections: int = 512) -> Running | None:
    """Run the application with uvicorn; with block=False in a thread, returned once it accepts requests.
    X-Forwarded-For is believed only from the proxies named in `forwarded_allow_ips` (off by default):
    otherwise any client could pick the address the login backoff counts against. `max_connections`:
    past it new connections get 503, so connections that never finish their headers cannot take every
    file descriptor (a reverse proxy bounds their time; see SECURITY.md)."""
    config = uvicorn.Config(application, host=host, port=port, log_level="warning" if block else "error",
                            access_log=False, timeout_graceful_shutdown=2,
                            proxy_headers=bool(forwarded_allow_ips), forwarded_allow_ips=forwarded_allow_ips or "",
                            limit_concurrency=max_connections)
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
