"""Advice as data: the catalogue (``catalog.toml``) holds every sentence fitdoc says,
in English and Chinese; this module fills its placeholders with a run's numbers."""

from __future__ import annotations

import locale
import os
import re
import string
from dataclasses import dataclass
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


def fill(entry: dict | str | list | None, lang: str, facts: dict) -> str | None:
    """The entry's text in ``lang`` with placeholders filled; None if a fact is missing.
    A text may be a list of alternatives: the first whose facts are all known."""
    if entry is None:
        return None
    template = entry.get(lang) or entry.get("en") if isinstance(entry, dict) else entry
    for text in template if isinstance(template, list) else [template]:
        try:
            return _Strict().format(text, **facts)
        except (KeyError, ValueError, TypeError, IndexError):
            continue
    return None


def say(section: str, key: str, lang: str, **facts) -> str:
    """A catalogue sentence; the key itself if the catalogue lacks it."""
    return fill(catalog().get(section, {}).get(key), lang, facts) or key


def say_at(section: str, key: str, lang: str, unit: str, **facts) -> str:
    """``say`` of a sentence naming an epoch, in the record's ``unit``: its ``_step``
    variant for a record numbered by logged steps."""
    return say(section, f"{key}_step" if unit == "step" else key, lang, **facts)


def unit_of(run) -> str:
    """``step`` for a record whose points are logged steps, else ``epoch``."""
    return "step" if run.info.get("x_axis") == "step" else "epoch"


def kind_title(kind: str, lang: str) -> str:
    return say("kinds", kind, lang)


def evidence(finding, lang: str, unit: str = "epoch") -> str:
    """What the finding saw, in the record's ``unit``: the points of a step record are
    steps, wherever the sentence names one."""
    entries = catalog()["evidence"]
    entry = entries.get(finding.message_id) or entries.get(finding.code)
    text = fill(entry, lang, finding.facts) or finding.name
    reading = finding.facts.get("reading")
    if reading:
        text = say("ui", "paren", lang, text=text, detail=fill(catalog()["readings"][reading], lang, finding.facts) or "")
    if unit == "step":
        text = text.replace("轮", "步") if lang == "zh" else _EPOCH_WORD.sub(lambda m: "step" + m.group(1), text)
    return text


_EPOCH_WORD = re.compile(r"\bepoch(s?)\b")


def cause_words(cause: str, lang: str, facts: dict) -> dict:
    """Title, reason and quick confirming check of one cause, and its fix ids."""
    entry = catalog()["causes"][cause]
    return {
        "cause": cause,
        "title": fill(entry["title"], lang, facts),
        "why": fill(entry.get("why"), lang, facts),
        "experiment": fill(entry.get("experiment"), lang, facts),
        "fixes": list(entry.get("fixes", [])),
    }


def rule_fix_ids(code: str) -> list[str]:
    return list(catalog().get("rule_fixes", {}).get(code, []))


def fix_entry(fix_id: str) -> dict:
    return catalog()["fixes"][fix_id]


def framework_of(run) -> str | None:
    """keras, lightning, pytorch or hf when the record says which; None otherwise."""
    frameworks = catalog()["frameworks"]
    return run.info.get("framework") or frameworks["formats"].get(run.format)


@dataclass
class Fix:
    """One fix in the run's framework: sentence, code per framework label, action."""

    id: str
    text: str
    action: dict
    code: dict[str, str]  # framework ("keras") -> code; empty for a fix in words
    group: str
    direction: str | None  # "lower" / "raise" when it moves the learning rate


def render_fix(fix_id: str, lang: str, facts: dict, framework: str | None) -> Fix | None:
    """The fix with the run's numbers (its ``fallback`` when they are unknown), or None
    when the run's framework has no code for it."""
    entry = fix_entry(fix_id)
    base = {k: v for k, v in entry.items() if k != "fallback"}
    for variant in (base, {**base, **entry["fallback"]} if "fallback" in entry else None):
        if variant is None:
            continue
        code = _code(variant.get("code"), facts, framework)
        if code is None:
            continue
        shown = "; ".join(code.values()) if len(set(code.values())) == 1 else "; ".join(
            f"{framework_label(fw)}: {c}" for fw, c in code.items())
        text = fill(variant, lang, {**facts, "code": shown})
        action = _action(variant["action"], facts)
        if text is not None and action is not None:
            return Fix(fix_id, text, action, code, entry.get("group", fix_id), entry.get("direction") or _direction(action))
    return None


# The frameworks shown when the record does not say which; others borrow pytorch code.
UNKNOWN_FRAMEWORKS = ("keras", "pytorch")


def _code(table: dict | None, facts: dict, framework: str | None) -> dict[str, str] | None:
    """Framework -> filled code; {} for a fix without code; None if unavailable."""
    if not table:
        return {}
    out = {}
    for fw in (framework,) if framework else UNKNOWN_FRAMEWORKS:
        text = fill(table.get(fw) or table.get("pytorch" if fw != "keras" else ""), "en", facts)
        if text is None:
            return None
        out[fw] = text
    return out


def framework_label(framework: str) -> str:
    return catalog()["frameworks"]["labels"][framework]


def _action(template: dict, facts: dict) -> dict | None:
    """The action with its "{fact}" values replaced by the facts themselves (numbers stay
    numbers); None when a fact is unknown."""
    out = {}
    for key, value in template.items():
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            value = facts.get(value[1:-1])
            if value is None:
                return None
        out[key] = value
    return out


def _direction(action: dict) -> str | None:
    if action.get("param") != "learning_rate":
        return None
    scale = action["scale"] if "scale" in action else action["to"] / action["from"]
    return "lower" if scale < 1 else "raise"


def note(text: str, lang: str) -> str:
    """A reader's (English) note in ``lang``, when the catalogue knows its shape."""
    if lang == "en":
        return text
    for entry in catalog().get("notes", []):
        found = re.match(entry["match"], text)
        if found and lang in entry:
            return entry[lang].format(**found.groupdict())
    return text
