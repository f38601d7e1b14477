"""Secrets Manager's names and values, checked for every caller of the backend."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

from ramparts.services.kms.errors import InvalidParameter

__all__ = [
    "BINARY", "DATA_TYPES", "MAX_SECRET_DATA_BYTES", "ROTATION_INTERVAL", "TEXT",
    "check_secret_name", "check_stage", "check_version_id", "parse_data",
    "parse_rotation_interval", "secret_resource",
]

TEXT, BINARY = "text", "binary"
DATA_TYPES = (TEXT, BINARY)
MAX_SECRET_DATA_BYTES = 30720  # [doc: CreateSecret SecretData: up to 30,720 bytes]
ROTATION_INTERVAL = (timedelta(hours=6), timedelta(hours=8760))  # [doc: CreateSecret]
# [doc: CreateSecret SecretName]: up to 192 letters, digits and _ / + = . @ -, not beginning
# with acs/ for the types created here.
_SECRET_NAME = re.compile(r"[A-Za-z0-9_/+=.@-]{1,192}", re.ASCII)
# Version ids are up to 64 characters [doc: CreateSecret VersionId]; stage labels have no
# documented form. Both: printable ASCII without spaces, 1 to 64 characters.
_LABEL = re.compile(r"[!-~]{1,64}", re.ASCII)
_INTERVAL = re.compile(r"([0-9]{1,10})([dhms])", re.ASCII)
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def check_secret_name(name: str) -> str:
    if _SECRET_NAME.fullmatch(name) is None or name.lower().startswith("acs/"):
        raise InvalidParameter('The specified parameter "SecretName" is not valid: 1 to 192 '
                               "letters, digits and _ / + = . @ -, not beginning with acs/.")
    return name


def check_version_id(version_id: str, name: str = "VersionId") -> str:
    if _LABEL.fullmatch(version_id) is None:
        raise InvalidParameter(f'The specified parameter "{name}" is not valid: 1 to 64 '
                               "printable ASCII characters without spaces.")
    return version_id


def check_stage(stage: str, name: str = "VersionStage") -> str:
    if _LABEL.fullmatch(stage) is None:
        raise InvalidParameter(f'The specified parameter "{name}" is not valid: a stage label '
                               "is 1 to 64 printable ASCII characters without spaces.")
    return stage


def parse_data(text: str, data_type: str) -> bytes:
    """The bytes a SecretData parameter carries: the UTF-8 of a text value, the decoded bytes
    of a binary (base64) one. The message of a refusal never quotes the value."""
    if data_type not in DATA_TYPES:
        raise InvalidParameter('The specified parameter "SecretDataType" is not valid: text or '
                               "binary.")
    if len(text.encode("utf-8")) > MAX_SECRET_DATA_BYTES:
        raise InvalidParameter('The specified parameter "SecretData" is not valid: it is longer '
                               f"than {MAX_SECRET_DATA_BYTES} bytes.")
    if data_type == TEXT:
        return text.encode("utf-8")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise InvalidParameter('The specified parameter "SecretData" is not valid: a binary '
                               "secret value is sent as base64.") from None


def parse_rotation_interval(text: str) -> timedelta:
    """`integer[unit]`, the unit d, h, m or s, from 6 hours to 8,760 hours [doc: CreateSecret
    RotationInterval]."""
    match = _INTERVAL.fullmatch(text.strip())
    if match is None:
        raise InvalidParameter('The specified parameter "RotationInterval" is not valid: give '
                               "a number and a unit (d, h, m or s), such as 7d or 604800s.")
    interval = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    low, high = ROTATION_INTERVAL
    if not low <= interval <= high:
        raise InvalidParameter('The specified parameter "RotationInterval" is not valid: it '
                               "must be from 6 hours to 8,760 hours.")
    return interval


def secret_resource(name: str) -> str:
    """A secret's resource in kms_tags."""
    return f"secret/{name}"
