"""Benchmark signed, authorized, trailed API calls per second over HTTP, with moto alongside."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import logging
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from time import perf_counter, process_time
from typing import Any, cast
from urllib.parse import urlencode

import uvloop

from ramparts.protocol.signing import (
    REQUIRED_SIGNED_HEADERS,
    percent_encode,
    sign_acs3,
    sign_rpc,
    string_to_sign_acs3,
    string_to_sign_rpc,
)
from ramparts.protocol.wire import WireRequest

Json = dict[str, Any]

DEFAULT_N = 20_000
QUICK_N = 300
MOTO_SHARE = 0.15  # moto answers about 600 calls/s: fewer calls keep its phases short
CEILING_SHARE = 2.0  # the trivial endpoints get more calls: they are fast
WARMUP_SHARE = 0.1
DEFAULT_CONNECTIONS = 32
QUICK_CONNECTIONS = 8
TARGET_RATIO = 5.0
STARTUP_TIMEOUT = 60.0  # seconds for a server process to listen
PHASE_TIMEOUT = 600.0  # seconds for one phase to finish, whatever happens
ERROR_SAMPLES = 3
HOST = "127.0.0.1"
RAM_VERSION, STS_VERSION = "2015-05-01", "2015-04-01"
IAM_VERSION, AWS_STS_VERSION = "2010-05-08", "2011-06-15"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
BENCH_USER = "bench-user"
USER_AGENT = "ramparts-api-throughput/1"
SERVERS = ("moto", "raw", "asgi")  # started by this script; ramparts runs `ramparts serve`


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class Workload:
    """One phase's load: which server and call, how many calls, over how many connections."""

    label: str
    server: str  # ramparts or one of SERVERS
    action: str  # GetUser, GetCallerIdentity, or ping for the trivial endpoints
    port: int
    calls: int
    warmup: int
    connections: int
    key_id: str = ""
    secret: str = ""
    scheme: str = "acs3"  # ramparts only: acs3 (ACS3-HMAC-SHA256) or rpc (HMAC-SHA1)
    version: str = ""  # ramparts: the action's API version
    query: tuple[tuple[str, str], ...] = ()  # ramparts: the action's parameters
    # moto: the AWS service (SigV4 scope), and the request: a Query-protocol form, or with
    # `moto_target` (X-Amz-Target) a JSON-protocol body
    moto_service: str = ""
    moto_form: tuple[tuple[str, str], ...] = ()
    moto_target: str = ""
    moto_json: str = ""


def _http(method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes) -> bytes:
    head = "".join(f"{name}: {value}\r\n" for name, value in headers)
    return (f"{method} {target} HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n"
            .encode("latin-1") + body)


def _timestamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ramparts_acs3(work: Workload) -> bytes:
    """A POST signed with ACS3-HMAC-SHA256, as the V2 SDKs send RPC-style calls."""
    host = f"{HOST}:{work.port}"
    query = list(work.query)
    headers = {
        "host": host, "x-acs-action": work.action, "x-acs-version": work.version,
        "x-acs-date": _timestamp(), "x-acs-signature-nonce": secrets.token_hex(16),
        "x-acs-content-sha256": EMPTY_SHA256,
    }
    signed = sorted(REQUIRED_SIGNED_HEADERS)
    headers["user-agent"] = USER_AGENT  # recorded in the trail, as an SDK's is
    wire = WireRequest(method="POST", path="/", query=query, headers=headers)
    signature = sign_acs3(string_to_sign_acs3(wire, signed), work.secret)
    headers["authorization"] = (f"ACS3-HMAC-SHA256 Credential={work.key_id},"
                                f"SignedHeaders={';'.join(signed)},Signature={signature}")
    target = "/?" + "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in query) \
        if query else "/"
    return _http("POST", target, list(headers.items()), b"")


