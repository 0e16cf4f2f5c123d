"""A small results table rendered to the terminal (rich), Markdown and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from ..output.text import md_cell


def findings_cell(findings: list[dict], lang: str) -> str:
    """``FD101 过拟合，FD104 ...``: distinct codes with their titles in ``lang``; an em dash for none."""
    from ..advice import say
    from ..output.text import title

    return say("ui", "comma", lang).join(dict.fromkeys(f"{f['code']} {title(f['code'], f['kind'], lang)}" for f in findings)) or "—"


def fmt(value, digits: int = 4) -> str:
    """A number for a table cell: 4 significant digits, an em dash for missing."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


@dataclass
class Bullets:
    """A titled list of sentences, rendered to HTML beside a :class:`Table`."""

    title: str
    lines: list[str]

    def to_html(self, lang: str = "en") -> str:
        items = "".join(f"<li>{escape(line)}</li>" for line in self.lines)
        return f"<h2>{escape(self.title)}</h2><ul>{items}</ul>"


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)
    numeric: set[int] = field(default_factory=set)  # right-aligned column indexes
    optional: list[int] = field(default_factory=list)  # columns a narrow terminal drops, first to go first
    detail: int | None = None  # a long text column a narrow terminal prints under its row

    def to_markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |",
                 "|" + "|".join("---:" if i in self.numeric else "---" for i in range(len(self.columns))) + "|"]
        lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in self.rows]
        if self.notes:
            lines += [""] + [f"> {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def print(self, console) -> None:
        """The table at the console's width: whole, or without its optional columns, or with
        its detail column under each row, or, when even that would split a word or a number,
        one block of lines per row."""
        from rich.text import Text

        from ..output.terminal import encodable
        from ..output.text import wrap

        layout = self._layout(console.width)
        if layout is None:
            return self.print_vertical(console)
        keep, below, widths = layout

        rule = "─" if encodable(console, "─") else "-"
        indent = widths[0] + 2
        console.print(Text(self.title, style="bold"))
        for line in self._lines([self.columns[i] for i in keep], keep, widths):
            console.print(Text(line.rstrip(), style="bold"), no_wrap=True, crop=False)
        console.print(Text(rule * (sum(widths) + 2 * (len(widths) - 1)), style="dim"), no_wrap=True, crop=False)
        for row in self.rows:
            lines = self._lines([row[i] for i in keep], keep, widths)
            if below is not None and row[below]:
                lines += [" " * indent + part for part in wrap(row[below], console.width - indent)]
            for line in lines:
                console.print(Text(line.rstrip()), no_wrap=True, crop=False)
        self._print_notes(console)

    def _layout(self, width: int):
        """(columns kept, column printed below its row, widths): the first layout that fits and
        leaves the run's name whole, else the first that fits; None if none does."""
        from ..output.text import cell_len

        everything = list(range(len(self.columns)))
        narrow = [i for i in everything if i not in self.optional]
        label = next((i for i in everything if i not in self.numeric), 0)
        fits = []
        for keep, below in [(everything, None), (narrow, None), (everything, self.detail), (narrow, self.detail)]:
            keep = [i for i in keep if i != below]
            widths = self._widths(keep, width)
            if widths is None:
                continue
            fits.append((keep, below, widths))
            whole = max(cell_len(row[label]) for row in self.rows) if self.rows else 0
            if label not in keep or widths[keep.index(label)] >= whole:
                return fits[-1]
        return fits[0] if fits else None

    def _widths(self, keep: list[int], width: int) -> list[int] | None:
        """Column widths that fit ``width`` without splitting a number or a word; None if none do."""
        from ..output.text import cell_len

        def longest_word(text: str) -> int:
            return max((cell_len(w) for w in text.split()), default=0)

        body = [[row[i] for row in self.rows] for i in keep]
        full = [max([cell_len(self.columns[i]), *map(cell_len, col)]) for i, col in zip(keep, body)]
        # a number is never split; a header or a text cell wraps between words
        least = [max([longest_word(self.columns[i]), *map(cell_len if i in self.numeric else longest_word, col)])
                 for i, col in zip(keep, body)]
        room = width - 2 * (len(keep) - 1)
        if sum(least) > room:
            return None
        widths = list(least)
        while sum(widths) < room:  # widen the column that is furthest from its full width
            gaps = [f - w for f, w in zip(full, widths)]
            j = max(range(len(gaps)), key=gaps.__getitem__)
            if gaps[j] <= 0:
                break
            widths[j] += min(gaps[j], room - sum(widths))
        return widths

    def _lines(self, cells: list[str], keep: list[int], widths: list[int]) -> list[str]:
        from ..output.text import cell_len, wrap

        wrapped = [wrap(c, w) for c, w in zip(cells, widths)]
        height = max(len(w) for w in wrapped)
        out = []
        for k in range(height):
            parts = []
            for i, w, lines in zip(keep, widths, wrapped):
                text = lines[k] if k < len(lines) else ""
                pad = " " * (w - cell_len(text))
                parts.append(pad + text if i in self.numeric else text + pad)
            out.append("  ".join(parts))
        return out

    def print_vertical(self, console) -> None:
        """Each row as a heading (its first text cell) and ``column value`` pairs packed into
        lines no wider than the console, a pair never split."""
        from rich.text import Text

        from ..output.text import cell_len, wrap

        from ..output.terminal import encodable

        width = console.width
        dot = " · " if encodable(console, "·") else " - "
        label = next(i for i in range(len(self.columns)) if i not in self.numeric)
        console.print(Text(self.title, style="bold"))
        for row in self.rows:
            console.print(Text(row[label], style="bold"), overflow="fold")
            lines = [""]
            for i, cell in enumerate(row):
                pair = f"{self.columns[i]} {cell}"
                if i == label:
                    continue
                if lines[-1] and cell_len(lines[-1]) + 3 + cell_len(pair) <= width - 2:
                    lines[-1] += dot + pair
                elif lines[-1]:
                    lines.append(pair)
                else:
                    lines[-1] = pair
            for line in lines:
                first, *rest = wrap(line, width - 2)
                console.print(Text("  " + first), no_wrap=True, crop=False)
                for part in wrap(" ".join(rest), width - 4) if rest else []:
                    console.print(Text("    " + part), no_wrap=True, crop=False)
        self._print_notes(console)

    def _print_notes(self, console) -> None:
        from rich.text import Text

        from ..output.text import wrap

        for note in self.notes:
            for line in wrap(note, console.width):
                console.print(Text(line, style="dim"), no_wrap=True, crop=False)

    def to_html(self, lang: str = "en") -> str:
        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f'<td{" class=num" if i in self.numeric else ""}>{escape(c)}</td>'
                             for i, c in enumerate(row)) + "</tr>"
            for row in self.rows
        )
        notes = "".join(f'<p class="note">{escape(n)}</p>' for n in self.notes)
        return (f'<h2>{escape(self.title)}</h2><div class="table-wrap"><table class="results"><tr>{head}</tr>'
                f'{body}</table></div>{notes}')
