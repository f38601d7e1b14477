"""`ramparts init | serve | up`: create an account and serve the API (sealed, when the root
key was split into shares at `init`)."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
from pathlib import Path
from typing import Any, TextIO

from ramparts.cli.errors import UsageError
from ramparts.core.errors import RampartsError
from ramparts.crypto.keyring import KEY_FILE_NAME, ROOT_KEY_ENV, RootKey
from ramparts.crypto.shamir import ShamirError, Share
from ramparts.policy.catalog import Catalog
from ramparts.server.config import ServerConfig, default_data_dir
from ramparts.server.runtime import DEFAULT_REGION, Runtime, initialize, open_runtime
from ramparts.server.sealed import (
    UNSEAL_FILE_NAME,
    UnsealFacts,
    read_unseal_file,
    write_unseal_file,
)
from ramparts.services.accounts import Bootstrap

__all__ = ["add_server_commands"]


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the SQLite database and the root key file live "
                             "(default: $RAMPARTS_DATA_DIR or ~/.local/share/ramparts)")
    parser.add_argument("--database-url", default=os.environ.get("RAMPARTS_DATABASE_URL"),
                        help="postgresql://... to use PostgreSQL instead of SQLite "
                             "(default: $RAMPARTS_DATABASE_URL)")


def _serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on")
    parser.add_argument("--tls-cert", type=Path, help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", type=Path, help="the certificate's private key (PEM)")
    parser.add_argument("--log-level", default="info",
                        choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--trail-delivery-root", type=Path, default=None,
                        help="where trails deliver their files, one directory per bucket "
                             "(default: <data-dir>/delivery)")
    parser.add_argument("--trail-delivery-interval", type=float, default=60.0,
                        metavar="SECONDS", help="how often trails deliver (default: 60)")


def _init_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--alias", default="", help="the account alias")
    parser.add_argument("--region", default=DEFAULT_REGION, help="the default region")


def add_server_commands(subparsers: Any) -> None:
    init = subparsers.add_parser(
        "init", help="create the account, its root key and a bootstrap administrator")
    _store_options(init)
    _init_options(init)
    init.add_argument("--json", action="store_true", help="print the credentials as JSON")
    init.add_argument("--key-shares", type=int, metavar="N",
                      help="split the root key into N shares instead of writing a key file; "
                           "the server then starts sealed (with --key-threshold)")
    init.add_argument("--key-threshold", type=int, metavar="K",
                      help="how many of the shares unseal the server (with --key-shares)")
    init.set_defaults(handler=_init)

    serve = subparsers.add_parser("serve", help="serve the Alibaba Cloud API")
    _store_options(serve)
    _serve_options(serve)
    serve.set_defaults(handler=_serve)

    up = subparsers.add_parser(
        "up", help="init (when there is no account yet) and serve, printing how to connect")
    _store_options(up)
    _serve_options(up)
    _init_options(up)
    up.set_defaults(handler=_up)


def _config(args: argparse.Namespace) -> ServerConfig:
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UsageError("--tls-cert and --tls-key go together")
    if not 0 < args.port < 65536:
        raise UsageError(f"--port {args.port} is not a TCP port")
    if not (math.isfinite(args.trail_delivery_interval) and args.trail_delivery_interval > 0):
        raise UsageError("--trail-delivery-interval must be a positive number of seconds")
    return ServerConfig(data_dir=args.data_dir or default_data_dir(), host=args.host,
                        port=args.port, database_url=args.database_url,
                        tls_cert=args.tls_cert, tls_key=args.tls_key,
                        trail_delivery_root=args.trail_delivery_root,
                        trail_delivery_interval=args.trail_delivery_interval)


def _bootstrap(args: argparse.Namespace, data_dir: Path) -> Bootstrap | None:
    try:
        return initialize(data_dir, os.environ, database_url=args.database_url,
                          alias=args.alias, region=args.region)
    except RampartsError as exc:
        raise UsageError(str(exc)) from None


def _credentials(bootstrap: Bootstrap, endpoint: str) -> dict[str, str]:
    return {"AccountId": bootstrap.account.account_id,
            "AccessKeyId": bootstrap.admin_access_key_id,
            "AccessKeySecret": bootstrap.admin_access_key_secret,
            "Endpoint": endpoint}


def _print_bootstrap(bootstrap: Bootstrap, endpoint: str, out: TextIO) -> None:
    out.write(
        f"Account {bootstrap.account.account_id} created.\n\n"
        "RAM user 'admin' (AdministratorAccess), shown once and never stored in plaintext:\n"
        f"  AccessKeyId      {bootstrap.admin_access_key_id}\n"
        f"  AccessKeySecret  {bootstrap.admin_access_key_secret}\n\n"
        "Root identity console password (no AccessKey), shown once: bind an MFA device and "
        "lock it away:\n"
        f"  {bootstrap.root_password}\n\n"
        f"Endpoint: {endpoint}\n")


def _init(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    data_dir = args.data_dir or default_data_dir()
    if (args.key_shares is None) != (args.key_threshold is None):
        raise UsageError("--key-shares and --key-threshold go together")
    if (data_dir / UNSEAL_FILE_NAME).exists():
        raise UsageError(f"an account already exists in {data_dir} (its root key is split "
                         "into shares); nothing was changed")
    shares: list[Share] = []
    if args.key_shares is not None:
        bootstrap, shares = _bootstrap_split(args, data_dir)
    else:
        bootstrap = _bootstrap(args, data_dir)
    if bootstrap is None:
        raise UsageError(f"an account already exists in "
                         f"{(args.database_url and 'that database') or data_dir}; "
                         "nothing was changed")
    endpoint = "127.0.0.1:8080"
    if args.json:
        body: dict[str, Any] = dict(_credentials(bootstrap, endpoint))
        body["RootPassword"] = bootstrap.root_password
        if shares:
            body["KeyShares"] = [share.encode() for share in shares]
            body["KeyThreshold"] = args.key_threshold
            sys.stderr.write(_shares_warning(len(shares), args.key_threshold))
        out.write(json.dumps(body, indent=2) + "\n")
    else:
        _print_bootstrap(bootstrap, endpoint, out)
        if shares:
            _print_shares(shares, args.key_threshold, out)
    return 0


def _bootstrap_split(args: argparse.Namespace, data_dir: Path
                     ) -> tuple[Bootstrap | None, list[Share]]:
    """A new root key, kept in memory only: the store is initialized with it, `unseal.json`
    records its public facts, and it is returned split into shares."""
    if ROOT_KEY_ENV in os.environ:
        raise UsageError(f"{ROOT_KEY_ENV} is set: with --key-shares the root key is made here "
                         "and split, never kept whole; unset it")
    key_file = data_dir / KEY_FILE_NAME
    if key_file.exists() or key_file.is_symlink():
        raise UsageError(f"{key_file} exists: with --key-shares no key file may exist, or the "
                         "shares would protect nothing; nothing was changed")
    key = RootKey.generate()
    try:
        shares = key.split(args.key_shares, args.key_threshold)
    except ShamirError as exc:
        raise UsageError(f"--key-shares {args.key_shares} --key-threshold "
                         f"{args.key_threshold}: {exc}") from None
    facts = UnsealFacts(args.key_shares, args.key_threshold, key.key_id)
    try:
        unseal_file = write_unseal_file(data_dir, facts)
    except RampartsError as exc:
        raise UsageError(str(exc)) from None
    try:
        bootstrap = initialize(data_dir, os.environ, database_url=args.database_url,
                               alias=args.alias, region=args.region, root_key=key)
    except RampartsError as exc:
        unseal_file.unlink(missing_ok=True)
        raise UsageError(str(exc)) from None
    except BaseException:
        unseal_file.unlink(missing_ok=True)
        raise
    if bootstrap is None:
        unseal_file.unlink(missing_ok=True)
    return bootstrap, shares


def _shares_warning(count: int, threshold: int) -> str:
    return (f"The root key was split into {count} key shares; any {threshold} of them unseal "
            "the server, fewer reveal nothing.\nThey are shown only this once and stored "
            "nowhere: give each one to a different person,\nand never keep two together.\n")


def _print_shares(shares: list[Share], threshold: int, out: TextIO) -> None:
    out.write("\n" + _shares_warning(len(shares), threshold))
    for share in shares:
        out.write(f"  Key share {share.index}: {share.encode()}\n")
    out.write(f"\n`ramparts serve` starts sealed: give it {threshold} of the shares, one by "
              "one, with `ramparts unseal` (each read from standard input).\n")


def _run(config: ServerConfig, log_level: str, out: TextIO) -> int:
    facts = None
    if ROOT_KEY_ENV not in os.environ and not (config.data_dir / KEY_FILE_NAME).exists():
        try:
            facts = read_unseal_file(config.data_dir)
        except RampartsError as exc:
            raise UsageError(str(exc)) from None
    if facts is not None:
        return _run_sealed(config, facts, log_level, out)
    from ramparts.server.http import build_server

    try:
        runtime = open_runtime(config.data_dir, os.environ, database_url=config.database_url)
    except RampartsError as exc:
        raise UsageError(str(exc)) from None
    # uvicorn stops gracefully on SIGTERM and then raises the signal again; with this handler
    # in place that ends in SystemExit, so the store is closed (SQLite checkpoints its WAL).
    signal.signal(signal.SIGTERM, _stop)
    _start_background(runtime, config)
    try:
        build_server(config, runtime, log_level=log_level).run()
    except SystemExit:
        pass
    finally:
        runtime.close()
    return 0


def _start_background(runtime: Runtime, config: ServerConfig) -> None:
    runtime.start_delivery(config.delivery_root, config.trail_delivery_interval)
    runtime.start_indexing()
    runtime.start_scheduler()


def _run_sealed(config: ServerConfig, facts: UnsealFacts, log_level: str, out: TextIO) -> int:
    """Serve sealed until enough key shares are given, then as `_run` does."""
    from ramparts.server.http import build_sealed_server

    def unseal_with(key: RootKey) -> Runtime:
        runtime = open_runtime(config.data_dir, os.environ, database_url=config.database_url,
                               root_key=key)
        try:
            _start_background(runtime, config)
        except BaseException:
            runtime.close()
            raise
        return runtime

    signal.signal(signal.SIGTERM, _stop)
    server, sealed = build_sealed_server(config, facts, unseal_with, log_level=log_level)
    out.write(f"The server is sealed: give {facts.key_threshold} of the {facts.key_shares} "
              f"key shares with `ramparts unseal --endpoint {config.endpoint}`"
              f"{' --https' if config.tls_cert else ''}.\n")
    out.flush()
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        sealed.close()
    return 0


def _stop(signum: int, frame: object) -> None:
    del signum, frame
    raise SystemExit(0)


def _serve(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    return _run(_config(args), args.log_level, out)


def _up(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    config = _config(args)
    # A data dir whose root key is split holds an account already; initializing would only
    # write a key file of a new root key next to it.
    key_is_split = (config.data_dir / UNSEAL_FILE_NAME).exists()
    bootstrap = None if key_is_split else _bootstrap(args, config.data_dir)
    if bootstrap is not None:
        _print_bootstrap(bootstrap, config.endpoint, out)
    else:
        out.write(f"Serving the existing account in "
                  f"{(config.database_url and 'the database') or config.data_dir} (its "
                  "credentials were shown when it was created).\n")
    out.write(
        f"\nPoint an SDK at it, e.g. Python:\n"
        f"  Config(access_key_id=..., access_key_secret=..., endpoint='{config.endpoint}',\n"
        f"         protocol='{config.scheme}', region_id='{DEFAULT_REGION}')\n"
        f"Stop with Ctrl-C.\n\n")
    out.flush()
    return _run(config, args.log_level, out)
