"""A sealed server: nothing but unsealing until enough shares of the root key are given.

When `ramparts init --key-shares N --key-threshold K` split the root key, no key is stored:
`serve` starts sealed, answering every API call with ServiceUnavailable. Operators give their
shares one by one (`POST /ramparts/unseal`); the threshold-th one combines them into the root
key, which must have the key id that `unseal.json` recorded and open the store. The runtime is
then opened with it, and from then on every request, `/ramparts/*` included, goes to the API
through the same listening socket. Shares live in memory only, until they are combined.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ramparts.core.errors import RampartsError
from ramparts.core.files import write_new_private_file
from ramparts.core.ids import IdGenerator
from ramparts.crypto.keyring import KEY_ID_SIZE, KeyringError, RootKey
from ramparts.crypto.primitives import KEY_SIZE
from ramparts.crypto.shamir import MAX_SHARES, MIN_THRESHOLD, ShamirError, Share
from ramparts.protocol.envelope import error_response
from ramparts.protocol.errors import ServiceUnavailable
from ramparts.server.asgi import Receive, Scope, Send, read_body, send_response, serve_lifespan
from ramparts.server.runtime import NotInitialized, Runtime

__all__ = [
    "MAX_UNSEAL_BODY",
    "SEAL_STATUS_PATH",
    "UNSEAL_FILE_NAME",
    "UNSEAL_PATH",
    "AsgiApp",
    "SealedApp",
    "UnsealFacts",
    "UnsealFileError",
    "UnsealRefused",
    "read_unseal_file",
    "write_unseal_file",
]

UNSEAL_FILE_NAME = "unseal.json"
SEAL_STATUS_PATH = "/ramparts/seal-status"
UNSEAL_PATH = "/ramparts/unseal"
# A share of a 32-byte key is about 100 characters; a body far larger is not an unseal call.
MAX_UNSEAL_BODY = 16 * 1024
SEALED_MESSAGE = (
    "This ramparts server is sealed: its root key is split into key shares held by its "
    "operators, and it serves no API call until enough of them are given. Give shares with "
    f"`ramparts unseal` (POST {UNSEAL_PATH}); GET {SEAL_STATUS_PATH} shows the progress."
)

AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("ramparts.sealed")

_JSON_HEADERS = [(b"content-type", b"application/json;charset=utf-8"),
                 (b"cache-control", b"no-store")]


class UnsealFileError(RampartsError):
    """`unseal.json` is missing pieces or unreadable; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class UnsealFacts:
    """The public facts of a split root key: how many shares, how many unseal, and the id of
    the key they combine into."""

    key_shares: int
    key_threshold: int
    key_id: bytes

    def as_json(self) -> dict[str, Any]:
        return {"KeyShares": self.key_shares, "KeyThreshold": self.key_threshold,
                "KeyId": self.key_id.hex()}


