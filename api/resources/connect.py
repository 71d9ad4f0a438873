"""The page where one click connects a browser that has the extension installed."""

import ipaddress

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import TooManyRequests
from werkzeug.security import check_password_hash

from .. import auth
from ..models import User, db

blp = Blueprint("connect_page", __name__)


def _from_this_machine() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@blp.route("/", endpoint="home")
def home():
    """The server's address opened in a browser leads to the one page meant for people."""
    return redirect(url_for("connect_page.connect"))


@blp.route("/connect", methods=["GET", "POST"], endpoint="connect")
def connect():
    """Loopback visitors of a personal server get a code at once; others sign in first."""
    if request.method == "POST":
        username, password = _typed_username(), request.form.get("password", "")[:200]
        typed = {"username": username.strip(), "password": password}
        missing = [name for name, value in typed.items() if not value]
        if missing:  # not an attempt: counts nothing against the limit
            return _page(error=f"Enter your {' and '.join(missing)}.", status=422)
        auth.check_pair_rate_limit()
        # No username holds a NUL (PostgreSQL cannot even compare one): it matches nobody.
        named = select(User).where(User.username == username)
        user = None if "\x00" in username else db.session.scalar(named)
        if user and user.password_hash and check_password_hash(user.password_hash, password):
            code = auth.create_pairing_code(user)
        else:
            db.session.rollback()
            auth.record_pair_failure()
            return _page(error="That username and password did not match.")
    elif _from_this_machine() and _single_user():
        code = auth.create_pairing_code(auth.default_user())
    else:
        code = None
    db.session.commit()
    return _page(code=code)


# The page is for people: its failures are told in the page, with what was typed kept (but the
# password), rather than as the API's JSON.
@blp.errorhandler(TooManyRequests)
def _too_many_attempts(exc):
    db.session.rollback()
    error = (
        "Too many failed sign-in attempts from this address. "
        f"Wait a few minutes (at most {auth.code_lifetime()}), then try again."
    )
    response = _page(error=error, status=429)
    # When to try again, as the API's 429 says it (the oldest failure counted leaves the window).
    response.headers.update((getattr(exc, "data", None) or {}).get("headers") or {})
    return response


@blp.errorhandler(OperationalError)
def _busy(exc):
    db.session.rollback()
    current_app.logger.warning("database unavailable: %s", exc)
    error = "The server is busy right now. Wait a moment, then try again."
    response = _page(error=error, status=503)
    response.headers["Retry-After"] = "1"
    return response


def _typed_username() -> str:
    return request.form.get("username", "")[:80]


def _page(code: str | None = None, error: str | None = None, status: int = 200):
    signing_in = request.method == "POST"
    response = make_response(
        render_template(
            "connect.html",
            code=code,
            error=error,
            # A failure on first opening the page (not a sign-in) is retried by reloading it.
            retry=bool(error) and not signing_in,
            username=_typed_username() if signing_in else "",
            server=request.host_url,
            lifetime=auth.code_lifetime(),
        ),
        status,
    )
    # The page holds a secret: no caching, no framing by other sites.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return response


def _single_user() -> bool:
    names = db.session.scalars(select(User.username).limit(2)).all()
    return len(names) <= 1 and all(name == auth.DEFAULT_USERNAME for name in names)
