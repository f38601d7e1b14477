"""Official SDK clients pointed at a test server, and small builders of users and policies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from alibabacloud_actiontrail20200706.client import Client as ActionTrailClient
from alibabacloud_ims20190815.client import Client as ImsClient
from alibabacloud_kms20160120.client import Client as KmsClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.models import Config
from Tea.exceptions import TeaException

from ramparts.testing import RunningServer

__all__ = ["Credentials", "SdkClients", "error_of", "make_user", "policy_json"]


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    access_key_secret: str
    security_token: str | None = None


def _config(server: RunningServer, creds: Credentials, algorithm: str | None) -> Config:
    config = Config(access_key_id=creds.access_key_id, access_key_secret=creds.access_key_secret,
                    security_token=creds.security_token, endpoint=server.endpoint,
                    protocol="http", region_id="cn-hangzhou", read_timeout=20000,
                    connect_timeout=5000)
    if algorithm is not None:
        config.signature_algorithm = algorithm
    return config


@dataclass
class SdkClients:
    """RAM, STS, IMS, ActionTrail and KMS clients for one set of credentials; `algorithm='v2'`
    signs with RPC V1 (HMAC-SHA1), the default with ACS3-HMAC-SHA256."""

    server: RunningServer
    creds: Credentials
    algorithm: str | None = None

    @property
    def ram(self) -> RamClient:
        return RamClient(_config(self.server, self.creds, self.algorithm))

    @property
    def sts(self) -> StsClient:
        return StsClient(_config(self.server, self.creds, self.algorithm))

    @property
    def ims(self) -> ImsClient:
        return ImsClient(_config(self.server, self.creds, self.algorithm))

    @property
    def actiontrail(self) -> ActionTrailClient:
        return ActionTrailClient(_config(self.server, self.creds, self.algorithm))

    @property
    def kms(self) -> KmsClient:
        return KmsClient(_config(self.server, self.creds, self.algorithm))

    @classmethod
    def admin(cls, server: RunningServer, algorithm: str | None = None) -> SdkClients:
        key_id, secret = server.admin_key
        return cls(server, Credentials(key_id, secret), algorithm)


def error_of(exc: BaseException) -> tuple[int, str]:
    """(HTTP status, Code) of an SDK exception."""
    assert isinstance(exc, TeaException), exc
    status = int((exc.data or {}).get("statusCode", 0) or getattr(exc, "statusCode", 0) or 0)
    return status, str(exc.code)


def policy_json(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def make_user(admin: SdkClients, name: str, *statements: dict[str, Any]) -> SdkClients:
    """A RAM user with one custom policy of `statements` (none: no policy) and an AccessKey."""
    ram = admin.ram
    ram.create_user(ram_models.CreateUserRequest(user_name=name))
    if statements:
        policy_name = f"{name}-policy"
        ram.create_policy(ram_models.CreatePolicyRequest(
            policy_name=policy_name, policy_document=policy_json(*statements)))
        ram.attach_policy_to_user(ram_models.AttachPolicyToUserRequest(
            policy_type="Custom", policy_name=policy_name, user_name=name))
    key = ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name=name)).body
    assert key is not None
    assert key.access_key is not None
    return SdkClients(admin.server, Credentials(key.access_key.access_key_id or "",
                                                key.access_key.access_key_secret or ""),
                      admin.algorithm)