def write_unseal_file(data_dir: Path, facts: UnsealFacts) -> Path:
    """Write `<data_dir>/unseal.json` (mode 0600), never over an existing file; its path."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = data_dir / UNSEAL_FILE_NAME
    try:
        write_new_private_file(path, (json.dumps(facts.as_json(), indent=2) + "\n")
                               .encode("ascii"))
    except FileExistsError:
        raise UnsealFileError(f"{path} already exists; this data dir already holds a split "
                              "root key, nothing was changed") from None
    except OSError as exc:
        raise UnsealFileError(f"cannot write {path}: {exc.strerror}") from None
    return path


def read_unseal_file(data_dir: Path) -> UnsealFacts | None:
    """The facts `write_unseal_file` recorded in `data_dir`; None when there is no such file."""
    path = data_dir / UNSEAL_FILE_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UnsealFileError(f"cannot read {path}: {exc}") from None
    try:
        body = json.loads(text)
        shares, threshold = body["KeyShares"], body["KeyThreshold"]
        key_id = bytes.fromhex(body["KeyId"])
    except (ValueError, KeyError, TypeError):
        raise UnsealFileError(f"{path} is not what `ramparts init --key-shares` writes: it "
                              "needs KeyShares, KeyThreshold and KeyId (hex)") from None
    counts = (shares, threshold)
    if (not all(isinstance(n, int) and not isinstance(n, bool) for n in counts)
            or not MIN_THRESHOLD <= threshold <= shares <= MAX_SHARES
            or len(key_id) != KEY_ID_SIZE):
        raise UnsealFileError(f"{path} holds impossible values: {MIN_THRESHOLD} <= KeyThreshold"
                              f" <= KeyShares <= {MAX_SHARES}, KeyId of {KEY_ID_SIZE} bytes")
    return UnsealFacts(shares, threshold, key_id)


class UnsealRefused(RampartsError):
    """A share not taken, or shares that did not unseal: answered with the HTTP `status` and
    `{"Code": code, "Message": message}`. Messages name share indexes and split ids, which
    are public, never share values."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class SealedApp:
    """The ASGI application of a sealed server, and of the same server once unsealed.

    `open_runtime(key)` opens the store with the combined root key and starts its background
    work, raising KeyringError when the key does not open it; `serve(runtime)` is the API
    application that answers every request from then on. Unsealing runs on the event loop
    without awaiting, so two unseal calls never interleave.
    """

    def __init__(self, facts: UnsealFacts, open_runtime: Callable[[RootKey], Runtime],
                 serve: Callable[[Runtime], AsgiApp], *, ids: IdGenerator) -> None:
        self._facts = facts
        self._open_runtime = open_runtime
        self._serve = serve
        self._ids = ids
        self._shares: list[Share] = []
        self._runtime: Runtime | None = None
        self._api: AsgiApp | None = None

    @property
    def sealed(self) -> bool:
        return self._api is None

    @property
    def progress(self) -> int:
        """How many shares were given towards the threshold so far."""
        return len(self._shares)

    @property
    def runtime(self) -> Runtime | None:
        """The runtime opened by unsealing; None while sealed."""
        return self._runtime

    def status(self) -> dict[str, Any]:
        return {"Sealed": self.sealed, "Progress": self.progress,
                "Threshold": self._facts.key_threshold}

    def close(self) -> None:
        """Forget the shares given, and close the runtime if unsealing opened one."""
        self._shares = []
        runtime, self._runtime = self._runtime, None
        if runtime is not None:
            runtime.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._api is not None:
            await self._api(scope, receive, send)
            return
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope.get("path", "/"), scope["method"]
        if path == SEAL_STATUS_PATH:
            if method not in ("GET", "HEAD"):
                await _answer(send, 405, _error("MethodNotAllowed", f"use GET {path}"))
                return
            await _answer(send, 200, self.status())
        elif path == UNSEAL_PATH:
            if method != "POST":
                await _answer(send, 405, _error("MethodNotAllowed", f"use POST {path}"))
                return
            body = await _read_body(receive)
            status, answer = self._unseal_call(body)
            await _answer(send, status, answer)
        else:
            await self._refuse_sealed(send)

    def _unseal_call(self, body: bytes | None) -> tuple[int, dict[str, Any]]:
        if self._api is not None:  # unsealed by another call while this body was read
            return 200, self.status()
        try:
            request = _unseal_request(body)
            if request.get("Reset") is True:
                if self._shares:
                    log.warning("the %d key share(s) given so far were forgotten on request",
                                len(self._shares))
                self._shares = []
                return 200, self.status()
            self.give(request["Share"])
        except UnsealRefused as refusal:
            return refusal.status, _error(refusal.code, refusal.message)
        return 200, self.status()

    def give(self, text: str) -> None:
        """Take one encoded share; at the threshold, combine and unseal. UnsealRefused says
        why a share was not taken, or why the shares did not unseal (all are forgotten then).
        Once unsealed, a share is not needed and is dropped."""
        if self._api is not None:
            return
        try:
            share = Share.parse(text)
        except ShamirError as exc:
            raise UnsealRefused(400, "InvalidShare", str(exc)) from None
        self._check(share)
        self._shares.append(share)
        log.info("key share %d of %d given", len(self._shares), self._facts.key_threshold)
        if len(self._shares) >= self._facts.key_threshold:
            shares, self._shares = self._shares, []
            self._unseal(shares)

    def _check(self, share: Share) -> None:
        facts = self._facts
        if share.threshold != facts.key_threshold or share.index > facts.key_shares:
            raise UnsealRefused(400, "InvalidShare", (
                f"this is a share of another split: it is share {share.index} of a split "
                f"needing {share.threshold}, and this server's root key was split into "
                f"{facts.key_shares} shares needing {facts.key_threshold}"))
        if len(share.value) != KEY_SIZE:
            raise UnsealRefused(400, "InvalidShare",
                           "this is a share of something else than a ramparts root key")
        if not self._shares:
            return
        first = self._shares[0]
        if share.split_id != first.split_id:
            raise UnsealRefused(400, "InvalidShare", (
                f"this share comes from another split (split id {share.split_id.hex()}) than "
                f"the {len(self._shares)} given so far (split id {first.split_id.hex()}); if "
                "those are the wrong ones, start over with `ramparts unseal --reset`"))
        if any(given.index == share.index for given in self._shares):
            raise UnsealRefused(400, "InvalidShare", (
                f"share {share.index} was already given; each share counts once, give "
                "another one"))

    def _unseal(self, shares: list[Share]) -> None:
        forgotten = f"the {len(shares)} shares given were forgotten; give shares again"
        try:
            key = RootKey.combine(shares)
        except ShamirError as exc:
            log.warning("the key shares given did not combine; they were forgotten")
            raise UnsealRefused(400, "InvalidShares", f"{exc}; {forgotten}") from None
        finally:
            shares.clear()
        if not hmac.compare_digest(key.key_id, self._facts.key_id):
            log.warning("the key shares given combine into another root key (key id %s); "
                        "they were forgotten", key.key_id.hex())
            raise UnsealRefused(400, "InvalidShares", (
                f"these shares combine into a root key with key id {key.key_id.hex()}, but "
                f"this server's root key has key id {self._facts.key_id.hex()} (its "
                f"{UNSEAL_FILE_NAME}): they are not shares of this server's key; {forgotten}"))
        runtime = self._open(key, forgotten)
        try:
            api = self._serve(runtime)
        except BaseException:
            runtime.close()
            raise
        self._runtime, self._api = runtime, api
        log.warning("the server is unsealed (root key id %s); serving the API",
                    key.key_id.hex())

    def _open(self, key: RootKey, forgotten: str) -> Runtime:
        try:
            return self._open_runtime(key)
        except NotInitialized as exc:
            log.error("unsealing failed: %s", exc)
            raise UnsealRefused(503, "StoreUnavailable", f"{exc}; {forgotten}") from None
        except KeyringError:
            log.warning("the key shares given combine into a key that does not open the "
                        "store; they were forgotten")
            raise UnsealRefused(400, "InvalidShares", (
                f"these shares combine into a root key with this server's key id, but it does "
                f"not open the store's sealed values; {forgotten}")) from None
        except RampartsError as exc:
            log.error("unsealing failed: the store could not be opened: %s", exc)
            raise UnsealRefused(503, "StoreUnavailable", (
                f"the store could not be opened (see the server's log); {forgotten}")) from None

    async def _refuse_sealed(self, send: Send) -> None:
        response = error_response(ServiceUnavailable(SEALED_MESSAGE), self._ids.request_id(),
                                  "ramparts")
        await send_response(send, response.status,
                            [(k.encode(), v.encode()) for k, v in response.headers],
                            response.body)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"Code": code, "Message": message}


def _unseal_request(body: bytes | None) -> Mapping[str, Any]:
    if body is None:
        raise UnsealRefused(413, "RequestTooLarge",
                       f"the request body is larger than {MAX_UNSEAL_BODY} bytes")
    try:
        request = json.loads(body)
    except ValueError:
        request = None
    if not isinstance(request, dict) or not (
            isinstance(request.get("Share"), str) or request.get("Reset") is True):
        raise UnsealRefused(400, "InvalidRequest",
                       'send a JSON object: {"Share": "<one key share>"} or {"Reset": true}')
    return request


async def _read_body(receive: Receive) -> bytes | None:
    """The request body, or None when it is larger than MAX_UNSEAL_BODY."""
    body, too_large = await read_body(receive, MAX_UNSEAL_BODY)
    return None if too_large else body


async def _answer(send: Send, status: int, body: Mapping[str, Any]) -> None:
    await send_response(send, status, list(_JSON_HEADERS),
                        json.dumps(body, separators=(",", ":")).encode("utf-8"))
