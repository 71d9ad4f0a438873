"""The targets of the benchmark, and the markdown table of a run."""

from __future__ import annotations


def _get(results: dict, *path):
    value = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _rss_max(section: dict | None) -> float | None:
    if not section or "skipped" in section:
        return None
    values = (section.get("rss_mb_after_lookup") or []) + (section.get("rss_mb_after_put") or [])
    return max(values) if values else None


def targets(results: dict) -> list[dict]:
    """Each target with the measured value and whether it is met (None: not measured)."""
    sqlite, postgres = results.get("sqlite", {}), results.get("postgres", {})
    rss = [v for v in (_rss_max(sqlite), _rss_max(postgres)) if v is not None]

    def check(name, value, target, ok):
        return {
            "name": name,
            "value": value,
            "target": target,
            "met": None if value is None else bool(ok(value)),
        }

    return [
        check(
            "lookup throughput / ceiling (SQLite)",
            _get(sqlite, "lookup", "ratio_to_ceiling"),
            ">= 0.5",
            lambda v: v >= 0.5,
        ),
        check(
            "log (PUT) throughput / ceiling (SQLite)",
            _get(sqlite, "put", "ratio_to_ceiling"),
            ">= 0.3",
            lambda v: v >= 0.3,
        ),
        check(
            "lookup p50, full ledger / 1,000 interactions",
            _get(sqlite, "lookup_p50_ratio_full_vs_small"),
            "<= 1.2",
            lambda v: v <= 1.2,
        ),
        check(
            "first page by score, server ms (SQLite)",
            _get(sqlite, "ranked_page", "server_ms_median"),
            "<= 50",
            lambda v: v <= 50,
        ),
        check("RSS per worker, MB (max)", max(rss) if rss else None, "<= 150", lambda v: v <= 150),
        check(
            "overlay: identified to score shown, median ms",
            _get(sqlite, "overlay", "median_ms"),
            "<= 150",
            lambda v: v <= 150,
        ),
    ]


