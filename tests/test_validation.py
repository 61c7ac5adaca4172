"""Validation: every row read ends in exactly one place, with the stated reason.

The fixture ``duplicates_uuid_and_content.csv`` of the reference notes (privacy-matching-messy-
input.md §6) is built here as a KoboToolbox CSV: a resent row with the same ``_uuid``, a resent
row with a new ``_uuid`` but identical answers, a "Not approved" test row, a malformed row, a
blank row, and one participant who answered twice with different answers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.errors import UnmappedValuesError
from evaluation.ingest import code_recipe
from evaluation.instrument import parse_instrument
from evaluation.privacy import demo_key, pseudonymize_codes
from evaluation.readers import read_wave
from evaluation.validation import REMOVAL_REASONS, remove_repeat_participants, validate_wave


def _t(text: str) -> dict[str, str]:
    return {"en": text, "ru": text + " (ru)"}


INSTRUMENT = parse_instrument({
    "id": "mini", "version": "1", "title": _t("Mini"),
    "sections": [{"id": "p", "label": _t("Profile")}, {"id": "c", "label": _t("Code")},
                 {"id": "r", "label": _t("Readiness")}],
    "choice_lists": {
        "agree5": {"ordered": True, "choices": [{"code": i, **_t(f"a{i}")} for i in range(1, 6)],
                   "missing": [{"code": "dk", **_t("Don't know")}]},
        "country": {"choices": [{"code": "KZ", **_t("Kazakhstan")},
                                {"code": "KG", **_t("Kyrgyzstan")}]},
    },
    "scales": [{"id": "s", "label": _t("Scale"), "domain": "readiness"}],
    "items": [
        {"id": "country", "type": "single_choice", "section": "p", "role": "country",
         "choices": "country", "text": _t("Country"), "waves": ["pre"]},
        *[{"id": f"code_{n}", "type": "code", "section": "c", "element": el, "text": _t(n),
           "waves": ["pre"]}
          for n, el in [("mother", "letter"), ("father", "letter"), ("day", "day"),
                        ("month", "month"), ("place", "letter"), ("siblings", "digit")]],
        *[{"id": f"q{i}", "type": "likert", "section": "r", "choices": "agree5", "scale": "s",
           "text": _t(f"Item {i}"), "waves": ["pre"]} for i in (1, 2, 3)],
    ],
})

HEADER = ["p/country", "c/code_mother", "c/code_father", "c/code_day", "c/code_month",
          "c/code_place", "c/code_siblings", "r/q1", "r/q2", "r/q3",
          "_uuid", "_submission_time", "_validation_status"]


def _row(uuid: str, code: str, answers: tuple, when: str, status: str = "",
         country: str = "KZ") -> list[str]:
    m, f, d, mo, p, s = code.split("-")
    return [country, m, f, d, mo, p, s, *answers, uuid, when, status]


ROWS = [
    _row("u1", "A-B-01-02-C-0", ("4", "4", "5"), "2018-05-21T09:00:00"),      # row 2 kept
    _row("u1", "A-B-01-02-C-0", ("4", "4", "5"), "2018-05-21T09:00:00"),      # row 3 same id
    _row("u2", "D-E-03-04-F-1", ("2", "3", "dk"), "2018-05-21T09:05:00"),     # row 4 kept
    _row("u3", "D-E-03-04-F-1", ("2", "3", "dk"), "2018-05-21T09:06:00"),     # row 5 resent
    _row("u4", "G-H-05-06-I-2", ("1", "1", "1"), "2018-05-21T09:07:00",
         "validation_status_not_approved"),                                   # row 6 test row
    _row("u5", "J-K-07-08-L-3", ("3", "", ""), "2018-05-21T09:08:00"),        # row 8 answered twice
    _row("u6", "J-K-07-08-L-3", ("3", "4", "4"), "2018-05-21T09:09:00"),      # row 9 more complete
    _row("u7", "M-N-09-10-O-4", ("5", "5", "5"), "2018-05-21T09:10:00", country="KZ"),  # row 10
    _row("u8", "M-N-09-10-O-4", ("1", "2", "1"), "2018-05-21T09:11:00", country="KG"),  # row 11
    _row("u9", "P-R-11-12-S-5", ("7", "4", "4"), "2018-05-21T09:12:00"),      # row 12 unmapped 7
    # rows 13-22: ordinary respondents (so that one malformed row is under the 5% that the
    # dialect check tolerates, R-IN-04)
    *[_row(f"v{i}", f"T-U-{i + 10:02d}-01-V-{i % 10}", ("3", "3", "3"), "2018-05-21T10:00:00")
      for i in range(10)],
]


def _write(tmp_path: Path) -> Path:
    lines = [";".join(f'"{h}"' for h in HEADER)]
    for row in ROWS:
        lines.append(";".join(f'"{v}"' for v in row))
    lines.insert(6, "")                              # a blank line (physical row 7)
    lines.append('"KZ";"only";"three fields"')       # a malformed row
    path = tmp_path / "duplicates_uuid_and_content.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def validated(tmp_path):
    path = _write(tmp_path)
    read = read_wave(path, INSTRUMENT, "pre", source="kobo")
    return validate_wave(read, "pre", path, "ws", "quarantine"), read


def test_every_row_ends_in_one_place(validated):
    result, _ = validated
    result.check_accounting()
    s = result.summary()
    assert s["rows_read"] == 22  # 20 data rows + 1 blank + 1 malformed
    assert s["removed_by_reason"] == {
        REMOVAL_REASONS["blank"]: 1,
        REMOVAL_REASONS["duplicate_id"]: 1,
        REMOVAL_REASONS["identical"]: 1,
        REMOVAL_REASONS["not_approved"]: 1,
    }
    assert result.quarantined == 2  # the unmapped "7" and the malformed row
    reasons = {q.row: q.reason for q in result.quarantine}
    assert "unmapped value in column q1" in reasons.values()
    assert all("7" not in (q.column or "") for q in result.quarantine)
    assert result.kept == 16


def test_same_participant_twice_keeps_most_complete_and_collisions_stay(validated):
    result, _ = validated
    result.clean = pseudonymize_codes(result.clean, demo_key(), code_recipe(INSTRUMENT))
    dropped = remove_repeat_participants(result, "participant_pid", ["country"],
                                         ["q1", "q2", "q3"])
    # file rows: a blank line is physical row 7, so u5..u8 are rows 8..11.
    # J-K-07-08-L-3 answered twice: the more complete row 9 stays, row 8 goes
    assert list(dropped) == ["pre-8"]
    kept_rows = set(result.clean.index)
    assert "pre-9" in kept_rows
    # M-N-09-10-O-4 was given by a KZ and a KG respondent: two people, a collision, both kept
    assert {"pre-10", "pre-11"} <= kept_rows
    assert result.removed["repeat_participant"] == 1
    result.check_accounting()


def test_stop_policy_lists_unmapped_values(tmp_path):
    path = _write(tmp_path)
    read = read_wave(path, INSTRUMENT, "pre", source="kobo")
    with pytest.raises(UnmappedValuesError, match=r"'q1': '7' \(1x\)"):
        validate_wave(read, "pre", path, "ws", "stop")


def test_rows_of_another_workshop_are_quarantined(tmp_path):
    path = tmp_path / "x.csv"
    header = "country,q1,q2,q3,workshop_id\n"
    path.write_text(header + "KZ,4,4,4,ws\nKZ,3,3,3,other-ws\n", encoding="utf-8")
    read = read_wave(path, INSTRUMENT, "pre", source="generic")
    result = validate_wave(read, "pre", path, "ws")
    assert result.kept == 1
    assert [q.reason for q in result.quarantine] == ["the submission belongs to another workshop"]
