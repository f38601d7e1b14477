"""Running the API over HTTP(S) with uvicorn: one event loop, no access log of query strings
(an RPC query can carry a password), a line per call with its request id instead."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import uvicorn

from ramparts.core.ids import RandomIds
from ramparts.crypto.keyring import RootKey
from ramparts.server.asgi import ApiApp
from ramparts.server.config import ServerConfig
from ramparts.server.group_commit import GroupCommitter
from ramparts.server.runtime import Runtime
from ramparts.server.sealed import AsgiApp, SealedApp, UnsealFacts
from ramparts.store.sqlite import SQLiteStore

__all__ = ["api_app", "bind", "build_sealed_server", "build_server"]

GRACEFUL_SHUTDOWN_SECONDS = 2


def api_app(runtime: Runtime) -> ApiApp:
    """The ASGI application serving the runtime's pipeline."""
    # SQLite: group commit, one fsync for the calls that arrive together (PostgreSQL serves
    # each call in a transaction of its own).
    grouped = GroupCommitter(runtime.pipeline, runtime.store) \
        if isinstance(runtime.store, SQLiteStore) else None
    return ApiApp(runtime.pipeline, grouped=grouped)


def build_server(config: ServerConfig, runtime: Runtime, *, log_level: str = "info"
                 ) -> uvicorn.Server:
    """A uvicorn server for the runtime's pipeline; `server.run()` serves until a signal,
    `server.run(sockets=[...])` on sockets bound by the caller."""
    return _server(config, api_app(runtime), log_level)


def build_sealed_server(config: ServerConfig, facts: UnsealFacts,
                        open_runtime: Callable[[RootKey], Runtime], *,
                        log_level: str = "info") -> tuple[uvicorn.Server, SealedApp]:
    """A uvicorn server that starts sealed and serves the API once enough key shares are
    given; `open_runtime(key)` opens (and starts) the runtime then. Close the SealedApp after
    the server stops: it closes that runtime."""
    sealed = SealedApp(facts, open_runtime, api_app, ids=RandomIds())
    return _server(config, sealed, log_level), sealed


def _server(config: ServerConfig, app: AsgiApp, log_level: str) -> uvicorn.Server:
    logging.getLogger("ramparts").setLevel(log_level.upper())
    settings = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        access_log=False,
        log_level=log_level,
        lifespan="off",
        server_header=False,
        date_header=True,
        ssl_certfile=str(config.tls_cert) if config.tls_cert else None,
        ssl_keyfile=str(config.tls_key) if config.tls_key else None,
        timeout_keep_alive=30,
        # The client address is the connection's own: uvicorn would otherwise take it from
        # X-Forwarded-For on connections from 127.0.0.1, letting any local caller choose the
        # source IP that acs:SourceIp conditions and the trail see.
        proxy_headers=False,
        # A TLS client that never answers close_notify would otherwise hold shutdown forever.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    return uvicorn.Server(settings)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket (port 0: a free one, read back with getsockname)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock
