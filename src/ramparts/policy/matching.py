"""Wildcard matching of actions and `acs:` resource names, compiled once per pattern.

`*` matches any run of characters (also none) and `?` exactly one [doc: Policy structure and
syntax]. Actions are matched case-insensitively, as RAM treats action names; resource names are
matched case-sensitively, since object keys and resource ids are case-sensitive. A resource
pattern is matched part by part (service, region, account, relative id), so a wildcard in one
part never spills into the next, except in the last part written, which may cover the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ramparts.core.identifiers import ARN_PREFIX

__all__ = [
    "Matcher",
    "action_service",
    "compile_action",
    "compile_glob",
    "compile_resource",
    "has_wildcard",
]

Matcher = Callable[[str], bool]


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _glob_regex(pattern: str) -> str:
    return "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )


def compile_glob(pattern: str, *, ignore_case: bool = False) -> Matcher:
    """A matcher for one glob pattern, with fast paths for the common shapes."""
    if pattern == "*":
        return _match_anything
    if ignore_case:
        folded = pattern.lower()
        if not has_wildcard(folded):
            return _equals_folded(folded)
        if folded.endswith("*") and not has_wildcard(folded[:-1]):
            return _prefix_folded(folded[:-1])
        return _regex(re.compile(_glob_regex(pattern), re.IGNORECASE | re.DOTALL))
    if not has_wildcard(pattern):
        return pattern.__eq__
    if pattern.endswith("*") and not has_wildcard(pattern[:-1]):
        return _prefix(pattern[:-1])
    return _regex(re.compile(_glob_regex(pattern), re.DOTALL))


def _regex(compiled: re.Pattern[str]) -> Matcher:
    fullmatch = compiled.fullmatch

    def match(value: str) -> bool:
        return fullmatch(value) is not None

    return match


def _match_anything(_: str) -> bool:
    return True


def _equals_folded(folded: str) -> Matcher:
    def match(value: str) -> bool:
        return value.lower() == folded

    return match


def _prefix_folded(folded: str) -> Matcher:
    def match(value: str) -> bool:
        return value.lower().startswith(folded)

    return match


def _prefix(prefix: str) -> Matcher:
    def match(value: str) -> bool:
        return value.startswith(prefix)

    return match


def action_service(action: str) -> str | None:
    """The service code an action pattern is confined to (lowercase), or None if any."""
    service, separator, _ = action.partition(":")
    if not separator or has_wildcard(service):
        return None
    return service.lower()


def compile_action(pattern: str) -> Matcher:
    return compile_glob(pattern, ignore_case=True)


def _part_regex(pattern: str, *, last: bool) -> str:
    """A part of a resource pattern as a regex; wildcards stay inside the part unless last."""
    any_run, any_char = (".*", ".") if last else ("[^:]*", "[^:]")
    return "".join(
        any_run if char == "*" else any_char if char == "?" else re.escape(char)
        for char in pattern
    )


def compile_resource(pattern: str) -> Matcher:
    """A matcher for a resource pattern such as `acs:ecs:*:*:instance/i-*`."""
    if pattern == "*":
        return _match_anything
    parts = pattern.split(":", 4)
    if parts[0] != ARN_PREFIX or len(parts) < 2:
        return compile_glob(pattern)
    if len(parts) == 5 and parts[2] and not any(has_wildcard(part) for part in parts):
        return pattern.__eq__
    pieces = [_part_regex(part, last=i == len(parts) - 1) for i, part in enumerate(parts)]
    if len(parts) > 2 and parts[2] == "":
        # A resource of a global service is written with region `*` or empty; both are the
        # same resource [catalog README], so an empty region also matches a written `*`.
        pieces[2] = r"\*?"
    return _regex(re.compile(":".join(pieces), re.DOTALL))
