"""The people, site fixtures and URLs the e2e tests share across browsers.

The site fixtures (tests/fixtures/sites/) show these people; ``seed_people`` puts them in the
ledger with different histories (so each has its own score). ``ANA`` and the XSS profile are left
out on purpose: they start unknown.
"""

from __future__ import annotations

from typing import Any

from .api import LiveApi
from .ledger import days_ago, ensure_contact, score_number, tie_score
from .net import wait_until
from .overlay import OverlayBase

# Jane's ledger name differs from the one on her page, so tests can tell where a name came from.
JANE = {"name": "Jane Doe · Northwind", "linkedin": "jane-doe"}
JOHN = {"name": "John Smith", "linkedin": "john-smith-4b2a1"}
PRIYA = {"name": "Priya Shah", "email": "priya.shah@contoso.example"}
DANIEL = {"name": "Daniel Okafor", "email": "daniel.okafor@northwind.example"}
MARIA = {"name": "María García", "email": "maria.garcia@outlook.example"}
ANA = {"name": "Ana López", "linkedin": "ana-lópez-8b1a2c"}  # canonical slug: decoded, NFC
MARTA = {"name": "Marta Silva", "linkedin": "marta-silva-4c1d2e"}  # met in a message thread
XSS = {"linkedin": "xss-test"}
XSS_PAYLOAD = "<img src=x onerror=alert(1)><script>window.__pwned=1</script>"
# Elements the XSS fixture's payloads would create if any of its text were parsed as HTML (its
# own profile photo is a data: URL).
XSS_INJECTED = "img[src='x'], img:not([src^='data:']), svg[onload], [onerror]"

JANE_URL = "https://www.linkedin.com/in/jane-doe/"
JOHN_URL = "https://www.linkedin.com/in/john-smith-4b2a1/"
ANA_URL = "https://www.linkedin.com/in/ana-l%C3%B3pez-8b1a2c/"
XSS_URL = "https://www.linkedin.com/in/xss-test/"
THREAD_URL = "https://www.linkedin.com/messaging/thread/2-NWQ4ZTFkYzItMzRhNi00ZmQ3LWI5ZjAtYzE0MmFkNTNiOGQ3XzEwMA==/"
FEED_URL = "https://www.linkedin.com/feed/"
GMAIL_URL = "https://mail.google.com/mail/u/0/#inbox/FMfcgzQZTkGgWqMcbNqxHnKDnFvWzjLq"
OUTLOOK_URL = "https://outlook.office.com/mail/inbox/id/AAQkADAwATM0MDAAMS1hYjE1LTI3ZAAQAJd%2FTq8Z"
OUTLOOK_LIVE_URL = "https://outlook.live.com/mail/0/inbox/id/AQQkADAwATMwMAItYjU3Ni0xZDMxLTAw"

# (glob, fixture); later entries win over earlier ones.
SITE_ROUTES = (
    ("https://www.linkedin.com/**", "linkedin-profile-classic"),
    ("https://www.linkedin.com/feed/**", "linkedin-feed"),
    # The feed fixture renders John's profile straight away when loaded at his URL.
    ("https://www.linkedin.com/in/john-smith-4b2a1/**", "linkedin-feed"),
    ("https://www.linkedin.com/in/ana-l**", "linkedin-profile-2026"),
    ("https://www.linkedin.com/in/xss-test/**", "linkedin-profile-xss"),
    ("https://mail.google.com/**", "gmail-thread"),
    ("https://outlook.office.com/**", "outlook-message"),
    ("https://outlook.live.com/**", "outlook-message-live"),
)

# (test id, fixture, url, who the overlay must show)
KNOWN_SITES = (
    ("linkedin-classic", "linkedin-profile-classic", JANE_URL, JANE),
    ("linkedin-title-only", "linkedin-profile-title-only", JANE_URL, JANE),
    ("gmail", "gmail-thread", GMAIL_URL, PRIYA),
    ("gmail-reply-from-me", "gmail-thread-reply-from-me", GMAIL_URL, PRIYA),
    ("outlook-office", "outlook-message", OUTLOOK_URL, DANIEL),
    ("outlook-live", "outlook-message-live", OUTLOOK_LIVE_URL, MARIA),
)

