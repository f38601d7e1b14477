"""Database password rotation against a private PostgreSQL cluster and the local MariaDB."""

from __future__ import annotations

import json
import socket
import string
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pymysql
import pytest
from psycopg import sql

from ramparts.core.errors import RampartsError
from ramparts.services.secrets.database_rotation import (
    DatabaseCredential,
    Engine,
    RotationError,
    connect_check,
    random_password,
    rotate_alternating,
    rotate_single_user,
)
from tests.dbservers import (
    DatabaseServer,
    ServerUnavailable,
    mariadb_admin,
    private_postgres,
    unavailable,
)

SAFE_PUNCTUATION = set("-_.~")


@pytest.fixture(scope="module")
def postgres() -> Iterator[DatabaseServer]:
    with ExitStack() as stack:
        try:
            server = stack.enter_context(private_postgres())
        except ServerUnavailable as error:
            unavailable(f"no private PostgreSQL cluster: {error}")
        yield server


@pytest.fixture(scope="module")
def mariadb() -> DatabaseServer:
    server = mariadb_admin()
    try:
        pymysql.connect(
            host=server.host, port=server.port, user=server.superuser,
            password=server.superuser_password, connect_timeout=5,
        ).close()
    except pymysql.MySQLError as error:
        unavailable(
            f"MariaDB is not reachable as {server.superuser} on {server.host}:{server.port}: "
            f"{type(error).__name__} {error.args[:1]}"
        )
    return server


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@dataclass
class Accounts:
    """Creates, limits and logs in database accounts on one server as its administrator."""

    engine: Engine
    server: DatabaseServer
    created: list[tuple[str, str]] = field(default_factory=list)

    def credential(self, user: str, password: str) -> DatabaseCredential:
        return DatabaseCredential(self.engine, self.server.host, self.server.port, user, password)

    def admin_execute(self, statement: Any, parameters: tuple[Any, ...] = ()) -> list[Any]:
        if self.engine == "postgresql":
            with psycopg.connect(
                host=self.server.host, port=self.server.port, user=self.server.superuser,
                password=self.server.superuser_password, dbname="postgres", autocommit=True,
            ) as connection:
                cursor = connection.execute(statement, parameters or None)
                return cursor.fetchall() if cursor.description else []
        connection = pymysql.connect(
            host=self.server.host, port=self.server.port, user=self.server.superuser,
            password=self.server.superuser_password, autocommit=True,
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, parameters)
                return list(cursor.fetchall())
        finally:
            connection.close()

    def create(self, prefix: str, password: str, *, hosts: tuple[str, ...] = ("%",),
               master: bool = False) -> str:
        user = unique(prefix)
        if self.engine == "postgresql":
            attributes = "LOGIN CREATEROLE" if master else "LOGIN"
            self.admin_execute(
                sql.SQL("CREATE ROLE {} " + attributes + " PASSWORD {}").format(
                    sql.Identifier(user), sql.Literal(password)
                )
            )
            return user
        for host in hosts:
            self.admin_execute("CREATE USER %s@%s IDENTIFIED BY %s", (user, host, password))
            self.created.append((user, host))
            if master:
                self.admin_execute("GRANT CREATE USER ON *.* TO %s@%s", (user, host))
                self.admin_execute("GRANT SELECT ON mysql.* TO %s@%s", (user, host))
        return user

    def limit_connections(self, user: str, limit: int) -> None:
        if self.engine == "postgresql":
            self.admin_execute(
                sql.SQL("ALTER ROLE {} CONNECTION LIMIT {}").format(
                    sql.Identifier(user), sql.Literal(limit)
                )
            )
            return
        for name, host in self.created:
            if name == user:
                self.admin_execute(
                    f"ALTER USER %s@%s WITH MAX_USER_CONNECTIONS {int(limit)}", (name, host)
                )

    def exists(self, user: str) -> bool:
        if self.engine == "postgresql":
            rows = self.admin_execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
        else:
            rows = self.admin_execute("SELECT 1 FROM mysql.user WHERE User = %s", (user,))
        return bool(rows)

    def login(self, user: str, password: str) -> None:
        """Log in with the driver directly; the driver's error if refused."""
        if self.engine == "postgresql":
            psycopg.connect(
                host=self.server.host, port=self.server.port, user=user, password=password,
                dbname="postgres", connect_timeout=5,
            ).close()
        else:
            pymysql.connect(
                host=self.server.host, port=self.server.port, user=user, password=password,
                connect_timeout=5,
            ).close()

    def assert_refused(self, user: str, password: str) -> None:
        if self.engine == "postgresql":
            with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
                self.login(user, password)
            return
        with pytest.raises(pymysql.err.OperationalError) as refused:
            self.login(user, password)
        assert refused.value.args[0] == 1045  # ER_ACCESS_DENIED_ERROR

    def drop_all(self) -> None:
        for user, host in self.created:
            self.admin_execute("DROP USER IF EXISTS %s@%s", (user, host))
        self.created.clear()


