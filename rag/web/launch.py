"""`python app.py`: the command line that checks where and how the chat may be served (a loopback host or
auth, a free port, a private upload folder), then starts the service and the server (`rag.web.server`)."""
from __future__ import annotations

import argparse
import atexit
import errno
import ipaddress
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
from pathlib import Path

from rag.answering import answerers
from rag.errors import RagError
from rag.settings import Settings
from rag.web.server import Switch, create_starting, mount_chat, serve


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def port_number(text: str) -> int:
    """--port (or RAG_PORT): a port a server can listen on, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: give a number from 1 to 65535") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: give a number from 1 to 65535")
    return port


def listen_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, in words to act on; None when it can. Binds with
    SO_REUSEADDR, as uvicorn does: the server's own TIME_WAIT sockets after a restart do not count."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]  # ::1 is IPv6
    except socket.gaierror:
        return f"the host {host} is not a name or address this machine can resolve: use --host or RAG_HOST."
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} is in use: use --port or PORT=."
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"this machine has no address {host}: use one of its own with --host (or RAG_HOST)."
            return f"cannot listen on {host} port {port} ({exc.strerror or exc})."
    return None


def private_inbox() -> Path:
    """A fresh upload folder for Gradio, inside whatever folder GRADIO_TEMP_DIR names (or the system's
    temp folder): files of others there are never taken for uploads, nor deleted. Removed at exit; a
    server stopped by a signal cannot do that, so each start removes those of servers no longer alive
    (the folder's name holds its server's process id)."""
    parent = Path(os.environ.get("GRADIO_TEMP_DIR") or tempfile.gettempdir())
    for old in parent.glob("rag-uploads-*-*"):
        pid = old.name.split("-")[2]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists() and old.stat().st_uid == os.getuid():
            shutil.rmtree(old, ignore_errors=True)
    inbox = tempfile.mkdtemp(prefix=f"rag-uploads-{os.getpid()}-", dir=parent)
    os.environ["GRADIO_TEMP_DIR"] = inbox
    atexit.register(shutil.rmtree, inbox, True)
    return Path(inbox)


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
    # a string default: argparse reads it with `type`, so a bad RAG_PORT is its usage error, not a traceback
    parser.add_argument("--port", type=port_number, default=os.environ.get("RAG_PORT", "7860"))
    parser.add_argument("--auth", default=os.environ.get("RAG_AUTH"), help="user:password (or $RAG_AUTH)")
    parser.add_argument("--insecure", action="store_true", help="allow a non-loopback host without --auth")
    parser.add_argument("--index", type=Path)
    parser.add_argument("--source", type=Path)
    parser.add_argument("--answerer", choices=answerers.names(), help="the default answerer")
    parser.add_argument("--base-url", help="an OpenAI-compatible endpoint (or RAG_OPENAI_BASE_URL)")
    parser.add_argument("--model", help="openai: model name; local: folder, .gguf file or gemma3-270m")
    parser.add_argument("--forwarded-allow-ips", default=os.environ.get("RAG_FORWARDED_ALLOW_IPS"),
                        help="believe X-Forwarded-For only from these proxy addresses (comma-separated); "
                             "off by default")
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
    token = os.environ.get("RAG_API_TOKEN")
    if token and not auth:
        print("warning: RAG_API_TOKEN is set but auth is off: the API is open to every client that reaches "
              "it; give --auth user:password to require the token.", file=sys.stderr)
    problem = listen_problem(args.host, args.port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    private_inbox()
    from rag.web.chat import ChatService  # after the port check: a busy port is told at once

    try:
        settings = Settings.from_env(source=args.source, index_dir=args.index, answerer=args.answerer,
                                     base_url=args.base_url, model=args.model)
    except RagError as exc:  # a bad environment value
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        service = ChatService(settings, watch=args.watch)
    except RagError as exc:  # its advice names this index, as the rag command's does
        print(f"error: {settings.for_this_index(str(exc))}", file=sys.stderr)
        return 1
    service.pipeline.warm()
    service.chat_ready = False
    switch = Switch(create_starting(service, auth, token))
    threading.Thread(target=mount_chat, args=(switch, service, auth, token), daemon=True, name="chat-ui").start()
    shown = f"[{args.host}]" if ":" in args.host else args.host  # an IPv6 address is bracketed in a URL
    print(f"Serving the chat at http://{shown}:{args.port} (the JSON API, POST /api/ask and GET /api/status, "
          "answers at once; the page follows in a few seconds)", flush=True)
    serve(switch, args.host, args.port, forwarded_allow_ips=args.forwarded_allow_ips)
    return 0
