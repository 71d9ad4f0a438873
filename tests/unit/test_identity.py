"""Identity normalisation: every URL form of one LinkedIn profile, and every spelling of one email
address, must arrive at the same key, or the overlay shows a stranger for a known contact."""

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from api.identity import IdentityError, canonical, email_address, linkedin_slug

JANE = "jane-doe-42"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.linkedin.com/in/jane-doe-42/",
        "https://www.linkedin.com/in/jane-doe-42",
        "http://linkedin.com/in/jane-doe-42",
        "www.linkedin.com/in/jane-doe-42",
        "linkedin.com/in/jane-doe-42/",
        "//www.linkedin.com/in/jane-doe-42",
        "https://de.linkedin.com/in/jane-doe-42",
        "https://uk.linkedin.com/in/jane-doe-42/",
        "https://WWW.LinkedIn.COM/in/Jane-Doe-42/",
        "https://www.linkedin.com/IN/JANE-DOE-42",
        "https://www.linkedin.com/m/in/jane-doe-42/",
        "https://www.linkedin.com/mwlite/in/jane-doe-42",
        "https://www.linkedin.com/pub/jane-doe-42",
        "https://www.linkedin.com/in/jane-doe-42/details/experience/",
        "https://www.linkedin.com/in/jane-doe-42/overlay/contact-info/",
        "https://www.linkedin.com/in/jane-doe-42/recent-activity/all/",
        "https://www.linkedin.com/in/jane-doe-42?trk=public_profile&originalSubdomain=de",
        "https://www.linkedin.com/in/jane-doe-42/#experience",
        "https://www.linkedin.com/in/jane-doe-42/?miniProfileUrn=urn%3Ali%3Afs#top",
        "https://www.linkedin.com:443/in/jane-doe-42",
        "  https://www.linkedin.com/in/jane-doe-42/  ",
        "jane-doe-42",
        "Jane-Doe-42",
        "  JANE-DOE-42 ",
        "jane%2Ddoe%2D42",
    ],
)
def test_every_form_of_a_profile_url_gives_the_same_slug(url):
    assert linkedin_slug(url) == JANE
    assert canonical("linkedin", url) == JANE


def test_legacy_pub_url_maps_to_the_profile_linkedin_serves_now():
    # /pub/<name>/<a>/<b>/<c> is served at /in/<name>-<c><b><a> (hex groups, zero-padded).
    assert linkedin_slug("https://www.linkedin.com/pub/jane-doe/12/345/678") == "jane-doe-67834512"
    assert linkedin_slug("https://www.linkedin.com/pub/jane-doe/1/2a/b") == "jane-doe-00b02a1"
    assert linkedin_slug("https://www.linkedin.com/pub/jane-doe") == "jane-doe"
    with pytest.raises(IdentityError):
        linkedin_slug("https://www.linkedin.com/pub/dir/jane/doe")


def test_percent_encoded_non_ascii_slug_is_decoded_and_lowercased():
    assert linkedin_slug("https://www.linkedin.com/in/j%C3%A9r%C3%B4me-m%C3%BCller/") == (
        "jérôme-müller"
    )
    assert linkedin_slug("https://www.linkedin.com/in/J%C3%89R%C3%94ME-M%C3%9CLLER") == (
        "jérôme-müller"
    )
    assert linkedin_slug("jérôme-müller") == "jérôme-müller"


def test_composed_and_decomposed_forms_are_the_same_person():
    composed = unicodedata.normalize("NFC", "josé-núñez")
    decomposed = unicodedata.normalize("NFD", "josé-núñez")
    assert composed != decomposed
    assert linkedin_slug(composed) == linkedin_slug(decomposed) == composed
    encoded = "https://www.linkedin.com/in/jos%65%CC%81-n%C3%BA%C3%B1ez"  # e + combining acute
    assert linkedin_slug(encoded) == composed


def test_a_slug_is_at_most_200_characters_once_lowercased():
    # "İ" lowercases to two characters ("i" and a combining dot above).
    assert linkedin_slug("İ" * 100) == "i\u0307" * 100
    for too_long in ("İ" * 101, "a" * 201, "İ" * 200):
        with pytest.raises(IdentityError):
            linkedin_slug(too_long)


def test_non_latin_slugs():
    assert linkedin_slug("https://cn.linkedin.com/in/%E5%BC%A0%E4%BC%9F") == "张伟"
    assert linkedin_slug("https://www.linkedin.com/in/ΑΛΕΞΗΣ") == "αλεξης"


