"""Well-known locations used by the browser tests."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
EXTENSION_DIR = Path(os.environ.get("STRONGTIES_TEST_EXTENSION_DIR", REPO / "extension"))
SITE_FIXTURES_DIR = REPO / "tests" / "fixtures" / "sites"
OUTPUT_DIR = REPO / "test-output"
SCREENSHOT_DIR = OUTPUT_DIR / "screenshots"

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FIREFOX_CANDIDATES = ("/usr/bin/firefox-esr", "/usr/bin/firefox")

SETUP_HINT = "install it with `scripts/setup --test` (CI does this)"


def find_binary(env_var: str, candidates: tuple[str, ...]) -> str | None:
    """The browser binary named by ``env_var``, else the first candidate that exists."""
    explicit = os.environ.get(env_var)
    if explicit:
        return explicit if Path(explicit).exists() or shutil.which(explicit) else None
    for candidate in candidates:
        if Path(candidate).exists():
            return candidate
    return None


def chromium_binary() -> str | None:
    return find_binary("STRONGTIES_TEST_CHROMIUM", CHROMIUM_CANDIDATES)


def firefox_binary() -> str | None:
    return find_binary("STRONGTIES_TEST_FIREFOX", FIREFOX_CANDIDATES)


def screenshot_path(name: str) -> Path:
    """``test-output/screenshots/<name>.png`` (name sanitised; the directory is created)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "screenshot"
    if not stem.endswith(".png"):
        stem += ".png"
    return SCREENSHOT_DIR / stem
