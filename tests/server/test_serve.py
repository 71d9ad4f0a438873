"""The real thing: `strongties serve` in its own process on a free port, talked to over HTTP,
stopped and started again on the same database, on SQLite and on a fresh PostgreSQL database;
and the package as `pip install .` puts it outside the source tree."""

import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from live_server import STRONGTIES, ServerProcess, cli_env, run_cli, strongties
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from api import __version__
from api.models import db

REPO = Path(__file__).resolve().parents[2]


def assert_schema_is_current(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} | {"alembic_version"} <= tables
    finally:
        engine.dispose()


def round_trip(database_url: str, home: Path) -> None:
    server = ServerProcess(cli_env(database_url, HOME=str(home)), home / "server.log")
    try:
        server.start()  # on an empty database: serve brings the schema up to date first
        assert_schema_is_current(database_url)

        assert server.request("GET", "/api/v1/health").json()["status"] == "ok"
        # The server's address, opened in a browser, lands on the connect page.
        home = server.request("GET", "/")
        assert home.status_code == 200 and home.history[0].status_code == 302, home.history
        assert home.url == f"{server.base_url}/connect"
        assert "<title>Connect this browser · Strong Ties</title>" in home.text
        token = run_cli(server.env, "token", "create", "Laptop").strip().splitlines()[-1]
        assert server.request("GET", "/api/v1/contacts").status_code == 401

        interaction_id = str(uuid.uuid4())
        body = {
            "kind": "coffee",
            "note": "first coffee",
            "favor": {"direction": "given", "value": 2},
            "contact": {
                "name": "Jane Doe",
                "identities": [{"kind": "linkedin", "value": "linkedin.com/in/jane-doe"}],
            },
        }
        path = f"/api/v1/interactions/{interaction_id}"
        r = server.request("PUT", path, token, json=body)
        assert r.status_code == 201, r.text
        tie = r.json()["tie"]
        assert server.request("PUT", path, token, json=body).status_code == 200

        server.stop()
        with pytest.raises(requests.ConnectionError):
            server.request("GET", "/api/v1/health", timeout=2)
        server.start()

        lookup = "/api/v1/lookup?linkedin=https://www.linkedin.com/in/Jane-Doe/"
        r = server.request("GET", lookup, token)
        assert r.status_code == 200
        assert r.json()["contact"]["name"] == "Jane Doe"
        assert r.json()["tie"]["interaction_count"] == 1
        assert r.json()["tie"]["last_interaction"]["note"] == "first coffee"
        assert r.json()["tie"]["reciprocity"] == tie["reciprocity"]
        # The replay after a restart is still a replay.
        assert server.request("PUT", path, token, json=body).status_code == 200
        feed = server.request("GET", "/api/v1/changes", token).json()
        assert sum(c["entity"] == "interaction" for c in feed["changes"]) == 1
    finally:
        server.close()


