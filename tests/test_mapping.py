"""Tests of header → column and label → code mapping (evaluation.readers.mapping)."""

from __future__ import annotations

import pytest

from evaluation.errors import DialectError, WorkshopConfigError
from evaluation.instrument import (
    default_instrument_path,
    load_instrument,
    parse_instrument,
)
from evaluation.readers.mapping import (
    ChoiceMapper,
    HeaderIndex,
    HeaderTarget,
    form_columns,
    gender_variants,
    label_key,
    map_headers,
    truthy,
)
from evaluation.xlsform import xlsform_sheets

CODE_ITEMS = [
    ("c_mother", "letter"),
    ("c_father", "letter"),
    ("c_day", "day"),
    ("c_month", "month"),
    ("c_digit", "digit"),
    ("c_street", "letter"),
]


def small_instrument_dict() -> dict:
    """A small instrument: likert with dk, single, multiple, number, text, code, retro."""
    t = lambda en, ru: {"en": en, "ru": ru}  # noqa: E731
    items = [
        {"id": "country", "type": "single_choice", "section": "profile", "choices": "country",
         "role": "country", "waves": ["pre", "post", "followup"], "text": t("Country", "Страна")},
    ]
    for iid, element in CODE_ITEMS:
        items.append({"id": iid, "type": "code", "section": "code", "element": element,
                      "waves": ["pre", "post", "followup"],
                      "text": t(f"Code part {iid}", f"Часть кода {iid}")})
    items += [
        {"id": "rd_1", "type": "likert", "section": "readiness", "choices": "agree5",
         "waves": ["pre", "post", "retro"],
         "text": t("I can describe the steps of a national action plan.",
                   "Я могу описать этапы разработки национального плана действий.")},
        {"id": "rd_2", "type": "likert", "section": "readiness", "choices": "agree5",
         "waves": ["pre", "post"],
         "text": t("I know regional good practices.", "Я знаю региональные лучшие практики.")},
        {"id": "topics", "type": "multiple_choice", "section": "readiness", "choices": "topics",
         "waves": ["pre", "post"], "required": False,
         "text": t("Which topics are relevant to your work?",
                   "Какие темы важны для вашей работы?")},
        {"id": "years", "type": "number", "section": "profile", "min": 0, "max": 50,
         "waves": ["pre", "post"], "text": t("Years of experience", "Стаж работы, лет")},
        {"id": "comment", "type": "text", "section": "open", "waves": ["post"],
         "text": t("Any comments?", "Ваши комментарии?")},
    ]
    return {
        "id": "mini",
        "version": "1.0",
        "languages": ["en", "ru"],
        "title": t("Mini", "Мини"),
        "sections": [
            {"id": "profile", "label": t("About you", "О вас")},
            {"id": "code", "label": t("Your code", "Ваш код")},
            {"id": "readiness", "label": t("Your readiness today", "Ваша готовность сегодня")},
            {"id": "retro", "label": t("Thinking back", "Оглядываясь назад")},
            {"id": "open", "label": t("Comments", "Комментарии")},
        ],
        "choice_lists": {
            "agree5": {
                "ordered": True,
                "choices": [
                    {"code": 1, "en": "Strongly disagree", "ru": "Полностью не согласен(-на)"},
                    {"code": 2, "en": "Somewhat disagree", "ru": "Скорее не согласен(-на)"},
                    {"code": 3, "en": "Neither agree nor disagree",
                     "ru": "Отчасти согласен(-на), отчасти нет"},
                    {"code": 4, "en": "Somewhat agree", "ru": "Скорее согласен(-на)"},
                    {"code": 5, "en": "Strongly agree", "ru": "Полностью согласен(-на)"},
                ],
                "missing": [{"code": "dk", "en": "Don't know", "ru": "Затрудняюсь ответить"}],
            },
            "country": {"choices": [
                {"code": "KZ", "en": "Kazakhstan", "ru": "Казахстан"},
                {"code": "KG", "en": "Kyrgyzstan", "ru": "Кыргызстан"},
                {"code": "TJ", "en": "Tajikistan", "ru": "Таджикистан"},
            ]},
            "topics": {"choices": [
                {"code": "nap", "en": "National action plans", "ru": "Национальные планы действий"},
                {"code": "youth", "en": "Youth engagement", "ru": "Вовлечение молодёжи"},
                {"code": "gender", "en": "Gender dimensions", "ru": "Гендерные аспекты"},
            ]},
        },
        "items": items,
    }


@pytest.fixture(scope="module")
def inst():
    return parse_instrument(small_instrument_dict())


@pytest.fixture(scope="module")
def agree(inst):
    return ChoiceMapper(inst.choice_lists["agree5"])


# ---- values ------------------------------------------------------------------------------------


def test_label_key_folds_case_yo_lookalikes_punctuation():
    assert label_key("Вовлечение молодёжи") == label_key("вовлечение  МОЛОДЕЖИ")
    assert label_key("Cкорее согласен") == label_key("скорее согласен")  # Latin C
    assert label_key("Don’t know") == label_key("dont know") == "dont know"


