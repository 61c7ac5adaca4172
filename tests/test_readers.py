"""Tests of read_wave: each survey tool's real export dialect, made by code in tmp_path."""

from __future__ import annotations

import csv
import io
import json
import string

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_mapping import CODE_ITEMS, small_instrument_dict

from evaluation.errors import DialectError, EvaluationError, WorkshopConfigError
from evaluation.instrument import parse_instrument
from evaluation.readers.sources import META_COLUMNS, detect_source, read_wave

INST = parse_instrument(small_instrument_dict())
RD1_EN = "I can describe the steps of a national action plan."
RD1_RU = "Я могу описать этапы разработки национального плана действий."
RD2_RU = "Я знаю региональные лучшие практики."
TOPICS_RU = "Какие темы важны для вашей работы?"
PII = ["ivanova@example.kz", "Иванова Мария Петровна", "+7 701 555 12 34"]
CODE_VALUES = ["А", "Б", "07", "11", "3", "К"]


def write_csv(path, header, rows, delimiter=",", quoting=csv.QUOTE_MINIMAL, encoding="utf-8"):
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def kobo_csv(path, header, rows):
    """formpack's CSV: ';' separated, every field quoted."""
    return write_csv(path, header, rows, delimiter=";", quoting=csv.QUOTE_ALL)


KOBO_META = ["__version__", "_id", "_uuid", "_submission_time", "_validation_status", "_notes",
             "_status", "_submitted_by", "_tags", "_index"]


def kobo_meta(i, status):
    return ["vA1b2", str(100 + i), f"uuid-{i}", f"2018-05-22T0{i}:15:00", status, "",
            "submitted_via_web", "", "", str(i + 1)]


def code_cells():
    return list(CODE_VALUES)


def all_text(w) -> str:
    """Everything a WaveRead exposes, as text (frames included)."""
    parts = [w.answers.to_csv(), w.meta.to_csv(), repr(w.dropped_columns), repr(w.unmapped),
             repr(w.row_problems), repr(w.notes), repr(w.warnings), repr(w.column_headers),
             repr(w.metadata_columns), w.source_reason, repr(w.missing_columns)]
    return "\n".join(parts)


# ---- KoboToolbox -------------------------------------------------------------------------------


def kobo_xml_export(path):
    code_h = [f"code/{c}" for c, _ in CODE_ITEMS]
    header = (["start", "end", "workshop_id", "profile/country"] + code_h
              + ["readiness/rd_1", "readiness/rd_2", "readiness/topics", "readiness/topics/nap",
                 "readiness/topics/youth", "readiness/topics/gender", "profile/years",
                 "retro/rd_1_retro", "open/comment", "email", "ФИО"] + KOBO_META)
    rows = [
        ["2018-05-22T09:00:00.000+06:00", "2018-05-22T09:20:00.000+06:00", "astana-2018",
         "KZ", *code_cells(), "4", "dk", "nap youth", "1", "1", "0", "12", "2",
         "Очень полезно", PII[0], PII[1], *kobo_meta(0, "validation_status_approved")],
        ["", "", "astana-2018", "KG", *code_cells(), "5", "3", "gender", "0", "0", "1", "3,5",
         "1", "", PII[2], PII[1], *kobo_meta(1, "validation_status_not_approved")],
        ["", "", "astana-2018", "TJ", *code_cells(), "", "1", "", "", "", "", "", "", "",
         "", "", *kobo_meta(2, "validation_status_on_hold")],
    ]
    return kobo_csv(path, header, rows)


def test_kobo_xml_values_and_group_paths(tmp_path):
    w = read_wave(kobo_xml_export(tmp_path / "post.csv"), INST, "post")
    assert w.source == "kobo" and "_uuid" in w.source_reason
    assert w.dialect.delimiter == ";"
    a = w.answers
    assert list(a.columns) == ["country", *[c for c, _ in CODE_ITEMS], "rd_1", "rd_2", "topics",
                               "years", "comment", "rd_1_retro"]
    assert a["country"].tolist() == ["KZ", "KG", "TJ"]
    assert a["rd_1"].tolist() == ["4", "5", None]
    assert a["rd_2"].tolist() == ["dk", "3", "1"]
    assert a["topics"].tolist() == ["nap youth", "gender", None]  # detail columns used
    assert a["years"].tolist()[:2] == [12.0, 3.5] and a["years"].tolist()[2] is None
    assert a["rd_1_retro"].tolist() == ["2", "1", None]
    assert a["c_day"].tolist() == ["07"] * 3  # code elements kept as strings
    assert w.meta.columns.tolist() == list(META_COLUMNS)
    assert w.meta["source_row"].tolist() == [2, 3, 4]
    assert w.meta["submission_id"].tolist() == ["uuid-0", "uuid-1", "uuid-2"]
    assert w.meta["review_state"].tolist() == ["approved", "not_approved", "on_hold"]
    assert w.meta["workshop_id"].tolist() == ["astana-2018"] * 3
    assert w.meta["complete"].tolist() == [True] * 3
    assert str(w.meta["submitted_at"].dtype) == "datetime64[ns, UTC]"
    assert w.meta["submitted_at"][1] == pd.Timestamp("2018-05-22T01:15:00Z")
    assert w.unmapped == [] and w.row_problems == []
    assert w.missing_columns == [] and w.rows_read == 3
    assert w.sha256 and w.encoding == "utf-8"


