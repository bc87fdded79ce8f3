"""Who may in: HTTP Basic or a bearer token for the JSON API, the per-client backoff on failed
logins (one count for the login page and the API), and with auth on, a sign-in gate in front of the
chat that lets only the login page through without a login's cookie (and strips Gradio's endpoint
list from that page). What each promises is in SECURITY.md; tests/security/ holds each to it.
"""
from __future__ import annotations

import base64
import hmac
import re
import threading
import time
from typing import Callable

from fastapi.responses import JSONResponse

from rag.web.limits import client_of, refuse


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



class SignInGate:
    """With auth on, nothing answers without a login but the login page, its assets and the login
    itself. `signed_in(scope)` tells a signed-in request (Gradio's session cookie); the JSON API checks
    its own credentials, with the backoff, so it is let through to do so."""

    OPEN_EXACT = ("/", "/login", "/login/", "/favicon.ico", "/theme.css",
                  "/gradio_api/login_check", "/gradio_api/login_check/")
    OPEN_PREFIXES = ("/assets/", "/static/", "/gradio_api/assets/", "/svelte/", "/api/", "/custom_component/",
                     "/gradio_api/theme.css", "/gradio_api/static/")

    def __init__(self, app, signed_in: Callable[[dict], bool]) -> None:
        self.app, self.signed_in = app, signed_in

    def open(self, path: str) -> bool:
        return path in self.OPEN_EXACT or path.startswith(self.OPEN_PREFIXES)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not self.signed_in(scope):
            if not self.open(scope["path"]):
                return await refuse(401, "Log in first.")(scope, receive, send)
            if scope["path"] == "/":  # the login page: without the list of endpoints Gradio embeds in it
                return await self.app(scope, receive, without_api_info(send))
        if scope["type"] == "websocket" and not self.signed_in(scope):
            return await send({"type": "websocket.close", "code": 1008})
        await self.app(scope, receive, send)


API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.S)  # JSON here escapes "<": linear
NO_API_INFO = b'window.gradio_api_info = {"named_endpoints": {}, "unnamed_endpoints": {}};</script>'


def without_api_info(send):
    """A `send` that holds the page back until it is whole, then sends it with Gradio's API description
    (every endpoint and its parameters) replaced by an empty one."""
    start: dict = {}
    body = b""

    async def rewriting_send(message):
        nonlocal start, body
        if message["type"] == "http.response.start":
            start = message
            return
        if message["type"] != "http.response.body":
            return await send(message)
        body += message.get("body", b"")
        if message.get("more_body"):
            return
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        if not any(k.lower() == b"content-encoding" for k, _ in headers):  # plain HTML only
            body = API_INFO.sub(lambda _: NO_API_INFO, body, count=1)
        await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return rewriting_send