def test_gender_variants():
    v = gender_variants("Отчасти согласен(-на), отчасти нет")
    assert "Отчасти согласна, отчасти нет" in v and "Отчасти согласен, отчасти нет" in v
    assert "Я не присутствовала" in gender_variants("Я не присутствовал(-а)")
    assert set(gender_variants("согласен/согласна")) == {"согласен", "согласна"}


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("5", "5"),
        ("Strongly agree", "5"),
        ("STRONGLY  AGREE", "5"),
        ("Полностью согласен", "5"),
        ("Полностью согласна", "5"),
        ("полностью согласен(-на)", "5"),
        ("Полностью не согласна", "1"),
        ("Отчасти согласна, отчасти нет", "3"),
        ("Скорее согласен", "4"),
        ("Cкорее coглаcен", "4"),  # Latin look-alikes
        ("Затрудняюсь ответить", "dk"),
        ("Не знаю", "dk"),
        ("Don't know", "dk"),
        ("DK", "dk"),
        ("dk", "dk"),
    ],
)
def test_choice_mapper_maps_codes_labels_gender_and_dk(agree, value, code):
    assert agree.map(value) == code


def test_dk_is_never_the_midpoint_or_empty(agree):
    assert agree.map("Затрудняюсь ответить") not in ("3", None)


def test_leading_digit_only_when_allowed(inst):
    plain = ChoiceMapper(inst.choice_lists["agree5"])
    lead = ChoiceMapper(inst.choice_lists["agree5"], allow_leading_digit=True)
    assert plain.map("4 – скорее согласен") is None
    assert lead.map("4 – скорее согласен") == "4"
    assert lead.map("4. Somewhat agree") == "4"
    assert lead.map("4 – полностью не согласен") is None  # the digit and the text disagree
    assert lead.map("9 – что-то") is None


def test_unknown_values_map_to_none(agree):
    for value in ["maybe", "6", "согласен на всё", "Strongly agreeable"]:
        assert agree.map(value) is None


def test_positional_codes_only_when_asked(inst):
    lime = ChoiceMapper(inst.choice_lists["agree5"], positional_codes=True)
    assert lime.map("A4") == "4" and lime.map("A6") == "dk" and lime.map("A7") is None
    assert ChoiceMapper(inst.choice_lists["agree5"]).map("A4") is None


def test_dk_synonyms_need_a_dk_code():
    lst = parse_instrument({**small_instrument_dict()}).choice_lists["country"]
    assert ChoiceMapper(lst).map("Не знаю") is None


def test_map_multiple_codes_and_labels(inst):
    m = ChoiceMapper(inst.choice_lists["topics"])
    assert m.map_multiple("youth nap") == ["nap", "youth"]
    assert m.map_multiple("Gender dimensions National action plans") == ["nap", "gender"]
    assert m.map_multiple("Национальные планы действий, Вовлечение молодежи") == ["nap", "youth"]
    assert m.map_multiple("nap something") is None


def test_truthy():
    assert [truthy(v) for v in ["1", "0", "TRUE", "false", "Y", "", "2"]] == [
        True, False, True, False, True, None, None]


# ---- headers -----------------------------------------------------------------------------------


def test_form_columns_place_retro_in_its_section(inst):
    cols = [c for c, _, _ in form_columns(inst, "post")]
    assert cols.index("rd_1_retro") > cols.index("topics")
    assert sorted(cols) == sorted(inst.column_names("post"))


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("rd_1", HeaderTarget("rd_1")),
        ("readiness/rd_1", HeaderTarget("rd_1")),
        ("readiness-rd_1", HeaderTarget("rd_1")),
        ("retro/rd_1_retro", HeaderTarget("rd_1_retro")),
        ("readiness/topics/youth", HeaderTarget("topics", "youth")),
        ("readiness-topics/youth", HeaderTarget("topics", "youth")),
        ("rd1retro", HeaderTarget("rd_1_retro")),
        ("topics[nap]", HeaderTarget("topics", "nap")),
        ("topics[SQ002]", HeaderTarget("topics", "youth")),
        ("Страна", HeaderTarget("country")),
        ("О вас/Страна", HeaderTarget("country")),
        ("Оглядываясь назад/Я могу описать этапы разработки национального плана действий.",
         HeaderTarget("rd_1_retro")),
        ("Ваша готовность сегодня/Я могу описать этапы разработки национального плана действий.",
         HeaderTarget("rd_1")),
        ("Thinking back - I can describe the steps of a national action plan.",
         HeaderTarget("rd_1_retro")),
        ("Which topics are relevant to your work?/Youth engagement",
         HeaderTarget("topics", "youth")),
        ("Ваша готовность сегодня/Какие темы важны для вашей работы?/Гендерные аспекты",
         HeaderTarget("topics", "gender")),
        ("Which topics are relevant to your work? [Gender dimensions]",
         HeaderTarget("topics", "gender")),
    ],
)
def test_header_index_resolves(inst, header, target):
    idx = HeaderIndex(inst, "post", positional_options=True)
    assert idx.resolve(header) == target


