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


def test_api_throughput_runs_and_every_call_is_trailed() -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "api_throughput.py"), "--quick", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout.splitlines()[-1])
    ours = [r for r in report["results"] if r["label"].startswith("ramparts ")]
    assert [r["label"] for r in ours] == ["ramparts GetUser", "ramparts GetCallerIdentity"]
    assert all(r["errors"] == 0 and r["ok"] == r["calls"] for r in ours)
    trail = report["trail"]
    assert trail["events"] == trail["sent"] > sum(r["calls"] for r in ours)
    assert trail["chain_intact"]
    assert report["sound"]


def test_trail_append_runs_and_every_page_matches_its_filters() -> None:
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / "trail_append.py"), "--quick", "--json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads(completed.stdout.splitlines()[-1])
    assert report["sound"]
    assert set(report["chains"].values()) == {True}
    labels = {(r["store"], r["label"]) for r in report["results"]}
    assert ("sqlite", "append, 64 events per commit") in labels
    assert ("sqlite", "LookupEvents over HTTP, User") in labels
    assert all(r.get("per_second", 1) > 0 and r.get("p99_ms", 1) > 0
               for r in report["results"])