def test_member_ids_keep_their_case():
    member = "ACoAABcdEfGhIjKlMnOpQrStUvWxYz0123456789"
    assert linkedin_slug(f"https://www.linkedin.com/in/{member}/") == member
    assert linkedin_slug(member) == member
    # A vanity slug that merely starts with "aco" is an ordinary, lowercased slug.
    assert linkedin_slug("https://www.linkedin.com/in/Acosta-Maria") == "acosta-maria"
    # Two member ids differing only in case are two people.
    assert linkedin_slug(member) != linkedin_slug(member[:8] + member[8:].swapcase())


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "https://linkedin.com.evil.example/in/jane-doe-42",
        "https://evil.example/in/jane-doe-42",
        "https://evil.example/?next=https://www.linkedin.com/in/jane-doe-42",
        "https://notlinkedin.com/in/jane-doe-42",
        "https://www.linkedin.com.evil.example/in/jane-doe-42",
        "https://www.linkedin.com/company/acme/",
        "https://www.linkedin.com/company/acme/people/",
        "https://www.linkedin.com/school/mit/",
        "https://www.linkedin.com/feed/",
        "https://www.linkedin.com/in/",
        "https://www.linkedin.com/",
        "linkedin.com",
        "jane doe",
        "jane%20doe",
        "jane%2Fdoe",
        "jane\x00doe",
        "jane\u200bdoe",  # zero-width space: an invisible twin of another slug
        "<script>",
        "x" * 201,
        # Symbols and punctuation are no part of a slug; nor is a byte that is no UTF-8.
        "javascript:alert(1)",
        "jane-doe!",
        "jane😀doe",
        "%ff%fe",
        "https://www.linkedin.com/in/%ff%fe/",
        "jane�doe",
    ],
)
def test_not_a_profile_is_refused(bad):
    with pytest.raises(IdentityError):
        linkedin_slug(bad)


@pytest.mark.parametrize(
    "raw",
    [
        "jane@example.com",
        "Jane@Example.COM",
        "  jane@example.com\n",
        "mailto:jane@example.com",
        "MAILTO:Jane@Example.com",
        "mailto:jane@example.com?subject=Hello",
    ],
)
def test_email_spellings_give_one_address(raw):
    assert email_address(raw) == "jane@example.com"
    assert canonical("email", raw) == "jane@example.com"


@pytest.mark.parametrize(
    "raw",
    [
        "ａｌｅｘ@example.com",  # full-width letters
        "ＡＬＥＸ＠ＥＸＡＭＰＬＥ．ＣＯＭ",  # full-width capitals, at sign and full stop
        "alex@ｅｘａｍｐｌｅ.com",
        "\U0001d41a\U0001d425\U0001d41e\U0001d431@example.com",  # mathematical bold letters
    ],
)
def test_compatibility_forms_of_letters_are_the_plain_address(raw):
    assert email_address(raw) == "alex@example.com"


@pytest.mark.parametrize(
    "bad",
    ["alex@example.com.", "alex@example..com", "alex@.example.com", "alex@example.com．"],
)
def test_a_domain_with_an_empty_label_is_refused(bad):
    with pytest.raises(IdentityError, match="empty label"):
        email_address(bad)


def test_plus_and_dots_are_kept_exactly():
    # Only exact identifiers auto-link: no guessing that two local parts are one mailbox.
    assert email_address("Jane.Doe+news@example.co.uk") == "jane.doe+news@example.co.uk"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "jane",
        "jane@",
        "@example.com",
        "jane@example",
        "jane@@example.com",
        "jane doe@example.com",
        "jane@exa mple.com",
        "<jane@example.com>",
        "Jane <jane@example.com>",
        "jane@example.com, joe@example.com",
        "jane\x00@example.com",
        "mailto:",
        "a" * 65 + "@example.com",
        "jane@" + "e" * 250 + ".com",
    ],
)
def test_not_an_email_is_refused(bad):
    with pytest.raises(IdentityError):
        email_address(bad)


def test_unknown_identity_kind_is_refused():
    with pytest.raises(IdentityError):
        canonical("twitter", "jane")


# Slugs as LinkedIn writes them: letters of any script (either case), digits and hyphens.
_slug_chars = st.one_of(
    st.characters(categories=["Lu", "Ll", "Lt", "Lo", "Mn", "Nd"]),
    st.sampled_from("-_.%"),
)
slugs = st.text(_slug_chars, min_size=1, max_size=40)


def _accepted(value):
    try:
        return linkedin_slug(value)
    except IdentityError:
        return None


@given(slugs)
@example("%2541")  # a literal "%" after decoding would be decoded again on the next read
@example("linkedin.fan")
def test_canonical_slug_is_a_fixed_point(raw):
    first = _accepted(raw)
    if first is not None:
        assert linkedin_slug(first) == first
        assert linkedin_slug(f"https://www.linkedin.com/in/{first}/") == first


@given(slugs)
@example("linkedin.fan")  # a bare value with "linkedin." in it is read as a URL
@example("%2541")
def test_a_profile_url_and_its_bare_slug_agree(raw):
    from urllib.parse import quote

    url = f"https://de.linkedin.com/in/{quote(raw, safe='')}/details/experience/?x=1#y"
    assert _accepted(url) == _accepted(raw)


@given(
    st.text(st.characters(categories=["Ll", "Lu", "Nd"]), min_size=1, max_size=20),
    st.sampled_from(["example.com", "Example.ORG", "sub.example.co.uk"]),
)
def test_canonical_email_is_a_fixed_point(local, domain):
    try:
        first = email_address(f" mailto:{local}@{domain} ")
    except IdentityError:
        return
    assert email_address(first) == first


@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=30))
@example("ａｌｅｘ@example.com")
@example("İ@example.com")
def test_any_accepted_email_is_a_fixed_point(local):
    try:
        first = email_address(f"{local}@example.com")
    except IdentityError:
        return
    assert email_address(first) == first
