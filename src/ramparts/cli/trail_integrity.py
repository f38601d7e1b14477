"""`ramparts trail public-key | verify`: the trail's signing key and the check of the trail."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from ramparts.cli.errors import UsageError
from ramparts.core.errors import RampartsError
from ramparts.crypto.primitives import CryptoError
from ramparts.crypto.signing import public_key_fingerprint
from ramparts.policy.catalog import Catalog
from ramparts.server.config import default_data_dir
from ramparts.services.accounts import find_account
from ramparts.services.actiontrail.signing_keys import public_key_of
from ramparts.services.actiontrail.verify import Report, verify_trail
from ramparts.store.base import Store, Transaction
from ramparts.store.factory import SQLITE_FILE_NAME, open_store

__all__ = ["add_integrity_commands", "opened_store", "store_options"]

DATABASE_URL_ENV = "RAMPARTS_DATABASE_URL"


def store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="the server's data dir (default: $RAMPARTS_DATA_DIR or "
                             "~/.local/share/ramparts)")
    parser.add_argument("--database-url", default=os.environ.get(DATABASE_URL_ENV),
                        help="postgresql://... when the server uses PostgreSQL "
                             f"(default: ${DATABASE_URL_ENV})")


def add_integrity_commands(commands: Any) -> None:
    """`public-key` and `verify`, added to the `trail` command group."""
    public_key = commands.add_parser(
        "public-key", help="print the public key (PEM) that signs the trail's digests")
    store_options(public_key)
    public_key.set_defaults(handler=_public_key)

    verify = commands.add_parser(
        "verify", help="check the event chain, the delivered files and their signed digests",
        description="Exit 0 when everything verifies, 1 on any break (the first broken link "
        "and its kind are named), 2 on usage errors.")
    store_options(verify)
    verify.add_argument("--delivered", type=Path, default=None, metavar="DIR",
                        help="the delivery root (one directory per bucket) or one bucket's "
                             "directory (default: <data-dir>/delivery); alone, without a store")
    verify.add_argument("--public-key", type=Path, default=None, metavar="PEM",
                        help="the exported public key to check signatures with (default: "
                             "the one in the store; needed without a store)")
    verify.add_argument("--json", action="store_true", help="print the report as JSON")
    verify.set_defaults(handler=_verify)


@contextmanager
def opened_store(data_dir: Path, database_url: str | None) -> Iterator[Store]:
    if database_url is None and not (data_dir / SQLITE_FILE_NAME).is_file():
        raise UsageError(f"no ramparts database in {data_dir}; give --data-dir or "
                         "--database-url")
    try:
        store = open_store(database_url, data_dir)
    except RampartsError as exc:
        raise UsageError(str(exc)) from None
    try:
        yield store
    finally:
        store.close()


def _account_key(tx: Transaction) -> str | None:
    account = find_account(tx)
    return None if account is None else public_key_of(tx, account.account_id)


def _public_key(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    with opened_store(args.data_dir or default_data_dir(), args.database_url) as store, \
            store.transaction() as tx:
        pem = _account_key(tx)
    if pem is None:
        raise UsageError("this account has no trail signing key yet: it is made with the "
                         "first trail (CreateTrail)")
    out.write(pem)
    return 0


def _read_public_key(path: Path) -> str:
    try:
        pem = path.read_text(encoding="ascii")
        public_key_fingerprint(pem)
    except (OSError, UnicodeDecodeError, CryptoError) as exc:
        raise UsageError(f"--public-key {path}: not an Ed25519 public key in PEM ({exc})") \
            from None
    return pem


def _verify(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    use_store = args.data_dir is not None or args.database_url is not None \
        or args.delivered is None
    pem = _read_public_key(args.public_key) if args.public_key else None
    if not use_store:
        if pem is None:
            raise UsageError("verifying delivered files without a store needs --public-key")
        if not args.delivered.is_dir():
            raise UsageError(f"--delivered {args.delivered} is not a directory")
        report = verify_trail(None, args.delivered, pem)
    else:
        data_dir = args.data_dir or default_data_dir()
        delivered = args.delivered or data_dir / "delivery"
        with opened_store(data_dir, args.database_url) as store, store.transaction() as tx:
            pem = pem or _account_key(tx)
            # Checked even when the directory is gone: the store knows what was delivered.
            report = verify_trail(tx, delivered if pem else None, pem)
    _print(report, out, as_json=args.json)
    return 0 if report.clean else 1


def _print(report: Report, out: TextIO, *, as_json: bool) -> None:
    if as_json:
        out.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return
    out.write(f"trail verify: {'clean' if report.clean else 'BROKEN'}\n"
              f"  events in the chain: {report.events}\n"
              f"  digests: {report.digests}, log files: {report.log_files}, delivered "
              f"events: {report.delivered_events}\n")
    first = report.first
    if first is not None:
        out.write(f"  first broken link: {first.kind} at {first.where}: {first.detail}\n")
        for finding in report.findings[1:]:
            out.write(f"  also: {finding.kind} at {finding.where}: {finding.detail}\n")
