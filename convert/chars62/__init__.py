"""The 62-class character model of text mode (Chars74K + renders): data, training, run records, card.

`PYTHONPATH=. python -m convert.chars62.run train|ship ...` (see docs/CHARS62.md). Uses the shared
export, parity and card code of convert/.
"""
