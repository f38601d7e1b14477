"""RAM roles: trust policies, maximum session durations, and deletion that ends sessions."""

from __future__ import annotations

from ramparts.core.clock import format_iso8601
from ramparts.policy.document import PolicyKind
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    EntityNotExist,
    InvalidParameter,
    LimitExceeded,
)
from ramparts.services.ram.models import Role
from ramparts.services.ram.names import check_name, entity_arn, key_of
from ramparts.services.ram.policies import check_document
from ramparts.store.base import ConflictError, Row, Transaction

__all__ = ["RoleBackend"]

MAX_ROLES = 1000
SESSION_RANGE = (3600, 43200)  # MaxSessionDuration [doc: CreateRole]
MAX_DESCRIPTION = 1024  # characters [doc: CreateRole; UpdateRole]


def _check_description(value: str, parameter: str) -> str:
    if len(value) > MAX_DESCRIPTION:
        raise InvalidParameter(f"{parameter}.Length",
                               f'The parameter - "{parameter}" beyond the length limit.')
    return value


def _check_duration(value: int, parameter: str) -> int:
    if not SESSION_RANGE[0] <= value <= SESSION_RANGE[1]:
        raise InvalidParameter(f"{parameter}.Range",
                               f'The parameter - "{parameter}" MUST be in the range of '
                               f"{SESSION_RANGE[0]} and {SESSION_RANGE[1]}.")
    return value


class RoleBackend:
    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id

    def _role(self, row: Row) -> Role:
        return Role(row["role_id"], row["role_name"],
                    entity_arn(self.account_id, "role", row["role_name"]), row["description"],
                    row["trust_policy"], int(row["max_session_duration"]), row["created_at"],
                    row["updated_at"])

    def get(self, name: str) -> Role:
        row = self.tx.query_one("SELECT * FROM roles WHERE account_id = ? AND name_key = ?",
                                (self.account_id, key_of(check_name("RoleName", name))))
        if row is None:
            raise EntityNotExist("Role", f"The role does not exist: {name}.")
        return self._role(row)

    def create(self, name: str, trust_policy: str, description: str = "",
               max_session_duration: int = 3600) -> Role:
        check_name("RoleName", name)
        check_document(trust_policy, parameter="AssumeRolePolicyDocument", kind=PolicyKind.TRUST)
        _check_duration(max_session_duration, "MaxSessionDuration")
        _check_description(description, "Description")
        self.tx.lock(f"ram/roles/{self.account_id}")  # the limit holds across replicas
        count = self.tx.query_one("SELECT count(*) AS n FROM roles WHERE account_id = ?",
                                  (self.account_id,))
        if count is not None and count["n"] >= MAX_ROLES:
            raise LimitExceeded("Role", "The count of roles beyond the current limits.")
        now = format_iso8601(self.env.clock.now())
        try:
            self.tx.execute(
                "INSERT INTO roles (account_id, role_id, role_name, name_key, description, "
                "trust_policy, max_session_duration, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.account_id, self.env.ids.numeric(19), name, key_of(name), description,
                 trust_policy, max_session_duration, now, now))
        except ConflictError as exc:
            raise EntityAlreadyExists("Role", f"The role already exists: {name}.") from exc
        return self.get(name)

    def update(self, name: str, trust_policy: str | None, max_session_duration: int | None,
               description: str | None) -> Role:
        current = self.get(name)
        if trust_policy is not None:
            check_document(trust_policy, parameter="NewAssumeRolePolicyDocument",
                           kind=PolicyKind.TRUST)
        if max_session_duration is not None:
            _check_duration(max_session_duration, "NewMaxSessionDuration")
        if description is not None:
            _check_description(description, "NewDescription")
        self.tx.execute(
            "UPDATE roles SET trust_policy = ?, max_session_duration = ?, description = ?, "
            "updated_at = ? WHERE account_id = ? AND name_key = ?",
            (trust_policy or current.trust_policy,
             max_session_duration or current.max_session_duration,
             current.description if description is None else description,
             format_iso8601(self.env.clock.now()), self.account_id, key_of(name)))
        return self.get(name)

    def listing(self) -> list[Role]:
        return [self._role(r) for r in self.tx.query(
            "SELECT * FROM roles WHERE account_id = ? ORDER BY name_key", (self.account_id,))]

    def delete(self, name: str) -> None:
        """Refuse while policies are attached; end every session of the role [doc: DeleteRole;
        FAQ about RAM roles and STS tokens]."""
        role = self.get(name)
        attached = self.tx.query_one("SELECT 1 AS x FROM attachments WHERE account_id = ? AND "
                                     "principal_type = 'Role' AND principal_key = ?",
                                     (self.account_id, key_of(role.role_name)))
        if attached is not None:
            raise DeleteConflict("Role.Policy", f"The role has attached policies: {name}.")
        self.tx.execute("DELETE FROM roles WHERE account_id = ? AND name_key = ?",
                        (self.account_id, key_of(role.role_name)))
        self.tx.execute("DELETE FROM sts_sessions WHERE account_id = ? AND kind = 'role' AND "
                        "principal_key = ?", (self.account_id, key_of(role.role_name)))
