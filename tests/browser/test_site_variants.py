"""Page variants of the three sites beyond the main fixtures, in Chromium with the real extension.
Each variant is a saved page of tests/fixtures/sites/ served at a real URL: LinkedIn's newer profile
(top card in an open shadow root, hashed classes), the logged-out public profile on a country host,
the mobile pages, section sub-pages whose heading is not the name, a member-id URL, one-to-one
message threads (and a group thread, which gets no card), my own profile and one that does not exist
(no card), a profile with a prompt linking to a form editing mine, a connection's profile linking to
the form recommending them, a name with a tagline after a bar, a chat bubble with someone else open
over a profile, the About this profile dialog opened from search, moves from one profile to another
that leave the old top card hidden in the page or change it in place (no card for a conversation
with a company page); the newer top card's headline read by layout (hashed classes), its name in an
h2 (also under the Contact info dialog's own h1), and the 2025 top card with a verification badge,
pronouns and the connection degree beside the name; a Gmail thread of a second signed-in account
whose last message is mine, replies from my send-as alias (my name, another address; or an address
Gmail calls "me", in the page's language, one of its main ones, never a recipient named so in
another), someone else of my name writing to me (also on Outlook); one of my name writing to others
only from an address nobody in the thread mailed, my alias or someone else (their mail reached me
through a list or as a Bcc: no card, or the card of another person in the thread), threads popped
out into a window of their own (their account's address known from its main window, also one under a
path of the session's own, never from a delegated mailbox an earlier version kept as the account's),
a sender's name written as HTML or very long, mail I forwarded, a draft of mine saved at the end of
a thread (the card is about the last message sent), older messages folded; Outlook in another
language, its deeplink URL forms, its newer host outlook.cloud.microsoft, a message I sent (also
before the account menu was ever opened: my name is in the title), one sent from a shared mailbox I
opened (its address is in the URL), one a delegate sent on behalf of its sender (the person is the
sender; in Swedish, Chinese and Japanese too, but not a name holding the phrase's word, its address
on it or beside it, and also when the delegate's name holds it), conversations whose newest message
is open, on top or on bottom (the person is in that one, also with an older one open), a To line
mixing recipients by name and bare addresses, the "External" tag beside a sender's name (on the
name's line, or after the address written after it), a draft of mine below my newest message, a
reply being written below one, and a message I sent in Hebrew, right to left. A sender whose display
name is someone else's address (spoofing) gets a card under the real address, named by it, on Gmail
and on Outlook; on Outlook also when the name ends in an invisible direction mark, a comma or a
bracket, or holds the address in brackets of its own, in the text or in a label. One shown by
address alone gets a card under it, even beside an avatar labelled with another address.

The people on these pages start unknown to the ledger, so the overlay shows the name it read from
the page; one click then logs the interaction, and the contact the API creates must carry the
identity the page is about (and, for mail, the message it was about). Pages without a person on
screen show no overlay at all, nor does mail from a robot (no-reply, notifications, bounces) or a
mailing list that rewrites the sender ("'Name' via List").
"""

from __future__ import annotations

import re
import time
from typing import NamedTuple
from urllib.parse import unquote

import pytest
from harness.ledger import ensure_contact
from harness.net import wait_until
from harness.paths import SITE_FIXTURES_DIR, screenshot_path
from harness.scenarios import (
    ANA,
    ANA_URL,
    DANIEL,
    GMAIL_URL,
    JANE_URL,
    JOHN,
    JOHN_URL,
    MARTA,
    PRIYA,
    THREAD_URL,
    lookup,
    route_all,
)

pytestmark = pytest.mark.browser

WEI = {"name": "Wei Zhang", "linkedin": "wei-zhang-7c3d9e"}
LENA = {"name": "Lena Fischer", "linkedin": "lena-fischer-2b7a41"}
KENJI = {"name": "Kenji Tanaka", "linkedin": "kenji-tanaka-5f2e1a"}
JONAS = {"name": "Jonas Weber", "linkedin": "jonas-weber-9d8c7b"}
OLIVIA = {"name": "Olivia Brown", "linkedin": "olivia-brown-3e4f5a"}
RAVI = {"name": "Ravi Patel", "linkedin": "ravi-patel-1a2b3c"}
RAVI_MEMBER_ID = "ACoAACx3f9IB7mQpR2sT5uVwXyZ0aBcDeFgHiJk"
MARTA_MEMBER_ID = "ACoAAD2kLm7BqR4sT8uVwXyZ1aBcDeFgHiJ"
ANA_MEMBER_ID = "ACoAAC7dQx4Bw2Z"  # in the embedded data of Ana's profile page
# The thread page's embedded data, which maps Marta's member id to her profile (it may be missing).
THREAD_DATA = '<code style="display: none" id="bpr-guid-7340021">'
CHEN = {"name": "Chen Wei", "email": "chen.wei@fabrikam.example"}
LUKAS = {"name": "Lukas Becker", "email": "lukas.becker@contoso.example"}
SOFIA = {"name": "Sofia Rossi", "email": "sofia.rossi@fabrikam.example"}
AMARA = {"name": "Amara Nwosu", "email": "amara.nwosu@northwind.example"}

# Outlook ItemIDs as they appear in URLs (percent-encoded), one per variant.
ITEM_LIVE = "AQMkADAwATE0MDAAMi1kZWZiLTRlMTMtMDACLTAwCgBGAAAD%2BqL7%2FzXm3kGs9wR0RfT1%2BwcA"
ITEM_PATH = "AAMkADk1YjU2LWFhNzctNDQ3Yy1iZjZiLTc1ZWM4ZjU0MjAwNABGAAAAAAB%2Fp9%2B1tQ%3D%3D"
ITEM_QUERY = "AAMkADk1YjU2LWFhNzctNDQ3Yy1iZjZiLTc1ZWM4ZjU0MjAwNABGAAAAAAC%2Fq0%2B2uR%3D%3D"
ITEM_OWA = "AAMkADk1YjU2LWFhNzctNDQ3Yy1iZjZiLTc1ZWM4ZjU0MjAwNABGAAAAAAD%2Fr1%2B3vS%3D%3D"
ITEM_CLOUD = "AAQkADAwATM0MDAAMS1hYjE1LTI3ZAAQAKx%2FUe3Wq%2BVbBg%3D%3D"
ITEM_SENT = "AAQkADAwATM0MDAAMS1hYjE1LTI3ZAAQAN9%2BsT4mVq%2BRcA%3D%3D"
VENUES = "Re: Venue shortlist for the partner summit"
ITEM_SHARED = "AAQkADAwATM0MDAAMS1hYjE1LTI3ZAAQAH5%2FcW8nTq%2BYdQ%3D%3D"
HIRO = {"name": "Hiro Sato", "email": "hiro.sato@litware.example"}
# Daniel's message sent by his delegate, Kim: "Kim Lee on behalf of Daniel Okafor" (Daniel is
# the person: his mail, replies go to him).
DANIEL_SENDS = '<span class="OZZZK" title="daniel.okafor@northwind.example">Daniel Okafor</span>'
KIM_SENDS = DANIEL_SENDS.replace("daniel.okafor", "kim.lee").replace("Daniel Okafor", "Kim Lee")
# A conversation of three (Daniel, me, Sofia's newest), its newest message open, the older ones
# folded, newest on top or on bottom.
ITEM_CONVERSATION = "AAQkADAwATM0MDAAMS1hYjE1LTI3ZAAQAGc%2BvU2pLq%2FXeg%3D%3D"
OFFSITE = "Re: Board deck: venue for the offsite"
SOFIA_OPEN = '<span class="OZZZK" title="sofia.rossi@fabrikam.example">Sofia Rossi</span>'
TO_ALEX = 'To: <span title="alex.morgan@contoso.example">Alex Morgan</span>'
# My folded message in that conversation, and in its place an older message of Kim's left open
# (unread, or opened by me): two open messages, the newest at the bottom or on top.
ALEX_FOLDED = (
    '<div class="folded" role="button" aria-expanded="false" tabindex="0">\n        '
    '<div class="from" data-app-section="FromLine"><span><span class="OZZZK" '
    'title="alex.morgan@contoso.example">Alex Morgan</span></span></div>\n'
    '        <div class="snippet">Thanks Daniel. Sofia, could you check what is free on the 18th?'
)
KIM_OPEN = (
    '<div class="open" aria-expanded="true"><div class="hdr">'
    '<div class="avatar" aria-hidden="true"></div><div>'
    '<div class="from" data-app-section="FromLine"><span><span class="OZZZK" '
    'title="kim.lee@northwind.example">Kim Lee</span></span></div>'
    f'<div class="meta" data-app-section="ToLine">{TO_ALEX}</div></div></div>'
    '<div class="body" aria-label="Message body"><p>The 18th works for the board.</p></div>'
)
# The account menu, in the page only once it was opened (my address in it).
ACCOUNT_MENU = (
    '<div class="mectrl"><div id="mectrl_currentAccount_primary">Alex Morgan</div>'
    '<div id="mectrl_currentAccount_secondary">alex.morgan@contoso.example</div></div>'
)
# A Gmail thread in a window of its own: no account header, the thread id in the query (the
# heading's hex id, 18d4f2a9c3b7e001, in decimal).
POPPED_OUT = "https://mail.google.com/mail/u/0/?ui=2&view=btop&ver=1nnq2v7oe1ub&search=inbox&th=%23thread-f%3A1789321762919931905&cvid=2"
POPOUT = "https://mail.google.com/mail/u/0/popout?ver=1nnq2v7oe1ub&search=inbox&th=18d4f2a9c3b7e001"


def account(url: str, n: int) -> str:
    """The same Gmail page for the n-th signed-in account (the extension remembers each one's
    address from its main window: tests that must not find it use an account no page showed)."""
    return url.replace("/mail/u/0/", f"/mail/u/{n}/")


GMAIL_HEADER = (
    '<a class="acct" href="https://accounts.google.com/SignOutOptions" '
    'aria-label="Google Account: Alex Morgan (alex.morgan@example.com)">A</a>'
)
FULL_WIDTH_ACCOUNT = "Google アカウント：Alex Morgan（alex.morgan@example.com）"
GMAIL_TITLE = "<title>Dinner in Lisbon next month? - alex.morgan@example.com - Gmail</title>"
# Priya's message to me, as Gmail shows it to me: "to me".
TO_ME = (
    '<span class="g2" email="alex.morgan@example.com" name="Alex Morgan" '
    'data-hovercard-id="alex.morgan@example.com">Alex Morgan</span>, cc:'
)

# My send-as alias (another address, my name) and the "to me" chip Gmail shows for it.
ALIAS_FROM = (
    '<span class="gD" email="alex@morganstudio.example" name="Alex Morgan" '
    'data-hovercard-id="alex@morganstudio.example">Alex Morgan</span>'
)
ALIAS_TO_ME = (
    '<span class="g2" email="alex@morganstudio.example" name="me" '
    'data-hovercard-id="alex@morganstudio.example">me</span>'
)
ALIAS = "alex@morganstudio.example"
# Gmail's chip for my main address, to which Priya wrote.
MAIN_TO_ME = ALIAS_TO_ME.replace(ALIAS, "alex.morgan@example.com")
# Someone else of my name, writing to me from an address of theirs.
NAMESAKE = {"name": "Alex Morgan", "email": "alex.morgan@fabrikam.example"}
# Their message to me on Outlook, where the title names me ("Mail - Alex Morgan - Outlook").
NAMESAKE_SENDS = DANIEL_SENDS.replace(
    "daniel.okafor@northwind", NAMESAKE["email"].split(".example")[0]
).replace("Daniel Okafor", "Alex Morgan")

# My own profile's address, and a prompt LinkedIn shows me on others' profiles: it links to a form
# editing mine.
MY_PROFILE = "https://www.linkedin.com/in/alex-morgan-0a1b2c/"
PEOPLE_ALSO_VIEWED = "<h2>People also viewed</h2>"
ADD_A_SKILL = (
    '<p>Add a skill to your profile: <a href="/in/alex-morgan-0a1b2c/add-edit/SKILL/?'
    'profileFormEntryPoint=PROFILE_COMPLETION_HUB">Add skill</a></p>'
)
# A connection's profile offers to recommend them: a form under their address (not mine).
RECOMMEND_WEI = (
    '<a class="q7" href="https://www.linkedin.com/in/wei-zhang-7c3d9e/edit/forms/recommendation/'
    'write/?profileFormEntryPoint=PROFILE_SECTION&profileUrn=urn%3Ali%3Afsd_profile%3AACoAAB">'
    "Recommend</a>"
)
EDIT_INTRO = '<p class="q6">Director of Analytics at Tailspin Toys</p>'
# Jane's name as some write it on LinkedIn, a tagline after a bar (the title then has two bars).
JANE_H1 = '<span aria-hidden="true">Jane Doe</span><span class="visually-hidden">Jane Doe</span>'
# The "About this profile" dialog, over the profile: its own heading, a company linked in it.
ABOUT_THIS_PROFILE = (
    '<div id="artdeco-modal-outlet"><div role="dialog" aria-labelledby="about-h">'
    '<h2 id="about-h">About this profile</h2><p>Joined January 2015</p><p>Verified by '
    '<a href="/company/northwind-traders/">Northwind Traders</a></p><p>Contact information '
    "updated less than 6 months ago</p></div></div>"
)
# The chat bubble of a conversation with Priya, open over the newer profile page in its shadow
# root, before the top card: her name, her photo, links to her profile.
WEI_TOP_CARD = '<section class="q1" componentkey="profile-top-card">'
CHAT_BUBBLE = (
    '<div class="msg-overlay-conversation-bubble" style="position:fixed;right:320px;bottom:0;'
    'width:320px;background:#fff"><header class="msg-overlay-bubble-header">'
    '<h2 class="msg-overlay-bubble-header__title"><a class="profile-card-one-to-one__profile-link"'
    ' href="/in/priya-shah/">Priya Shah</a></h2></header><ul class="msg-s-message-list-content">'
    '<li class="msg-s-event-listitem"><img class="msg-s-event-listitem__profile-picture" '
    'alt="Priya Shah" src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><a '
    'class="msg-s-message-group__profile-link" href="/in/priya-shah/">Priya Shah</a>'
    "<p>See you in Lisbon!</p></li></ul></div>"
)

# The newer top card (hashed classes only): the name in an h2 rather than an h1.
WEI_H1 = (
    '<h1 class="q5 e2d71"><span aria-hidden="true">Wei Zhang</span>'
    '<span class="q8">Wei Zhang</span></h1>'
)
WEI_HEADLINE = "Director of Analytics at Tailspin Toys"
WEI_EXPERIENCE = '<section class="_e83b" componentkey="profile-experience">'
FEATURED_SECTION = (
    '<section class="_e83b" componentkey="profile-featured"><h2 class="a4b8">Featured</h2>'
    '<a href="https://www.linkedin.com/in/wei-zhang-7c3d9e/details/featured/">Show all</a>'
    "</section>"
)
CONTACT_INFO_DIALOG = (
    '<div role="dialog" aria-labelledby="ci-h" style="position:fixed;top:80px;left:30%;'
    'background:#fff;padding:16px"><h1 id="ci-h">Contact info</h1><p>Email: '
    "wei.zhang@tailspin.example</p></div>"
)
# The top card as LinkedIn writes it since 2025: the name's h1 inline in a link to the About this
# profile dialog, a verification badge, pronouns and the connection degree beside it, and no
# class name the adapter knows (the headline's hashed too).
JANE_ROW = (
    '<div class="pv-text-details__left-panel">\n'
    '            <h1 class="text-heading-xlarge inline t-24 v-align-middle break-words">'
    '<span aria-hidden="true">Jane Doe</span><span class="visually-hidden">Jane Doe</span></h1>\n'
    '            <div class="text-body-medium break-words">'
)
JANE_ROW_2025 = (
    '<div class="e7b10">\n            <div class="d4c2a"><a class="a9f0c" aria-label="Jane Doe" '
    'href="/in/jane-doe/overlay/about-this-profile/"><h1 class="c3d1e" style="display:inline">'
    'Jane Doe</h1></a> <span class="b81f2"><svg role="img" aria-label="Verified" width="16" '
    'height="16"><title>Verified</title><rect width="16" height="16"/></svg></span> '
    '<span class="f20a8">She/Her</span> <span class="a6e3b"><span class="visually-hidden">1st '
    'degree connection</span><span aria-hidden="true">· 1st</span></span></div>\n'
    '            <div class="f91c3 break-words">'
)

