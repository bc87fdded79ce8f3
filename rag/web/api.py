"""The plain JSON API, for programs that want one request per answer rather than Gradio's queue protocol.

    POST /api/ask     {"question": "...", "k": 5, "history": ["..."], "answerer": "extractive"}
                      -> the answer JSON of `rag ask --json`; errors -> {"error": "..."} with a 4xx status
    GET  /api/status  -> the index being served (source, chunks, model, build time, fresh or stale)

With auth on, it takes the chat's user and password (HTTP Basic) or `Authorization: Bearer $RAG_API_TOKEN`.
"""
from __future__ import annotations

import json
import logging

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from rag.errors import RagError
from rag.web.access import Throttle, credentials_ok, too_many
from rag.web.limits import Limits, client_of

log = logging.getLogger("rag.server")


def wrong_method(path: str, method: str):
    """A handler for the methods `path` does not take."""
    def handler() -> JSONResponse:
        return JSONResponse({"error": f"{path} takes {method} only."}, status_code=405, headers={"Allow": method})
    return handler


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
        if not request.headers.get("authorization"):  # no credentials at all: no guess to slow down
            return JSONResponse({"error": "This server needs a user and password (HTTP Basic) or a bearer token."},
                                status_code=401, headers={"WWW-Authenticate": 'Basic realm="rag"'})
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
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
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
        return service.status().to_json()

    # Another method on either route: the API's own error shape and a 405 that names the right one, not
    # FastAPI's {"detail": "Not Found"}.
    for path, method in (("/api/ask", "POST"), ("/api/status", "GET")):
        others = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m != method]
        server.add_api_route(path, wrong_method(path, method), methods=others, include_in_schema=False)

    server.state.throttle, server.state.limits, server.state.auth, server.state.token = throttle, limits, auth, token
    return server
