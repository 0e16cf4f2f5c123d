"""A small results table rendered to the terminal (rich), Markdown and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from ..output.text import md_cell


def findings_cell(findings: list[dict], lang: str) -> str:
    """``FD101 过拟合, FD104 ...``: distinct codes with their kind in ``lang``; an em dash for none."""
    from ..advice import kind_title

    return ", ".join(dict.fromkeys(f"{f['code']} {kind_title(f['kind'], lang)}" for f in findings)) or "—"


def fmt(value, digits: int = 4) -> str:
    """A number for a table cell: 4 significant digits, an em dash for missing."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    numeric: set[int] = field(default_factory=set)  # right-aligned column indexes

    def to_markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---:" if i in self.numeric else "---" for i in range(len(self.columns))) + "|"]
        lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in self.rows]
        if self.notes:
            lines += [""] + [f"> {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_rich(self):
        from rich.table import Table as RichTable

        table = RichTable(title=self.title, caption="\n".join(self.notes) or None, caption_justify="left")
        for i, col in enumerate(self.columns):
            table.add_column(col, justify="right" if i in self.numeric else "left", overflow="fold")
        for row in self.rows:
            table.add_row(*row)
        return table

    def to_html(self, lang: str = "en") -> str:
        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f'<td{" class=num" if i in self.numeric else ""}>{escape(c)}</td>'
                             for i, c in enumerate(row)) + "</tr>"
            for row in self.rows
        )
        notes = "".join(f'<p class="note">{escape(n)}</p>' for n in self.notes)
        return f'<h2>{escape(self.title)}</h2><table class="results"><tr>{head}</tr>{body}</table>{notes}'
