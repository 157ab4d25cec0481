"""What /mydata and /delete say in the chat (handlers.data_rights) beyond texts.data_rights:
the export's caption and the confirmation's buttons."""

from __future__ import annotations

EXPORT_CAPTION = (
    "Everything Britizen holds about you, as JSON: profile (NI number masked), "
    "consents, scores and history, friends, loans and payments, payment events, "
    "offers, score sharing and its access log, disputes and messages we sent."
)
ERASE_BUTTON = "Yes, erase everything"
KEEP_BUTTON = "No, keep my account"
ERASED_TOAST = "Erased."
