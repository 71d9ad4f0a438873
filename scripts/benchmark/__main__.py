"""scripts/bench: builds the synthetic ledgers, serves the API with gunicorn and measures it.

    scripts/bench [--quick] [--out bench-results] [--no-postgres] [--no-browser]
    scripts/bench --in-process [--quick]

Writes <out>/bench.json and <out>/bench.md (with --in-process: <out>/in-process.json and .md).
See docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from . import inprocess, report, servers, synth
from .load import Connection

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psutil

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


# ---- phases -------------------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.quick = args.quick
        self.size = synth.QUICK if args.quick else synth.FULL
        # Each measured phase runs `rounds` slices of `slice` seconds, interleaved with the
        # phases it is compared with; each slice first warms its connections for `warmup`.
        self.rounds = args.rounds or (1 if args.quick else 5)
        self.slice = args.slice or (1.5 if args.quick else 3.0)
        self.warmup = 0.3 if args.quick else 0.5
        self.concurrency = args.concurrency
        self.out = Path(args.out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = Path(tempfile.mkdtemp(prefix="strongties-bench-"))
        self.server_log = self.out / "servers.log"
        self.server_log.write_bytes(b"")
        self.results: dict = {
            "machine": machine(),
            "config": {
                "mode": "quick" if args.quick else "full",
                "seed": args.seed,
                "contacts": self.size.contacts,
                "interactions": self.size.interactions,
                "small_ledger": {
                    "contacts": synth.SMALL.contacts,
                    "interactions": synth.SMALL.interactions,
                },
                "rounds": self.rounds,
                "slice_seconds": self.slice,
                "warmup_seconds": self.warmup,
                "concurrency": self.concurrency,
                "gunicorn": " ".join(["gunicorn", *servers.GUNICORN_ARGS]),
                "load_generator": "separate process, one thread per connection "
                "(kept alive when the server allows)",
            },
            "setup": {},
            "ceiling": {"runs": []},
        }

    # -- helpers ----------------------------------------------------------------------------------
    def load(self, server: servers.Server, name: str, **spec) -> dict:
        """One slice of load on one server, from a separate process."""
        spec = {
            "port": server.port,
            "duration": self.slice,
            "warmup": self.warmup,
            "concurrency": self.concurrency,
            "latencies": True,
            **spec,
        }
        env = {**os.environ, "PYTHONPATH": str(servers.ROOT / "scripts")}
        done = subprocess.run(
            [sys.executable, "-m", "benchmark.load"],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        return json.loads(done.stdout)

    def interleaved(
        self, ceiling: servers.Server, phases: dict[str, tuple[servers.Server, dict]]
    ) -> dict[str, dict]:
        """Run the ceiling and the phases in turn, slice by slice, for several rounds, and merge
        each phase's slices: a machine whose background load drifts during the run then weighs
        on every phase alike, and each ratio is taken to the ceiling measured beside it."""
        phases = {"ceiling": (ceiling, {"get": ["/"]}), **phases}
        slices: dict[str, list[dict]] = {name: [] for name in phases}
        for _ in range(self.rounds):
            for name, (server, spec) in phases.items():
                result = self.load(server, name, **spec)
                result["load_average_before"] = load_average()
                slices[name].append(result)
        merged = {name: _merge(parts) for name, parts in slices.items()}
        for name, result in merged.items():
            log(
                f"{name}: {result['throughput_rps']} req/s, p50 {result['p50_ms']} ms, "
                f"p99 {result['p99_ms']} ms, errors {result['errors']} {result['failures'] or ''}"
            )
        self.results["ceiling"]["runs"].append(merged["ceiling"])
        for name, result in merged.items():
            if name != "ceiling":
                result["ratio_to_ceiling"] = _ratio(result, merged["ceiling"])
                result["ratio_per_round"] = [
                    round(a["throughput_rps"] / c["throughput_rps"], 3)
                    for a, c in zip(slices[name], slices["ceiling"], strict=True)
                ]
        return merged

    def alternating(self, targets: list[tuple[servers.Server, dict]], names: list[str]) -> list:
        """Paired latencies: one load process, one connection per server, taking turns."""
        spec = {
            "alternate": [{"port": server.port, **target} for server, target in targets],
            "duration": self.slice * self.rounds * len(targets),
            "warmup": self.warmup,
        }
        env = {**os.environ, "PYTHONPATH": str(servers.ROOT / "scripts")}
        done = subprocess.run(
            [sys.executable, "-m", "benchmark.load"],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        results = []
        for name, part in zip(names, json.loads(done.stdout)["results"], strict=True):
            part["load_average_before"] = load_average()
            result = _merge([part])
            log(f"{name}: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms")
            results.append(result)
        return results

    def api_server(self, url: str) -> servers.Server:
        return servers.Server(
            servers.API_APP,
            env={"STRONGTIES_DATABASE_URL": url},
            log=self.server_log,
        ).start("/api/v1/health")

    def build(self, url: str, size: synth.Size, label: str) -> tuple[synth.Ledger, str]:
        built = synth.build(url, size, self.args.seed)
        self.results["setup"][label] = {
            **built.ledger.summary(),
            "load_seconds": round(built.load_seconds, 1),
            "rebuild_seconds": round(built.rebuild_seconds, 1),
        }
        log(
            f"{label}: {size.contacts} contacts, {size.interactions} interactions loaded in "
            f"{built.load_seconds:.1f} s, rebuilt in {built.rebuild_seconds:.1f} s"
        )
        return built.ledger, built.token

    def lookup_paths(self, ledger: synth.Ledger) -> list[str]:
        return synth.lookup_paths(ledger, self.args.seed)

    def put_bodies(self, ledger: synth.Ledger) -> list[dict]:
        return synth.put_bodies(ledger, self.args.seed)

    def ranked_page(self, server: servers.Server, token: str) -> dict:
        """GET the first page of contacts by score, one request at a time."""
        path = "/api/v1/contacts?sort=score&page_size=50"
        conn = Connection("127.0.0.1", server.port)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Authorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"
        ).encode()
        server_ms, client_ms = [], []
        rounds = 5 if self.quick else 30
        for i in range(3 + rounds):
            t0 = time.perf_counter()
            status, headers, body = conn.request(request)
            elapsed = (time.perf_counter() - t0) * 1000
            if status != 200:
                raise RuntimeError(f"{path}: {status} {body[:200]!r}")
            if i >= 3:  # the first ones warm the worker's caches
                client_ms.append(elapsed)
                server_ms.append(_server_timing(headers.get("server-timing", "")))
        conn.close()
        contacts = json.loads(body)["contacts"]
        result = {
            "path": path,
            "requests": rounds,
            "contacts_on_page": len(contacts),
            "server_ms_median": round(statistics.median(server_ms), 1),
            "server_ms_max": round(max(server_ms), 1),
            "client_ms_median": round(statistics.median(client_ms), 1),
        }
        log(f"ranked page: server {result['server_ms_median']} ms (median of {rounds})")
        return result

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> dict:
        started = time.perf_counter()
        full_url = f"sqlite:///{self.work / 'full.db'}"
        small_url = f"sqlite:///{self.work / 'small.db'}"
        full, token = self.build(full_url, self.size, "sqlite")
        small, small_token = self.build(small_url, synth.SMALL, "sqlite_small")
        sqlite: dict = {}
        self.results["sqlite"] = sqlite
        ceiling = servers.Server(servers.CEILING_APP, log=self.server_log).start("/")
        try:
            with self.api_server(full_url) as api, self.api_server(small_url) as api_small:
                lookups = self.lookup_paths(full)
                phases = self.interleaved(
                    ceiling,
                    {
                        # For reference: the app's cheapest database round trip (no token).
                        "health": (api, {"get": ["/api/v1/health"]}),
                        "lookup": (api, {"get": lookups, "token": token}),
                    },
                )
                sqlite["health"] = phases["health"]
                sqlite["lookup"] = phases["lookup"]
                sqlite["rss_mb_after_lookup"] = api.worker_rss_mb()
                # Latency as one user sees it (one request at a time), the small ledger and the
                # full one taking turns request by request.
                small_1, full_1 = self.alternating(
                    [
                        (api_small, {"get": self.lookup_paths(small), "token": small_token}),
                        (api, {"get": lookups, "token": token}),
                    ],
                    ["lookup, one connection, small ledger", "lookup, one connection, full ledger"],
                )
                sqlite["lookup_small_1conn"], sqlite["lookup_full_1conn"] = small_1, full_1
                sqlite["lookup_p50_ratio_full_vs_small"] = round(
                    sqlite["lookup_full_1conn"]["p50_ms"] / sqlite["lookup_small_1conn"]["p50_ms"],
                    2,
                )
                sqlite["ranked_page"] = self.ranked_page(api, token)
                sqlite["overlay"] = self.overlay(api, full, token)
                phases = self.interleaved(
                    ceiling,
                    {
                        "log (PUT)": (api, {"put": self.put_bodies(full), "token": token}),
                    },
                )
                sqlite["put"] = phases["log (PUT)"]
                sqlite["rss_mb_after_put"] = api.worker_rss_mb()
            self.results["postgres"] = self.postgres(ceiling)
        finally:
            ceiling.stop()
        runs = self.results["ceiling"]["runs"]
        self.results["ceiling"].update(
            throughput_rps=round(statistics.median(r["throughput_rps"] for r in runs), 1),
            p50_ms=round(statistics.median(r["p50_ms"] for r in runs), 2),
            p99_ms=round(statistics.median(r["p99_ms"] for r in runs), 2),
        )
        self.results["elapsed_seconds"] = round(time.perf_counter() - started, 1)
        self.results["targets"] = report.targets(self.results)
        return self.results

    def overlay(self, api: servers.Server, ledger: synth.Ledger, token: str) -> dict:
        if self.args.no_browser:
            return {"skipped": "--no-browser"}
        from . import overlay

        try:
            result = overlay.measure(api.base, token, ledger, rounds=3 if self.quick else 15)
        except overlay.Unavailable as exc:
            log(f"overlay: skipped ({exc})")
            return {"skipped": str(exc)}
        log(f"overlay: median {result['median_ms']} ms ({result['measured']})")
        return result

    def postgres(self, ceiling: servers.Server) -> dict:
        if self.args.no_postgres:
            return {"skipped": "--no-postgres"}
        base = self.args.postgres_url or os.environ.get(
            "STRONGTIES_TEST_POSTGRES_URL", DEFAULT_POSTGRES
        )
        try:
            admin = create_engine(
                base, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
            )
            with admin.connect() as conn:
                version = conn.execute(text("SHOW server_version")).scalar_one()
        except Exception as exc:  # no PostgreSQL here: SQLite only
            log(f"postgres: skipped ({type(exc).__name__})")
            return {"skipped": f"PostgreSQL not reachable at {base}"}
        name = f"strongties_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(base).set(database=name).render_as_string(hide_password=False)
        result: dict = {"server_version": version}
        try:
            ledger, token = self.build(url, self.size, "postgres")
            with self.api_server(url) as api:
                phases = self.interleaved(
                    ceiling,
                    {
                        "postgres lookup": (
                            api,
                            {"get": self.lookup_paths(ledger), "token": token},
                        ),
                    },
                )
                result["lookup"] = phases["postgres lookup"]
                result["rss_mb_after_lookup"] = api.worker_rss_mb()
                result["ranked_page"] = self.ranked_page(api, token)
                phases = self.interleaved(
                    ceiling,
                    {
                        "postgres log (PUT)": (
                            api,
                            {"put": self.put_bodies(ledger), "token": token},
                        ),
                    },
                )
                result["put"] = phases["postgres log (PUT)"]
                result["rss_mb_after_put"] = api.worker_rss_mb()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        return result

    def cleanup(self) -> None:
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)


def _merge(parts: list[dict]) -> dict:
    """One phase from its slices: totals, and percentiles over every latency."""
    every = sorted(x for p in parts for x in p.pop("latencies_us"))
    seconds = sum(p["duration_s"] for p in parts)

    def pct(q: float) -> float:
        return round(every[min(len(every) - 1, round(q * (len(every) - 1)))] / 1000, 2)

    statuses: dict[str, int] = {}
    for p in parts:
        for code, n in p["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    return {
        "requests": len(every),
        "errors": sum(p["errors"] for p in parts),
        "failures": [f for p in parts for f in p["failures"]][:5],
        "statuses": statuses,
        "seconds": seconds,
        "slices": len(parts),
        "concurrency": parts[0]["concurrency"],
        "throughput_rps": round(len(every) / seconds, 1),
        "p50_ms": pct(0.50) if every else None,
        "p90_ms": pct(0.90) if every else None,
        "p99_ms": pct(0.99) if every else None,
        "throughput_per_slice": [p["throughput_rps"] for p in parts],
        "load_average": [p["load_average_before"] for p in parts],
    }


def _ratio(result: dict, ceiling: dict) -> float:
    return round(result["throughput_rps"] / ceiling["throughput_rps"], 3)


def _server_timing(header: str) -> float:
    for part in header.split(","):
        for item in part.split(";"):
            if item.strip().startswith("dur="):
                return float(item.strip()[4:])
    raise RuntimeError(f"no Server-Timing duration in {header!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small ledger and short phases: a smoke test, under a minute",
    )
    parser.add_argument(
        "--out",
        default=str(servers.ROOT / "bench-results"),
        help="where bench.json and bench.md go (default: bench-results/)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="connections held open by the load generator (default 8)",
    )
    parser.add_argument(
        "--rounds", type=int, default=None, help="slices per measured phase (default 5, quick 1)"
    )
    parser.add_argument(
        "--slice", type=float, default=None, help="seconds per slice (default 3, quick 1.5)"
    )
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="PostgreSQL server to create a scratch database on "
        f"(default $STRONGTIES_TEST_POSTGRES_URL or {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--no-browser", action="store_true", help="skip the overlay timing in headless Chromium"
    )
    parser.add_argument("--keep", action="store_true", help="keep the SQLite ledgers")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="instead: where a request's time goes, each endpoint called without HTTP "
        "(in-process.json and in-process.md)",
    )
    args = parser.parse_args(argv)
    if args.in_process:
        return where_time_goes(args)

    bench = Bench(args)
    log(f"{bench.results['config']['mode']} run; scratch files in {bench.work}")
    try:
        results = bench.run()
    finally:
        bench.cleanup()
    out = Path(args.out)
    (out / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "bench.md").write_text(report.markdown(results))
    log(f"wrote {out / 'bench.json'} and {out / 'bench.md'} in {results['elapsed_seconds']} s")
    print(report.markdown(results))
    return 0


def where_time_goes(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="strongties-in-process-"))
    log(f"in-process run; scratch files in {work}")
    try:
        result = inprocess.main(out, work, quick=args.quick, seed=args.seed)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(inprocess.markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