# A draft of my reply, saved at the end of the thread (Gmail's id for a draft: "#msg-a:r-..."):
# not mail anyone received; the card is about the last message sent.
MY_DRAFT = (
    '<div class="adn ads" data-message-id="#msg-a:r-4717300021559981234">'
    '<div class="gs"><div class="gE iv gt"><table class="cf gJ"><tbody><tr><td class="gF gK">'
    '<h3 class="iw"><span class="qu"><span class="gD" email="alex.morgan@example.com" '
    'name="Alex Morgan" data-hovercard-id="alex.morgan@example.com">Alex Morgan</span> '
    '<span class="boq" style="color:#d93025">Draft</span></span></h3></td></tr></tbody></table>'
    '<div class="iw ajw"><div class="hb">to <span class="g2" email="sam.lee@contoso.example" '
    'name="Sam Lee">Sam Lee</span></div></div></div>'
    '<div class="a3s aiL"><p>Sam, are you free on the 9th too?</p></div></div></div>'
)
THREAD_END = "    </div>\n  </div>\n</div>\n</body>"  # after the thread's last message
# Older messages folded as Gmail folds a long thread: collapsed rows and a "2 older messages" bar
# between the first message and the newest.
FOLDED_ROWS = (
    '<div class="kv" role="listitem" aria-expanded="false"><div class="adf ads"><span class="gD" '
    'email="tom.baker@fabrikam.example" name="Tom Baker">Tom Baker</span> <span class="g3">'
    "3 Nov</span> Count me in!</div></div>"
    '<div class="kQ" role="listitem"><span class="adx" role="button">2 older messages</span></div>'
    '<div class="kv" role="listitem" aria-expanded="false"><div class="adf ads"><span class="gD" '
    'email="sam.lee@contoso.example" name="Sam Lee">Sam Lee</span> <span class="g3">4 Nov</span>'
    " Lisbon it is.</div></div>"
)

# Outlook's tag beside an outside sender's name, in the from line.
EXTERNAL_TAG = (
    ' <span class="Yt1pQ" title="This sender is outside your organization">External</span>'
)
# A reply of mine in the reading pane, not sent yet: a draft under the conversation's newest
# message, its own from line (me) and To line, the body an editor.
MY_DRAFT_REPLY = (
    '<div class="open" aria-expanded="true"><div class="hdr"><div>'
    '<span style="color:#c4314b">[Draft]</span><div class="from" data-app-section="FromLine">'
    '<span><span class="OZZZK" title="alex.morgan@contoso.example">Alex Morgan</span></span></div>'
    '<div class="meta" data-app-section="ToLine">To: <span title="daniel.okafor@northwind.example">'
    "Daniel Okafor</span></div></div></div>"
    '<div class="body" role="textbox" contenteditable="true" aria-label="Message body">'
    "<p>Daniel, the loft it is.</p></div></div>\n    </div>\n  </div>\n</div>\n</body>"
)


class Shows(NamedTuple):
    """A page about ``person``: the overlay shows the name read from it (and ``headline`` under it,
    if given); logging creates the contact under ``person``'s identity (plus ``also``); a logged
    email carries ``ref`` and ``initiated_by``."""

    id: str
    fixture: str
    url: str
    person: dict[str, str]
    headline: str | None = None
    also: tuple[dict[str, str], ...] = ()
    ref: str | None = None
    initiated_by: str = "them"
    edits: tuple[tuple[str, str], ...] = ()  # the page is the fixture with these replacements


def outlook_ref(item: str) -> str:
    return f"outlook:{unquote(item)}"


# My reply thread cut down: Priya's message not shown (folded), or only my first message (a
# thread I started, no answer yet); and a follow-up of mine sent from an alias nobody mailed.
_REPLIED = (SITE_FIXTURES_DIR / "gmail-thread-reply-from-me.html").read_text()
_AT = [
    _REPLIED.index(f'data-message-id="#msg-f:{n}"')
    for n in ("1790011122233399999", "1790011122233400001")
]
_AT = [_REPLIED.rindex("<div", 0, at) for at in _AT]
PRIYAS_MESSAGE = _REPLIED[_AT[0] : _AT[1]]
MY_FOLLOW_UP = _REPLIED[_AT[1] : _REPLIED.index("</body>")]
FROM_MY_ALIAS = MY_FOLLOW_UP.replace(
    'class="gD" email="alex.morgan@example.com"', 'class="gD" email="alex@morganstudio.example"', 1
).replace(">alex.morgan@example.com<", ">alex@morganstudio.example<", 1)

LENA_OPEN = "Lena Fischer · Available · Disponible"  # open to work, in the name: still a person

# Someone of my name whose message reaches me through a list, or as a Bcc: Priya's message to me
# sent instead by them, to the list (or to Tom), the thread's first message (mine) left out.
_THREAD = (SITE_FIXTURES_DIR / "gmail-thread.html").read_text()
_MESSAGES = [
    _THREAD.index(f'<div class="adn ads" data-message-id="#msg-f:{n}"')
    for n in (
        "1790011122233344455",
        "1790011122233399999",
    )
]
MY_FIRST_MESSAGE = _THREAD[_MESSAGES[0] : _MESSAGES[1]]
PRIYAS_MESSAGE_IN_THREAD = _THREAD[_MESSAGES[1] : _MESSAGES[1] + 120]
TOM_CC = ' <span class="g2" email="tom.baker@fabrikam.example" name="Tom Baker"'
PRIYA_TO_ME = TO_ME + TOM_CC
SAM_CHIP = '<span class="g2" email="sam.lee@contoso.example" name="Sam Lee">Sam Lee</span>'
NAMESAKE_FROM = (
    '<span class="gD" email="alex.morgan@fabrikam.example" name="Alex Morgan" '
    'data-hovercard-id="alex.morgan@fabrikam.example">Alex Morgan</span> <span class="go">'
    '<span aria-hidden="true">&lt;</span>alex.morgan@fabrikam.example'
)
LIST_CHIP = (
    '<span class="g2" email="friends@lisbon.example" name="Lisbon friends" '
    'data-hovercard-id="friends@lisbon.example">Lisbon friends</span>'
)


