"""Identifiers, injected: request ids, AccessKey ids, resource ids and nonces."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import Protocol

__all__ = ["IdGenerator", "RandomIds", "SequentialIds"]

_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_DIGITS = "0123456789"


class IdGenerator(Protocol):
    def request_id(self) -> str:
        """An upper-case UUID, as Alibaba's RequestId."""
        ...

    def access_key_id(self) -> str:
        """`LTAI` followed by 20 letters and digits."""
        ...

    def sts_access_key_id(self) -> str:
        """`STS.` followed by 25 letters and digits."""
        ...

    def numeric(self, length: int) -> str:
        """A string of decimal digits, not starting with 0 (user ids, role ids)."""
        ...

    def token(self, length: int) -> str:
        """A string of letters and digits drawn from a CSPRNG (secrets, security tokens)."""
        ...

    def uuid(self) -> str:
        """A lower-case UUID (KMS key and key version ids)."""
        ...


class RandomIds:
    """Identifiers from a cryptographically secure generator (the default)."""

    def __init__(self, choice: Callable[[str], str] = secrets.choice) -> None:
        self._choice = choice

    def _draw(self, alphabet: str, length: int) -> str:
        return "".join(self._choice(alphabet) for _ in range(length))

    def request_id(self) -> str:
        return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4)).upper()

    def access_key_id(self) -> str:
        return "LTAI" + self._draw(_ALPHANUMERIC, 20)

    def sts_access_key_id(self) -> str:
        return "STS." + self._draw(_ALPHANUMERIC, 25)

    def numeric(self, length: int) -> str:
        return self._choice("123456789") + self._draw(_DIGITS, length - 1)

    def token(self, length: int) -> str:
        return self._draw(_ALPHANUMERIC, length)

    def uuid(self) -> str:
        return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


class SequentialIds:
    """Predictable identifiers for tests: each kind counts up from 1."""

    def __init__(self) -> None:
        self._counter = 0

    def _next(self) -> int:
        self._counter += 1
        return self._counter

    def request_id(self) -> str:
        return f"00000000-0000-4000-8000-{self._next():012d}"

    def access_key_id(self) -> str:
        return f"LTAI{self._next():020d}"

    def sts_access_key_id(self) -> str:
        return f"STS.{self._next():025d}"

    def numeric(self, length: int) -> str:
        return f"{self._next():0{length}d}".replace("0", "1", 1) if length else ""

    def token(self, length: int) -> str:
        return f"{self._next():0{length}d}"

    def uuid(self) -> str:
        return f"00000000-0000-4000-8000-{self._next():012d}"
