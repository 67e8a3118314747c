"""Reading a `cnncalc report` page back, for the report tests: its embedded JSON and every number it shows."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any


class Page(HTMLParser):
    """The page's <data> numbers (value, data-k path, text shown), its embedded JSON, every tag that could make
    the browser fetch something, the tree's groups of entries and the graph's direction buttons."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.numbers: list[dict[str, str]] = []
        self.fetching: list[tuple[str, dict[str, str | None]]] = []
        self.csp = ""
        self._data: dict[str, str] | None = None
        self._script: list[str] | None = None
        self.embedded: dict[str, Any] = {}
        self.text_parts: list[str] = []
        # Each <details class=group>: its summary's text, whether it starts open, and the JSON path of each entry
        # directly in it (the path of the entry's first number, less its key).
        self.groups: list[dict[str, Any]] = []
        self.direction_buttons: list[tuple[str | None, str | None]] = []  # (data-rankdir-button, aria-pressed)
        self._frames: list[dict[str, Any]] = []  # the open tree elements: group, block, leaf
        self._label: list[str] | None = None
        self.feed(text)
        self.close()

    def _tree_start(self, tag: str, attributes: dict[str, str | None]) -> None:
        classes = (attributes.get("class") or "").split()
        if tag == "button" and "data-rankdir-button" in attributes:
            self.direction_buttons.append((attributes["data-rankdir-button"], attributes.get("aria-pressed")))
        parent = self._frames[-1] if self._frames else None
        if tag == "details" or (tag == "div" and "leaf" in classes):
            frame: dict[str, Any] = {"tag": tag, "group": None, "in": None}
            if parent is not None and parent["group"] is not None:
                frame["in"] = parent["group"]  # an entry of that group
            if "group" in classes:
                frame["group"] = {"label": "", "open": "open" in attributes, "entries": []}
                self.groups.append(frame["group"])
            self._frames.append(frame)
        elif tag == "summary" and parent is not None and parent["group"] is not None and not parent["group"]["label"]:
            self._label = []
        elif tag == "data":
            for frame in reversed(self._frames):
                if frame["in"] is not None:  # the entry's first number is its own (its summary comes first)
                    if not frame.get("named"):
                        frame["in"]["entries"].append((attributes["data-k"] or "").rsplit(".", 1)[0])
                        frame["named"] = True
                    break

    def _tree_end(self, tag: str) -> None:
        if tag == "summary" and self._label is not None:
            self._frames[-1]["group"]["label"] = " ".join("".join(self._label).split())
            self._label = None
        elif tag in ("details", "div") and self._frames and self._frames[-1]["tag"] == tag:
            self._frames.pop()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self._tree_start(tag, attributes)
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
        self._tree_end(tag)
        if tag == "data" and self._data is not None:
            self.numbers.append(self._data)
            self._data = None
        elif tag == "script" and self._script is not None:
            self.embedded = json.loads("".join(self._script))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self._label.append(data)
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