def test_undeclared_columns_dropped_by_name_and_pii_nowhere(tmp_path):
    w = read_wave(kobo_xml_export(tmp_path / "post.csv"), INST, "post")
    for name in ["email", "ФИО", "start", "end", "_id", "_notes", "_status", "_index"]:
        assert name in w.dropped_columns
    assert "_uuid" not in w.dropped_columns  # metadata is used, not dropped
    text = all_text(w)
    for value in PII:
        assert value not in text
    assert not set(w.answers.columns) & {"email", "ФИО"}


def kobo_ru_label_export(path):
    rd = "Ваша готовность сегодня"
    header = (["О вас/Страна"] + [f"Ваш код/Часть кода {c}" for c, _ in CODE_ITEMS]
              + [f"{rd}/{RD1_RU}", f"{rd}/{RD2_RU}", f"{rd}/{TOPICS_RU}",
                 f"{rd}/{TOPICS_RU}/Национальные планы действий",
                 f"{rd}/{TOPICS_RU}/Вовлечение молодёжи",
                 f"{rd}/{TOPICS_RU}/Гендерные аспекты",
                 "О вас/Стаж работы, лет", f"Оглядываясь назад/{RD1_RU}",
                 "Комментарии/Ваши комментарии?", "Телефон"] + KOBO_META)
    rows = [
        ["Казахстан", *code_cells(), "Полностью согласна", "Затрудняюсь ответить",
         "Национальные планы действий Вовлечение молодёжи", "1", "1", "0", "7",
         "Скорее не согласен", "Спасибо", PII[2], *kobo_meta(0, "Одобрено")],
        ["Кыргызстан", *code_cells(), "Полностью согласен", "Отчасти согласна, отчасти нет",
         "Гендерные аспекты", "0", "0", "1", "2", "Cкорее не согласна", "", "",
         *kobo_meta(1, "На удержании")],
        ["таджикистан", *code_cells(), "Скорее согласен(-на)", "Не знаю", "", "", "", "", "",
         "Затрудняюсь ответить", "", "", *kobo_meta(2, "Не одобрено")],
    ]
    return kobo_csv(path, header, rows)


def test_kobo_russian_labels_with_group_label_paths(tmp_path):
    w = read_wave(kobo_ru_label_export(tmp_path / "post.csv"), INST, "post")
    a = w.answers
    assert a["country"].tolist() == ["KZ", "KG", "TJ"]
    assert a["rd_1"].tolist() == ["5", "5", "4"]
    assert a["rd_2"].tolist() == ["dk", "3", "dk"]  # DK is its own code, never the midpoint
    assert a["rd_1_retro"].tolist() == ["2", "2", "dk"]
    assert a["topics"].tolist() == ["nap youth", "gender", None]
    assert a["years"].tolist()[:2] == [7.0, 2.0]
    assert w.meta["review_state"].tolist() == ["approved", "on_hold", "not_approved"]
    assert w.dropped_columns.count("Телефон") == 1
    assert PII[2] not in all_text(w)
    assert w.unmapped == [] and w.missing_columns == []