@pytest.fixture(params=["postgresql", "mysql"])
def accounts(request: pytest.FixtureRequest) -> Iterator[Accounts]:
    engine: Engine = request.param
    server_fixture = "postgres" if engine == "postgresql" else "mariadb"
    made = Accounts(engine, request.getfixturevalue(server_fixture))
    try:
        yield made
    finally:
        made.drop_all()


def assert_no_password_in(text: str, *passwords: str) -> None:
    for password in passwords:
        assert password not in text


# --- the servers ------------------------------------------------------------------------------


def test_private_postgres_cluster_refuses_a_wrong_password(postgres: DatabaseServer) -> None:
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            host=postgres.host, port=postgres.port, user=postgres.superuser,
            password=postgres.superuser_password + "x", dbname="postgres",
        ).close()
    connect_check(
        DatabaseCredential("postgresql", postgres.host, postgres.port, postgres.superuser,
                           postgres.superuser_password)
    )


# --- single user ------------------------------------------------------------------------------


def test_single_user_rotation_sets_a_password_that_logs_in_and_retires_the_old_one(
    accounts: Accounts,
) -> None:
    old, new = random_password(), random_password()
    user = accounts.create("rot_single", old)
    current = accounts.credential(user, old)

    rotated = rotate_single_user(current, new)

    assert rotated == accounts.credential(user, new)
    accounts.login(user, new)
    accounts.assert_refused(user, old)
    connect_check(rotated)
    with pytest.raises(RotationError) as refused:
        connect_check(current)
    assert f"cannot log in as {user} on {accounts.server.host}" in str(refused.value)
    assert_no_password_in(repr(rotated) + str(rotated) + str(refused.value), old, new)


def test_single_user_rotation_with_a_wrong_current_password_changes_nothing(
    accounts: Accounts,
) -> None:
    real, wrong, new = random_password(), random_password(), random_password()
    user = accounts.create("rot_wrong", real)

    with pytest.raises(RotationError) as failed:
        rotate_single_user(accounts.credential(user, wrong), new)

    message = str(failed.value)
    assert f"cannot log in as {user}" in message
    assert "nothing was changed" in message
    assert_no_password_in(message, real, wrong, new)
    accounts.login(user, real)
    accounts.assert_refused(user, new)


def test_single_user_rotation_puts_the_old_password_back_when_the_new_one_cannot_log_in(
    accounts: Accounts,
) -> None:
    # With one connection allowed, the rotation's own session blocks the new password's check.
    old, new = random_password(), random_password()
    user = accounts.create("rot_limit", old)
    accounts.limit_connections(user, 1)

    with pytest.raises(RotationError) as failed:
        rotate_single_user(accounts.credential(user, old), new)

    message = str(failed.value)
    assert "the new password was set but does not log in" in message
    assert "the current password still logs in" in message
    assert failed.value.current_still_logs_in is True
    assert_no_password_in(message, old, new)
    accounts.limit_connections(user, 0 if accounts.engine == "mysql" else -1)
    accounts.login(user, old)
    accounts.assert_refused(user, new)


