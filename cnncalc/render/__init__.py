"""Renderers: a Report -> text for terminals (table), pipes and machines (json, csv, markdown)."""

FORMATS = ("table", "json", "csv", "markdown")