def test_header_index_ambiguous_text_and_unknown(inst):
    idx = HeaderIndex(inst, "post")
    assert sorted(idx.resolve("I can describe the steps of a national action plan.")) == [
        "rd_1", "rd_1_retro"]
    assert idx.resolve("email") is None
    assert idx.resolve("ФИО") is None
    assert HeaderIndex(inst, "pre").resolve("rd_1_retro") is None


def test_map_headers_assigns_shared_texts_in_form_order(inst):
    idx = HeaderIndex(inst, "post")
    text = "I can describe the steps of a national action plan."
    m = map_headers(["country", text, "email", text], idx, file="post.csv")
    assert m.targets[1] == HeaderTarget("rd_1")
    assert m.targets[3] == HeaderTarget("rd_1_retro")
    assert m.dropped == [2]
    assert m.notes


def test_map_headers_single_shared_text_is_an_error(inst):
    idx = HeaderIndex(inst, "post")
    with pytest.raises(DialectError, match="several columns"):
        map_headers(["I can describe the steps of a national action plan."], idx, file="p.csv")


def test_map_headers_duplicate_names_both(inst):
    idx = HeaderIndex(inst, "pre")
    with pytest.raises(DialectError) as err:
        map_headers(["readiness/rd_1", "rd_1"], idx, file="pre.csv")
    assert "'readiness/rd_1'" in str(err.value) and "'rd_1'" in str(err.value)
    assert "pre.csv" in str(err.value)


def test_map_headers_summary_and_details_are_not_duplicates(inst):
    idx = HeaderIndex(inst, "pre")
    m = map_headers(["topics", "topics/nap", "topics/youth"], idx)
    assert m.summary == {"topics": 0} and m.details == {"topics": {"nap": 1, "youth": 2}}
    assert any("summary column was ignored" in n for n in m.notes)


def test_header_map_wins_and_is_checked(inst):
    idx = HeaderIndex(inst, "pre")
    hm = {"Q1": "country", "Q7_2": "topics/youth", "Q9": "rd_2"}
    m = map_headers(["Q1", "Q7_2"], idx, header_map=hm)
    assert m.targets == {0: HeaderTarget("country"), 1: HeaderTarget("topics", "youth")}
    assert any("'Q9'" in n for n in m.notes)
    with pytest.raises(WorkshopConfigError, match="not a column"):
        map_headers(["Q1"], idx, header_map={"Q1": "no_such_item"})
    with pytest.raises(WorkshopConfigError, match="not an option"):
        map_headers(["Q1"], idx, header_map={"Q1": "topics/zzz"})


def test_missing_columns_listed(inst):
    m = map_headers(["country"], HeaderIndex(inst, "pre"))
    assert "rd_1" in m.missing and "country" not in m.missing


@pytest.mark.parametrize("wave", ["pre", "post", "followup"])
@pytest.mark.parametrize("mode", ["xml", "label_en", "label_ru"])
def test_default_instrument_xlsform_headers_all_map(wave, mode):
    """Every question of the shipped instrument's XLSForm maps back, by name or by label."""
    inst = load_instrument(default_instrument_path())
    sheets = xlsform_sheets(inst, wave, "ws-1")
    header, *rows = sheets["survey"]
    col = {h: i for i, h in enumerate(header)}
    label_col = {"label_en": "label::English (en)", "label_ru": "label::Russian (ru)"}.get(mode)
    stack: list[str] = []
    headers = []
    for row in rows:
        kind, name = row[col["type"]], row[col["name"]]
        if kind == "begin_group":
            stack.append(row[col[label_col]] if label_col else name)
            continue
        if kind == "end_group":
            stack.pop()
            continue
        if kind in ("start", "end", "calculate"):
            continue
        own = row[col[label_col]] if label_col else name
        headers.append("/".join([*stack, own]))
    m = map_headers(headers, HeaderIndex(inst, wave), file="x.csv")
    assert m.dropped == [], [headers[p] for p in m.dropped]
    assert m.missing == []


def test_default_instrument_every_label_and_gender_form_maps_to_its_code():
    inst = load_instrument(default_instrument_path())
    for clist in inst.choice_lists.values():
        mapper = ChoiceMapper(clist)
        for choice in clist.all_choices:
            assert mapper.map(choice.code) == choice.code
            for label in choice.labels.values():
                assert mapper.map(label) == choice.code, (clist.id, label)
                for variant in gender_variants(label):
                    assert mapper.map(variant) in (choice.code, None), (clist.id, variant)
        if "dk" in clist.missing_codes:
            assert mapper.map("Не знаю") == "dk" and mapper.map("DK") == "dk"
