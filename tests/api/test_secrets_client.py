"""An application reading its secret with Alibaba's caching client,
`alibabacloud-secretsmanager-client-v2`, pointed at the server as ALIBABA-API 4.3 says: the
current value, the cached value until a refresh, then the new one; binary values; and a RAM
user who may read only that secret."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alibabacloud_kms20160120 import models as kms
from alibabacloud_secretsmanager_client_v2.secret_manager_cache_client_builder import (
    SecretManagerCacheClientBuilder,
)
from alibabacloud_secretsmanager_client_v2.service.default_secret_manager_client_builder import (
    DefaultSecretManagerClientBuilder,
)
from alibabacloud_tea_openapi.models import Config
from Tea.exceptions import TeaException

from tests.api.sdk import SdkClients, error_of, make_user


@contextmanager
def cache_client(clients: SdkClients) -> Iterator[Any]:
    """The caching client of an application holding `clients`' AccessKey."""
    config = Config(region_id="cn-hangzhou", endpoint=clients.server.endpoint, protocol="http",
                    access_key_id=clients.creds.access_key_id,
                    access_key_secret=clients.creds.access_key_secret)
    secret_client = DefaultSecretManagerClientBuilder.standard().add_config(config).build()
    client = SecretManagerCacheClientBuilder.new_cache_client_builder(secret_client).build()
    try:
        yield client
    finally:
        client.close()


def create(admin: SdkClients, name: str, data: str, **fields: Any) -> None:
    admin.kms.create_secret(kms.CreateSecretRequest(secret_name=name, version_id="v1",
                                                    secret_data=data, **fields))


def test_an_application_reads_the_current_value_and_the_next_after_a_refresh(
        admin: SdkClients, unique: str) -> None:
    name = f"prod/{unique}/orders/database"
    create(admin, name, '{"user": "orders", "password": "first-password"}')
    with cache_client(admin) as client:
        assert client.get_secret_value(name) == '{"user": "orders", "password": ' \
                                                '"first-password"}'
        info = client.get_secret_info(name)
        assert (info.secret_name, info.version_id, info.secret_data_type, info.secret_type,
                info.automatic_rotation) == (name, "v1", "text", "Generic", "Disabled")
        admin.kms.put_secret_value(kms.PutSecretValueRequest(
            secret_name=name, version_id="v2",
            secret_data='{"user": "orders", "password": "second-password"}'))
        # the cached value stands until its TTL (an hour) or a refresh
        assert "first-password" in client.get_secret_value(name)
        assert client.refresh_now(name) is True
        assert "second-password" in client.get_secret_value(name)
        assert client.get_secret_info(name).version_id == "v2"
    with cache_client(admin) as fresh:
        assert "second-password" in fresh.get_secret_value(name)


def test_an_application_reads_a_binary_secret(admin: SdkClients, unique: str) -> None:
    """The value comes as SecretData's base64 with SecretDataType `binary`, which the client
    honours (get_secret_value refuses it). The client's own get_binary_value cannot work with
    any server: it passes `bytes` to bytebuffer's ByteBuffer.wrap, which takes only a
    `bytearray` (byte_buffer_utils.covert_string_to_byte; bytebuffer 0.1.2 raises TypeError),
    so the application decodes the base64 itself."""
    name = f"{unique}/tls/private-key"
    raw = b"\x00\x01-----BEGIN PRIVATE KEY-----\xff"
    create(admin, name, base64.b64encode(raw).decode(), secret_data_type="binary")
    with cache_client(admin) as client:
        info = client.get_secret_info(name)
        assert info.secret_data_type == "binary"
        assert base64.b64decode(info.secret_value) == raw
        with pytest.raises(ValueError, match="do not support text value"):
            client.get_secret_value(name)
        with pytest.raises(TypeError, match="bytearray"):
            client.get_binary_value(name)


def test_an_application_allowed_one_secret_reads_only_that_one(admin: SdkClients,
                                                               unique: str) -> None:
    mine, other = f"{unique}/app/secret", f"{unique}/app/other"
    create(admin, mine, "the-app-secret")
    create(admin, other, "not-for-the-app")
    app = make_user(admin, f"{unique}-app", {
        "Effect": "Allow", "Action": "kms:GetSecretValue",
        "Resource": f"acs:kms:*:{admin.server.account_id}:secret/{mine}"})
    with cache_client(app) as client:
        assert client.get_secret_value(mine) == "the-app-secret"
        with pytest.raises(TeaException) as denied:
            client.get_secret_value(other)
        assert error_of(denied.value) == (403, "NoPermission")