def test_python_m_api_help(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "api", "--help"],
        env=cli_env("sqlite:///" + str(tmp_path / "unused.db"), HOME=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for command in ("serve", "token", "pair", "rebuild"):
        assert command in done.stdout
    assert not (tmp_path / "unused.db").exists()  # --help touches no database


def test_serve_keeps_the_ledger_across_restarts_on_sqlite(tmp_path):
    round_trip(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)


def test_serve_takes_a_burst_of_logs_on_all_its_threads(tmp_path):
    """Every one of `serve`'s threads writing at once, each also reading (its token, the
    lookups): none waits for a database connection, none fails, every log is stored once."""
    server = ServerProcess(cli_env(f"sqlite:///{tmp_path / 'ledger.db'}"), tmp_path / "log")
    try:
        server.start()
        token = run_cli(server.env, "token", "create", "Laptop").strip().splitlines()[-1]
        people = [f"person-{n}" for n in range(4)]

        def log(n: int) -> int:
            slug = people[n % len(people)]
            body = {
                "kind": "call",
                "contact": {"name": slug, "identities": [{"kind": "linkedin", "value": slug}]},
            }
            r = server.request("PUT", f"/api/v1/interactions/{uuid.uuid4()}", token, json=body)
            server.request("GET", f"/api/v1/lookup?linkedin={slug}", token).raise_for_status()
            return r.status_code

        with ThreadPoolExecutor(32) as pool:  # four times `serve`'s default of 8 threads
            statuses = list(pool.map(log, range(128)))
        assert statuses.count(201) == 128, statuses
        counts = [
            server.request("GET", f"/api/v1/lookup?linkedin={slug}", token).json()["tie"]
            for slug in people
        ]
        assert [tie["interaction_count"] for tie in counts] == [32, 32, 32, 32]
    finally:
        server.close()


@contextmanager
def scratch_postgres_database(request) -> Iterator[str]:
    """The URL of a new, empty database on the test PostgreSQL, dropped afterwards."""
    # The shared fixture skips (or fails, in CI) when PostgreSQL is unreachable.
    server_url = request.getfixturevalue("postgres_database")
    name = f"strongties_serve_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_serve_keeps_the_ledger_across_restarts_on_postgresql(request, tmp_path):
    with scratch_postgres_database(request) as url:
        round_trip(url, tmp_path)


GUNICORN_THREADS = [str(Path(sys.executable).parent / "gunicorn"), "-w", "1", "--threads", "24"]
GUNICORN_THREADS += ["-b", "127.0.0.1:{port}", "--no-control-socket", "api:create_app()"]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("command", "settings"),
    [
        pytest.param([*STRONGTIES, "serve", "--port", "{port}", "--threads", "24"], {}, id="serve"),
        pytest.param(GUNICORN_THREADS, {"STRONGTIES_THREADS": "24"}, id="gunicorn"),
    ],
)
def test_a_server_on_postgresql_has_connections_for_all_its_threads(
    request, tmp_path, command, settings
):
    """A request may hold its read connection while the ORM session takes another: with more
    threads than the default pool fits, all busy at once, none may wait out the pool's timeout
    (a 503 after 30 seconds)."""
    with scratch_postgres_database(request) as url:
        env = cli_env(url, **settings)
        server = ServerProcess(env, tmp_path / "log", command=command, cwd=REPO)
        try:
            server.start()
            token = run_cli(server.env, "token", "create", "Laptop").strip().splitlines()[-1]

            def read_feed(_n: int) -> int:
                r = server.request("GET", "/api/v1/changes?since=0", token, timeout=60)
                return r.status_code

            with ThreadPoolExecutor(72) as pool:
                statuses = list(pool.map(read_feed, range(288)))
            assert statuses == [200] * 288, sorted(set(statuses))
        finally:
            server.close()