def jane_named(name: str, *more: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    """Jane's profile with ``name`` wherever hers is (heading, title, photo)."""
    return (
        (JANE_H1, JANE_H1.replace("Jane Doe", name)),
        ("(3) Jane Doe | LinkedIn", f"(3) {name} | LinkedIn"),
        ('alt="Jane Doe, #OPEN_TO_WORK"', f'alt="{name}, #OPEN_TO_WORK"'),
        *more,
    )


# Names as people write them on LinkedIn: credentials after a comma, pronouns in brackets, an
# emoji; and a profile in a right-to-left interface (Arabic), its title between direction marks.
# Joiners are part of a name: an emoji sequence (👩‍💻 is three code points joined by U+200D),
# a Persian name's zero-width non-joiner (U+200C).
NAMES_AS_WRITTEN = (
    "Jane Doe, PhD",
    "Jane Doe (She/Her)",
    "Jane Doe 🚀",
    "Dr. Jane Doe, MBA, CPA",
    "Jane Doe 👩\u200d💻",
    "مهسا رضایی\u200cفر",
    "Jane Doe LinkedIn",  # the word alone does not make an unnamed member
    "LinkedIn Lisa",
)
SARA = "سارة الحربي"
RTL_PAGE = (
    ('<html lang="en">', '<html lang="ar" dir="rtl">'),
    ("(3) Jane Doe | LinkedIn", "\u200f(3) \u200f" + SARA + "\u200f | LinkedIn"),
    ("Chief Operating Officer at Northwind Traders", "مديرة العمليات في نورثويند"),
)

# Spoofing: a display name that is someone else's address ("priya.shah@contoso.example"
# <p.shah@mallory.example>). The person is the real address, shown as it is.
SPOOFER = {"name": "p.shah@mallory.example", "email": "p.shah@mallory.example"}
PRIYA_SHOWN = (
    '<span class="gD" email="Priya.Shah@contoso.example" name="Priya Shah" '
    'data-hovercard-id="Priya.Shah@contoso.example">Priya Shah</span> <span class="go">'
    '<span aria-hidden="true">&lt;</span>Priya.Shah@contoso.example'
)
# My first message to Priya, its sender and its recipient, as the thread shows them.
MY_SENDER_SHOWN = PRIYA_SHOWN.replace(
    "Priya.Shah@contoso.example", "alex.morgan@example.com"
).replace("Priya Shah", "Alex Morgan")
PRIYA_CHIP = (
    '<span class="g2" email="Priya.Shah@contoso.example" name="Priya Shah" '
    'data-hovercard-id="Priya.Shah@contoso.example">Priya Shah</span>'
)
PRIYA_SPOOFED = (
    '<span class="gD" email="p.shah@mallory.example" name="priya.shah@contoso.example" '
    'data-hovercard-id="p.shah@mallory.example">priya.shah@contoso.example</span> <span class="go">'
    '<span aria-hidden="true">&lt;</span>p.shah@mallory.example'
)
# Outlook.com's header: the name, then the address as text; in German, in a button's label.
MARIA_SHOWN = (
    'PersonaName-482">María García</span> <span class="meta">&lt;maria.garcia@outlook.example&gt;'
)
LUKAS_SHOWN = (
    'aria-label="Von: Lukas Becker &lt;lukas.becker@contoso.example&gt;">Lukas Becker</button>'
)
MARIA_URL = (
    "https://outlook.live.com/mail/0/inbox/id/AQQkADAwATY3ZmYAZS1lNjQ2LTg5ZTQtMDACLTAwCgAQAJ%2FvE2L"
)
MALLORY_MARIA = {"name": "m.garcia@mallory.example", "email": "m.garcia@mallory.example"}
MALLORY_LUKAS = {"name": "l.becker@mallory.example", "email": "l.becker@mallory.example"}
AVATAR = '<div class="avatar" aria-hidden="true"></div>'


def maria_named(
    name: str, meta: str = "&lt;m.garcia@mallory.example&gt;"
) -> tuple[tuple[str, str], ...]:
    """Outlook.com's header with this display name, then ``meta`` (the address Outlook writes)."""
    return ((MARIA_SHOWN, f'PersonaName-482">{name}</span> <span class="meta">{meta}'),)


def lukas_labelled(name: str, shown: str) -> tuple[tuple[str, str], ...]:
    """The German header: its button, showing ``shown``, labelled "Von: ``name`` <l.becker@...>"."""
    label = f"Von: {name} &lt;l.becker@mallory.example&gt;"
    return ((LUKAS_SHOWN, f'aria-label="{label}">{shown}</button>'),)


# Gmail without the email attributes: the address in the hover card's id, or only in the text
# beside the name.
NO_EMAIL_ATTRIBUTES = tuple(
    (f' email="{a}"', "")
    for a in ("alex.morgan@example.com", "Priya.Shah@contoso.example", "tom.baker@fabrikam.example")
)
PRIYA_NAME_ONLY = PRIYA_SHOWN.replace(
    ' email="Priya.Shah@contoso.example" name="Priya Shah" '
    'data-hovercard-id="Priya.Shah@contoso.example"',
    "",
)
# Gmail's reading pane below the list (split view): the list's rows name other people.
SPLIT_LIST = (
    '<div role="main">\n<table class="F" role="grid"><tbody>'
    + "".join(
        f'<tr class="zA{sel}" role="row"><td class="yX xY"><span class="zF" email="{e}" '
        f'name="{n}" data-hovercard-id="{e}">{n}</span></td><td>{t}</td></tr>'
        for sel, e, n, t in (
            ("", "tom.baker@fabrikam.example", "Tom Baker", "Tickets for the 9th"),
            (" x7", "Priya.Shah@contoso.example", "Priya Shah", "Dinner in Lisbon next month?"),
            ("", "chen.wei@fabrikam.example", "Chen Wei", "Re: Q3 supplier review"),
        )
    )
    + "</tbody></table>"
)
# Gmail in Hebrew: right to left, the account's label with right-to-left marks around my name.
HEBREW = (
    ('<html lang="en">', '<html lang="iw" dir="rtl">'),
    (GMAIL_TITLE, GMAIL_TITLE.replace("Dinner in Lisbon next month?", "ארוחת ערב בליסבון?")),
    ("Google Account: Alex Morgan (", "חשבון Google:\u200f Alex Morgan\u200f ("),
    ('<div class="hb">to ', '<div class="hb">אל '),
    (ALIAS_TO_ME, ALIAS_TO_ME.replace('name="me"', 'name="Alex Morgan"')),
)
# Delegates in the languages Outlook is used in most, and names written "Last, First".
DANIEL_LAST_FIRST = {**DANIEL, "name": "Okafor, Daniel"}

LONG_NAME = "Priya Shah " + " ".join(["Consulting"] * 30)
SAM = {"name": "Sam Lee", "email": "sam.lee@contoso.example"}
# An odd number of UTF-16 units before the emoji: a cut at 200 units would split one.
EMOJI_NAME = "Priya Shah " + "\U0001f33f" * 150

SHOWS = (
    Shows(
        "linkedin-shadow-hashed",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/",
        WEI,
    ),
    Shows(
        "linkedin-shadow-hashed-headline",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/",
        WEI,
        headline=WEI_HEADLINE,
    ),
    Shows(
        "linkedin-top-card-name-in-an-h2",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/",
        WEI,
        headline=WEI_HEADLINE,
        edits=((WEI_H1, WEI_H1.replace("h1", "h2")),),
    ),
    Shows(  # the contact info dialog open over it, its own h1 naming itself
        "linkedin-top-card-name-in-an-h2-contact-info-overlay",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/overlay/contact-info/",
        WEI,
        headline=WEI_HEADLINE,
        edits=(
            (WEI_H1, WEI_H1.replace("h1", "h2")),
            ("</body>", CONTACT_INFO_DIALOG + "</body>"),
        ),
    ),
    Shows(  # a top card naming nobody: a section's title (linking to its details) is no name,
        # and after the last read the card names the person by the URL's slug
        "linkedin-top-card-naming-nobody-a-section-titled-featured",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/",
        {"name": "wei-zhang-7c3d9e", "linkedin": "wei-zhang-7c3d9e"},
        edits=((WEI_H1, ""), (WEI_EXPERIENCE, WEI_EXPERIENCE + FEATURED_SECTION)),
    ),
    Shows(  # a chat bubble's h2 first in the shadow root, linking to someone else
        "linkedin-top-card-name-in-an-h2-chat-bubble-open",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/",
        WEI,
        headline=WEI_HEADLINE,
        edits=((WEI_H1, WEI_H1.replace("h1", "h2")), (WEI_TOP_CARD, CHAT_BUBBLE + WEI_TOP_CARD)),
    ),
    Shows(  # the degree inside the name's heading
        "linkedin-top-card-2025-degree-inside-the-heading",
        "linkedin-profile-classic",
        JANE_URL,
        {"name": "Jane Doe", "linkedin": "jane-doe"},
        headline="Chief Operating Officer at Northwind Traders",
        edits=(
            (
                JANE_ROW,
                JANE_ROW_2025.replace(
                    "Jane Doe</h1>", 'Jane Doe<span class="a6e3b"> · 1st</span></h1>'
                ),
            ),
        ),
    ),
    Shows(
        "linkedin-top-card-2025-badge-pronouns-degree-beside-the-name",
        "linkedin-profile-classic",
        JANE_URL,
        {"name": "Jane Doe", "linkedin": "jane-doe"},
        headline="Chief Operating Officer at Northwind Traders",
        edits=((JANE_ROW, JANE_ROW_2025),),
    ),
    Shows(
        "linkedin-name-says-available",
        "linkedin-profile-public",
        "https://de.linkedin.com/in/lena-fischer-2b7a41",
        {**LENA, "name": LENA_OPEN},
        edits=((">Lena Fischer</h1>", f">{LENA_OPEN}</h1>"),),
    ),
    Shows(
        "linkedin-connection-i-can-recommend",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/",
        WEI,
        edits=((EDIT_INTRO, EDIT_INTRO + RECOMMEND_WEI),),
    ),
    Shows(
        "linkedin-public-country-host",
        "linkedin-profile-public",
        "https://de.linkedin.com/in/lena-fischer-2b7a41",
        LENA,
        headline="Produktmanagerin bei Contoso · Plattformen für den Mittelstand",
    ),
    Shows(
        "linkedin-mwlite",
        "linkedin-profile-mobile",
        "https://www.linkedin.com/mwlite/in/kenji-tanaka-5f2e1a/",
        KENJI,
    ),
    Shows(
        "linkedin-m",
        "linkedin-profile-mobile",
        "https://www.linkedin.com/m/in/Kenji-Tanaka-5f2e1a",
        KENJI,
    ),
    Shows(
        "linkedin-details-sub-page",
        "linkedin-profile-details",
        "https://de.linkedin.com/in/jonas-weber-9d8c7b/details/experience/",
        JONAS,
    ),
    Shows(
        "linkedin-legacy-contact-info",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/detail/contact-info/",
        WEI,
    ),
    Shows(
        "linkedin-contact-info-overlay",
        "linkedin-profile-contact-info",
        "https://www.linkedin.com/in/olivia-brown-3e4f5a/overlay/contact-info/",
        OLIVIA,
    ),
    Shows(
        "linkedin-member-id",
        "linkedin-profile-member-id",
        f"https://www.linkedin.com/in/{RAVI_MEMBER_ID}/",
        RAVI,
        headline="Founder, Proseware Logistics",
        also=({"kind": "linkedin", "value": RAVI_MEMBER_ID},),
    ),
    Shows(
        "linkedin-vanity-profile-also-member-id",
        "linkedin-profile-2026",
        ANA_URL,
        ANA,
        also=({"kind": "linkedin", "value": ANA_MEMBER_ID},),
    ),
    Shows(
        "linkedin-message-thread",
        "linkedin-messaging-thread",
        THREAD_URL,
        MARTA,
        headline="Head of Partnerships at Litware",
        also=({"kind": "linkedin", "value": MARTA_MEMBER_ID},),
    ),
    Shows(
        "linkedin-message-thread-vanity-link-no-data",
        "linkedin-messaging-thread",
        THREAD_URL,
        MARTA,
        headline="Head of Partnerships at Litware",  # the connection degree (" · 2nd") left out
        edits=(
            (f"/in/{MARTA_MEMBER_ID}", f"/in/{MARTA['linkedin']}/"),
            (THREAD_DATA, THREAD_DATA.replace("bpr-guid", "unrelated")),
        ),
    ),
    Shows(
        "linkedin-profile-with-links-to-edit-mine",
        "linkedin-profile-classic",
        JANE_URL,
        {"name": "Jane Doe", "linkedin": "jane-doe"},
        edits=((PEOPLE_ALSO_VIEWED, PEOPLE_ALSO_VIEWED + ADD_A_SKILL),),
    ),
    Shows(
        "linkedin-name-with-a-tagline-after-a-bar",
        "linkedin-profile-classic",
        JANE_URL,
        {"name": "Jane Doe", "linkedin": "jane-doe"},
        headline="Chief Operating Officer at Northwind Traders",
        edits=(
            (JANE_H1, JANE_H1.replace("Jane Doe", "Jane Doe | Board Advisor")),
            ("(3) Jane Doe | LinkedIn", "(3) Jane Doe | Board Advisor | LinkedIn"),
        ),
    ),
    Shows(  # opened from search results, with their tracking parameters
        "linkedin-about-this-profile-overlay",
        "linkedin-profile-classic",
        "https://www.linkedin.com/in/jane-doe/overlay/about-this-profile/?lipi=urn%3Ali%3Apage%3A"
        "d_flagship3_search_srp_all%3B7t2kQ&miniProfileUrn=urn%3Ali%3Afs_miniProfile%3AACoAAB9",
        {"name": "Jane Doe", "linkedin": "jane-doe"},
        headline="Chief Operating Officer at Northwind Traders",
        edits=(("</body>", ABOUT_THIS_PROFILE + "</body>"),),
    ),
    Shows(
        "linkedin-chat-bubble-open-over-a-profile",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/",
        WEI,
        edits=((WEI_TOP_CARD, CHAT_BUBBLE + WEI_TOP_CARD),),
    ),
    *(
        Shows(
            f"linkedin-name-as-written-{i}",
            "linkedin-profile-classic",
            JANE_URL,
            {"name": name, "linkedin": "jane-doe"},
            headline="Chief Operating Officer at Northwind Traders",
            edits=jane_named(name),
        )
        for i, name in enumerate(NAMES_AS_WRITTEN)
    ),
    Shows(
        "linkedin-right-to-left",
        "linkedin-profile-classic",
        JANE_URL,
        {"name": SARA, "linkedin": "jane-doe"},
        headline="مديرة العمليات في نورثويند",
        edits=(
            (JANE_H1, JANE_H1.replace("Jane Doe", SARA)),
            ('alt="Jane Doe, #OPEN_TO_WORK"', f'alt="{SARA}"'),
            *RTL_PAGE,
        ),
    ),
    Shows(
        "gmail-second-account-reply-from-me",
        "gmail-thread-multi-account",
        "https://mail.google.com/mail/u/1/#label/Clients/FMfcgzQbfVNwKdqTpXcRsLmZhBjGwDxS",
        CHEN,
        headline="Q3 supplier review",
        ref="gmail:18e2d3f0c0ffee03",
        initiated_by="me",
    ),
    Shows(
        "gmail-reply-from-my-alias-known-by-name-and-chip",
        "gmail-thread-reply-from-alias",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2c0ffee00a1",
        initiated_by="me",
    ),
    Shows(
        "gmail-reply-from-my-alias-known-by-my-name",
        "gmail-thread-reply-from-alias",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2c0ffee00a1",
        initiated_by="me",
        edits=((ALIAS_TO_ME, ALIAS_TO_ME.replace('name="me"', 'name="Alex Morgan"')),),
    ),
    Shows(  # Gmail in Japanese or Chinese writes the account's parentheses full-width
        "gmail-reply-from-my-alias-known-by-my-name-full-width",
        "gmail-thread-reply-from-alias",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2c0ffee00a1",
        initiated_by="me",
        edits=(
            (ALIAS_TO_ME, ALIAS_TO_ME.replace('name="me"', 'name="Alex Morgan"')),
            ("Google Account: Alex Morgan (alex.morgan@example.com)", FULL_WIDTH_ACCOUNT),
        ),
    ),
    Shows(
        "gmail-reply-from-my-alias-known-by-the-to-me-chip",
        "gmail-thread-reply-from-alias",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2c0ffee00a1",
        initiated_by="me",
        edits=((ALIAS_FROM, ALIAS_FROM.replace("Alex Morgan", "Alex · Morgan Studio")),),
    ),
    # The chip in Gmail's other languages: "an mich", "à moi", "para mí", "aan mij", "To 自分",
    # "发送至 我", "мне".
    *(
        Shows(
            f"gmail-reply-from-my-alias-known-by-the-to-me-chip-{lang}",
            "gmail-thread-reply-from-alias",
            GMAIL_URL,
            PRIYA,
            ref="gmail:18d4f2c0ffee00a1",
            initiated_by="me",
            edits=(
                ('<html lang="en">', f'<html lang="{lang}">'),
                (ALIAS_FROM, ALIAS_FROM.replace("Alex Morgan", "Alex · Morgan Studio")),
                (ALIAS_TO_ME, ALIAS_TO_ME.replace('"me"', f'"{me}"').replace(">me<", f">{me}<")),
            ),
        )
        for lang, me in [
            ("de", "mich"),
            ("fr", "moi"),
            ("es", "mí"),
            ("pt-BR", "mim"),
            ("nl", "mij"),
            ("ja", "自分"),
            ("zh-CN", "我"),
            ("ru", "мне"),
            ("it", "me"),  # "a me"
            ("fi", "me"),  # a language without words of its own here: the English one
        ]
    ),
    Shows(
        "gmail-someone-of-my-name-writing-to-me",
        "gmail-thread",
        GMAIL_URL,
        NAMESAKE,
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=(
            (
                '<span class="gD" email="Priya.Shah@contoso.example" name="Priya Shah"',
                '<span class="gD" email="alex.morgan@fabrikam.example" name="Alex Morgan"',
            ),
        ),
    ),
    # Someone of my name wrote to a list, then to me: a namesake, whose message the card is about.
    Shows(
        "gmail-someone-of-my-name-writing-to-a-list-then-to-me",
        "gmail-thread",
        GMAIL_URL,
        NAMESAKE,
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=(
            (MY_SENDER_SHOWN, NAMESAKE_FROM),
            ("to " + PRIYA_CHIP, "to " + LIST_CHIP),
            (PRIYA_SHOWN, NAMESAKE_FROM),
        ),
    ),
    # My send-as alias replying to Priya, who wrote to my main address: nobody mailed the alias, so
    # it may as well be someone else of my name; the card is about Priya's message.
    Shows(
        "gmail-reply-from-my-alias-nobody-mailed",
        "gmail-thread-reply-from-alias",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=((ALIAS_TO_ME, MAIN_TO_ME),),
    ),
    Shows(
        "gmail-a-draft-of-mine-at-the-end-of-the-thread",
        "gmail-thread",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=((THREAD_END, MY_DRAFT + THREAD_END),),
    ),
    Shows(
        "gmail-older-messages-folded",
        "gmail-thread",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=((PRIYAS_MESSAGE_IN_THREAD, FOLDED_ROWS + PRIYAS_MESSAGE_IN_THREAD),),
    ),
    Shows(
        "gmail-a-name-with-via-in-it",
        "gmail-thread",
        GMAIL_URL,
        {"name": "Ana Via Lopez", "email": "ana.via@contoso.example"},
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=(
            (
                '<span class="gD" email="Priya.Shah@contoso.example" name="Priya Shah"',
                '<span class="gD" email="ana.via@contoso.example" name="Ana Via Lopez"',
            ),
        ),
    ),
    Shows(
        "gmail-popped-out-view-btop",
        "gmail-thread",
        POPPED_OUT,
        PRIYA,
        headline="Dinner in Lisbon next month?",
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=((GMAIL_HEADER, ""),),
    ),
    Shows(
        "gmail-popout-reply-from-me-no-address-but-to-me",
        "gmail-thread-reply-from-me",
        account(POPOUT, 6),
        PRIYA,
        ref="gmail:18d4f2c0ffee0001",
        initiated_by="me",
        edits=(
            (GMAIL_HEADER, ""),
            (GMAIL_TITLE, "<title>Dinner in Lisbon next month?</title>"),
            (
                TO_ME,
                TO_ME.replace('name="Alex Morgan"', 'name="me"').replace(">Alex Morgan<", ">me<"),
            ),
        ),
    ),
    Shows(
        "gmail-my-replies-only-shown",
        "gmail-thread-reply-from-me",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2c0ffee0001",
        initiated_by="me",
        edits=((PRIYAS_MESSAGE, ""),),
    ),
    Shows(
        "gmail-a-thread-i-started-without-an-answer",
        "gmail-thread-reply-from-me",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2a9c3b7e001",
        initiated_by="me",
        edits=((PRIYAS_MESSAGE + MY_FOLLOW_UP, ""),),
    ),
    Shows(
        "gmail-my-follow-up-from-an-alias-nobody-mailed",
        "gmail-thread-reply-from-me",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2a9c3b7e001",
        initiated_by="me",
        edits=((PRIYAS_MESSAGE + MY_FOLLOW_UP, FROM_MY_ALIAS),),
    ),
    Shows(
        "gmail-split-view-reading-pane-below-the-list",
        "gmail-thread",
        GMAIL_URL,
        PRIYA,
        headline="Dinner in Lisbon next month?",
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=(('<div role="main">', SPLIT_LIST),),
    ),
    Shows(
        "gmail-hebrew-right-to-left-reply-from-my-alias",
        "gmail-thread-reply-from-alias",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2c0ffee00a1",
        initiated_by="me",
        edits=HEBREW,
    ),
    Shows(
        "gmail-sender-name-is-another-address",
        "gmail-thread",
        GMAIL_URL,
        SPOOFER,
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=((PRIYA_SHOWN, PRIYA_SPOOFED),),
    ),
    Shows(
        "gmail-no-email-attributes-reply-from-me",
        "gmail-thread-reply-from-me",
        GMAIL_URL,
        PRIYA,
        ref="gmail:18d4f2c0ffee0001",
        initiated_by="me",
        edits=NO_EMAIL_ATTRIBUTES,
    ),
    Shows(
        "gmail-sender-address-only-beside-the-name",
        "gmail-thread",
        GMAIL_URL,
        {**PRIYA, "name": "Priya Shah"},
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=((PRIYA_SHOWN, PRIYA_NAME_ONLY),),
    ),
    # Odd pages the sites produce: a name written as HTML (shown as text), a very long name (kept
    # to 200 characters), and mail I forwarded (the person is whom I forwarded it to, never the
    # sender quoted in it).
    Shows(
        "gmail-sender-name-written-as-html",
        "gmail-thread",
        GMAIL_URL,
        {**PRIYA, "name": "<img src=x onerror=alert(1)>Priya Shah"},
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=(
            (
                PRIYA_SHOWN,
                PRIYA_SHOWN.replace(
                    'name="Priya Shah"', 'name="&lt;img src=x onerror=alert(1)&gt;Priya Shah"'
                ),
            ),
        ),
    ),
    Shows(
        "gmail-very-long-sender-name",
        "gmail-thread",
        GMAIL_URL,
        {**PRIYA, "name": LONG_NAME[:200]},
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=((PRIYA_SHOWN, PRIYA_SHOWN.replace("Priya Shah", LONG_NAME)),),
    ),
    Shows(
        "gmail-forwarded-by-me",
        "gmail-thread-reply-from-me",
        GMAIL_URL,
        SAM,
        ref="gmail:18d4f2c0ffee0001",
        initiated_by="me",
        edits=(
            (
                '<div class="hb">to <span class="g2" email="Priya.Shah@contoso.example" '
                'name="Priya Shah" data-hovercard-id="Priya.Shah@contoso.example">Priya Shah</span>'
                ', cc: <span class="g2" email="tom.baker@fabrikam.example" name="Tom Baker" '
                'data-hovercard-id="tom.baker@fabrikam.example">Tom Baker</span>',
                f'<div class="hb">to {SAM_CHIP}',
            ),
            (
                "<p>Perfect, the 9th at 8pm then. Tom, great to meet you soon.</p>",
                "<p>---------- Forwarded message ---------<br>From: Priya Shah "
                "&lt;Priya.Shah@contoso.example&gt;<br>To: Alex Morgan</p>",
            ),
        ),
    ),
    # Gmail in English: a recipient whose name is what another language calls me is not me.
    *(
        Shows(
            f"gmail-english-reply-from-me-to-someone-named-{name.lower()}",
            "gmail-thread-reply-from-me",
            GMAIL_URL,
            {"name": name, "email": f"{name.lower()}@lisbon.example"},
            ref="gmail:18d4f2c0ffee0001",
            initiated_by="me",
            edits=(
                (
                    'email="Priya.Shah@contoso.example" name="Priya Shah" '
                    'data-hovercard-id="Priya.Shah@contoso.example">Priya Shah</span>, cc:',
                    f'email="{name.lower()}@lisbon.example" name="{name}">{name}</span>, cc:',
                ),
            ),
        )
        for name in ("Meg", "Ich", "Moi", "Ja")
    ),
    Shows(
        "outlook-sent-by-me-forwarded",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        AMARA,
        ref=outlook_ref(ITEM_SENT),
        initiated_by="me",
        edits=(
            (
                "<p>Hi Amara,</p>",
                '<p>Hi Amara,</p><div id="divRplyFwdMsg"><b>From:</b> Daniel Okafor &lt;'
                '<a href="mailto:daniel.okafor@northwind.example">daniel.okafor@northwind.example'
                "</a>&gt;</div>",
            ),
        ),
    ),
    Shows(
        "outlook-external-sender-tag-beside-the-name",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        DANIEL,
        ref=outlook_ref(ITEM_PATH),
        edits=((f"{DANIEL_SENDS}</span>", f"{DANIEL_SENDS}{EXTERNAL_TAG}</span>"),),
    ),
    Shows(  # the address written after the name, as the newer Outlook does, then the tag
        "outlook-external-sender-tag-after-the-address",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        DANIEL,
        ref=outlook_ref(ITEM_PATH),
        edits=(
            (
                f"{DANIEL_SENDS}</span>",
                '<span class="OZZZK">Daniel Okafor</span> <span class="c8">'
                f"&lt;daniel.okafor@northwind.example&gt;</span>{EXTERNAL_TAG}</span>",
            ),
        ),
    ),
    Shows(  # my newest message open, a draft of my next one below it: the person is Sofia
        "outlook-conversation-newest-on-bottom-mine-then-a-draft-of-mine",
        "outlook-conversation-newest-on-bottom",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_CONVERSATION}",
        SOFIA,
        ref=outlook_ref(ITEM_CONVERSATION),
        initiated_by="me",
        edits=(
            (
                SOFIA_OPEN,
                SOFIA_OPEN.replace(
                    "sofia.rossi@fabrikam.example", "alex.morgan@contoso.example"
                ).replace("Sofia Rossi", "Alex Morgan"),
            ),
            (TO_ALEX, 'To: <span title="sofia.rossi@fabrikam.example">Sofia Rossi</span>'),
            ("\n    </div>\n  </div>\n</div>\n</body>", MY_DRAFT_REPLY),
        ),
    ),
    Shows(  # a reply being written under the message: not a draft message of its own
        "outlook-message-with-a-reply-being-written-below",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        DANIEL,
        ref=outlook_ref(ITEM_PATH),
        edits=(
            (
                "<p>Thanks,<br>Daniel</p></div>",
                '<p>Thanks,<br>Daniel</p></div><div class="body" role="textbox" '
                'contenteditable="true" aria-label="Message body"><p>Thanks Daniel,</p></div>',
            ),
        ),
    ),
    Shows(
        "outlook-very-long-sender-name",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        {**DANIEL, "name": LONG_NAME.replace("Priya Shah", "Daniel Okafor")[:200]},
        ref=outlook_ref(ITEM_PATH),
        edits=(
            (
                DANIEL_SENDS,
                DANIEL_SENDS.replace(
                    ">Daniel Okafor<", f">{LONG_NAME.replace('Priya Shah', 'Daniel Okafor')}<"
                ),
            ),
        ),
    ),
    # Cut to what the ledger keeps, 200 characters, never inside one (an emoji is two UTF-16 units).
    Shows(
        "gmail-very-long-sender-name-with-emoji",
        "gmail-thread",
        GMAIL_URL,
        {**PRIYA, "name": EMOJI_NAME[:200]},
        ref="gmail:18d4f2b7a1c2d3e4",
        edits=((PRIYA_SHOWN, PRIYA_SHOWN.replace("Priya Shah", EMOJI_NAME)),),
    ),
    Shows(
        "outlook-very-long-sender-name-with-emoji",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        {**DANIEL, "name": EMOJI_NAME.replace("Priya", "Dan")[:200]},
        ref=outlook_ref(ITEM_PATH),
        edits=(
            (
                DANIEL_SENDS,
                DANIEL_SENDS.replace(">Daniel Okafor<", f">{EMOJI_NAME.replace('Priya', 'Dan')}<"),
            ),
        ),
    ),
    Shows(
        "outlook-live-localized-pane",
        "outlook-message-localized",
        f"https://outlook.live.com/mail/0/inbox/id/{ITEM_LIVE}",
        LUKAS,
        headline="Angebot Wartungsvertrag 2027",
        ref=outlook_ref(ITEM_LIVE),
    ),
    Shows(
        "outlook-deeplink-path",
        "outlook-message-deeplink",
        f"https://outlook.office.com/mail/deeplink/read/{ITEM_PATH}",
        SOFIA,
        headline=VENUES,
        ref=outlook_ref(ITEM_PATH),
    ),
    Shows(
        "outlook-deeplink-query",
        "outlook-message-deeplink",
        f"https://outlook.office.com/mail/deeplink/read?ItemID={ITEM_QUERY}&exvsurl=1",
        SOFIA,
        headline=VENUES,
        ref=outlook_ref(ITEM_QUERY),
    ),
    Shows(
        "outlook-owa-itemid",
        "outlook-message-deeplink",
        f"https://outlook.office365.com/owa/?ItemID={ITEM_OWA}&exvsurl=1&viewmodel=ReadMessageItem",
        SOFIA,
        headline=VENUES,
        ref=outlook_ref(ITEM_OWA),
    ),
    Shows(
        "outlook-cloud-inbox",
        "outlook-message",
        f"https://outlook.cloud.microsoft/mail/inbox/id/{ITEM_CLOUD}",
        DANIEL,
        headline="Board deck: your comments by Friday?",
        ref=outlook_ref(ITEM_CLOUD),
    ),
    Shows(
        "outlook-sent-by-me",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        AMARA,
        headline="Re: Board deck: your comments by Friday?",
        ref=outlook_ref(ITEM_SENT),
        initiated_by="me",
    ),
    Shows(  # the To line's label: one recipient by name and <address>, one by bare address
        "outlook-sent-by-me-to-line-mixing-bracketed-and-bare-addresses",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        {"name": AMARA["email"], "email": AMARA["email"]},
        ref=outlook_ref(ITEM_SENT),
        initiated_by="me",
        edits=(
            (
                '"ToLine">To: <span title="amara.nwosu@northwind.example">Amara Nwosu</span>',
                '"ToLine" aria-label="To: Alex Morgan &lt;alex.morgan@contoso.example&gt;; '
                'amara.nwosu@northwind.example">To: <span>Alex Morgan</span>; '
                "<span>amara.nwosu@northwind.example</span>",
            ),
        ),
    ),
    # A recipient's display name holding an address of theirs: the person is the address in
    # brackets after it; of several recipients in one label, each one's address counts.
    *(
        Shows(
            f"outlook-sent-by-me-to-{how}",
            "outlook-message-sent",
            f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
            person,
            ref=outlook_ref(ITEM_SENT),
            initiated_by="me",
            edits=(
                (
                    '"ToLine">To: <span title="amara.nwosu@northwind.example">Amara Nwosu</span>',
                    f'"ToLine">To: <span title="{title}">{person["name"]}</span>',
                ),
            ),
        )
        for how, person, title in [
            (
                "a-name-holding-an-old-address",
                {"name": "Jane Doe", "email": "jane.doe@new.example"},
                "Jane Doe (jane.doe@old.example) &lt;jane.doe@new.example&gt;",
            ),
            (
                "me-and-a-name-holding-an-address",
                {"name": "Amara Nwosu", "email": AMARA["email"]},
                "Alex Morgan &lt;alex.morgan@contoso.example&gt;, Amara Nwosu "
                "(amara.nwosu@northwind.example)",
            ),
        ]
    ),
    Shows(
        "outlook-sent-by-me-account-menu-never-opened",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        AMARA,
        ref=outlook_ref(ITEM_SENT),
        initiated_by="me",
        edits=((ACCOUNT_MENU, ""),),
    ),
    Shows(
        "outlook-sent-by-me-account-menu-never-opened-german-title",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        AMARA,
        ref=outlook_ref(ITEM_SENT),
        initiated_by="me",
        edits=(
            (ACCOUNT_MENU, ""),
            (
                "<title>Mail - Alex Morgan - Outlook</title>",
                "<title>E-Mail – Alex Morgan – Outlook</title>",
            ),
        ),
    ),
    Shows(
        "outlook-from-someone-of-my-name",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        NAMESAKE,
        ref=outlook_ref(ITEM_PATH),
        edits=((DANIEL_SENDS, NAMESAKE_SENDS),),
    ),
    Shows(
        "outlook-from-someone-of-my-name-account-menu-never-opened",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        NAMESAKE,
        ref=outlook_ref(ITEM_PATH),
        edits=((DANIEL_SENDS, NAMESAKE_SENDS), (ACCOUNT_MENU, "")),
    ),
    Shows(  # my alias (nobody mailed it) replied to Kim, newest on top: the person is Kim
        "outlook-conversation-reply-from-my-alias-nobody-mailed",
        "outlook-conversation-newest-on-top",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_CONVERSATION}",
        {"name": "Kim Lee", "email": "kim.lee@northwind.example"},
        headline=OFFSITE,
        ref=outlook_ref(ITEM_CONVERSATION),
        edits=(
            (
                SOFIA_OPEN,
                SOFIA_OPEN.replace("sofia.rossi@fabrikam.example", ALIAS).replace(
                    "Sofia Rossi", "Alex Morgan"
                ),
            ),
            (TO_ALEX, 'To: <span title="kim.lee@northwind.example">Kim Lee</span>'),
            (ALEX_FOLDED, KIM_OPEN),
        ),
    ),
    Shows(  # ... and I wrote to Sofia before, from my main address: the person is Sofia
        "outlook-conversation-reply-from-my-alias-nobody-mailed-after-mine",
        "outlook-conversation-newest-on-top",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_CONVERSATION}",
        SOFIA,
        headline=OFFSITE,
        ref=outlook_ref(ITEM_CONVERSATION),
        initiated_by="me",
        edits=(
            (
                SOFIA_OPEN,
                SOFIA_OPEN.replace("sofia.rossi@fabrikam.example", ALIAS).replace(
                    "Sofia Rossi", "Alex Morgan"
                ),
            ),
            (TO_ALEX, 'To: <span title="kim.lee@northwind.example">Kim Lee</span>'),
            (
                ALEX_FOLDED,
                KIM_OPEN.replace("kim.lee@northwind.example", "alex.morgan@contoso.example")
                .replace("Kim Lee", "Alex Morgan")
                .replace(
                    TO_ALEX, 'To: <span title="sofia.rossi@fabrikam.example">Sofia Rossi</span>'
                ),
            ),
        ),
    ),
    Shows(
        "outlook-shared-mailbox-sent-by-me",
        "outlook-shared-mailbox",
        f"https://outlook.office.com/mail/sales@contoso.example/sentitems/id/{ITEM_SHARED}",
        HIRO,
        headline="Your quote for 40 licences",
        ref=outlook_ref(ITEM_SHARED),
        initiated_by="me",
    ),
    Shows(
        "outlook-sent-on-behalf-of",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        DANIEL,
        ref=outlook_ref(ITEM_PATH),
        edits=((DANIEL_SENDS, f"{KIM_SENDS} on behalf of {DANIEL_SENDS}"),),
    ),
    # Outlook in Swedish, Chinese (with or without spaces) and Japanese.
    *(
        Shows(
            f"outlook-sent-on-behalf-of-in-{lang}",
            "outlook-message",
            f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
            DANIEL,
            ref=outlook_ref(ITEM_PATH),
            edits=((DANIEL_SENDS, f"{KIM_SENDS}{phrase}{DANIEL_SENDS}"),),
        )
        for lang, phrase in [
            ("swedish", " för "),
            ("chinese", " 代表 "),
            ("chinese-unspaced", "代表"),
            ("japanese", "が次の人の代理で送信しました: "),
        ]
    ),
    # "för", "代表" also in names ("Centrum för ...", "... 代表处"): in a sender's name, not between
    # two, they say nothing of a delegate.
    *(
        Shows(
            f"outlook-{lang}-name-with-the-on-behalf-word-in-it",
            "outlook-message",
            f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
            {"name": name, "email": "info@cfh.example"},
            ref=outlook_ref(ITEM_PATH),
            edits=(
                (
                    DANIEL_SENDS,
                    DANIEL_SENDS.replace(
                        "daniel.okafor@northwind.example", "info@cfh.example"
                    ).replace("Daniel Okafor", name),
                ),
            ),
        )
        for lang, name in [("swedish", "Centrum för hälsa"), ("chinese", "健康中心北京代表处")]
    ),
    # The same names on Outlook.com, the address beside the name rather than on it.
    *(
        Shows(
            f"outlook-live-{lang}-name-with-the-on-behalf-word-in-it",
            "outlook-message-live",
            MARIA_URL,
            {"name": name, "email": "info@cfh.example"},
            edits=maria_named(name, "&lt;info@cfh.example&gt;"),
        )
        for lang, name in [("swedish", "Centrum för hälsa"), ("chinese", "健康中心北京代表处")]
    ),
    Shows(  # a delegate whose own name holds the word
        "outlook-sent-on-behalf-of-by-a-delegate-whose-name-holds-the-word",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        DANIEL,
        ref=outlook_ref(ITEM_PATH),
        edits=(
            (
                DANIEL_SENDS,
                KIM_SENDS.replace("kim.lee@northwind", "info@cfh").replace(
                    "Kim Lee", "Centrum för hälsa"
                )
                + f" on behalf of {DANIEL_SENDS}",
            ),
        ),
    ),
    Shows(
        "outlook-sent-on-behalf-of-addresses-in-text",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        DANIEL,
        ref=outlook_ref(ITEM_PATH),
        edits=(
            (
                DANIEL_SENDS,
                '<span class="OZZZK">Kim Lee &lt;kim.lee@northwind.example&gt; im Auftrag von '
                "Daniel Okafor &lt;daniel.okafor@northwind.example&gt;</span>",
            ),
        ),
    ),
    Shows(
        "outlook-conversation-newest-on-top",
        "outlook-conversation-newest-on-top",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_CONVERSATION}",
        SOFIA,
        headline=OFFSITE,
        ref=outlook_ref(ITEM_CONVERSATION),
    ),
    Shows(
        "outlook-conversation-newest-on-bottom",
        "outlook-conversation-newest-on-bottom",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_CONVERSATION}",
        SOFIA,
        headline=OFFSITE,
        ref=outlook_ref(ITEM_CONVERSATION),
    ),
    *(
        Shows(
            f"outlook-conversation-two-open-newest-on-{order}",
            f"outlook-conversation-newest-on-{order}",
            f"https://outlook.office.com/mail/inbox/id/{ITEM_CONVERSATION}",
            SOFIA,
            headline=OFFSITE,
            ref=outlook_ref(ITEM_CONVERSATION),
            edits=((ALEX_FOLDED, KIM_OPEN),),
        )
        for order in ("bottom", "top")
    ),
    Shows(
        "outlook-conversation-newest-on-bottom-mine",
        "outlook-conversation-newest-on-bottom",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_CONVERSATION}",
        SOFIA,
        headline=OFFSITE,
        ref=outlook_ref(ITEM_CONVERSATION),
        initiated_by="me",
        edits=(
            (
                SOFIA_OPEN,
                SOFIA_OPEN.replace(
                    "sofia.rossi@fabrikam.example", "alex.morgan@contoso.example"
                ).replace("Sofia Rossi", "Alex Morgan"),
            ),
            (TO_ALEX, 'To: <span title="sofia.rossi@fabrikam.example">Sofia Rossi</span>'),
        ),
    ),
    # The display name is free text: whatever it holds (an address ending in an invisible direction
    # mark, a comma or a bracket; an address in brackets of its own), the address Outlook writes
    # after it, last, is the sender's.
    *(
        Shows(
            f"outlook-live-sender-name-is-another-address{ending}",
            "outlook-message-live",
            MARIA_URL,
            MALLORY_MARIA,
            edits=maria_named(f"maria.garcia@outlook.example{tail}"),
        )
        for ending, tail in [
            ("", ""),
            ("-and-a-direction-mark", "\u200e"),
            ("-and-a-comma", ","),
            ("-and-a-bracket", "&gt;"),
        ]
    ),
    *(
        Shows(
            f"outlook-localized-sender-label-name-is-another-address{ending}",
            "outlook-message-localized",
            f"https://outlook.live.com/mail/0/inbox/id/{ITEM_LIVE}",
            MALLORY_LUKAS,
            ref=outlook_ref(ITEM_LIVE),
            edits=lukas_labelled(
                f"lukas.becker@contoso.example{tail}", "lukas.becker@contoso.example"
            ),
        )
        for ending, tail in [("", ""), ("-and-a-direction-mark", "\u200e")]
    ),
    Shows(
        "outlook-live-sender-name-holds-another-address-in-brackets",
        "outlook-message-live",
        MARIA_URL,
        {"name": "Bank CEO", "email": "m.garcia@mallory.example"},
        edits=maria_named("Bank CEO &lt;maria.garcia@outlook.example&gt;"),
    ),
    Shows(
        "outlook-localized-sender-label-name-holds-another-address-in-brackets",
        "outlook-message-localized",
        f"https://outlook.live.com/mail/0/inbox/id/{ITEM_LIVE}",
        {"name": "Bank CEO", "email": "l.becker@mallory.example"},
        ref=outlook_ref(ITEM_LIVE),
        edits=lukas_labelled("Bank CEO &lt;lukas.becker@contoso.example&gt;", "Bank CEO"),
    ),
    # A sender shown by address alone, on the from line itself: that address, not another one
    # before the line (an avatar labelled with my mailbox).
    Shows(
        "outlook-live-sender-shown-by-address-alone",
        "outlook-message-live",
        MARIA_URL,
        {"name": "maria.garcia@outlook.example", "email": "maria.garcia@outlook.example"},
        edits=maria_named("maria.garcia@outlook.example", meta=""),
    ),
    Shows(
        "outlook-live-sender-shown-by-address-alone-beside-an-avatar-labelled-with-mine",
        "outlook-message-live",
        MARIA_URL,
        {"name": "maria.garcia@outlook.example", "email": "maria.garcia@outlook.example"},
        edits=(
            *maria_named("maria.garcia@outlook.example", meta=""),
            (AVATAR, '<div class="avatar" aria-label="Mailbox of alex.morgan@outlook.com"></div>'),
        ),
    ),
    # Outlook writes an address as the name only for a sender without one: an address shown before
    # the line (here an avatar's label) is something else's, never taken over the line's.
    Shows(
        "outlook-live-sender-shown-by-address-alone-beside-an-avatar-labelled-with-another",
        "outlook-message-live",
        MARIA_URL,
        {"name": "maria.garcia@outlook.example", "email": "maria.garcia@outlook.example"},
        edits=(
            *maria_named("maria.garcia@outlook.example", meta=""),
            (AVATAR, '<div class="avatar" title="m.garcia@mallory.example"></div>'),
        ),
    ),
    # A from line that starts with its label, in Outlook's languages: the name is what follows.
    *(
        Shows(
            f"outlook-from-line-labelled-in-{lang}",
            "outlook-message",
            f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
            DANIEL,
            ref=outlook_ref(ITEM_PATH),
            edits=((f"<span>{DANIEL_SENDS}", f"<span>{label} {DANIEL_SENDS}"),),
        )
        for lang, label in [
            ("english", "From:"),
            ("swedish", "Från:"),
            ("japanese", "差出人:"),
            ("chinese", "发件人："),
            ("arabic", "من:"),
            ("korean", "보낸 사람:"),
            ("german", "Von:"),
            ("russian", "От кого:"),
            ("chinese-traditional", "寄件者："),
            ("turkish", "Kimden:"),
            ("estonian", "Saatja:"),
            ("lithuanian", "Nuo:"),
            ("icelandic", "Frá:"),
            ("hindi", "प्रेषक:"),
            ("persian", "از:"),
        ]
    ),
    # A name with a colon of its own is not a label, with or without one before it.
    *(
        Shows(
            f"outlook-sender-name-with-a-colon-{n}{'-labelled' if label else ''}",
            "outlook-message",
            f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
            {"name": name, "email": "team7@northwind.example"},
            ref=outlook_ref(ITEM_PATH),
            edits=(
                (
                    f"<span>{DANIEL_SENDS}",
                    f"<span>{label}"
                    + DANIEL_SENDS.replace(
                        "daniel.okafor@northwind.example", "team7@northwind.example"
                    ).replace("Daniel Okafor", name),
                ),
            ),
        )
        for n, name in [("english", "Team 7: Ops"), ("japanese-full-width", "営業部：山田")]
        for label in ("", "From: ")
    ),
    Shows(
        "outlook-sent-on-behalf-of-in-portuguese-last-first",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        DANIEL_LAST_FIRST,
        ref=outlook_ref(ITEM_PATH),
        edits=(
            (
                DANIEL_SENDS,
                KIM_SENDS.replace("Kim Lee", "Lee, Kim")
                + " em nome de "
                + DANIEL_SENDS.replace("Daniel Okafor", "Okafor, Daniel"),
            ),
            ("To: ", "Para: "),
        ),
    ),
    Shows(  # Hebrew, right to left: the title's parts wrapped in direction marks
        "outlook-sent-by-me-hebrew-right-to-left-account-menu-never-opened",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        AMARA,
        ref=outlook_ref(ITEM_SENT),
        initiated_by="me",
        edits=(
            ('<html lang="en">', '<html lang="he" dir="rtl">'),
            ("Mail - Alex Morgan - Outlook", "דואר\u200f - \u200fAlex Morgan\u200f - Outlook"),
            ('aria-label="Reading Pane"', 'aria-label="חלונית קריאה"'),
            ("To: <span", "אל: <span"),
            ("Cc: <span", "עותק: <span"),
            (ACCOUNT_MENU, ""),
        ),
    ),
    Shows(
        "outlook-sent-by-me-swedish-last-first",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        {**AMARA, "name": "Nwosu, Amara"},
        ref=outlook_ref(ITEM_SENT),
        initiated_by="me",
        edits=(
            ("To: <span", "Till: <span"),
            (">Amara Nwosu</span>", ">Nwosu, Amara</span>"),
            ("Cc: <span", "Kopia: <span"),
            ("Mail - Alex Morgan - Outlook", "E-post – Morgan, Alex – Outlook"),
            (">Alex Morgan</span>", ">Morgan, Alex</span>"),
            (ACCOUNT_MENU, ""),
        ),
    ),
)

