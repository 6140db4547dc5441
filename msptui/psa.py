"""PSA and documentation-tool exports -> clients, agreements and scope lines.

Which export a file is, and which column feeds which field, is data:
``data/psa/*.toml`` describes the ConnectWise, Autotask, HaloPSA, IT Glue
and Hudu exports (each format and field with its source), and ``--map FILE``
adds formats of the same shape for anything else. Headers are compared
case-, space- and punctuation-insensitively, so a UI export's display names
("Company Name") and the API's names (``companyName``) are the same column.

Contract lines (ConnectWise agreement additions, Autotask contract services,
HaloPSA contract details) become scope lines through a service mapping file
(``--services``; ``data/psa/services-example.toml`` is an example): each
PSA product/service name maps to scope catalogue items and a state. No PSA
records a client *declining* a service, so an import never produces
``declined``, and it never marks an agreement signed: signatures and
declines are msptui's own record.

An import is all-or-nothing: every row of every file is checked, every
problem is reported (up to ``MAX_PROBLEMS``, with the physical line), and
only then is anything written, in one transaction. Re-importing updates:
fields the export carries overwrite, fields it does not carry (engagement,
zone, contacts, signatures, declined lines ...) are kept; a record that
would not change produces no event. An agreement signed in msptui is never
changed by an import.
"""

from __future__ import annotations

import json
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from pydantic import ValidationError

from .catalog import load_catalog
from .chain import Event, canonical
from .csvout import unneutralise
from .errors import UserError
from .models import Agreement, Client, Engagement, Record, ScopeState
from .paths import DATA_DIR
from .store import Store
from .tabular import Row, Table, decode, normalise, read_bytes, read_table

PSA_DIR = DATA_DIR / "psa"
SERVICES_EXAMPLE = PSA_DIR / "services-example.toml"
MAX_PROBLEMS = 50
#: the agreement type an imported PSA agreement gets when the service mapping names none
DEFAULT_AGREEMENT_TYPE = "schedule"

# What each kind of record a format may produce can take, and how a cell is read.
_TARGETS: dict[str, dict[str, str]] = {
    "clients": {
        "id": "id", "name": "text", "industry": "text", "engagement": "text", "home_tz": "text",
        "countries": "country", "us_states": "us_state", "data_held": "list", "sectors": "list",
        "public_company": "bool", "nydfs_regulated": "bool", "hipaa_role": "text", "nis2_entity": "text",
        "dora_entity": "text", "review_cadence_days": "int", "notes": "text",
    },
    "agreements": {
        "id": "id", "client": "ref", "title": "text", "type": "text", "effective_from": "date",
        "effective_to": "date", "cancelled_on": "date", "parent": "ref",
    },
    "agreement_lines": {
        "agreement": "ref", "service": "labels", "service_id": "text", "line_id": "text",
        "effective_from": "date", "effective_to": "date", "excluded": "bool",
    },
    "services": {"id": "text", "name": "text"},
}
_REQUIRED = {"clients": ("id", "name"), "agreements": ("id", "client"), "agreement_lines": ("agreement",),
             "services": ("id", "name")}
_ORDER = ("services", "clients", "agreements", "agreement_lines")
_IMPORTABLE_STATES = [s.value for s in ScopeState if s is not ScopeState.declined]


class ImportProblems(UserError):
    """Every problem found in the files, one self-contained line each."""

    def __init__(self, problems: list[str], total: int | None = None):
        self.problems = problems[:MAX_PROBLEMS]
        self.total = total if total is not None else len(problems)
        super().__init__("\n".join(self.problems))

    def summary(self) -> str:
        shown = len(self.problems)
        more = f" (first {shown} shown)" if self.total > shown else ""
        noun = "problem" if self.total == 1 else "problems"
        return f"{self.total} {noun}{more}; nothing was imported"


# ---------------------------------------------------------------------------
# Formats (data/psa/*.toml and --map files)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str  #: normalised header
    name: str  #: as written in the mapping
    prefix: str = ""


@dataclass(frozen=True)
class FieldSpec:
    target: str
    columns: tuple[Column, ...]
    values: dict[str, str] | None = None  #: normalised PSA label -> msptui value
    source: str = ""


@dataclass(frozen=True)
class Format:
    id: str
    title: str
    record: str
    recognise: tuple[str, ...]
    recognise_any: tuple[str, ...]
    fields: dict[str, FieldSpec]
    origin: Path
    user: bool = False
    #: native msptui client CSV: columns are the fields themselves, replaced not merged
    native: bool = False

    def score(self, keys: set[str]) -> int:
        if not self.recognise or not all(k in keys for k in self.recognise):
            return 0
        extra = sum(1 for k in self.recognise_any if k in keys)
        if self.recognise_any and not extra:
            return 0
        # a required column is stronger evidence than one of the optional ones
        return 2 * len(self.recognise) + extra


