"""The rule set as data: completeness of every entry, the split into files, and coverage per jurisdiction."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from msptui import plan
from msptui.obligations import (
    RULES_FILE,
    RulesError,
    load_document,
    load_rules,
    parse_rules,
    rule_file_paths,
    rules_sha256,
)
from msptui.rulecoverage import (
    CORE_DUTIES,
    US_JURISDICTIONS,
    country_coverage,
    coverage,
    jurisdiction_coverage,
    state_coverage,
)

RULES = load_rules()
RAW = load_document()["rules"]


# -- every entry is complete (read from the raw files, not the model's defaults) -------------------------


@pytest.mark.parametrize("raw", RAW, ids=[r.get("id", "?") for r in RAW])
def test_every_rule_has_citation_period_trigger_and_checked_on(raw):
    assert isinstance(raw.get("citation"), str) and raw["citation"].strip()
    assert isinstance(raw.get("source_url"), str) and raw["source_url"].strip()
    assert isinstance(raw.get("trigger"), str) and raw["trigger"].strip()
    offset = raw.get("offset")
    assert isinstance(offset, dict) and offset.get("unit") in {"hours", "calendar_days", "business_days",
                                                              "calendar_months", "none"}
    assert isinstance(raw.get("checked_on"), date)
    assert raw.get("duty") and raw.get("source_quality") and raw.get("confidence")


def test_checks_are_dated_honestly():
    # checked_on is the day the text was compared with its source: never a day still to come. (Tested here, not
    # refused by the loader, so that a machine with a wrong clock still loads its rules on the day of a breach.)
    assert all(r.checked_on <= date.today() for r in RULES.values())
    # an entry compiled without reading the statute text must not claim high confidence
    for rule in RULES.values():
        if rule.notes and "without retrieving the statute text" in rule.notes:
            assert rule.confidence in ("medium", "low"), rule.id


def _doc_with(rule_id: str, **changes) -> dict:
    doc = load_document()
    target = next(r for r in doc["rules"] if r["id"] == rule_id)
    for key, value in changes.items():
        if value is None:
            target.pop(key)
        else:
            target[key] = value
    return doc


@pytest.mark.parametrize(
    "changes, needle",
    [
        (dict(checked_on=None), "'checked_on'"),
        (dict(citation=""), "'citation'"),
        (dict(trigger=None), "'trigger'"),
        (dict(offset=None), "'offset'"),
        (dict(checked_on="last week"), "'checked_on'"),
        (dict(duty="lawyers"), "'duty'"),
        (dict(jurisdiction="Arizona"), "'jurisdiction'"),
        (dict(duty="vendor"), "applies.party must be 'msp'"),
        (dict(amendments=[{"effective": date(2021, 10, 1)}]), "'amendments.0.by'"),
    ],
)
def test_incomplete_or_inconsistent_rule_is_refused_naming_it(changes, needle):
    with pytest.raises(RulesError) as err:
        parse_rules(_doc_with("us.az.18_552.individuals", **changes))
    assert "us.az.18_552.individuals" in str(err.value) and needle in str(err.value)


# -- the files: all loaded, all hashed, errors name the file ------------------------------------------------


def _copy_rules(tmp_path: Path) -> Path:
    for path in rule_file_paths():
        target = tmp_path / path.relative_to(RULES_FILE.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return tmp_path / RULES_FILE.name


def test_loader_reads_every_listed_file_and_ids_are_unique():
    paths = rule_file_paths()
    assert paths[0] == RULES_FILE and [p.name for p in paths[1:]] == [
        "international.toml", "us-federal.toml", "us-states.toml", "contract.toml", "evidence.toml"]
    assert len(RAW) == len(RULES) == len({r["id"] for r in RAW})
    assert {RULES[r["id"]].jurisdiction for r in RAW} >= {"US", "US-AZ", "UK", "EU", "CA-QC", "AU"}


def test_rules_sha256_covers_the_index_and_every_rule_file_in_order(tmp_path):
    expected = hashlib.sha256(b"".join(p.read_bytes() for p in rule_file_paths())).hexdigest()
    assert rules_sha256() == expected == plan._rules_sha256()
    same, edited, appended = (_copy_rules(tmp_path / name) for name in ("same", "edited", "appended"))
    states = tmp_path / "edited" / "rules" / "us-states.toml"
    text = states.read_text()
    assert "sixty days" in text
    states.write_text(text.replace("sixty days", "sixty  days", 1))  # one byte in the third file
    evidence = tmp_path / "appended" / "rules" / "evidence.toml"
    evidence.write_bytes(evidence.read_bytes() + b"\n")  # one byte at the end of the last file
    assert rules_sha256(same) == expected
    assert len({rules_sha256(edited), rules_sha256(appended), expected}) == 3


def test_missing_rule_file_is_named(tmp_path):
    index = _copy_rules(tmp_path)
    (tmp_path / "rules" / "us-federal.toml").unlink()
    with pytest.raises(RulesError, match="rule file not found: .*us-federal.toml"):
        load_rules(index)


def test_rule_file_may_hold_only_rules(tmp_path):
    index = _copy_rules(tmp_path)
    evidence = tmp_path / "rules" / "evidence.toml"
    evidence.write_text('schema_version = "9"\n' + evidence.read_text())
    with pytest.raises(RulesError, match="evidence.toml: unknown top-level key 'schema_version'"):
        load_rules(index)


def test_duplicate_id_across_files_names_both(tmp_path):
    index = _copy_rules(tmp_path)
    evidence = tmp_path / "rules" / "evidence.toml"
    states = (tmp_path / "rules" / "us-states.toml").read_text()
    block = states[states.index('[[rules]]\nid = "us.az.18_552.individuals"'):]
    block = block[:block.index("\n\n") + 1]
    evidence.write_text(evidence.read_text() + "\n" + block)
    with pytest.raises(RulesError, match=r"evidence.toml: rule 'us.az.18_552.individuals'.*also in us-states.toml"):
        load_rules(index)


def test_index_may_list_only_files_under_rules(tmp_path):
    index = _copy_rules(tmp_path)
    index.write_text(index.read_text().replace('"rules/contract.toml"', '"../contract.toml"'))
    with pytest.raises(RulesError, match="must look like 'rules/<name>.toml'"):
        load_rules(index)


def test_error_in_a_rule_file_names_that_file(tmp_path):
    index = _copy_rules(tmp_path)
    states = tmp_path / "rules" / "us-states.toml"
    states.write_text(states.read_text().replace('confidence = "high"', 'confidence = "sure"', 1))
    with pytest.raises(RulesError, match=r"^us-states.toml: rule '[^']+', field 'confidence'"):
        load_rules(index)


# -- coverage per jurisdiction -------------------------------------------------------------------------------


def test_every_us_jurisdiction_has_an_individuals_rule_on_file():
    assert len(US_JURISDICTIONS) == 54
    missing = [c for c in US_JURISDICTIONS if "individuals" not in jurisdiction_coverage(c).on_file]
    assert missing == []


def test_coverage_lists_each_jurisdiction_once_with_core_duties_split():
    records = coverage()
    codes = [r.jurisdiction for r in records]
    assert len(codes) == len(set(codes)) and set(US_JURISDICTIONS) <= set(codes)
    assert codes[0] == "US" and {"CONTRACT", "VENDOR"}.isdisjoint(codes)
    for r in records:
        assert set(r.on_file) | set(r.not_on_file) == set(CORE_DUTIES)
        assert not set(r.on_file) & set(r.not_on_file)
        for duty, ids in r.duties.items():
            assert all(RULES[i].duty == duty and RULES[i].jurisdiction == r.jurisdiction for i in ids)


def test_state_coverage_names_the_vendor_rule_and_what_is_not_on_file():
    az = state_coverage("AZ")
    assert az.name == "Arizona" and az.on_file == CORE_DUTIES
    assert az.duties["vendor"] == ("us.az.18_552.vendor",)
    ri = state_coverage("RI")
    assert "vendor" in ri.not_on_file and ri.rule_on_file


def test_a_jurisdiction_without_rules_is_reported_as_nothing_on_file():
    only_federal = [r for r in RULES.values() if r.jurisdiction == "US"]
    records = {r.jurisdiction: r for r in coverage(only_federal)}
    assert set(US_JURISDICTIONS) <= set(records)
    az = records["US-AZ"]
    assert not az.rule_on_file and az.not_on_file == CORE_DUTIES and az.duties == {}
    assert not state_coverage("AZ", only_federal).rule_on_file


def test_country_coverage_follows_applies_countries():
    de = country_coverage("DE")
    assert "eu.gdpr.art33.sa" in de.duties["regulator"] and "eu.nis2.art23.early_warning" in de.duties["regulator"]
    no = country_coverage("NO")  # EEA, not EU: GDPR yes, NIS2 no
    assert "eu.gdpr.art33.sa" in no.duties["regulator"] and "eu.nis2.art23.early_warning" not in no.duties["regulator"]
    gb = country_coverage("GB")
    assert gb.name == "United Kingdom" and "uk.gdpr.art34.data_subjects" in gb.duties["individuals"]
    ca = country_coverage("CA")
    assert {"ca.pipeda.10_1_3.individuals", "ca.qc.p39_1.3_5.individuals"} <= set(ca.duties["individuals"])
    assert "us.az.18_552.individuals" not in country_coverage("US").duties.get("individuals", ())
    jp = country_coverage("JP")
    assert not jp.rule_on_file and jp.not_on_file == CORE_DUTIES


@pytest.mark.parametrize("call, arg", [(state_coverage, "Arizona"), (state_coverage, "az"), (country_coverage, "DEU"),
                                       (jurisdiction_coverage, "US AZ"), (jurisdiction_coverage, "")])
def test_bad_codes_are_one_line_errors(call, arg):
    with pytest.raises(ValueError) as err:
        call(arg)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("rule", [r for r in RULES.values() if r.jurisdiction.startswith("US-")], ids=lambda r: r.id)
def test_a_state_rule_applies_to_that_states_residents_and_counts_them(rule):
    state = rule.jurisdiction[3:]
    if rule.applies.requires:  # a regulated-entity rule (NYDFS): the licence decides, not where residents live
        assert rule.applies.requires == ["nydfs_regulated"] and rule.id.startswith("us.nydfs.")
        return
    assert rule.applies.us_states_any == [state]
    assert rule.applies.count_key in (None, rule.jurisdiction)
    assert rule.id.startswith(f"us.{state.lower()}.") or rule.id.startswith("us.nydfs.")
