"""``[tool.fitdoc]`` in pyproject.toml: which rules run and their thresholds.

    [tool.fitdoc]
    select = ["FD1", "FD2"]      # code prefixes to run (default: all)
    ignore = ["FD105"]           # code prefixes to skip
    lang = "zh"

    [tool.fitdoc.rules.FD101]
    min_rise = 0.2
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

from .advice import tomllib
from .errors import FitdocError
from .rules import Rule, all_rules


@dataclass
class Config:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    rules: dict[str, dict] = field(default_factory=dict)
    lang: str | None = None
    source: str = "defaults"

    def enabled(self, code: str) -> bool:
        selected = not self.select or any(code.startswith(p) for p in self.select)
        return selected and not any(code.startswith(p) for p in self.ignore)

    def instantiate(self) -> list[Rule]:
        """The enabled rules, built with their configured thresholds."""
        catalogue = all_rules()
        for code in self.rules:
            if code not in catalogue:
                raise FitdocError(self.source, f"[tool.fitdoc.rules.{code}]: no such rule")
        built = []
        for code, cls in catalogue.items():
            if not self.enabled(code):
                continue
            params = self.rules.get(code, {})
            known = {f.name for f in fields(cls)}
            unknown = set(params) - known
            if unknown:
                raise FitdocError(
                    self.source,
                    f"[tool.fitdoc.rules.{code}]: unknown threshold(s) {', '.join(sorted(unknown))}; "
                    f"known: {', '.join(sorted(known)) or 'none'}",
                )
            built.append(cls(**params))
        return built


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(path: Path | None = None) -> Config:
    """The ``[tool.fitdoc]`` table of ``path`` (or the nearest pyproject.toml)."""
    path = path or find_pyproject()
    if path is None:
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FitdocError(str(path), f"cannot read configuration: {exc}") from None
    table = data.get("tool", {}).get("fitdoc", {})
    return Config(
        select=list(table.get("select", [])),
        ignore=list(table.get("ignore", [])),
        rules=dict(table.get("rules", {})),
        lang=table.get("lang"),
        source=str(path),
    )
