"""Copy the built files of front-end libraries from ``node_modules/`` into
``runtime/static/vendor/<package>/``: ``python -m runtime.vendor``.

The versions are pinned in ``package.json`` / ``package-lock.json`` (``npm ci``
installs exactly them); the copies are build output and stay out of git.
To serve another library, add it with ``npm install --save-exact NAME@VERSION``
and list the files the pages load in ``VENDOR``.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = Path(__file__).resolve().parent / "static" / "vendor"

#: npm package → files (relative to the package folder) copied to static/vendor/<package>/ under their base names.
VENDOR: dict[str, tuple[str, ...]] = {
    "chart.js": ("dist/chart.umd.min.js", "LICENSE.md"),
}


class VendorError(RuntimeError):
    pass


def copy_vendor(node_modules: Path = ROOT / "node_modules", target: Path = TARGET,
                vendor: dict[str, tuple[str, ...]] = VENDOR) -> list[Path]:
    """Copy every listed file; refuse (before copying anything) when one is missing."""
    missing = [f"{package}/{name}" for package, names in vendor.items() for name in names
               if not (node_modules / package / name).is_file()]
    if missing:
        raise VendorError(f"missing in {node_modules}: {', '.join(missing)}; run `npm ci` first")
    copied = []
    for package, names in vendor.items():
        folder = target / package
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            copied.append(Path(shutil.copy2(node_modules / package / name, folder / Path(name).name)))
    return copied


def main() -> int:
    try:
        copied = copy_vendor()
    except VendorError as err:
        print(f"vendor: {err}", file=sys.stderr)
        return 1
    for path in copied:
        print(f"vendor: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
