"""Canonical identifiers: a LinkedIn profile by its slug, an email by its address.

Auto-linking happens only on these exact identifiers, so both sides (extension and server) must
arrive at the same string for the same person whatever URL form the page used.
"""

import re
import unicodedata
from urllib.parse import unquote, urlsplit

KINDS = ("linkedin", "email")

# Internal member ids (`/in/ACoAA...`) are case-sensitive, unlike vanity slugs.
_MEMBER_ID = re.compile(r"^ACo[A-Za-z0-9_-]{10,}$")
# Letters and digits of any script, and - _ . (LinkedIn allows letters, numbers and hyphens;
# older slugs and member ids have the others): never symbols, punctuation or U+FFFD.
_SLUG_PUNCTUATION = set("-_.")
_SLUG_LENGTH = 200
_EMAIL = re.compile(r"^[^@\s<>()\[\]\\,;:\"]{1,64}@[^@\s<>()\[\]\\,;:\"]+\.[^@\s<>()\[\]\\,;:\"]+$")
# Path prefixes LinkedIn uses for a profile: /in/, the mobile /m/in/ and /mwlite/in/, legacy /pub/.
_HEX_GROUP = re.compile(r"^[0-9a-fA-F]{1,3}$")
_PROFILE_PREFIXES = (("in",), ("m", "in"), ("mwlite", "in"), ("pub",))


class IdentityError(ValueError):
    """The value is not a LinkedIn profile or email address we can key a contact on."""


def linkedin_slug(value: str) -> str:
    """Return the canonical slug of a LinkedIn profile given its URL (any form) or a bare slug."""
    text = (value or "").strip()
    if not text:
        raise IdentityError("empty LinkedIn profile")
    slug = _slug_from_url(text) if "/" in text or "linkedin." in text.lower() else text
    slug = unicodedata.normalize("NFC", unquote(slug)).strip()
    if all(map(_slug_char, slug)):
        slug = slug if _MEMBER_ID.match(slug) else slug.lower()
        # A canonical slug must read back as itself: no "%" (decoded again) and no "linkedin."
        # (read as a URL); real slugs have neither. Its length is the stored key's: lowercasing
        # can lengthen it ("İ" becomes "i" and a combining dot), and a key beyond the column's
        # size is a database error.
        if 0 < len(slug) <= _SLUG_LENGTH and "%" not in slug and "linkedin." not in slug.lower():
            return slug
    raise IdentityError(f"not a LinkedIn profile slug: {value[:80]!r}")


def _slug_char(c: str) -> bool:
    return c in _SLUG_PUNCTUATION or unicodedata.category(c)[0] in "LMN"


def _slug_from_url(text: str) -> str:
    if "://" not in text:
        text = "https://" + text.lstrip("/")
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        raise IdentityError(f"not a linkedin.com address: {host or text[:80]!r}")
    segments = [s for s in parts.path.split("/") if s]
    for prefix in _PROFILE_PREFIXES:
        n = len(prefix)
        if tuple(s.lower() for s in segments[:n]) == prefix and len(segments) > n:
            if prefix == ("pub",):
                return _legacy_public_slug(segments[n:])
            return segments[n]
    raise IdentityError("not a LinkedIn profile address (expected /in/<name>)")


def _legacy_public_slug(rest: list[str]) -> str:
    """`/pub/<name>/<a>/<b>/<c>` is the profile LinkedIn now serves at `/in/<name>-<c><b><a>`
    (hex groups, the last two zero-padded to three digits)."""
    if rest[0].lower() == "dir":
        raise IdentityError("a LinkedIn directory page is not a profile")
    groups = rest[1:4]
    if len(groups) == 3 and all(_HEX_GROUP.match(g) for g in groups):
        a, b, c = groups
        return f"{rest[0]}-{c.zfill(3)}{b.zfill(3)}{a}"
    return rest[0]


def email_address(value: str) -> str:
    """Return the canonical (trimmed, NFKC, lowercased) form of an email address.

    NFKC, unlike a slug's NFC: an address is typed or pasted, and its compatibility forms
    (full-width letters, "＠", mathematical letters) read as, and are, the plain address. A
    domain with an empty label (a trailing dot, "..") is refused, not guessed at."""
    text = (value or "").strip()
    if text.lower().startswith("mailto:"):
        text = text[7:].split("?")[0]
    text = unicodedata.normalize("NFKC", text).lower()
    # Control and invisible format characters (bidi overrides) could disguise an address.
    hidden = any(unicodedata.category(c)[0] == "C" for c in text)
    if len(text) > 254 or not _EMAIL.match(text) or hidden:
        raise IdentityError(f"not an email address: {value[:80]!r}")
    if "" in text.rpartition("@")[2].split("."):
        raise IdentityError(f"not an email address (empty label in its domain): {value[:80]!r}")
    return text


def canonical(kind: str, value: str) -> str:
    """Canonicalise an identity of the given kind."""
    if kind == "linkedin":
        return linkedin_slug(value)
    if kind == "email":
        return email_address(value)
    raise IdentityError(f"unknown identity kind {kind!r}; expected one of {', '.join(KINDS)}")
