"""Custom policies with up to five versions, system policies by name, and attachments."""

from __future__ import annotations

import re

from ramparts.core.clock import format_iso8601
from ramparts.policy.compiled import CompiledPolicy, PolicySource, PolicyType
from ramparts.policy.document import PolicyKind
from ramparts.policy.parser import MAX_CHARS, parse_policy
from ramparts.policy.validator import Severity, validate_policy
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    EntityNotExist,
    InvalidParameter,
    LimitExceeded,
    MalformedPolicyDocument,
)
from ramparts.services.ram.models import Policy, PolicyVersion
from ramparts.services.ram.names import check_name, key_of
from ramparts.store.base import ConflictError, Row, Transaction

__all__ = [
    "MAX_VERSIONS", "PRINCIPAL_TYPES", "PolicyBackend", "check_document", "check_policy_type",
    "check_version_id",
]

MAX_VERSIONS = 5  # versions per custom policy [doc: RAM Limits]
MAX_ATTACHED = {"User": 10, "Group": 5, "Role": 5}  # custom policies [doc: RAM Limits]
MAX_CUSTOM_POLICIES = 1500
MAX_DESCRIPTION = 1024  # characters [doc: CreatePolicy]
PRINCIPAL_TYPES = ("User", "Group", "Role")
POLICY_TYPES = ("System", "Custom")
_VERSION_ID = re.compile(r"v[1-9][0-9]{0,8}")


def check_policy_type(policy_type: str | None) -> str:
    """`System` or `Custom` [doc: Error messages: InvalidParameter.PolicyType]."""
    if policy_type not in POLICY_TYPES:
        raise InvalidParameter("PolicyType", 'The parameter - "PolicyType" is incorrect.')
    return policy_type


def check_version_id(version_id: str) -> str:
    """`v<n>` [doc: Error messages: InvalidParameter.VersionId.Format]."""
    if not _VERSION_ID.fullmatch(version_id):
        raise InvalidParameter("VersionId.Format",
                               'The format of the parameter - "VersionId" is incorrect.')
    return version_id


def _version_number(version_id: str) -> int:
    return int(version_id[1:])


def check_document(text: str, *, parameter: str = "PolicyDocument",
                   kind: PolicyKind = PolicyKind.IDENTITY) -> None:
    """Refuse a document with any validation error, naming the first one
    [doc: CreatePolicy: MalformedPolicyDocument]."""
    if len(text) > MAX_CHARS[kind]:
        raise InvalidParameter(f"{parameter}.Length",
                               f'The parameter - "{parameter}" beyond the length limit.')
    errors = [d for d in validate_policy(text, kind=kind, max_chars=None)
              if d.severity is Severity.ERROR]
    if errors:
        first = errors[0]
        raise MalformedPolicyDocument(
            f"The {parameter} is invalid: {first.path}: {first.message}")


