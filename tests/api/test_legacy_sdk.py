"""One flow through the older `aliyun-python-sdk-core` (RPC V1 signatures, CommonRequest):
create a user, read it back, assume a role and call as the session."""

from __future__ import annotations

import json
from typing import Any

from aliyunsdkcore.auth.credentials import StsTokenCredential
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from ramparts.testing import RunningServer
from tests.api.sdk import SdkClients


def _call(client: AcsClient, server: RunningServer, product: str, version: str, action: str,
          **params: str) -> dict[str, Any]:
    request = CommonRequest(domain=server.endpoint, version=version, action_name=action,
                            product=product)
    request.set_protocol_type("http")
    request.set_method("POST")
    request.set_accept_format("json")
    for name, value in params.items():
        request.add_query_param(name, value)
    return dict(json.loads(client.do_action_with_exception(request)))


def test_the_older_sdk_runs_a_whole_flow(admin: SdkClients, unique: str) -> None:
    server = admin.server
    key_id, secret = server.admin_key
    client = AcsClient(key_id, secret, "cn-hangzhou", auto_retry=False, timeout=20)
    created = _call(client, server, "Ram", "2015-05-01", "CreateUser",
                    UserName=f"{unique}-legacy", DisplayName="Legacy")
    assert created["User"]["UserName"] == f"{unique}-legacy"
    got = _call(client, server, "Ram", "2015-05-01", "GetUser", UserName=f"{unique}-legacy")
    assert got["User"]["DisplayName"] == "Legacy"
    trust = json.dumps({"Version": "1", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"RAM": [f"acs:ram::{server.account_id}:root"]}}]})
    _call(client, server, "Ram", "2015-05-01", "CreateRole", RoleName=f"{unique}-legacy-role",
          AssumeRolePolicyDocument=trust)
    assumed = _call(client, server, "Sts", "2015-04-01", "AssumeRole",
                    RoleArn=f"acs:ram::{server.account_id}:role/{unique}-legacy-role",
                    RoleSessionName="legacy")
    creds = assumed["Credentials"]
    session = AcsClient(region_id="cn-hangzhou", auto_retry=False, timeout=20,
                        credential=StsTokenCredential(creds["AccessKeyId"],
                                                      creds["AccessKeySecret"],
                                                      creds["SecurityToken"]))
    identity = _call(session, server, "Sts", "2015-04-01", "GetCallerIdentity")
    assert identity["Arn"] == (f"acs:ram::{server.account_id}:assumed-role/"
                               f"{unique}-legacy-role/legacy")
