"""`ramparts policy validate | simulate | test | list-system`: the offline policy tools."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from ramparts.cli.errors import UsageError
from ramparts.cli.policy_cases import load_cases, resolve_root, run_cases
from ramparts.cli.policy_files import SYSTEM_PREFIX, detect_kind, load_policy, read_text
from ramparts.policy.catalog import Catalog
from ramparts.policy.compiled import PolicyType
from ramparts.policy.document import PolicyKind
from ramparts.policy.evaluator import PolicySet, authorize
from ramparts.policy.explanation import explain, explanation_to_dict, render_text
from ramparts.policy.request import AccessRequest, Principal, PrincipalType
from ramparts.policy.validator import Severity, validate_policy

__all__ = ["add_policy_commands"]

_KINDS = {kind.value: kind for kind in PolicyKind}


def add_policy_commands(subparsers: Any) -> None:
    policy = subparsers.add_parser("policy", help="validate, simulate and test RAM policies")
    commands = policy.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="print diagnostics for policy documents")
    validate.add_argument("files", nargs="+", metavar="FILE")
    validate.add_argument("--kind", choices=sorted(_KINDS), help="default: from the document")
    validate.add_argument("--json", action="store_true", help="print JSON")
    validate.set_defaults(handler=_validate)

    simulate = commands.add_parser("simulate", help="decide one request and explain why")
    simulate.add_argument("--policy", action="append", default=[], metavar="FILE",
                          help="an identity policy file, or system:<Name> (repeatable)")
    simulate.add_argument("--session-policy", metavar="FILE",
                          help="an STS session policy that intersects the identity policies")
    simulate.add_argument("--resource-policy", metavar="FILE",
                          help="a trust policy (for sts:AssumeRole) or a resource policy")
    simulate.add_argument("--principal", metavar="TYPE:ID",
                          help="the caller, for trust and resource policies: RAM:<arn>, "
                               "Service:<name> or Federated:<arn>")
    simulate.add_argument("--action", required=True, help="for example ecs:DescribeInstances")
    simulate.add_argument("--resource", default="*", help="an acs: resource name (default *)")
    simulate.add_argument("--context", action="append", default=[], metavar="KEY=VALUE",
                          help="a condition key such as acs:SourceIp=10.0.0.1 (repeatable)")
    simulate.add_argument("--json", action="store_true", help="print JSON")
    simulate.set_defaults(handler=_simulate)

    test = commands.add_parser("test", help="run decision cases from a YAML file")
    test.add_argument("cases", type=Path, metavar="CASES.yaml")
    test.add_argument("--root", type=Path, help="folder policy paths are relative to")
    test.add_argument("--json", action="store_true", help="print JSON")
    test.set_defaults(handler=_test)

    listing = commands.add_parser("list-system", help="list the built-in system policies")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_list_system)


def _print_json(value: Any, out: TextIO) -> None:
    out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _validate(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    report: list[dict[str, Any]] = []
    failed = False
    for name in args.files:
        if name.startswith(SYSTEM_PREFIX):
            policy = catalog.system_policy(name[len(SYSTEM_PREFIX):])
            if policy is None:
                raise UsageError(f"no system policy named {name[len(SYSTEM_PREFIX):]!r}")
            text, kind, limit = policy.text, PolicyKind.IDENTITY, None
        else:
            text = read_text(Path(name))
            kind = _KINDS[args.kind] if args.kind else detect_kind(text)
            limit = -1
        diagnostics = validate_policy(
            text, kind=kind, max_chars=limit, known_services=catalog.service_codes
        )
        failed = failed or any(d.severity is Severity.ERROR for d in diagnostics)
        report.append({
            "file": name,
            "kind": str(kind),
            "diagnostics": [
                {"severity": str(d.severity), "code": d.code, "path": d.path,
                 "message": d.message}
                for d in diagnostics
            ],
        })
        if not args.json:
            out.write(f"{name} ({kind} policy): "
                      f"{len(diagnostics) or 'no'} finding{'s' if len(diagnostics) != 1 else ''}\n")
            for diagnostic in diagnostics:
                out.write(f"  {diagnostic}\n")
    if args.json:
        _print_json(report, out)
    return 1 if failed else 0


def _parse_context(pairs: list[str]) -> dict[str, list[str]]:
    context: dict[str, list[str]] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise UsageError(f"--context {pair!r} must be KEY=VALUE, e.g. acs:SourceIp=10.0.0.1")
        context.setdefault(key, []).append(value)
    return context


def _parse_principal(text: str | None) -> Principal | None:
    if text is None:
        return None
    kind, separator, identifier = text.partition(":")
    try:
        return Principal(PrincipalType(kind), identifier) if separator and identifier else None
    except ValueError as exc:
        raise UsageError(
            f"--principal {text!r}: the type must be RAM, Service or Federated"
        ) from exc


def _simulate(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    if not args.policy and not args.resource_policy:
        raise UsageError("give at least one --policy or a --resource-policy")
    identity = PolicySet(load_policy(p, catalog, kind=PolicyKind.IDENTITY) for p in args.policy)
    session = None
    if args.session_policy:
        session = PolicySet([load_policy(args.session_policy, catalog, kind=PolicyKind.IDENTITY,
                                         policy_type=PolicyType.SESSION)])
    resource = None
    if args.resource_policy:
        resource = PolicySet([load_policy(args.resource_policy, catalog)])
    request = AccessRequest(args.action, args.resource, _parse_context(args.context),
                            _parse_principal(args.principal))
    decision = authorize(
        request, identity if args.policy else None, session=session, resource=resource,
        requires_both=args.action.lower() == "sts:assumerole" and resource is not None
        and bool(args.policy),
    )
    explanation = explain(decision)
    if args.json:
        _print_json(explanation_to_dict(explanation), out)
    else:
        out.write(render_text(explanation) + "\n")
    return 0


def _test(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    cases = load_cases(args.cases)
    root = args.root or resolve_root(args.cases, cases)
    results = run_cases(cases, root, catalog)
    failed = sum(not result.passed for result in results)
    if args.json:
        _print_json([result.to_dict() for result in results], out)
    else:
        width = max((len(r.id) for r in results), default=0)
        for result in results:
            mark = "PASS" if result.passed else "FAIL"
            out.write(f"{mark}  {result.id:<{width}}  expected {result.expected:<12} "
                      f"actual {result.actual}\n")
            if not result.passed:
                out.write(f"      {result.explanation['summary']}\n")
        out.write(f"{len(results) - failed} of {len(results)} cases passed"
                  f"{f', {failed} failed' if failed else ''}\n")
    return 1 if failed else 0


def _list_system(args: argparse.Namespace, catalog: Catalog, out: TextIO) -> int:
    policies = catalog.system_policies.values()
    if args.json:
        _print_json([{"PolicyName": p.name, "Description": p.description,
                      "DefaultVersion": p.version, "Origin": p.origin} for p in policies], out)
    else:
        for policy in policies:
            out.write(f"{policy.name:<45} {policy.origin:<13} {policy.description}\n")
    return 0