# (id, fixture, url): pages without a person the card could name.
NOBODY = (
    ("gmail-second-account-inbox", "gmail-inbox-list", "https://mail.google.com/mail/u/1/#inbox"),
    (
        "gmail-label-list",
        "gmail-inbox-list",
        "https://mail.google.com/mail/u/1/#label/Clients",
    ),
    ("linkedin-messaging-list", "linkedin-feed", "https://www.linkedin.com/messaging/"),
    ("outlook-cloud-folder", "outlook-folder-empty", "https://outlook.cloud.microsoft/mail/inbox"),
    (
        "outlook-compose-deeplink",
        "outlook-folder-empty",
        "https://outlook.live.com/mail/0/deeplink/compose?to=sofia.rossi%40fabrikam.example",
    ),
)


@pytest.fixture(scope="module")
def chromium(live_api, chromium_ext):  # live_api first: it boots meanwhile
    chromium_ext.configure(live_api.url, token=live_api.token).close()
    return chromium_ext


@pytest.fixture
def tab(chromium):
    p = chromium.new_page()
    yield p
    p.close()


def serve(chromium, url: str, fixture: str | None = None, **page) -> None:
    """The usual routes plus ``fixture`` (or ``html=...``) at ``url`` (any query, hash or
    sub-path)."""
    route_all(chromium)
    chromium.serve_site(url.split("#")[0].split("?")[0].rstrip("/") + "**", fixture, **page)


