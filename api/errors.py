"""One JSON error shape for every failure: {code, status, message, errors?}."""

from flask import Flask, jsonify
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from .models import db

BEARER = 'Bearer realm="strongties"'


def error_response(status: int, code: str, message: str, errors: dict | None = None):
    body = {"code": code, "status": status, "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


def _code_for(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        db.session.rollback()
        data = getattr(exc, "data", None) or {}
        # webargs puts per-field messages under "messages"; our own abort(..., errors=...) calls
        # under "errors": both reach the client as `errors`.
        messages = data.get("messages") or data.get("errors")
        message = data.get("message") or exc.description or exc.name
        if exc.code == 422 and messages:
            message = "Invalid input: " + ", ".join(_field_names(messages))
        if exc.code == 400 and messages:  # webargs: the body is not JSON at all
            message = "The request body is not valid JSON."
            messages = None
        response, status = error_response(exc.code or 500, _code_for(exc), message, messages)
        for name, value in exc.get_headers() or []:
            if name.lower() not in ("content-type", "content-length"):
                response.headers[name] = value
        response.headers.update(data.get("headers") or {})  # abort(..., headers=...)
        if status == 401:  # RFC 9110: a 401 names the scheme that would be accepted
            response.headers.setdefault("WWW-Authenticate", BEARER)
        return response, status

    @app.errorhandler(IntegrityError)
    def _conflict(exc: IntegrityError):
        db.session.rollback()
        return error_response(409, "conflict", "That conflicts with data already stored.")

    # Locked or unreachable (OperationalError), or no connection free in the pool within its
    # timeout (more requests at once than it holds): busy either way, worth a retry.
    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _busy(exc: OperationalError | PoolTimeout):
        db.session.rollback()
        app.logger.warning("database unavailable: %s", exc)
        response, status = error_response(
            503, "unavailable", "The database is busy or unreachable; try again."
        )
        response.headers["Retry-After"] = "1"
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unexpected error")
        return error_response(500, "internal_error", InternalServerError.description)


def _field_names(messages: dict) -> list[str]:
    """The offending field names, e.g. ['closeness', 'favor.value'] from webargs' nested dict."""
    names: list[str] = []

    def walk(node, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        elif prefix:
            names.append(prefix)

    for location in messages.values():
        walk(location, "")
    return names or ["body"]
