"""Where every `entrepot` command prints: the `stdout` console.

On a terminal it is Rich as usual: tables fit the window, wrapping long cells between words. When the
output is piped or redirected (`| grep`, `> file`, a script), no window bounds it: every line is printed
at its natural width, so a table row is one whole line that grep, cut or a diff can read, and no word is
cut to fit 80 columns ("divisi…"). Colour is left out there too, as Rich does for anything not a terminal.
For data, `entrepot report ... --format csv|json` gives plain rows."""

from __future__ import annotations

from rich.console import Console, ConsoleDimensions

# The width of a console that no terminal bounds: a table takes only the width it needs, so this is a
# ceiling no real table reaches, not a width anything is padded to.
UNBOUNDED = 100_000


class Output(Console):
    """A Rich console whose width, when it does not write to a terminal, is unbounded."""

    @property
    def size(self) -> ConsoleDimensions:
        measured = super().size
        if self.is_terminal or self._width is not None:
            return measured
        return ConsoleDimensions(UNBOUNDED, measured.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


stdout = Output()
