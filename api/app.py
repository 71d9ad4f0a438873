"""The application factory: `gunicorn 'api:create_app()'` serves it."""

import json
import re
import sys
import time

from flask import Flask, g, request
from flask_cors import CORS
from flask_smorest import Api, abort
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import __version__, auth, config, database, errors, hosts, openapi
from .models import db
from .resources import API_BLUEPRINTS, PAGE_BLUEPRINTS
from .schemas import ErrorSchema

# Browser extensions are the API's only web clients by default.
EXTENSION_ORIGINS = [
    re.compile(r"^chrome-extension://[a-p]{32}$"),
    re.compile(r"^moz-extension://[0-9a-f-]{36}$"),
]


class StrongTiesApi(Api):
    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" response: each operation lists the errors it gives (openapi.py).
    DEFAULT_ERROR_RESPONSE_NAME = None


class IdConverter(IntegerConverter):
    """`<int:...>` ids fit the id columns (INTEGER, 32-bit on PostgreSQL): a larger number is no
    id of ours (404, not a 500 from the database refusing the comparison)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class SyncFlask(Flask):
    """Flask for an app without coroutines: Flask asks `inspect` whether each view and hook is
    one on every call, which costs a lookup about as much as its token check's statement.
    (tests/server/test_sync_app.py checks that none is.)"""

    def ensure_sync(self, func):
        return func


def create_app(test_config: dict | None = None) -> Flask:
    """The app, configured from the environment (and `test_config`); a setting it cannot use
    is a ConfigError that names it."""
    try:
        return _create_app(test_config)
    except config.ConfigError as exc:
        raise _refusal(exc) from None
    except (ArgumentError, ImportError) as exc:  # an unknown dialect, a driver not installed
        reason = config.first_line(exc)
        refused = config.ConfigError(
            f"STRONGTIES_DATABASE_URL names no database this server can use: {reason}"
        )
        raise _refusal(refused) from None


def _refusal(exc: config.ConfigError) -> Exception:
    """Under gunicorn, the ConfigError as the errors gunicorn prints as their message alone
    before it stops (it logs anything else with a traceback): an AppImportError in a worker,
    a RuntimeError in the master (which loads the app itself with --preload)."""
    server = sys.modules.get("gunicorn.errors")
    if server is None:
        return exc
    bases = (config.ConfigError, server.AppImportError, RuntimeError)
    return type("ConfigError", bases, {})(str(exc))


def _create_app(test_config: dict | None) -> Flask:
    app = SyncFlask(__name__)
    app.config.update(
        API_TITLE="Strong Ties",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.config.update(config.from_environment())
    if test_config:
        app.config.update(test_config)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    engine_options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})  # the caller's stays
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options
    if url.get_backend_name() != "sqlite":
        # A database server may restart or drop idle connections; a file cannot.
        engine_options.setdefault("pool_pre_ping", True)
        # A request may hold its read connection while it takes another for the ORM session:
        # a pool smaller than two per thread can leave every thread waiting for a second one.
        threads = app.config.get("STRONGTIES_THREADS") or 1
        engine_options.setdefault("max_overflow", max(10, 2 * threads - 5))
    elif database.is_file(url):
        # Each thread keeps a read connection and may take a write connection beside it; a file
        # has no limit on connections, so no request ever waits for one.
        engine_options.setdefault("max_overflow", -1)
    app.config["HOST_NAMES"] = list(app.config["STRONGTIES_ALLOWED_HOSTS"] or hosts.LOOPBACK)
    if app.config["STRONGTIES_TRUSTED_PROXIES"]:
        hops = app.config["STRONGTIES_TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    app.url_map.converters["int"] = IdConverter
    db.init_app(app)
    with app.app_context():
        database.configure_engine(db.engine, app.config["STRONGTIES_SQLITE_SYNCHRONOUS"])

    api = StrongTiesApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": _security()},
            "extra_plugins": [openapi.ErrorResponses()],
        },
    )
    api.spec.options["security"] = [{"bearer": []}]
    openapi.exact_shapes(api.ma_plugin.converter)
    for blueprint in API_BLUEPRINTS:
        api.register_blueprint(blueprint)
    for blueprint in PAGE_BLUEPRINTS:
        app.register_blueprint(blueprint)
    errors.register(app)

    CORS(
        app,
        resources={
            r"/api/*": {"origins": EXTENSION_ORIGINS + app.config["STRONGTIES_CORS_ORIGINS"]}
        },
        allow_headers=["Authorization", "Content-Type"],
        # Readable by the extension even where its requests are CORS requests (Firefox without
        # the host permission): WWW-Authenticate tells a refused token (invalid_token) from a
        # proxy's 401, Retry-After how long a 429/503 lasts.
        expose_headers=["WWW-Authenticate", "Retry-After"],
        methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        max_age=600,
        vary_header=True,
    )

    @app.before_request
    def _guard():
        g.started = time.perf_counter()
        if not hosts.allowed(request.host, app.config["HOST_NAMES"]):
            abort(400, message=hosts.REFUSED)
        # An unmatched path or method answers 404/405 (raised after this hook), not 401: which
        # routes exist is in the public spec anyway, and no ledger data is behind them.
        routed = request.url_rule is not None
        api = routed and request.path.startswith("/api/") and request.method != "OPTIONS"
        if api and request.endpoint not in auth.PUBLIC_ENDPOINTS:
            auth.authenticate()
            auth.note_seen(g.device)
        if request.method not in database.READ_ONLY_METHODS:
            database.end_read_before_write()  # also for pages that write (/connect)
        if api:
            _refuse_unparseable_json()

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if "started" in g:  # the time spent in the app, for scripts/bench and browser devtools
            spent = (time.perf_counter() - g.started) * 1000
            response.headers["Server-Timing"] = f"app;dur={spent:.2f}"
        return response

    @app.teardown_request
    def _forget(_exc):
        g.pop("device", None)

    app.teardown_appcontext(database.close_reads)  # requests, CLI commands and tests alike

    return app


def _refuse_unparseable_json() -> None:
    """415 for a body that is not declared JSON (the argument parser would ignore it and name
    a missing field instead) or that is compressed (its bytes are not the JSON: no "broken
    JSON" for it); 400 for a JSON body the parser chokes on with something other than a syntax
    error (nesting deeper than the recursion limit, an integer of more than 4300 digits), which
    would otherwise surface as a 500 from inside the argument parser."""
    body = request.get_data(cache=True)  # bounded by MAX_CONTENT_LENGTH (413 beyond)
    if not body.strip():
        return
    coding = (request.content_encoding or "identity").strip().lower()
    if coding != "identity":  # RFC 9110: an unsupported content coding is a 415
        abort(
            415,
            message="Send the body uncompressed: only Content-Encoding identity is accepted.",
            headers={"Accept-Encoding": "identity"},
        )
    if not request.is_json:
        abort(415, message="Send the body as JSON, with Content-Type: application/json.")
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        abort(400, message="The request body is not valid JSON.")


def _security() -> dict:
    return {"bearer": {"type": "http", "scheme": "bearer"}}
