"""A hostile page from another origin, in Chromium, can neither read nor write the ledger.

The real server runs on http://localhost:<api port>. Chromium resolves evil.localtest and
friendly.localtest to 127.0.0.1 and runs with its Local Network Access checks off, so what stops
the page is the server, not a browser-side private-network rule:

- http://evil.localtest:<page port>/ tries everything a web page can do without the token:
  CORS reads (with and without credentials, with a guessed bearer token), no-cors reads, no-cors
  POSTs of JSON as text/plain (a "simple" request needs no preflight), PUT, HTML form posts
  into an iframe, framing /connect, a <script> include. Nothing it can read contains ledger data
  or a pairing code, and the server shows no change afterwards; even a valid pairing code, sent
  as a simple request, is not redeemed.
- http://evil.localtest:<api port>/ is DNS rebinding: the same-origin page reaches the server
  under the attacker's name and reads only 400s.
- Control: http://friendly.localtest:<page port>/, an origin the server is configured to allow,
  can read the API (with the token) from the same browser, so what stops the hostile page is the
  server's CORS policy and the token, not the test set-up.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .live import CODE, SECRET, pairing_code, seed_secret, token_for

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",  # the tests run as root
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP evil.localtest 127.0.0.1, MAP friendly.localtest 127.0.0.1",
    # Chromium's own Local Network Access checks would stop the rebinding page before it reaches
    # the server; not every browser has them, so the test shows the server's defences alone.
    "--disable-features=LocalNetworkAccessChecks",
]

COMMON_JS = r"""
const results = {};
async function attempt(name, fn) {
  try { results[name] = await fn(); }
  catch (e) { results[name] = {blocked: (e && e.name) || String(e), message: String(e)}; }
}
async function show(r) {
  let body;
  try { body = await r.text(); } catch (e) { body = "<unreadable>"; }
  return {type: r.type, status: r.status, body};
}
function timeout(ms, value) { return new Promise((ok) => setTimeout(() => ok(value), ms)); }
function frameRead(frame) {
  try {
    const doc = frame.contentDocument || frame.contentWindow.document;
    return {readable: doc !== null, body: doc ? doc.documentElement.outerHTML : null};
  } catch (e) { return {blocked: e.name, message: String(e)}; }
}
function frame(url) {
  const f = document.createElement("iframe");
  document.body.appendChild(f);
  const loaded = new Promise((ok) => f.addEventListener("load", () => ok(true)));
  f.src = url;
  return Promise.race([loaded, timeout(3000, false)]).then((l) => ({loaded: l, ...frameRead(f)}));
}
function formPost(url, enctype, fields) {
  const name = "sink" + Math.random().toString(36).slice(2);
  const f = document.createElement("iframe");
  f.name = name;
  document.body.appendChild(f);
  const form = document.createElement("form");
  form.method = "POST"; form.action = url; form.enctype = enctype; form.target = name;
  for (const [k, v] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.type = "hidden"; input.name = k; input.value = v;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  const loaded = new Promise((ok) => f.addEventListener("load", () => ok(true)));
  form.submit();
  return Promise.race([loaded, timeout(3000, false)]).then((l) => ({loaded: l, ...frameRead(f)}));
}
function scriptInclude(url) {
  return new Promise((ok) => {
    const s = document.createElement("script");
    s.onload = () => ok({loaded: true});
    s.onerror = () => ok({loaded: false});
    s.src = url;
    document.body.appendChild(s);
  });
}
"""

HOSTILE_JS = r"""
(async () => {
  const lookup = API + "/api/v1/lookup?email=" + encodeURIComponent(EMAIL);
  const planted = JSON.stringify({kind: "call", contact: {name: "Planted",
    identities: [{kind: "email", value: "planted@evil.localtest"}]}});
  const plain = {"Content-Type": "text/plain"};
  await attempt("cors read", async () => show(await fetch(lookup)));
  await attempt("cors read with credentials", async () =>
    show(await fetch(lookup, {credentials: "include"})));
  await attempt("cors read with a guessed token", async () =>
    show(await fetch(lookup, {headers: {Authorization: "Bearer st_guessed"}})));
  await attempt("no-cors read", async () => show(await fetch(lookup, {mode: "no-cors"})));
  await attempt("no-cors read of the changes feed", async () =>
    show(await fetch(API + "/api/v1/changes?since=0", {mode: "no-cors", credentials: "include"})));
  await attempt("no-cors POST of JSON as text/plain", async () =>
    show(await fetch(API + "/api/v1/interactions",
      {method: "POST", mode: "no-cors", headers: plain, body: planted})));
  await attempt("no-cors POST of a contact as text/plain", async () =>
    show(await fetch(API + "/api/v1/contacts",
      {method: "POST", mode: "no-cors", headers: plain, body: planted})));
  await attempt("no-cors PUT", async () =>
    show(await fetch(API + "/api/v1/interactions/6f1e0a70-7d1c-4a9e-9c55-0d7c1d0d0bad",
      {method: "PUT", mode: "no-cors", headers: plain, body: planted})));
  await attempt("cors PUT of JSON", async () =>
    show(await fetch(API + "/api/v1/interactions/6f1e0a70-7d1c-4a9e-9c55-0d7c1d0d0bad",
      {method: "PUT", headers: {"Content-Type": "application/json"}, body: planted})));
  await attempt("no-cors POST of a valid pairing code", async () =>
    show(await fetch(API + "/api/v1/pair", {method: "POST", mode: "no-cors", headers: plain,
      body: JSON.stringify({code: CODE, device_name: "evil"})})));
  await attempt("cors read of /connect", async () => show(await fetch(API + "/connect")));
  await attempt("no-cors read of /connect", async () =>
    show(await fetch(API + "/connect", {mode: "no-cors"})));
  // A text/plain form posts `name=value`: the classic trick to make the body look like JSON.
  const field = planted.slice(0, -1) + ',"x":"';
  await attempt("form post (text/plain) of an interaction", () =>
    formPost(API + "/api/v1/interactions", "text/plain", {[field]: '"}'}));
  await attempt("form post (urlencoded) of a contact", () =>
    formPost(API + "/api/v1/contacts", "application/x-www-form-urlencoded",
      {name: "Planted", notes: "form"}));
  await attempt("form post of a pairing code", () =>
    formPost(API + "/api/v1/pair", "application/x-www-form-urlencoded", {code: CODE}));
  await attempt("iframe of /connect", () => frame(API + "/connect"));
  await attempt("iframe of the lookup", () => frame(lookup));
  await attempt("script include of the lookup", () => scriptInclude(lookup));
  window.__results = results;
  document.title = "done";
})();
"""

REBINDING_JS = r"""
(async () => {
  await attempt("same-origin read of /connect", async () => show(await fetch("/connect")));
  await attempt("same-origin pairing", async () =>
    show(await fetch("/api/v1/pair", {method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({code: CODE, device_name: "rebound"})})));
  await attempt("same-origin health", async () => show(await fetch("/api/v1/health")));
  await attempt("same-origin lookup", async () =>
    show(await fetch("/api/v1/lookup?email=" + encodeURIComponent(EMAIL))));
  window.__results = results;
  document.title = "done";
})();
"""

FRIENDLY_JS = r"""
(async () => {
  const lookup = API + "/api/v1/lookup?email=" + encodeURIComponent(EMAIL);
  await attempt("allowed origin with the token", async () =>
    show(await fetch(lookup, {headers: {Authorization: "Bearer " + TOKEN}})));
  await attempt("allowed origin without a token", async () => show(await fetch(lookup)));
  window.__results = results;
  document.title = "done";
})();
"""


def page(script: str, **constants: str) -> bytes:
    defs = "".join(f"const {k} = {json.dumps(v)};\n" for k, v in constants.items())
    return (
        "<!doctype html><html><head><title>loading</title></head><body>"
        f"<script>{defs}{COMMON_JS}{script}</script></body></html>"
    ).encode()


class PageServer:
    """Serves fixed HTML by path on 127.0.0.1 (any Host), like a web site would."""

    def __init__(self):
        self.pages: dict[str, bytes] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                body = pages.get(self.path.split("?")[0])
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body or b"not found")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def pages():
    server = PageServer()
    yield server
    server.close()


@pytest.fixture
def chromium(playwright):
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
    yield browser
    browser.close()


def run_page(context, url: str) -> dict:
    tab = context.new_page()
    tab.goto(url)
    tab.wait_for_function("document.title === 'done'", timeout=30000)
    results = tab.evaluate("window.__results")
    tab.close()
    return results


def ledger_state(server, token) -> dict:
    contacts = server.request("GET", "/api/v1/contacts?page_size=500", token).json()["contacts"]
    return {
        "cursor": server.request("GET", "/api/v1/changes", token).json()["cursor"],
        "contacts": sorted(c["name"] for c in contacts),
        "devices": len(server.request("GET", "/api/v1/devices", token).json()["devices"]),
    }


def assert_nothing_leaked(name: str, outcome: dict) -> None:
    text = json.dumps(outcome)
    assert SECRET["name"] not in text and SECRET["notes"] not in text, (name, outcome)
    assert not CODE.search(text), (name, outcome)


def test_hostile_page_can_neither_read_nor_write_the_ledger(
    chromium, pages, live_server_factory, sqlite_url
):
    friendly_origin = f"http://friendly.localtest:{pages.port}"
    token = token_for(sqlite_url)
    server = live_server_factory(sqlite_url, env={"STRONGTIES_CORS_ORIGINS": friendly_origin})
    seed_secret(server, token)
    code = pairing_code(sqlite_url)
    before = ledger_state(server, token)

    constants = {"API": server.url, "EMAIL": SECRET["email"], "CODE": code}
    pages.pages["/evil.html"] = page(HOSTILE_JS, **constants)
    pages.pages["/friendly.html"] = page(FRIENDLY_JS, **constants, TOKEN=token)
    context = chromium.new_context()
    rebinding_origin = f"http://evil.localtest:{server.port}"
    context.route(
        f"{rebinding_origin}/",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=page(REBINDING_JS, **constants)
        ),
    )

    hostile = run_page(context, f"http://evil.localtest:{pages.port}/evil.html")
    rebound = run_page(context, f"{rebinding_origin}/")
    friendly = run_page(context, f"{friendly_origin}/friendly.html")
    context.close()
    report = json.dumps({"hostile": hostile, "rebound": rebound, "friendly": friendly}, indent=1)

    # The control: the browser does reach the API and would let an allowed origin read it.
    allowed = friendly["allowed origin with the token"]
    assert allowed.get("status") == 200 and SECRET["name"] in allowed["body"], report
    assert friendly["allowed origin without a token"].get("status") == 401, report

    for name, outcome in {**hostile, **rebound}.items():
        assert_nothing_leaked(name, outcome)
    # CORS: the hostile origin gets no answer of the API to read (no Allow-Origin for it; a
    # token header or a PUT needs a preflight, which fails). PUT cannot go without CORS at all.
    for name in (
        "cors read",
        "cors read with credentials",
        "cors read with a guessed token",
        "cors PUT of JSON",
        "cors read of /connect",
    ):
        assert hostile[name].get("message") == "TypeError: Failed to fetch", (name, report)
    assert "is unsupported in no-cors mode" in hostile["no-cors PUT"].get("message", ""), report
    # Simple requests reach the server (the opaque answer proves it) but are unreadable.
    for name in (
        "no-cors read",
        "no-cors read of the changes feed",
        "no-cors POST of JSON as text/plain",
        "no-cors POST of a contact as text/plain",
        "no-cors POST of a valid pairing code",
        "no-cors read of /connect",
    ):
        assert hostile[name] == {"type": "opaque", "status": 0, "body": ""}, (name, report)
    # Frames and form posts land in documents of another origin: nothing to read.
    for name, outcome in hostile.items():
        if name.startswith(("form post", "iframe")):
            assert outcome.get("readable") is not True, (name, report)
    # DNS rebinding: same-origin, so readable, but the server refuses the foreign Host.
    for name, outcome in rebound.items():
        assert outcome.get("status") == 400, (name, report)

    # Server side: nothing changed, and the code the page sent is still unspent.
    assert ledger_state(server, token) == before, report
    r = server.request("POST", "/api/v1/pair", json={"code": code, "device_name": "owner"})
    assert r.status_code == 201, r.text
