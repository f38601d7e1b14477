"""(Version, Action) -> the action's declaration, for every product the server speaks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ramparts.protocol.errors import InvalidApiNotFound
from ramparts.services.actions import ActionSpec, ActionTable

__all__ = ["InvalidApiNotFound", "Registry", "default_registry"]


class Registry:
    """Dispatch is by API version and action name: versions are unique per product, while
    action names repeat across products [ALIBABA-API 1.3]."""

    def __init__(self, tables: Iterable[ActionTable]) -> None:
        self._specs: dict[tuple[str, str], ActionSpec] = {}
        for table in tables:
            for spec in table:
                key = (spec.product.version, spec.name)
                if key in self._specs:  # one would silently shadow the other
                    raise ValueError(f"{spec.name} (version {spec.product.version}) is "
                                     "declared by two tables")
                self._specs[key] = spec

    def lookup(self, version: str, action: str) -> ActionSpec:
        spec = self._specs.get((version, action))
        if spec is None:
            raise InvalidApiNotFound(
                f"Specified api is not found, please check your url and method: {action} "
                f"(version {version})."
            )
        return spec

    def __iter__(self) -> Iterator[ActionSpec]:
        return iter(sorted(self._specs.values(), key=lambda s: (s.product.name, s.name)))

    def __len__(self) -> int:
        return len(self._specs)


def default_registry() -> Registry:
    """Every product this server implements."""
    from ramparts.services.actiontrail import lookup_handlers, trail_handlers
    from ramparts.services.actiontrail.product import ACTIONTRAIL
    from ramparts.services.kms import alias_handlers, crypto_handlers, key_handlers
    from ramparts.services.kms.product import KMS
    from ramparts.services.ram import (
        group_role_handlers,
        ims_handlers,
        login_handlers,
        mfa_handlers,
        policy_handlers,
        settings_handlers,
        user_handlers,
    )
    from ramparts.services.ram.product import IMS, RAM
    from ramparts.services.secrets import rotation_handlers, secret_handlers
    from ramparts.services.signin.handlers import SIGNIN
    from ramparts.services.sts.handlers import STS

    # imported for their declarations
    del group_role_handlers, ims_handlers, login_handlers, mfa_handlers, policy_handlers
    del settings_handlers, user_handlers, lookup_handlers, trail_handlers
    del alias_handlers, crypto_handlers, key_handlers, rotation_handlers, secret_handlers
    return Registry([RAM, IMS, STS, SIGNIN, ACTIONTRAIL, KMS])
