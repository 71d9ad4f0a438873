"""The host names the server answers to: any other Host header is refused (DNS rebinding).

Werkzeug's own check (Flask's TRUSTED_HOSTS) cannot name an IPv6 address such as [::1], so
the server checks the Host header itself.
"""

from urllib.parse import urlsplit

# Without STRONGTIES_ALLOWED_HOSTS: the loopback names. `serve --host ::1` (or ::) adds ::1.
LOOPBACK = ["localhost", "127.0.0.1"]
REFUSED = (
    "This server does not answer to that host name. To allow it, add it to "
    "STRONGTIES_ALLOWED_HOSTS (comma-separated) where the server runs."
)


def name_of(host: str) -> str:
    """The host name of `host:port`, lower case, without port, brackets or the trailing dot of
    a fully qualified name: `[::1]:5151` -> `::1`, `Example.com.:80` -> `example.com`. A bare
    IPv6 address (`::1`) is its own name."""
    if host.count(":") > 1 and not host.startswith("["):
        return host.lower()
    try:
        name = urlsplit("//" + host).hostname or ""
    except ValueError:  # e.g. an unclosed bracket
        return ""
    return name.removesuffix(".")


def allowed(host: str, names: list[str]) -> bool:
    """Is `host` (a Host header as Werkzeug validated it, else empty) one of `names`? A name
    starting with a dot also allows its subdomains, as in Werkzeug's list. A port written in
    an entry is ignored: the name decides."""
    name = name_of(host)
    if not name:
        return False
    for entry in names:
        if entry.startswith("."):
            domain = name_of(entry[1:])
            if domain and (name == domain or name.endswith("." + domain)):
                return True
        elif name == name_of(entry):
            return True
    return False