def test_kobo_without_group_paths_summary_only(tmp_path):
    header = ["country", *[c for c, _ in CODE_ITEMS], "rd_1", "rd_2", "topics", "years",
              "meta/deprecatedID", "_uuid", "_submission_time", "_validation_status"]
    rows = [["KZ", *code_cells(), "1", "2", "gender nap", "0", "uuid:u0", "u1",
             "2018-05-21T10:00:00", ""],
            ["UZ", *code_cells(), "6", "2", "nap", "1", "", "u2", "2018-05-21T10:05:00", ""]]
    w = read_wave(kobo_csv(tmp_path / "pre.csv", header, rows), INST, "pre")
    assert w.answers["topics"].tolist() == ["nap gender", "nap"]  # list order
    assert w.meta["review_state"].tolist() == [None, None]
    assert w.meta["deprecated_id"].tolist() == ["uuid:u0", None]
    assert w.unmapped == [("country", "UZ", 1, [3]), ("rd_1", "6", 1, [3])]
    assert (3, "country", "unmapped value in column country") in w.row_problems
    assert w.answers["country"].tolist() == ["KZ", None]


def test_kobo_xlsx(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Mini pre"
    ws.append(["profile/country", *[f"code/{c}" for c, _ in CODE_ITEMS], "readiness/rd_1",
               "readiness/rd_2", "readiness/topics", "readiness/topics/nap",
               "readiness/topics/youth", "readiness/topics/gender", "profile/years", "email",
               "_id", "_uuid", "_submission_time", "_validation_status", "_index"])
    ws.append(["KZ", *code_cells(), 4, "dk", "youth", 0, 1, 0, 2.5, PII[0], 1, "u1",
               "2018-05-21T10:00:00", "validation_status_approved", 1])
    ws.append(["TJ", *code_cells(), 1, 5, "nap gender", 1, 0, 1, 10, "", 2, "u2",
               "2018-05-21T11:00:00", "", 2])
    wb.save(tmp_path / "pre.xlsx")
    w = read_wave(tmp_path / "pre.xlsx", INST, "pre")
    assert w.source == "kobo" and w.dialect is None
    assert w.answers["rd_1"].tolist() == ["4", "1"]
    assert w.answers["topics"].tolist() == ["youth", "nap gender"]
    assert w.answers["years"].tolist() == [2.5, 10.0]
    assert w.meta["review_state"].tolist() == ["approved", None]
    assert "email" in w.dropped_columns and PII[0] not in all_text(w)


# ---- ODK Central -------------------------------------------------------------------------------

ODK_TAIL = ["KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
            "Status", "ReviewState", "DeviceID", "Edits", "FormVersion"]


def odk_tail(i, review):
    return [f"uuid:odk-{i}", "5", "enumerator", "0", "0", "", review, "dev", "0", "1"]


def test_odk_central_dash_paths_and_split_select_multiple(tmp_path):
    header = (["SubmissionDate", "meta-instanceID", "workshop_id", "profile-country"]
              + [f"code-{c}" for c, _ in CODE_ITEMS]
              + ["readiness-rd_1", "readiness-rd_2", "readiness-topics", "readiness-topics/nap",
                 "readiness-topics/youth", "readiness-topics/gender", "profile-years"]
              + ODK_TAIL)
    reviews = ["approved", "hasIssues", "rejected", "edited", ""]
    rows = []
    for i, review in enumerate(reviews):
        rows.append([f"2018-05-21T0{i}:00:00.000Z", f"uuid:odk-{i}", "ws-1", "KZ",
                     *code_cells(), str(i + 1), "dk", "nap gender", "1", "0", "1", "4"]
                    + odk_tail(i, review))
    w = read_wave(write_csv(tmp_path / "pre.csv", header, rows), INST, "pre")
    assert w.source == "odk" and "SubmissionDate" in w.source_reason
    assert w.meta["review_state"].tolist() == ["approved", "has_issues", "rejected", None, None]
    assert w.meta["submission_id"].tolist()[0] == "uuid:odk-0"
    assert w.meta["submitted_at"][0] == pd.Timestamp("2018-05-21T00:00:00Z")
    assert w.answers["rd_1"].tolist() == ["1", "2", "3", "4", "5"]
    assert w.answers["topics"].tolist() == ["nap gender"] * 5
    assert "SubmitterName" in w.dropped_columns and "meta-instanceID" in w.dropped_columns
    assert "enumerator" not in all_text(w)


def test_odk_group_paths_false(tmp_path):
    header = (["SubmissionDate", "meta-instanceID", "country", *[c for c, _ in CODE_ITEMS],
               "rd_1", "rd_2", "topics", "years"] + ODK_TAIL)
    rows = [["2018-05-21T00:00:00.000Z", "uuid:a", "TJ", *code_cells(), "3", "4", "youth nap",
             "1.5"] + odk_tail(0, "")]
    w = read_wave(write_csv(tmp_path / "pre.csv", header, rows), INST, "pre")
    assert w.answers.iloc[0][["country", "rd_1", "topics"]].tolist() == ["TJ", "3", "nap youth"]
    assert w.missing_columns == [] and w.row_problems == []


# ---- LimeSurvey --------------------------------------------------------------------------------

LIME_META = ["id", "submitdate", "lastpage", "startlanguage", "seed", "token", "startdate",
             "datestamp"]


def test_limesurvey_codes_a1(tmp_path):
    header = LIME_META + ["country", *[c.replace("_", "") for c, _ in CODE_ITEMS], "rd1", "rd2",
                          "topics[SQ001]", "topics[SQ002]", "topics[SQ003]", "years"]
    rows = [
        ["1", "2018-05-21 10:00:00", "3", "ru", "123", "tok-secret-1", "", "", "A1",
         *code_cells(), "A4", "A6", "Y", "", "Y", "5"],
        ["2", "", "1", "ru", "456", "tok-secret-2", "", "", "A2", *code_cells(), "A5", "", "",
         "Y", "", ""],
    ]
    w = read_wave(write_csv(tmp_path / "pre.csv", header, rows), INST, "pre")
    assert w.source == "limesurvey" and "token" in w.source_reason
    assert w.answers["country"].tolist() == ["KZ", "KG"]
    assert w.answers["rd_1"].tolist() == ["4", "5"]
    assert w.answers["rd_2"].tolist() == ["dk", None]
    assert w.answers["topics"].tolist() == ["nap gender", "youth"]
    assert w.meta["complete"].tolist() == [True, False]  # empty submitdate: incomplete
    assert w.meta["submission_id"].tolist() == ["1", "2"]
    assert "token" in w.dropped_columns and "tok-secret-1" not in all_text(w)
    assert any("by position" in n for n in w.notes)


def test_limesurvey_full_answer_texts_and_full_headings(tmp_path):
    header = ["Response ID", "Date submitted", "Last page", "Start language", "Token",
              "Country", RD1_EN, "I know regional good practices.",
              "Which topics are relevant to your work? [Youth engagement]",
              "Which topics are relevant to your work? [Gender dimensions]",
              "Years of experience"]
    rows = [["7", "2018-05-21 10:00:00", "2", "en", "tok-7", "Tajikistan", "Strongly agree",
             "Don't know", "Yes", "", "3"]]
    w = read_wave(write_csv(tmp_path / "pre.csv", header, rows), INST, "pre")
    assert w.source == "limesurvey"
    assert w.answers.iloc[0][["country", "rd_1", "rd_2", "topics"]].tolist() == [
        "TJ", "5", "dk", "youth"]
    assert "Token" in w.dropped_columns


# ---- Qualtrics ---------------------------------------------------------------------------------


def test_qualtrics_three_header_rows(tmp_path):
    ids = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
           "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
           "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
           "DistributionChannel", "UserLanguage", "Q1", "Q2_1", "Q2_2", "Q3", "Q4",
           "workshop_id"]
    texts = ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
             "Duration (in seconds)", "Finished", "Recorded Date", "Response ID",
             "Recipient Last Name", "Recipient First Name", "Recipient Email",
             "External Data Reference", "Location Latitude", "Location Longitude",
             "Distribution Channel", "User Language", "Country",
             f"Please rate - {RD1_EN}", "Please rate - I know regional good practices.",
             "Which topics are relevant to your work? - Selected Choice",
             "Years of experience", "workshop_id"]
    imports = [json.dumps({"ImportId": k, "timeZone": "Asia/Almaty"})
               if k in ("startDate", "endDate", "recordedDate") else json.dumps({"ImportId": k})
               for k in ["startDate", "endDate", "status", "ipAddress", "progress", "duration",
                         "finished", "recordedDate", "_recordId", "recipientLastName",
                         "recipientFirstName", "recipientEmail", "externalDataReference",
                         "locationLatitude", "locationLongitude", "distributionChannel",
                         "userLanguage", "QID1", "QID2_1", "QID2_2", "QID3", "QID4_TEXT",
                         "workshop_id"]]
    data = [
        ["2018-05-22 09:00:00", "2018-05-22 09:20:00", "0", "10.1.2.3", "100", "1200", "1",
         "2018-05-22 09:20:01", "R_abc1", "Иванова", "Мария", PII[0], "", "43.2", "76.9",
         "anonymous", "RU", "Kazakhstan", "Somewhat agree", "Don't know",
         "National action plans,Youth engagement", "4", "ws-q"],
        ["2018-05-22 09:00:00", "2018-05-22 09:10:00", "0", "10.1.2.4", "60", "600", "0",
         "2018-05-23 09:10:00", "R_abc2", "", "", "", "", "", "", "anonymous", "EN",
         "Kyrgyzstan", "Strongly agree", "", "", "", "ws-q"],
    ]
    w = read_wave(write_csv(tmp_path / "pre.csv", ids, [texts, imports, *data]), INST, "pre")
    assert w.source == "qualtrics" and w.header_rows == 3
    assert w.rows_read == 2 and w.meta["source_row"].tolist() == [4, 5]
    assert w.answers["country"].tolist() == ["KZ", "KG"]
    assert w.answers["rd_1"].tolist() == ["4", "5"]
    assert w.answers["rd_2"].tolist() == ["dk", None]
    assert w.answers["topics"].tolist() == ["nap youth", None]
    assert w.meta["complete"].tolist() == [True, False]
    assert w.meta["submission_id"].tolist() == ["R_abc1", "R_abc2"]
    # Asia/Almaty was UTC+6 in 2018
    assert w.meta["submitted_at"][0] == pd.Timestamp("2018-05-22T03:20:01Z")
    text = all_text(w)
    assert PII[0] not in text and "10.1.2.3" not in text and "Иванова" not in text
    assert "IPAddress" in w.dropped_columns and "RecipientEmail" in w.dropped_columns


