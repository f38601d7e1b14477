"""What a handler receives: the request's context and parameters, a transaction, and services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ramparts.core.clock import Clock
from ramparts.core.context import Caller, ParamSource, RequestContext
from ramparts.core.ids import IdGenerator
from ramparts.policy.cache import PolicyCache
from ramparts.policy.catalog import Catalog
from ramparts.store.base import Store, Transaction

__all__ = ["Call", "Sealing", "ServiceEnv"]


class Sealing(Protocol):
    """Sealing of sensitive values at rest, bound to the identity of the record holding them."""

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        ...

    def open(self, sealed: bytes, *, context: str) -> bytes:
        ...


@dataclass(frozen=True, slots=True)
class ServiceEnv:
    """The long-lived collaborators every backend may use; built once by the server."""

    clock: Clock
    ids: IdGenerator
    sealer: Sealing
    catalog: Catalog
    policies: PolicyCache
    # The trail's lookup index, when it is not in the calls' own store (SQLite keeps it in a
    # file of its own); None: the calls' transactions reach it.
    trail_index: Store | None = None


@dataclass
class Call:
    """One API call inside its transaction. Handlers note the resources they touch; a public
    action that establishes who is calling (sign-in) names that identity in `acting`, and may
    add `event_data` (ActionTrail's additionalEventData) and the event's `service_name`."""

    context: RequestContext
    params: ParamSource
    tx: Transaction
    env: ServiceEnv
    resources: list[tuple[str, str]] = field(default_factory=list)
    acting: Caller | None = None
    event_data: dict[str, Any] = field(default_factory=dict)
    service_name: str = ""

    def touched(self, resource_type: str, name: str) -> None:
        """Record a resource for the trail event (`ACS::RAM::User`, `alice`)."""
        self.resources.append((resource_type, name))
