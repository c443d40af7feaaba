"""Finding blocks: every block — shipped or third-party — is an entry point
in the ``takt.blocks`` group naming a package whose folder holds ``block.yaml``.

The shipped blocks are declared in setup.cfg exactly as a plant's own block
package would declare them in its own setup.cfg, so both take the same path.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import entry_points
from pathlib import Path

import yaml

GROUP = "takt.blocks"


class BlockError(ValueError):
    pass


@dataclass(frozen=True)
class Block:
    name: str
    package: str

    @cached_property
    def folder(self) -> Path:
        return Path(importlib.import_module(self.package).__file__).parent

    @cached_property
    def manifest(self) -> dict:
        path = self.folder / "block.yaml"
        try:
            manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            raise BlockError(f"block '{self.name}': cannot read {path}: {err}") from None
        if not isinstance(manifest, dict) or manifest.get("name") != self.name:
            raise BlockError(f"block '{self.name}': block.yaml must be a mapping whose name is '{self.name}'")
        return manifest

    def blueprint(self):
        """A block's own screens (``views.py`` with ``bp``), for what the generic runtime cannot render."""
        if not (self.folder / "views.py").exists():
            return None
        return importlib.import_module(f"{self.package}.views").bp

    def load_actions(self) -> None:
        """Importing a block's actions module registers its actions by name."""
        if (self.folder / "actions.py").exists():
            importlib.import_module(f"{self.package}.actions")


def available() -> dict[str, Block]:
    found = {}
    for entry in entry_points(group=GROUP):
        found.setdefault(entry.name, Block(entry.name, entry.value.split(":")[0]))
    return dict(sorted(found.items()))


def get(name: str) -> Block:
    blocks = available()
    if name not in blocks:
        raise BlockError(f"no block '{name}' is installed (installed: {', '.join(blocks) or 'none'})")
    return blocks[name]
