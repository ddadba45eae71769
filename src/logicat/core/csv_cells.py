"""Every CSV file logicat writes (``predict --format csv``, ``train --log-csv``): one writer whose
text cells cannot become formulas.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or a carriage
return before one) as a formula: a photo named ``=HYPERLINK(...).png`` would become a link, one
named ``=cmd|' -C calc'!A0.jpg`` a command. As OWASP advises, such a text cell is written with a
leading ``'``, which spreadsheets show as text. Numbers are numbers: -0.5 stays -0.5 (a float is
written as ``repr`` writes it, every digit kept), so only text can be escaped. Names that came
from the file system are written as ``paths.shown`` shows them (undecodable bytes as ``\\xff``).

    csv_text(["path", "probability"], [[Path("=x.png"), 0.25]])
    # 'path,probability\\n\\'=x.png,0.25\\n'
"""

from __future__ import annotations

import csv
import io
import numbers
import os
from collections.abc import Iterable, Sequence

from logicat.core.paths import shown

#: what a spreadsheet reads as the start of a formula (OWASP's list)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str | int | float:
    """One CSV cell: a number as itself, None as empty, a path as shown, text that could start
    a formula with a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return repr(float(value))
    text = shown(value) if isinstance(value, os.PathLike) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header: Sequence[object], rows: Iterable[Sequence[object]]) -> str:
    """The CSV file (Python's csv module, "\\n" line ends) of ``header`` and ``rows``, each cell
    through ``cell``."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow([cell(value) for value in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return text.getvalue()
