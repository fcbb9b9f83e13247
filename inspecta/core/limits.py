"""Bounds of user-supplied numbers. Ids are 64-bit (PostgreSQL bigint, SQLite INTEGER):
a larger integer from a request cannot name any row, and SQLite cannot even bind it
(``OverflowError``), so inputs are bounded where they are parsed."""

MAX_ID = 2**63 - 1
