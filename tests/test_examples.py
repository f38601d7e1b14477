"""The examples shipped in the repository stay true."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ramparts.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_example_cases_pass(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["policy", "test", str(EXAMPLES / "cases.yaml"), "--json"])
    results = json.loads(capsys.readouterr().out)
    assert code == 0
    assert len(results) == 12
    assert all(result["passed"] for result in results)


def test_example_policies_validate_without_errors(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (EXAMPLES / "policies").glob("*.json"))
    assert main(["policy", "validate", *files]) == 0
    capsys.readouterr()
