"""`ramparts login | whoami | logout`: sign in to a server and keep the session credentials
(0600, never the password) for the command line."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from ramparts.cli.errors import UsageError
from ramparts.policy.catalog import Catalog
from ramparts.protocol.client import ApiClient, ApiError, ClientCredentials

__all__ = ["add_login_commands", "session_file"]

SIGNIN_VERSION = "2026-01-01"
STS_VERSION = "2015-04-01"


def session_file() -> Path:
    """`$RAMPARTS_CONFIG_DIR/session.json`, else under ~/.config/ramparts."""
    base = os.environ.get("RAMPARTS_CONFIG_DIR") or str(Path.home() / ".config" / "ramparts")
    return Path(base) / "session.json"


def add_login_commands(subparsers: Any) -> None:
    login = subparsers.add_parser(
        "login", help="sign in (password and MFA code) and keep session credentials")
    login.add_argument("principal", nargs="?", default="root",
                       help="a RAM user name, or root (default)")
    login.add_argument("--endpoint", default="127.0.0.1:8080", help="host:port of the server")
    login.add_argument("--https", action="store_true", help="connect over TLS")
    login.add_argument("--ca-file", help="trust this CA certificate (PEM) for --https")
    login.add_argument("--mfa-code", help="the current code of the bound MFA device "
                                          "(asked for when needed and not given)")
    login.add_argument("--password-stdin", action="store_true",
                       help="read the password from standard input instead of a prompt")
    login.set_defaults(handler=_login)

    whoami = subparsers.add_parser("whoami", help="show who the kept session signs requests as")
    whoami.set_defaults(handler=_whoami)

    logout = subparsers.add_parser("logout", help="forget the kept session credentials")
    logout.set_defaults(handler=_logout)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass(f"Password for {args.principal}: ")


def _write_private(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2)
    os.replace(temporary, path)


def _login(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    client = ApiClient(args.endpoint, secure=args.https, ca_file=args.ca_file)
    params = {"PrincipalName": args.principal, "Password": _password(args)}
    if args.mfa_code:
        params["MFACode"] = args.mfa_code
    try:
        answer = client.call(SIGNIN_VERSION, "ConsoleSignin", params, None)
    except ApiError as error:
        if error.code != "MFACode.Required" or args.password_stdin:
            raise UsageError(f"sign-in refused: {error}") from None
        params["MFACode"] = input("MFA code: ").strip()
        try:
            answer = client.call(SIGNIN_VERSION, "ConsoleSignin", params, None)
        except ApiError as retry:
            raise UsageError(f"sign-in refused: {retry}") from None
    credentials = answer["Credentials"]
    _write_private(session_file(), {
        "Endpoint": args.endpoint, "Https": args.https, "CaFile": args.ca_file,
        "AccessKeyId": credentials["AccessKeyId"],
        "AccessKeySecret": credentials["AccessKeySecret"],
        "SecurityToken": credentials["SecurityToken"],
        "Expiration": credentials["Expiration"],
        "Arn": answer["Principal"]["Arn"], "MFAPresent": answer["MFAPresent"],
    })
    mfa = "with MFA" if answer["MFAPresent"] else "without MFA"
    out.write(f"Signed in as {answer['Principal']['Arn']} ({mfa}) until "
              f"{credentials['Expiration']}; credentials kept in {session_file()}\n")
    return 0


def _kept() -> dict[str, Any]:
    path = session_file()
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise UsageError("not signed in: run `ramparts login` first") from None
    except ValueError:
        raise UsageError(f"{path} is not a session file; run `ramparts login` again") from None


def _whoami(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del args, catalog
    kept = _kept()
    client = ApiClient(kept["Endpoint"], secure=bool(kept.get("Https")),
                       ca_file=kept.get("CaFile"))
    credentials = ClientCredentials(kept["AccessKeyId"], kept["AccessKeySecret"],
                                    kept["SecurityToken"])
    try:
        identity = client.call(STS_VERSION, "GetCallerIdentity", {}, credentials)
    except ApiError as error:
        raise UsageError(f"the kept session was refused: {error}") from None
    out.write(f"{identity['Arn']} (account {identity['AccountId']}, "
              f"{identity['IdentityType']}; session expires {kept['Expiration']}, "
              f"MFA {'present' if kept.get('MFAPresent') else 'absent'})\n")
    return 0


def _logout(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del args, catalog
    path = session_file()
    path.unlink(missing_ok=True)
    out.write(f"Session credentials removed from {path}\n")
    return 0
