"""Shared foundations: error base classes and Alibaba Cloud resource names."""

from ramparts.core.errors import RampartsError
from ramparts.core.identifiers import Arn, parse_arn

__all__ = ["Arn", "RampartsError", "parse_arn"]
