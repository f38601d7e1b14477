"""Server settings, read once from the command line and the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServerConfig", "default_data_dir"]


def default_data_dir() -> Path:
    """`RAMPARTS_DATA_DIR`, else a per-user data folder."""
    configured = os.environ.get("RAMPARTS_DATA_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ramparts"


@dataclass(frozen=True, slots=True)
class ServerConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    trail_delivery_root: Path | None = None  # default: <data_dir>/delivery
    trail_delivery_interval: float = 60.0  # seconds

    @property
    def delivery_root(self) -> Path:
        """Where trails deliver: one directory per bucket (`OssBucketName`)."""
        return self.trail_delivery_root or self.data_dir / "delivery"

    @property
    def endpoint(self) -> str:
        """What an SDK's `endpoint` setting should be (host:port, no scheme)."""
        return f"{self.host}:{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"
