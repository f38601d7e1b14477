"""Alibaba Cloud Resource Names (`acs:<service>:<region>:<account>:<relative-id>`)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ARN_PREFIX", "Arn", "parse_arn"]

ARN_PREFIX = "acs"


@dataclass(frozen=True, slots=True)
class Arn:
    """One resource name split into its five parts.

    The region of global services is written either empty (`acs:ram::1:user/a`) or `*` in
    Alibaba's documentation; both name the same resource, so `region` keeps what was written
    and `normalized_region` folds `*` to empty.
    """

    service: str
    region: str
    account: str
    relative_id: str

    @property
    def normalized_region(self) -> str:
        return "" if self.region == "*" else self.region

    def __str__(self) -> str:
        return f"{ARN_PREFIX}:{self.service}:{self.region}:{self.account}:{self.relative_id}"


def parse_arn(text: str) -> Arn | None:
    """Split `text` into an `Arn`, or return None when it does not have the five parts."""
    parts = text.split(":", 4)
    if len(parts) != 5 or parts[0] != ARN_PREFIX or not parts[1]:
        return None
    return Arn(service=parts[1], region=parts[2], account=parts[3], relative_id=parts[4])
