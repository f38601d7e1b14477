"""Database servers for tests: a private password-checking PostgreSQL cluster and the MariaDB."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

__all__ = [
    "DatabaseServer",
    "ServerUnavailable",
    "mariadb_admin",
    "private_postgres",
    "unavailable",
]

POSTGRES_BIN = Path(os.environ.get("RAMPARTS_POSTGRES_BIN", "/usr/lib/postgresql/15/bin"))
POSTGRES_OS_USER = "postgres"
POSTGRES_SUPERUSER = "postgres"
START_TIMEOUT_SECONDS = 30
START_ATTEMPTS = 3


@dataclass(frozen=True)
class DatabaseServer:
    """Where an administrator logs in to a test database server."""

    host: str
    port: int
    superuser: str
    superuser_password: str = field(repr=False)


class ServerUnavailable(Exception):
    """A test database server could not be started or reached."""


def unavailable(reason: str) -> NoReturn:
    """Fail under CI=true, where every server must be there; skip elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: database servers are required)", pytrace=False)
    pytest.skip(reason)


def mariadb_admin() -> DatabaseServer:
    """The machine's MariaDB (or MySQL) and its administrator, overridable by environment."""
    return DatabaseServer(
        host=os.environ.get("RAMPARTS_MARIADB_HOST", "127.0.0.1"),
        port=int(os.environ.get("RAMPARTS_MARIADB_PORT", "3306")),
        superuser=os.environ.get("RAMPARTS_MARIADB_USER", "root"),
        superuser_password=os.environ.get("RAMPARTS_MARIADB_PASSWORD", ""),
    )


@contextmanager
def private_postgres() -> Iterator[DatabaseServer]:
    """A fresh PostgreSQL cluster that checks passwords (scram-sha-256), on 127.0.0.1 and a free
    port, removed with its files on exit. Raises ServerUnavailable when it cannot start."""
    for program in ("initdb", "pg_ctl"):
        if not (POSTGRES_BIN / program).is_file():
            raise ServerUnavailable(f"PostgreSQL's {program} is not in {POSTGRES_BIN}")
    base = Path(tempfile.mkdtemp(prefix="ramparts-pg-"))
    data = base / "data"
    password = secrets.token_urlsafe(24)
    started = False
    try:
        _hand_to_postgres(base)
        _initdb(base, data, password)
        for attempt in range(1, START_ATTEMPTS + 1):
            port = _free_port()
            _configure(data, base, port)
            try:
                _pg_ctl(data, "start", "-l", str(base / "server.log"))
            except ServerUnavailable:
                if attempt == START_ATTEMPTS:
                    raise
                continue
            started = True
            break
        yield DatabaseServer("127.0.0.1", port, POSTGRES_SUPERUSER, password)
    finally:
        if started:
            try:
                _pg_ctl(data, "stop", "-m", "fast")
            finally:
                shutil.rmtree(base, ignore_errors=True)
        else:
            shutil.rmtree(base, ignore_errors=True)


def _as_postgres(command: Sequence[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres OS user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", POSTGRES_OS_USER, "--", *command]
    return list(command)


def _run(command: Sequence[str], what: str) -> None:
    try:
        result = subprocess.run(
            _as_postgres(command),
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS + 30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ServerUnavailable(f"{what} failed: {error}") from error
    if result.returncode != 0:
        output = (result.stderr or result.stdout).strip()[-2000:]
        raise ServerUnavailable(f"{what} failed (exit {result.returncode}): {output}")


def _hand_to_postgres(base: Path) -> None:
    if os.geteuid() == 0:
        try:
            shutil.chown(base, POSTGRES_OS_USER, POSTGRES_OS_USER)
        except (LookupError, OSError) as error:
            message = f"cannot give {base} to the postgres OS user: {error}"
            raise ServerUnavailable(message) from error
    base.chmod(0o700)


def _initdb(base: Path, data: Path, password: str) -> None:
    pwfile = base / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    try:
        if os.geteuid() == 0:
            shutil.chown(pwfile, POSTGRES_OS_USER, POSTGRES_OS_USER)
        pwfile.chmod(0o600)
        _run(
            [
                str(POSTGRES_BIN / "initdb"),
                "--pgdata", str(data),
                "--username", POSTGRES_SUPERUSER,
                "--auth=scram-sha-256",
                "--pwfile", str(pwfile),
                "--encoding", "UTF8",
                "--locale", "C",
                "--no-sync",
            ],
            "initdb",
        )
    finally:
        pwfile.unlink(missing_ok=True)


def _configure(data: Path, base: Path, port: int) -> None:
    # postgresql.auto.conf is read last, so a rewrite there wins over postgresql.conf.
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(base),
        "password_encryption": "scram-sha-256",
        "fsync": "off",
        "max_connections": "50",
    }
    lines = [f"{name} = '{value}'" for name, value in settings.items()]
    (data / "postgresql.auto.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _pg_ctl(data: Path, action: str, *options: str) -> None:
    command = [
        str(POSTGRES_BIN / "pg_ctl"), action, "--pgdata", str(data), "--wait",
        "--timeout", str(START_TIMEOUT_SECONDS), *options,
    ]
    _run(command, f"pg_ctl {action}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