# ---- generic -----------------------------------------------------------------------------------


def test_generic_item_ids_cp1251_semicolon(tmp_path):
    header = ["country", "rd_1", "rd_2", "topics", "years", "ФИО"]
    rows = [["KZ", "Полностью согласна", "Затрудняюсь ответить", "nap", "12,5", PII[1]],
            ["KG", "2", "dk", "", "", ""]]
    path = write_csv(tmp_path / "pre.csv", header, rows, delimiter=";", encoding="cp1251")
    w = read_wave(path, INST, "pre")
    assert w.source == "generic" and w.encoding == "cp1251"
    assert w.answers["rd_1"].tolist() == ["5", "2"]
    assert w.answers["years"].tolist()[0] == 12.5
    assert w.dropped_columns == ["ФИО"] and PII[1] not in all_text(w)
    assert "c_day" in w.missing_columns
    assert w.meta["complete"].tolist() == [True, True]
    assert w.meta["submission_id"].tolist() == [None, None]


def test_generic_with_header_map(tmp_path):
    header = ["Q1 Страна", "Q2", "Q3 (лет)", "Прочее"]
    rows = [["Казахстан", "4 – скорее согласен", "3", "x"]]
    path = write_csv(tmp_path / "pre.csv", header, rows)
    hm = {"Q1 Страна": "country", "Q2": "rd_1", "Q3 (лет)": "years"}
    w = read_wave(path, INST, "pre", header_map=hm, allow_leading_digit=True)
    assert w.answers.iloc[0][["country", "rd_1", "years"]].tolist() == ["KZ", "4", 3.0]
    assert w.dropped_columns == ["Прочее"]
    assert w.column_headers["rd_1"] == ["Q2"]
    w2 = read_wave(path, INST, "pre", header_map=hm)
    assert w2.unmapped == [("rd_1", "4 – скорее согласен", 1, [2])]


