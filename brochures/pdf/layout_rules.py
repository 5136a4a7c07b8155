"""The rules a designer lays pages out by, checked on the pages as WeasyPrint laid them out (before they are painted):
where each heading, list, emergency box, footer and caption ended up. Each broken rule is a warning naming the page
and what is wrong, so a person looks at that page; the document is still built."""

from __future__ import annotations

from dataclasses import dataclass, field

from weasyprint.formatting_structure.boxes import LineBox, MarginBox, ReplacedBox

from brochures.pdf.page_text import _pages

HEADINGS = ("h1", "h2", "h3", "h4")
LISTS = ("ul", "ol")


# A list broken across pages keeps at least this many items on each side of the break.
LIST_ITEMS_EACH_SIDE = 2


# No page of a comparison sheet but its last is less full than this: a half-empty page between tables reads as the
# end of the sheet.
COMPARISON_FILL = 0.6


@dataclass
class _Where:
    """The pages (numbered from 1) an element's boxes lie on."""

    pages: list[int] = field(default_factory=list)

    def add(self, number: int) -> None:
        if not self.pages or self.pages[-1] != number:
            self.pages.append(number)

    @property
    def first(self) -> int:
        return self.pages[0]

    @property
    def last(self) -> int:
        return self.pages[-1]


@dataclass(frozen=True)
class Rules:
    """What applies to one document beyond the rules every page keeps (its page budget is the page check's)."""

    # Every page but the last is at least this full (a comparison sheet), else None.
    fill_but_last: float | None = None


def thin_pages(laid_out, fill: float) -> list[int]:
    """The pages, but the last, whose content fills less than `fill` of their content area."""
    shares = [_walk(page._page_box)[1] for page in laid_out.pages]
    return [number for number, share in enumerate(shares[:-1], start=1) if share < fill]


def _walk(page_box) -> tuple[list, float, list]:
    """One walk over a page's boxes: every box of its content, how far down its content area the content reaches
    (0–1), and its margin boxes."""
    boxes, margins = [], []
    top, height = page_box.content_box_y(), page_box.height
    lowest = top
    for child in page_box.children:
        if isinstance(child, MarginBox):
            margins.append(child)
            continue
        for box in _descendants(child):
            boxes.append(box)
            if isinstance(box, (LineBox, ReplacedBox)) and box.height:
                lowest = max(lowest, box.position_y + box.height)
    return boxes, max(0.0, min(1.0, (lowest - top) / height)) if height else 1.0, margins


def layout_warnings(laid_out, rules: Rules) -> list[str]:
    """Each rule the laid-out pages break, as a warning naming the page."""
    places: dict[int, _Where] = {}
    fills: list[float] = []
    # (page number, box) of every figure.
    figures: list[tuple[int, object]] = []
    warnings: list[str] = []
    for number, page in enumerate(laid_out.pages, start=1):
        boxes, fill, margins = _walk(page._page_box)
        fills.append(fill)
        for margin_box in margins:
            warnings += _footer(margin_box, number)
        for box in boxes:
            element = getattr(box, "element", None)
            if element is not None and isinstance(getattr(element, "tag", None), str):
                places.setdefault(id(element), _Where()).add(number)
                if box.element_tag == "figure":
                    figures.append((number, box))
    if not laid_out.pages:
        return warnings
    root = laid_out.pages[0]._page_box.children[0].element
    order = [element for element in root.iter() if isinstance(element.tag, str)]
    warnings += _headings(order, places)
    warnings += _lists(order, places)
    warnings += _emergency(order, places)
    warnings += _captions(figures)
    if rules.fill_but_last:
        warnings += [
            f"page {number} is only {share:.0%} full, and a later page follows: its content should run on"
            for number, share in enumerate(fills[:-1], start=1)
            if share < rules.fill_but_last
        ]
    return _by_page(warnings)


def _by_page(warnings: list[str]) -> list[str]:
    """Warnings that differ only in their page, said once with every page ("pages 1–8: the footer…")."""
    pages: dict[str, list[int]] = {}
    for warning in warnings:
        head, _, rest = warning.partition(": ")
        if head.startswith("page ") and head[5:].isdigit():
            pages.setdefault(rest, []).append(int(head[5:]))
        else:
            pages.setdefault(warning, [])
    return [f"{_pages(sorted(set(numbers)))}: {rest}" if numbers else rest for rest, numbers in pages.items()]