def _columns(where: str, spec: Any) -> tuple[Column, ...]:
    items = spec if isinstance(spec, list) else [spec]
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(Column(normalise(item), item))
        elif isinstance(item, dict) and isinstance(item.get("column"), str):
            out.append(Column(normalise(item["column"]), item["column"], str(item.get("prefix", ""))))
        else:
            raise UserError(f"{where}: each column is a header name or {{column = \"...\", prefix = \"...\"}}")
    if not out or not all(c.key for c in out):
        raise UserError(f"{where}: needs at least one column name with a letter or digit")
    return tuple(out)


def _field(where: str, target: str, spec: Any) -> FieldSpec:
    if isinstance(spec, (str, list)):
        return FieldSpec(target, _columns(where, spec))
    if not isinstance(spec, dict) or "columns" not in spec:
        raise UserError(f"{where}: give the column(s) as a string, a list, or a table with 'columns'")
    unknown = sorted(set(spec) - {"columns", "values", "source", "prefix"})
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r} (expected columns, values, prefix, source)")
    columns = _columns(where, spec["columns"])
    if "prefix" in spec:
        columns = tuple(Column(c.key, c.name, str(spec["prefix"])) for c in columns)
    values = spec.get("values")
    if values is not None:
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise UserError(f"{where}: 'values' maps export labels to msptui values, e.g. {{\"Fully Managed\" = \"managed\"}}")
        values = {normalise(k): v for k, v in values.items()}
    return FieldSpec(target, columns, values, str(spec.get("source", "")))


def _format(path: Path, index: int, raw: Any, *, user: bool) -> Format:
    where = f"{path}: format[{index}]"
    if not isinstance(raw, dict):
        raise UserError(f"{where}: each [[format]] is a table")
    record = raw.get("record")
    if record not in _TARGETS:
        raise UserError(f"{where}: 'record' must be one of {', '.join(_TARGETS)} (got {record!r})")
    fields_raw = raw.get("fields")
    if not isinstance(fields_raw, dict) or not fields_raw:
        raise UserError(f"{where}: needs a [format.fields] table naming the column of each field")
    fields: dict[str, FieldSpec] = {}
    for target, spec in fields_raw.items():
        if target not in _TARGETS[record]:
            raise UserError(f"{where}: field {target!r} is not a {record} field (known: {', '.join(_TARGETS[record])})")
        fields[target] = _field(f"{where} field {target!r}", target, spec)
    missing = [t for t in _REQUIRED[record] if t not in fields]
    if missing:
        raise UserError(f"{where}: a {record} mapping needs field {missing[0]!r}")
    recognise = raw.get("recognise")
    if recognise is None:
        # a user's mapping is for one known export: recognise it by its required columns
        recognise = [fields[t].columns[0].name for t in _REQUIRED[record]]
    if not isinstance(recognise, list) or not all(isinstance(r, str) for r in recognise):
        raise UserError(f"{where}: 'recognise' is a list of header names")
    recognise_any = raw.get("recognise_any", [])
    if not isinstance(recognise_any, list) or not all(isinstance(r, str) for r in recognise_any):
        raise UserError(f"{where}: 'recognise_any' is a list of header names")
    fid = str(raw.get("id") or f"{path.stem}-{index}")
    return Format(
        id=fid, title=str(raw.get("title") or fid), record=record,
        recognise=tuple(normalise(r) for r in recognise), recognise_any=tuple(normalise(r) for r in recognise_any),
        fields=fields, origin=path, user=user,
    )


