"""How a diagnosis prints: a few lines in a terminal, a short HTML block in a notebook."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

#: Advice lines and table rows a printed summary shows.
REPR_ROWS = 5


@dataclass(frozen=True)
class Summary:
    """The parts of a result's ``__repr__`` and ``_repr_html_``."""

    title: str
    """What the result is, as ``<Audit of 3000 labels>``; text only."""
    headline: str
    heading: str
    """The title of the advice lines, as ``Systematic confusions (fix the guideline):``."""
    advice: list[str]
    none: str
    """The sentence shown instead when there is no advice."""
    more_in: str
    """Where the advice lines beyond :data:`REPR_ROWS` are, as ``.class_pairs``."""
    tables: str
    """The closing line naming the tables."""
    tables_html: str
    """The same in HTML (no data in it, so not escaped)."""
    top: Any = None
    """A DataFrame of the first rows to show in a notebook, already cut and chosen."""
    top_caption: str = ""
    top_index: bool = True
    warnings: list[str] = field(default_factory=list)

    def _shown(self) -> tuple[list[str], int]:
        return self.advice[:REPR_ROWS], len(self.advice) - REPR_ROWS

    def text(self) -> str:
        """The terminal form: warnings after the advice."""
        lines = [f"{self.title} {self.headline}"]
        shown, more = self._shown()
        if shown:
            lines.append(self.heading)
            lines += [f"  {line}" for line in shown]
            if more > 0:
                lines.append(f"  ... and {more} more in {self.more_in}")
        else:
            lines.append(self.none)
        lines += [f"Warning: {text}" for text in self.warnings]
        lines.append(self.tables)
        return "\n".join(lines)

    def html(self) -> str:
        """The notebook form, every string escaped: warnings after the headline, the
        advice as a list, the ``top`` rows as a table."""
        parts = [f"<p><b>{escape(self.headline)}</b></p>"]
        parts += [f"<p>Warning: {escape(text)}</p>" for text in self.warnings]
        shown, more = self._shown()
        if shown:
            items = "".join(f"<li>{escape(line)}</li>" for line in shown)
            if more > 0:
                items += f"<li>... and {more} more in <code>{self.more_in}</code></li>"
            parts.append(f"<p>{escape(self.heading)}</p><ul>{items}</ul>")
        else:
            parts.append(f"<p>{escape(self.none)}</p>")
        if self.top is not None and len(self.top):
            parts.append(f"<p>{escape(self.top_caption)}</p>")
            parts.append(
                self.top.to_html(index=self.top_index, float_format="{:.3f}".format, escape=True)
            )
        parts.append(f"<p>{self.tables_html}</p>")
        return "".join(parts)
