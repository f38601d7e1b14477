"""The `ramparts` entry point: argument parsing and dispatch to the command modules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ramparts import __version__
from ramparts.cli.errors import UsageError
from ramparts.cli.login_commands import add_login_commands
from ramparts.cli.policy_commands import add_policy_commands
from ramparts.cli.server_commands import add_server_commands
from ramparts.cli.trail_commands import add_trail_commands
from ramparts.cli.unseal_command import add_unseal_command
from ramparts.policy.catalog import Catalog

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ramparts",
        description="Alibaba Cloud's security services, self-hosted: RAM policies, "
        "STS, KMS, Secrets Manager, ActionTrail and posture audits.",
    )
    parser.add_argument("--version", action="version", version=f"ramparts {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_policy_commands(commands)
    add_server_commands(commands)
    add_login_commands(commands)
    add_trail_commands(commands)
    add_unseal_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.handler(args, Catalog(), sys.stdout)
    except UsageError as exc:
        sys.stderr.write(f"ramparts: {exc}\n")
        return 2
    except BrokenPipeError:
        return 0
    return result


if __name__ == "__main__":
    sys.exit(main())
