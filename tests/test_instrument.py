"""Tests of the instrument loader: every shipped instrument is valid; every rule fires."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from evaluation.errors import InstrumentError
from evaluation.instrument import (
    find_instrument,
    load_instrument,
    parse_instrument,
    surveys_dir,
)

SHIPPED = sorted(surveys_dir().glob("*.yaml"))


def _t(en: str, ru: str | None = None) -> dict[str, str]:
    return {"en": en, "ru": ru if ru is not None else f"{en} (ru)"}


def minimal() -> dict:
    """A small valid instrument covering every item type."""
    return {
        "id": "mini",
        "version": "1.0",
        "languages": ["en", "ru"],
        "title": _t("Mini"),
        "sections": [
            {"id": "profile", "label": _t("Profile")},
            {"id": "code", "label": _t("Code")},
            {"id": "readiness", "label": _t("Readiness")},
            {"id": "retro", "label": _t("Thinking back")},
            {"id": "open", "label": _t("Open")},
        ],
        "choice_lists": {
            "agree5": {
                "ordered": True,
                "choices": [{"code": i, **_t(f"a{i}")} for i in range(1, 6)],
                "missing": [{"code": "dk", **_t("Don't know", "Затрудняюсь ответить")}],
            },
            "country": {"choices": [{"code": "KZ", **_t("Kazakhstan")},
                                    {"code": "KG", **_t("Kyrgyzstan")}]},
            "kn1": {"choices": [{"code": c, **_t(c)} for c in "abcd"]},
            "plans": {"choices": [{"code": "share", **_t("Share")},
                                  {"code": "none", **_t("None")}]},
        },
        "scales": [{"id": "ready", "label": _t("Readiness"), "domain": "readiness"}],
        "items": [
            {"id": "country", "type": "single_choice", "section": "profile", "role": "country",
             "choices": "country", "text": _t("Country"), "waves": ["pre", "post"]},
            *[
                {"id": f"code_{n}", "type": "code", "section": "code", "element": el,
                 "text": _t(n), "waves": ["pre", "post"], "sensitivity": "high"}
                for n, el in [("m", "letter"), ("f", "letter"), ("d", "day"),
                              ("mo", "month"), ("p", "letter"), ("s", "digit")]
            ],
            *[
                {"id": f"r{i}", "type": "likert", "section": "readiness", "choices": "agree5",
                 "scale": "ready", "text": _t(f"Item {i}"), "waves": ["pre", "post", "retro"],
                 "reverse": i == 3}
                for i in (1, 2, 3)
            ],
            {"id": "kn_1", "type": "knowledge", "section": "readiness", "choices": "kn1",
             "correct": "b", "text": _t("Question"), "waves": ["pre", "post"]},
            {"id": "contacts", "type": "number", "section": "readiness", "min": 0, "max": 50,
             "text": _t("Contacts"), "waves": ["pre", "post"]},
            {"id": "plans", "type": "multiple_choice", "section": "open", "choices": "plans",
             "text": _t("Plans"), "waves": ["post"]},
            {"id": "comment", "type": "text", "section": "open", "text": _t("Comment"),
             "waves": ["post"], "sensitivity": "high"},
        ],
    }


def problems_of(data: dict) -> list[str]:
    with pytest.raises(InstrumentError) as info:
        parse_instrument(data)
    return info.value.problems


def test_minimal_instrument_is_valid():
    inst = parse_instrument(minimal())
    assert inst.column_names("post")[-3:] == ["r1_retro", "r2_retro", "r3_retro"]
    assert inst.scales["ready"].items == ("r1", "r2", "r3")
    assert inst.item("r3").reverse is True
    assert inst.choice_lists["agree5"].score_range == (1, 5)
    assert inst.choice_lists["agree5"].missing_codes == ("dk",)
    assert not inst.item("comment").required


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_shipped_instruments_are_valid(path: Path):
    inst = load_instrument(path)
    assert inst.languages == ("en", "ru")
    for item in inst.items:
        assert item.text["en"] and item.text["ru"], item.id
    for clist in inst.choice_lists.values():
        for choice in clist.all_choices:
            assert choice.labels["en"] and choice.labels["ru"]


def test_default_instrument_covers_the_concept_note():
    inst = load_instrument(surveys_dir() / "pvect-readiness.yaml")
    assert inst.version == "2.0"
    for scale in ("understanding_drivers", "pillar1_practices", "ashgabat_themes",
                  "strategy_competence", "design_confidence", "cooperation"):
        assert len(inst.scales[scale].items) >= 3, scale
    assert len(inst.scales["pillar1_practices"].items) == 6
    assert len(inst.code_items()) == 6
    knowledge = [it for it in inst.items if it.type == "knowledge"]
    assert 8 <= len(knowledge) <= 12
    assert all(set(it.waves) == {"pre", "post"} for it in knowledge)
    parts = {it.part for it in inst.items if it.part}
    assert parts == {"intro", "part1", "part2"}
    for role in ("country", "sector", "gender", "involvement", "experience"):
        assert inst.item_by_role(role) is not None, role
    countries = inst.choice_list_of("country").codes
    assert {"KZ", "KG", "TJ", "TM", "UZ"} <= set(countries)
    # "don't know" is kept apart from the agree scale
    agree = inst.choice_list_of(inst.scales["design_confidence"].items[0])
    assert agree.ordered and agree.missing_codes
    assert sum(it.reverse for it in inst.items) >= 1
    assert inst.items_for_wave("retro")


def test_older_version_lacks_items_and_keeps_ids():
    new = load_instrument(find_instrument("pvect-readiness@2.0"))
    old = load_instrument(find_instrument("pvect-readiness@1.0"))
    assert old.version == "1.0"
    old_ids = {it.id for it in old.items}
    new_ids = {it.id for it in new.items}
    assert len(old_ids & new_ids) >= 0.9 * len(old_ids)
    assert new_ids - old_ids >= {it.id for it in new.items_of_scale("ashgabat_themes")}
    assert not old.items_for_wave("retro")
    assert find_instrument("pvect-readiness") == find_instrument("pvect-readiness@2.0")


# ---- each rule fires with one sentence naming the item ---------------------------------------


def test_duplicate_item_id():
    data = minimal()
    data["items"].append(copy.deepcopy(data["items"][0]))
    assert "Item 'country' is defined twice." in problems_of(data)


def test_missing_choice_list():
    data = minimal()
    data["items"][0]["choices"] = "countries"
    assert ("Item 'country' refers to choice list 'countries', which does not exist."
            in problems_of(data))


def test_missing_russian_text():
    data = minimal()
    del data["items"][-1]["text"]["ru"]
    assert "Item 'comment' has no Russian text." in problems_of(data)


def test_missing_russian_choice_label():
    data = minimal()
    del data["choice_lists"]["country"]["choices"][0]["ru"]
    assert "Choice 'KZ' of list 'country' has no Russian text." in problems_of(data)


def test_scale_with_fewer_than_three_items():
    data = minimal()
    data["items"] = [it for it in data["items"] if it["id"] != "r3"]
    assert "Scale 'ready' has 2 items; a scale needs at least 3." in problems_of(data)


def test_knowledge_correct_option_must_exist():
    data = minimal()
    data["items"][10]["correct"] = "e"
    assert any("'kn_1' is a knowledge question whose correct option 'e'" in p
               for p in problems_of(data))


def test_knowledge_needs_correct_option():
    data = minimal()
    del data["items"][10]["correct"]
    assert "Item 'kn_1' is a knowledge question without a 'correct' option." in problems_of(data)


def test_retro_needs_post():
    data = minimal()
    data["items"][7]["waves"] = ["pre", "retro"]
    assert "Item 'r1' asks wave 'retro' but is not asked at 'post'." in problems_of(data)


def test_retro_only_for_likert():
    data = minimal()
    data["items"][11]["waves"] = ["pre", "post", "retro"]
    assert "Item 'contacts' asks wave 'retro', which only Likert items can." in problems_of(data)


def test_unknown_type_wave_section_and_key():
    data = minimal()
    data["items"][0].update(type="slider", waves=["pre", "later"], section="nowhere", colour=1)
    probs = problems_of(data)
    assert any(p.startswith("Item 'country' has type 'slider'") for p in probs)
    assert "Item 'country' asks an unknown wave 'later'." in probs
    assert "Item 'country' is in section 'nowhere', which does not exist." in probs
    assert "Item 'country' has an unknown key 'colour'." in probs


def test_reverse_only_on_likert():
    data = minimal()
    data["items"][0]["reverse"] = True
    assert "Item 'country' is reverse-keyed but only Likert items can be." in problems_of(data)


def test_likert_needs_ordered_list():
    data = minimal()
    data["choice_lists"]["agree5"]["ordered"] = False
    assert any("is a Likert item but list 'agree5' is not ordered" in p
               for p in problems_of(data))


def test_duplicate_choice_code():
    data = minimal()
    data["choice_lists"]["country"]["choices"].append({"code": "KZ", **_t("Again")})
    assert "Choice list 'country' has the code 'KZ' twice." in problems_of(data)


def test_incomplete_participant_code():
    data = minimal()
    data["items"] = [it for it in data["items"] if it["id"] != "code_d"]
    assert any(p.startswith("The participant code needs six elements") for p in problems_of(data))


def test_version_must_be_a_string():
    data = minimal()
    data["version"] = 2.0
    assert any("'version' written as a string" in p for p in problems_of(data))


def test_every_problem_is_reported_at_once():
    data = minimal()
    data["items"][0]["choices"] = "nope"
    del data["items"][-1]["text"]["ru"]
    err = pytest.raises(InstrumentError, parse_instrument, data).value
    assert len(err.problems) == 2
    assert str(err).startswith("Instrument (in memory) has 2 problems: ")


def test_load_reports_bad_yaml_and_missing_file(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match="not valid YAML at line"):
        load_instrument(bad)
    with pytest.raises(InstrumentError, match="does not exist"):
        load_instrument(tmp_path / "none.yaml")


def test_yaml_tags_that_build_objects_are_refused(tmp_path: Path):
    evil = tmp_path / "evil.yaml"
    evil.write_text("id: !!python/object/apply:os.system ['echo hi']\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match="not valid YAML"):
        load_instrument(evil)


def test_roundtrip_through_yaml(tmp_path: Path):
    path = tmp_path / "mini.yaml"
    path.write_text(yaml.safe_dump(minimal(), allow_unicode=True), encoding="utf-8")
    assert load_instrument(path).label == "mini 1.0"