def source_checkout(dest: Path) -> Path:
    """The files a fresh checkout has (tracked, or new and not ignored), without the build/ and
    *.egg-info leftovers of earlier builds in the working tree, which setuptools would reuse."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def test_the_installed_package_serves_outside_the_source_tree(tmp_path):
    """`pip install .` ships all that serve needs (migrations, templates, the OpenAPI spec):
    the wheel installed into a folder of its own serves from there, far from the repo."""
    src = source_checkout(tmp_path / "src")
    pip = [sys.executable, "-m", "pip", "--no-input", "--quiet"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(tmp_path / "wheels"), str(src)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "wheels").glob("strongties-*.whl")
    site = tmp_path / "site"
    installed = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    shutil.rmtree(src)  # nothing may come from the copy of the source either

    database_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = cli_env(database_url, HOME=str(tmp_path), PYTHONPATH=str(site))
    python = [sys.executable, "-c", "import api, sys; print(api.__file__); print(sys.path)"]
    where = subprocess.run(
        python, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert where.returncode == 0, where.stderr
    imported = Path(where.stdout.splitlines()[0]).resolve()
    assert imported.is_relative_to(site.resolve()), where.stdout  # not the editable repo
    version = run_cli(env, "--version", command=[sys.executable, "-m", "api"], cwd=tmp_path)
    assert __version__ in version

    server = ServerProcess(
        env, tmp_path / "server.log", [sys.executable, "-m", "api", "serve", "--port", "{port}"]
    )
    with server:  # a fresh database: serve migrates it with the packaged migrations
        assert server.request("GET", "/api/v1/health").json()["status"] == "ok"
        assert_schema_is_current(database_url)
        connect = server.request("GET", "/connect")
        assert connect.status_code == 200, connect.text
        assert connect.headers["Content-Type"].startswith("text/html")
        assert "<title>Connect this browser · Strong Ties</title>" in connect.text
        assert "data-pairing-code=" in connect.text  # a loopback visitor gets a code
        spec = server.request("GET", "/api/openapi.json")
        assert spec.status_code == 200, spec.text
        assert spec.json()["info"]["version"] == __version__
        assert "/api/v1/interactions/{interaction_id}" in spec.json()["paths"]


def assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    """Failed with one line on stderr that says why (after click's usage hint, for a bad
    argument), not a traceback."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    if done.returncode == 2:  # a usage error: "Usage: ...", "Try ... --help", then the error
        assert lines[:2] and lines[0].startswith("Usage:"), done.stderr
        lines = lines[2:]
    assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
    for word in words:
        assert word in lines[0], done.stderr


@pytest.mark.parametrize(
    "args",
    [["--port", "0"], ["--port", "65536"], ["--port", "-1"], ["--threads", "0"]],
)
def test_serve_refuses_a_port_or_thread_count_out_of_range(tmp_path, args):
    done = strongties(cli_env(f"sqlite:///{tmp_path / 'ledger.db'}"), "serve", *args)
    assert_one_line_error(done, args[0])
    assert done.returncode == 2 and "range" in done.stderr
    assert not (tmp_path / "ledger.db").exists()  # refused before anything started


@pytest.mark.parametrize(
    ("minutes", "said"), [("3", "within 3 minutes"), ("1", "within 1 minute:")]
)
def test_pair_says_how_long_its_code_lives(tmp_path, minutes, said):
    env = cli_env(f"sqlite:///{tmp_path / 'ledger.db'}", STRONGTIES_PAIR_CODE_MINUTES=minutes)
    assert said in run_cli(env, "pair")


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["user", "create", "", "--password", "secret"], "USERNAME"),
        (["user", "create", "  ", "--password", "secret"], "USERNAME"),
        (["user", "create", "x" * 81, "--password", "secret"], "USERNAME"),
        (["user", "create", "alice", "--password", ""], "--password"),
        (["user", "create", "alice", "--password", " \t "], "--password"),
        (["user", "create", "alice", "--password", "p" * 201], "--password"),  # pairing's limit
        (["token", "create", "x" * 121], "NAME"),  # the API's limit on device names
        (["token", "create", "  "], "NAME"),
    ],
)
def test_cli_refuses_what_the_api_would_refuse_and_writes_nothing(tmp_path, args, named):
    done = strongties(cli_env(f"sqlite:///{tmp_path / 'ledger.db'}"), *args)
    assert_one_line_error(done, named)
    assert not (tmp_path / "ledger.db").exists()


def test_a_device_named_on_the_cli_keeps_its_whole_name(tmp_path):
    env = cli_env(f"sqlite:///{tmp_path / 'ledger.db'}")
    name = "Work laptop " + "x" * 108  # the longest the API takes
    run_cli(env, "token", "create", name)
    assert name in run_cli(env, "devices", "list")


