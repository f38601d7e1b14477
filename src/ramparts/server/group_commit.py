"""Group commit on the event loop: the calls that arrive while one group's commit reaches the
disk are served together in the next transaction, made durable by one fsync before any of them
is answered."""

from __future__ import annotations

import asyncio
import logging

from ramparts.protocol.envelope import HttpResponse
from ramparts.protocol.pipeline import Pipeline
from ramparts.protocol.wire import WireRequest
from ramparts.store.base import StoreError
from ramparts.store.sqlite import CommitGroup, SQLiteStore

__all__ = ["MAX_GROUP", "GroupCommitter"]

log = logging.getLogger("ramparts.requests")
# Calls per group: enough that one fsync serves many, few enough that a group's calls (about
# 0.2 ms of work each) are answered within a few milliseconds.
MAX_GROUP = 64

_Pending = tuple[WireRequest, "asyncio.Future[HttpResponse]"]


class GroupCommitter:
    """Serves calls through the pipeline in commit groups, one group at a time.

    The calls of a group run one after another on the event loop, each as a savepoint of the
    group's transaction (so each still fails alone); the commit then runs on a thread of its
    own while the loop goes on reading requests, and only when it has returned are the calls
    answered. If a group cannot be committed, none of it was kept and its calls are served
    again, each in a transaction of its own.
    """

    def __init__(self, pipeline: Pipeline, store: SQLiteStore, *,
                 max_group: int = MAX_GROUP) -> None:
        self.pipeline, self.store, self.max_group = pipeline, store, max_group
        self._pending: list[_Pending] = []
        self._drainer: asyncio.Task[None] | None = None

    async def handle(self, wire: WireRequest) -> HttpResponse:
        """The call's response, once its transaction is durable."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[HttpResponse] = loop.create_future()
        self._pending.append((wire, future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[:self.max_group]
                del self._pending[:self.max_group]
                try:
                    responses = await self._serve_group(batch)
                except Exception as exc:  # a defect: its calls fail, the next group goes on
                    log.exception("a commit group failed unexpectedly")
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                except BaseException:
                    for _, future in batch:
                        future.cancel()
                    raise
                for (_, future), response in zip(batch, responses, strict=True):
                    if not future.done():
                        future.set_result(response)
        finally:
            self._drainer = None

    async def _serve_group(self, batch: list[_Pending]) -> list[HttpResponse]:
        try:
            group = self.store.open_group()
        except StoreError:
            log.warning("a commit group could not begin; serving its calls one by one")
            return self._alone(batch)
        responses = self._serve_in(group, batch)
        if responses is None:
            return self._alone(batch)
        try:
            # The loop's default executor: one group commits at a time, and the loop ends
            # its threads when it closes.
            await asyncio.get_running_loop().run_in_executor(None, group.commit)
        except StoreError:
            log.warning("a commit group failed and kept nothing; serving its calls one by one")
            return self._alone(batch)
        return responses

    def _serve_in(self, group: CommitGroup, batch: list[_Pending]) -> list[HttpResponse] | None:
        """Every call's response inside the group; None (the group rolled back) if SQLite lost
        the group's transaction midway."""
        responses: list[HttpResponse] = []
        try:
            for wire, _ in batch:
                responses.append(self.pipeline.handle(wire))
                if group.broken:
                    break
        except BaseException:
            group.rollback()
            raise
        if group.broken:
            group.rollback()
            return None
        group.seal()  # sealed here, on the loop's thread, before another thread commits it
        return responses

    def _alone(self, batch: list[_Pending]) -> list[HttpResponse]:
        return [self.pipeline.handle(wire) for wire, _ in batch]
