"""`ramparts unseal`: give a sealed server one key share, read from standard input."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, TextIO

from ramparts.cli.errors import UsageError
from ramparts.cli.trail_commands import ENDPOINT_ENV
from ramparts.crypto.shamir import ShamirError, Share
from ramparts.policy.catalog import Catalog
from ramparts.server.sealed import SEAL_STATUS_PATH, UNSEAL_PATH

__all__ = ["add_unseal_command"]

DEFAULT_ENDPOINT = "127.0.0.1:8080"
TIMEOUT = 60.0  # seconds: the last share opens the store before the server answers
# A share is about 100 characters, perhaps wrapped on paste; more than this is not one share.
MAX_SHARE_INPUT = 16 * 1024


def add_unseal_command(subparsers: Any) -> None:
    unseal = subparsers.add_parser(
        "unseal", help="give a sealed server one key share, read from standard input",
        description="Give a sealed server (one started from a root key split by `ramparts init "
        "--key-shares`) one key share. The share is read from standard input, never from the "
        "command line, where shell history and `ps` would keep it. The server unseals when "
        "enough shares have been given.")
    unseal.add_argument("--endpoint", help=f"host:port of the server (default ${ENDPOINT_ENV}, "
                                           f"else {DEFAULT_ENDPOINT})")
    unseal.add_argument("--https", action="store_true", help="connect over TLS")
    unseal.add_argument("--ca-file", help="trust this CA certificate (PEM) for --https")
    unseal.add_argument("--json", action="store_true", help="print the seal status as JSON")
    action = unseal.add_mutually_exclusive_group()
    action.add_argument("--status", action="store_true",
                        help="only show whether the server is sealed and how many shares it has")
    action.add_argument("--reset", action="store_true",
                        help="make the server forget the shares given so far, to start over")
    unseal.set_defaults(handler=_unseal)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: dict[str, Any]

    @property
    def seal_status(self) -> dict[str, Any] | None:
        """The seal status in the answer; `{"Sealed": false}` when an API answered instead
        (an unsealed server serves every path as the API); None for anything else."""
        if isinstance(self.body.get("Sealed"), bool):
            return self.body
        if "RequestId" in self.body and "Code" in self.body:
            return {"Sealed": False}
        return None


class _SealedServer:
    """The unseal endpoints of one server."""

    def __init__(self, endpoint: str, *, secure: bool, ca_file: str | None) -> None:
        self.url = f"{'https' if secure else 'http'}://{endpoint}"
        self._context = ssl.create_default_context(cafile=ca_file) if secure else None

    def status(self) -> _Answer:
        return self._send(SEAL_STATUS_PATH, None)

    def post(self, body: dict[str, Any]) -> _Answer:
        return self._send(UNSEAL_PATH, json.dumps(body).encode("utf-8"))

    def _send(self, path: str, data: bytes | None) -> _Answer:
        headers = {"Accept": "application/json", "User-Agent": "ramparts-cli"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(  # noqa: S310 (the scheme is http or https)
            self.url + path, data=data, method="GET" if data is None else "POST",
            headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT,  # noqa: S310 (http/https)
                                        context=self._context) as response:
                return _Answer(response.status, _json(response.read()))
        except urllib.error.HTTPError as error:
            return _Answer(error.code, _json(error.read()))
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise _Unreachable(f"cannot reach {self.url}: {reason}") from None


class _Unreachable(Exception):
    """The server did not answer."""


def _json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _endpoint(args: argparse.Namespace) -> str:
    option, text = "--endpoint", str(args.endpoint) if args.endpoint is not None else None
    if text is None:
        option, text = f"${ENDPOINT_ENV}", os.environ.get(ENDPOINT_ENV) or None
    if text is None:
        return DEFAULT_ENDPOINT
    if not _is_host_and_port(text):
        raise UsageError(f"{option} {text!r} is not host:port (e.g. {DEFAULT_ENDPOINT})")
    return text


def _is_host_and_port(text: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(f"//{text}")
        port = parts.port
    except ValueError:
        return False
    return (port is not None and 0 < port < 65536 and bool(parts.hostname)
            and not (parts.path or parts.query or parts.fragment or "@" in parts.netloc
                     or "#" in text or "?" in text))


def _read_share(stdin: TextIO) -> Share:
    if stdin.isatty():
        text = getpass.getpass("Key share (not shown): ")
    else:
        text = stdin.read(MAX_SHARE_INPUT + 1)
        if len(text) > MAX_SHARE_INPUT:
            raise UsageError("standard input holds far more than one key share; give one")
    if not text.strip():
        raise UsageError("no key share on standard input; give one, e.g. "
                         "`ramparts unseal < share.txt` or type it when asked")
    try:
        return Share.parse(text)
    except ShamirError as exc:
        raise UsageError(str(exc)) from None


def _describe(status: dict[str, Any], *, asked: bool) -> str:
    """What a seal status says: as asked for with --status, or after a share was given."""
    progress = f"{status.get('Progress')} of {status.get('Threshold')} shares given"
    if asked:
        return f"the server is sealed: {progress}" if status["Sealed"] else \
            "the server is not sealed"
    return f"{progress}; the server is still sealed" if status["Sealed"] else \
        "the server is unsealed"


def _report(status: dict[str, Any], args: argparse.Namespace, out: TextIO) -> None:
    text = json.dumps(status) if args.json else _describe(status, asked=args.status)
    out.write(text + "\n")


def _refused(answer: _Answer, what: str) -> int:
    message = answer.body.get("Message") or f"HTTP status {answer.status}"
    code = answer.body.get("Code")
    sys.stderr.write(f"ramparts: the server refused {what}: "
                     f"{f'{code}: ' if code else ''}{message}\n")
    return 1


def _unseal(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    if args.ca_file and not args.https:
        raise UsageError("--ca-file goes with --https")
    endpoint = _endpoint(args)
    share = None if args.status or args.reset else _read_share(sys.stdin)
    server = _SealedServer(endpoint, secure=args.https, ca_file=args.ca_file)
    try:
        answer = server.status()
        status = answer.seal_status
        if status is None:
            return _refused(answer, "to tell its seal status")
        if args.status or not status["Sealed"]:
            if share is not None:
                out.write("the server is not sealed; the share was not sent\n")
            _report(status, args, out)
            return 0
        if share is None:
            answer = server.post({"Reset": True})
            what = "to forget the shares given"
        else:
            answer = server.post({"Share": share.encode()})
            what = "the share"
    except _Unreachable as exc:
        sys.stderr.write(f"ramparts: {exc}\n")
        return 1
    status = answer.seal_status
    if answer.status != 200 or status is None:
        return _refused(answer, what)
    _report(status, args, out)
    return 0
