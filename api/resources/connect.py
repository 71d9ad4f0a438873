"""The page where one click connects a browser that has the extension installed."""

import ipaddress

from flask import Blueprint, make_response, render_template, request
from sqlalchemy import select
from werkzeug.security import check_password_hash

from .. import auth
from ..models import User, db

blp = Blueprint("connect_page", __name__)


def _from_this_machine() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@blp.route("/connect", methods=["GET", "POST"], endpoint="connect")
def connect():
    """Loopback visitors of a personal server get a code at once; others sign in first."""
    code, error = None, None
    if request.method == "POST":
        auth.check_pair_rate_limit()
        username = request.form.get("username", "")[:80]
        password = request.form.get("password", "")[:200]
        user = db.session.scalar(select(User).where(User.username == username))
        if user and user.password_hash and check_password_hash(user.password_hash, password):
            code = auth.create_pairing_code(user)
        else:
            db.session.rollback()
            auth.record_pair_failure()
            error = "That username and password did not match."
    elif _from_this_machine() and _single_user():
        code = auth.create_pairing_code(auth.default_user())
    db.session.commit()
    response = make_response(
        render_template("connect.html", code=code, error=error, server=request.host_url)
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
