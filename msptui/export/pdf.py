"""HTML (Jinja2, autoescaped) and PDF (WeasyPrint) for the dossier and the review pack: the render stage.

Only this module touches WeasyPrint, and only inside functions: importing it
stays cheap and headless (tests/test_layout.py imports every msptui module).
It runs in the export child process (``msptui.export.child``), never in the TUI.

Safety: record text may come from an attacker. Every value reaches the HTML
through Jinja2 autoescaping, after control, format and bidi-override
characters have been made visible (``literal.visible``); and WeasyPrint gets a
``SafeFetcher`` that serves only the bundled stylesheet and fonts and refuses
every other URL (file:, http:, data:, ...), logging each refusal.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2

from ..literal import visible
from ..paths import DATA_DIR
from .skeleton import HASH_RULES

TEMPLATES_DIR = DATA_DIR / "templates"
FONTS_DIR = DATA_DIR / "fonts"
TEMPLATE = "dossier.html.j2"
STYLESHEET = TEMPLATES_DIR / "dossier.css"
LOG = logging.getLogger("msptui.export.pdf")


def stylesheet_for(template: str) -> Path:
    """The bundled stylesheet of a template: ``dossier.html.j2`` -> ``dossier.css``."""
    return TEMPLATES_DIR / (template.split(".", 1)[0] + ".css")


def bundled_assets() -> dict[Path, str]:
    """The only files the PDF engine may read, with their media types."""
    assets = {STYLESHEET.resolve(): "text/css"}
    for sheet in sorted(TEMPLATES_DIR.glob("*.css")):
        assets[sheet.resolve()] = "text/css"
    for font in sorted(FONTS_DIR.glob("*.ttf")):
        assets[font.resolve()] = "font/ttf"
    return assets


#: Unicode line/paragraph separators: WeasyPrint 70 fails an assertion on some
#: sequences of them (e.g. " \u2029"), so they are shown as escapes like other
#: invisible characters (found with the naughty-strings list)
_SEPARATORS = {"\u2028": "\\u2028", "\u2029": "\\u2029"}


def literal(text: str) -> str:
    """Record text as it will be shown: CRLF as newline, every invisible or layout-changing character escaped."""
    text = text.replace("\r\n", "\n")
    for ch, shown in _SEPARATORS.items():
        text = text.replace(ch, shown)
    return visible(text)


def _finalize(value: Any) -> Any:
    if isinstance(value, str):
        return literal(value)
    if value is None:
        return ""
    return value


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["label"] = lambda s: (s or "").replace("_", " ")
    env.filters["money"] = lambda n: f"{n:,}" if isinstance(n, int) else ""
    env.globals["hash_rules"] = HASH_RULES  # Appendix B prints what VERIFY.txt prints
    return env


def render_html(data: dict, template: str = TEMPLATE) -> str:
    """The dossier (or another bundled template) as HTML. Assets are referenced by file: URL (served only by SafeFetcher)."""
    return _environment().get_template(template).render(d=data, stylesheet_url=stylesheet_for(template).resolve().as_uri())


def make_fetcher():
    """A WeasyPrint URLFetcher (v70 needs a subclass) that serves only bundled assets."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    allowed = bundled_assets()

    class SafeFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(timeout=1, allowed_protocols=("file",), allow_redirects=False, fail_on_errors=False)
            self.served: list[str] = []
            self.refused: list[str] = []

        def _refuse(self, url: str, why: str):
            self.refused.append(url)
            LOG.warning("refused to fetch %r: %s", url[:200], why)
            raise ValueError(f"msptui dossier: fetching {url[:200]!r} is not allowed ({why})")

        def fetch(self, url, headers=None):  # noqa: D401 - WeasyPrint API
            try:
                parts = urlsplit(url)
            except ValueError:
                self._refuse(url, "unparseable URL")
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
                self._refuse(url, "only the bundled stylesheet and fonts may be loaded")
            try:
                path = Path(unquote(parts.path)).resolve()
            except (OSError, ValueError):
                self._refuse(url, "unresolvable path")
            media = allowed.get(path)
            if media is None:
                self._refuse(url, "not a bundled asset")
            self.served.append(url)
            body = path.read_bytes()
            headers = {"Content-Type": media}
            response = URLFetcherResponse(path.as_uri(), body, headers)
            if media == "text/css":
                response.headers.set_param("charset", "utf-8")
            return response

        def open(self, url, data=None, timeout=None):
            # urllib's own open must never run: every request goes through fetch
            target = url.full_url if hasattr(url, "full_url") else url
            return self.fetch(target)

    return SafeFetcher()


def render_pdf(data: dict, *, fetcher=None, template: str = TEMPLATE, identifier: bytes | None = None) -> tuple[bytes, dict]:
    """PDF bytes and a report of what the fetcher served and refused.

    ``identifier`` is the PDF /ID (default: derived from the dossier's incident,
    timestamp and chain head); pass one for other templates.
    """
    import weasyprint

    html = render_html(data, template)
    fetcher = fetcher or make_fetcher()
    document = weasyprint.HTML(string=html, base_url=TEMPLATES_DIR.resolve().as_uri() + "/", url_fetcher=fetcher)
    pdf = document.write_pdf(
        uncompressed_pdf=False,
        presentational_hints=False,
        attachments=[],
        pdf_identifier=identifier if identifier is not None else _identifier(data),
    )
    return pdf, {"served": list(fetcher.served), "refused": list(fetcher.refused)}


def _identifier(data: dict) -> bytes:
    """A stable PDF /ID from what the dossier is (no randomness, no clock)."""
    import hashlib

    seed = f"{data['incident']['id']}|{data['generated_at']}|{data['chain_head']['hash']}"
    return hashlib.md5(seed.encode("utf-8")).hexdigest().encode("ascii")
