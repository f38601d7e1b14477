"""`ramparts policy ...` as a user runs it: exit codes, text and JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ramparts.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("cases", ["ram/cases.yaml", "ram/trust/cases.yaml"])
def test_corpus_cases_all_pass(corpus: Path, cases: str,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "policy", "test", str(corpus / cases), "--json")
    results = json.loads(out)
    failed = [r for r in results if not r["passed"]]
    assert failed == []
    assert code == 0
    assert len(results) >= 11
    for result in results:
        assert {"id", "expected", "actual", "passed", "explanation"} <= set(result)
        assert result["explanation"]["decision"] == result["actual"]


def test_corpus_cases_text_summary(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "policy", "test", str(corpus / "ram" / "trust" / "cases.yaml"))
    assert code == 0
    assert "PASS  trust-01" in out
    assert out.rstrip().endswith("11 of 11 cases passed")


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return path


def test_failing_case_exits_1_and_explains(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "read.json", {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "ecs:Describe*", "Resource": "*"}]})
    (tmp_path / "cases").mkdir()
    _write(tmp_path / "cases" / "c.yaml", """
- id: reads
  policies: [read.json]
  action: ecs:DescribeInstances
  resource: acs:ecs:cn-hangzhou:1:instance/i-1
  expected: Allow
- id: wrongly-expects-allow
  policies: [read.json, system:AliyunECSReadOnlyAccess]
  action: ecs:StopInstance
  resource: acs:ecs:cn-hangzhou:1:instance/i-1
  expected: Allow
""")
    code, out, _ = _run(capsys, "policy", "test", str(tmp_path / "cases" / "c.yaml"))
    assert code == 1
    assert "PASS  reads" in out
    assert "FAIL  wrongly-expects-allow" in out
    assert "implicitly denied" in out
    assert "1 of 2 cases passed, 1 failed" in out


def test_unresolvable_paths_are_a_usage_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "c.yaml", "- {id: a, policies: [nowhere.json], action: x:y, "
                                "expected: Allow}\n")
    code, _, err = _run(capsys, "policy", "test", str(tmp_path / "c.yaml"))
    assert code == 2
    assert "pass --root" in err


def test_validate_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path / "good.json", {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "oss:GetObject", "Resource": "acs:oss:*:*:logs/*"}]})
    bad = _write(tmp_path / "bad.json", {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "ecs:*", "Resource": "*",
         "Condition": {"IpAdress": {"acs:SourceIp": "10.0.0.0/8"}}}]})
    code, out, _ = _run(capsys, "policy", "validate", str(good))
    assert (code, out.strip()) == (0, f"{good} (identity policy): no findings")
    code, out, _ = _run(capsys, "policy", "validate", str(good), str(bad), "--json")
    assert code == 1
    report = json.loads(out)
    assert report[0]["diagnostics"] == []
    codes = {d["code"] for d in report[1]["diagnostics"]}
    assert {"invalid-condition-operator", "service-wildcard"} <= codes
    paths = {d["path"] for d in report[1]["diagnostics"]}
    assert "Statement[0].Condition.IpAdress.acs:SourceIp" in paths


def test_validate_detects_trust_policies(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    trust = _write(tmp_path / "trust.json", {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"Service": ["ecs.aliyuncs.com"]}}]})
    code, out, _ = _run(capsys, "policy", "validate", str(trust))
    assert code == 0
    assert "(trust policy)" in out


def test_simulate_explains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    office = _write(tmp_path / "office.json", {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "ecs:*", "Resource": "*",
         "Condition": {"IpAddress": {"acs:SourceIp": "192.168.0.0/16"}}}]})
    code, out, _ = _run(capsys, "policy", "simulate", "--policy", str(office), "--action",
                        "ecs:DescribeInstances", "--context", "acs:SourceIp=10.0.0.1")
    assert code == 0
    assert out.startswith("ImplicitDeny")
    assert "failed for 10.0.0.1" in out
    code, out, _ = _run(capsys, "policy", "simulate", "--policy", str(office), "--action",
                        "ecs:DescribeInstances", "--context", "acs:SourceIp=192.168.1.1",
                        "--json")
    data = json.loads(out)
    assert data["decision"] == "Allow"
    assert data["decidingStatements"][0]["policyName"] == "office.json"


def test_simulate_assume_role_needs_both(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    trust = _write(tmp_path / "trust.json", {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole",
         "Principal": {"RAM": ["acs:ram::111:root"]}}]})
    base = ["policy", "simulate", "--resource-policy", str(trust), "--action", "sts:AssumeRole",
            "--resource", "acs:ram::111:role/app", "--principal", "RAM:acs:ram::111:user/a",
            "--json"]
    code, out, _ = _run(capsys, *base, "--policy", "system:AliyunSTSAssumeRoleAccess")
    assert (code, json.loads(out)["decision"]) == (0, "Allow")
    code, out, _ = _run(capsys, *base, "--policy", "system:ReadOnlyAccess")
    assert (code, json.loads(out)["decision"]) == (0, "ImplicitDeny")


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "policy", "simulate", "--policy", str(tmp_path / "none.json"),
                        "--action", "ecs:X")
    assert code == 2
    assert "no such file" in err
    code, _, err = _run(capsys, "policy", "simulate", "--policy", "system:Nope",
                        "--action", "ecs:X")
    assert (code, "no system policy named 'Nope'" in err) == (2, True)
    code, _, err = _run(capsys, "policy", "simulate", "--policy", "system:ReadOnlyAccess",
                        "--action", "ecs:X", "--context", "novalue")
    assert (code, "KEY=VALUE" in err) == (2, True)


def test_list_system(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "policy", "list-system", "--json")
    names = {entry["PolicyName"] for entry in json.loads(out)}
    assert code == 0
    assert "AdministratorAccess" in names
