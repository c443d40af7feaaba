"""The UI's message catalogues: ``.po`` sources in runtime/translations, ``.mo`` built from them.

``python -m runtime.i18n`` (``make static``) compiles every catalogue whose ``.mo``
is missing or older than its ``.po``. Flask-Babel reads the ``.mo`` files from
runtime/translations (the app's root path), the locale chosen by ``auth.user_language``.
Refreshing the sources after changing UI strings:
``pybabel extract -F babel.cfg -o runtime/translations/messages.pot .`` then
``pybabel update -i runtime/translations/messages.pot -d runtime/translations``
and translate what is new in zh/LC_MESSAGES/messages.po.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).parent / "translations"


def catalogs(folder: Path = TRANSLATIONS) -> list[Path]:
    return sorted(folder.glob("*/LC_MESSAGES/messages.po"))


def compile_catalogs(folder: Path = TRANSLATIONS, force: bool = False) -> list[Path]:
    """Write messages.mo next to each messages.po that is newer; return the files written."""
    written = []
    for po_path in catalogs(folder):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=po_path.parts[-3])
        _write_atomically(mo_path, catalog)
        written.append(mo_path)
    return written


def _write_atomically(path: Path, catalog) -> None:
    """Parallel test workers may compile at once: each writes its own file, then renames it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(handle, "wb") as out:
            write_mo(out, catalog, use_fuzzy=False)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    written = compile_catalogs(force="--force" in args)
    for path in written:
        print(f"compiled {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
