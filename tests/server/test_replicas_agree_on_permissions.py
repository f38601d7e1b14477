"""Replicas sharing PostgreSQL decide with the same policies: what one replica changes, the
other applies on its very next call, whatever it compiled and cached before."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi.models import Config
from Tea.exceptions import TeaException

from ramparts.testing.process import ServerProcess
from tests.api.refusals import allowed
from tests.api.sdk import error_of, policy_json
from tests.conftest import PostgresDatabases

LIST_USERS = {"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "*"}
LIST_GROUPS = {"Effect": "Allow", "Action": "ram:ListGroups", "Resource": "*"}


def _init(data_dir: Path, database_url: str) -> dict[str, str]:
    args = [sys.executable, "-m", "ramparts", "init", "--data-dir", str(data_dir), "--json",
            "--database-url", database_url]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def _ram(key_id: str, secret: str, endpoint: str) -> RamClient:
    return RamClient(Config(access_key_id=key_id, access_key_secret=secret, endpoint=endpoint,
                            protocol="http", region_id="cn-hangzhou", read_timeout=10000,
                            connect_timeout=2000))


def test_a_policy_made_again_on_one_replica_is_not_served_stale_by_the_other(
        tmp_path: Path, postgres_databases: PostgresDatabases) -> None:
    url = postgres_databases.create()
    creds = _init(tmp_path / "data", url)
    with ServerProcess(tmp_path / "data", database_url=url) as first, \
            ServerProcess(tmp_path / "data", database_url=url) as second:
        admin = _ram(creds["AccessKeyId"], creds["AccessKeySecret"], first.endpoint)
        admin.create_user(ram_models.CreateUserRequest(user_name="tess"))
        admin.create_policy(ram_models.CreatePolicyRequest(
            policy_name="tess-policy", policy_document=policy_json(LIST_USERS)))
        attach = ram_models.AttachPolicyToUserRequest(policy_type="Custom",
                                                      policy_name="tess-policy",
                                                      user_name="tess")
        admin.attach_policy_to_user(attach)
        key = admin.create_access_key(ram_models.CreateAccessKeyRequest(
            user_name="tess")).body.access_key
        tess = _ram(key.access_key_id, key.access_key_secret, second.endpoint)

        def list_users() -> object:
            return tess.list_users(ram_models.ListUsersRequest(max_items=1))

        def list_groups() -> object:
            return tess.list_groups(ram_models.ListGroupsRequest(max_items=1))

        assert (allowed(list_users), allowed(list_groups)) == (True, False)  # cached there

        # On the first replica: the policy is deleted and made again, v1 with other text.
        admin.detach_policy_from_user(ram_models.DetachPolicyFromUserRequest(
            policy_type="Custom", policy_name="tess-policy", user_name="tess"))
        admin.delete_policy(ram_models.DeletePolicyRequest(policy_name="tess-policy"))
        admin.create_policy(ram_models.CreatePolicyRequest(
            policy_name="tess-policy", policy_document=policy_json(LIST_GROUPS)))
        admin.attach_policy_to_user(attach)

        assert (allowed(list_users), allowed(list_groups)) == (False, True)


def test_per_entity_limits_hold_when_replicas_race(tmp_path: Path,
                                                   postgres_databases: PostgresDatabases) -> None:
    """Two replicas creating AccessKeys for one user, and versions of one policy, at once:
    never more than the limit, and every refusal is the documented one (never an
    InternalError from two calls taking the same version id)."""
    url = postgres_databases.create()
    creds = _init(tmp_path / "data", url)
    with ServerProcess(tmp_path / "data", database_url=url) as first, \
            ServerProcess(tmp_path / "data", database_url=url) as second:
        clients = [_ram(creds["AccessKeyId"], creds["AccessKeySecret"], s.endpoint)
                   for s in (first, second) for _ in range(3)]
        admin = clients[0]
        outcomes: list[tuple[int, str]] = []
        lock = threading.Lock()

        def race(call: Callable[[RamClient], object]) -> list[tuple[int, str]]:
            outcomes.clear()
            start = threading.Barrier(len(clients))

            def run(client: RamClient) -> None:
                start.wait()
                try:
                    call(client)
                    outcome = (200, "")
                except TeaException as exc:
                    outcome = error_of(exc)
                with lock:
                    outcomes.append(outcome)

            threads = [threading.Thread(target=run, args=(c,)) for c in clients]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return sorted(outcomes)

        for round_ in range(3):
            user = f"racer{round_}"
            admin.create_user(ram_models.CreateUserRequest(user_name=user))
            answers = race(lambda c, user=user: c.create_access_key(  # type: ignore[misc]
                ram_models.CreateAccessKeyRequest(user_name=user)))
            assert answers == [(200, "")] * 2 + [(409, "LimitExceeded.User.AccessKey")] * 4
            keys = admin.list_access_keys(ram_models.ListAccessKeysRequest(
                user_name=user)).body.access_keys.access_key
            assert len(keys) == 2

            policy = f"racer{round_}-policy"
            admin.create_policy(ram_models.CreatePolicyRequest(
                policy_name=policy, policy_document=policy_json(LIST_USERS)))
            answers = race(lambda c, policy=policy: c.create_policy_version(  # type: ignore[misc]
                ram_models.CreatePolicyVersionRequest(policy_name=policy,
                                                      policy_document=policy_json(LIST_GROUPS))))
            assert answers == [(200, "")] * 4 + [(409, "LimitExceeded.Policy.Version")] * 2
            versions = admin.list_policy_versions(ram_models.ListPolicyVersionsRequest(
                policy_name=policy, policy_type="Custom")).body.policy_versions.policy_version
            assert [v.version_id for v in versions] == ["v1", "v2", "v3", "v4", "v5"]