def edited(fixture: str, edits: dict[str, str]) -> str:
    """The fixture's page with each text replaced (each must be in it)."""
    html = (SITE_FIXTURES_DIR / f"{fixture}.html").read_text()
    for old, new in edits.items():
        assert old in html, old
        html = html.replace(old, new)
    return html


def assert_no_card(chromium, tab) -> None:
    tab.wait_for_timeout(1200)  # well past the content script's first read
    # A message's page shows "Looking up…" while it reads; finding nobody, it removes the card.
    overlay = chromium.overlay(tab)
    wait_until(lambda: not overlay.exists(), timeout=10, message=lambda: str(overlay.describe()))


def no_card_in_any(chromium, variants, request, after: float) -> dict[str, Exception | None]:
    """Each variant (id, fixture, url[, edits]) opened in a tab of its own, all at once; each tab,
    ``after`` seconds past its load, then must show no card within 10 s (as ``assert_no_card``).

    One wait for all the tabs instead of one per variant. Every tab stays in the foreground
    (headless Chromium: each page visible and focused, its timers, animation frames and mutation
    observers running as in the only one), and is served its own page: the routes are read when
    a tab loads, so each variant's page is routed just before its tab opens. Only the variants
    of the tests selected in this session are opened. -> {id: None, or the error to raise}.
    """
    selected = {
        item.callspec.params["variant"]
        for item in request.session.items
        if request.fixturename in getattr(item, "fixturenames", ())
        and item.module is request.module
    }
    outcome: dict[str, Exception | None] = {}
    opened = []  # (id, tab, loaded at)
    try:
        for vid, fixture, url, *edits in variants:
            if vid not in selected:
                continue
            try:
                if edits:
                    serve(chromium, url, html=edited(fixture, *edits))
                else:
                    serve(chromium, url, fixture)
                tab = chromium.new_page()
                opened.append((vid, tab, None))
                chromium.open(url, tab)
                opened[-1] = (vid, tab, time.monotonic())
            except Exception as exc:  # this variant fails, the others go on
                outcome[vid] = exc
        pending = {vid: (tab, at + after, None) for vid, tab, at in opened if at}
        overlays = {}
        while pending:
            now = time.monotonic()
            for vid, (tab, start, last) in list(pending.items()):
                if now < start:
                    continue
                try:
                    if vid not in overlays:
                        overlays[vid] = chromium.overlay(tab)
                    if not overlays[vid].exists():
                        outcome[vid] = None
                        del pending[vid]
                        continue
                    last = None
                except Exception as exc:  # reported on timeout, as by wait_until
                    last = exc
                if now >= start + 10:
                    text = str(overlays[vid].describe()) if vid in overlays else "(no overlay)"
                    if last is not None:
                        text += f" (last error: {last!r})"
                    outcome[vid] = AssertionError(f"timed out after 10.0s: {text}")
                    try:
                        label = f"FAILED-site_variants-{request.fixturename}-{vid}"
                        tab.screenshot(path=str(screenshot_path(label)))
                    except Exception:
                        pass
                    del pending[vid]
                else:
                    pending[vid] = (tab, start, last)
            time.sleep(0.1)
    finally:
        for _vid, tab, _at in opened:
            tab.close()
    return outcome


def forget(api, person: dict[str, str]) -> None:
    """Start from a ledger that does not know ``person`` (variants share some people)."""
    found = lookup(api, person)["contact"]
    if found:
        api.request("DELETE", f"/api/v1/contacts/{found['id']}").raise_for_status()


