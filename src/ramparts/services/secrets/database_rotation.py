"""Rotating a database account's password on PostgreSQL or MySQL/MariaDB without breaking it."""

from __future__ import annotations

import hmac
import json
import math
import re
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal, Protocol

import psycopg
import pymysql
from psycopg import sql

from ramparts.core.errors import RampartsError

__all__ = [
    "DEFAULT_TIMEOUT_SECONDS",
    "DatabaseCredential",
    "Engine",
    "RotationError",
    "connect_check",
    "random_password",
    "rotate_alternating",
    "rotate_single_user",
]

Engine = Literal["postgresql", "mysql"]

DEFAULT_TIMEOUT_SECONDS: Final = 5.0
MIN_GENERATED_LENGTH: Final = 8
MAX_GENERATED_LENGTH: Final = 128
MAX_PASSWORD_LENGTH: Final = 1024

# Engine spellings accepted in the secret's JSON; MariaDB speaks the MySQL protocol.
_ENGINE_NAMES: Final[dict[str, Engine]] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}
_USER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$.-]{0,62}")
_DATABASE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_$.-]{0,63}")
_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,252}")
_SECRET_FIELDS: Final = ("Engine", "Host", "Port", "AccountName", "AccountPassword", "DBName")
_REQUIRED_FIELDS: Final = _SECRET_FIELDS[:-1]
# RFC 3986's unreserved punctuation: never special in JSON, URLs, SQL literals or shells.
_PUNCTUATION: Final = "-_.~"
_PASSWORD_CLASSES: Final = (
    string.ascii_lowercase, string.ascii_uppercase, string.digits, _PUNCTUATION,
)
_POSTGRES_MAINTENANCE_DB: Final = "postgres"


class RotationError(RampartsError):
    """A rotation step failed. The message names users, hosts and driver error classes, never a
    password. `current_still_logs_in` says whether the current credential was seen logging in
    after the failure (None when that was not established)."""

    def __init__(self, message: str, *, current_still_logs_in: bool | None = None) -> None:
        super().__init__(message)
        self.current_still_logs_in = current_still_logs_in


@dataclass(frozen=True, slots=True, eq=False)
class DatabaseCredential:
    """A database login: where the server is, whom to log in as, and with which password. The
    password stays out of repr(); equality compares it in constant time."""

    engine: Engine
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in ("postgresql", "mysql"):
            raise RotationError("engine must be 'postgresql' or 'mysql' (MariaDB is mysql)")
        _check_host(self.host, "host")
        _check_port(self.port, "port")
        _check_user(self.user, "user")
        _check_password(self.password, "password")
        if self.dbname is not None:
            _check_dbname(self.dbname, "dbname")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DatabaseCredential):
            return NotImplemented
        same_password = hmac.compare_digest(
            self.password.encode("utf-8"), other.password.encode("utf-8")
        )
        return self._public_fields() == other._public_fields() and same_password

    def __hash__(self) -> int:
        return hash(self._public_fields())

    def _public_fields(self) -> tuple[str, str, int, str, str | None]:
        return (self.engine, self.host, self.port, self.user, self.dbname)

    @classmethod
    def from_secret_json(cls, text: str) -> DatabaseCredential:
        """Read a database secret's value: {"Engine", "Host", "Port", "AccountName",
        "AccountPassword", "DBName"?}. Engine is postgresql (or postgres) or mysql (or mariadb),
        in any case; Port is a number or a string of digits. Unknown and repeated fields are
        refused, so rewriting the secret never drops anything."""
        if not isinstance(text, str):
            raise RotationError("the database secret value must be JSON text")
        try:
            document = json.loads(text, object_pairs_hook=_refuse_repeated_fields)
        except (ValueError, RecursionError):
            # The decoder's error keeps the whole text, password included: do not chain it.
            raise RotationError("the database secret value is not valid JSON") from None
        if not isinstance(document, dict):
            raise RotationError("the database secret value must be a JSON object")
        unknown = sorted(set(document) - set(_SECRET_FIELDS))
        if unknown:
            raise RotationError(
                f"the database secret value has unknown fields: {', '.join(map(repr, unknown))}"
            )
        for name in _REQUIRED_FIELDS:
            if name not in document:
                raise RotationError(f"the database secret value has no {name}")
        port = document["Port"]
        if isinstance(port, str) and port.isascii() and port.isdigit() and len(port) <= 5:
            port = int(port)
        dbname = document.get("DBName")
        engine = _engine_of(document["Engine"])
        _check_host(document["Host"], "Host")
        _check_port(port, "Port")
        _check_user(document["AccountName"], "AccountName")
        _check_password(document["AccountPassword"], "AccountPassword")
        if dbname is not None:
            _check_dbname(dbname, "DBName")
        return cls(
            engine=engine,
            host=document["Host"],
            port=port,
            user=document["AccountName"],
            password=document["AccountPassword"],
            dbname=dbname,
        )

    def to_secret_json(self) -> str:
        """The secret value for this credential, as from_secret_json reads it. It contains the
        password: it is for the secret store only."""
        document: dict[str, str | int] = {
            "Engine": self.engine,
            "Host": self.host,
            "Port": self.port,
            "AccountName": self.user,
            "AccountPassword": self.password,
        }
        if self.dbname is not None:
            document["DBName"] = self.dbname
        return json.dumps(document)


