"""``takt mrp run --input plan.json --out result.json``: file in, file out.

``run`` is what the console command calls. Exit codes: 0 when the result
was written; 2 when the run could not start or finish because of what the
user gave it — an unreadable or invalid JSON file, a plan the engine rejects
(``MrpInputError``) or an output path that cannot be written. The reason is
one message on ``stderr``, never a traceback; a traceback means a bug.

The result is written to a temporary file next to ``out_path`` and renamed
into place, so a failed run never leaves half a result behind.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys

from blocks.mrp.engine import MrpInputError, run_mrp

EXIT_OK = 0
EXIT_BAD_INPUT = 2
SLICE = 5000                    # entries encoded per json.dumps call when writing


def run(input_path: str, out_path: str, stderr=sys.stderr) -> int:
    """Read the plan at ``input_path``, run MRP, write the result to ``out_path``."""
    try:
        plan = _read_plan(input_path)
        result = run_mrp(plan)
        _write_result(result, out_path)
    except _UserError as err:
        print(f"error: {err}", file=stderr)
        return EXIT_BAD_INPUT
    except MrpInputError as err:
        print(f"error: invalid MRP plan in {input_path}:\n{err}", file=stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


class _UserError(Exception):
    """A file problem worded for the person who typed the command."""


def _read_plan(path: str):
    """Load JSON from ``path``, turning file and syntax errors into ``_UserError``."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as err:
        raise _UserError(f"cannot read input file {path}: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise _UserError(f"{path} is not UTF-8 text: {err.reason} at byte {err.start}") from None
    except json.JSONDecodeError as err:
        raise _UserError(f"{path} is not valid JSON: {err.msg} "
                         f"(line {err.lineno}, column {err.colno})") from None


def _write_result(result: dict, path: str) -> None:
    """Write ``result`` as JSON atomically: temp file in the same folder, then rename.

    The temp file is opened with plain ``open`` so it gets the usual umask
    permissions (``tempfile`` would make the result readable by its owner only).
    """
    temp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            write_json(result, handle)
        os.replace(temp, path)
    except OSError as err:
        _discard(temp)
        raise _UserError(f"cannot write output file {path}: {err.strerror or err}") from None
    except BaseException:
        _discard(temp)
        raise


def _discard(path: str) -> None:
    """Remove a leftover temp file, if it was created at all."""
    with contextlib.suppress(OSError):
        os.remove(path)


def write_json(result: dict, handle, size: int = SLICE) -> None:
    """Write ``result`` as JSON using the C encoder on slices of each top-level value.

    ``json.dump`` streams through CPython's pure-Python encoder (about half
    the speed), while one ``json.dumps`` of a 20,000-item result holds ~180 MB
    of text at once. Encoding ``size`` entries of a top-level dict or list at
    a time gives C speed with a bounded amount of text in memory.
    """
    handle.write("{")
    for n, (key, value) in enumerate(result.items()):
        handle.write(f"{', ' if n else ''}{_dumps(key)}: ")
        if isinstance(value, (dict, list)):
            _write_sliced(value, handle, size)
        else:
            handle.write(_dumps(value))
    handle.write("}")


def _write_sliced(value, handle, size: int) -> None:
    """Write a dict or list ``size`` entries at a time, joining the slices' inner text."""
    entries = list(value.items()) if isinstance(value, dict) else value
    make = dict if isinstance(value, dict) else list
    handle.write("{" if make is dict else "[")
    for start in range(0, len(entries), size):
        inner = _dumps(make(entries[start:start + size]))[1:-1]
        handle.write(f"{', ' if start else ''}{inner}")
    handle.write("}" if make is dict else "]")


def _dumps(value) -> str:
    """Encode with the settings every piece of the output shares."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