def ramparts_rpc(work: Workload) -> bytes:
    """A GET signed with RPC V1 HMAC-SHA1, every parameter in the query string."""
    params = [
        ("AccessKeyId", work.key_id), ("Action", work.action), ("Format", "JSON"),
        ("SignatureMethod", "HMAC-SHA1"), ("SignatureNonce", secrets.token_hex(16)),
        ("SignatureVersion", "1.0"), ("Timestamp", _timestamp()),
        ("Version", work.version), *work.query,
    ]
    params.append(("Signature", sign_rpc(string_to_sign_rpc("GET", params), work.secret)))
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in params)
    return _http("GET", f"/?{query}", [("Host", f"{HOST}:{work.port}"),
                                       ("User-Agent", USER_AGENT)], b"")


def moto_request(work: Workload, signer: Any) -> bytes:
    """An AWS request signed with SigV4 (moto reads the service from the scope): a
    Query-protocol form POST, or a JSON-protocol POST naming its operation in X-Amz-Target."""
    from botocore.awsrequest import AWSRequest

    host = f"{HOST}:{work.port}"
    if work.moto_target:
        body = work.moto_json.encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "Host": host,
                   "X-Amz-Target": work.moto_target}
    else:
        body = urlencode(work.moto_form).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                   "Host": host}
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers=headers)
    signer.add_auth(request)
    return _http("POST", "/", list(request.headers.items()), body)


def moto_signer(work: Workload) -> Any:
    from botocore.auth import SigV4Auth
    from botocore.credentials import Credentials

    return SigV4Auth(Credentials(work.key_id, work.secret), work.moto_service, "us-east-1")


def request_factory(work: Workload) -> Callable[[], bytes]:
    """Builds one freshly signed request (a new nonce each time) for the workload."""
    if work.server == "ramparts":
        return (lambda: ramparts_rpc(work)) if work.scheme == "rpc" \
            else (lambda: ramparts_acs3(work))
    if work.server == "moto":
        signer = moto_signer(work)
        return lambda: moto_request(work, signer)
    ping = _http("POST", "/", [("Host", f"{HOST}:{work.port}")], b"ping")
    return lambda: ping


# --------------------------------------------------------------------------- load generator


@dataclass
class _Tally:
    """What one load process saw: a latency per answered call, successes and failures."""

    latencies: array[float] = field(default_factory=lambda: array("d"))
    ok: int = 0
    errors: int = 0
    samples: list[str] = field(default_factory=list)

    def record(self, seconds: float, status: int, body: bytes) -> None:
        self.latencies.append(seconds)
        if status == 200:
            self.ok += 1
        else:
            self.fail(f"HTTP {status}: {body[:300].decode('utf-8', 'replace')}")

    def fail(self, what: str) -> None:
        self.errors += 1
        if len(self.samples) < ERROR_SAMPLES:
            self.samples.append(what)


def parse_response(buffer: bytearray) -> tuple[int, int, bytes, bool] | None:
    """(status, bytes used, body, server closes) of the first complete response, or None.

    The body is framed by Content-Length or by chunked transfer coding (uvicorn's default when
    an application sets no length).
    """
    head_end = buffer.find(b"\r\n\r\n")
    if head_end < 0:
        return None
    lines = bytes(buffer[:head_end]).split(b"\r\n")
    status = int(lines[0][9:12])
    length, chunked, close = None, False, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = value.strip().lower() == b"chunked"
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    if chunked:
        framed = _dechunk(buffer, head_end + 4)
        return None if framed is None else (status, framed[0], framed[1], close)
    if length is None:
        raise ValueError("a response framed neither by Content-Length nor chunked")
    end = head_end + 4 + length
    if len(buffer) < end:
        return None
    return status, end, bytes(buffer[head_end + 4:end]), close


def _dechunk(buffer: bytearray, offset: int) -> tuple[int, bytes] | None:
    """(end offset, body) of a complete chunked body starting at `offset`, or None."""
    body = bytearray()
    while True:
        line_end = buffer.find(b"\r\n", offset)
        if line_end < 0:
            return None
        size = int(bytes(buffer[offset:line_end]).split(b";")[0], 16)
        start = line_end + 2
        if size == 0:  # no trailers are sent by the servers measured here
            return (start + 2, bytes(body)) if len(buffer) >= start + 2 else None
        if len(buffer) < start + size + 2:
            return None
        body += buffer[start:start + size]
        offset = start + size + 2


