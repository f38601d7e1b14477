"""RAM's entities as plain values, with no wire knowledge."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AccessKey", "Group", "Policy", "PolicyVersion", "Role", "User"]


@dataclass(frozen=True, slots=True)
class User:
    user_id: str
    user_name: str
    display_name: str
    email: str
    mobile_phone: str
    comments: str
    created_at: str
    updated_at: str
    last_login_at: str | None


@dataclass(frozen=True, slots=True)
class AccessKey:
    access_key_id: str
    user_name: str
    status: str
    created_at: str
    last_used_at: str | None
    last_used_service: str | None


@dataclass(frozen=True, slots=True)
class Group:
    group_id: str
    group_name: str
    comments: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Role:
    role_id: str
    role_name: str
    arn: str
    description: str
    trust_policy: str
    max_session_duration: int
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Policy:
    policy_name: str
    policy_type: str
    description: str
    default_version: str
    created_at: str
    updated_at: str
    attachment_count: int


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version_id: str
    document: str
    is_default: bool
    created_at: str
