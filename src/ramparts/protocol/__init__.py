"""The Alibaba Cloud wire format and the request path every API call takes."""

from ramparts.protocol.wire import WireRequest

__all__ = ["WireRequest"]
