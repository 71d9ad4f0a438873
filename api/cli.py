"""The `strongties` command (also `python -m api`)."""

import sys

import click
from alembic.util import CommandError
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from werkzeug.security import generate_password_hash

from . import __version__, auth, hosts, ledger, schemas
from .config import DEFAULT_PORT, ConfigError, first_line
from .database import upgrade
from .models import User, db

_app = None


def app(threads: int | None = None):
    """The application, created once per command with the schema brought up to date; a
    setting or a database it cannot use is one line on stderr (exit 1), not a traceback.
    `threads`: how many requests the server runs at once (its connection pool fits them)."""
    global _app
    if _app is None:
        from . import create_app

        try:
            application = create_app({"STRONGTIES_THREADS": threads} if threads else None)
            url = application.config["SQLALCHEMY_DATABASE_URI"]
        except ConfigError as exc:  # also an unknown dialect, a driver not installed
            raise click.ClickException(str(exc)) from None
        try:
            upgrade(url)
        except DBAPIError as exc:
            raise click.ClickException(
                f"cannot open the database {_redact(url)}: {first_line(exc.orig)}"
            ) from None
        except CommandError as exc:  # e.g. a database migrated by a newer version
            raise click.ClickException(
                f"cannot bring the schema of {_redact(url)} up to date: {first_line(exc)}"
            ) from None
        _app = application
    return _app


def _user(username: str | None) -> User:
    if username is None:
        return auth.default_user()
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}; create it with `strongties user create`")
    return user


def _checked(field):
    """A click callback that checks a value as the API checks it, before anything is written."""

    def check(_ctx, _param, value):
        if value is None:
            return value
        try:
            return field().deserialize(value)
        except ValidationError as exc:
            raise click.BadParameter(" ".join(exc.messages)) from None

    return check


user_option = click.option(
    "--user", "username", default=None, help="Whose ledger (default: the personal user 'me')."
)


@click.group()
@click.version_option(__version__, prog_name="strongties")
def main():
    """Strong Ties: a ledger of your professional relationships."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535), help="Port."
)
@click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(min=1), help="Requests at once."
)
def serve(host, port, threads):
    """Run the API (brings the database schema up to date first)."""
    import logging

    from waitress import create_server

    application = app(threads)
    logging.basicConfig()  # waitress's warnings (a full request queue, say) reach stderr
    try:  # listen first: the banner promises a server that is there
        server = create_server(
            application, host=host, port=port, threads=threads, ident="strongties"
        )
    except OSError as exc:  # the port is taken, the address is not this machine's, ...
        reason = exc.strerror or str(exc)
        raise click.ClickException(f"cannot listen on {host} port {port}: {reason}") from None
    names = application.config["HOST_NAMES"]
    if host in ("::1", "::") and not application.config["STRONGTIES_ALLOWED_HOSTS"]:
        names.append("::1")  # the loopback name of a server listening on IPv6
    address = _browser_address(host)
    url = f"http://{address}:{port}"
    database = application.config["SQLALCHEMY_DATABASE_URI"]
    click.echo(f"Strong Ties {__version__} serving {url}")
    click.echo(f"  database: {_redact(database)}")
    click.echo(f"  connect a browser: open {url}/connect")
    if not hosts.allowed(address, names):
        click.echo(f"  note: add {address} to STRONGTIES_ALLOWED_HOSTS to use {url}")
    sys.stdout.flush()
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C is how one stops it
        pass


def _browser_address(host: str) -> str:
    """Where a browser on this machine reaches a server listening on `host`."""
    if host in ("127.0.0.1", "localhost", "0.0.0.0", ""):
        return "localhost"  # all IPv4 addresses include the loopback; the extension's default name
    if host == "::":
        return "[::1]"  # waitress listens on IPv6 only there
    return f"[{host}]" if ":" in host else host


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.group()
def token():
    """Device tokens."""


@token.command("create")
@click.argument("name", callback=_checked(schemas.device_name_field))
@user_option
def token_create(name, username):
    """Create a device token; it is printed once, as the last line."""
    with app().app_context():
        device, secret = auth.create_device(_user(username), name)
        db.session.commit()
        click.echo(f"Device {device.id} ({device.name}) created. Its token:")
        click.echo(secret)


@main.command()
@user_option
def pair(username):
    """Print a one-time pairing code as the last word (valid STRONGTIES_PAIR_CODE_MINUTES,
    default 10)."""
    with app().app_context():
        code = auth.create_pairing_code(_user(username))
        db.session.commit()
        lifetime = auth.code_lifetime()
        click.echo(f"Enter this code in the extension's options within {lifetime}: {code}")


@main.group()
def devices():
    """Connected browsers."""


@devices.command("list")
@user_option
def devices_list(username):
    """List connected browsers."""
    from .resources.devices import live_devices

    with app().app_context():
        for device in live_devices(_user(username).id):
            seen = device.last_seen_at.isoformat(timespec="minutes") if device.last_seen_at else "-"
            click.echo(
                f"{device.id}\t{device.name}\tcreated {device.created_at:%Y-%m-%d}\tseen {seen}"
            )


@devices.command("revoke")
@click.argument("device_id", type=int)
@user_option
def devices_revoke(device_id, username):
    """Disconnect a browser: its token stops working at once."""
    from .resources.devices import revoke

    with app().app_context():
        owner = _user(username)
        # An id past the id column (32-bit on PostgreSQL) is no device, not a database error.
        if not 1 <= device_id < 2**31 or not revoke(owner.id, device_id):
            raise click.ClickException(f"no connected device {device_id}")
        click.echo(f"Device {device_id} disconnected.")


@main.group()
def user():
    """Users of a shared server."""


@user.command("create")
@click.argument("username", callback=_checked(schemas.username_field))
@click.password_option(
    help="Used to connect browsers on the /connect page or by pairing (asked if not given).",
    callback=_checked(schemas.password_field),
)
def user_create(username, password):
    """Create a user who can sign in to connect browsers."""
    with app().app_context():
        if db.session.scalar(select(User).where(User.username == username)):
            raise click.ClickException(f"user {username!r} exists")
        db.session.add(
            User(username=username, password_hash=generate_password_hash(password), settings={})
        )
        db.session.commit()
        click.echo(f"User {username} created.")


@main.command()
@user_option
@click.option("--all-users", is_flag=True, help="Rebuild every user's aggregates.")
def rebuild(username, all_users):
    """Recompute every contact's aggregates from the ledger."""
    with app().app_context():
        users = db.session.scalars(select(User)).all() if all_users else [_user(username)]
        total = 0
        for each in users:
            fresh = ledger.lock_user(each)  # the settings as of the lock: a PATCH may just have won
            total += ledger.rebuild_user(fresh)
            db.session.commit()
        click.echo(f"Rebuilt {total} contacts.")


@main.command()
def migrate():
    """Bring the database schema up to date (serve does this too)."""
    app()
    click.echo("Schema up to date.")