def random_password(length: int = 32) -> str:
    """A password from `secrets` of letters, digits and the punctuation -_.~ (safe unescaped
    in JSON, URLs, SQL string literals and shells), with at least one character of each
    class, beginning with a letter so that no command line takes it for an option."""
    if isinstance(length, bool) or not isinstance(length, int):
        raise RotationError("the password length must be an integer")
    if not MIN_GENERATED_LENGTH <= length <= MAX_GENERATED_LENGTH:
        raise RotationError(
            f"the password length must be between {MIN_GENERATED_LENGTH} "
            f"and {MAX_GENERATED_LENGTH}"
        )
    alphabet = "".join(_PASSWORD_CLASSES)
    rest = [secrets.choice(characters) for characters in _PASSWORD_CLASSES]
    rest += [secrets.choice(alphabet) for _ in range(length - 1 - len(rest))]
    secrets.SystemRandom().shuffle(rest)
    return secrets.choice(string.ascii_letters) + "".join(rest)


def connect_check(
    credential: DatabaseCredential, *, timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> None:
    """Log in with `credential`, run SELECT 1 and log out; RotationError if any of it fails.
    The error names the user, the server and the driver's error class and code only."""
    problem = _login_problem(credential, timeout)
    if problem is not None:
        raise RotationError(f"{_cannot_log_in(credential)}: {problem}")


def rotate_single_user(
    current: DatabaseCredential,
    new_password: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> DatabaseCredential:
    """Change `current.user`'s own password to `new_password`, logged in as that user with its
    current password, then log in with the new one; return the new credential.

    Clients holding the old password stop working at once: single-user rotation suits
    accounts whose clients fetch the secret on each connection. The current credential is
    never left broken knowingly: when the change fails, nothing was changed; when the new
    password is set but does not log in, the old one is put back through the session that is
    still open. Either way RotationError says, in `current_still_logs_in`, how things stand.
    On MySQL this changes the account the server matched for the session (CURRENT_USER()).
    """
    candidate = _with_new_password(current, current.user, new_password)
    with _session(current, timeout) as session:
        try:
            session.set_own_password(current.user, new_password)
        except _DRIVER_ERRORS as error:
            problem = f"could not change the password ({_describe(error)})"
            restored: bool | None = None
        else:
            verify_problem = _login_problem(candidate, timeout)
            if verify_problem is None:
                return candidate
            problem = f"the new password was set but does not log in ({verify_problem})"
            try:
                session.set_own_password(current.user, current.password)
                restored = True
            except _DRIVER_ERRORS:
                restored = False
    if not restored:
        restored = _make_current_work(current, candidate, timeout)
    outcome = (
        "the current password still logs in"
        if restored
        else "the current password does not log in any more"
    )
    raise RotationError(
        f"rotating the password of {_where(current)} failed: {problem}; {outcome}",
        current_still_logs_in=restored,
    )


def rotate_alternating(
    master: DatabaseCredential,
    current: DatabaseCredential,
    users: tuple[str, str],
    new_password: str,
    *,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> DatabaseCredential:
    """The two-user strategy: `current.user` is one of `users`; logged in as `master` (an
    administrator of the same server), set the other user's password to `new_password`, check
    that the other user logs in with it, and return the other user's credential.

    Both users must already exist; nothing is created. The current user's password is not
    touched, so clients still holding it keep working until the rotation after this one,
    which sets a new password on it in turn. The other user's previous password stops working
    with this rotation. On MySQL every host entry of the other user gets the new password.
    """
    if master.engine != current.engine or (master.host, master.port) != (
        current.host,
        current.port,
    ):
        raise RotationError(
            "the master credential must be for the same engine, host and port as the current one"
        )
    other = _other_user(master, current, users)
    candidate = _with_new_password(current, other, new_password)
    with _session(master, timeout) as session:
        try:
            missing = [user for user in users if not session.user_exists(user)]
        except _DRIVER_ERRORS as error:
            raise RotationError(
                f"cannot look up {', '.join(users)} as {_where(master)}: {_describe(error)}; "
                "nothing was changed"
            ) from None
        if missing:
            raise RotationError(
                f"cannot rotate on {current.host}:{current.port}: no login user "
                f"{', '.join(missing)}; both users must already exist. Nothing was changed",
                current_still_logs_in=_login_problem(current, timeout) is None,
            )
        try:
            session.set_password_of(other, new_password)
        except _DRIVER_ERRORS as error:
            problem = f"could not set the password of {other} ({_describe(error)})"
        else:
            verify_problem = _login_problem(candidate, timeout)
            if verify_problem is None:
                return candidate
            problem = f"the new password of {other} does not log in ({verify_problem})"
    still_works = _login_problem(current, timeout) is None
    raise RotationError(
        f"rotating from {_where(current)} to {other} failed: {problem}; the password of "
        f"{current.user} was not touched"
        + ("" if still_works else ", but it does not log in"),
        current_still_logs_in=still_works,
    )


# --- validation -------------------------------------------------------------------------------


def _refuse_repeated_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for name, value in pairs:
        if name in document:
            raise RotationError(f"the database secret value repeats the field {name!r}")
        document[name] = value
    return document


def _engine_of(value: object) -> Engine:
    engine = _ENGINE_NAMES.get(value.lower()) if isinstance(value, str) else None
    if engine is None:
        raise RotationError("Engine must be PostgreSQL or MySQL (MariaDB is MySQL)")
    return engine


def _check_host(value: object, name: str) -> None:
    if not isinstance(value, str) or not _HOST.fullmatch(value):
        raise RotationError(f"{name} must be a host name or an IP address")


def _check_port(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise RotationError(f"{name} must be a port number from 1 to 65535")


def _check_user(value: object, name: str) -> None:
    if not isinstance(value, str) or not _USER_NAME.fullmatch(value):
        raise RotationError(
            f"{name} must be 1 to 63 letters, digits or _$.- and start with a letter or _"
        )


def _check_dbname(value: object, name: str) -> None:
    if not isinstance(value, str) or not _DATABASE_NAME.fullmatch(value):
        raise RotationError(f"{name} must be 1 to 64 letters, digits or _$.-")


def _check_password(value: object, name: str) -> None:
    if not isinstance(value, str) or not value:
        raise RotationError(f"{name} must be a non-empty string")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise RotationError(f"{name} must be at most {MAX_PASSWORD_LENGTH} characters")
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in value):
        raise RotationError(f"{name} must not contain control characters")


def _with_new_password(
    current: DatabaseCredential, user: str, new_password: str
) -> DatabaseCredential:
    _check_password(new_password, "the new password")
    if hmac.compare_digest(new_password.encode("utf-8"), current.password.encode("utf-8")):
        raise RotationError("the new password must differ from the current one")
    return replace(current, user=user, password=new_password)


def _other_user(
    master: DatabaseCredential, current: DatabaseCredential, users: tuple[str, str]
) -> str:
    if not isinstance(users, tuple) or len(users) != 2:
        raise RotationError("alternating rotation takes exactly two user names")
    for user in users:
        _check_user(user, "each alternating user")
    if users[0] == users[1]:
        raise RotationError("the two alternating users must differ")
    if current.user not in users:
        raise RotationError(f"the current user {current.user} is not one of {', '.join(users)}")
    if master.user in users:
        raise RotationError("the master user must not be one of the alternating users")
    return users[1] if current.user == users[0] else users[0]


# --- sessions ---------------------------------------------------------------------------------

_DRIVER_ERRORS: Final = (psycopg.Error, pymysql.MySQLError, OSError)


class _Session(Protocol):
    def set_own_password(self, user: str, password: str) -> None: ...

    def set_password_of(self, user: str, password: str) -> None: ...

    def user_exists(self, user: str) -> bool: ...


class _PostgresSession:
    """The password travels as a SCRAM (or md5) verifier computed here by libpq, the way psql's
    \\password does it, so the server and its statement log never see it in clear."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def set_own_password(self, user: str, password: str) -> None:
        self.set_password_of(user, password)

    def set_password_of(self, user: str, password: str) -> None:
        verifier = self._connection.pgconn.encrypt_password(
            password.encode("utf-8"), user.encode("utf-8"), None
        )
        statement = sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(user), sql.Literal(verifier.decode("ascii"))
        )
        self._connection.execute(statement)

    def user_exists(self, user: str) -> bool:
        row = self._connection.execute(
            "SELECT rolcanlogin FROM pg_catalog.pg_roles WHERE rolname = %s", (user,)
        ).fetchone()
        return row is not None and row[0] is True


class _MysqlSession:
    """Another account's password changes with ALTER USER, which takes the CREATE USER
    privilege. A user without it changes its own with SET PASSWORD = PASSWORD(...) on MariaDB
    (which refuses ALTER USER CURRENT_USER() then) and ALTER USER USER() on MySQL."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        version = self._fetch_all("SELECT VERSION()", ())
        self._mariadb = bool(version) and "mariadb" in str(version[0][0]).lower()

    def _fetch_all(self, statement: str, parameters: tuple[str, ...]) -> list[tuple[Any, ...]]:
        with self._connection.cursor() as cursor:
            cursor.execute(statement, parameters)
            return list(cursor.fetchall())

    def set_own_password(self, user: str, password: str) -> None:
        if self._mariadb:
            self._fetch_all("SET PASSWORD = PASSWORD(%s)", (password,))
        else:
            self._fetch_all("ALTER USER USER() IDENTIFIED BY %s", (password,))

    def set_password_of(self, user: str, password: str) -> None:
        hosts = self._hosts_of(user)
        if not hosts:
            raise RotationError(f"no MySQL account is named {user}")
        accounts = ", ".join(["%s@%s IDENTIFIED BY %s"] * len(hosts))
        parameters = tuple(value for host in hosts for value in (user, host, password))
        self._fetch_all(f"ALTER USER {accounts}", parameters)

    def user_exists(self, user: str) -> bool:
        return bool(self._hosts_of(user))

    def _hosts_of(self, user: str) -> list[str]:
        # MariaDB keeps roles in mysql.user with an empty Host; roles do not log in.
        rows = self._fetch_all(
            "SELECT Host FROM mysql.user WHERE User = %s AND Host <> '' ORDER BY Host", (user,)
        )
        return [str(row[0]) for row in rows]


@contextmanager
def _session(credential: DatabaseCredential, timeout: float) -> Iterator[_Session]:
    """A logged-in session with autocommit, closed on exit; RotationError if login fails."""
    try:
        connection = _connect(credential, timeout)
    except _DRIVER_ERRORS as error:
        raise RotationError(
            f"{_cannot_log_in(credential)}: {_describe(error)}; nothing was changed"
        ) from None
    try:
        session: _Session
        if credential.engine == "postgresql":
            session = _PostgresSession(connection)
        else:
            session = _MysqlSession(connection)
    except _DRIVER_ERRORS as error:
        _close_quietly(connection)
        raise RotationError(
            f"{credential.engine} session as {_where(credential)} failed: {_describe(error)}; "
            "nothing was changed"
        ) from None
    try:
        yield session
    finally:
        _close_quietly(connection)


def _connect(credential: DatabaseCredential, timeout: float) -> Any:
    if credential.engine == "postgresql":
        return psycopg.connect(
            host=credential.host,
            port=credential.port,
            user=credential.user,
            password=credential.password,
            dbname=credential.dbname or _POSTGRES_MAINTENANCE_DB,
            # libpq counts whole seconds and treats less than 2 as 2.
            connect_timeout=max(2, math.ceil(timeout)),
            options=f"-c statement_timeout={math.ceil(timeout * 1000)}",
            application_name="ramparts-secret-rotation",
            autocommit=True,
        )
    return pymysql.connect(
        host=credential.host,
        port=credential.port,
        user=credential.user,
        password=credential.password,
        database=credential.dbname,
        connect_timeout=timeout,
        read_timeout=timeout,
        write_timeout=timeout,
        charset="utf8mb4",
        autocommit=True,
    )


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except _DRIVER_ERRORS:
        return


def _login_problem(credential: DatabaseCredential, timeout: float) -> str | None:
    """None when `credential` logs in and runs SELECT 1, else what went wrong."""
    try:
        connection = _connect(credential, timeout)
    except _DRIVER_ERRORS as error:
        return _describe(error)
    try:
        if credential.engine == "postgresql":
            row = connection.execute("SELECT 1").fetchone()
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                row = cursor.fetchone()
    except _DRIVER_ERRORS as error:
        return _describe(error)
    finally:
        _close_quietly(connection)
    if row is None or tuple(row) != (1,):
        return "SELECT 1 did not answer 1"
    return None


def _make_current_work(
    current: DatabaseCredential, candidate: DatabaseCredential, timeout: float
) -> bool:
    """After a failed change: whether the current password logs in, putting it back through a
    session as the new password when the change took effect after all."""
    if _login_problem(current, timeout) is None:
        return True
    try:
        with _session(candidate, timeout) as session:
            session.set_own_password(current.user, current.password)
    except (RotationError, *_DRIVER_ERRORS):
        return False
    return _login_problem(current, timeout) is None


# --- messages ---------------------------------------------------------------------------------


def _describe(error: BaseException) -> str:
    """The driver error's class and code: driver messages may quote connection settings, so
    they are left out."""
    code: object = None
    if isinstance(error, psycopg.Error):
        code = error.sqlstate
    elif isinstance(error, pymysql.MySQLError) and error.args and isinstance(error.args[0], int):
        code = error.args[0]
    elif isinstance(error, OSError):
        code = error.errno
    name = type(error).__name__
    return f"{name} (code {code})" if code is not None else name


def _where(credential: DatabaseCredential) -> str:
    return f"{credential.user} on {credential.host}:{credential.port}"


def _cannot_log_in(credential: DatabaseCredential) -> str:
    return f"{credential.engine} cannot log in as {_where(credential)}"
