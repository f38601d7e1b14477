"""`ramparts init | serve | up`: create an account and serve the API."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
from pathlib import Path
from typing import Any, TextIO

from ramparts.cli.errors import UsageError
from ramparts.core.errors import RampartsError
from ramparts.policy.catalog import Catalog
from ramparts.server.config import ServerConfig, default_data_dir
from ramparts.server.runtime import DEFAULT_REGION, initialize, open_runtime
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
    bootstrap = _bootstrap(args, data_dir)
    if bootstrap is None:
        raise UsageError(f"an account already exists in "
                         f"{(args.database_url and 'that database') or data_dir}; "
                         "nothing was changed")
    endpoint = "127.0.0.1:8080"
    if args.json:
        body = _credentials(bootstrap, endpoint)
        body["RootPassword"] = bootstrap.root_password
        out.write(json.dumps(body, indent=2) + "\n")
    else:
        _print_bootstrap(bootstrap, endpoint, out)
    return 0


def _run(config: ServerConfig, log_level: str) -> int:
    from ramparts.server.http import build_server

    try:
        runtime = open_runtime(config.data_dir, os.environ, database_url=config.database_url)
    except RampartsError as exc:
        raise UsageError(str(exc)) from None
    # uvicorn stops gracefully on SIGTERM and then raises the signal again; with this handler
    # in place that ends in SystemExit, so the store is closed (SQLite checkpoints its WAL).
    signal.signal(signal.SIGTERM, _stop)
    runtime.start_delivery(config.delivery_root, config.trail_delivery_interval)
    runtime.start_indexing()
    runtime.start_scheduler()
    try:
        build_server(config, runtime, log_level=log_level).run()
    except SystemExit:
        pass
    finally:
        runtime.close()
    return 0


def _stop(signum: int, frame: object) -> None:
    del signum, frame
    raise SystemExit(0)


def _serve(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog, out
    return _run(_config(args), args.log_level)


def _up(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    del catalog
    config = _config(args)
    bootstrap = _bootstrap(args, config.data_dir)
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
    return _run(config, args.log_level)
