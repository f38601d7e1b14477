"""The RAM product's action table and the resource names its actions are checked against."""

from __future__ import annotations

from ramparts.core.context import CallerKind
from ramparts.core.errors import ServiceError
from ramparts.services.actions import ActionTable, Product, ResourceOf
from ramparts.services.call import Call

__all__ = [
    "IMS", "RAM", "account_resource", "every", "named", "own_user", "policy_resource",
]

RAM = ActionTable(Product("Ram", "2015-05-01", "ram.aliyuncs.com", "ram"))
IMS = ActionTable(Product("Ims", "2019-08-15", "ims.aliyuncs.com", "ram"))


class MissingUserName(ServiceError):
    code = "MissingUserName"
    http_status = 400


def own_user(call: Call) -> str:
    """The UserName parameter, or the calling RAM user's own name when it is omitted."""
    name = call.params.str("UserName")
    if name:
        return str(name)
    caller = call.context.caller
    if caller.kind is CallerKind.USER:
        return caller.name
    raise MissingUserName("UserName is mandatory for this action.")


def named(kind: str, parameter: str) -> ResourceOf:
    """A resource function: `acs:ram::<account>:<kind>/<value of parameter>`."""

    def resource(call: Call) -> str:
        value = call.params.str(parameter)
        if parameter == "UserName" and not value:
            value = own_user(call)
        return f"acs:ram::{call.context.account_id}:{kind}/{value or ''}"

    return resource


def every(kind: str) -> ResourceOf:
    """A resource function for list and create actions: `acs:ram::<account>:<kind>/*`."""

    def resource(call: Call) -> str:
        return f"acs:ram::{call.context.account_id}:{kind}/*"

    return resource


def policy_resource(call: Call) -> str:
    name = call.params.str("PolicyName") or "*"
    if call.params.str("PolicyType") == "System":
        return f"acs:ram::system:policy/{name}"
    return f"acs:ram::{call.context.account_id}:policy/{name}"


def account_resource(call: Call) -> str:
    return f"acs:ram::{call.context.account_id}:*"