def _n(value, digits=0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def _throughput(section: dict | None, key: str) -> str:
    phase = _get(section or {}, key)
    if not phase:
        return _skipped(section)
    ratio = phase.get("ratio_to_ceiling")
    text = f"{_n(phase['throughput_rps'])} req/s"
    return text + (f" (**{ratio:.2f}**)" if ratio is not None else "")


def _latency(section: dict | None, key: str) -> str:
    phase = _get(section or {}, key)
    if not phase:
        return _skipped(section)
    return f"{_n(phase['p50_ms'], 1)} / {_n(phase['p99_ms'], 1)} ms"


def _skipped(section: dict | None) -> str:
    if section and "skipped" in section:
        return "skipped"
    return "n/a"


def _rss(section: dict | None) -> str:
    if not section or "skipped" in section:
        return _skipped(section)
    after = section.get("rss_mb_after_put") or section.get("rss_mb_after_lookup") or []
    return " / ".join(f"{v:.0f}" for v in after) + " MB" if after else "n/a"


def _verdict(target: dict) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[target["met"]]


def markdown(results: dict) -> str:
    cfg, m = results["config"], results["machine"]
    sqlite, postgres = results.get("sqlite", {}), results.get("postgres", {})
    ceiling = results["ceiling"]
    verdicts = {t["name"]: t for t in results.get("targets", [])}
    small = cfg["small_ledger"]
    full_n = f"{cfg['interactions']:,}"
    ranked_pg = _get(postgres, "ranked_page", "server_ms_median")
    overlay = sqlite.get("overlay") or {}
    if "median_ms" in overlay:
        overlay_text = f"{overlay['median_ms']:.0f} ms"
    else:
        overlay_text = "skipped" if "skipped" in overlay else "n/a"
    small_p50 = _get(sqlite, "lookup_small_1conn", "p50_ms")
    full_p50 = _get(sqlite, "lookup_full_1conn", "p50_ms")
    ratio = sqlite.get("lookup_p50_ratio_full_vs_small")
    pg_version = postgres.get("server_version", "")

    def row(measure, sqlite_cell, pg_cell, name=None, target=""):
        verdict = _verdict(verdicts[name]) if name in verdicts else ""
        return f"| {measure} | {sqlite_cell} | {pg_cell} | {target} | {verdict} |"

    lines = [
        f"### Strong Ties benchmark ({cfg['mode']}: {cfg['contacts']:,} contacts, "
        f"{full_n} interactions, seed {cfg['seed']})",
        "",
        f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gb']} GB RAM; {m['os']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}"
        + (f", PostgreSQL {pg_version}" if pg_version else "")
        + ".",
        f"Server: `{cfg['gunicorn']}` on loopback, the ceiling app served by the same command. "
        f"Load: {cfg['concurrency']} connections (kept alive when the server allows) from a "
        f"separate process; each phase is {cfg['rounds']} slices of {cfg['slice_seconds']:g} s, "
        "interleaved with the ceiling (or the phase it is compared with) so that both see the "
        "same machine.",
        "",
        "| measure | SQLite | PostgreSQL | target | |",
        "|---|---|---|---|---|",
        row(
            "ceiling: bare Flask JSON endpoint",
            f"{_n(ceiling.get('throughput_rps'))} req/s, p50 {_n(ceiling.get('p50_ms'), 1)} ms",
            "(same)",
        ),
        row(
            "for reference: `GET /api/v1/health` (one `SELECT 1`, no token)",
            _throughput(sqlite, "health"),
            "",
        ),
        row(
            "lookup: throughput (ratio to ceiling)",
            _throughput(sqlite, "lookup"),
            _throughput(postgres, "lookup"),
            "lookup throughput / ceiling (SQLite)",
            ">= 0.5",
        ),
        row("lookup: p50 / p99", _latency(sqlite, "lookup"), _latency(postgres, "lookup")),
        row(
            "log (`PUT` interaction): throughput (ratio to ceiling)",
            _throughput(sqlite, "put"),
            _throughput(postgres, "put"),
            "log (PUT) throughput / ceiling (SQLite)",
            ">= 0.3 on SQLite",
        ),
        row("log: p50 / p99", _latency(sqlite, "put"), _latency(postgres, "put")),
        row(
            f"lookup p50 (one connection), {small['interactions']:,} vs {full_n} interactions "
            f"({small['contacts']:,} vs {cfg['contacts']:,} contacts)",
            f"{_n(small_p50, 2)} vs {_n(full_p50, 2)} ms (**{_n(ratio, 2)}**)",
            "",
            "lookup p50, full ledger / 1,000 interactions",
            "<= 1.2",
        ),
        row(
            f"first page of contacts by score (50 of {cfg['contacts']:,}), server time, median",
            f"{_n(_get(sqlite, 'ranked_page', 'server_ms_median'), 1)} ms",
            f"{_n(ranked_pg, 1)} ms" if ranked_pg is not None else _skipped(postgres),
            "first page by score, server ms (SQLite)",
            "<= 50 ms",
        ),
        row(
            "server memory (RSS) per worker, at full size",
            _rss(sqlite),
            _rss(postgres),
            "RSS per worker, MB (max)",
            "<= 150 MB",
        ),
        row(
            "overlay: person identified to score shown, median (headless Chromium)",
            overlay_text,
            "",
            "overlay: identified to score shown, median ms",
            "<= 150 ms",
        ),
        "",
    ]
    setup = results.get("setup", {})
    built = [
        f"{label}: loaded in {s['load_seconds']} s, `rebuild` in {s['rebuild_seconds']} s"
        for label, s in setup.items()
    ]
    if built:
        lines.append("Ledger set-up: " + "; ".join(built) + ".")
    if "measured" in overlay:
        lines.append(f"Overlay timing: {overlay['measured']}.")
    lines.append(f"Whole run: {results.get('elapsed_seconds', 0):.0f} s.")
    return "\n".join(lines) + "\n"
