"""The brief's sections: one module per section, ``build(ctx: SectionContext) -> SectionResult``.

Each module words results of :mod:`capscope.analytics` for one section of the brief; none computes a statistic.
A section that cannot be computed returns a "not available" fact saying why. :data:`SECTIONS` is the page
order; :data:`BUILD_ORDER` the order they run in (the headline last: it restates the others' facts).

Modules: :mod:`.headline`, :mod:`.small_vs_large`, :mod:`.technical` (with :mod:`.patterns`),
:mod:`.growth_value`, :mod:`.breadth`, :mod:`.calendar` (reconstitution), :mod:`.study` (event study),
:mod:`.provenance`; :mod:`.pairs` holds what the two pair sections share.
"""

from __future__ import annotations

#: Sections in page order: (id, title).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("headline", "Headline"),
    ("small_vs_large", "Small vs large caps"),
    ("technical", "Technical picture"),
    ("growth_value", "Growth vs value"),
    ("breadth", "Breadth"),
    ("reconstitution", "Reconstitution calendar"),
    ("studies", "Event study: how these signals did before"),
    ("provenance", "Data provenance and caveats"),
)

#: Section modules (under this package) in the order they are built; the headline runs after all of them.
BUILD_ORDER: tuple[str, ...] = (
    "technical",
    "small_vs_large",
    "growth_value",
    "breadth",
    "calendar",
    "study",
    "provenance",
)
