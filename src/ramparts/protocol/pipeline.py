"""The request path: wire -> route -> signature -> caller -> RAM check -> handler -> trail ->
response, each call one transaction that includes its trail event."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ramparts.core.clock import format_iso8601
from ramparts.core.context import Caller, CallerKind, RequestContext
from ramparts.core.errors import ServiceError
from ramparts.protocol.authenticate import Authenticated, authenticate
from ramparts.protocol.authorize import check_access
from ramparts.protocol.envelope import HttpResponse, error_response, success_response
from ramparts.protocol.errors import (
    InternalError,
    InvalidParameter,
    SignatureNonceUsed,
    trail_message,
)
from ramparts.protocol.params import Params, parse_form, route_of
from ramparts.protocol.registry import Registry
from ramparts.protocol.signing import (
    SignedIdentity,
    check_timestamp,
    read_signature,
    verify_signature,
)
from ramparts.protocol.wire import WireRequest
from ramparts.services.accounts import AccountRecord
from ramparts.services.actions import ActionSpec
from ramparts.services.actiontrail.recorder import CallRecord, record_event
from ramparts.services.actiontrail.redaction import Redactor
from ramparts.services.call import Call, ServiceEnv
from ramparts.services.ram.access_keys import AccessKeyBackend
from ramparts.store.base import Store, StoreError, Transaction

__all__ = ["Pipeline"]

log = logging.getLogger("ramparts.requests")
MAX_BODY = 1024 * 1024  # bytes; larger bodies are refused before parsing
NONCE_WINDOW = timedelta(minutes=15)
NONCE_PURGE_EVERY = 1000


@dataclass
class _Attempt:
    """What is known about a call so far, for its trail event if it fails."""

    spec: ActionSpec | None = None
    version: str = ""
    action: str = ""
    params: dict[str, str] | None = None
    identity: SignedIdentity | None = None
    caller: Caller | None = None


class Pipeline:
    def __init__(self, store: Store, env: ServiceEnv, registry: Registry, account: AccountRecord,
                 redactor: Redactor) -> None:
        self.store, self.env, self.registry = store, env, registry
        self.account, self.redactor = account, redactor
        self._calls = 0

    # ---- the path

    def handle(self, wire: WireRequest) -> HttpResponse:
        request_id = self.env.ids.request_id()
        now = self.env.clock.now()
        attempt = _Attempt()
        try:
            return self._serve(wire, request_id, attempt)
        except ServiceError as error:
            return self._refuse(wire, request_id, attempt, error)
        except Exception:  # a defect: answer InternalError, never a traceback
            log.exception("request %s failed unexpectedly", request_id)
            fault = InternalError("The request processing has failed due to some unknown error.")
            return self._refuse(wire, request_id, attempt, fault)
        finally:
            self._calls += 1
            if self._calls % NONCE_PURGE_EVERY == 0:
                self._purge_nonces(now)

    def _serve(self, wire: WireRequest, request_id: str, attempt: _Attempt) -> HttpResponse:
        if wire.malformed is not None:
            raise InvalidParameter(wire.malformed)
        form = parse_form(wire, MAX_BODY)
        attempt.version, attempt.action = route_of(wire, form)
        params = Params(wire.query, form)
        attempt.params = params.as_dict()
        spec = self.registry.lookup(attempt.version, attempt.action)
        attempt.spec = spec
        if spec.public:
            return self._serve_public(wire, request_id, attempt, spec, params)
        identity = read_signature(wire, form)
        attempt.identity = identity
        check_timestamp(identity, self.env.clock.now())
        with self.store.transaction() as tx:
            who = authenticate(tx, self.env, identity.access_key_id, identity.security_token)
            verify_signature(wire, form, identity, who.secret)
            attempt.caller = who.caller
            if not self._claim_nonce(tx, identity):
                raise SignatureNonceUsed("Specified signature nonce was used already.")
            call = Call(self._context(wire, request_id, spec, who.caller), params, tx, self.env)
            if spec.authorize:
                check_access(call, spec, who.session)
            body = spec.handler(call)
            self._mark_used(tx, who, spec)
            record_event(tx, self._record(call, spec, attempt, body, None))
        return success_response(request_id, body)

    def _serve_public(self, wire: WireRequest, request_id: str, attempt: _Attempt,
                      spec: ActionSpec, params: Params) -> HttpResponse:
        """An unsigned action that authenticates inside its handler (sign-in). Its refusal is
        committed with what the handler wrote, so a failed attempt still counts."""
        with self.store.transaction() as tx:
            call = Call(self._context(wire, request_id, spec, None), params, tx, self.env)
            try:
                body = spec.handler(call)
            except ServiceError as refusal:
                attempt.caller = call.acting
                record_event(tx, self._record(call, spec, attempt, None, refusal))
                return error_response(refusal, request_id, spec.product.host,
                                      spec.product.name)
            attempt.caller = call.acting
            record_event(tx, self._record(call, spec, attempt, body, None))
        return success_response(request_id, body)

    def _refuse(self, wire: WireRequest, request_id: str, attempt: _Attempt,
                error: ServiceError) -> HttpResponse:
        """The call changed nothing; write its nonce (if it was authentic) and its event."""
        host = attempt.spec.product.host if attempt.spec else "ramparts"
        product = attempt.spec.product.name if attempt.spec else ""
        try:
            with self.store.transaction() as tx:
                if attempt.identity is not None and attempt.caller is not None:
                    self._claim_nonce(tx, attempt.identity)
                context = self._context(wire, request_id, attempt.spec, attempt.caller,
                                        action=attempt.action, version=attempt.version)
                call = Call(context, Params([], []), tx, self.env)
                record_event(tx, self._record(call, attempt.spec, attempt, None, error))
        except (ServiceError, StoreError):
            log.exception("request %s: its failure could not be recorded", request_id)
            error = InternalError("The request processing has failed due to some unknown "
                                  "error.")
        return error_response(error, request_id, host, product)

    # ---- parts

    def _context(self, wire: WireRequest, request_id: str, spec: ActionSpec | None,
                 caller: Caller | None, *, action: str = "", version: str = ""
                 ) -> RequestContext:
        anonymous = Caller(CallerKind.USER, self.account.account_id, "", "", "", "")
        return RequestContext(
            request_id=request_id, account_id=self.account.account_id,
            region=self.account.region, caller=caller or anonymous,
            source_ip=wire.source_ip, secure=wire.secure,
            user_agent=wire.header("user-agent") or "", now=self.env.clock.now(),
            product=spec.product.name if spec else "",
            version=spec.product.version if spec else version,
            action=spec.name if spec else action,
            host=spec.product.host if spec else (wire.header("host") or ""),
        )

    def _claim_nonce(self, tx: Transaction, identity: SignedIdentity) -> bool:
        """Whether the nonce was new: a nonce is accepted once per AccessKey within the
        timestamp window, across every replica sharing the store."""
        expires = identity.timestamp + NONCE_WINDOW
        inserted = tx.execute(
            "INSERT INTO nonces (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING",
            (f"{identity.access_key_id}:{identity.nonce}", format_iso8601(expires)))
        return inserted == 1

    def _mark_used(self, tx: Transaction, who: Authenticated, spec: ActionSpec) -> None:
        if who.session is None:
            AccessKeyBackend(tx, self.env, self.account.account_id).mark_used(
                who.caller.access_key_id, spec.product.name)

    def _record(self, call: Call, spec: ActionSpec | None, attempt: _Attempt,
                body: dict[str, Any] | None, error: ServiceError | None) -> CallRecord:
        sensitive = spec.sensitive if spec else frozenset()
        secret = spec.secret_response if spec else frozenset()
        additional: dict[str, Any] = {}
        if attempt.identity is not None and attempt.caller is None:
            additional["claimedAccessKeyId"] = attempt.identity.access_key_id
        if attempt.identity is None and call.acting is None and not (spec and spec.public):
            additional["signature"] = "absent or unreadable"
        acting = call.acting or attempt.caller
        if acting is not None and acting.kind is CallerKind.ROOT:
            additional["rootIdentityUsed"] = "true"  # every use of the root is flagged
        additional.update(call.event_data)
        return CallRecord(
            context=call.context,
            event_type=spec.event_type if spec else "ApiCall",
            rw=spec.rw if spec else "Write",
            request_parameters=self.redactor.parameters(attempt.params or {}, sensitive),
            response_elements=self.redactor.response(body, secret) if body is not None else None,
            error_code=error.error_code if error else "",
            error_message=trail_message(error) if error else "",
            resources=call.resources,
            caller=attempt.caller,
            additional=additional,
            service_name=call.service_name,
        )

    def _purge_nonces(self, now: Any) -> None:
        try:
            with self.store.transaction() as tx:
                tx.execute("DELETE FROM nonces WHERE expires_at < ?", (format_iso8601(now),))
        except StoreError:
            log.warning("expired nonces could not be purged; will retry")
