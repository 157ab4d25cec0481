"""What /language and the language button in /settings say.

Each language's own name is written in that language, whichever language the screen is in, so
a person who can't read the current one still finds theirs."""

from __future__ import annotations

ENGLISH_NAME = "English"
WELSH_NAME = "Cymraeg"

CHOOSE = "Which language would you like Britizen in?\nCurrently: {current}."
SWITCHED = "Done: Britizen now speaks English to you. Send /language to change it again."
SETTINGS_BUTTON = "🌐 Language: {current}"
