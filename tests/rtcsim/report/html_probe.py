"""Reading a report page back: its panels and its numbers, as tests compare them."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Page:
    panels: dict[str, str] = field(default_factory=dict)  # data-panel → data-has-data
    boxes: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)  # → left, top, w, h
    metrics: dict[str, str] = field(default_factory=dict)  # data-metric → data-value
    body: dict[str, str] = field(default_factory=dict)  # <body> attributes
    svgs: int = 0
    external: list[str] = field(default_factory=list)  # src/href that would need the network


class _Parser(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__()
        self.page = page

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.page.body = a
        if tag == "svg":
            self.page.svgs += 1
        if "data-panel" in a:
            self.page.panels[a["data-panel"]] = a.get("data-has-data", "")
            if a.get("data-box"):
                left, top, width, height = (int(v) for v in a["data-box"].split(","))
                self.page.boxes[a["data-panel"]] = (left, top, width, height)
        if "data-metric" in a:
            self.page.metrics[a["data-metric"]] = a.get("data-value", "")
        for key in ("src", "href"):
            if a.get(key):
                self.page.external.append(a[key])


def read_page(html: str) -> Page:
    page = Page()
    _Parser(page).feed(html)
    return page
