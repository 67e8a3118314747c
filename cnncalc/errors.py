"""The one error base class. The CLI turns a CnncalcError into a message and an exit code; nothing else is caught."""

from __future__ import annotations

from typing import NamedTuple


class Location(NamedTuple):
    """A place in a spec file, 1-based like editors and compilers show it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class CnncalcError(Exception):
    """Any error cnncalc reports to the user: a message, where it happened, and what would be valid."""

    exit_code = 2  # usage errors and unreadable specs; budget failures use 1 (see `cnncalc check`)

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        layer: str | None = None,
        hint: str | None = None,
        note: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.layer = layer
        self.hint = hint  # what would be valid
        self.note = note  # context, such as the block a layer was expanded from

    def render(self) -> str:
        prefix = f"{self.location}: " if self.location else ""
        where = f"{self.layer}: " if self.layer else ""
        text = f"{prefix}error: {where}{self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        if self.note:
            text += f"\n  note: {self.note}"
        return text

    def __str__(self) -> str:
        return self.render()


class SpecError(CnncalcError):
    """The spec file cannot be read or describes an invalid network."""


class LayerError(CnncalcError):
    """A layer's arguments or input shapes are invalid.

    Raised by a kind's rules, which know neither the file nor the layer's name; the spec builder fills
    those in (`arg` names the argument at fault so the location can point at its value).
    """

    def __init__(self, message: str, *, arg: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.arg = arg


class UsageError(CnncalcError):
    """A command-line argument is invalid."""