@pytest.mark.parametrize("setting", ["sqlite:///ledger.db", "ledger.db"])
def test_a_relative_database_path_is_one_file_in_the_current_directory(tmp_path, setting):
    """`user create` and `serve` started in the same folder share the ledger there."""
    env = cli_env(setting, HOME=str(tmp_path))
    run_cli(env, "user", "create", "alice", "--password", "correct horse", cwd=tmp_path)
    assert (tmp_path / "ledger.db").is_file()
    with ServerProcess(env, tmp_path / "server.log", cwd=tmp_path) as server:
        body = {"username": "alice", "password": "correct horse", "device_name": "Laptop"}
        r = server.request("POST", "/api/v1/pair", json=body)
        assert r.status_code == 201, r.text
        token = r.json()["token"]
    listing = run_cli(env, "devices", "list", "--user", "alice", cwd=tmp_path)
    assert "Laptop" in listing
    with ServerProcess(env, tmp_path / "server.log", cwd=tmp_path) as server:
        assert server.request("GET", "/api/v1/devices", token).status_code == 200


BAD_SETTINGS = [
    ({"STRONGTIES_PAIR_CODE_MINUTES": "ten"}, "STRONGTIES_PAIR_CODE_MINUTES"),
    ({"STRONGTIES_PAIR_MAX_FAILURES": "0"}, "STRONGTIES_PAIR_MAX_FAILURES"),
    ({"STRONGTIES_MAX_BODY_BYTES": "-5"}, "STRONGTIES_MAX_BODY_BYTES"),
    ({"STRONGTIES_SCORE_REFRESH_HOURS": "soon"}, "STRONGTIES_SCORE_REFRESH_HOURS"),
    ({"STRONGTIES_SCORE_REFRESH_HOURS": "nan"}, "STRONGTIES_SCORE_REFRESH_HOURS"),
    # Lifetimes no date can be: every pairing code or every lookup would fail on them.
    ({"STRONGTIES_PAIR_CODE_MINUTES": "99999999999"}, "STRONGTIES_PAIR_CODE_MINUTES"),
    ({"STRONGTIES_SCORE_REFRESH_HOURS": "1e300"}, "STRONGTIES_SCORE_REFRESH_HOURS"),
    ({"STRONGTIES_TRUSTED_PROXIES": "one"}, "STRONGTIES_TRUSTED_PROXIES"),
    ({"STRONGTIES_SQLITE_SYNCHRONOUS": "sometimes"}, "STRONGTIES_SQLITE_SYNCHRONOUS"),
    ({"STRONGTIES_DATABASE_URL": "sqlite:/ledger.db"}, "STRONGTIES_DATABASE_URL is not a"),
    ({"STRONGTIES_DATABASE_URL": "postgresql://u:hunter2@h:port/x"}, "URL is not a database"),
    ({"STRONGTIES_DATABASE_URL": "nosuchdb://host/x"}, "STRONGTIES_DATABASE_URL"),
    ({"STRONGTIES_DATABASE_URL": "mysql://host/x"}, "STRONGTIES_DATABASE_URL"),  # no driver
    ({"STRONGTIES_DATABASE_URL": "{tmp}/no/such/folder/x.db"}, "unable to open"),
    (
        {"STRONGTIES_DATABASE_URL": "postgresql://strongties:hunter2@127.0.0.1:1/x"},
        "postgresql+psycopg://strongties:***@127.0.0.1:1/x",
    ),
]


@pytest.mark.parametrize(("settings", "named"), BAD_SETTINGS, ids=lambda v: str(v)[:60])
@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"]], ids=" ".join)
def test_a_setting_that_cannot_be_used_is_one_line_not_a_traceback(
    tmp_path, settings, named, command
):
    env = cli_env(f"sqlite:///{tmp_path / 'ledger.db'}")
    env.update({k: v.replace("{tmp}", str(tmp_path)) for k, v in settings.items()})
    done = strongties(env, *command)
    assert_one_line_error(done, named)
    assert done.returncode == 1 and "hunter2" not in done.stderr
    assert "serving" not in done.stdout


