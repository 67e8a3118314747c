"""Reading a `cnncalc report` page back, for the report tests: its embedded JSON and every number it shows."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any


class Page(HTMLParser):
    """The page's <data> numbers (value, data-k path, text shown), its embedded JSON, and every tag that could make
    the browser fetch something."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.numbers: list[dict[str, str]] = []
        self.fetching: list[tuple[str, dict[str, str | None]]] = []
        self.csp = ""
        self._data: dict[str, str] | None = None
        self._script: list[str] | None = None
        self.embedded: dict[str, Any] = {}
        self.text_parts: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "data":
            self._data = {"value": attributes["value"] or "", "path": attributes["data-k"] or "", "text": ""}
        elif tag == "script" and attributes.get("id") == "cnncalc-data":
            self._script = []
        if tag == "meta" and (attributes.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = attributes.get("content") or ""
        if tag in ("link", "img", "iframe", "object", "embed", "source") or "src" in attributes:
            self.fetching.append((tag, attributes))
        href = attributes.get("href")
        if href is not None and not href.startswith("#"):
            self.fetching.append((tag, attributes))

    def handle_endtag(self, tag: str) -> None:
        if tag == "data" and self._data is not None:
            self.numbers.append(self._data)
            self._data = None
        elif tag == "script" and self._script is not None:
            self.embedded = json.loads("".join(self._script))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._data is not None:
            self._data["text"] += data
        if self._script is not None:
            self._script.append(data)
        else:
            self.text_parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


def at(data: Any, path: str) -> Any:
    """The value at a dotted path (`report.layers.3.macs`) of the embedded JSON."""
    for key in path.split("."):
        data = data[int(key)] if isinstance(data, list) else data[key]
    return data
