"""Dossier HTML (Jinja2, autoescaped) and PDF (WeasyPrint), and the export child process.

Only this module touches WeasyPrint, and only inside functions: importing it
stays cheap and headless (tests/test_layout.py imports every msptui module).
``python -m msptui.dossier_render`` is the child process ``dossier.export_in_child``
(and ``review_pack.print_in_child``) starts: it reads one JSON request on stdin
(``kind`` "dossier" or "review_pack") and writes JSON lines on stdout
(``{"stage": ...}``, ``{"tmp": ...}``, then ``{"path": ...}`` or ``{"error": ...}``).

Safety: record text may come from an attacker. Every value reaches the HTML
through Jinja2 autoescaping, after control, format and bidi-override
characters have been made visible (``literal.visible``); and WeasyPrint gets a
``SafeFetcher`` that serves only the bundled stylesheet and fonts and refuses
every other URL (file:, http:, data:, ...), logging each refusal.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2

from .literal import visible
from .paths import DATA_DIR

TEMPLATES_DIR = DATA_DIR / "templates"
FONTS_DIR = DATA_DIR / "fonts"
TEMPLATE = "dossier.html.j2"
STYLESHEET = TEMPLATES_DIR / "dossier.css"
LOG = logging.getLogger("msptui.dossier_render")


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
    return env


def render_html(data: dict, template: str = TEMPLATE) -> str:
    """The dossier (or another bundled template) as HTML. Assets are referenced by file: URL (served only by SafeFetcher)."""
    from .dossier import CLAUSE_ORDER

    return _environment().get_template(template).render(
        d=data,
        stylesheet_url=stylesheet_for(template).resolve().as_uri(),
        clause_order=CLAUSE_ORDER,
    )


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


# ---------------------------------------------------------------------------
# the child process
# ---------------------------------------------------------------------------


def _say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def child_main() -> int:
    """Run one request: ``kind`` "dossier" (the default) or "review_pack"."""
    from datetime import datetime

    import sqlite3

    from .dossier import export
    from .errors import UserError, describe_os_error, describe_sqlite_error
    from .leftovers import die_with_parent
    from .store import Store

    die_with_parent()  # never outlive the msptui that asked for this render
    extra: dict = {}
    request: dict = {}
    try:
        request = json.loads(sys.stdin.read())
        generated_at = datetime.fromisoformat(request["generated_at"].replace("Z", "+00:00")) if request.get("generated_at") else None
        kind = request.get("kind", "dossier")
        with Store.open(request["db"]) as store:
            if kind == "dossier":
                path = export(
                    store,
                    request["incident_id"],
                    out_dir=request.get("out_dir"),
                    generated_at=generated_at,
                    privileged=bool(request.get("privileged")),
                    progress=lambda stage: _say({"stage": stage}),
                    on_tmp=lambda tmp: _say({"tmp": str(tmp)}),
                )
            elif kind == "review_pack":
                from .review_pack import write

                printed = write(
                    store,
                    request["client_id"],
                    out_dir=request.get("out_dir"),
                    generated_at=generated_at,
                    msp_name=request.get("msp_name"),
                    progress=lambda stage: _say({"stage": stage}),
                    on_tmp=lambda tmp: _say({"tmp": str(tmp)}),
                )
                path, extra = printed.path, {"sha256": printed.sha256}
            else:
                raise ValueError(f"unknown request kind {kind!r}")
    except UserError as exc:
        _say({"error": str(exc), "user": True})
        return 1
    except OSError as exc:  # full disk, read-only folder: one line naming the path
        _say({"error": describe_os_error(exc), "user": True})
        return 1
    except sqlite3.Error as exc:
        _say({"error": describe_sqlite_error(request.get("db", "the database"), exc), "user": True})
        return 1
    except Exception as exc:  # a bug: keep the traceback on stderr, one line to the parent
        import traceback

        traceback.print_exc()
        _say({"error": f"{type(exc).__name__}: {exc}", "user": False})
        return 2
    _say({"path": str(path), **extra})
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
