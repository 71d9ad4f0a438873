"""The overlay's time from person identified to score shown, in headless Chromium.

The unpacked extension runs in Debian's Chromium (driven by Playwright), connected to the bench
API, on LinkedIn's classic profile fixture served at https://www.linkedin.com/in/<slug>/. Each
round is what LinkedIn, a single-page app, does when you open another profile: the URL changes
(`history.pushState`) and the page renders the new person's name. The content script then reads
the person and, in that same task, switches the card to `loading` and asks the background for
the tie; the background calls `GET /api/v1/lookup`; the card switches to `known` with the score.

A MutationObserver on the card's closed shadow root (reached through CDP) timestamps every
`data-state` change in the page's own clock: identified = the last `loading` before `known`,
shown = the first animation frame after `known` (the score is painted in that frame).
"""

from __future__ import annotations

import html
import random
import statistics
import tempfile
import time
from pathlib import Path

from .servers import ROOT

CHROMIUM = Path("/usr/bin/chromium")
EXTENSION = ROOT / "extension"
FIXTURE = ROOT / "tests" / "fixtures" / "sites" / "linkedin-profile-classic.html"
FIXTURE_NAME, FIXTURE_SLUG = "Jane Doe", "jane-doe"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--password-store=basic",
]

# Installed on the card's shadow root, in the page's main world.
OBSERVE_JS = """function () {
  const shadow = this;
  const timeline = (window.__stTimeline = []);
  new MutationObserver((records) => {
    const t = performance.now();
    for (const r of records) {
      const state = r.target.getAttribute("data-state");
      timeline.push({ t, state });
      if (state !== "known") continue;
      requestAnimationFrame(() => timeline.push({ t: performance.now(), state: "frame" }));
    }
  }).observe(shadow, { subtree: true, attributes: true, attributeFilter: ["data-state"] });
  return true;
}"""

# LinkedIn's in-app navigation to another profile: the URL first, then the new top card.
NAVIGATE_JS = """([slug, name]) => {
  window.__stNav = performance.now();
  history.pushState(null, "", `/in/${slug}/`);
  document.title = `${name} | LinkedIn`;
  const h1 = document.querySelector("h1");
  for (const span of h1.querySelectorAll("span")) span.textContent = name;
  const photo = document.querySelector("img.pv-top-card-profile-picture__image--show");
  if (photo) photo.alt = name;
  for (const a of document.querySelectorAll('a[href^="/in/"]')) {
    a.setAttribute("href", a.getAttribute("href").replace(/^\\/in\\/[^/]+/, `/in/${slug}`));
  }
}"""

ROUND_JS = """() => {
  const nav = window.__stNav, line = window.__stTimeline.filter((e) => e.t >= nav);
  const known = line.findIndex((e) => e.state === "known");
  if (known < 0) return null;
  const loading = line.slice(0, known).filter((e) => e.state === "loading").pop();
  const frame = line.slice(known).find((e) => e.state === "frame");
  if (!loading || !frame) return null;
  return { nav, identified: loading.t, known: line[known].t, frame: frame.t };
}"""


class Unavailable(Exception):
    """Chromium, Playwright, the extension or the fixture is missing."""


def _check() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        raise Unavailable("Playwright for Python is not installed") from exc
    for path, what in (
        (CHROMIUM, "Chromium"),
        (EXTENSION / "manifest.json", "the extension"),
        (FIXTURE, "the LinkedIn fixture"),
    ):
        if not path.exists():
            raise Unavailable(f"{what} not found at {path}")


def profile_page(slug: str, name: str) -> str:
    text = FIXTURE.read_text()
    return text.replace(FIXTURE_SLUG, slug).replace(FIXTURE_NAME, html.escape(name))


