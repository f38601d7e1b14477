"""The credential report: a CSV snapshot of every identity's password, MFA and AccessKeys."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

from ramparts.core.clock import format_iso8601, parse_iso8601
from ramparts.services.call import ServiceEnv
from ramparts.services.ram.errors import EntityNotExist, InvalidParameter
from ramparts.services.ram.mfa import ROOT_KEY
from ramparts.services.ram.password_policy import password_policy
from ramparts.store.base import Row, Transaction

__all__ = [
    "COLUMNS",
    "MAX_ITEMS",
    "REGENERATE_AFTER",
    "ROOT_ROW",
    "STATE_COMPLETED",
    "CredentialReportBackend",
    "ReportPage",
]

# [doc: Generate and download user credential reports (RAM docs)]: the columns in order; the
# first row is the account itself, `<root>`; RAM users follow as user principal names.
COLUMNS = (
    "user", "user_creation_time", "user_last_logon", "password_exist", "password_active",
    "password_last_changed", "password_next_rotation", "mfa_active",
    "access_key_1_exist", "access_key_1_active", "access_key_1_last_rotated",
    "access_key_1_last_used",
    "access_key_2_exist", "access_key_2_active", "access_key_2_last_rotated",
    "access_key_2_last_used",
)
ROOT_ROW = "<root>"
# A new report at most every four hours; within them, generating again keeps the last one
# [doc: Generate and download user credential reports (RAM docs)].
REGENERATE_AFTER = timedelta(hours=4)
# [doc: GenerateCredentialReport]: STARTED, INPROGRESS, COMPLETED. Reports are built within the
# call here, so the answer is always COMPLETED.
STATE_COMPLETED = "COMPLETED"
MAX_ITEMS = 3501  # GetCredentialReport's MaxItems: 1 to 3501, default 3501 [SDK docstring]
_KEY_SLOTS = 2  # access_key_1_* and access_key_2_*: RAM users hold at most two keys
_NEVER = "-"
_NONE = "N/A"


def _flag(value: bool) -> str:
    return "TRUE" if value else "FALSE"


@dataclass(frozen=True, slots=True)
class ReportPage:
    """One page of the stored report: the CSV header and up to MaxItems identity rows."""

    content: str
    generated_at: str
    next_token: str | None


class CredentialReportBackend:
    def __init__(self, tx: Transaction, env: ServiceEnv, account_id: str) -> None:
        self.tx, self.env, self.account_id = tx, env, account_id

    def generate(self) -> str:
        """Build and store a report unless one is under four hours old; the state."""
        self.tx.lock(f"credential-report/{self.account_id}")
        now = self.env.clock.now()
        stored = self._stored()
        if stored is not None and now - parse_iso8601(stored["generated_at"]) < REGENERATE_AFTER:
            return STATE_COMPLETED
        content = self.render()
        self.tx.execute("DELETE FROM credential_reports WHERE account_id = ?", (self.account_id,))
        self.tx.execute(
            "INSERT INTO credential_reports (account_id, generated_at, content) VALUES (?, ?, ?)",
            (self.account_id, format_iso8601(now), content))
        return STATE_COMPLETED

    def page(self, max_items: int = MAX_ITEMS, next_token: str | None = None) -> ReportPage:
        """A page of the last generated report; EntityNotExist before the first one."""
        stored = self._stored()
        if stored is None:
            # No Alibaba code is documented for this case; RAM's EntityNotExist family fits.
            raise EntityNotExist("CredentialReport",
                                 "The credential report does not exist; call "
                                 "GenerateCredentialReport first.")
        header, *rows = stored["content"].splitlines(keepends=True)
        start = 0
        if next_token:
            if not (next_token.isascii() and next_token.isdigit()
                    and 0 < int(next_token) < len(rows)):
                raise InvalidParameter("NextToken.Invalid",
                                       'The parameter - "NextToken" is not a token this '
                                       "report gave.")
            start = int(next_token)
        end = start + max_items
        return ReportPage("".join([header, *rows[start:end]]), stored["generated_at"],
                          str(end) if end < len(rows) else None)

    def _stored(self) -> Row | None:
        return self.tx.query_one("SELECT * FROM credential_reports WHERE account_id = ?",
                                 (self.account_id,))

    # ---- the report

    def render(self) -> str:
        """The report as CSV text, from the store as it is now."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerow(self._root_row())
        domain = self._domain()
        max_age = password_policy(self.tx, self.account_id).max_password_age
        mfa = {row["user_key"] for row in self.tx.query(
            "SELECT user_key FROM mfa_devices WHERE account_id = ? AND user_key IS NOT NULL",
            (self.account_id,))}
        profiles = {row["user_key"]: row for row in self.tx.query(
            "SELECT user_key, password_changed_at FROM login_profiles WHERE account_id = ?",
            (self.account_id,))}
        keys: dict[str, list[Row]] = {}
        for key in self.tx.query(
                "SELECT user_key, status, created_at, last_used_at FROM access_keys "
                "WHERE account_id = ? ORDER BY created_at, access_key_id", (self.account_id,)):
            keys.setdefault(key["user_key"], []).append(key)
        for user in self.tx.query(
                "SELECT name_key, user_name, created_at, last_login_at FROM users "
                "WHERE account_id = ? ORDER BY name_key", (self.account_id,)):
            profile = profiles.get(user["name_key"])
            writer.writerow([
                f"{user['user_name']}@{domain}", user["created_at"],
                user["last_login_at"] or _NEVER,
                _flag(profile is not None),
                _flag(True) if profile is not None else _NONE,
                profile["password_changed_at"] if profile is not None else _NONE,
                self._next_rotation(profile, max_age),
                _flag(user["name_key"] in mfa),
                *self._key_columns(keys.get(user["name_key"], [])),
            ])
        return out.getvalue()

    def _root_row(self) -> list[str]:
        root = self.tx.query_one(
            "SELECT r.password_sealed, r.created_at, r.last_login_at, a.created_at AS opened "
            "FROM accounts a LEFT JOIN root_identities r ON r.account_id = a.account_id "
            "WHERE a.account_id = ?", (self.account_id,))
        if root is None:
            raise EntityNotExist("Account", f"The account does not exist: {self.account_id}.")
        root_mfa = self.tx.query_one(
            "SELECT 1 AS x FROM mfa_devices WHERE account_id = ? AND user_key = ?",
            (self.account_id, ROOT_KEY))
        # The account's own password has no login profile: its activity, change time and
        # rotation are N/A; it holds no AccessKey here (root keys are never issued).
        return [
            ROOT_ROW, root["created_at"] or root["opened"], root["last_login_at"] or _NEVER,
            _flag(root["password_sealed"] is not None), _NONE, _NONE, _NONE,
            _flag(root_mfa is not None), *self._key_columns([]),
        ]

    @staticmethod
    def _next_rotation(profile: Row | None, max_age_days: int) -> str:
        """When the password must next be changed: MaxPasswordAge days after it was set, "-"
        when the policy sets no maximum age, N/A without a password."""
        if profile is None:
            return _NONE
        if max_age_days <= 0:
            return _NEVER
        changed = parse_iso8601(profile["password_changed_at"])
        return format_iso8601(changed + timedelta(days=max_age_days))

    def _key_columns(self, keys: list[Row]) -> list[str]:
        columns: list[str] = []
        for slot in range(_KEY_SLOTS):
            if slot < len(keys):
                key = keys[slot]
                columns += [_flag(True), _flag(key["status"] == "Active"), key["created_at"],
                            key["last_used_at"] or _NEVER]
            else:
                columns += [_flag(False), _NONE, _NONE, _NONE]
        return columns

    def _domain(self) -> str:
        """The account's default domain, `<alias>.onaliyun.com`, that user principal names
        end with."""
        row = self.tx.query_one("SELECT alias FROM accounts WHERE account_id = ?",
                                (self.account_id,))
        alias = row["alias"] if row is not None and row["alias"] else self.account_id
        return f"{alias}.onaliyun.com"