JOHN_HISTORY = (("meal", 200), ("call", 60), ("meeting", 20), ("video", 5), ("coffee", 1))


def route_all(browser: Any) -> None:
    """Serve every site fixture at its URLs (``browser`` has ``routes`` and ``serve_site``)."""
    browser.routes.clear()
    for glob, fixture in SITE_ROUTES:
        browser.serve_site(glob, fixture)


def serve_only(browser: Any, url: str, fixture: str) -> None:
    """Serve ``fixture`` for ``url`` (and anything under it), over the defaults."""
    route_all(browser)
    browser.serve_site(url.split("#")[0].rstrip("/") + "**", fixture)


def seed_people(api: LiveApi) -> dict[str, dict[str, Any]]:
    """Jane, John, Priya, Daniel and María in the ledger (idempotent)."""
    people = {
        "jane": ensure_contact(
            api,
            **JANE,
            interactions=[
                {"kind": "meeting", "occurred_at": days_ago(40)},
                {
                    "kind": "coffee",
                    "occurred_at": days_ago(9),
                    "favor": {"direction": "given", "value": 3},
                },
            ],
        ),
        "john": ensure_contact(
            api,
            **JOHN,
            interactions=[{"kind": k, "occurred_at": days_ago(d)} for k, d in JOHN_HISTORY],
        ),
        "priya": ensure_contact(
            api, **PRIYA, interactions=[{"kind": "email", "occurred_at": days_ago(3)}]
        ),
        "daniel": ensure_contact(
            api, **DANIEL, interactions=[{"kind": "call", "occurred_at": days_ago(15)}]
        ),
        "maria": ensure_contact(
            api,
            **MARIA,
            interactions=[
                {
                    "kind": "introduction",
                    "occurred_at": days_ago(2),
                    "favor": {"direction": "received", "value": 4},
                }
            ],
        ),
    }
    assert tie_score(people["jane"]) != tie_score(people["john"])
    return people


def lookup(api: LiveApi, person: dict[str, str]) -> dict[str, Any]:
    if "linkedin" in person:
        return api.lookup(linkedin=person["linkedin"])
    return api.lookup(email=person["email"])


def live_interactions(api: LiveApi, person: dict[str, str]) -> list[dict[str, Any]]:
    found = lookup(api, person)
    return api.interactions(found["contact"]["id"]) if found["contact"] else []


def log_by_click(
    ov: OverlayBase,
    api: LiveApi,
    person: dict[str, str],
    message: str = "the click did not log an interaction",
) -> list[dict[str, Any]]:
    """Click the overlay's log button and wait until the ledger holds exactly one more
    interaction with ``person``; returns the interactions the click added."""
    before = {row["id"] for row in live_interactions(api, person)}
    ov.click("log")

    def added() -> list[dict[str, Any]] | None:
        rows = live_interactions(api, person)
        return [r for r in rows if r["id"] not in before] if len(rows) == len(before) + 1 else None

    return wait_until(added, timeout=10, message=message)


def assert_queued_log_delivered(
    ov: OverlayBase, api: LiveApi, person: dict[str, str], before: int, logs: int = 1
) -> None:
    """The ``logs`` the browser kept reach the ledger (``before`` + ``logs`` interactions with
    ``person``), and the card shows the server's tie again, its pending chip gone."""
    wait_until(
        lambda: len(live_interactions(api, person)) == before + logs,
        timeout=20,
        message="the queued log never reached the server",
    )
    # Once its pending chip is gone, the card shows what the server answered after them.
    ov.wait_for(lambda: not ov.field("pending"), 10, "the pending chip to clear")
    assert_shows(ov, api, person)


def assert_shows(
    ov: OverlayBase, api: LiveApi, person: dict[str, str], timeout: float = 15.0
) -> dict[str, Any]:
    """The overlay is ``known`` and shows ``person``'s ledger name and current score (±1 for
    the score's decay between the two reads); returns the API's lookup."""
    ov.wait_for_state("known", timeout=timeout)
    found = lookup(api, person)
    assert found["contact"], f"{person} is not in the ledger"
    ov.wait_for_field("name", found["contact"]["name"])
    shown = score_number(ov.field("score"))
    assert shown is not None and abs(shown - tie_score(found)) <= 1, (ov.describe(), found["tie"])
    return found
