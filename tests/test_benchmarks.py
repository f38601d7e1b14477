"""The benchmark scripts keep running (a smoke run with few decisions; numbers not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_policy_eval_runs_and_reports_every_scenario() -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "policy_eval.py"), "-n", "300", "--json"],
        capture_output=True, text=True, check=True, timeout=300,
    )
    assert "(b) 10 policies, 50 statements" in completed.stdout
    report = json.loads(completed.stdout[completed.stdout.index("\n{") + 1:])
    assert report