def _descendants(box):
    """Every box under `box`, itself first (WeasyPrint's own walk, without its margin boxes)."""
    yield box
    for child in getattr(box, "children", ()):
        yield from _descendants(child)


def _text(element) -> str:
    words = " ".join("".join(element.itertext()).split())
    return words if len(words) <= 60 else words[:57] + "…"


def _following(order: list, index: int, places: dict[int, _Where]):
    """The first element after `order[index]` and outside it that was laid out: what a heading leads into."""
    inside = {id(element) for element in order[index].iter()}
    for element in order[index + 1 :]:
        if id(element) not in inside and id(element) in places:
            return element
    return None


def _headings(order: list, places: dict[int, _Where]) -> list[str]:
    """A heading is on the page of what follows it: never the last thing on a page."""
    found = []
    for index, element in enumerate(order):
        if element.tag not in HEADINGS or id(element) not in places:
            continue
        after = _following(order, index, places)
        page = places[id(element)].last
        if after is not None and places[id(after)].first != page:
            found.append(
                f'page {page} ends with the heading "{_text(element)}": what it heads starts on page '
                f"{places[id(after)].first}"
            )
    return found


def _lists(order: list, places: dict[int, _Where]) -> list[str]:
    """A list broken across pages keeps two items or more on each side of the break, and each item whole."""
    found = []
    for element in order:
        if element.tag not in LISTS or id(element) not in places or len(places[id(element)].pages) < 2:
            continue
        items = [places[id(item)] for item in element if getattr(item, "tag", None) == "li" and id(item) in places]
        where = places[id(element)]
        for page in where.pages[:-1]:
            before = sum(1 for item in items if item.last <= page)
            after = sum(1 for item in items if item.first > page)
            split = len(items) - before - after
            if split:
                found.append(f'page {page}: an item of the list "{_text(element)}" is split across pages')
            elif min(before, after) < LIST_ITEMS_EACH_SIDE:
                found.append(
                    f'page {page}: the list "{_text(element)}" breaks with {before} item{"s" * (before != 1)} '
                    f"before the page turn and {after} after it (at least {LIST_ITEMS_EACH_SIDE} each side)"
                )
    return found


def _emergency(order: list, places: dict[int, _Where]) -> list[str]:
    """The emergency box is whole, and on the page of the heading of its section ("When to get help")."""
    found = []
    heading = None
    for element in order:
        if element.tag == "h2" and id(element) in places:
            heading = element
        if "emergency" not in (element.get("class") or "").split() or id(element) not in places:
            continue
        where = places[id(element)]
        box = _text(next((h for h in element.iter() if h.tag in HEADINGS), element))
        if len(where.pages) > 1:
            found.append(f'page {where.first}: the "{box}" box is split across pages {where.first}–{where.last}')
        elif heading is not None and places[id(heading)].last != where.first:
            found.append(
                f'page {where.first}: the "{box}" box is not on the page of its heading "{_text(heading)}" '
                f"(page {places[id(heading)].last})"
            )
    return found


def _footer(margin_box, number: int) -> list[str]:
    """A footer's text is one line."""
    if not margin_box.at_keyword.startswith("@bottom"):
        return []
    lines = sum(1 for box in _descendants(margin_box) if isinstance(box, LineBox))
    if lines <= 1:
        return []
    return [f"page {number}: the footer ({margin_box.at_keyword[8:]}) wraps onto {lines} lines"]


def _captions(figures: list[tuple[int, object]]) -> list[str]:
    """A figure's text under its picture is one caption: a second line of text there reads as a duplicate."""
    found = []
    for number, box in figures:
        pictures = [b for b in _descendants(box) if isinstance(b, ReplacedBox)]
        if not pictures:
            continue
        bottom = max(picture.position_y + picture.height for picture in pictures) - 0.5
        owners = {
            id(line.element): line.element
            for line in _descendants(box)
            if isinstance(line, LineBox) and line.position_y >= bottom and line.height
        }
        if len(owners) > 1:
            said = ", ".join(f'"{_text(element)}"' for element in owners.values())
            found.append(f"page {number}: a figure has {len(owners)} captions under its picture ({said})")
    return found
