"""The record service's field messages, in the user's language.

The service words its messages in English for every caller (API, importer,
jobs); screens show them next to a field, so the common ones are matched here
and translated. Anything not matched is shown as the service wrote it.
"""
from __future__ import annotations

import re

from flask_babel import gettext as _

# (pattern, function of the match's groups) — the most frequent messages first.
_PATTERNS = [
    (r"is required", lambda: _("is required")),
    (r"needs at least one row", lambda: _("needs at least one row")),
    (r"must be at least (.+)", lambda n: _("must be at least %(n)s", n=n)),
    (r"must be at most (.+)", lambda n: _("must be at most %(n)s", n=n)),
    (r"'(.*)' is not a whole number", lambda v: _("'%(value)s' is not a whole number", value=v)),
    (r"must be a whole number, got (.+)", lambda v: _("'%(value)s' is not a whole number", value=v)),
    (r"'(.*)' is not a number", lambda v: _("'%(value)s' is not a number", value=v)),
    (r"has more than (\d+) decimal places", lambda n: _("has more than %(n)s decimal places", n=n)),
    (r"'(.*)' is not a date \(use YYYY-MM-DD\)", lambda v: _("'%(value)s' is not a date (use YYYY-MM-DD)", value=v)),
    (r"'(.*)' is not a date and time.*", lambda v: _("'%(value)s' is not a date and time", value=v)),
    (r"'(.*)' is not a duration.*", lambda v: _("'%(value)s' is not a duration (try 90, 1:30:00 or 1h 30m)", value=v)),
    (r"'(.*)' is not one of the options: .*", lambda v: _("'%(value)s' is not one of the options", value=v)),
    (r"no (\w+) record '(.*)'", lambda t, v: _("no record '%(value)s' found", value=v)),
    (r"'(.*)' is already used by another record", lambda v: _("'%(value)s' is already used by another record", value=v)),
    (r"is too long \((\d+) characters, at most (\d+)\)", lambda n, m: _("is too long (at most %(max)s characters)", max=m)),
    (r"'(.*)' does not have the expected format .*", lambda v: _("'%(value)s' does not have the expected format", value=v)),
    (r"is too large", lambda: _("is too large")),
    (r"must not be negative", lambda: _("must not be negative")),
]
_COMPILED = [(re.compile(pattern + r"\Z", re.S), make) for pattern, make in _PATTERNS]


def translate(message: str) -> str:
    for pattern, make in _COMPILED:
        match = pattern.match(message)
        if match:
            return make(*match.groups())
    return message