class _Lane(asyncio.Protocol):
    """One keep-alive connection sending the next request as soon as the last is answered."""

    def __init__(self, queue: list[bytes], tally: _Tally, closed: asyncio.Future[None]) -> None:
        self.queue, self.tally, self.closed = queue, tally, closed
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.sent_at: float | None = None
        self.ready: asyncio.Future[None] = closed.get_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.ready.set_result(None)

    def send_next(self) -> None:
        assert self.transport is not None
        if not self.queue:
            self.sent_at = None
            self.transport.close()
            return
        request = self.queue.pop()
        self.sent_at = perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.sent_at is not None:
            try:
                parsed = parse_response(self.buffer)
            except ValueError as exc:
                self._abort(str(exc))
                return
            if parsed is None:
                return
            status, used, body, close = parsed
            del self.buffer[:used]
            self.tally.record(perf_counter() - self.sent_at, status, body)
            self.sent_at = None
            if close:
                assert self.transport is not None
                self.transport.close()
                return
            self.send_next()

    def _abort(self, why: str) -> None:
        self.tally.fail(why)
        self.sent_at = None
        assert self.transport is not None
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.sent_at is not None:
            self.tally.fail(f"connection lost with a call in flight: {exc}")
        if not self.closed.done():
            self.closed.set_result(None)


async def _open(port: int, queue: list[bytes], tally: _Tally) -> tuple[_Lane, asyncio.Future[None]]:
    loop = asyncio.get_running_loop()
    closed: asyncio.Future[None] = loop.create_future()
    _, lane = await loop.create_connection(lambda: _Lane(queue, tally, closed), HOST, port)
    await lane.ready
    return lane, closed


async def _lane(port: int, queue: list[bytes], tally: _Tally,
                first: tuple[_Lane, asyncio.Future[None]]) -> None:
    """Drive one connection until the queue is empty, reconnecting if the server closes it."""
    lane, closed = first
    lane.send_next()
    await closed
    while queue:
        try:
            lane, closed = await _open(port, queue, tally)
        except OSError as exc:
            queue.pop()
            tally.fail(f"cannot connect: {exc}")
            continue
        lane.send_next()
        await closed


async def _drive(port: int, queue: list[bytes], tally: _Tally, connections: int) -> None:
    opened = [await _open(port, queue, tally) for _ in range(connections)]
    await asyncio.gather(*(_lane(port, queue, tally, first) for first in opened))


def load_process(work: Workload, start: Event, results: Connection) -> None:
    """Sign every request first, warm up, connect, say so, wait for the signal, then send."""
    make = request_factory(work)
    warmup = [make() for _ in range(work.warmup)]
    timed = [make() for _ in range(work.calls)]
    uvloop.run(_session(work, warmup, timed, start, results))
    results.close()


async def _session(work: Workload, warmup: list[bytes], timed: list[bytes], start: Event,
                   results: Connection) -> None:
    warm = _Tally()
    if warmup:
        await _drive(work.port, warmup, warm, min(work.connections, len(warmup)))
    tally = _Tally()
    opened = [await _open(work.port, timed, tally) for _ in range(work.connections)]
    results.send("ready")
    if not start.wait(PHASE_TIMEOUT):  # blocks the loop: nothing is in flight yet
        return
    cpu, started = process_time(), perf_counter()
    await asyncio.gather(*(_lane(work.port, timed, tally, first) for first in opened))
    end = perf_counter()
    results.send({"start": started, "end": end, "cpu": process_time() - cpu,
                  "latencies": tally.latencies.tobytes(), "ok": tally.ok,
                  "errors": tally.errors, "samples": [*warm.samples, *tally.samples],
                  "warmup_errors": warm.errors})


# --------------------------------------------------------------------------- phases


