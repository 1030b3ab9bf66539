"""The HTML report: one self-contained file (plots embedded), every user string escaped."""

from labelaudit.report._render import render

__all__ = ["render"]
