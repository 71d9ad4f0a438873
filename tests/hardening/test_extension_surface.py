"""What the host page's scripts could reach of the extension: nothing that holds the token.

Static checks of the extension as it ships (the runtime side, page scripts searching the DOM for
ledger data, is tests/browser/test_overlay_chromium.py::test_page_scripts_cannot_read_ledger_data):

- no web page can message the extension (no `externally_connectable`, no external listeners)
  or load its options / popup pages (not web-accessible);
- content scripts, which share the page's renderer, neither touch the network nor read the
  extension's storage: the token stays in the background, which alone talks to the server;
- the overlay lives in a closed shadow root.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

EXTENSION = Path(__file__).resolve().parents[2] / "extension"
NETWORK = re.compile(
    r"\b(fetch|XMLHttpRequest|WebSocket|EventSource|sendBeacon)\s*\(|new\s+WebSocket"
)
STORAGE = re.compile(r"\bstorage\s*\.\s*(local|sync|session)\b|\blocalStorage\b|\bindexedDB\b")


def manifest() -> dict:
    return json.loads((EXTENSION / "manifest.json").read_text())


def content_scripts() -> list[Path]:
    files = {js for entry in manifest().get("content_scripts", []) for js in entry.get("js", [])}
    assert files, "the manifest lists no content scripts"
    return [EXTENSION / name for name in sorted(files)]


def test_web_pages_cannot_talk_to_the_extension():
    m = manifest()
    assert "externally_connectable" not in m
    exposed = json.dumps(m.get("web_accessible_resources", []))
    for page in ("options", "popup", "background"):
        assert page not in exposed, f"{page} is web-accessible"
    for path in EXTENSION.rglob("*.js"):
        source = path.read_text()
        for listener in ("onMessageExternal", "onConnectExternal"):
            assert listener not in source, f"{path.relative_to(EXTENSION)} listens to {listener}"


def test_content_scripts_hold_no_token_and_no_network_code():
    for path in content_scripts():
        source = path.read_text()
        name = path.relative_to(EXTENSION)
        assert not NETWORK.search(source), f"{name} talks to the network itself"
        assert not STORAGE.search(source), f"{name} reads storage (where the token is)"
        assert not re.search(r"\btoken\b", source, re.IGNORECASE), f"{name} handles a token"


def test_overlay_shadow_roots_are_closed():
    sources = "\n".join(path.read_text() for path in content_scripts())
    modes = re.findall(r"attachShadow\(\s*\{\s*mode:\s*[\"'](\w+)[\"']", sources)
    assert modes and set(modes) == {"closed"}, modes