@dataclass(frozen=True, slots=True)
class PhaseResult:
    label: str
    calls: int
    ok: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    server_cpu: float  # cores busy in the server process over the phase
    client_cpu: float  # cores busy in the load processes over the phase
    warmup_calls: int = 0
    warmup_errors: int = 0
    samples: tuple[str, ...] = ()

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def as_json(self) -> Json:
        return {"label": self.label, "calls": self.calls, "ok": self.ok, "errors": self.errors,
                "seconds": round(self.seconds, 4), "calls_per_s": round(self.per_second),
                "p50_ms": round(self.p50_ms, 3), "p99_ms": round(self.p99_ms, 3),
                "server_cpu": round(self.server_cpu, 2), "client_cpu": round(self.client_cpu, 2),
                "warmup_calls": self.warmup_calls, "warmup_errors": self.warmup_errors,
                "error_samples": list(self.samples)}


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (and its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(ordered: Sequence[float], fraction: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_phase(work: Workload, processes: int, server_pid: int) -> PhaseResult:
    """Split the calls and connections over `processes` load processes and time them."""
    context = get_context("spawn")
    start = context.Event()
    receivers, workers = [], []
    for index in range(processes):
        share = replace(work, calls=_share(work.calls, processes, index),
                        warmup=_share(work.warmup, processes, index),
                        connections=max(1, _share(work.connections, processes, index)))
        receiver, sender = context.Pipe(duplex=False)
        worker = context.Process(target=load_process, args=(share, start, sender), daemon=True)
        worker.start()
        sender.close()
        receivers.append(receiver)
        workers.append(worker)
    try:
        for receiver, worker in zip(receivers, workers, strict=True):
            _receive(receiver, worker, work.label)  # "ready": signed, connected, warmed up
        start.set()
        server_cpu = _cpu_seconds(server_pid)
        reports: list[Json] = [_receive(r, w, work.label) for r, w in zip(receivers, workers,
                                                                          strict=True)]
        server_cpu = _cpu_seconds(server_pid) - server_cpu
    finally:
        for worker in workers:
            worker.join(timeout=STARTUP_TIMEOUT)
            if worker.is_alive():
                worker.kill()
    return _combine(work, reports, server_cpu)


def _receive(receiver: Connection, worker: BaseProcess, label: str) -> Any:
    """The load process's next message; an error if it dies or stalls first."""
    deadline = perf_counter() + PHASE_TIMEOUT
    while not receiver.poll(0.2):
        if not worker.is_alive() or perf_counter() > deadline:
            raise RuntimeError(f"{label}: a load process failed (exit code {worker.exitcode})")
    return receiver.recv()


def _share(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def _combine(work: Workload, reports: Sequence[Json], server_cpu: float) -> PhaseResult:
    latencies: list[float] = []
    for report in reports:
        values = array("d")
        values.frombytes(report["latencies"])
        latencies.extend(values)
    latencies.sort()
    seconds = max(r["end"] for r in reports) - min(r["start"] for r in reports)
    ok, errors = sum(r["ok"] for r in reports), sum(r["errors"] for r in reports)
    return PhaseResult(
        label=work.label, calls=work.calls, ok=ok,
        errors=errors + max(0, work.calls - ok - errors),  # a call never answered is an error
        seconds=seconds, p50_ms=_percentile(latencies, 0.5) * 1e3,
        p99_ms=_percentile(latencies, 0.99) * 1e3,
        server_cpu=server_cpu / seconds if seconds else 0.0,
        client_cpu=sum(r["cpu"] for r in reports) / seconds if seconds else 0.0,
        warmup_calls=work.warmup, warmup_errors=sum(r["warmup_errors"] for r in reports),
        samples=tuple(s for r in reports for s in r["samples"])[:ERROR_SAMPLES],
    )


# --------------------------------------------------------------------------- servers


class ChildServer:
    """A comparison server in its own process (this script with --serve), on a free port."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", kind],
            stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = _read_line(self.process.stdout, STARTUP_TIMEOUT)
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"the {kind} server did not start")
        self.port = int(line.split()[1])

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STARTUP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> ChildServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_line(stream: Any, timeout: float) -> str:
    """The first line a child prints, or "" if it prints none in time."""
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0] if lines else ""


def _announce(port: int) -> None:
    print(f"PORT {port}", flush=True)


async def _serve_until_stopped(server: Any, sock: Any, port: int) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, _announce_when_started, server, port)
    await server.serve(sockets=[sock])


def _announce_when_started(server: Any, port: int) -> None:
    if server.started:
        _announce(port)
    else:
        asyncio.get_running_loop().call_later(0.05, _announce_when_started, server, port)


def serve_moto() -> None:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
    server.start()
    _announce(server.get_host_and_port()[1])
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    server.stop()


class _Canned(asyncio.Protocol):
    """Answers every request with the same small response: the client's own ceiling."""

    RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (head_end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = 0
            for line in bytes(self.buffer[:head_end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            end = head_end + 4 + length
            if len(self.buffer) < end:
                return
            del self.buffer[:end]
            assert self.transport is not None
            self.transport.write(self.RESPONSE)


async def _raw_server() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Canned, HOST, 0, backlog=2048)
    _announce(server.sockets[0].getsockname()[1])
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    await stopped.wait()
    server.close()


async def _asgi_ping(scope: Json, receive: Any, send: Any) -> None:
    """A bare ASGI endpoint: read the body, answer `ok`."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


def serve_asgi() -> None:
    import uvicorn

    from ramparts.server.http import bind

    sock = bind(HOST, 0)
    port = sock.getsockname()[1]
    config = uvicorn.Config(_asgi_ping, host=HOST, port=port, access_log=False,
                            log_level="warning", lifespan="off", server_header=False)
    server = uvicorn.Server(config)
    uvloop.run(_serve_until_stopped(server, sock, port))


def serve(kind: str) -> None:
    if kind == "moto":
        serve_moto()
    elif kind == "raw":
        uvloop.run(_raw_server())
    else:
        serve_asgi()


# --------------------------------------------------------------------------- the trail


@dataclass(frozen=True, slots=True)
class TrailCheck:
    events: int
    failures: int
    chain_intact: bool


def check_trail(data_dir: Path, before: int) -> TrailCheck:
    """Count the events written after the first `before`, and verify the whole hash chain."""
    from ramparts.services.actiontrail.recorder import first_break
    from ramparts.store.factory import open_store

    store = open_store(None, data_dir)
    try:
        with store.transaction() as tx:
            row = tx.query_one("SELECT count(*) AS events, sum(CASE WHEN error_code <> '' THEN 1 "
                               "ELSE 0 END) AS failures FROM trail_events WHERE seq > ?",
                               (before,))
            intact = first_break(tx) is None
    finally:
        store.close()
    assert row is not None
    return TrailCheck(int(row["events"]), int(row["failures"] or 0), intact)


def trail_length(data_dir: Path) -> int:
    from ramparts.store.factory import open_store

    store = open_store(None, data_dir)
    try:
        with store.transaction() as tx:
            row = tx.query_one("SELECT count(*) AS n FROM trail_events")
    finally:
        store.close()
    return 0 if row is None else int(row["n"])


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True, slots=True)
class Plan:
    calls: int
    connections: int
    processes: int
    scheme: str
    moto: bool


def run_ceilings(plan: Plan) -> list[PhaseResult]:
    results = []
    for kind, label in (("raw", "load generator ceiling (canned answer)"),
                        ("asgi", "bare uvicorn ASGI endpoint")):
        calls = int(plan.calls * CEILING_SHARE)
        with ChildServer(kind) as server:
            work = Workload(label, kind, "ping", server.port, calls, int(calls * WARMUP_SHARE),
                            plan.connections)
            results.append(report_line(run_phase(work, plan.processes, server.pid)))
    return results


def run_ramparts(plan: Plan, data_root: Path) -> tuple[list[PhaseResult], TrailCheck, int]:
    """Both calls to `ramparts serve` on a fresh SQLite data dir; then the trail is checked."""
    from ramparts.server.runtime import initialize
    from ramparts.testing.process import ServerProcess

    data_dir = data_root / "ramparts"
    bootstrap = initialize(data_dir, {}, alias="bench")
    assert bootstrap is not None
    before = trail_length(data_dir)
    results, sent = [], 0
    with ServerProcess(data_dir) as server:
        assert server.process is not None
        for action, version, query in (("GetUser", RAM_VERSION, (("UserName", "admin"),)),
                                       ("GetCallerIdentity", STS_VERSION, ())):
            work = Workload(f"ramparts {action}", "ramparts", action, server.port, plan.calls,
                            int(plan.calls * WARMUP_SHARE), plan.connections,
                            bootstrap.admin_access_key_id, bootstrap.admin_access_key_secret,
                            plan.scheme, version, query)
            results.append(report_line(run_phase(work, plan.processes, server.process.pid)))
            sent += work.calls + work.warmup
    return results, check_trail(data_dir, before), sent


def run_moto(plan: Plan) -> list[PhaseResult]:
    import boto3

    calls = max(50, int(plan.calls * MOTO_SHARE))
    results = []
    with ChildServer("moto") as server:
        iam = boto3.client("iam", endpoint_url=f"http://{HOST}:{server.port}",
                           region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")  # noqa: S106 (moto's fixed key)
        iam.create_user(UserName=BENCH_USER)
        calls_made = (
            ("GetUser", "iam", (("Action", "GetUser"), ("Version", IAM_VERSION),
                                ("UserName", BENCH_USER))),
            ("GetCallerIdentity", "sts", (("Action", "GetCallerIdentity"),
                                          ("Version", AWS_STS_VERSION))))
        for action, service, form in calls_made:
            work = Workload(f"moto {action}", "moto", action, server.port, calls,
                            int(calls * WARMUP_SHARE), plan.connections, "testing", "testing",
                            moto_service=service, moto_form=form)
            results.append(report_line(run_phase(work, plan.processes, server.pid)))
    return results


def report_line(result: PhaseResult) -> PhaseResult:
    print(f"{result.label}: {result.per_second:,.0f} calls/s, p50 {result.p50_ms:.2f} ms, "
          f"p99 {result.p99_ms:.2f} ms, {result.errors} errors ({result.ok:,} ok in "
          f"{result.seconds:.2f} s after {result.warmup_calls:,} warm-up calls with "
          f"{result.warmup_errors} errors; server {result.server_cpu:.0%} of a core, load "
          f"{result.client_cpu:.0%})", flush=True)
    for sample in result.samples:
        print(f"    ERROR {sample}")
    return result


def print_table(results: Sequence[PhaseResult]) -> None:
    width = max(len(r.label) for r in results)
    print()
    print(f"{'phase':<{width}}  {'calls/s':>9}  {'p50 ms':>8}  {'p99 ms':>8}  {'errors':>6}  "
          f"{'server CPU':>10}  {'load CPU':>8}")
    print(f"{'-' * width}  {'-' * 9}  {'-' * 8}  {'-' * 8}  {'-' * 6}  {'-' * 10}  {'-' * 8}")
    for r in results:
        print(f"{r.label:<{width}}  {r.per_second:>9,.0f}  {r.p50_ms:>8.2f}  {r.p99_ms:>8.2f}  "
              f"{r.errors:>6}  {r.server_cpu:>10.0%}  {r.client_cpu:>8.0%}")


def ratios(ours: Sequence[PhaseResult], moto: Sequence[PhaseResult]) -> dict[str, float]:
    return {o.label.split()[-1]: o.per_second / m.per_second
            for o, m in zip(ours, moto, strict=True) if m.per_second}


def print_verdict(ratio: dict[str, float], trail: TrailCheck, sent: int,
                  ours: Sequence[PhaseResult]) -> bool:
    """Print the ratios, the target and the trail check; whether the run is sound."""
    for action, value in ratio.items():
        print(f"ratio ramparts / moto, {action}: {value:.2f}x")
    if ratio:
        lowest = min(ratio.values())
        print(f"target ramparts >= {TARGET_RATIO:.0f}x moto: "
              f"{'met' if lowest >= TARGET_RATIO else 'NOT met'} (lowest {lowest:.2f}x)")
    failures = sum(r.errors + r.warmup_errors for r in ours)
    trailed = trail.events == sent and trail.failures == failures and trail.chain_intact
    print(f"trail: {trail.events:,} events for {sent:,} calls sent ({failures} failed calls, "
          f"{trail.failures} failure events), hash chain "
          f"{'intact' if trail.chain_intact else 'BROKEN'}: "
          f"{'every call trailed' if trailed else 'MISMATCH'}")
    return trailed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_N} calls per phase over {QUICK_CONNECTIONS} connections")
    parser.add_argument("--json", action="store_true", help="also print one JSON object")
    parser.add_argument("-n", "--calls", type=int, default=None,
                        help=f"timed calls per ramparts phase (default {DEFAULT_N:,}; moto "
                             f"gets {MOTO_SHARE:.0%} of that, the ceilings {CEILING_SHARE:.0f}x)")
    parser.add_argument("-c", "--connections", type=int, default=None,
                        help=f"concurrent keep-alive connections (default {DEFAULT_CONNECTIONS})")
    parser.add_argument("-p", "--processes", type=int, default=1,
                        help="load generator processes sharing the connections (default 1)")
    parser.add_argument("--scheme", choices=("acs3", "rpc"), default="acs3",
                        help="how ramparts calls are signed (default acs3)")
    parser.add_argument("--no-moto", action="store_true", help="skip the moto phases")
    parser.add_argument("--no-ceilings", action="store_true",
                        help="skip the trivial-endpoint phases")
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    return parser.parse_args()


def moto_available() -> bool:
    if importlib.util.find_spec("moto") and importlib.util.find_spec("flask"):
        return True
    print("moto[server] is not installed: `.venv/bin/pip install -e '.[bench]'` to compare "
          "with moto; continuing")
    return False


def summary(settings: Json, results: Sequence[PhaseResult], ratio: dict[str, float],
            trail: TrailCheck, sent: int, sound: bool) -> Json:
    """The run as one JSON object: the machine, the run's `settings`, its results."""
    return {
        "python": platform.python_version(), "cpus": os.cpu_count(), **settings,
        "results": [r.as_json() for r in results],
        "ratio_over_moto": {k: round(v, 3) for k, v in ratio.items()},
        "target_met": min(ratio.values()) >= TARGET_RATIO if ratio else None,
        "trail": {"sent": sent, "events": trail.events, "failure_events": trail.failures,
                  "chain_intact": trail.chain_intact},
        "sound": sound,
    }


def main() -> int:
    args = parse_args()
    if args.serve:
        serve(args.serve)
        return 0
    plan = Plan(calls=args.calls or (QUICK_N if args.quick else DEFAULT_N),
                connections=args.connections or (QUICK_CONNECTIONS if args.quick
                                                 else DEFAULT_CONNECTIONS),
                processes=args.processes, scheme=args.scheme,
                moto=not args.no_moto and moto_available())
    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"{plan.calls:,} timed calls per ramparts phase over {plan.connections} keep-alive "
          f"connections from {plan.processes} load process(es); ramparts calls signed with "
          f"{plan.scheme.upper()}, each with a new nonce; SQLite store (WAL, synchronous=FULL): "
          f"each call verified, authorized and trailed, its commit on disk before its answer. "
          f"moto's server verifies no signature and records nothing.", flush=True)
    results: list[PhaseResult] = [] if args.no_ceilings else run_ceilings(plan)
    with tempfile.TemporaryDirectory(prefix="ramparts-bench-") as root:
        ours, trail, sent = run_ramparts(plan, Path(root))
    results += ours
    moto = run_moto(plan) if plan.moto else []
    results += moto
    print_table(results)
    ratio = ratios(ours, moto) if moto else {}
    trailed = print_verdict(ratio, trail, sent, ours)
    sound = trailed and all(r.errors == 0 and r.warmup_errors == 0 for r in results)
    if args.json:
        settings = {"calls": plan.calls, "connections": plan.connections,
                    "processes": plan.processes, "scheme": plan.scheme}
        print(json.dumps(summary(settings, results, ratio, trail, sent, sound)))
    return 0 if sound else 1


if __name__ == "__main__":
    sys.exit(main())