def test_forced_source_and_bad_parameters(tmp_path):
    path = kobo_xml_export(tmp_path / "post.csv")
    w = read_wave(path, INST, "post", source="generic")
    assert w.source == "generic" and w.source_reason == "given as generic by the caller"
    assert any("suggests KoboToolbox" in n for n in w.notes)
    with pytest.raises(WorkshopConfigError):
        read_wave(path, INST, "post", source="surveymonkey")
    with pytest.raises(WorkshopConfigError):
        read_wave(path, INST, "retro")
    assert detect_source(["id", "submitdate"])[0].name == "limesurvey"


# ---- problems ----------------------------------------------------------------------------------


def test_unmapped_values_listed_with_counts(tmp_path):
    header = ["country", "rd_1", "topics", "_uuid", "_submission_time"]
    rows = [["KZ", "Maybe", "nap", "u1", ""], ["KZ", "maybe", "nap zzz", "u2", ""],
            ["KZ", "Никогда", "", "u3", ""], ["KZ", "3", "", "u4", ""]]
    w = read_wave(kobo_csv(tmp_path / "pre.csv", header, rows), INST, "pre")
    assert ("rd_1", "Maybe", 1, [2]) in w.unmapped  # closed labels may be quoted
    assert ("rd_1", "Никогда", 1, [4]) in w.unmapped
    assert ("topics", "nap zzz", 1, [3]) in w.unmapped
    assert sum(n for _, _, n, _ in w.unmapped) == 4
    assert w.problem_rows == [2, 3, 4]
    assert w.answers["rd_1"].tolist() == [None, None, None, "3"]
    assert w.answers["rd_1"].isna().sum() == 3 and len(w.answers) == 4