def _find_shadow_root(cdp, timeout: float = 15) -> str:
    """objectId of the shadow root holding the card (closed roots included, via CDP pierce)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        stack = [doc]
        while stack:
            node = stack.pop()
            for shadow in node.get("shadowRoots") or []:
                found = cdp.send(
                    "DOM.querySelector",
                    {"nodeId": shadow["nodeId"], "selector": "[data-strongties-root]"},
                )["nodeId"]
                if found:
                    return cdp.send("DOM.resolveNode", {"nodeId": shadow["nodeId"]})["object"][
                        "objectId"
                    ]
                stack.append(shadow)
            stack.extend(node.get("children") or [])
        time.sleep(0.05)
    raise RuntimeError("the overlay never appeared on the profile page")


def _card_state(cdp, shadow_id: str) -> dict:
    return cdp.send(
        "Runtime.callFunctionOn",
        {
            "objectId": shadow_id,
            "functionDeclaration": "function () { const r = this.querySelector("
            "'[data-strongties-root]'); return {state: r.getAttribute('data-state'), "
            "name: r.querySelector('[data-field=name]')?.textContent || '', "
            "score: r.querySelector('[data-field=score]')?.textContent || ''}; }",
            "returnByValue": True,
        },
    )["result"]["value"]


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


def measure(server: str, token: str, ledger, rounds: int = 15, seed: int = 5) -> dict:
    """Median time from person identified to score shown, over `rounds` profile visits."""
    _check()
    from playwright.sync_api import sync_playwright

    rng = random.Random(seed)
    people = [rng.choice(ledger.contacts) for _ in range(rounds + 1)]
    pages = {p.slug: profile_page(p.slug, p.name) for p in people}

    def fulfill(route):
        slug = route.request.url.split("/in/", 1)[-1].split("/", 1)[0]
        body = pages.get(slug, pages[people[0].slug])
        route.fulfill(
            status=200, content_type="text/html", body=body, headers={"Cache-Control": "no-store"}
        )

    with tempfile.TemporaryDirectory(prefix="strongties-bench-chromium-") as profile:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=[
                    *ARGS,
                    f"--disable-extensions-except={EXTENSION}",
                    f"--load-extension={EXTENSION}",
                ],
                viewport={"width": 1280, "height": 900},
            )
            try:
                return _rounds(context, fulfill, server, token, people)
            finally:
                context.close()


def _rounds(context, fulfill, server: str, token: str, people) -> dict:
    worker = next(
        (w for w in context.service_workers if w.url.startswith("chrome-extension")), None
    )
    worker = worker or context.wait_for_event("serviceworker", timeout=30_000)
    extension_id = worker.url.split("/")[2]
    options = context.new_page()
    options.goto(f"chrome-extension://{extension_id}/options/options.html")
    options.locator("input[name=server]").fill(server)
    options.locator("input[name=token]").fill(token)
    options.locator("form button[type=submit], form button:not([type])").first.click()
    options.locator("[data-status=connected], [data-status]:has-text('connected')").first.wait_for(
        timeout=15_000
    )
    options.close()

    context.route("https://www.linkedin.com/**", fulfill)
    page = context.new_page()
    first = people[0]
    page.goto(f"https://www.linkedin.com/in/{first.slug}/", wait_until="domcontentloaded")
    cdp = context.new_cdp_session(page)
    shadow = _find_shadow_root(cdp)
    _wait(lambda: _card_state(cdp, shadow)["state"] == "known", 15, "the first score")
    cdp.send("Runtime.callFunctionOn", {"objectId": shadow, "functionDeclaration": OBSERVE_JS})

    samples = []
    for person in people[1:]:
        page.evaluate(NAVIGATE_JS, [person.slug, person.name])
        sample = _wait(lambda: page.evaluate(ROUND_JS), 15, f"the score of {person.slug}")
        card = _card_state(cdp, shadow)
        if card["name"] != person.name or card["state"] != "known":
            raise RuntimeError(f"the card shows {card}, not {person.name}")
        samples.append(sample)
        page.wait_for_timeout(100)  # let the background's follow-up sync settle
    shown = [s["frame"] - s["identified"] for s in samples]
    in_dom = [s["known"] - s["identified"] for s in samples]
    from_url = [s["frame"] - s["nav"] for s in samples]
    return {
        "rounds": len(samples),
        "median_ms": round(statistics.median(shown), 1),
        "max_ms": round(max(shown), 1),
        "score_in_dom_median_ms": round(statistics.median(in_dom), 1),
        "url_change_to_shown_median_ms": round(statistics.median(from_url), 1),
        "measured": (
            "LinkedIn in-app navigation to another known person; from the content script "
            "switching the card to `loading` for the person it just read (the same task) to "
            "the first animation frame after `data-state=known`, in the page's clock"
        ),
    }
