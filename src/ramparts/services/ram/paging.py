"""RAM's list paging: `MaxItems` per page and an opaque `Marker` that resumes after the last item
returned, so items added or deleted before it shift nothing into or out of sight."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ramparts.services.call import Call
from ramparts.services.ram.errors import InvalidParameter

__all__ = ["DEFAULT_MAX_ITEMS", "MAX_ITEMS", "page", "paged_body", "read_page"]

T = TypeVar("T")

DEFAULT_MAX_ITEMS = 100  # [doc: ListUsers: MaxItems, 1-1000, default 100]
MAX_ITEMS = 1000


def _marker_of(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii").rstrip("=")


def _key_of_marker(marker: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(marker + "=" * (-len(marker) % 4))
        key = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        key = ""
    if not key or _marker_of(key) != marker:
        raise InvalidParameter("Marker.Format",
                               'The format of the parameter - "Marker" is incorrect.')
    return key


def page(items: Sequence[T], key: Callable[[T], str], marker: str | None,
         max_items: int) -> tuple[list[T], str | None]:
    """The items after `marker` in `key` order, at most `max_items` of them, and the marker of
    the next page (None on the last one)."""
    ordered = sorted(items, key=key)
    if marker:
        after = _key_of_marker(marker)
        ordered = [item for item in ordered if key(item) > after]
    chosen = ordered[:max_items]
    following = _marker_of(key(chosen[-1])) if len(ordered) > max_items else None
    return chosen, following


def read_page(call: Call, items: Sequence[T], key: Callable[[T], str]
              ) -> tuple[list[T], str | None]:
    """The page the call's `Marker` and `MaxItems` ask for."""
    max_items = int(call.params.int("MaxItems", default=DEFAULT_MAX_ITEMS, minimum=1,
                                    maximum=MAX_ITEMS))
    return page(items, key, call.params.str("Marker"), max_items)


def paged_body(outer: str, inner: str, chosen: list[dict[str, Any]],
               following: str | None) -> dict[str, Any]:
    """`{outer: {inner: [...]}, IsTruncated, Marker}`, the Marker only on a truncated page."""
    body: dict[str, Any] = {outer: {inner: chosen}, "IsTruncated": following is not None}
    if following is not None:
        body["Marker"] = following
    return body