def test_single_user_rotation_reports_a_refused_change_and_keeps_the_old_password(
    postgres: DatabaseServer,
) -> None:
    accounts = Accounts("postgresql", postgres)
    old, new = random_password(), random_password()
    user = accounts.create("rot_readonly", old)
    accounts.admin_execute(
        sql.SQL("ALTER ROLE {} SET default_transaction_read_only = on").format(
            sql.Identifier(user)
        )
    )

    with pytest.raises(RotationError) as failed:
        rotate_single_user(accounts.credential(user, old), new)

    message = str(failed.value)
    assert "could not change the password (ReadOnlySqlTransaction (code 25006))" in message
    assert "the current password still logs in" in message
    assert failed.value.current_still_logs_in is True
    assert_no_password_in(message, old, new)
    accounts.login(user, old)
    accounts.assert_refused(user, new)


def test_single_user_rotation_refuses_the_same_password() -> None:
    current = DatabaseCredential("mysql", "127.0.0.1", 3306, "app", "Same-Password-1")
    with pytest.raises(RotationError, match="must differ"):
        rotate_single_user(current, "Same-Password-1")


# --- alternating users ------------------------------------------------------------------------


def test_alternating_rotation_flips_between_the_two_users(accounts: Accounts) -> None:
    master_password = random_password()
    master = accounts.credential(
        accounts.create("rot_master", master_password, master=True), master_password
    )
    a_first, b_first = random_password(), random_password()
    hosts = ("%", "127.0.0.1")
    app_a = accounts.create("app_a", a_first, hosts=hosts)
    app_b = accounts.create("app_b", b_first, hosts=hosts)
    pair = (app_a, app_b)
    b_second, a_second = random_password(), random_password()

    first = rotate_alternating(master, accounts.credential(app_a, a_first), pair, b_second)

    assert first == accounts.credential(app_b, b_second)
    accounts.login(app_b, b_second)
    accounts.assert_refused(app_b, b_first)
    accounts.login(app_a, a_first)  # clients still holding the previous credential keep working

    second = rotate_alternating(master, first, pair, a_second)

    assert second == accounts.credential(app_a, a_second)
    accounts.login(app_a, a_second)
    accounts.assert_refused(app_a, a_first)
    accounts.login(app_b, b_second)  # works until app_b itself is rotated again
    assert_no_password_in(
        repr(first) + repr(second), master_password, a_first, b_first, a_second, b_second
    )
    if accounts.engine == "mysql":
        for user in pair:
            hashes = accounts.admin_execute(
                "SELECT DISTINCT authentication_string FROM mysql.user WHERE User = %s", (user,)
            )
            assert len(hashes) == 1, f"every host entry of {user} has the same password"


def test_alternating_rotation_refuses_a_missing_other_user_and_changes_nothing(
    accounts: Accounts,
) -> None:
    master_password, password, new = random_password(), random_password(), random_password()
    master = accounts.credential(
        accounts.create("rot_master", master_password, master=True), master_password
    )
    app_a = accounts.create("app_a", password)
    ghost = unique("app_ghost")

    with pytest.raises(RotationError) as failed:
        rotate_alternating(master, accounts.credential(app_a, password), (app_a, ghost), new)

    message = str(failed.value)
    assert f"no login user {ghost}" in message
    assert "Nothing was changed" in message
    assert failed.value.current_still_logs_in is True
    assert_no_password_in(message, master_password, password, new)
    assert not accounts.exists(ghost)
    accounts.login(app_a, password)


def test_alternating_rotation_with_an_unprivileged_master_changes_nothing(
    accounts: Accounts,
) -> None:
    master_password, a_password, b_password = (random_password() for _ in range(3))
    new = random_password()
    master = accounts.credential(accounts.create("rot_weak", master_password), master_password)
    app_a = accounts.create("app_a", a_password)
    app_b = accounts.create("app_b", b_password)

    with pytest.raises(RotationError) as failed:
        rotate_alternating(master, accounts.credential(app_a, a_password), (app_a, app_b), new)

    message = str(failed.value)
    assert "(code 42501)" in message or "(code 1142)" in message  # insufficient privilege
    assert_no_password_in(message, master_password, a_password, b_password, new)
    accounts.login(app_a, a_password)
    accounts.login(app_b, b_password)
    accounts.assert_refused(app_b, new)


