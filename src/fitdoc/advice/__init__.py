"""Advice as data: the catalogue (``catalog.toml``) holds every sentence fitdoc says,
in English and Chinese; this module fills its placeholders with a run's numbers."""

from __future__ import annotations

import locale
import os
import re
import string
from functools import lru_cache
from importlib import resources

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

LANGS = ("en", "zh")


@lru_cache(maxsize=None)
def catalog() -> dict:
    """The merged catalogues (``catalog.toml`` first, then any other ``*.toml`` here)."""
    merged: dict = {}
    files = sorted(resources.files(__package__).iterdir(), key=lambda f: (f.name != "catalog.toml", f.name))
    for f in files:
        if f.name.endswith(".toml"):
            _merge(merged, tomllib.loads(f.read_text(encoding="utf-8")))
    return merged


def _merge(into: dict, new: dict) -> None:
    for key, value in new.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def default_lang() -> str:
    """``zh`` when the locale says Chinese, else ``en``."""
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    loc = locale.getlocale()[0] or ""
    return "zh" if loc.lower().startswith("zh") else "en"


class _Strict(string.Formatter):
    def get_value(self, key, args, kwargs):
        value = kwargs[key]  # KeyError: placeholder unknown for this run
        if value is None:
            raise KeyError(key)
        return value


def fill(entry: dict | str | None, lang: str, facts: dict) -> str | None:
    """The entry's text in ``lang`` with placeholders filled; None if a fact is missing."""
    if entry is None:
        return None
    template = entry if isinstance(entry, str) else entry.get(lang) or entry.get("en")
    try:
        return _Strict().format(template, **facts)
    except (KeyError, ValueError, TypeError):
        return None


def say(section: str, key: str, lang: str, **facts) -> str:
    """A catalogue sentence; the key itself if the catalogue lacks it."""
    return fill(catalog().get(section, {}).get(key), lang, facts) or key


def kind_title(kind: str, lang: str) -> str:
    return say("kinds", kind, lang)


def evidence(finding, lang: str) -> str:
    entries = catalog()["evidence"]
    entry = entries.get(finding.message_id) or entries.get(finding.code)
    text = fill(entry, lang, finding.facts) or finding.name
    reading = finding.facts.get("reading")
    if reading:
        text += " (" + (fill(catalog()["readings"][reading], lang, finding.facts) or "") + ")"
    return text


def fix_text(fix: dict, lang: str, facts: dict) -> str | None:
    """A fix with the run's numbers, or its generic ``fallback`` when they are unknown."""
    return fill(fix, lang, facts) or fill(fix.get("fallback"), lang, facts)


def cause_advice(cause: str, lang: str, facts: dict) -> dict:
    """Title, reason, fixes, snippets and a quick confirming check for one cause."""
    entry = catalog()["causes"][cause]
    return {
        "cause": cause,
        "title": fill(entry["title"], lang, facts),
        "why": fill(entry.get("why"), lang, facts),
        "fixes": [t for t in (fix_text(f, lang, facts) for f in entry.get("fixes", [])) if t],
        "keras": entry.get("keras"),
        "pytorch": entry.get("pytorch"),
        "experiment": fill(entry.get("experiment"), lang, facts),
    }


def rule_fixes(code: str, lang: str, facts: dict) -> list[str]:
    """The run-specific fixes of a rule."""
    return [t for t in (fix_text(f, lang, facts) for f in catalog().get("rule_fixes", {}).get(code, [])) if t]


def note(text: str, lang: str) -> str:
    """A reader's (English) note in ``lang``, when the catalogue knows its shape."""
    if lang == "en":
        return text
    for entry in catalog().get("notes", []):
        found = re.match(entry["match"], text)
        if found and lang in entry:
            return entry[lang].format(**found.groupdict())
    return text
