"""Rotation of managed secrets on the wire: RotateSecret and UpdateSecretRotationPolicy.

RotateSecret is asynchronous, as Alibaba's is: it answers with the VersionId the rotation will
write, and the server's scheduler rotates the secret in its next pass (services/secrets/
rotation.py), outside any call's transaction.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.services.call import Call
from ramparts.services.kms.errors import InvalidParameter, UnsupportedOperation
from ramparts.services.kms.product import KMS
from ramparts.services.secrets.managed import MANAGED_TYPES
from ramparts.services.secrets.rotation import request_rotation
from ramparts.services.secrets.secret_handlers import secret_arn, secrets_of
from ramparts.services.secrets.secrets import Secret, check_version_id, parse_rotation_interval

__all__ = ["DEFAULT_INTERVAL"]

DEFAULT_INTERVAL = timedelta(days=30)


def _managed(call: Call) -> Secret:
    name = call.params.str("SecretName", required=True) or ""
    secret = secrets_of(call).active(name.rsplit(":secret/", 1)[-1])
    call.touched("ACS::KMS::Secret", secret.secret_name)
    if secret.secret_type not in MANAGED_TYPES:
        raise UnsupportedOperation(f"The secret {secret.secret_name} is a "
                                   f"{secret.secret_type} secret: only managed secrets "
                                   f"({', '.join(sorted(MANAGED_TYPES))}) rotate.")
    return secret


@KMS.action("RotateSecret", resource=secret_arn, rw="Write")
def rotate_secret(call: Call) -> dict[str, Any]:
    secret = _managed(call)
    version_id = check_version_id(call.params.str("VersionId", required=True) or "")
    request_rotation(call.tx, secret, version_id)
    return {"Arn": secret.arn, "SecretName": secret.secret_name, "VersionId": version_id}


@KMS.action("UpdateSecretRotationPolicy", resource=secret_arn, rw="Write")
def update_secret_rotation_policy(call: Call) -> dict[str, Any]:
    secret = _managed(call)
    enabled = call.params.bool("EnableAutomaticRotation")
    if enabled is None:
        raise InvalidParameter('The specified parameter "EnableAutomaticRotation" is mandatory '
                               "for this action.")
    text = call.params.str("RotationInterval")
    interval = parse_rotation_interval(text) if text else DEFAULT_INTERVAL
    now = call.env.clock.now()
    call.tx.execute(
        "UPDATE secrets SET automatic_rotation = ?, rotation_seconds = ?, next_rotation_at = ?, "
        "updated_at = ? WHERE account_id = ? AND region = ? AND secret_name = ?",
        ("Enabled" if enabled else "Disabled",
         int(interval.total_seconds()) if enabled else None,
         format_iso8601(now + interval) if enabled else None, format_iso8601(now),
         secret.account_id, secret.region, secret.secret_name))
    return {"SecretName": secret.secret_name}