class PolicyBackend:
    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id

    # ---- custom policies

    def _policy_row(self, name: str) -> Row:
        check_name("PolicyName", name)
        row = self.tx.query_one("SELECT * FROM policies WHERE account_id = ? AND name_key = ?",
                                (self.account_id, key_of(name)))
        if row is None:
            raise EntityNotExist("Policy", f"The policy does not exist: {name}.")
        return row

    def _attachment_count(self, policy_type: str, name: str) -> int:
        row = self.tx.query_one(
            "SELECT count(*) AS n FROM attachments WHERE account_id = ? AND policy_type = ? AND "
            "policy_key = ?", (self.account_id, policy_type, key_of(name)))
        return int(row["n"]) if row else 0

    def get(self, policy_type: str, name: str) -> tuple[Policy, str]:
        """The policy and its default version's document."""
        if check_policy_type(policy_type) == "System":
            system = self.env.catalog.system_policy(check_name("PolicyName", name))
            if system is None:
                raise EntityNotExist("Policy", f"The policy does not exist: {name}.")
            epoch = "2015-04-01T00:00:00Z"
            return Policy(system.name, "System", system.description, system.version, epoch,
                          epoch, self._attachment_count("System", system.name)), system.text
        row = self._policy_row(name)
        version = self.version(name, row["default_version"])
        return self._policy(row), version.document

    def _policy(self, row: Row) -> Policy:
        return Policy(row["policy_name"], "Custom", row["description"], row["default_version"],
                      row["created_at"], row["updated_at"],
                      self._attachment_count("Custom", row["policy_name"]))

    def create(self, name: str, document: str, description: str = "") -> Policy:
        check_name("PolicyName", name)
        if len(description) > MAX_DESCRIPTION:
            raise InvalidParameter("Description.Length",
                                   'The parameter - "Description" beyond the length limit.')
        check_document(document)
        if self.env.catalog.system_policy(name) is not None:
            raise EntityAlreadyExists("Policy", f"The policy already exists: {name}.")
        self.tx.lock(f"ram/policies/{self.account_id}")  # the limit holds across replicas
        count = self.tx.query_one("SELECT count(*) AS n FROM policies WHERE account_id = ?",
                                  (self.account_id,))
        if count is not None and count["n"] >= MAX_CUSTOM_POLICIES:
            raise LimitExceeded("Policy", "The count of policies beyond the current limits.")
        now = format_iso8601(self.env.clock.now())
        try:
            self.tx.execute(
                "INSERT INTO policies (account_id, policy_name, name_key, description, "
                "default_version, next_version, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'v1', 2, ?, ?)",
                (self.account_id, name, key_of(name), description, now, now))
        except ConflictError as exc:
            raise EntityAlreadyExists("Policy", f"The policy already exists: {name}.") from exc
        self.tx.execute(
            "INSERT INTO policy_versions (account_id, policy_key, version_id, document, "
            "created_at) VALUES (?, ?, 'v1', ?, ?)", (self.account_id, key_of(name), document,
                                                      now))
        return self._policy(self._policy_row(name))

    def listing(self, policy_type: str | None) -> list[Policy]:
        """Every policy, or those of one type."""
        if policy_type:
            check_policy_type(policy_type)
        found: list[Policy] = []
        if policy_type in (None, "", "System"):
            found += [self.get("System", name)[0] for name in self.env.catalog.system_policies]
        if policy_type in (None, "", "Custom"):
            rows = self.tx.query(
                "SELECT * FROM policies WHERE account_id = ? ORDER BY name_key",
                (self.account_id,))
            found += [self._policy(row) for row in rows]
        return found

    def update_description(self, name: str, description: str) -> Policy:
        self._policy_row(name)
        if len(description) > MAX_DESCRIPTION:
            raise InvalidParameter("NewDescription.Length",
                                   'The parameter - "NewDescription" beyond the length limit.')
        self.tx.execute("UPDATE policies SET description = ?, updated_at = ? WHERE "
                        "account_id = ? AND name_key = ?",
                        (description, format_iso8601(self.env.clock.now()), self.account_id,
                         key_of(name)))
        return self._policy(self._policy_row(name))

    def delete(self, name: str) -> None:
        """Refuse while the policy is attached to anyone, naming the kind of principal it is
        attached to, or has versions besides the default [doc: DeletePolicy]."""
        row = self._policy_row(name)
        holders = {r["principal_type"] for r in self.tx.query(
            "SELECT DISTINCT principal_type FROM attachments WHERE account_id = ? AND "
            "policy_type = 'Custom' AND policy_key = ?", (self.account_id, key_of(name)))}
        for principal_type in PRINCIPAL_TYPES:
            if principal_type in holders:
                raise DeleteConflict(f"Policy.{principal_type}",
                                     f"The policy is attached to a {principal_type.lower()} "
                                     f"and cannot be deleted: {name}.")
        versions = self.tx.query_one(
            "SELECT count(*) AS n FROM policy_versions WHERE account_id = ? AND policy_key = ?",
            (self.account_id, key_of(name)))
        if versions is not None and versions["n"] > 1:
            raise DeleteConflict("Policy.Version",
                                 f"The policy has non-default versions; delete them first: "
                                 f"{name}.")
        self.tx.execute("DELETE FROM policy_versions WHERE account_id = ? AND policy_key = ?",
                        (self.account_id, key_of(name)))
        self.tx.execute("DELETE FROM policies WHERE account_id = ? AND name_key = ?",
                        (self.account_id, key_of(name)))
        self.env.policies.forget(row["policy_name"])

    # ---- versions

    def version(self, name: str, version_id: str) -> PolicyVersion:
        check_version_id(version_id)
        policy = self._policy_row(name)
        row = self.tx.query_one(
            "SELECT * FROM policy_versions WHERE account_id = ? AND policy_key = ? AND "
            "version_id = ?", (self.account_id, key_of(name), version_id))
        if row is None:
            raise EntityNotExist("Policy.Version",
                                 f"The policy version does not exist: {name} {version_id}.")
        return PolicyVersion(row["version_id"], row["document"],
                             row["version_id"] == policy["default_version"], row["created_at"])

    def versions(self, name: str) -> list[PolicyVersion]:
        policy = self._policy_row(name)
        rows = self.tx.query(
            "SELECT * FROM policy_versions WHERE account_id = ? AND policy_key = ?",
            (self.account_id, key_of(name)))
        # Oldest first: version ids count up, and creation times tie within a second.
        return [PolicyVersion(r["version_id"], r["document"],
                              r["version_id"] == policy["default_version"], r["created_at"])
                for r in sorted(rows, key=lambda r: _version_number(r["version_id"]))]

    def create_version(self, name: str, document: str, set_as_default: bool,
                       rotate: bool) -> PolicyVersion:
        self._policy_row(name)
        check_document(document)
        # One version at a time per policy, across replicas: the count and the next version
        # id are read under the lock.
        self.tx.lock(f"ram/policy-versions/{self.account_id}/{key_of(name)}")
        policy = self._policy_row(name)
        existing = self.versions(name)
        if len(existing) >= MAX_VERSIONS:
            candidates = [v for v in existing if not v.is_default]
            if not rotate or not candidates:
                raise LimitExceeded("Policy.Version",
                                    f"The count of versions beyond the current limits "
                                    f"({MAX_VERSIONS}): {name}.")
            self.delete_version(name, candidates[0].version_id)
        version_id = f"v{policy['next_version']}"
        now = format_iso8601(self.env.clock.now())
        self.tx.execute(
            "INSERT INTO policy_versions (account_id, policy_key, version_id, document, "
            "created_at) VALUES (?, ?, ?, ?, ?)",
            (self.account_id, key_of(name), version_id, document, now))
        self.tx.execute(
            "UPDATE policies SET next_version = next_version + 1, updated_at = ? "
            "WHERE account_id = ? AND name_key = ?", (now, self.account_id, key_of(name)))
        if set_as_default:
            self.set_default(name, version_id)
        return self.version(name, version_id)

    def set_default(self, name: str, version_id: str) -> None:
        self.version(name, version_id)
        self.tx.execute("UPDATE policies SET default_version = ?, updated_at = ? WHERE "
                        "account_id = ? AND name_key = ?",
                        (version_id, format_iso8601(self.env.clock.now()), self.account_id,
                         key_of(name)))

    def delete_version(self, name: str, version_id: str) -> None:
        if self.version(name, version_id).is_default:
            raise DeleteConflict("Policy.Version.Default",
                                 "The default version of a policy cannot be deleted.")
        self.tx.execute("DELETE FROM policy_versions WHERE account_id = ? AND policy_key = ? "
                        "AND version_id = ?", (self.account_id, key_of(name), version_id))

    # ---- attachments

    def _principal_exists(self, principal_type: str, name: str) -> None:
        check_name(f"{principal_type}Name", name)
        table = {"User": "users", "Group": "groups_", "Role": "roles"}[principal_type]
        row = self.tx.query_one(
            f"SELECT 1 AS x FROM {table} WHERE account_id = ? AND name_key = ?",  # noqa: S608
            (self.account_id, key_of(name)))
        if row is None:
            raise EntityNotExist(principal_type,
                                 f"The {principal_type.lower()} does not exist: {name}.")

    def attach(self, policy_type: str, policy_name: str, principal_type: str,
               principal_name: str) -> None:
        self._principal_exists(principal_type, principal_name)
        policy, _ = self.get(policy_type, policy_name)
        if policy_type == "Custom":
            self.tx.lock(f"ram/attachments/{self.account_id}/{principal_type}/"
                         f"{key_of(principal_name)}")
            count = self.tx.query_one(
                "SELECT count(*) AS n FROM attachments WHERE account_id = ? AND principal_type "
                "= ? AND principal_key = ? AND policy_type = 'Custom'",
                (self.account_id, principal_type, key_of(principal_name)))
            if count is not None and count["n"] >= MAX_ATTACHED[principal_type]:
                raise LimitExceeded(f"{principal_type}.Policy",
                                    "The count of attached policies beyond the current limits.")
        try:
            self.tx.execute(
                "INSERT INTO attachments (account_id, principal_type, principal_key, "
                "policy_type, policy_key, attached_at) VALUES (?, ?, ?, ?, ?, ?)",
                (self.account_id, principal_type, key_of(principal_name), policy_type,
                 key_of(policy.policy_name), format_iso8601(self.env.clock.now())))
        except ConflictError as exc:
            raise EntityAlreadyExists(f"{principal_type}.Policy",
                                      f"The policy is already attached: "
                                      f"{policy.policy_name}.") from exc

    def detach(self, policy_type: str, policy_name: str, principal_type: str,
               principal_name: str) -> None:
        self._principal_exists(principal_type, principal_name)
        policy, _ = self.get(policy_type, policy_name)
        changed = self.tx.execute(
            "DELETE FROM attachments WHERE account_id = ? AND principal_type = ? AND "
            "principal_key = ? AND policy_type = ? AND policy_key = ?",
            (self.account_id, principal_type, key_of(principal_name), policy_type,
             key_of(policy.policy_name)))
        if not changed:
            raise EntityNotExist(f"{principal_type}.Policy",
                                 f"The policy is not attached: {policy_name}.")

    def attached(self, principal_type: str, principal_name: str) -> list[tuple[Policy, str]]:
        """(policy, attach date) for every policy attached to one principal."""
        self._principal_exists(principal_type, principal_name)
        rows = self.tx.query(
            "SELECT policy_type, policy_key, attached_at FROM attachments WHERE account_id = ? "
            "AND principal_type = ? AND principal_key = ? ORDER BY attached_at",
            (self.account_id, principal_type, key_of(principal_name)))
        return [(self.get(row["policy_type"], row["policy_key"])[0], row["attached_at"])
                for row in rows]

    def entities_for(self, policy_type: str, policy_name: str) -> dict[str, list[Row]]:
        """ListEntitiesForPolicy: per principal type (User, Group, Role), the principals the
        policy is attached to, with their attach dates, oldest attachment first."""
        policy = self.get(policy_type, policy_name)[0]
        queries = {
            "User": "SELECT e.user_id, e.user_name, e.display_name, a.attached_at FROM "
                    "attachments a JOIN users e ON e.account_id = a.account_id AND "
                    "e.name_key = a.principal_key",
            "Group": "SELECT e.group_name, e.comments, a.attached_at FROM attachments a JOIN "
                     "groups_ e ON e.account_id = a.account_id AND e.name_key = a.principal_key",
            "Role": "SELECT e.role_id, e.role_name, e.description, a.attached_at FROM "
                    "attachments a JOIN roles e ON e.account_id = a.account_id AND "
                    "e.name_key = a.principal_key",
        }
        return {kind: self.tx.query(
            f"{query} WHERE a.account_id = ? AND a.principal_type = ? AND a.policy_type = ? "
            "AND a.policy_key = ? ORDER BY a.attached_at",
            (self.account_id, kind, policy.policy_type, key_of(policy.policy_name)))
            for kind, query in queries.items()}

    def compiled_for(self, principals: list[tuple[str, str]]) -> list[CompiledPolicy]:
        """The compiled default versions of every policy attached to these principals."""
        compiled: list[CompiledPolicy] = []
        for principal_type, principal_key in principals:
            rows = self.tx.query(
                "SELECT a.policy_type, a.policy_key, p.policy_name, p.default_version, "
                "v.document "
                "FROM attachments a LEFT JOIN policies p ON p.account_id = a.account_id AND "
                "p.name_key = a.policy_key AND a.policy_type = 'Custom' "
                "LEFT JOIN policy_versions v ON v.account_id = p.account_id AND "
                "v.policy_key = p.name_key AND v.version_id = p.default_version "
                "WHERE a.account_id = ? AND a.principal_type = ? AND a.principal_key = ?",
                (self.account_id, principal_type, principal_key))
            for row in rows:
                compiled.append(self._compiled(row))
        return compiled

    def _compiled(self, row: Row) -> CompiledPolicy:
        if row["policy_type"] == "System":
            system = self.env.catalog.system_policy(row["policy_key"])
            if system is None:  # a catalog that lost a policy must not widen anyone's access
                raise EntityNotExist("Policy", f"The policy does not exist: {row['policy_key']}.")
            source = PolicySource(system.name, system.version, PolicyType.SYSTEM)
            return self.env.policies.policy(source, lambda: system.document)
        name, version_id = row["policy_name"], row["default_version"]
        if name is None or row["document"] is None:
            raise EntityNotExist("Policy", f"The policy does not exist: {row['policy_key']}.")
        source = PolicySource(name, version_id, PolicyType.CUSTOM)
        document = row["document"]
        # The document itself is the revision: a version deleted and created again under the
        # same id can never be served from the cache with its old text.
        return self.env.policies.policy(source, lambda: parse_policy(document), revision=document)