def load_formats_file(path: Path | str, *, user: bool = False) -> list[Format]:
    path = Path(path)
    try:
        raw = tomllib.loads(read_bytes(path).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: a mapping file must be UTF-8 (bad byte at {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}") from None
    formats = raw.get("format")
    if not isinstance(formats, list) or not formats:
        raise UserError(f"{path}: a mapping file needs at least one [[format]] table (see data/psa/*.toml)")
    return [_format(path, i, f, user=user) for i, f in enumerate(formats)]


@lru_cache(maxsize=1)
def builtin_formats() -> tuple[Format, ...]:
    out: list[Format] = []
    for path in sorted(PSA_DIR.glob("*.toml")):
        if path.name.startswith("services") or path.name == "countries.toml":
            continue
        out += load_formats_file(path)
    return tuple(out)


def _native_format() -> Format:
    names = [n for n in Client.model_fields if n in _TARGETS["clients"]]
    fields = {n: FieldSpec(n, (Column(normalise(n), n),)) for n in names}
    return Format("msptui-clients", "msptui client CSV", "clients", ("id",), (), fields, Path("msptui"), native=True)


def _is_native(table: Table) -> bool:
    names = {h.strip() for h in table.headers}
    return "id" in names and bool(names & {"engagement", "home_tz"})


def recognise(table: Table, extra: Iterable[Format] = ()) -> Format:
    """The format a table is: the user's mappings first, then msptui's own client CSV, then the PSAs."""
    keys = set(table.keys)
    for candidates in ([f for f in extra], None, list(builtin_formats())):
        if candidates is None:
            if _is_native(table):
                return _native_format()
            continue
        scored = sorted(((f.score(keys), f) for f in candidates), key=lambda p: -p[0])
        scored = [p for p in scored if p[0] > 0]
        if not scored:
            continue
        if len(scored) > 1 and scored[0][0] == scored[1][0]:
            raise UserError(
                f"{table.path}: the headers fit both {scored[0][1].title!r} and {scored[1][1].title!r}; "
                f"pass --map with the one you mean (e.g. --map {scored[0][1].origin})"
            )
        return scored[0][1]
    shown = ", ".join(repr(h) for h in table.headers[:12]) + (", ..." if len(table.headers) > 12 else "")
    raise UserError(
        f"{table.path}: not a recognised export (headers seen: {shown}); write a mapping file naming the "
        "column of each field (copy one of data/psa/*.toml) and pass it with --map FILE"
    )


# ---------------------------------------------------------------------------
# Service mapping (--services)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceEntry:
    labels: tuple[str, ...]
    items: tuple[str, ...]
    state: str
    source: str


@dataclass(frozen=True)
class ServiceMap:
    path: Path
    entries: dict[str, ServiceEntry]  #: normalised label -> entry
    agreement_type: str
    types: dict[str, str]  #: normalised PSA agreement type label -> msptui type

    def match(self, labels: Iterable[str]) -> ServiceEntry | None:
        for label in labels:
            entry = self.entries.get(normalise(label))
            if entry is not None:
                return entry
        return None


_AGREEMENT_TYPES = ("msa", "schedule", "sow", "sla", "amendment", "dpa", "baa")


def load_services(path: Path | str) -> ServiceMap:
    path = Path(path)
    try:
        raw = tomllib.loads(read_bytes(path).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: a mapping file must be UTF-8 (bad byte at {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}") from None
    catalog = load_catalog()
    agreements = raw.get("agreements", {})
    agreement_type = agreements.get("type", DEFAULT_AGREEMENT_TYPE)
    if agreement_type not in _AGREEMENT_TYPES:
        raise UserError(f"{path}: [agreements] type {agreement_type!r} is not one of {', '.join(_AGREEMENT_TYPES)}")
    types: dict[str, str] = {}
    for label, value in agreements.get("types", {}).items():
        if value not in _AGREEMENT_TYPES:
            raise UserError(f"{path}: [agreements.types] {label!r} = {value!r} is not one of {', '.join(_AGREEMENT_TYPES)}")
        types[normalise(label)] = value
    entries: dict[str, ServiceEntry] = {}
    services = raw.get("service", [])
    if not isinstance(services, list):
        raise UserError(f"{path}: services are [[service]] tables")
    for index, spec in enumerate(services):
        where = f"{path}: service[{index}]"
        if not isinstance(spec, dict):
            raise UserError(f"{where}: each [[service]] is a table")
        match = spec.get("match")
        match = [match] if isinstance(match, str) else match
        if not isinstance(match, list) or not match or not all(isinstance(m, str) and normalise(m) for m in match):
            raise UserError(f"{where}: 'match' names the product/service as the export shows it (a string or a list)")
        items = spec.get("items")
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise UserError(f"{where}: 'items' is a list of scope catalogue ids ([] for a line that is not a scope service)")
        for item in items:
            if item not in catalog.items:
                raise UserError(f"{where}: {item!r} is not a scope catalogue item id (see 'msptui catalog')")
        state = spec.get("state", "included")
        if state == "declined":
            raise UserError(
                f"{where}: state 'declined' cannot be imported: no PSA records a client's refusal; "
                "record declines in msptui with the client's signed acknowledgement"
            )
        if state not in _IMPORTABLE_STATES:
            raise UserError(f"{where}: state {state!r} is not one of {', '.join(_IMPORTABLE_STATES)}")
        entry = ServiceEntry(tuple(match), tuple(items), state, str(spec.get("source", "")))
        for label in match:
            key = normalise(label)
            if key in entries:
                raise UserError(f"{where}: {label!r} is already matched by another [[service]]")
            entries[key] = entry
    return ServiceMap(path, entries, agreement_type, types)


# ---------------------------------------------------------------------------
# Cell values
# ---------------------------------------------------------------------------


class CellError(ValueError):
    pass


def slugify(text: str) -> str:
    """A stable msptui id from a PSA id or number: ASCII lower case, digits, '.', '_' and '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    out, dash = [], False
    for ch in ascii_text:
        if ch.isalnum() or ch in "._":
            out.append(ch)
            dash = False
        elif not dash:
            out.append("-")
            dash = True
    slug = "".join(out).strip("-._")[:80].rstrip("-._")
    return slug


@lru_cache(maxsize=1)
def _country_aliases() -> dict[str, str]:
    raw = tomllib.loads((PSA_DIR / "countries.toml").read_text(encoding="utf-8"))
    return {normalise(k): v["code"] for k, v in raw.get("alias", {}).items()}


def country_code(value: str) -> str:
    """ISO 3166-1 alpha-2 from a code or a country name (pycountry), or CellError."""
    import pycountry

    text = value.strip()
    alias = _country_aliases().get(normalise(text))
    if alias:
        return alias
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        raise CellError(f"{value!r} is not a country name or ISO 3166 code") from None


def us_state_code(value: str) -> str | None:
    """USPS code from a code or a state name, or None."""
    import pycountry

    text = value.strip()
    if len(text) == 2 and pycountry.subdivisions.get(code=f"US-{text.upper()}") is not None:
        return text.upper()
    for sub in pycountry.subdivisions.get(country_code="US") or []:
        if normalise(sub.name) == normalise(text):
            return sub.code.removeprefix("US-")
    return None


_TRUE = {"true", "yes", "y", "1", "-1", "x"}
_FALSE = {"false", "no", "n", "0", ""}


def parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise CellError(f"expected true or false, got {value!r}")


def parse_date(value: str, date_format: str | None) -> date:
    text = value.strip()
    if date_format:
        try:
            return datetime.strptime(text, date_format).date()
        except ValueError:
            raise CellError(f"{value!r} does not match --date-format {date_format!r}") from None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        # an ISO instant: the calendar date as written (contracts are dated, not timed)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise CellError(f"{value!r} is not an ISO date (YYYY-MM-DD); give --date-format, e.g. %m/%d/%Y") from None


# ---------------------------------------------------------------------------
# Building records
# ---------------------------------------------------------------------------


@dataclass
class Defaults:
    engagement: str | None = None
    home_tz: str | None = None
    countries: tuple[str, ...] = ()
    date_format: str | None = None


@dataclass
class Change:
    action: str  #: create | change | unchanged | kept
    table: str
    id: str
    label: str
    fields: list[str] = field(default_factory=list)
    why: str = ""


@dataclass
class FileReport:
    path: Path
    title: str
    encoding: str
    rows: int
    blank: int


@dataclass
class Plan:
    files: list[FileReport] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)  #: every record the import produced (changed or not)
    changes: list[Change] = field(default_factory=list)
    unmapped: dict[str, int] = field(default_factory=dict)  #: service label -> lines

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)


@dataclass
class _Origin:
    path: Path
    line: int
    raw_id: str = ""


@dataclass
class _Cells:
    """One row read through a format: values by target, and which header fed each."""

    row: Row
    values: dict[str, Any]
    headers: dict[str, str]


class _Builder:
    def __init__(self, store: Store, defaults: Defaults, services: ServiceMap | None):
        self.store = store
        self.defaults = defaults
        self.services = services
        self.problems: list[str] = []
        self.file_problems: set[str] = set()
        self.catalog = load_catalog()
        self.service_names: dict[str, str] = {}  # Autotask service id -> name
        self.clients: dict[str, tuple[dict, _Origin, str]] = {}
        self.agreements: dict[str, tuple[dict, _Origin, str]] = {}
        self.lines: dict[str, list[tuple[dict, _Origin]]] = {}
        self.ids: dict[tuple[str, str], _Origin] = {}
        self.client_formats: dict[str, Format] = {}
        self.agreement_headers: dict[str, tuple[Format, dict[str, str]]] = {}
        self.file_keys: dict[Path, dict[str, str]] = {}
        #: records whose own row was reported: references to them are not reported again
        self.failed: set[tuple[str, str]] = set()
        self.plan = Plan()

    # -- helpers ---------------------------------------------------------------

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def where(self, table: Table, row: Row, rid: str | None = None) -> str:
        return f"{table.path}: line {row.line}" + (f" (id {rid!r})" if rid else "")

    @staticmethod
    def _header_of(fmt: Format, table: Table, target: str) -> str:
        """The file's column for a field (or the first one the format names, if the file has none)."""
        columns = fmt.fields[target].columns
        present = next((c for c in columns if c.key in table.keys), None)
        return table.header(present.key) if present else columns[0].name

    @staticmethod
    def _field_label(fmt: Format, target: str, header: str | None) -> str:
        if header is None or fmt.native or normalise(header) == normalise(target):
            return f"field '{target}'"
        return f"field '{target}' (column {header!r})"

    def read(self, fmt: Format, table: Table, row: Row) -> tuple[_Cells, list[str]]:
        """Convert a row's cells to typed values; problems are (field label: message)."""
        kinds = _TARGETS[fmt.record]
        values: dict[str, Any] = {}
        headers: dict[str, str] = {}
        errors: list[str] = []
        for target, spec in fmt.fields.items():
            kind = kinds[target]
            present = [c for c in spec.columns if c.key in table.keys]
            if not present:
                continue
            if kind == "id":
                present = present[:1]  # ids come from one column for the whole file: stable
                if fmt.native:
                    kind = "text"  # msptui's own CSV gives the id itself
            if kind == "labels":
                labels = [row.cells[c.key] for c in present if row.cells[c.key].strip()]
                if labels:
                    values[target] = labels
                    headers[target] = table.header(present[0].key)
                continue
            column = next((c for c in present if row.cells[c.key].strip()), None)
            if column is None:
                continue
            cell = row.cells[column.key]
            if fmt.native:  # msptui's own CSV: undo the formula neutralisation (csvout.safe_cell)
                cell = unneutralise(cell)
            header = table.header(column.key)
            headers[target] = header
            try:
                values[target] = self._convert(kind, cell, column, spec, target)
            except CellError as exc:
                errors.append(f"{self._field_label(fmt, target, header)}: {exc}")
        return _Cells(row, values, headers), errors

    def _convert(self, kind: str, cell: str, column: Column, spec: FieldSpec, target: str) -> Any:
        if spec.values is not None:
            mapped = spec.values.get(normalise(cell))
            if mapped is None:
                known = ", ".join(repr(v) for v in sorted(set(spec.values.values())))
                raise CellError(f"{cell!r} is not in the mapping's values (it maps to {known})")
            cell = mapped
        if kind in ("id", "ref"):
            slug = slugify(column.prefix + cell.strip())
            if not slug or not any(ch.isalnum() for ch in slug):
                raise CellError(f"{cell!r} gives no usable id (needs letters or digits)")
            return slug
        if kind == "text":
            return cell if cell.strip() else None
        if kind == "date":
            return parse_date(cell, self.defaults.date_format).isoformat()
        if kind == "bool":
            return parse_bool(cell)
        if kind == "int":
            try:
                return int(cell.strip())
            except ValueError:
                raise CellError(f"expected a whole number, got {cell!r}") from None
        if kind == "list":
            return [v.strip() for v in cell.split(";") if v.strip()]
        if kind == "country":
            return [country_code(v) for v in cell.split(";") if v.strip()]
        if kind == "us_state":
            return [v.strip() for v in cell.split(";") if v.strip()]
        raise AssertionError(kind)

    def claim(self, table_name: str, rid: str, origin: _Origin, where: str) -> bool:
        """Record that ``rid`` comes from this row; report a repeat or a collision."""
        seen = self.ids.get((table_name, rid))
        if seen is None:
            self.ids[(table_name, rid)] = origin
            return True
        at = f"line {seen.line}" if seen.path == origin.path else f"{seen.path} line {seen.line}"
        if seen.raw_id.strip() == origin.raw_id.strip():
            self.problem(f"{where}: {origin.raw_id!r} appears again (first on {at})")
        else:
            self.problem(
                f"{where}: {origin.raw_id!r} and {seen.raw_id!r} ({at}) both become id {rid!r}; "
                "make them differ in the PSA or map another id column with --map"
            )
        return False

    # -- per record kind ---------------------------------------------------------

    def add_table(self, fmt: Format, table: Table) -> None:
        handler = getattr(self, f"_row_{fmt.record}")
        missing = [t for t in _REQUIRED[fmt.record]
                   if not any(c.key in table.keys for c in fmt.fields[t].columns)]
        if missing:
            spec = fmt.fields[missing[0]]
            names = ", ".join(repr(c.name) for c in spec.columns)
            self.problem(f"{table.path}: {fmt.title}: no column for field {missing[0]!r} (looked for {names}); map it with --map")
            return
        for row in table.rows:
            cells, errors = self.read(fmt, table, row)
            handler(fmt, table, cells, errors)

    def _row_services(self, fmt: Format, table: Table, cells: _Cells, errors: list[str]) -> None:
        if errors:
            self.problem(f"{self.where(table, cells.row)}: " + "; ".join(errors))
            return
        sid, name = cells.values.get("id"), cells.values.get("name")
        if sid and name:
            self.service_names[sid.strip()] = name

    def _row_clients(self, fmt: Format, table: Table, cells: _Cells, errors: list[str]) -> None:
        values = cells.values
        rid = values.get("id")
        where = self.where(table, cells.row, rid)
        if rid is None:
            if not any(e.startswith("field 'id'") for e in errors):
                errors.insert(0, f"{self._field_label(fmt, 'id', self._header_of(fmt, table, 'id'))}: empty")
            self.problem(f"{where}: " + "; ".join(errors))
            return
        raw_id = cells.row.cells[normalise(cells.headers["id"])]
        if not self.claim("clients", rid, _Origin(table.path, cells.row.line, raw_id), where):
            return
        if errors:
            self.problem(f"{where}: " + "; ".join(errors))
            self.failed.add(("clients", rid))
            return
        record: dict[str, Any] = {k: v for k, v in values.items() if k not in ("countries", "us_states")}
        countries = values.get("countries", [])
        states: list[str] = []
        for state in values.get("us_states", []):
            code = us_state_code(state)
            if code:
                states.append(code)
            elif "US" in countries:
                label = self._field_label(fmt, "us_states", cells.headers.get("us_states"))
                self.problem(f"{where}: {label}: {state!r} is not a US state name or USPS code")
                self.failed.add(("clients", rid))
                return
            # otherwise a province or region outside the US: not a US state
        if countries and "US" not in countries:
            states = []
        if fmt.native:
            record["countries"], record["us_states"] = countries, values.get("us_states", [])
        else:
            record["countries"], record["us_states"] = countries, states
        self.clients[rid] = (record, _Origin(table.path, cells.row.line, raw_id), fmt.title)
        self.client_formats[rid] = fmt

    def _row_agreements(self, fmt: Format, table: Table, cells: _Cells, errors: list[str]) -> None:
        values = cells.values
        rid = values.get("id")
        where = self.where(table, cells.row, rid)
        if rid is None:
            errors.insert(0, f"{self._field_label(fmt, 'id', self._header_of(fmt, table, 'id'))}: empty")
            self.problem(f"{where}: " + "; ".join(errors))
            return
        raw_id = cells.row.cells[normalise(cells.headers["id"])]
        if not self.claim("agreements", rid, _Origin(table.path, cells.row.line, raw_id), where):
            return
        for target in ("client", "effective_from"):
            if target not in values and not any(e.startswith(f"field '{target}'") for e in errors):
                header = self._header_of(fmt, table, target) if target in fmt.fields else None
                errors.append(f"{self._field_label(fmt, target, header)}: empty")
        if errors:
            self.problem(f"{where}: " + "; ".join(errors))
            self.failed.add(("agreements", rid))
            return
        self.agreements[rid] = (dict(values), _Origin(table.path, cells.row.line, raw_id), fmt.title)
        self.agreement_headers[rid] = (fmt, cells.headers)

    def _row_agreement_lines(self, fmt: Format, table: Table, cells: _Cells, errors: list[str]) -> None:
        where = self.where(table, cells.row)
        if "agreement" not in cells.values and not errors:
            errors.append(f"{self._field_label(fmt, 'agreement', self._header_of(fmt, table, 'agreement'))}: empty")
        if errors:
            self.problem(f"{where}: " + "; ".join(errors))
            return
        values = dict(cells.values)
        values["_fmt"], values["_headers"], values["_where"] = fmt, cells.headers, where
        values["_path"], values["_line"] = table.path, cells.row.line
        self.lines.setdefault(values["agreement"], []).append((values, _Origin(table.path, cells.row.line)))

    # -- assembling ----------------------------------------------------------------

    def finish(self) -> None:
        if self.lines and self.services is None:
            first = next(iter(self.lines.values()))[0][1]
            self.problem(
                f"{first.path}: contract lines become scope lines through a service mapping: pass --services FILE "
                f"(copy {SERVICES_EXAMPLE} and name your products/services in it)"
            )
            return
        self._finish_clients()
        self._finish_agreements()

    def _record_change(self, table: str, record: Record, label: str, origin: str) -> None:
        self.plan.changes += changes_for(self.store, [record])
        self.plan.records.append(record)

    def _finish_clients(self) -> None:
        d = self.defaults
        missing: dict[str, set[str]] = {}
        for rid, (values, origin, title) in self.clients.items():
            fmt = self.client_formats[rid]
            existing = self.store.get(Client, rid)
            if fmt.native:
                base = dict(values)
            elif existing is not None:
                base = existing.model_dump(mode="json")
                for key, value in values.items():
                    if key in ("countries", "us_states"):
                        base[key] = list(dict.fromkeys([*base.get(key, []), *value]))
                    elif value is not None:
                        base[key] = value
            else:
                base = {k: v for k, v in values.items() if v is not None}
            base = {k: v for k, v in base.items() if v is not None}
            if "engagement" not in base and d.engagement:
                base["engagement"] = d.engagement
            if "home_tz" not in base and d.home_tz:
                base["home_tz"] = d.home_tz
            if not base.get("countries") and d.countries:
                base["countries"] = list(d.countries)
            headers = self._client_headers(fmt, origin)
            absent = [f for f in ("engagement", "home_tz") if f not in base]
            no_column = [f for f in absent if f not in headers]
            if no_column:
                # the export has no such column at all: one line for the file, not one per row
                missing.setdefault(str(origin.path), set()).update(no_column)
                self.failed.add(("clients", rid))
                continue
            if absent:
                option = {"engagement": "--engagement", "home_tz": "--tz"}
                self.problem(f"{origin.path}: line {origin.line} (id {rid!r}): " + "; ".join(
                    f"{self._field_label(fmt, f, headers[f])}: empty (give {option[f]} for rows without one)" for f in absent))
                self.failed.add(("clients", rid))
                continue
            try:
                record = Client.model_validate(base)
            except ValidationError as exc:
                self.problem(f"{origin.path}: line {origin.line} (id {rid!r}): " + _describe_all(exc, fmt, headers))
                self.failed.add(("clients", rid))
                continue
            self._record_change("clients", record, record.name, title)
        for path, fields in sorted(missing.items()):
            hints = {"engagement": f"--engagement ({', '.join(e.value for e in Engagement)})",
                     "home_tz": "--tz ZONE (an IANA zone such as America/New_York)"}
            needed = " and ".join(hints[f] for f in ("engagement", "home_tz") if f in fields)
            self.problem(f"{path}: the export has no {' or '.join(sorted(fields))} for new clients: give {needed}")

    def _client_headers(self, fmt: Format, origin: _Origin) -> dict[str, str]:
        keys = self.file_keys[origin.path]
        out = {}
        for target, spec in fmt.fields.items():
            for c in spec.columns:
                if c.key in keys:
                    out[target] = keys[c.key]
                    break
        return out

    def _finish_agreements(self) -> None:
        ids = set(self.agreements) | set(self.lines)
        for aid in sorted(ids, key=lambda a: (self.agreements[a][1].line if a in self.agreements else 0, a)):
            existing = self.store.get(Agreement, aid)
            row = self.agreements.get(aid)
            if ("agreements", aid) in self.failed:
                continue  # its own row is reported; its lines are not reported again
            if row is None and existing is None:
                for values, _ in self.lines[aid]:
                    label = self._field_label(values["_fmt"], "agreement", values["_headers"].get("agreement"))
                    self.problem(f"{values['_where']}: {label}: no agreement {aid!r} in these files or the database")
                continue
            base = existing.model_dump(mode="json") if existing else {"id": aid}
            where = f"{row[1].path}: line {row[1].line} (id {aid!r})" if row else self.lines[aid][0][0]["_where"]
            if row is not None:
                values, origin, title = row
                fmt, headers = self.agreement_headers[aid]
                client_id = values["client"]
                if ("clients", client_id) in self.failed:
                    continue
                if client_id not in self.clients and not self.store.exists("clients", client_id):
                    label = self._field_label(fmt, "client", headers.get("client"))
                    self.problem(f"{where}: {label}: no client {client_id!r} in these files or the database "
                                 "(import the companies export in the same command, or first)")
                    continue
                base["client_id"] = client_id
                if values.get("title"):
                    base["title"] = values["title"]
                elif "title" not in base:
                    base["title"] = f"PSA agreement {origin.raw_id}"[:500]
                base["effective_from"] = values["effective_from"]
                end = values.get("effective_to")
                cancelled = values.get("cancelled_on")
                if cancelled and (end is None or cancelled < end):
                    end = cancelled
                base["effective_to"] = end
                base["type"] = self._agreement_type(values.get("type"), existing)
                if values.get("parent"):
                    parent = values["parent"]
                    if ("agreements", parent) in self.failed:
                        continue
                    if parent not in self.agreements and not self.store.exists("agreements", parent):
                        label = self._field_label(fmt, "parent", headers.get("parent"))
                        self.problem(f"{where}: {label}: no agreement {parent!r} in these files or the database")
                        continue
                    base["parent_id"] = parent
            if aid in self.lines:
                scope = self._scope(aid, base)
                if scope is None:
                    continue
                base["scope"] = scope
            try:
                record = Agreement.model_validate(base)
            except ValidationError as exc:
                self.problem(f"{where}: " + _describe_all(exc))
                continue
            if existing is not None and existing.signature.status != "unsigned":
                data = record.model_dump(mode="json")
                old = existing.model_dump(mode="json")
                changed = sorted(k for k in set(old) | set(data) if old.get(k) != data.get(k))
                if changed:
                    self.plan.changes.append(Change(
                        "kept", "agreements", aid, existing.title, changed,
                        "signed in msptui: an import never changes a signed agreement (record an amendment)"))
                continue
            lines = len(record.scope)
            self._record_change("agreements", record, f"{record.title} ({lines} scope line{'s' if lines != 1 else ''})", "")

    def _agreement_type(self, label: str | None, existing: Agreement | None) -> str:
        services = self.services
        if label and services and normalise(label) in services.types:
            return services.types[normalise(label)]
        if services:
            return services.agreement_type
        return existing.type if existing else DEFAULT_AGREEMENT_TYPE

    def _scope(self, aid: str, base: dict) -> list[dict] | None:
        """Scope lines from the PSA's lines; msptui's own declined lines are kept."""
        assert self.services is not None
        start = date.fromisoformat(base["effective_from"]) if base.get("effective_from") else None
        end = date.fromisoformat(base["effective_to"]) if base.get("effective_to") else None
        by_item: dict[str, list[dict]] = {}
        ok = True
        for values, origin in self.lines[aid]:
            labels = list(values.get("service", []))
            sid = values.get("service_id")
            if sid:
                name = self.service_names.get(sid.strip())
                labels = ([name] if name else []) + labels + [sid]
            if not labels:
                label = self._field_label(values["_fmt"], "service", values["_headers"].get("service"))
                self.problem(f"{values['_where']}: {label}: empty (nothing to match in the service mapping)")
                ok = False
                continue
            entry = self.services.match(labels)
            if entry is None:
                key = labels[0]
                self.plan.unmapped[key] = self.plan.unmapped.get(key, 0) + 1
                continue
            state = "excluded" if values.get("excluded") else entry.state
            line_from = values.get("effective_from")
            line_to = values.get("effective_to")
            if line_from and start and date.fromisoformat(line_from) <= start:
                line_from = None
            if line_to and end and date.fromisoformat(line_to) >= end:
                line_to = None
            ident = values.get("line_id")
            note = f"imported from the PSA: {labels[0]}" + (f" (PSA line id {ident})" if ident else "")
            for item in entry.items:
                by_item.setdefault(item, []).append({
                    "item": item, "state": state, "notes": note[:20_000],
                    "effective_from": line_from, "effective_to": line_to, "_where": values["_where"], "_path": values["_path"], "_line": values["_line"],
                })
        if not ok:
            return None
        scope: list[dict] = []
        for item, lines in by_item.items():
            undated = [ln for ln in lines if not (ln["effective_from"] or ln["effective_to"])]
            if not undated:
                chosen = lines  # each line dated: the item is in scope for those periods
            else:
                # an undated line covers the whole agreement; dated lines for the same item add nothing
                first = undated[0]
                other = next((ln for ln in undated if ln["state"] != first["state"]), None)
                if other is not None:
                    at = f"line {first['_line']}" if first["_path"] == other["_path"] else f"{first['_path']} line {first['_line']}"
                    self.problem(f"{other['_where']}: maps {item!r} as {other['state']} but {at} "
                                 f"maps it as {first['state']} in the same agreement; fix the service mapping")
                    ok = False
                    continue
                chosen = [first]
            for ln in chosen:
                scope.append({k: v for k, v in ln.items() if not k.startswith("_") and v is not None})
        if not ok:
            return None
        psa_items = set(by_item)
        kept = [ln for ln in base.get("scope", []) if ln.get("state") == "declined" and ln["item"] not in psa_items]
        return scope + kept


def _describe_all(exc: ValidationError, fmt: Format | None = None, headers: dict[str, str] | None = None) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(record)"
        msg = err["msg"].removeprefix("Value error, ")
        target = str(err["loc"][0]) if err["loc"] else ""
        header = (headers or {}).get(target)
        if fmt is not None and header and not fmt.native and normalise(header) != normalise(target):
            parts.append(f"field '{loc}' (column {header!r}): {msg}")
        else:
            parts.append(f"field '{loc}': {msg}")
    return "; ".join(parts)


def build_plan(
    store: Store,
    paths: list[Path | str],
    *,
    mappings: list[Path | str] = (),
    services: Path | str | None = None,
    defaults: Defaults | None = None,
    encoding: str | None = None,
) -> Plan:
    """Read and check every file; the records to write and what would change, or ImportProblems."""
    defaults = defaults or Defaults()
    extra: list[Format] = []
    for mapping in mappings:
        extra += load_formats_file(mapping, user=True)
    service_map = load_services(services) if services else None
    builder = _Builder(store, defaults, service_map)
    tables: list[tuple[Format, Table]] = []
    for path in paths:
        path = Path(path)
        text, label = decode(path, read_bytes(path), encoding)
        table = read_table(path, text, label)
        fmt = recognise(table, extra)
        builder.problems += table.problems
        builder.file_keys[path] = table.keys
        tables.append((fmt, table))
        builder.plan.files.append(FileReport(path, fmt.title, label, len(table.rows), table.blank))
    for kind in _ORDER:
        for fmt, table in tables:
            if fmt.record == kind:
                builder.add_table(fmt, table)
    builder.finish()
    if builder.problems:
        raise ImportProblems(builder.problems)
    return builder.plan


def import_exports(store: Store, paths: list[Path | str], *, dry_run: bool = False, **options) -> tuple[Plan, list[Event]]:
    """Check everything, then (unless dry_run) write every changed record in one transaction."""
    if dry_run:
        return build_plan(store, paths, **options), []
    with store.transaction():
        plan = build_plan(store, paths, **options)
        events = [e for e in (store.put_in_transaction(r) for r in plan.records) if e is not None]
    return plan, events


def changes_for(store: Store, records: Iterable[Record]) -> list[Change]:
    """What writing ``records`` would do to the database (for a dry run of a JSON record file)."""
    from .store import table_of

    out = []
    for record in records:
        table = table_of(record)
        label = getattr(record, "name", None) or getattr(record, "title", None) or record.id
        existing = store.conn.execute(f"SELECT data FROM {table} WHERE id = ?", (record.id,)).fetchone()
        data = record.model_dump(mode="json")
        if existing is None:
            out.append(Change("create", table, record.id, label))
        elif existing["data"] == canonical(data):
            out.append(Change("unchanged", table, record.id, label))
        else:
            old = json.loads(existing["data"])
            out.append(Change("change", table, record.id, label, sorted(k for k in set(old) | set(data) if old.get(k) != data.get(k))))
    return out


def describe_plan(plan: Plan) -> list[str]:
    """Lines for a person: what was read, what is created or changed, what was left alone."""
    out = []
    for f in plan.files:
        blank = f", {f.blank} blank row{'s' if f.blank != 1 else ''} skipped" if f.blank else ""
        out.append(f"read {f.path}: {f.title}, {f.encoding}, {f.rows} rows{blank}")
    for c in plan.changes:
        kind = c.table.removesuffix("s").replace("_", " ").replace("policie", "policy")
        if c.action == "create":
            out.append(f"create {kind} {c.id}: {c.label}")
        elif c.action == "change":
            out.append(f"change {kind} {c.id}: {', '.join(c.fields)}")
        elif c.action == "kept":
            out.append(f"kept {kind} {c.id}: {c.why}; differs in {', '.join(c.fields)}")
    unchanged = plan.count("unchanged")
    if unchanged:
        out.append(f"unchanged: {unchanged} records")
    for label, count in sorted(plan.unmapped.items()):
        out.append(f"not in the service mapping (no scope line): {label!r} ({count} line{'s' if count != 1 else ''})")
    return out
