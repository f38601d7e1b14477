"""Each package's public names are pinned, so a change to them is a deliberate one."""

from __future__ import annotations

import importlib

import pytest

EXPORTS = {
    "ramparts": ["__version__"],
    "ramparts.core": [
        "Arn", "Clock", "FrozenClock", "IdGenerator", "RampartsError", "RandomIds",
        "SequentialIds", "ServiceError", "SystemClock", "format_iso8601", "parse_arn",
        "parse_iso8601",
    ],
    "ramparts.policy": [
        "AccessRequest", "CompiledPolicy", "Decision", "DecisionEffect", "Diagnostic", "Effect",
        "Explanation", "PolicyCache", "PolicyDocument", "PolicyKind", "PolicyParseError",
        "PolicySet",
        "PolicySource", "PolicyType", "Principal", "PrincipalType", "Severity", "StatementRef",
        "authorize", "compile_policy", "explain", "explanation_to_dict", "parse_policy",
        "render_text", "validate_policy",
    ],
    "ramparts.cli": ["main"],
}


@pytest.mark.parametrize("module_name", sorted(EXPORTS))
def test_exports_are_pinned(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert sorted(module.__all__) == sorted(EXPORTS[module_name])
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name} is listed but missing"