def test_alternating_rotation_refuses_a_current_user_outside_the_pair() -> None:
    master = DatabaseCredential("postgresql", "127.0.0.1", 5432, "admin", "Master-Password-1")
    current = DatabaseCredential("postgresql", "127.0.0.1", 5432, "app_c", "Current-Pass-1")
    with pytest.raises(RotationError, match="app_c is not one of app_a, app_b"):
        rotate_alternating(master, current, ("app_a", "app_b"), "New-Password-1")
    with pytest.raises(RotationError, match="master user must not be"):
        rotate_alternating(current, current, ("app_a", "app_c"), "New-Password-1")
    elsewhere = DatabaseCredential("postgresql", "10.0.0.9", 5432, "admin", "Master-Password-1")
    with pytest.raises(RotationError, match="same engine, host and port"):
        rotate_alternating(elsewhere, current, ("app_c", "app_d"), "New-Password-1")
    with pytest.raises(RotationError, match="must differ"):
        rotate_alternating(master, current, ("app_c", "app_c"), "New-Password-1")


# --- unreachable servers ----------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_an_unreachable_server_fails_quickly_without_showing_the_password(
    engine: Engine,
) -> None:
    password, new = "Unreachable-Secret-1", "Unreachable-Secret-2"
    credential = DatabaseCredential(engine, "127.0.0.1", closed_port(), "app", password)
    started = time.monotonic()

    with pytest.raises(RotationError) as checked:
        connect_check(credential)
    with pytest.raises(RotationError) as rotated:
        rotate_single_user(credential, new)

    assert time.monotonic() - started < 5
    for error in (checked.value, rotated.value):
        assert f"cannot log in as app on 127.0.0.1:{credential.port}" in str(error)
        assert "OperationalError" in str(error)
        assert_no_password_in(str(error), password, new)
    assert isinstance(checked.value, RampartsError)


# --- the secret's JSON ------------------------------------------------------------------------

PASSWORD = "Json-Secret~Value.42"
SECRET = {
    "Engine": "postgresql",
    "Host": "db.internal.example",
    "Port": 5432,
    "AccountName": "app_a",
    "AccountPassword": PASSWORD,
    "DBName": "orders",
}


def test_secret_json_round_trips() -> None:
    credential = DatabaseCredential.from_secret_json(json.dumps(SECRET))
    assert credential == DatabaseCredential(
        "postgresql", "db.internal.example", 5432, "app_a", PASSWORD, "orders"
    )
    assert json.loads(credential.to_secret_json()) == SECRET
    assert DatabaseCredential.from_secret_json(credential.to_secret_json()) == credential


def test_secret_json_without_a_database_name_leaves_it_out() -> None:
    document = {name: value for name, value in SECRET.items() if name != "DBName"}
    credential = DatabaseCredential.from_secret_json(json.dumps(document))
    assert credential.dbname is None
    assert "DBName" not in json.loads(credential.to_secret_json())


