"""Naming series: human record ids such as ``WO-202611-00042``.

The counter lives in ``takt_naming_counters`` keyed by app, table and the
resolved prefix (so ``WO-{YYYY}{MM}-`` restarts every month). It is bumped
with one ``UPDATE … RETURNING`` inside the record's own transaction, which
gives distinct ids under concurrency and no gaps when a write rolls back.
"""
from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa

from .models import NamingCounter

TOKEN = re.compile(r"\{([^{}]*)\}")
DATE_TOKENS = {"YYYY": "%Y", "YY": "%y", "MM": "%m", "DD": "%d"}


def series_problems(pattern: str) -> list[str]:
    tokens = TOKEN.findall(pattern)
    problems = [f"unknown token {{{t}}}: use {{YYYY}}, {{YY}}, {{MM}}, {{DD}} or {{#####}}"
                for t in tokens if t not in DATE_TOKENS and not re.fullmatch(r"#{1,12}", t)]
    counters = [t for t in tokens if t.startswith("#")]
    if len(counters) != 1:
        problems.append("needs exactly one counter such as {#####}")
    if TOKEN.sub("", pattern).count("{") or TOKEN.sub("", pattern).count("}"):
        problems.append("has an unmatched brace")
    return problems


def resolve(pattern: str, when: dt.date) -> tuple[str, str, int]:
    """Split a pattern into (prefix, suffix, digits) for the given date."""
    def date_part(match):
        token = match.group(1)
        return when.strftime(DATE_TOKENS[token]) if token in DATE_TOKENS else match.group(0)

    resolved = TOKEN.sub(date_part, pattern)
    counter = re.search(r"\{(#+)\}", resolved)
    return resolved[:counter.start()], resolved[counter.end():], len(counter.group(1))


def next_names(conn, app_slug: str, table: str, pattern: str, count: int = 1, when=None) -> list[str]:
    """Reserve ``count`` consecutive names in the caller's transaction."""
    prefix, suffix, digits = resolve(pattern, when or dt.date.today())
    counters = NamingCounter.__table__
    key = {"app_slug": app_slug, "table_name": table, "prefix": prefix}
    insert = _insert_ignore(conn, counters, {**key, "value": 0})
    conn.execute(insert)
    stmt = (sa.update(counters)
            .where(*(counters.c[k] == v for k, v in key.items()))
            .values(value=counters.c.value + count)
            .returning(counters.c.value))
    last = conn.execute(stmt).scalar_one()
    return [f"{prefix}{n:0{digits}d}{suffix}" for n in range(last - count + 1, last + 1)]


def _insert_ignore(conn, table, values):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).values(**values).on_conflict_do_nothing()
