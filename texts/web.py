"""What the sandbox and sponsor portal pages say around the chat and the forms.

Each page's elements carry `data-i18n` (their text), `data-i18n-placeholder` or
`data-i18n-title` with the English as written here; bot.pages serves these in the reader's
language as JSON (`GET /i18n/{cy|en}.json?page=sandbox`) and bot/web/i18n.js swaps them in.
tests/bot/test_web_i18n.py checks that every marked element of each page is listed here."""

from __future__ import annotations

LANGUAGE_SWITCH = "Cymraeg"
"""The switch names the other language, in that language (so English reads 'Cymraeg')."""

SANDBOX = (
    "Britizen sandbox",
    "Sandbox",
    "This is the sandbox: the bot talks to Britizen's own stand-in of the Telegram Bot API.",
    "Nothing reaches Telegram.",
    "Pick a test citizen and chat.",
    "Test citizens",
    "+ Add a test citizen",
    "Sponsor portal",
    "Demo sponsor",
    "Its API key (new at every start):",
    "Copy key",
    "Open the portal",
    "Demo data partner",
    "Its API key, for payment events and score look-ups:",
    "API document",
    "Nightly pass",
    "New scores, a history point each and band-change messages, as every night.",
    "Run the nightly pass now",
    "You are",
    "Lost the connection to the sandbox; retrying…",
    "No messages yet: send /start. Chats start empty at every run; the database remembers "
    "who registered.",
    "Message",
    "Send",
    "Bot commands",
    "Choose",
    "Cancel",
    "OK",
    "Close",
)

PORTAL = (
    "Britizen sponsor portal",
    "for sponsors",
    "Sign out",
    "Sign in",
    "Use your sponsor API key (from britizen sponsor add NAME, or the demo key the sandbox "
    "prints). It stays in this browser tab only and is sent only to this server.",
    "API key",
    "New promotion",
    "Title",
    "10% off your energy bill",
    "Message",
    "What citizens read in Telegram. Plain text.",
    "Button (optional)",
    "Label",
    "See the offer",
    "Link (https)",
    "Audience",
    "Only citizens who opted in to offers ever receive one.",
    "Lowest band",
    "Any band",
    "Lowest score",
    "Postcode districts",
    "SO17, M1 (empty: everywhere)",
    "At most",
    "recipients (empty: no limit)",
    "When",
    "Starts",
    "Empty: now.",
    "Ends",
    "Vouchers",
    "None",
    "One code for everyone",
    "A unique code each",
    "Code",
    "How many codes Britizen makes",
    "Create promotion",
    "Your promotions",
    "None yet. Create one on the left.",
)
