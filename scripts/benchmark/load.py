"""The load generator, run as its own process: `python -m benchmark.load < spec.json`.

A fixed number of connections (kept alive when the server allows), each driven by one thread
for a fixed time, sends pre-built HTTP/1.1 requests and records every latency; the first
seconds are a warm-up and are not counted. The client is a few lines over a socket (no HTTP
library) so that on a small machine it leaves the CPU to the server under test. Prints one
JSON object.

spec: {"host", "port", "duration", "warmup", "concurrency", "token",
       "get": [paths]}  or  {"put": [interaction bodies without id]}
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import uuid
from datetime import UTC, datetime


class Connection:
    """One HTTP/1.1 keep-alive connection; reconnects when the server closes it."""

    def __init__(self, host: str, port: int):
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.buffer = b""

    def _connect(self) -> None:
        self.sock = socket.create_connection(self.address, timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def _recv(self) -> bytes:
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("closed by the server")
        return chunk

    def request(self, data: bytes) -> tuple[int, dict, bytes]:
        for attempt in (1, 2):
            if self.sock is None:
                self._connect()
            try:
                self.sock.sendall(data)
                return self._response()
            except (ConnectionError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _response(self) -> tuple[int, dict, bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", 0))
        while len(rest) < length:
            rest += self._recv()
        body, self.buffer = rest[:length], rest[length:]
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = None


def build_get(host: str, port: int, path: str, token: str | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def build_put(host: str, port: int, body: dict, token: str) -> bytes:
    payload = json.dumps({**body, "occurred_at": datetime.now(UTC).isoformat()}).encode()
    head = "\r\n".join(
        [
            f"PUT /api/v1/interactions/{uuid.uuid4()} HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            "Accept: application/json",
            "Content-Type: application/json",
            f"Authorization: Bearer {token}",
            f"Content-Length: {len(payload)}",
        ]
    )
    return head.encode() + b"\r\n\r\n" + payload


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def run(spec: dict) -> dict:
    host, port = spec.get("host", "127.0.0.1"), spec["port"]
    token = spec.get("token")
    concurrency, duration, warmup = spec["concurrency"], spec["duration"], spec["warmup"]
    paths, bodies = spec.get("get"), spec.get("put")
    expected = {200, 201} if bodies else {200}
    start = time.perf_counter() + 0.2  # every thread connected before the clock starts
    counted_from, until = start + warmup, start + warmup + duration
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    statuses: list[dict[int, int]] = [{} for _ in range(concurrency)]
    failures: list[str] = []

    prebuilt = [build_get(host, port, p, token) for p in paths] if paths else None

    def drive(n: int) -> None:
        conn = Connection(host, port)
        mine, seen = latencies[n], statuses[n]
        i = n * 7919  # each connection walks the targets from its own place
        try:
            conn._connect()
            while time.perf_counter() < start:
                time.sleep(0.001)
            while True:
                if prebuilt:
                    data = prebuilt[i % len(prebuilt)]
                else:
                    data = build_put(host, port, bodies[i % len(bodies)], token)
                i += 1
                t0 = time.perf_counter()
                if t0 >= until:
                    break
                status, _, _ = conn.request(data)
                t1 = time.perf_counter()
                if t0 >= counted_from and t1 <= until:
                    mine.append(t1 - t0)
                    seen[status] = seen.get(status, 0) + 1
        except Exception as exc:  # reported, and the run is marked as failed
            failures.append(f"{type(exc).__name__}: {exc}")
        finally:
            conn.close()

    threads = [threading.Thread(target=drive, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = sorted(x for part in latencies for x in part)
    status_counts: dict[int, int] = {}
    for part in statuses:
        for code, count in part.items():
            status_counts[code] = status_counts.get(code, 0) + count
    errors = sum(c for code, c in status_counts.items() if code not in expected)
    return {
        "requests": len(every),
        "errors": errors + len(failures),
        "failures": failures[:5],
        "statuses": {str(k): v for k, v in sorted(status_counts.items())},
        "duration_s": duration,
        "concurrency": concurrency,
        "throughput_rps": round(len(every) / duration, 1),
        "p50_ms": round(percentile(every, 0.50) * 1000, 2),
        "p90_ms": round(percentile(every, 0.90) * 1000, 2),
        "p99_ms": round(percentile(every, 0.99) * 1000, 2),
        "mean_ms": round(sum(every) / len(every) * 1000, 2) if every else None,
        **({"latencies_us": [round(x * 1e6) for x in every]} if spec.get("latencies") else {}),
    }


def run_alternating(spec: dict) -> dict:
    """One connection per target, one request at a time, the targets taking turns: paired
    latencies of several servers under the very same conditions (for comparing ledgers)."""
    host = spec.get("host", "127.0.0.1")
    targets = spec["alternate"]
    conns = [Connection(host, t["port"]) for t in targets]
    requests = [[build_get(host, t["port"], p, t.get("token")) for p in t["get"]] for t in targets]
    latencies: list[list[float]] = [[] for _ in targets]
    statuses: list[dict[int, int]] = [{} for _ in targets]
    start = time.perf_counter()
    counted_from, until = start + spec["warmup"], start + spec["warmup"] + spec["duration"]
    i = 0
    while time.perf_counter() < until:
        for n, conn in enumerate(conns):
            t0 = time.perf_counter()
            status, _, _ = conn.request(requests[n][i % len(requests[n])])
            if t0 >= counted_from:
                latencies[n].append(time.perf_counter() - t0)
                statuses[n][status] = statuses[n].get(status, 0) + 1
        i += 1
    for conn in conns:
        conn.close()
    results = []
    for lat, seen in zip(latencies, statuses, strict=True):
        every = sorted(lat)
        results.append(
            {
                "requests": len(every),
                "errors": sum(c for code, c in seen.items() if code != 200),
                "failures": [],
                "statuses": {str(k): v for k, v in sorted(seen.items())},
                "duration_s": spec["duration"],
                "concurrency": 1,
                "throughput_rps": round(len(every) / spec["duration"], 1),
                "p50_ms": round(percentile(every, 0.50) * 1000, 2),
                "p90_ms": round(percentile(every, 0.90) * 1000, 2),
                "p99_ms": round(percentile(every, 0.99) * 1000, 2),
                "latencies_us": [round(x * 1e6) for x in every],
            }
        )
    return {"results": results}


def main() -> None:
    spec = json.load(sys.stdin)
    json.dump(run_alternating(spec) if "alternate" in spec else run(spec), sys.stdout)


if __name__ == "__main__":
    main()
