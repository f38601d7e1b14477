"""The RAM policy engine: parse, validate, compile, evaluate and explain policies."""

from ramparts.policy.cache import PolicyCache
from ramparts.policy.compiled import (
    CompiledPolicy,
    PolicySource,
    PolicyType,
    StatementRef,
    compile_policy,
)
from ramparts.policy.document import Effect, PolicyDocument, PolicyKind
from ramparts.policy.evaluator import Decision, DecisionEffect, PolicySet, authorize
from ramparts.policy.explanation import Explanation, explain, explanation_to_dict, render_text
from ramparts.policy.parser import PolicyParseError, parse_policy
from ramparts.policy.request import AccessRequest, Principal, PrincipalType
from ramparts.policy.validator import Diagnostic, Severity, validate_policy

__all__ = [
    "AccessRequest",
    "CompiledPolicy",
    "Decision",
    "DecisionEffect",
    "Diagnostic",
    "Effect",
    "Explanation",
    "PolicyCache",
    "PolicyDocument",
    "PolicyKind",
    "PolicyParseError",
    "PolicySet",
    "PolicySource",
    "PolicyType",
    "Principal",
    "PrincipalType",
    "Severity",
    "StatementRef",
    "authorize",
    "compile_policy",
    "explain",
    "explanation_to_dict",
    "parse_policy",
    "render_text",
    "validate_policy",
]
