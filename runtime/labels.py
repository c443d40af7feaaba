"""Labels are free Unicode: a plain string or a {language: text} map.

Identifiers stay ASCII slugs (they become SQL names); everything a person
reads comes through ``label_text`` so every screen falls back the same way.
"""
from __future__ import annotations

FALLBACK_LANGUAGES = ("en", "zh")


def prettify(name: str) -> str:
    """``work_order`` → ``Work order``: the label a name gets when none is given."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label_text(label, language: str = "en", name: str = "") -> str:
    if isinstance(label, str):
        return label
    if isinstance(label, dict) and label:
        for lang in (language, language.split("-")[0], *FALLBACK_LANGUAGES):
            if label.get(lang):
                return label[lang]
        return next(iter(label.values()))
    return prettify(name) if name else ""


def option_values(field) -> list[str]:
    return [opt if isinstance(opt, str) else opt["value"] for opt in field.get("options", [])]


def option_label(field, value, language="en") -> str:
    for opt in field.get("options", []):
        if isinstance(opt, dict) and opt["value"] == value:
            return label_text(opt.get("label"), language, value) if opt.get("label") else value
    return value
