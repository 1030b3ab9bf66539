"""The HTML report: one self-contained file (plots embedded), every user string escaped."""

from labelaudit.report._render import render, render_annotators, render_multilabel

__all__ = ["render", "render_annotators", "render_multilabel"]
