"""IMS actions on the wire: the credential report."""

from __future__ import annotations

import base64
from typing import Any

from ramparts.services.call import Call
from ramparts.services.ram.credential_report import MAX_ITEMS, CredentialReportBackend
from ramparts.services.ram.product import IMS, account_resource

__all__: list[str] = []


def _reports(call: Call) -> CredentialReportBackend:
    return CredentialReportBackend(call.tx, call.env, call.context.account_id)


@IMS.action("GenerateCredentialReport", resource=account_resource, rw="Write")
def generate_credential_report(call: Call) -> dict[str, Any]:
    return {"State": _reports(call).generate()}


@IMS.action("GetCredentialReport", resource=account_resource, rw="Read")
def get_credential_report(call: Call) -> dict[str, Any]:
    max_items = int(call.params.int("MaxItems", default=MAX_ITEMS, minimum=1,
                                    maximum=MAX_ITEMS))
    page = _reports(call).page(max_items, call.params.str("NextToken"))
    body: dict[str, Any] = {
        "Content": base64.b64encode(page.content.encode("utf-8")).decode("ascii"),
        "GeneratedTime": page.generated_at,
        "IsTruncated": page.next_token is not None,
    }
    if page.next_token is not None:
        body["NextToken"] = page.next_token
    return body