def test_duplicate_mapping_is_a_dialect_error(tmp_path):
    header = ["readiness/rd_1", "rd_1", "_uuid", "_submission_time"]
    path = kobo_csv(tmp_path / "pre.csv", header, [["1", "2", "u", ""]])
    with pytest.raises(DialectError) as err:
        read_wave(path, INST, "pre")
    assert "'readiness/rd_1'" in str(err.value) and "'rd_1'" in str(err.value)


def test_unparseable_number_is_a_row_problem_without_the_value(tmp_path):
    header = ["country", "years", "comment"]
    secret = "двенадцать-7705551234"
    rows = [["KZ", secret, "текст"], ["KZ", "4", ""]]
    w = read_wave(write_csv(tmp_path / "post.csv", header, rows), INST, "post")
    assert w.row_problems == [(2, "years", "not a number")]
    assert w.answers["years"].tolist() == [None, 4.0]
    assert secret not in all_text(w)
    assert w.unmapped == []


def test_missing_columns_are_not_an_error(tmp_path):
    w = read_wave(write_csv(tmp_path / "post.csv", ["country"], [["KZ"]]), INST, "post")
    assert "rd_1_retro" in w.missing_columns and "comment" in w.missing_optional_columns
    assert list(w.answers.columns) == ["country"]


# ---- property: garbling never escapes the error hierarchy, no row is lost ----------------------

LOOKALIKE = "aceopxyACEHKMOPTXаеорсухАВЕКМНОРСТХёЁ"
GARBLE = st.one_of(
    st.just(""),
    st.text(alphabet=string.ascii_letters + string.digits + " -,.'/()" + LOOKALIKE + "юяЖщ",
            max_size=12),
    st.sampled_from(["Не знаю", "DK", "4 – скорее согласен", "Полностью соглаcна", "1,5", "nan",
                     "None", "=1+1", "  ", "0", "1", "nap youth", "Y"]),
)
BASE_HEADER = (["profile/country", *[f"code/{c}" for c, _ in CODE_ITEMS], "readiness/rd_1",
                "readiness/rd_2", "readiness/topics", "readiness/topics/nap",
                "readiness/topics/youth", "profile/years", "retro/rd_1_retro", "open/comment"]
               + ["_uuid", "_submission_time", "_validation_status"])
BASE_ROW = ["KZ", *CODE_VALUES, "4", "dk", "nap youth", "1", "1", "3", "2", "ok"]


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_garbled_export_never_crashes_and_keeps_every_row(tmp_path, data):
    n_rows = data.draw(st.integers(1, 5), label="rows")
    rows = []
    for i in range(n_rows):
        row = list(BASE_ROW)
        for j in range(len(row)):
            if data.draw(st.booleans(), label="garble?"):
                row[j] = data.draw(GARBLE, label="cell")
        status = data.draw(st.sampled_from(["", "validation_status_approved", "Одобрено", "??"]))
        time = data.draw(st.sampled_from(["", "2018-05-22T10:00:00", "вчера", "45366", "99-99"]))
        rows.append(row + [f"u{i}", time, status])
    path = kobo_csv(tmp_path / "post.csv", BASE_HEADER, rows)
    try:
        w = read_wave(path, INST, "post")
    except EvaluationError:
        return
    assert w.rows_read == n_rows == len(w.answers) == len(w.meta)
    assert w.meta["source_row"].tolist() == list(range(2, n_rows + 2))
    assert w.meta["submission_id"].tolist() == [f"u{i}" for i in range(n_rows)]
    for col in ("rd_1", "rd_2", "rd_1_retro", "country"):
        allowed = set(INST.choice_lists[INST.item(col.removesuffix("_retro")).choices]
                      .codes) | {"dk", "KZ", "KG", "TJ"}
        assert all(v is None or v in allowed for v in w.answers[col])
    for row, col, reason in w.row_problems:
        assert 2 <= row <= n_rows + 1 and col in w.answers.columns
        assert reason in ("not a number", f"unmapped value in column {col}")
