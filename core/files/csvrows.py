"""Reading the CSV files customers upload: UTF-8 (a BOM is fine), a header row, numbered rows.

``row_number`` counts records as a spreadsheet shows them: the header is row 1, the first data row
is row 2. Blank lines are skipped (their numbers are not reused), cells are stripped, missing cells
are "" and cells beyond the header are ignored.
"""

import csv
import io
from contextlib import contextmanager
from operator import itemgetter
from typing import BinaryIO, Iterator

from core.api.errors import ValidationFailed


class CsvRows:
    def __init__(self, text, source: str):
        self.source = source
        self._reader = csv.reader(text, strict=True)  # an unclosed quote must not swallow the rest
        self._row_number = 1
        header = self._next()
        if header is None or not any(cell.strip() for cell in header):
            raise ValidationFailed(f"{source} is empty: its first row must name the columns.")
        self.header = [cell.strip() for cell in header]
        duplicates = sorted({c for c in self.header if c and self.header.count(c) > 1})
        if duplicates:
            raise ValidationFailed(f"{source} names the column(s) {', '.join(duplicates)} more than once.")

    def _next(self):
        try:
            return next(self._reader)
        except StopIteration:
            return None
        except UnicodeDecodeError:
            raise ValidationFailed(f"{self.source} is not UTF-8 text (row {self._row_number}).") from None
        except csv.Error as exc:
            raise ValidationFailed(f"{self.source} is not valid CSV (row {self._row_number}: {exc}).") from None

    def missing_columns(self, *names: str) -> list[str]:
        return [name for name in names if name not in self.header]

    def __iter__(self) -> Iterator[tuple[int, dict]]:
        """(row_number, {column: value}) for every non-blank row after the header."""
        while True:
            self._row_number += 1
            cells = self._next()
            if cells is None:
                return
            if not any(cell.strip() for cell in cells):
                continue
            cells = [cell.strip() for cell in cells] + [""] * (len(self.header) - len(cells))
            yield self._row_number, {name: cells[i] for i, name in enumerate(self.header) if name}

    def select(self, *names: str | None) -> Iterator[tuple[int, tuple[str, ...]]]:
        """(row_number, (the cells of the named columns)) for every non-blank row after the header, numbered
        and stripped as ``__iter__`` does; "" for a name that is None or not in the header. No dict per row:
        for files of a million rows."""
        # Every row gets one "" appended: position -1, where the columns that are not there read from.
        positions = [self.header.index(name) if name in self.header else -1 for name in names]
        cells_needed = max(positions, default=-1) + 2
        pick = itemgetter(*positions, -1)  # the extra -1: always a tuple, even for one name
        strip = str.strip
        try:
            while True:
                self._row_number += 1
                cells = next(self._reader)
                cells.append("")
                if len(cells) < cells_needed:
                    cells[-1:] = [""] * (cells_needed - len(cells) + 1)
                values = tuple(map(strip, pick(cells)[:-1]))
                if any(values) or any(cell.strip() for cell in cells):
                    yield self._row_number, values
        except StopIteration:
            return
        except UnicodeDecodeError:
            raise ValidationFailed(f"{self.source} is not UTF-8 text (row {self._row_number}).") from None
        except csv.Error as exc:
            raise ValidationFailed(f"{self.source} is not valid CSV (row {self._row_number}: {exc}).") from None


@contextmanager
def open_csv(binary_file: BinaryIO, *, source: str = "the file") -> Iterator[CsvRows]:
    """Read a binary file as CSV; ``source`` names it in error messages ("the file at file_url")."""
    text = io.TextIOWrapper(binary_file, encoding="utf-8-sig", newline="")
    try:
        yield CsvRows(text, source)
    finally:
        text.detach()  # the caller owns (and closes) the binary file
