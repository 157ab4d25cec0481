"""Everything a citizen, sponsor or partner reads, in one home.

Pure: no I/O and no imports from the rest of Britizen except plain data types, so any layer
(scoring explanations, services queueing outbox messages, handlers, the API) can word things
through it. One module per area (`texts.score`, `texts.loans`, ...); `texts.format` holds the
single formatter for money, dates, times and bands.
"""
