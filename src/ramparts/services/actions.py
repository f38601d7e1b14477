"""Declaring API actions: each product's table maps a wire name to its handler and its RAM check."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ramparts.services.call import Call

__all__ = ["ActionSpec", "ActionTable", "Handler", "MaybeResourceOf", "Product", "ResourceOf"]

Handler = Callable[["Call"], dict[str, Any]]
ResourceOf = Callable[["Call"], str]
# A further check's resource, or None when the call needs no such check (it depends on what
# the call asks for).
MaybeResourceOf = Callable[["Call"], "str | None"]


@dataclass(frozen=True, slots=True)
class Product:
    """An API product: its name in trail events, its version on the wire, and its host."""

    name: str
    version: str
    host: str
    ram_prefix: str


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One API action.

    `ram_action` and `resource` are what RAM checks before the handler runs; `rw` is
    ActionTrail's eventRW; `sensitive` names request parameters the trail must never hold and
    `secret_response` response fields it must never hold; `public` actions are those callable
    without a signature (sign-in), which authenticate inside their handler, and whose refusals
    keep what the handler wrote (a failed sign-in's attempt count) in the transaction that
    records the refusal; `authorize` is False only for actions RAM documents as needing no
    permission (sts:GetCallerIdentity); `event_type` is ActionTrail's eventType.
    """

    product: Product
    name: str
    ram_action: str
    resource: ResourceOf
    rw: str
    handler: Handler
    sensitive: frozenset[str] = frozenset()
    secret_response: frozenset[str] = frozenset()
    public: bool = False
    authorize: bool = True
    event_type: str = "ApiCall"
    also: tuple[tuple[str, MaybeResourceOf], ...] = ()


@dataclass
class ActionTable:
    """The actions of one product, declared with `@table.action("CreateUser", ...)`."""

    product: Product
    specs: dict[str, ActionSpec] = field(default_factory=dict)

    def action(
        self,
        name: str,
        *,
        resource: ResourceOf,
        rw: str,
        ram_action: str | None = None,
        sensitive: Iterable[str] = (),
        secret_response: Iterable[str] = (),
        public: bool = False,
        authorize: bool = True,
        event_type: str = "ApiCall",
        also: Iterable[tuple[str, MaybeResourceOf]] = (),
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            if name in self.specs:
                raise ValueError(f"{self.product.name}.{name} is declared twice")
            self.specs[name] = ActionSpec(
                product=self.product,
                name=name,
                ram_action=ram_action or f"{self.product.ram_prefix}:{name}",
                resource=resource,
                rw=rw,
                handler=handler,
                sensitive=frozenset(sensitive),
                secret_response=frozenset(secret_response),
                public=public,
                authorize=authorize,
                event_type=event_type,
                also=tuple(also),
            )
            return handler

        return register

    def __iter__(self) -> Iterator[ActionSpec]:
        return iter(self.specs.values())
