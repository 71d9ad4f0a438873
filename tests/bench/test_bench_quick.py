"""`scripts/bench --quick` runs end to end and reports every metric, and so does its in-process
breakdown, `--in-process --quick` (no timing is asserted)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NUMBER = (int, float)

pytestmark = pytest.mark.slow


def bench(out: Path, *options: str) -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'scripts'}"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmark", "--quick", "--out", str(out), *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    bench(out)
    return json.loads((out / "bench.json").read_text()), (out / "bench.md").read_text()


def _phase(phase: dict) -> None:
    assert phase["requests"] > 0
    assert phase["errors"] == 0, phase["failures"] or phase["statuses"]
    for key in ("throughput_rps", "p50_ms", "p99_ms"):
        assert isinstance(phase[key], NUMBER) and phase[key] > 0


def test_every_metric_is_reported(results):
    data, _ = results
    assert data["config"]["mode"] == "quick"
    assert data["machine"]["nproc"] >= 1 and data["machine"]["cpu"]
    assert data["ceiling"]["throughput_rps"] > 0
    sqlite = data["sqlite"]
    for name in ("health", "lookup", "put", "lookup_small_1conn", "lookup_full_1conn"):
        _phase(sqlite[name])
    assert isinstance(sqlite["lookup"]["ratio_to_ceiling"], NUMBER)
    assert isinstance(sqlite["put"]["ratio_to_ceiling"], NUMBER)
    assert isinstance(sqlite["lookup_p50_ratio_full_vs_small"], NUMBER)
    assert sqlite["ranked_page"]["contacts_on_page"] == 50
    assert sqlite["ranked_page"]["server_ms_median"] > 0
    assert len(sqlite["rss_mb_after_lookup"]) == 2  # gunicorn's two workers
    assert all(mb > 0 for mb in sqlite["rss_mb_after_lookup"] + sqlite["rss_mb_after_put"])
    assert {t["name"] for t in data["targets"]} >= {
        "lookup throughput / ceiling (SQLite)",
        "log (PUT) throughput / ceiling (SQLite)",
        "lookup p50, full ledger / 1,000 interactions",
        "first page by score, server ms (SQLite)",
        "RSS per worker, MB (max)",
        "overlay: identified to score shown, median ms",
    }


def test_postgres_is_measured_where_it_runs(results):
    data, _ = results
    postgres = data["postgres"]
    if "skipped" in postgres:
        assert os.environ.get("STRONGTIES_REQUIRE_POSTGRES") != "1", postgres["skipped"]
        pytest.skip(postgres["skipped"])
    _phase(postgres["lookup"])
    _phase(postgres["put"])
    assert isinstance(postgres["put"]["ratio_to_ceiling"], NUMBER)
    assert postgres["ranked_page"]["server_ms_median"] > 0


def test_overlay_is_timed_in_chromium(results):
    data, _ = results
    overlay = data["sqlite"]["overlay"]
    if "skipped" in overlay:
        assert not shutil.which("chromium"), overlay["skipped"]
        pytest.skip(overlay["skipped"])
    assert overlay["rounds"] >= 1 and overlay["median_ms"] > 0


def test_markdown_table(results):
    data, markdown = results
    assert "| measure | SQLite | PostgreSQL | target |" in markdown
    assert data["machine"]["cpu"] in markdown
    for row in ("ceiling", "lookup", "log (`PUT` interaction)", "first page", "RSS", "overlay"):
        assert row in markdown


def test_the_in_process_breakdown_times_every_call(tmp_path):
    bench(tmp_path, "--in-process")
    data = json.loads((tmp_path / "in-process.json").read_text())
    calls = [
        "ceiling",
        "health",
        "lookup",
        "log",
        "log, commits not synced",
        "the log's SQL from a bare view",
        "the log's SQL from a bare view, commits not synced",
    ]
    for key in ("microseconds", "cpu_microseconds"):
        assert list(data[key]) == calls
        assert all(isinstance(v, NUMBER) and v > 0 for v in data[key].values())
    assert data["times_ceiling"]["ceiling"] == data["cpu_times_ceiling"]["ceiling"] == 1.0
    markdown = (tmp_path / "in-process.md").read_text()
    for call in calls:
        assert f"| {call} |" in markdown
