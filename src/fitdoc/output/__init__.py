"""Renderers of a :class:`~fitdoc.engine.Report`: terminal, JSON, Markdown, PNG."""
