"""RAM names and resource names: what a valid name is, and the ARN of each entity."""

from __future__ import annotations

import re

from ramparts.services.ram.errors import InvalidParameter

__all__ = ["check_name", "entity_arn", "key_of"]

# [doc: CreateUser; CreateGroup; CreateRole; CreatePolicy]: user and group names 1-64 characters
# of letters, digits, `.`, `-`, `_`; role names 1-64 of letters, digits, `.`, `-`; policy names
# 1-128 of letters, digits, `-`.
_SHAPES = {
    "UserName": (re.compile(r"[A-Za-z0-9._-]+"), 64),
    "GroupName": (re.compile(r"[A-Za-z0-9._-]+"), 64),
    "RoleName": (re.compile(r"[A-Za-z0-9.-]+"), 64),
    "PolicyName": (re.compile(r"[A-Za-z0-9-]+"), 128),
}


def check_name(kind: str, value: str, parameter: str | None = None) -> str:
    """`value` if it is a valid name of `kind` (`UserName`, `GroupName`, `RoleName`,
    `PolicyName`); the error names `parameter` (`NewUserName`), `kind` by default."""
    shape, limit = _SHAPES[kind]
    parameter = parameter or kind
    if not 1 <= len(value) <= limit:
        raise InvalidParameter(
            f"{parameter}.Length", f'The parameter - "{parameter}" beyond the length limit.'
        )
    if not shape.fullmatch(value):
        raise InvalidParameter(
            f"{parameter}.InvalidChars", f'The parameter - "{parameter}" contains invalid chars.'
        )
    return value


def key_of(name: str) -> str:
    """The lookup key of a name: RAM names are unique regardless of case."""
    return name.lower()


def entity_arn(account_id: str, kind: str, name: str) -> str:
    """`acs:ram::<account>:<kind>/<name>`, the form RAM returns."""
    return f"acs:ram::{account_id}:{kind}/{name}"