@pytest.mark.parametrize("v", [pytest.param(v, id=v.id) for v in SHOWS])
def test_variant_shows_the_person_on_screen(chromium, tab, live_api, v: Shows, shot):
    forget(live_api, v.person)
    if v.edits:
        serve(chromium, v.url, html=edited(v.fixture, dict(v.edits)))
    else:
        serve(chromium, v.url, v.fixture)
    chromium.open(v.url, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown")
    assert ov.field("name") == v.person["name"], ov.describe()
    if v.headline:
        assert ov.field("headline") == v.headline, ov.describe()
    ov.screenshot(shot("unknown"))

    ov.click("log")
    ov.wait_for_state("known")
    found = wait_until(
        lambda: lookup(live_api, v.person)["contact"],
        timeout=10,
        message=f"no contact under {v.person} after the click",
    )
    assert found["name"] == v.person["name"]
    for identity in v.also:
        assert identity in found["identities"], found["identities"]
    [logged] = live_api.interactions(found["id"])
    if v.ref:
        assert logged["kind"] == "email"
        assert logged["external_ref"] == v.ref
        assert logged["initiated_by"] == v.initiated_by


@pytest.fixture(scope="module")
def nobody_on_screen(chromium, request):
    return no_card_in_any(chromium, NOBODY, request, after=1.2)  # as assert_no_card


@pytest.mark.parametrize("variant", [pytest.param(v[0], id=v[0]) for v in NOBODY])
def test_no_overlay_where_nobody_is_on_screen(nobody_on_screen, variant):
    if nobody_on_screen[variant] is not None:
        raise nobody_on_screen[variant]


# Outlook messages whose person has no address on screen: the card must not borrow one from a
# line after the from line (To, Cc) or from the message, nor name me. Derived from a fixture:
# (id, fixture, url, {text in the fixture: replacement}).
ALEX_FROM = '<span class="OZZZK" title="alex.morgan@contoso.example">Alex Morgan</span>'
DANIEL_FROM = '<span class="OZZZK" title="daniel.okafor@northwind.example">Daniel Okafor</span>'
DANIEL_TO = (
    'To: <span title="alex.morgan@contoso.example">Alex Morgan</span>; '
    '<span title="team@northwind.example">Board team</span>'
)
DANIEL_SIGNS = "<p>Thanks,<br>Daniel</p>"
AMARA_TO = 'To: <span title="amara.nwosu@northwind.example">Amara Nwosu</span></div>'
BOARD_CC = (
    '\n          <div class="meta" data-app-section="CcLine">Cc: '
    '<span title="team@northwind.example">Board team</span></div>'
)
ALEX_SIGNS = "<p>Best,<br>Alex</p>"
UNADDRESSED_SENDERS = (
    (  # Outlook.com: the address beside the line, Kim's or Daniel's; the line says nothing more
        "live-on-behalf-of-with-the-address-beside-the-line",
        "outlook-message-live",
        MARIA_URL,
        dict(
            maria_named("Kim Lee on behalf of Daniel Okafor", "&lt;kim.lee@northwind.example&gt;")
        ),
    ),
    (
        "received-name-only-mailto-in-body",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        {
            DANIEL_FROM: '<span class="OZZZK">Daniel Okafor</span>',
            DANIEL_TO: 'To: <span title="alex.morgan@contoso.example">Alex Morgan</span>',
            DANIEL_SIGNS: DANIEL_SIGNS
            + '<p>PS: Kim Lee (<a href="mailto:kim.lee@northwind.example">'
            "kim.lee@northwind.example</a>) has the figures.</p>",
        },
    ),
    (
        "sent-to-names-only-mailto-in-quote",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        {
            AMARA_TO + BOARD_CC: "To: <span>Amara Nwosu</span></div>",
            ALEX_SIGNS: ALEX_SIGNS + '<blockquote>From: Raj Iyer &lt;<a href="mailto:raj.iyer'
            '@northwind.example">raj.iyer@northwind.example</a>&gt;<br>Could you send your '
            "comments by Friday?</blockquote>",
        },
    ),
    (
        "received-name-only-to-others",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        {
            DANIEL_FROM: '<span class="OZZZK">Daniel Okafor</span>',
            DANIEL_TO: (
                'To: <span title="kim.lee@northwind.example">Kim Lee</span>; '
                '<span aria-label="Alex Morgan alex.morgan@contoso.example">Alex Morgan</span>'
            ),
        },
    ),
    (
        "on-behalf-of-a-name-without-address",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        {DANIEL_FROM: f'{KIM_SENDS} on behalf of <span class="OZZZK">Daniel Okafor</span>'},
    ),
    (
        "sent-name-only",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        {ALEX_FROM: '<span class="OZZZK">Alex Morgan</span>'},
    ),
)


# Senders nobody keeps a tie with: robots (no-reply, notifications, bounces) and mailing lists
# that rewrite the From to "'Name' via List <list@...>" (the person is not at that address).
# (id, fixture, url, {text in the fixture: replacement}).
GROUP_URL = "https://mail.google.com/mail/u/0/#inbox/FMfcgzQZTmVpJxLrHcWnBsKdQgRtPyNf"
PRIYA_FROM = (
    '<span class="gD" email="Priya.Shah@contoso.example" name="Priya Shah" '
    'data-hovercard-id="Priya.Shah@contoso.example">Priya Shah</span>'
)
PRIYA_VIA_GROUP = (
    '<span class="gD" email="lisbon-friends@googlegroups.com" '
    'name="&#39;Priya Shah&#39; via Lisbon Friends" '
    'data-hovercard-id="lisbon-friends@googlegroups.com">&#39;Priya Shah&#39; via Lisbon Friends'
    "</span>"
)
ME_FROM = PRIYA_FROM.replace("Priya.Shah@contoso.example", "alex.morgan@example.com").replace(
    "Priya Shah", "Alex Morgan"
)


def gmail_sender(name: str, email: str) -> str:
    return PRIYA_FROM.replace("Priya.Shah@contoso.example", email).replace("Priya Shah", name)


def outlook_sender(name: str, email: str) -> str:
    return DANIEL_FROM.replace("daniel.okafor@northwind.example", email).replace(
        "Daniel Okafor", name
    )


NOBODY_TO_KEEP = (
    ("gmail-google-group", "gmail-thread-google-group", GROUP_URL, {}),
    (
        "gmail-my-reply-to-the-group",
        "gmail-thread-google-group",
        GROUP_URL,
        {PRIYA_VIA_GROUP: ME_FROM},
    ),
    (
        "gmail-mailer-daemon",
        "gmail-thread",
        GMAIL_URL,
        {PRIYA_FROM: gmail_sender("Mail Delivery Subsystem", "mailer-daemon@googlemail.com")},
    ),
    (
        "gmail-groups-io-subgroup",
        "gmail-thread",
        GMAIL_URL,
        {PRIYA_FROM: gmail_sender("Priya Shah", "main@lisbon-friends.groups.io")},
    ),
    (
        "gmail-notifications",
        "gmail-thread",
        GMAIL_URL,
        {PRIYA_FROM: gmail_sender("GitHub", "notifications@github.com")},
    ),
    (
        "gmail-calendar-notification",
        "gmail-thread",
        GMAIL_URL,
        {PRIYA_FROM: gmail_sender("Google Calendar", "calendar-notification@google.com")},
    ),
    (
        "gmail-sender-without-any-address",
        "gmail-thread",
        GMAIL_URL,
        {PRIYA_SHOWN: '<span class="gD">Priya Shah</span> <span class="go">'},
    ),
    (
        "outlook-no-reply",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        {DANIEL_FROM: outlook_sender("SharePoint Online", "no-reply@sharepointonline.com")},
    ),
    (  # Exchange's own notices (undeliverable, quota) come from its system mailbox
        "outlook-exchange-system-mailbox",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        {
            DANIEL_FROM: outlook_sender(
                "Microsoft Outlook", "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.com"
            )
        },
    ),
    (
        "outlook-google-group",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        {DANIEL_FROM: outlook_sender("'Daniel Okafor' via Board Team", "board@googlegroups.com")},
    ),
)


@pytest.fixture(scope="module")
def nobody_to_keep(chromium, request):
    return no_card_in_any(chromium, UNADDRESSED_SENDERS + NOBODY_TO_KEEP, request, after=1.2)


@pytest.mark.parametrize(
    "variant", [pytest.param(v[0], id=v[0]) for v in UNADDRESSED_SENDERS + NOBODY_TO_KEEP]
)
def test_no_overlay_for_a_sender_without_an_address_a_robot_or_a_list(nobody_to_keep, variant):
    if nobody_to_keep[variant] is not None:
        raise nobody_to_keep[variant]


# Mail from one of my name to others only, to an address nobody in the thread mailed: my send-as
# alias (a new thread from it), or someone else of my name whose mail reached me through a list
# or as a Bcc. Which, the page does not say: no card rather than one naming me or my namesake's
# correspondent. (id, fixture, url, {text in the fixture: replacement}).
ALIAS_SHOWN = NAMESAKE_FROM.replace(NAMESAKE["email"], ALIAS)
MAYBE_ME = (
    *(
        (
            name,
            "gmail-thread",
            GMAIL_URL,
            {MY_FIRST_MESSAGE: "", PRIYA_SHOWN: sender, PRIYA_TO_ME: to + TOM_CC},
        )
        for name, sender, to in [
            ("gmail-someone-of-my-name-writing-to-a-list", NAMESAKE_FROM, LIST_CHIP + ", cc:"),
            (
                "gmail-someone-of-my-name-writing-to-others-bcc-me",
                NAMESAKE_FROM,
                SAM_CHIP + ", cc:",
            ),
            ("gmail-new-thread-from-my-alias", ALIAS_SHOWN, SAM_CHIP + ", cc:"),
        ]
    ),
    (  # their message reached me through the board's list
        "outlook-from-someone-of-my-name-to-a-list",
        "outlook-message",
        f"https://outlook.office.com/mail/inbox/id/{ITEM_PATH}",
        {
            DANIEL_SENDS: NAMESAKE_SENDS,
            DANIEL_TO: 'To: <span title="team@northwind.example">Board team</span>',
        },
    ),
    (
        "outlook-new-message-from-my-alias",
        "outlook-message-sent",
        f"https://outlook.office.com/mail/sentitems/id/{ITEM_SENT}",
        {ALEX_FROM: ALEX_FROM.replace("alex.morgan@contoso.example", ALIAS)},
    ),
)


@pytest.fixture(scope="module")
def maybe_me(chromium, request):
    return no_card_in_any(chromium, MAYBE_ME, request, after=1.2)  # as assert_no_card


@pytest.mark.parametrize("variant", [pytest.param(v[0], id=v[0]) for v in MAYBE_ME])
def test_no_overlay_for_mail_from_one_of_my_name_who_may_be_me(maybe_me, variant):
    if maybe_me[variant] is not None:
        raise maybe_me[variant]


# LinkedIn profiles with nobody to show: my own (it links to forms that edit it, also from the
# newer page's shadow root and from a section page), and one that is not there.
NOT_MINE_OR_MISSING = (
    ("linkedin-my-own-profile", "linkedin-profile-own", MY_PROFILE, {}),
    (
        "linkedin-my-own-section-page",
        "linkedin-profile-own",
        MY_PROFILE + "details/experience/",
        {},
    ),
    (
        "linkedin-my-own-profile-shadow-root",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/",
        {
            EDIT_INTRO: EDIT_INTRO + '<a class="q7" aria-label="Edit intro" '
            'href="https://www.linkedin.com/in/wei-zhang-7c3d9e/edit/intro/">Edit</a>'
        },
    ),
    (
        "linkedin-page-does-not-exist",
        "linkedin-profile-unavailable",
        "https://www.linkedin.com/in/sam-rivera-5e6f7a/",
        {},
    ),
    (
        "linkedin-profile-not-available",
        "linkedin-profile-unavailable",
        "https://www.linkedin.com/in/sam-rivera-5e6f7a/",
        {"This page doesn’t exist": "This profile is not available"},
    ),
    # The same pages in the other languages of LinkedIn's country hosts.
    *(
        (
            f"linkedin-profile-missing-{lang}",
            "linkedin-profile-unavailable",
            "https://www.linkedin.com/in/sam-rivera-5e6f7a/",
            {"This page doesn’t exist": heading},
        )
        for lang, heading in [
            ("de", "Diese Seite existiert nicht"),  # fr, es and pt say it with "existe"
            ("it", "Questa pagina non esiste"),
            ("nl", "Deze pagina bestaat niet"),
            ("de-profile", "Dieses Profil ist nicht verfügbar"),
            ("fr-profile", "Ce profil n’est pas disponible"),  # es, pt, it: disponible, ...
            ("nl-profile", "Dit profiel is niet beschikbaar"),
            # Others by their "does not exist", however the rest is worded.
            ("ja", "このページは存在しません"),
            ("zh", "此页面不存在"),
            ("ko", "이 페이지는 존재하지 않습니다"),
            ("ru", "Эта страница не существует"),
            ("tr", "Bu sayfa mevcut değil"),
        ]
    ),
)


@pytest.fixture(scope="module")
def not_mine_or_missing(chromium, request):
    # 5 s: the content script's last read; 1.2 s more, as assert_no_card
    return no_card_in_any(chromium, NOT_MINE_OR_MISSING, request, after=6.2)


@pytest.mark.parametrize("variant", [pytest.param(v[0], id=v[0]) for v in NOT_MINE_OR_MISSING])
def test_no_overlay_on_my_own_or_a_missing_profile(not_mine_or_missing, variant):
    if not_mine_or_missing[variant] is not None:
        raise not_mine_or_missing[variant]


# Profiles LinkedIn shows without the name (out of my network): "LinkedIn Member" in every place
# the name would be (heading, title, photo, the page's data), in the interface's language. The page
# does not say who it is: no card, which would name a contact "LinkedIn Member".
RAVI_HIDDEN_URL = f"https://www.linkedin.com/in/{RAVI_MEMBER_ID}/"
HIDDEN_NAMES = {
    "en": "LinkedIn Member",
    "de": "LinkedIn-Mitglied",
    "fr": "Membre de LinkedIn",
    "es": "Miembro de LinkedIn",
    "pt": "Membro do LinkedIn",
    "nl": "LinkedIn-lid",
    "sv": "LinkedIn-medlem",
    "zh": "领英会员",
    "it": "Utente LinkedIn",
    "ja": "LinkedInメンバー",
    "ko": "LinkedIn 회원",
    "ru": "Участник LinkedIn",
    "tr": "LinkedIn üyesi",
}
BLOB_NAMES = ("&quot;firstName&quot;: &quot;Marta&quot;, &quot;lastName&quot;: &quot;Silva&quot;",)
HIDDEN_MEMBERS = (
    *(
        (
            f"linkedin-hidden-member-{lang}",
            "linkedin-profile-member-id",
            RAVI_HIDDEN_URL,
            {"Ravi Patel": name},
        )
        for lang, name in HIDDEN_NAMES.items()
    ),
    (
        "linkedin-hidden-member-newer-page",
        "linkedin-profile-shadow-hashed",
        "https://www.linkedin.com/in/wei-zhang-7c3d9e/",
        {"Wei Zhang": "LinkedIn Member"},
    ),
    (
        "linkedin-hidden-member-thread",
        "linkedin-messaging-thread",
        THREAD_URL,
        {
            "Marta Silva": "LinkedIn Member",
            BLOB_NAMES[0]: BLOB_NAMES[0].replace("Marta", "LinkedIn").replace("Silva", "Member"),
        },
    ),
)


@pytest.fixture(scope="module")
def hidden_members(chromium, request):
    # 5 s: the content script's last read; 1.2 s more, as assert_no_card
    return no_card_in_any(chromium, HIDDEN_MEMBERS, request, after=6.2)


@pytest.mark.parametrize("variant", [pytest.param(v[0], id=v[0]) for v in HIDDEN_MEMBERS])
def test_no_overlay_for_a_member_linkedin_does_not_name(hidden_members, variant):
    if hidden_members[variant] is not None:
        raise hidden_members[variant]


# LinkedIn hydrating my profile: its name and data first, the top card's edit links later.
EDIT_LINKS_LATER = """<script>
setTimeout(() => {
  for (const a of document.querySelectorAll("a[data-later]")) {
    const link = a.cloneNode(true);
    link.href = a.dataset.later;
    a.replaceWith(link);
  }
}, 1500);
</script></body>"""


def test_my_own_profile_whose_edit_links_come_after_its_name(chromium, tab):
    """The card shows while the page reads like anyone's profile, and leaves once the edit
    links say it is mine."""
    html = (SITE_FIXTURES_DIR / "linkedin-profile-own.html").read_text()
    assert html.count('href="/in/alex-morgan-0a1b2c/') >= 5
    html = re.sub(r'href="(/in/alex-morgan-0a1b2c/(add-)?edit/[^"]*)"', r'data-later="\1"', html)
    serve(chromium, MY_PROFILE, html=html.replace("</body>", EDIT_LINKS_LATER))
    chromium.open(MY_PROFILE, tab)
    overlay = chromium.overlay(tab)
    overlay.wait_for_state("unknown", "known")
    assert overlay.field("name") == "Alex Morgan"
    wait_until(lambda: not overlay.exists(), timeout=10, message=lambda: str(overlay.describe()))
    tab.wait_for_timeout(5000)  # past the content script's last read: the card stays away
    assert not overlay.exists()


JOHN_THREAD = "https://www.linkedin.com/messaging/thread/2-ZjE3YWIwNmQtOGJkNC00YzRmLWE2ZGItMzM5ZTZmYjQxZDJhXzEwMA==/"


# After a click on another conversation LinkedIn marks it open in the list, at once or later.
MARK_OPEN = """([url, active]) => {
    for (const a of document.querySelectorAll(".msg-conversation-listitem__link")) {
        a.classList.toggle(active, url.includes(a.getAttribute("href").split("/")[3]));
    }
}"""


@pytest.mark.parametrize("marked", [False, True], ids=["list-unchanged", "list-marks-it"])
def test_a_thread_that_never_renders_never_shows_the_previous_person(chromium, tab, marked):
    """A click on John's conversation whose pane never comes (a slow or failed load): Marta's
    header stays on screen, and the card must not put her on John's thread, even when the
    content script stops waiting."""
    serve(chromium, THREAD_URL, "linkedin-messaging-thread")
    chromium.open(THREAD_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    assert ov.field("name") == "Marta Silva"
    tab.evaluate("url => history.pushState({}, '', url)", JOHN_THREAD)
    if marked:
        tab.evaluate(MARK_OPEN, [JOHN_THREAD, ACTIVE.strip()])
    tab.wait_for_timeout(6000)  # past the content script's last read (5 s after the URL change)
    wait_until(lambda: not ov.exists(), timeout=5, message=lambda: str(ov.describe()))


def test_back_from_a_group_thread_to_the_one_before(chromium, tab):
    """Marta's thread, a group thread, and back to Marta's within a second, LinkedIn showing her
    pane again as it was (the same elements, hidden meanwhile): her card comes back."""
    html = THREAD_HTML.replace(ACTIVE, "")  # no list marks a conversation open
    serve(chromium, THREAD_URL, html=html)
    chromium.open(THREAD_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    assert ov.field("name") == "Marta Silva", ov.describe()
    tab.evaluate(
        """([url, group]) => {
            history.pushState({}, "", url);
            const pane = document.querySelector(".scaffold-layout__detail");
            pane.hidden = true;
            pane.insertAdjacentHTML("afterend", group);
        }""",
        [GROUP_THREAD, PANE.replace(HEADER, GROUP_HEADER_UNLINKED).replace(CARD, "")],
    )
    wait_until(lambda: not ov.exists(), timeout=3, message=lambda: str(ov.describe()))
    tab.evaluate(
        """url => {
            history.pushState({}, "", url);
            const [mine, group] = document.querySelectorAll(".scaffold-layout__detail");
            group.remove();
            mine.hidden = false;
        }""",
        THREAD_URL,
    )
    ov.wait_for_state("unknown", "known")
    assert ov.field("name") == "Marta Silva", ov.describe()


# Gmail pop-outs where the card cannot tell me apart, or shows another thread than the URL's.
REPLY_FROM_ME_NO_ME = {
    GMAIL_HEADER: "",
    GMAIL_TITLE: "<title>Re: Dinner in Lisbon next month? (ask tom.baker@fabrikam.example)</title>",
}


UNSAFE_POPOUTS = (
    ("my-address-unknown", "gmail-thread-reply-from-me", account(POPOUT, 7), REPLY_FROM_ME_NO_ME),
    (
        "another-thread",
        "gmail-thread",
        POPOUT.replace("18d4f2a9c3b7e001", "18d4f2a9c3b7e0ff"),
        {GMAIL_HEADER: ""},
    ),
)


@pytest.fixture(scope="module")
def unsafe_popouts(chromium, request):
    # 5 s: the content script's last read; 1.2 s more, as assert_no_card
    return no_card_in_any(chromium, UNSAFE_POPOUTS, request, after=6.2)


@pytest.mark.parametrize("variant", [pytest.param(v[0], id=v[0]) for v in UNSAFE_POPOUTS])
def test_no_overlay_on_a_gmail_popout_it_cannot_read_safely(unsafe_popouts, variant):
    if unsafe_popouts[variant] is not None:
        raise unsafe_popouts[variant]


@pytest.mark.parametrize(
    ("n", "title"),
    [
        pytest.param(3, GMAIL_TITLE, id="title"),
        # Right-to-left interfaces may wrap the address in direction marks.
        pytest.param(
            9,
            GMAIL_TITLE.replace("alex.morgan@example.com", "\u200falex.morgan@example.com\u200f"),
            id="title-with-direction-marks",
        ),
    ],
)
def test_a_gmail_popout_knows_me_from_the_accounts_main_window(chromium, tab, live_api, n, title):
    """The account's main window shows my address; its pop-out of a thread whose last message
    is mine shows neither my address nor a "to me" chip, and still gets the person I wrote to."""
    forget(live_api, PRIYA)
    main = account(GMAIL_URL, n)
    serve(chromium, main, html=edited("gmail-thread", {GMAIL_TITLE: title}))
    chromium.open(main, tab)
    chromium.overlay(tab).wait_for_state("unknown")
    popout = account(POPOUT, n)
    serve(chromium, popout, html=edited("gmail-thread-reply-from-me", REPLY_FROM_ME_NO_ME))
    chromium.open(popout, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown")
    assert ov.field("name") == PRIYA["name"], ov.describe()
    ov.click("log")
    ov.wait_for_state("known")
    contact = wait_until(lambda: lookup(live_api, PRIYA)["contact"], timeout=10)
    [logged] = live_api.interactions(contact["id"])
    assert logged["initiated_by"] == "me"
    assert logged["external_ref"] == "gmail:18d4f2c0ffee0001"


@pytest.mark.parametrize(
    "main",
    [
        pytest.param(account(GMAIL_URL, 5).replace("/u/5/", "/u/5/h/1x7kq3zj9v2wd/"), id="h"),
        pytest.param(account(GMAIL_URL, 8).replace("/u/8/", "/u/8/x/b4n8r2mq6t1c-/"), id="x"),
    ],
)
def test_a_gmail_popout_knows_me_from_a_main_window_under_a_session_path(chromium, tab, main):
    """Gmail may serve an account's window under a path of the session's own (/mail/u/N/h/<x>/,
    /mail/u/N/x/<x>/): what it shows is still account N's, so its pop-out knows me from it."""
    serve(chromium, main, "gmail-thread")
    chromium.open(main, tab)
    chromium.overlay(tab).wait_for_state("unknown", "known")
    popout = account(POPOUT, int(main.split("/u/")[1][0]))
    serve(chromium, popout, html=edited("gmail-thread-reply-from-me", REPLY_FROM_ME_NO_ME))
    chromium.open(popout, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    assert ov.field("name") == PRIYA["name"], ov.describe()


# A mailbox delegated to account 4 (an assistant reading their manager's mail): Gmail serves it
# under the account's own path, /mail/u/4/d/<opaque id>/, its title naming the manager's address.
DELEGATED = "https://mail.google.com/mail/u/4/d/AEoRXRTq7sLmZ0aBcDeFgHiJkLmN_x-9pQ/#inbox/FMfcgzQZTkGgWqMcbNqxHnKDnFvWzjLq"
MANAGER = "olivia.reed@example.com"


def test_a_gmail_popout_is_not_told_me_by_a_mailbox_delegated_to_the_account(
    chromium, tab, live_api
):
    """Account 4's main window, then the mailbox delegated to it (another address, its own
    mail): the account's pop-out of a thread whose last message is mine, showing neither my
    address nor a "to me" chip, still gets the person I wrote to, not me."""
    forget(live_api, PRIYA)
    main = account(GMAIL_URL, 4)
    serve(chromium, main, "gmail-thread")
    chromium.open(main, tab)
    chromium.overlay(tab).wait_for_state("unknown")
    serve(
        chromium,
        DELEGATED,
        html=edited(
            "gmail-thread", {GMAIL_TITLE: GMAIL_TITLE.replace("alex.morgan@example.com", MANAGER)}
        ),
    )
    chromium.open(DELEGATED, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown")
    assert ov.field("name") == PRIYA["name"], ov.describe()
    popout = account(POPOUT, 4)
    serve(chromium, popout, html=edited("gmail-thread-reply-from-me", REPLY_FROM_ME_NO_ME))
    chromium.open(popout, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown")
    assert ov.field("name") == PRIYA["name"], ov.describe()


def test_a_delegated_mailbox_kept_as_the_account_by_an_earlier_version_is_not_me(chromium):
    """Versions before delegated mailboxes were kept apart stored the address a delegated
    mailbox showed (/mail/u/2/d/<id>/: its owner's) as account 2's. The update drops what they
    stored; after it, account 2's pop-out of my reply, showing neither my address nor a "to me"
    chip, must not take that address for mine (the card would name me): no card, until the
    account's main window shows my address; then the person I wrote to."""
    chromium.evaluate_in_worker("a => chrome.storage.local.set({gmailAccounts: a})", {"2": MANAGER})
    # Chromium loads the unpacked extension again at start, and runtime.onInstalled fires, as on
    # an update.
    chromium.restart()
    stored = wait_until(
        lambda: chromium.evaluate_in_worker("() => chrome.storage.local.get(null)"),
        message="the extension's storage did not come back",
    )
    assert stored.get("settings"), stored  # kept: still connected
    wait_until(
        lambda: (
            "gmailAccounts"
            not in chromium.evaluate_in_worker("() => chrome.storage.local.get(null)")
        ),
        timeout=5,
        message="the earlier version's gmailAccounts outlived the update",
    )
    tab = chromium.new_page()
    try:
        popout = account(POPOUT, 2)
        serve(chromium, popout, html=edited("gmail-thread-reply-from-me", REPLY_FROM_ME_NO_ME))
        chromium.open(popout, tab)
        assert_no_card(chromium, tab)
        main = account(GMAIL_URL, 2)
        serve(chromium, main, "gmail-thread")
        chromium.open(main, tab)
        chromium.overlay(tab).wait_for_state("unknown", "known")
        serve(chromium, popout, html=edited("gmail-thread-reply-from-me", REPLY_FROM_ME_NO_ME))
        chromium.open(popout, tab)
        ov = chromium.overlay(tab)
        ov.wait_for_state("unknown", "known")
        assert ov.field("name") == PRIYA["name"], ov.describe()
    finally:
        tab.close()


def cut(html: str, start: str, end: str) -> str:
    """The part of ``html`` from ``start`` up to and including the first ``end`` after it."""
    part = html[html.index(start) :]
    return part[: part.index(end) + len(end)]


THREAD_HTML = (SITE_FIXTURES_DIR / "linkedin-messaging-thread.html").read_text()
# Marta's thread: its header, the profile card atop it, the whole conversation pane.
HEADER = cut(THREAD_HTML, '<div class="msg-title-bar__title-bar-title">', "</a>\n        </div>")
CARD = cut(THREAD_HTML, '<div class="msg-s-profile-card">', "Litware</div>\n            </div>")
PANE = cut(THREAD_HTML, '<section class="scaffold-layout__detail', "</section>")
GROUP_THREAD = THREAD_URL.replace(
    "2-NWQ4ZTFkYzItMzRhNi00ZmQ3LWI5ZjAtYzE0MmFkNTNiOGQ3XzEwMA",
    "2-YjQ5ZTFkMzQtNzc2OC00ZTA2LWJmYjItMWFmNmVkNTQ2MGFkXzEwMA",
)
ACTIVE = " msg-conversations-container__convo-item-link--active"
# Her thread turned into a group thread: the header names two people (with links to each, or
# without), and no profile card opens the conversation.
GROUP_HEADER = (
    '<div class="msg-title-bar__title-bar-title"><h2 class="msg-entity-lockup__entity-title">'
    '<a href="https://www.linkedin.com/in/jane-doe/">Jane Doe</a>, '
    '<a href="https://www.linkedin.com/in/tom-baker-77aa11/">Tom Baker</a></h2></div>'
)
GROUP_HEADER_UNLINKED = (
    '<div class="msg-title-bar__title-bar-title">'
    '<h2 class="msg-entity-lockup__entity-title">Jane Doe, Tom Baker</h2></div>'
)


@pytest.mark.parametrize("header", [GROUP_HEADER, GROUP_HEADER_UNLINKED], ids=["linked", "plain"])
def test_no_overlay_for_a_group_thread(chromium, tab, header):
    serve(chromium, THREAD_URL, html=THREAD_HTML.replace(HEADER, header).replace(CARD, ""))
    chromium.open(THREAD_URL, tab)
    tab.wait_for_timeout(3000)  # well before the content script's last read (5 s)
    assert not chromium.overlay(tab).exists(), chromium.overlay(tab).describe()


def test_a_thread_finds_the_contact_logged_from_the_profile(chromium, tab, live_api):
    """Message threads link to member ids. Ana is in the ledger under her vanity slug only (as
    every contact logged before); a log from her profile page, whose data gives her member id,
    adds it to her, so her thread (no embedded data) shows her as known and logs to her."""
    forget(live_api, ANA)
    forget(live_api, {"linkedin": ANA_MEMBER_ID})
    ana = ensure_contact(live_api, ANA["name"], linkedin=ANA["linkedin"])["contact"]
    assert [i["value"] for i in ana["identities"]] == [ANA["linkedin"]]
    serve(chromium, ANA_URL, "linkedin-profile-2026")
    chromium.open(ANA_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("known")
    ov.click("log")
    wait_until(
        lambda: (
            {"kind": "linkedin", "value": ANA_MEMBER_ID}
            in live_api.lookup(linkedin=ANA["linkedin"])["contact"]["identities"]
        ),
        timeout=10,
        message="the log from the profile did not add the member id to the contact",
    )

    thread = edited(
        "linkedin-messaging-thread",
        {
            MARTA_MEMBER_ID: ANA_MEMBER_ID,
            "Marta Silva": "Ana López",
            THREAD_DATA: THREAD_DATA.replace("bpr-guid", "unrelated"),
        },
    )
    serve(chromium, THREAD_URL, html=thread)
    chromium.open(THREAD_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("known")
    assert ov.field("name") == ANA["name"], ov.describe()
    ov.click("log")
    wait_until(
        lambda: len(live_api.interactions(ana["id"])) == 2,
        timeout=10,
        message="the thread's log did not go to the contact logged from the profile",
    )
    assert lookup(live_api, ANA)["contact"]["id"] == ana["id"]


def test_from_a_group_thread_to_a_one_to_one_thread(chromium, tab):
    """The group thread gets no card; a click on Marta's conversation changes the URL (and the
    list) at once and the pane a moment later: the card then shows her."""
    group = THREAD_HTML.replace(HEADER, GROUP_HEADER_UNLINKED).replace(CARD, "").replace(ACTIVE, "")
    group = group.replace(
        'convo-item-link" href="/messaging/thread/2-YjQ5',
        f'convo-item-link{ACTIVE}" href="/messaging/thread/2-YjQ5',
    )
    assert group.count(ACTIVE) == 1
    serve(chromium, GROUP_THREAD, html=group)
    chromium.open(GROUP_THREAD, tab)
    tab.wait_for_timeout(1500)
    ov = chromium.overlay(tab)
    assert not ov.exists(), ov.describe()
    # LinkedIn may mark the conversation open in the list before its pane comes.
    tab.evaluate(
        """([url, pane, active]) => {
            history.pushState({}, "", url);
            for (const a of document.querySelectorAll(".msg-conversation-listitem__link")) {
                a.classList.toggle(active, a.getAttribute("href").includes("/2-NWQ4"));
            }
            setTimeout(() => {
                document.querySelector(".scaffold-layout__detail").outerHTML = pane;
            }, 700);
        }""",
        [THREAD_URL, PANE, ACTIVE.strip()],
    )
    ov.wait_for_state("unknown", "known")
    assert ov.field("name") == "Marta Silva", ov.describe()


def test_a_header_link_that_comes_after_the_messages(chromium, tab):
    """A long one-to-one thread opened at its end: the header's name is there before its link,
    with no profile card in view. Not a group: the card shows Marta once the link is in."""
    late = THREAD_HTML.replace(HEADER, "<div id=later>Marta Silva</div>").replace(CARD, "")
    late = late.replace(
        "</body>",
        "<script>setTimeout(() => { document.getElementById('later').outerHTML = "
        f"{HEADER!r}; }}, 700)</script></body>",
    )
    serve(chromium, THREAD_URL, html=late)
    chromium.open(THREAD_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    assert ov.field("name") == "Marta Silva", ov.describe()


def test_a_member_id_taken_between_the_lookup_and_the_log(chromium, tab, live_api):
    """Ana's profile names her by a member id nobody held at the lookup; before the click, another
    contact takes it (logged from her thread in another browser). The log still goes to Ana, by
    her id, instead of failing."""
    member = {"linkedin": ANA_MEMBER_ID}
    forget(live_api, ANA)
    forget(live_api, member)
    ana = ensure_contact(live_api, ANA["name"], linkedin=ANA["linkedin"])["contact"]
    serve(chromium, ANA_URL, "linkedin-profile-2026")
    chromium.open(ANA_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("known")
    other = live_api.create_contact("Ana L.", linkedin=ANA_MEMBER_ID)
    try:
        ov.click("log")
        wait_until(
            lambda: len(live_api.interactions(ana["id"])) == 1,
            timeout=10,
            message=lambda: str(ov.describe()),
        )
        assert ov.state() == "known" and "Not logged" not in (ov.field("message") or "")
        assert live_api.interactions(other["id"]) == []
    finally:
        forget(live_api, member)


# LinkedIn in page states a user meets every day. From Jane's profile to John's without a page
# load, LinkedIn keeping what it showed before: the old top card hidden in the page for a quick
# way back (the new card after it), or the same top card's text changed in place; the title
# follows with the content, or not at all; a card changed in place may change its name first.
JOHN_HEADLINE = "Partner at Fabrikam Ventures"
# How LinkedIn hides the old card: out of the layout, or kept in it, invisible and hidden from
# screen readers.
HIDDEN = "old.hidden = true"
INVISIBLE = "old.setAttribute('aria-hidden', 'true'); old.style.visibility = 'hidden'"
TO_JOHN = """([url, headline, keep, title, late]) => {
    history.pushState({}, "", url);
    setTimeout(() => {
        const old = document.querySelector("main section");
        const card = keep ? old.cloneNode(true) : old;
        for (const s of card.querySelectorAll("h1 span")) s.textContent = "John Smith";
        card.querySelector("img").alt = "John Smith";
        const info = "/in/john-smith-4b2a1/overlay/contact-info/";
        const rest = () => {
            card.querySelector(".text-body-medium").textContent = headline;
            card.querySelector("a[href*='/in/']").href = info;
        };
        late ? setTimeout(rest, 600) : rest();
        if (keep) {
            new Function("old", keep)(old);
            old.after(card);
        }
        if (title) document.title = "(3) John Smith | LinkedIn";
    }, 600);
    // The page keeps changing (presence dots, counters): the content script reads it again.
    setInterval(() => document.querySelector("aside").append(document.createElement("i")), 400);
}"""


@pytest.mark.parametrize(
    ("keep", "title", "late"),
    [
        (HIDDEN, True, 0),
        (HIDDEN, False, 0),
        (INVISIBLE, False, 0),
        ("", True, 0),
        ("", False, 0),
        ("", True, 1),
    ],
    ids=[
        "old-card-hidden",
        "old-card-hidden-title-late",
        "old-card-invisible-title-late",
        "card-changed",
        "card-changed-title-late",
        "card-changed-name-first",
    ],
)
def test_from_one_profile_to_another_in_page(chromium, tab, live_api, keep, title, late):
    """John's card never shows Jane, nor her headline, and shows John's name and headline from
    his top card."""
    forget(live_api, JOHN)
    serve(chromium, JANE_URL, "linkedin-profile-classic")
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    tab.evaluate(TO_JOHN, [JOHN_URL, JOHN_HEADLINE, keep, title, late])
    seen = ov.watch(8, "name", "headline")  # past the content script's last read (5 s)
    assert not [s for s in seen if "Jane" in (s[2] or "") or "Northwind" in (s[3] or "")], seen
    assert seen[-1][1:] == ("unknown", "John Smith", JOHN_HEADLINE), seen[-3:]


# A conversation with a company page (pages message members too): nobody to keep a tie with.
PAGE_THREAD = {
    f'profile" href="https://www.linkedin.com/in/{MARTA_MEMBER_ID}"': (
        'profile" href="https://www.linkedin.com/company/contoso-health/"'
    ),
    f'link" href="https://www.linkedin.com/in/{MARTA_MEMBER_ID}"': (
        'link" href="https://www.linkedin.com/company/contoso-health/"'
    ),
    "Marta Silva": "Contoso Health",
    "Head of Partnerships at Litware · 2nd": "Hospitals and Health Care · 12,408 followers",
}


def test_no_overlay_for_a_thread_with_a_company_page(chromium, tab):
    serve(chromium, THREAD_URL, html=edited("linkedin-messaging-thread", PAGE_THREAD))
    chromium.open(THREAD_URL, tab)
    tab.wait_for_timeout(5000)  # the content script's last read
    assert_no_card(chromium, tab)


def test_a_thread_header_that_changes_its_link_before_its_name(chromium, tab):
    """From Marta's conversation to John's, LinkedIn re-using her pane: its links to a profile
    change first, the names a moment later (and the page's data does not know him). The card
    never names her on John's thread."""
    serve(chromium, THREAD_URL, "linkedin-messaging-thread")
    chromium.open(THREAD_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    tab.evaluate(
        """([url, active, who]) => {
            history.pushState({}, "", url);
            for (const a of document.querySelectorAll(".msg-conversation-listitem__link")) {
                a.classList.toggle(active, url.includes(a.getAttribute("href").split("/")[3]));
            }
            const pane = document.querySelector(".msg-thread");
            setTimeout(() => {
                for (const a of pane.querySelectorAll("a[href*='/in/ACoAAD2k']")) a.href = who;
            }, 300);
            setInterval(() => pane.append(document.createElement("i")), 200);  // typing dots
            setTimeout(() => {
                for (const el of pane.querySelectorAll("h2, .artdeco-entity-lockup__title")) {
                    el.textContent = "John Smith";
                }
            }, 900);
        }""",
        [JOHN_THREAD, ACTIVE.strip(), "/in/ACoAAE1xYz2Wv3Ut4Sr5Qp6On7Ml8Kj9Ih"],  # his member id
    )
    seen = ov.watch(7, "name")  # past the content script's last read (5 s)
    assert not [s for s in seen if s[2] == "Marta Silva"], seen
    assert seen[-1][2] == "John Smith", seen[-3:]


# Back to a profile LinkedIn kept in the page, by attributes alone: from Jane's card to John's
# (a node added, the title his), then back to Jane's card, kept hidden meanwhile, which LinkedIn
# shows again, and hides John's, by toggling an attribute (no node added or removed, the title
# left as it was, nothing else moving on the page).
HIDE_BY = {
    "hidden": "el.hidden = on",
    "class": "el.classList.toggle('hidden', on)",  # LinkedIn's utility class (display: none)
    "style": "el.style.display = on ? 'none' : ''",
    "aria-hidden": "el.setAttribute('aria-hidden', on); el.style.visibility = on ? 'hidden' : ''",
}
TO_JOHN_AND_BACK = """([john, jane, headline, hide]) => {
    const set = new Function("el", "on", hide);
    document.head.append(Object.assign(document.createElement("style"), {
        textContent: ".hidden { display: none }",
    }));
    const old = document.querySelector("main section");
    history.pushState({}, "", john);
    setTimeout(() => {
        const card = old.cloneNode(true);
        for (const s of card.querySelectorAll("h1 span")) s.textContent = "John Smith";
        card.querySelector("img").alt = "John Smith";
        card.querySelector(".text-body-medium").textContent = headline;
        card.querySelector("a[href*='/in/']").href = "/in/john-smith-4b2a1/overlay/contact-info/";
        set(old, true);
        old.after(card);
        document.title = "(3) John Smith | LinkedIn";
        window.backToJane = () => {
            history.pushState({}, "", jane);
            setTimeout(() => { set(card, true); set(old, false); }, 600);
        };
    }, 600);
}"""


@pytest.mark.parametrize("hide", HIDE_BY.values(), ids=HIDE_BY.keys())
def test_back_to_a_profile_kept_hidden_shown_by_attributes_alone(chromium, tab, live_api, hide):
    """Jane's card again, soon after LinkedIn shows it (well before the content script's last
    read), and never John's name or headline on her address."""
    forget(live_api, JOHN)
    forget(live_api, {"linkedin": "jane-doe"})  # her card shows the name on her page
    serve(chromium, JANE_URL, "linkedin-profile-classic")
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    tab.evaluate(TO_JOHN_AND_BACK, [JOHN_URL, JANE_URL, JOHN_HEADLINE, hide])
    ov.wait_for(lambda: ov.field("name") == "John Smith", message="John's card")
    ov.wait_for_state("unknown")
    tab.evaluate("backToJane()")
    seen = ov.watch(7, "name", "headline")
    assert not [s for s in seen if "John" in (s[2] or "") or "Fabrikam" in (s[3] or "")], seen
    jane = [s for s in seen if s[2] == "Jane Doe"]
    assert jane and seen[-1][2:] == ("Jane Doe", "Chief Operating Officer at Northwind Traders")
    assert jane[0][0] < 3, (f"Jane's card {jane[0][0]:.1f} s after the move back", seen)


# John's top card in place of Jane's, his headline the same as hers (colleagues often share one)
# and no link to his own profile in it (no contact info shown): only the name changes.
JANE_HEADLINE = "Chief Operating Officer at Northwind Traders"
TO_JOHN_SAME_HEADLINE = """(url) => {
    history.pushState({}, "", url);
    setTimeout(() => {
        const card = document.querySelector("main section");
        for (const s of card.querySelectorAll("h1 span")) s.textContent = "John Smith";
        card.querySelector("img").alt = "John Smith";
        card.querySelector("a[href*='/in/']").remove();
        document.title = "(3) John Smith | LinkedIn";
    }, 600);
}"""


def test_another_profile_with_the_same_headline_in_page(chromium, tab, live_api):
    """John's card soon after his name shows (well before the content script's last read), with
    the headline his top card shows, and never Jane's name."""
    forget(live_api, JOHN)
    serve(chromium, JANE_URL, "linkedin-profile-classic")
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    tab.evaluate(TO_JOHN_SAME_HEADLINE, JOHN_URL)
    seen = ov.watch(7, "name", "headline")
    assert not [s for s in seen if "Jane" in (s[2] or "")], seen
    john = [s for s in seen if s[1] == "unknown" and s[2] == "John Smith"]
    assert john and seen[-1][1:] == ("unknown", "John Smith", JANE_HEADLINE), seen[-3:]
    assert john[0][0] < 3.5, f"John's card {john[0][0]:.1f} s after the move"


# The newer profile page, its top card in a shadow root: from Wei's profile to Tom's, LinkedIn
# changing the card's text in place there (no mutation the page's own DOM reports), the title the
# generic "LinkedIn" throughout.
TOM = {"name": "Tom Baker", "linkedin": "tom-baker-77aa11"}
TO_TOM_IN_THE_SHADOW_ROOT = """(url) => {
    history.pushState({}, "", url);
    setTimeout(() => {
        const card = document.getElementById("interop-outlet").shadowRoot;
        for (const s of card.querySelectorAll("h1 span")) s.textContent = "Tom Baker";
        card.querySelector("img").alt = "Tom Baker";
        card.querySelector("p").textContent = "Head of Design at Litware";
        card.querySelector("a[href*='/in/']").href = url + "overlay/contact-info/";
    }, 600);
}"""


def test_from_one_profile_to_another_in_the_shadow_root(chromium, tab, live_api):
    """Tom's card soon after his name shows (well before the content script's last read), and
    never Wei's name or headline."""
    forget(live_api, TOM)
    url = "https://www.linkedin.com/in/wei-zhang-7c3d9e/"
    serve(chromium, url, "linkedin-profile-shadow-hashed")
    chromium.open(url, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    tab.evaluate(TO_TOM_IN_THE_SHADOW_ROOT, f"https://www.linkedin.com/in/{TOM['linkedin']}/")
    seen = ov.watch(7, "name", "headline")
    assert not [s for s in seen if "Wei" in (s[2] or "") or "Tailspin" in (s[3] or "")], seen
    tom = [s for s in seen if s[2] == "Tom Baker"]
    assert tom and seen[-1][1:3] == ("unknown", "Tom Baker"), seen[-3:]
    assert tom[0][0] < 3, (f"Tom's card {tom[0][0]:.1f} s after the move", seen)


def test_a_profile_that_never_renders_never_shows_the_previous_person(chromium, tab, live_api):
    """From Jane's profile to John's, LinkedIn never rendering his (a failed request): her top
    card and title stay on screen, the page keeps changing. The card never names her on his
    address, not even after the content script's last read, and names John once his page
    comes."""
    forget(live_api, JOHN)
    serve(chromium, JANE_URL, "linkedin-profile-classic")
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    tab.evaluate(
        """(url) => {
            history.pushState({}, "", url);
            const aside = document.querySelector("aside");
            setInterval(() => aside.append(document.createElement("i")), 400);
        }""",
        JOHN_URL,
    )
    seen = ov.watch(8, "name", "headline")
    assert not [s for s in seen if "Jane" in (s[2] or "") or "Northwind" in (s[3] or "")], seen
    # His page comes at last (a retried request): the card names him.
    tab.evaluate(
        """(headline) => {
            const card = document.querySelector("main section");
            for (const s of card.querySelectorAll("h1 span")) s.textContent = "John Smith";
            card.querySelector(".text-body-medium").textContent = headline;
        }""",
        JOHN_HEADLINE,
    )
    ov.wait_for(lambda: ov.field("name") == "John Smith", message="John's name, once shown")


def test_a_profile_shown_after_the_last_read_by_attributes_alone_names_the_card(
    chromium, tab, live_api
):
    """From Jane's profile to John's, his top card already in the page but hidden, hers left on
    screen past the content script's last read (a nameless card). LinkedIn then only swaps the
    two cards' `hidden` attributes, a change the page watcher does not see: the card names John
    all the same."""
    forget(live_api, JOHN)
    serve(chromium, JANE_URL, "linkedin-profile-classic")
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    tab.evaluate(
        """([url, headline]) => {
            const jane = document.querySelector("main section");
            const john = jane.cloneNode(true);
            for (const s of john.querySelectorAll("h1 span")) s.textContent = "John Smith";
            john.querySelector(".text-body-medium").textContent = headline;
            john.hidden = true;
            jane.after(john);
            history.pushState({}, "", url);
        }""",
        [JOHN_URL, JOHN_HEADLINE],
    )
    seen = ov.watch(6, "name")  # past the last read (5 s): a card without a name
    assert seen[-1][2] not in ("Jane Doe", "John Smith"), seen[-3:]
    tab.evaluate(
        """() => {
            const [jane, john] = document.querySelectorAll("main section");
            jane.hidden = true;
            john.hidden = false;
        }"""
    )
    ov.wait_for(lambda: ov.field("name") == "John Smith", message="John's name, once shown")
    assert ov.field("headline") == JOHN_HEADLINE
