"""Property-based tests (hypothesis) on the import parser and the models."""

import json
import string
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msptui.errors import UserError
from msptui.models import Client
from msptui.recordfile import dump_data, import_file, read_file, validate
from msptui.store import Store

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

slugs = st.text(alphabet=string.ascii_lowercase + string.digits + "-_.", min_size=1, max_size=20).filter(lambda s: s[0].isalnum())
texts = st.text(min_size=1, max_size=60).filter(lambda s: "\x00" not in s and s.strip())
zones = st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata"])
engagements = st.sampled_from(["managed", "co_managed", "security_only", "block_hours", "break_fix", "project", "retainer"])
clients = st.fixed_dictionaries({"id": slugs, "name": texts, "engagement": engagements, "home_tz": zones},
                                optional={"notes": st.text(max_size=200).filter(lambda s: "\x00" not in s),
                                          "us_states": st.lists(st.sampled_from(["CA", "NY", "TX"]), unique=True)})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def _write(data) -> Path:
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8")
    with handle:
        json.dump(data, handle)
    return Path(handle.name)


@SETTINGS
@given(st.lists(clients, max_size=6, unique_by=lambda c: c["id"]))
def test_valid_clients_import_and_dump_unchanged(records):
    with tempfile.TemporaryDirectory() as tmp:
        with Store.open(Path(tmp) / "p.db", create=True) as store:
            path = _write({"format": "msptui", "version": 1, "clients": records})
            import_file(store, path)
            dumped = {c["id"]: c for c in dump_data(store)["clients"]}
            for rec in records:
                assert {k: dumped[rec["id"]][k] for k in rec} == rec
            assert import_file(store, path) == [], "idempotent"


@SETTINGS
@given(st.dictionaries(st.sampled_from(["format", "version", "clients", "agreements", "policies", "junk"]), json_values, max_size=5))
def test_arbitrary_json_is_accepted_or_refused_with_a_user_error(document):
    path = _write(document)
    try:
        validate(path, read_file(path))
    except UserError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)


@SETTINGS
@given(st.lists(json_values, max_size=5))
def test_arbitrary_client_records_never_crash_the_validator(raw_records):
    path = _write({"format": "msptui", "version": 1, "clients": raw_records})
    try:
        validate(path, read_file(path))
    except UserError as exc:
        # a bad record is named by its place; Infinity and numbers of more than 40 digits are not JSON
        # msptui reads at all (safejson), so the whole file is refused, naming the file
        assert "clients[" in str(exc) or (str(path) in str(exc) and ("not a JSON value" in str(exc) or "digits" in str(exc)))
        assert "\n" not in str(exc)


@SETTINGS
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash_the_reader(blob):
    handle = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
    with handle:
        handle.write(blob)
    try:
        validate(handle.name, read_file(handle.name))
    except UserError:
        pass


@SETTINGS
@given(clients)
def test_client_model_round_trips_through_json(record):
    model = Client.model_validate(record)
    assert Client.model_validate_json(model.model_dump_json()) == model
