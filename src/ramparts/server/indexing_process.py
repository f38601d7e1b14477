"""The trail indexer beside the server, in a process of its own (`ramparts trail index --follow`):
indexing takes no share of the interpreter that serves the calls, and a crash of either leaves
the other running. A supervising thread starts it again if it ends."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from ramparts.crypto.keyring import ROOT_KEY_ENV

__all__ = ["IndexingProcess"]

log = logging.getLogger("ramparts.indexing")
DATABASE_URL_ENV = "RAMPARTS_DATABASE_URL"  # a URL may hold a password: never on argv
RESTART_DELAY = 1.0  # seconds before an ended indexer is started again
STOP_TIMEOUT = 30.0


class IndexingProcess:
    """Keeps one `ramparts trail index --follow` running for the server's store until `stop`."""

    def __init__(self, data_dir: Path, database_url: str | None, interval: float) -> None:
        self.data_dir, self.database_url, self.interval = data_dir, database_url, interval
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> IndexingProcess:
        if self._thread is None:
            self._thread = threading.Thread(target=self._supervise, name="ramparts-indexing",
                                            daemon=True)
            self._thread.start()
        return self

    @property
    def pid(self) -> int | None:
        """The running indexer's process id (None before it has started)."""
        with self._lock:
            return self._process.pid if self._process is not None else None

    def _spawn(self) -> subprocess.Popen[bytes]:
        # It reads events and writes the index: it needs the store, never the root key.
        environ = {key: value for key, value in os.environ.items()
                   if key not in (DATABASE_URL_ENV, ROOT_KEY_ENV)}
        if self.database_url is not None:
            environ[DATABASE_URL_ENV] = self.database_url
        return subprocess.Popen(
            [sys.executable, "-m", "ramparts", "trail", "index", "--follow", "--with-parent",
             "--data-dir", str(self.data_dir), "--interval", str(self.interval)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, env=environ)

    def _supervise(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                if self._stopping.is_set():
                    return
                process = self._process = self._spawn()
            code = process.wait()
            if self._stopping.is_set():
                return
            log.warning("the trail indexer ended (exit code %s); starting it again", code)
            self._stopping.wait(RESTART_DELAY)

    def stop(self) -> None:
        """Stop the indexer (it finishes the batch under way) and its supervisor."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._thread is not None:
            self._thread.join(timeout=STOP_TIMEOUT)
            self._thread = None
