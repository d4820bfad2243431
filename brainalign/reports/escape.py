"""Escaping at the write boundary of the report formats: CSV cells and Markdown text.

Model specs, tags, objectives, run, layer, benchmark and region names come from users and end up
in the tables. Every CSV the reports write goes through :func:`csv_text` and every Markdown cell or
heading through :func:`markdown_text`, so a column added later is covered too. (The HTML report is
escaped by Jinja2's autoescape.)
"""

from __future__ import annotations

import html
import re

import pandas as pd

#: A cell starting with one of these is a formula (or DDE payload) to Excel, LibreOffice and Google
#: Sheets; OWASP's "CSV Injection" advice is to prefix such text cells with a single quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
#: Markdown punctuation that can start emphasis, code, links, images, tables or strikethrough.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~])")


def csv_cell(value):
    """``value``, with a single quote in front if it is text a spreadsheet would run as a formula.

    Only strings are touched: numbers (negative ones included) and text that is a plain number
    such as ``"-0.5"`` are left as they are. Carriage returns inside text become line feeds, so
    the CSV writer quotes the cell and no reader can take it for the end of a row.

    Examples
    --------
    >>> csv_cell("=HYPERLINK(\\"http://x\\")"), csv_cell("@SUM(A1)"), csv_cell("-0.5"), csv_cell(-0.5)
    ('\\'=HYPERLINK("http://x")', "'@SUM(A1)", '-0.5', -0.5)
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_PREFIXES) and not _NUMBER.fullmatch(value):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")   # a bare CR would end the row unquoted


def csv_text(table: pd.DataFrame) -> str:
    """The CSV text of ``table`` (without its index), every text cell and header passed through :func:`csv_cell`."""
    text_columns = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])
                    and not pd.api.types.is_bool_dtype(table[c])]
    safe = table.copy()
    for column in text_columns:
        safe[column] = safe[column].map(csv_cell)
    safe.columns = [csv_cell(str(c)) for c in table.columns]
    return safe.to_csv(index=False)


def markdown_text(value) -> str:
    """``value`` as literal Markdown text, safe inside a GitHub-flavoured table cell or a heading.

    ``<``, ``>`` and ``&`` become HTML entities (no raw HTML can render), Markdown punctuation
    that starts emphasis, code, links, images or strikethrough is backslash-escaped, ``|`` cannot
    end a table cell, and line breaks become spaces (a cell or heading stays on its line).

    Examples
    --------
    >>> markdown_text("<img src=x onerror=alert(1)> [a](javascript:x) *b* a|b")
    '&lt;img src=x onerror=alert(1)&gt; \\\\[a\\\\](javascript:x) \\\\*b\\\\* a\\\\|b'
    """
    text = " ".join(str(value).splitlines())
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(text, quote=False))
