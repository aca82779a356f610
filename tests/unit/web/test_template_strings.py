"""Every word a template shows passes through the catalogue.

Text nodes and the attributes people read (title, aria-label, placeholder, alt) of
every template are scanned once the Jinja tags are taken out: a word left there is
a word a Chinese or Spanish reader would see in English.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[3] / "pastefile/web/templates"
# Blocks that hold a CSS class, not words.
CLASS_BLOCKS = re.compile(r"\{%\s*block\s+\w*class\s*%\}.*?\{%\s*endblock\s*%\}", re.S)
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
WORD = re.compile(r"[^\W\d_]{2,}")
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
# Names, not words: the same in every language.
NAMES = {"pastefile", "ShareX", "SHA-256", "JSON", "openapi.json", "PV", "UV", ".xlsx"}
# Machine text shown as such (commands, code) is not translated.
VERBATIM = {"script", "style", "code", "pre", "kbd", "samp"}


class _Words(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self.verbatim = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.verbatim += tag in VERBATIM
        self.found += [v for k, v in attrs if k in READ_ATTRIBUTES and v and _has_words(v)]

    def handle_endtag(self, tag: str) -> None:
        self.verbatim -= tag in VERBATIM

    def handle_data(self, data: str) -> None:
        if not self.verbatim and _has_words(data):
            self.found.append(data.strip())


def _has_words(text: str) -> bool:
    for name in NAMES:
        text = text.replace(name, " ")
    return bool(WORD.search(text))


def untranslated(source: str) -> list[str]:
    words = _Words()
    words.feed(JINJA.sub(" ", CLASS_BLOCKS.sub(" ", source)))
    return words.found


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.html")), ids=lambda p: p.name)
def test_a_template_shows_no_word_outside_the_catalogue(template: Path) -> None:
    assert untranslated(template.read_text(encoding="utf-8")) == []


def test_the_scan_finds_a_word_left_in_english() -> None:
    source = '<p>{{ _("Kept") }} Forgotten</p><input placeholder="laptop"><code>ls</code>'
    assert untranslated(source) == ["Forgotten", "laptop"]
