"""Tests of the HTML report."""

#: The report's sections, in page order (the ids of its <section> elements).
SECTIONS = [
    "health",
    "noise-matrix",
    "class-pairs",
    "classes",
    "distributions",
    "top-issues",
    "metadata",
]
