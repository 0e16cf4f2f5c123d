"""The fast path of the Trainer stdout reader: a dict line such as
``{'loss': 0.8473, 'grad_norm': '0.42', 'learning_rate': 4.8e-05, 'epoch': 0.25}``
read with one regex instead of ``ast.literal_eval`` (half the reader's time).

Only a line made of nothing but quoted names and plain numbers (or quoted plain
numbers, as newer Trainers print them) is taken, and it gives what ``literal_eval``
gives: ints for integer literals, floats, strings; anything else returns None.
"""

from __future__ import annotations

import re

_NUMBER = r"-?(?:(?:\d+\.\d*|\.\d+|\d+)[eE][+-]?\d+|\d+\.\d*|\.\d+)"  # a float literal
_INT = r"-?(?:0+|[1-9]\d{0,30})"  # literal_eval refuses 05, and long ints are left to it
_ITEM = re.compile(rf"'([A-Za-z_][\w./-]*)': (?:({_NUMBER})|({_INT})|'([-+.\w]*)')(, |\}})", re.ASCII)


def plain_dict(text: str) -> dict | None:
    """``ast.literal_eval(text)`` of a plain dict line, or None when it is not one."""
    if not text.startswith("{'"):
        return None
    row, pos, end = {}, 1, len(text)
    while m := _ITEM.match(text, pos):
        name, number, integer, string, sep = m.groups()
        row[name] = float(number) if number else int(integer) if integer else string
        pos = m.end()
        if sep == "}":
            return row if pos == end else None
    return None
