"""Expecting an SDK call to be refused: its HTTP status and Alibaba error Code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from Tea.exceptions import TeaException

from tests.api.sdk import error_of

__all__ = ["ISO_SECONDS", "allowed", "refused"]

ISO_SECONDS = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"  # RAM's dates: UTC, whole seconds


def refused(call: Callable[[], object]) -> tuple[int, str]:
    """(HTTP status, Code) of the error `call` answers with; fails if it succeeds."""
    with pytest.raises(TeaException) as raised:
        call()
    return error_of(raised.value)


def allowed(call: Callable[[], object]) -> bool:
    """Whether the call goes through; a refusal must be RAM's NoPermission."""
    try:
        call()
    except TeaException as exc:
        outcome = error_of(exc)
    else:
        return True
    assert outcome == (403, "NoPermission")
    return False
