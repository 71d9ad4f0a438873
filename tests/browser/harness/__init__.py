"""Reusable browser-test harness for Strong Ties (see tests/browser/conftest.py for the fixtures).

Modules:
- ``paths``: where the repo, the extension, the site fixtures and the screenshots are.
- ``net``: polling, and whether a port answers.
- ``api``: :class:`LiveApi`, the real ``strongties serve`` in a subprocess on a temp SQLite file
  (a ``live_server.ServerProcess`` from tests/live_server.py).
- ``sites``: the site hosts, URL-glob routing of fixture HTML, the HTTPS fixture server (Firefox).
- ``chromium``: Chromium with the unpacked extension (Playwright persistent context) + CDP overlay.
- ``firefox``: Firefox ESR with the extension through Marionette; overlay via
  ``openOrClosedShadowRoot``.
- ``overlay``: the browser-independent part of the overlay helper (polling, page-world checks).
"""
