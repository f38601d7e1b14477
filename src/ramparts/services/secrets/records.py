"""Secrets Manager's records: a secret, one of its versions, and a version's opened value."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from ramparts.services.secrets.checks import BINARY
from ramparts.store.base import Row

__all__ = ["Secret", "SecretValue", "SecretVersion"]


@dataclass(frozen=True, slots=True)
class Secret:
    account_id: str
    region: str
    secret_name: str
    secret_type: str
    description: str
    encryption_key_id: str
    extended_config: str | None
    automatic_rotation: str
    rotation_seconds: int | None
    last_rotation_at: str | None
    next_rotation_at: str | None
    created_at: str
    updated_at: str
    planned_delete_at: str | None
    next_version_number: int

    @classmethod
    def of(cls, row: Row) -> Secret:
        rotation = row["rotation_seconds"]
        return cls(**{**row, "rotation_seconds": int(rotation) if rotation is not None
                      else None, "next_version_number": int(row["next_version_number"])})

    @property
    def arn(self) -> str:
        return f"acs:kms:{self.region}:{self.account_id}:secret/{self.secret_name}"

    @property
    def pending_deletion(self) -> bool:
        return self.planned_delete_at is not None


@dataclass(frozen=True, slots=True)
class SecretVersion:
    version_id: str
    number: int
    data_type: str
    created_at: str
    stages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SecretValue:
    """One version's value, opened for one answer; repr() leaves the value out."""

    version: SecretVersion
    data: bytes = field(repr=False)

    def wire_data(self) -> str:
        """SecretData as answered: the text, or the base64 of a binary value."""
        if self.version.data_type == BINARY:
            return base64.b64encode(self.data).decode("ascii")
        return self.data.decode("utf-8")