@pytest.mark.parametrize(
    ("spelling", "engine"),
    [("MySQL", "mysql"), ("MariaDB", "mysql"), ("PostgreSQL", "postgresql"),
     ("postgres", "postgresql")],
)
def test_secret_json_reads_engine_spellings_and_port_strings(spelling: str, engine: str) -> None:
    document = {**SECRET, "Engine": spelling, "Port": "3306"}
    credential = DatabaseCredential.from_secret_json(json.dumps(document))
    assert (credential.engine, credential.port) == (engine, 3306)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"Engine": None}, "Engine"),
        ({"Engine": "oracle"}, "Engine"),
        ({"Host": ""}, "Host"),
        ({"Host": "db host"}, "Host"),
        ({"Port": 0}, "Port"),
        ({"Port": 70000}, "Port"),
        ({"Port": True}, "Port"),
        ({"Port": "54x"}, "Port"),
        ({"AccountName": "app'; DROP ROLE x; --"}, "AccountName"),
        ({"AccountName": ""}, "AccountName"),
        ({"AccountName": 7}, "AccountName"),
        ({"AccountPassword": ""}, "AccountPassword"),
        ({"AccountPassword": 12345678}, "AccountPassword"),
        ({"AccountPassword": PASSWORD + "\n"}, "AccountPassword"),
        ({"DBName": "x y"}, "DBName"),
        ({"Extra": PASSWORD}, "Extra"),
    ],
)
def test_secret_json_refuses_invalid_fields_naming_them_without_the_password(
    change: dict[str, Any], named: str
) -> None:
    document = {**SECRET, **change}
    with pytest.raises(RotationError) as refused:
        DatabaseCredential.from_secret_json(json.dumps(document))
    assert named in str(refused.value)
    assert PASSWORD not in str(refused.value)


@pytest.mark.parametrize("missing", ["Engine", "Host", "Port", "AccountName", "AccountPassword"])
def test_secret_json_refuses_a_missing_field(missing: str) -> None:
    document = {name: value for name, value in SECRET.items() if name != missing}
    with pytest.raises(RotationError, match=f"has no {missing}$"):
        DatabaseCredential.from_secret_json(json.dumps(document))


@pytest.mark.parametrize(
    "text",
    [
        "not json " + PASSWORD,
        json.dumps([SECRET]),
        '{"AccountPassword": "' + PASSWORD + '", "AccountPassword": "' + PASSWORD + '"}',
    ],
)
def test_secret_json_refuses_what_is_not_one_object_without_the_password(text: str) -> None:
    with pytest.raises(RotationError) as refused:
        DatabaseCredential.from_secret_json(text)
    assert PASSWORD not in str(refused.value)
    assert refused.value.__cause__ is None
    assert refused.value.__suppress_context__ or refused.value.__context__ is None


def test_credential_repr_hides_the_password_and_equality_compares_it() -> None:
    credential = DatabaseCredential("mysql", "127.0.0.1", 3306, "app", PASSWORD)
    assert PASSWORD not in repr(credential)
    assert "app" in repr(credential)
    assert credential != DatabaseCredential("mysql", "127.0.0.1", 3306, "app", PASSWORD + "2")
    assert credential == DatabaseCredential("mysql", "127.0.0.1", 3306, "app", PASSWORD)
    assert hash(credential) == hash(DatabaseCredential("mysql", "127.0.0.1", 3306, "app", "x"))


@pytest.mark.parametrize(
    "fields",
    [
        {"engine": "mariadb"},
        {"user": "bad name"},
        {"user": "a" * 64},
        {"password": ""},
        {"port": 0},
    ],
)
def test_credential_refuses_invalid_fields(fields: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "engine": "mysql", "host": "127.0.0.1", "port": 3306, "user": "app", "password": "pw",
    }
    with pytest.raises(RotationError):
        DatabaseCredential(**{**values, **fields})


# --- generated passwords ----------------------------------------------------------------------


@pytest.mark.parametrize("length", [8, 12, 32, 128])
def test_random_password_has_the_length_and_every_character_class(length: int) -> None:
    for _ in range(50):
        password = random_password(length)
        assert len(password) == length
        assert password[0] in string.ascii_letters
        assert set(password) & set(string.ascii_lowercase)
        assert set(password) & set(string.ascii_uppercase)
        assert set(password) & set(string.digits)
        assert set(password) & SAFE_PUNCTUATION
        assert set(password) <= set(string.ascii_letters + string.digits) | SAFE_PUNCTUATION


def test_random_password_defaults_to_32_characters_and_does_not_repeat() -> None:
    passwords = {random_password() for _ in range(200)}
    assert len(passwords) == 200
    assert {len(password) for password in passwords} == {32}


@pytest.mark.parametrize("length", [0, 7, 129, -1])
def test_random_password_refuses_lengths_out_of_range(length: int) -> None:
    with pytest.raises(RotationError, match="between 8 and 128"):
        random_password(length)
