"""Meta-tests that keep the docs and the registries honest."""
from __future__ import annotations

import inspect
from pathlib import Path

import click

from runtime.cli import main
from runtime.config import DefaultConfig
from runtime.fieldtypes import FIELD_TYPES
from runtime.validator import app_schema

ROOT = Path(__file__).resolve().parent.parent


def command_names(group: click.Group, prefix="takt"):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from command_names(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


def test_every_cli_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in command_names(main) if name not in readme]
    assert not missing, f"document these commands in README.md: {missing}"


def test_schema_field_types_match_the_registry():
    enum = app_schema()["$defs"]["field"]["properties"]["type"]["enum"]
    assert sorted(enum) == sorted(FIELD_TYPES)


def test_every_setting_is_documented_in_the_config_object():
    source = inspect.getsource(DefaultConfig).splitlines()
    settings = [name for name in vars(DefaultConfig) if name.isupper()]
    for name in settings:
        line = next(i for i, text in enumerate(source) if text.strip().startswith(f"{name} ="))
        assert any(text.strip().startswith("#:") for text in source[max(0, line - 3):line]), \
            f"{name} needs a '#:' comment saying what it does"
