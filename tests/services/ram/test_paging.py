"""RAM list paging: a marker resumes after the last item returned, whatever changed before it."""

from __future__ import annotations

import pytest

from ramparts.core.errors import ServiceError
from ramparts.services.ram.paging import page


def _walk(items: list[str], size: int) -> list[list[str]]:
    pages, marker = [], None
    while True:
        chosen, marker = page(items, str.lower, marker, size)
        pages.append(chosen)
        if marker is None:
            return pages


def test_pages_cover_every_item_once_in_key_order() -> None:
    items = ["delta", "Alpha", "charlie", "bravo", "echo"]
    assert _walk(items, 2) == [["Alpha", "bravo"], ["charlie", "delta"], ["echo"]]
    assert _walk(items, 5) == [["Alpha", "bravo", "charlie", "delta", "echo"]]
    assert _walk([], 3) == [[]]


def test_a_marker_survives_changes_before_it() -> None:
    first, marker = page(["a", "b", "c", "d", "e"], str.lower, None, 2)
    assert first == ["a", "b"]
    # "a" and "b" deleted, "0" added before the marker: the next page is still c, d
    chosen, following = page(["0", "c", "d", "e"], str.lower, marker, 2)
    assert chosen == ["c", "d"]
    assert page(["0", "c", "d", "e"], str.lower, following, 2) == (["e"], None)


def test_the_marker_of_a_deleted_item_still_resumes_after_it() -> None:
    _, marker = page(["a", "b", "c"], str.lower, None, 2)
    assert page(["a", "c"], str.lower, marker, 2) == (["c"], None)


def test_a_marker_is_opaque_text() -> None:
    _, marker = page(["a", "b"], str.lower, None, 1)
    assert marker is not None
    assert marker != "a"
    assert marker.isascii()
    assert page(["a", "b"], str.lower, marker, 1) == (["b"], None)


@pytest.mark.parametrize("marker", ["not a marker", "!!", "YQ==", "1"])
def test_a_marker_it_did_not_issue_is_refused(marker: str) -> None:
    with pytest.raises(ServiceError) as caught:
        page(["a", "b"], str.lower, marker, 1)
    assert caught.value.error_code == "InvalidParameter.Marker.Format"
