"""Text from specs (names, file names, warnings) made safe for Markdown: shown as written, never read as markup."""

from __future__ import annotations

# Characters CommonMark reads as markup anywhere in a line (tables split cells at pipes, a heading drops a trailing
# '#'); each is escaped with a backslash. '<' and '&' would start raw HTML and entities: they become entities
# themselves.
_ESCAPED = frozenset("\\`*[]|~#")
_ENTITIES = {"<": "&lt;", "&": "&amp;"}


def md_text(text: str) -> str:
    """`text` as Markdown that renders exactly as `text`. An underscore between two letters or digits stays bare
    (CommonMark never reads it as emphasis there), so `conv1_1` stays readable in the source."""
    out = []
    for index, char in enumerate(text):
        if char in _ENTITIES:
            out.append(_ENTITIES[char])
        elif char in _ESCAPED:
            out.append("\\" + char)
        elif char == "_" and not _inside_word(text, index):
            out.append("\\_")
        else:
            out.append(char)
    return "".join(out)


def _inside_word(text: str, index: int) -> bool:
    return 0 < index < len(text) - 1 and text[index - 1].isalnum() and text[index + 1].isalnum()


def md_code(text: str) -> str:
    """`text` as an inline code span: backslashes cannot escape inside one, so the fence is a run of backticks
    longer than any in `text` (padded with spaces where `text` starts or ends with one)."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"
