"""The browser-independent part of the overlay helper.

An overlay is found by its root element ``[data-strongties-root]`` inside a (closed) shadow root;
each browser module supplies ``_call(js_function_body, *args)`` that runs JS with ``this`` bound to
that root element (or raises :class:`OverlayNotFound`), plus ``click`` and ``screenshot``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .paths import screenshot_path

STATES = ("loading", "known", "unknown", "offline", "unconfigured", "error")


class OverlayNotFound(LookupError):
    pass


# A description of the overlay, for assertion messages and debugging.
DESCRIBE_JS = """
const fields = {};
for (const el of this.querySelectorAll('[data-field]')) {
  fields[el.dataset.field] = el.textContent.trim();
}
const actions = [...this.querySelectorAll('[data-action]')].map(el => el.dataset.action);
return {state: this.getAttribute('data-state'), fields, actions,
        text: this.textContent.replace(/\\s+/g, ' ').trim().slice(0, 400)};
"""

# Runs in the page's MAIN world: everything page scripts can reach (document text, attributes,
# open shadow roots, same-origin iframes). Returns the places where any needle appears.
PAGE_WORLD_SEARCH_JS = """
(needles) => {
  const hits = [];
  const seen = new Set();
  const check = (where, text) => {
    if (!text) return;
    for (const n of needles) if (n && String(text).includes(n)) hits.push(where + ': ' + n);
  };
  const visit = (root, path) => {
    if (!root || seen.has(root)) return;
    seen.add(root);
    const top = root.documentElement || root;
    check(path + ' textContent', top.textContent);
    if (top.innerText !== undefined) check(path + ' innerText', top.innerText);
    if (root.body && root.body.innerText !== undefined) {
      check(path + ' body.innerText', root.body.innerText);
    }
    for (const el of root.querySelectorAll('*')) {
      for (const a of el.attributes) check(path + ' ' + el.localName + '@' + a.name, a.value);
      if ('value' in el && typeof el.value === 'string') {
        check(path + ' ' + el.localName + '.value', el.value);
      }
      if (el.shadowRoot) visit(el.shadowRoot, path + ' >>' + el.localName);
      if (el.localName === 'iframe' || el.localName === 'frame') {
        let doc = null;
        try { doc = el.contentDocument; } catch (e) { doc = null; }
        if (doc) visit(doc, path + ' iframe');
      }
    }
  };
  visit(document, 'document');
  check('document.title', document.title);
  return hits;
}
"""


class OverlayBase:
    """Read and drive the Strong Ties overlay of one page."""

    name = "overlay"

    # -- to be provided by subclasses ------------------------------------------------------------
    def _call(self, body: str, *args: Any) -> Any:
        raise NotImplementedError

    def click(self, action: str, *, trusted: bool = True) -> None:
        raise NotImplementedError

    def screenshot(self, path: str | Path | None = None, *, full_page: bool = False) -> Path:
        raise NotImplementedError

    def page_world_search(self, needles: list[str]) -> list[str]:
        """Where page scripts (main world) can see any of ``needles``; [] when nowhere."""
        raise NotImplementedError

    # -- common ----------------------------------------------------------------------------------
    def exists(self) -> bool:
        try:
            self._call("return true;")
            return True
        except OverlayNotFound:
            return False

    def state(self) -> str | None:
        return self._call("return this.getAttribute('data-state');")

    def field(self, name: str) -> str | None:
        """Trimmed text of ``[data-field=<name>]``, or None if the overlay has no such field."""
        return self._call(
            'const el = this.querySelector(`[data-field="${arguments[0]}"]`);'
            "return el ? el.textContent.trim() : null;",
            name,
        )

    def text(self, selector: str | None = None) -> str | None:
        if selector is None:
            return self._call("return this.textContent;")
        return self._call(
            "const el = this.querySelector(arguments[0]); return el ? el.textContent : null;",
            selector,
        )

    def attr(self, selector: str | None, name: str) -> str | None:
        return self._call(
            "const el = arguments[0] ? this.querySelector(arguments[0]) : this;"
            "return el ? el.getAttribute(arguments[1]) : null;",
            selector,
            name,
        )

    def has(self, selector: str) -> bool:
        return bool(self._call("return !!this.querySelector(arguments[0]);", selector))

    def visible(self, selector: str) -> bool:
        return bool(
            self._call(
                "const el = this.querySelector(arguments[0]); if (!el) return false;"
                "const r = el.getBoundingClientRect(); const cs = getComputedStyle(el);"
                "return r.width > 0 && r.height > 0"
                " && cs.visibility !== 'hidden' && cs.display !== 'none';",
                selector,
            )
        )

    def fill(self, selector: str, value: str) -> None:
        """Set an input/select/textarea inside the overlay and fire input + change."""
        ok = self._call(
            "const el = this.querySelector(arguments[0]); if (!el) return false;"
            "el.focus(); el.value = arguments[1];"
            "el.dispatchEvent(new Event('input', {bubbles: true, composed: true}));"
            "el.dispatchEvent(new Event('change', {bubbles: true, composed: true}));"
            "return true;",
            selector,
            value,
        )
        if not ok:
            raise OverlayNotFound(f"no {selector!r} in the overlay: {self.describe()}")

    def click_selector(self, selector: str) -> None:
        """A DOM ``click()`` on any element of the overlay (untrusted event)."""
        ok = self._call(
            "const el = this.querySelector(arguments[0]); if (!el) return false;"
            "el.click(); return true;",
            selector,
        )
        if not ok:
            raise OverlayNotFound(f"no {selector!r} in the overlay: {self.describe()}")

    def describe(self) -> dict[str, Any] | str:
        try:
            return self._call(DESCRIBE_JS)
        except OverlayNotFound as exc:
            return f"(no overlay: {exc})"

    def watch(self, seconds: float, *fields: str) -> list[tuple]:
        """What the card showed every 0.1 s for ``seconds``: (seconds since the start, state,
        the named fields...)."""
        seen = []
        start = time.monotonic()
        while time.monotonic() < start + seconds:
            d = self.describe()
            if isinstance(d, dict):
                at = time.monotonic() - start
                seen.append((at, d["state"], *(d["fields"].get(f) for f in fields)))
            time.sleep(0.1)
        return seen

    def wait_for(self, predicate, timeout: float = 10.0, message: str = "overlay condition") -> Any:
        deadline = time.monotonic() + timeout
        last_err: Exception | None = None
        while True:
            try:
                value = predicate()
                if value:
                    return value
            except OverlayNotFound as exc:
                last_err = exc
            if time.monotonic() >= deadline:
                extra = f"; last error: {last_err}" if last_err else ""
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {message}; overlay now: "
                    f"{json.dumps(self.describe(), default=str)}{extra}"
                )
            time.sleep(0.1)

    def wait_for_state(self, *states: str, timeout: float = 15.0) -> str:
        """Wait until ``data-state`` is one of ``states``; return it."""
        for s in states:
            if s not in STATES:
                raise ValueError(f"unknown overlay state {s!r}; expected one of {STATES}")

        def ok() -> str | None:
            st = self.state()
            return st if st in states else None

        return self.wait_for(ok, timeout, f"data-state in {states}")

    def wait_for_field(
        self,
        name: str,
        expected: str | None = None,
        timeout: float = 10.0,
        *,
        contains: bool = False,
    ) -> str:
        """Wait until ``[data-field=name]`` has text (equal to / containing ``expected``)."""

        def ok() -> str | None:
            value = self.field(name)
            if value is None or value == "":
                return None
            if expected is None:
                return value
            if contains:
                return value if expected in value else None
            return value if value == expected else None

        return self.wait_for(ok, timeout, f"field {name!r} == {expected!r}")

    def wait_gone(self, timeout: float = 10.0) -> None:
        self.wait_for(lambda: not self.exists(), timeout, "overlay to disappear")

    def default_screenshot_path(self, label: str) -> Path:
        return screenshot_path(label)
