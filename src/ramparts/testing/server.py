"""A real ramparts server in a background thread, on a free port of 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from ramparts.core.clock import Clock
from ramparts.core.ids import IdGenerator
from ramparts.server.config import ServerConfig
from ramparts.server.http import bind, build_server
from ramparts.server.runtime import Runtime, initialize, open_runtime
from ramparts.services.accounts import Bootstrap

__all__ = ["RunningServer", "start_server"]

STARTUP_TIMEOUT = 20.0  # seconds


@dataclass
class RunningServer:
    """A started server: where it listens, the bootstrap administrator's key, and its parts."""

    endpoint: str
    port: int
    bootstrap: Bootstrap
    runtime: Runtime
    data_dir: Path
    _server: uvicorn.Server
    _thread: threading.Thread

    @property
    def account_id(self) -> str:
        return self.bootstrap.account.account_id

    @property
    def admin_key(self) -> tuple[str, str]:
        return self.bootstrap.admin_access_key_id, self.bootstrap.admin_access_key_secret

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=STARTUP_TIMEOUT)
        self.runtime.close()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_server(data_dir: Path, *, database_url: str | None = None,
                 environ: Mapping[str, str] | None = None, clock: Clock | None = None,
                 ids: IdGenerator | None = None, alias: str = "ramparts-test",
                 tls_cert: Path | None = None, tls_key: Path | None = None,
                 trail_delivery_interval: float | None = 0.2,
                 scheduler_interval: float = 3600.0) -> RunningServer:
    """Initialize a fresh account in `data_dir` (or the database) and serve it until `stop`;
    trails deliver under `data_dir/delivery` every `trail_delivery_interval` seconds (None: no
    delivery); scheduled work (key and secret rotations, deletions) runs every
    `scheduler_interval` seconds, and whenever a test calls `runtime.run_scheduled()`."""
    environ = dict(environ or {})
    bootstrap = initialize(data_dir, environ, database_url=database_url, alias=alias,
                           clock=clock, ids=ids)
    if bootstrap is None:
        raise RuntimeError(f"{data_dir} already holds an account; give a fresh data dir")
    runtime = open_runtime(data_dir, environ, database_url=database_url, clock=clock, ids=ids)
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = ServerConfig(data_dir=data_dir, host="127.0.0.1", port=port,
                          database_url=database_url, tls_cert=tls_cert, tls_key=tls_key)
    server = build_server(config, runtime, log_level="warning")
    if trail_delivery_interval is not None:
        runtime.start_delivery(config.delivery_root, trail_delivery_interval)
    runtime.start_indexing()
    runtime.start_scheduler(scheduler_interval)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"ramparts-server-{port}")
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            runtime.close()
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return RunningServer(f"127.0.0.1:{port}", port, bootstrap, runtime, data_dir, server, thread)
