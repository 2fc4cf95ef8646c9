"""The ONLY place user text becomes HTML. Everything else relies on Jinja's autoescape.

Users write plain text or a small Markdown subset; we render it once and clean the result with a
strict bleach allow-list: no svg, math or style, and links only to http, https and mailto.
"""

from __future__ import annotations

import re
from functools import lru_cache

import bleach
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "pre", "h3", "h4"}
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# Characters no text of ours may hold: control characters (but tab and line breaks) and lone
# surrogates (half an emoji, from a client that cut a string in the middle of one). No
# database stores a lone surrogate and PostgreSQL refuses NUL, so they are refused on the way
# in (the API's bodies, socket events) with a message, not met as an error at the database.
BAD_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def has_bad_characters(text: str) -> bool:
    return BAD_CHARACTERS.search(text) is not None


# Raw HTML in the source is not interpreted: "html": False escapes it before bleach sees it.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.disable(["image", "heading", "table"], ignoreInvalid=True)


def _set_link_rel(attrs: dict, new: bool = False) -> dict:
    attrs[(None, "rel")] = "nofollow noopener noreferrer"
    return attrs


def clean_html(html: str) -> Markup:
    """Strip everything outside the allow-list from an HTML fragment."""
    cleaned = bleach.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    linked = bleach.linkify(cleaned, callbacks=[_set_link_rel], skip_tags=["pre", "code"])
    return Markup(linked)  # noqa: S704 - cleaned by bleach above, the single trusted point


# Rendering and cleaning cost about a millisecond per text (bleach parses the HTML twice), and a
# list page shows dozens; the result depends on the text alone, so keep recent results.
# Long texts are rendered every time rather than held in memory.
_CACHE_TEXTS_UP_TO = 20_000


@lru_cache(maxsize=4096)
def _render_cached(text: str) -> Markup:
    return clean_html(_markdown.render(text))


def render_markdown(text: str) -> Markup:
    """User Markdown (small subset) to safe HTML."""
    text = text or ""
    if len(text) <= _CACHE_TEXTS_UP_TO:
        return _render_cached(text)
    return clean_html(_markdown.render(text))


def plain_text(text: str, max_length: int | None = None) -> str:
    """Normalise a single-line user value: strip control characters and outer whitespace."""
    cleaned = "".join(ch for ch in (text or "") if ch == "\t" or ch >= " ").strip()
    return cleaned[:max_length] if max_length else cleaned