GUNICORN_BAD_SETTINGS = [
    ({"STRONGTIES_THREADS": "abc"}, "STRONGTIES_THREADS must be a whole number"),
    ({"STRONGTIES_SQLITE_SYNCHRONOUS": "sometimes"}, "STRONGTIES_SQLITE_SYNCHRONOUS"),
    ({"STRONGTIES_DATABASE_URL": "postgresql://u:hunter2@h:port/x"}, "URL is not a database"),
    ({"STRONGTIES_DATABASE_URL": "nosuchdb://host/x"}, "STRONGTIES_DATABASE_URL"),
]


@pytest.mark.parametrize("preload", [[], ["--preload"]], ids=["workers", "preload"])
@pytest.mark.parametrize(("settings", "named"), GUNICORN_BAD_SETTINGS, ids=lambda v: str(v)[:60])
def test_gunicorn_with_a_setting_that_cannot_be_used_says_so_in_one_line(
    tmp_path, settings, named, preload
):
    """`gunicorn 'api:create_app()'` as docs/deploy.md runs it (or with --preload, where the
    master loads the app): the setting's message once, no traceback, and gunicorn stops with
    a non-zero exit instead of booting workers again."""
    env = cli_env(f"sqlite:///{tmp_path / 'ledger.db'}", **settings)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    args = [*preload, "--bind", "127.0.0.1:0", "api:create_app()"]
    done = strongties(env, *args, command=[gunicorn], timeout=60)
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    said = [line for line in done.stderr.splitlines() if named in line]
    assert len(said) == 1 and not said[0].startswith("["), done.stderr  # not a log record
    assert "hunter2" not in done.stderr


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path):
    env = cli_env(f"sqlite:///{tmp_path / 'ledger.db'}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        done = strongties(env, "serve", "--port", port)
    assert_one_line_error(done, port, "in use")
    assert done.returncode == 1
    assert "serving" not in done.stdout  # no banner for a server that is not there


def free_ipv6_port() -> int:
    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("host", "address"), [("0.0.0.0", "localhost"), ("::", "[::1]"), ("::1", "[::1]")]
)
def test_serve_prints_an_address_a_browser_can_open(tmp_path, host, address):
    """A wildcard or IPv6 address to listen on becomes one a browser here opens, and the
    server answers to it: the health check, and /connect with a pairing code."""
    port = free_ipv6_port() if ":" in host else None
    server = ServerProcess(
        cli_env(f"sqlite:///{tmp_path / 'ledger.db'}"),
        tmp_path / "server.log",
        [*STRONGTIES, "serve", "--host", host, "--port", "{port}"],
        port=port,
        host=address,
    )
    with server:
        url = f"http://{address}:{server.port}"
        assert f"serving {url}\n" in server.log_text()
        assert f"open {url}/connect\n" in server.log_text()
        assert "note:" not in server.log_text()
        page = server.request("GET", f"{url}/connect")
        assert page.status_code == 200 and "data-pairing-code=" in page.text


def test_serve_says_when_its_address_is_not_an_allowed_host(tmp_path):
    allowed = "ties.example,127.0.0.1"  # not localhost, the address serve prints
    env = cli_env(f"sqlite:///{tmp_path / 'ledger.db'}", STRONGTIES_ALLOWED_HOSTS=allowed)
    with ServerProcess(env, tmp_path / "server.log", host="127.0.0.1") as server:
        assert "note: add localhost to STRONGTIES_ALLOWED_HOSTS" in server.log_text()
        host = {"Host": f"localhost:{server.port}"}
        refused = server.request("GET", "/api/v1/health", headers=host)
        assert refused.status_code == 400
        assert "STRONGTIES_ALLOWED_HOSTS" in refused.json()["message"]


def test_a_database_from_a_newer_version_is_one_line_not_a_traceback(tmp_path):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    env = cli_env(url)
    run_cli(env, "migrate")
    engine = create_engine(url)
    with engine.begin() as conn:  # as a later version's migration would leave it
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    assert_one_line_error(strongties(env, "migrate"), "schema", "9999_from_the_future")
