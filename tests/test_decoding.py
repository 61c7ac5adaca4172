"""Tests of evaluation.readers.decoding: encodings, dialects, headers, row accounting.

Every fixture is made by code in ``tmp_path``; the names follow the suggested fixtures of the
messy-input reference note (section 6).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import random

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from evaluation.errors import (
    DialectError,
    EncodingProblem,
    EvaluationError,
    InputFileError,
)
from evaluation.readers import (
    RawTable,
    decode_bytes,
    fold_for_matching,
    normalize_cell,
    parse_excel_serial_date,
    parse_number,
    read_table,
    sniff_dialect,
)

LOSS = "possible_irrecoverable_encoding_loss"


def codes(table_or_decoded) -> list[str]:
    return [w.code for w in table_or_decoded.warnings]


def all_messages(table: RawTable) -> str:
    return " ".join([w.message for w in table.warnings] + [r for _, r in table.malformed_rows])


def assert_accounting(table: RawTable) -> None:
    assert table.accounting_holds
    assert len(table.frame) + table.blank_rows + len(table.malformed_rows) == (
        table.records_after_header
    )
    for value in table.frame.to_numpy().ravel():
        assert value is None or isinstance(value, str)


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------
# Encodings (R-IN-02, R-IN-03)
# --------------------------------------------------------------------------------------------


def test_cp1251_semicolon_decimal_comma(tmp_path):
    text = (
        "ID;Страна;Балл до;Бюджет\r\n"
        "1;Казахстан;3,5;1 234,5\r\n"
        "2;Узбекистан;4,0;12 000\r\n"
        "3;Кыргызстан;2,5;\r\n"
    )
    path = write(tmp_path, "cp1251_semicolon_decimal_comma.csv", text.encode("cp1251"))
    table = read_table(path)
    assert table.encoding == "cp1251"
    assert "legacy code page cp1251" in table.encoding_reason
    assert "legacy_encoding_used" in codes(table)
    assert LOSS not in codes(table)  # Russian only: nothing lost
    assert table.dialect is not None
    assert (table.dialect.delimiter, table.dialect.decimal) == (";", ",")
    assert table.decimal == ","
    assert list(table.frame.columns) == ["ID", "Страна", "Балл до", "Бюджет"]
    assert table.frame["Страна"].tolist() == ["Казахстан", "Узбекистан", "Кыргызстан"]
    assert [parse_number(v, table.decimal) for v in table.frame["Балл до"]] == [3.5, 4.0, 2.5]
    assert [parse_number(v, table.decimal) for v in table.frame["Бюджет"]] == [
        1234.5,
        12000.0,
        None,
    ]
    assert table.frame["Бюджет"].iloc[2] is None
    assert table.source_rows == [2, 3, 4]
    assert_accounting(table)


def test_utf8_bom_first_header_has_no_bom(tmp_path):
    text = "ID,Ответ,Оценка\n1,Да,5\n2,Нет,4\n"
    path = write(tmp_path, "utf8_bom.csv", codecs.BOM_UTF8 + text.encode("utf-8"))
    table = read_table(path)
    assert table.encoding == "utf-8"
    assert "byte-order mark" in table.encoding_reason
    first = table.frame.columns[0]
    assert first == "ID" and "\ufeff" not in first
    assert table.frame["ID"].tolist() == ["1", "2"]
    assert table.dialect.delimiter == ","
    assert table.dialect.decimal == "."


def test_utf16_tab_excel_unicode_text(tmp_path):
    text = "ID\tСтрана\tБалл\r\n1\tТаджикистан\t3,5\r\n2\tТуркменистан\t4,5\r\n"
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    path = write(tmp_path, "utf16_tab_excel_unicode_text.txt", data)
    table = read_table(path)
    assert table.encoding == "utf-16-le"
    assert table.encoding_reason == "UTF-16LE byte-order mark"
    assert table.dialect.delimiter == "\t"
    assert table.dialect.decimal == ","  # decimal commas counted in the values
    assert list(table.frame.columns) == ["ID", "Страна", "Балл"]
    assert table.frame["Страна"].tolist() == ["Таджикистан", "Туркменистан"]


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_other_byte_order_marks(bom, codec):
    decoded = decode_bytes(bom + "ID;Ответ\n1;Да\n".encode(codec), "x.csv")
    assert decoded.encoding == codec
    assert decoded.text.startswith("ID;")


KAZAKH = (
    "Елді мекен;Пікір\n"
    "Қазақстан;Ұлттық іс-қимыл жоспары өте пайдалы болды\n"
    "Алматы;Әңгіме жақсы өтті, көп нәрсе үйрендік\n"
    "Шымкент;Өңірлік ынтымақтастық маңызды\n"
)


def test_kz1048_kazakh_decoded_with_configured_code_page(tmp_path):
    path = write(tmp_path, "kz1048_kazakh.csv", KAZAKH.encode("kz1048"))
    table = read_table(path, legacy_encoding="kz1048", languages=("kk", "ru"))
    assert table.encoding == "kz1048"
    assert list(table.frame.columns) == ["Елді мекен", "Пікір"]
    assert table.frame["Елді мекен"].tolist() == ["Қазақстан", "Алматы", "Шымкент"]
    assert table.frame["Пікір"].iloc[0] == "Ұлттық іс-қимыл жоспары өте пайдалы болды"
    assert LOSS not in codes(table)  # kz1048 holds every Kazakh letter


def test_kz1048_bytes_read_as_cp1251_are_refused_not_misdecoded(tmp_path):
    path = write(tmp_path, "kz1048_kazakh.csv", KAZAKH.encode("kz1048"))
    with pytest.raises(EncodingProblem) as info:
        read_table(path, languages=("kk",))
    message = str(info.value)
    assert message.startswith("file kz1048_kazakh.csv:")
    assert "kz1048" in message
    assert "Қазақстан" not in message


def test_cp1251_with_lost_kazakh_letters_warns(tmp_path):
    data = KAZAKH.encode("cp1251", errors="replace")  # what Excel "CSV" does: letters -> ?
    path = write(tmp_path, "cp1251_with_lost_kazakh_letters.csv", data)
    assert b"?" in data
    table = read_table(path, languages=("kk", "ru"))
    assert table.encoding == "cp1251"
    loss = [w for w in table.warnings if w.code == LOSS]
    assert len(loss) == 2  # the code page lacks kk letters, and '?' sits inside words
    assert any("XLSX" in w.message for w in loss)
    assert any("inside Cyrillic words" in w.message for w in loss)
    # The '?' check alone fires even when the questionnaire is declared Russian.
    table_ru = read_table(path, languages=("ru",))
    assert codes(table_ru).count(LOSS) == 1


def test_lost_letter_warning_for_cp1251_and_central_asian_language(tmp_path):
    # No '?' in the text, but cp1251 cannot hold Tajik letters: warn anyway (R-IN-03).
    path = write(tmp_path, "tg.csv", "ID;Ответ\n1;Да\n".encode("cp1251"))
    table = read_table(path, languages=("tg",))
    (warning,) = [w for w in table.warnings if w.code == LOSS]
    assert "tg" in warning.message and "XLSX" in warning.message


def test_question_mark_after_a_word_is_not_lost_letters():
    decoded = decode_bytes("Вопрос;Ответ\nВы согласны?;Да? Нет?\n".encode("cp1251"), "x.csv")
    assert LOSS not in codes(decoded)


def test_tiny_utf8_20_bytes_is_utf8(tmp_path):
    data = "ID;Ответ\n1;Да".encode()
    assert len(data) == 20
    path = write(tmp_path, "tiny_utf8_20_bytes.csv", data)
    table = read_table(path)
    assert table.encoding == "utf-8"
    assert table.frame.to_dict("list") == {"ID": ["1"], "Ответ": ["Да"]}


def test_short_upper_case_cp1251_is_cp1251():
    # Detector trap of the reference note: charset-normalizer called this cp932.
    decoded = decode_bytes("ПОЛНОСТЬЮ СОГЛАСЕН".encode("cp1251"), "x.csv")
    assert decoded.encoding == "cp1251"
    assert decoded.text == "ПОЛНОСТЬЮ СОГЛАСЕН"


def test_ascii_file_reason_says_ascii():
    decoded = decode_bytes(b"id,score\n1,2\n", "x.csv")
    assert decoded.encoding == "utf-8"
    assert "ASCII" in decoded.reason
    assert decoded.warnings == []


def test_koi8r_bytes_read_as_cp1251_are_refused():
    text = "Вопрос;Ответ\nПолностью согласен;Скорее не согласна\nСовершенно согласен;Да\n"
    with pytest.raises(EncodingProblem, match="upper case"):
        decode_bytes(text.encode("koi8_r"), "x.csv")


def test_latin1_bytes_read_as_cp1251_are_refused():
    text = "name;comment\nRené;très café résumé\nJosé;déjà vu naïve\n"
    with pytest.raises(EncodingProblem, match="Latin words"):
        decode_bytes(text.encode("latin-1"), "x.csv")


def test_invalid_byte_for_legacy_code_page_is_refused():
    with pytest.raises(EncodingProblem, match="not valid cp1251"):
        decode_bytes("ID;Да\n".encode("cp1251") + b"\x98\n", "x.csv")


def test_damaged_bom_file_is_refused():
    with pytest.raises(EncodingProblem, match="UTF-8 byte-order mark"):
        decode_bytes(codecs.BOM_UTF8 + b"ID;\xff\xfe\xfd\n", "x.csv")


def test_utf16_without_bom_gets_a_hint():
    with pytest.raises(EncodingProblem, match="UTF-16 without a byte-order mark"):
        decode_bytes("ID;Ответ\n1;Да\n".encode("utf-16-le"), "x.csv")


def test_unknown_legacy_encoding_is_a_clear_error():
    with pytest.raises(EncodingProblem, match="unknown"):
        decode_bytes("ID;Да\n".encode("cp1251"), "x.csv", legacy_encoding="no-such-codec")


def test_user_override_of_encoding(tmp_path):
    path = write(tmp_path, "pre.csv", "ID;Ответ\n1;Да\n".encode("cp866"))
    table = read_table(path, encoding="cp866")
    assert table.encoding == "cp866"
    assert table.encoding_reason == "set by the user in the configuration"
    assert list(table.frame.columns) == ["ID", "Ответ"]
    with pytest.raises(EncodingProblem, match="configuration"):
        read_table(write(tmp_path, "x.csv", b"\xff\xfe\x00"), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Binary and empty input
# --------------------------------------------------------------------------------------------


def test_binary_garbage_named_csv(tmp_path):
    data = random.Random(20240315).randbytes(4000)
    path = write(tmp_path, "garbage.csv", data)
    with pytest.raises(EncodingProblem) as info:
        read_table(path)
    assert str(info.value).startswith("file garbage.csv:")


def test_binary_garbage_without_nul_bytes(tmp_path):
    rng = random.Random(7)
    data = bytes(rng.choice([*range(1, 32), *range(0x80, 0x100)]) for _ in range(3000))
    with pytest.raises(EncodingProblem):
        read_table(write(tmp_path, "garbage.csv", data))


def test_zip_named_csv(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["ID", "q1"])
    wb.save(tmp_path / "post.csv")
    with pytest.raises(InputFileError, match="ZIP archive"):
        read_table(tmp_path / "post.csv")


def test_text_named_xlsx(tmp_path):
    path = write(tmp_path, "post.xlsx", b"ID;q1\n1;2\n")
    with pytest.raises(InputFileError, match="not an XLSX workbook"):
        read_table(path)


def test_damaged_xlsx(tmp_path):
    path = write(tmp_path, "post.xlsx", b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(InputFileError):
        read_table(path)


def test_legacy_xls_named_csv(tmp_path):
    path = write(tmp_path, "old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64)
    with pytest.raises(InputFileError, match="xls"):
        read_table(path)


def test_empty_file(tmp_path):
    with pytest.raises(InputFileError) as info:
        read_table(write(tmp_path, "pre.csv", b""))
    assert str(info.value) == "file pre.csv: the file is empty."


def test_whitespace_only_file(tmp_path):
    with pytest.raises(InputFileError, match="empty"):
        read_table(write(tmp_path, "pre.csv", codecs.BOM_UTF8 + b" \r\n\r\n"))


def test_missing_file_and_unsupported_suffix(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(InputFileError, match="not supported"):
        read_table(write(tmp_path, "pre.json", b"{}"))


def test_header_only(tmp_path):
    table = read_table(write(tmp_path, "pre.csv", "ID;Ответ;Оценка\r\n".encode()))
    assert list(table.frame.columns) == ["ID", "Ответ", "Оценка"]
    assert len(table.frame) == 0
    assert table.source_rows == []
    assert table.records_after_header == 0
    assert_accounting(table)


def test_size_and_column_limits(tmp_path):
    path = write(tmp_path, "pre.csv", b"id;a\n1;2\n" * 50)
    with pytest.raises(InputFileError, match="max_bytes"):
        read_table(path, max_bytes=100)
    wide = ";".join(f"q{i}" for i in range(30)) + "\n" + ";".join("1" * 30) + "\n"
    wide_path = write(tmp_path, "wide.csv", wide.encode())
    with pytest.raises(InputFileError, match="max_columns"):
        read_table(wide_path, max_columns=10)
    assert len(read_table(wide_path, max_columns=30).frame.columns) == 30


def test_xlsx_column_limit(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append([f"q{i}" for i in range(12)])
    wb.save(tmp_path / "wide.xlsx")
    with pytest.raises(InputFileError, match="max_columns"):
        read_table(tmp_path / "wide.xlsx", max_columns=10)


# --------------------------------------------------------------------------------------------
# Dialect (R-IN-04)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_each_candidate_delimiter_is_found(delimiter):
    rows = [["id", "страна", "оценка"], ["1", "KZ", "5"], ["2", "UZ", "4"]]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    dialect = sniff_dialect(buffer.getvalue(), "x.csv")
    assert dialect.delimiter == delimiter
    assert dialect.quotechar == '"'
    assert dialect.reason


def test_semicolon_beats_comma_when_decimal_commas_are_everywhere():
    text = "a;b;c\n1,5;2,5;3\n4,5;5,5;6\n"  # ',' would give 2 fields everywhere too
    dialect = sniff_dialect(text, "x.csv")
    assert dialect.delimiter == ";"
    assert dialect.decimal == ","
    assert "3 header fields" in dialect.reason


def test_single_column_file():
    dialect = sniff_dialect("id\n1\n2\n", "x.csv")
    assert "one field" in dialect.reason


def test_quoted_fields_with_delimiters_and_newlines(tmp_path):
    text = 'id;comment\n1;"a; b\nsecond line"\n2;"He said ""yes"""\n'
    table = read_table(write(tmp_path, "pre.csv", text.encode()))
    assert table.frame["comment"].tolist() == ["a; b\nsecond line", 'He said "yes"']
    assert table.source_rows == [2, 3]  # record numbers, not line numbers
    assert_accounting(table)


def test_dialect_error_names_first_inconsistent_row(tmp_path):
    text = "a;b;c\n1;2;3\n1;2\n1;2;3;4\n1\n"
    with pytest.raises(DialectError) as info:
        read_table(write(tmp_path, "pre.csv", text.encode()))
    err = info.value
    assert err.row == 3
    assert "row 3" in str(err) and "95%" in str(err)


def test_unclosed_quote_is_a_dialect_error_not_a_crash(tmp_path):
    text = 'a;b\n1;"' + "x" * 200_000 + "\n"
    with pytest.raises(DialectError):
        read_table(write(tmp_path, "pre.csv", text.encode()))


# --------------------------------------------------------------------------------------------
# Headers and rows (R-IN-05, R-IN-06)
# --------------------------------------------------------------------------------------------


def test_duplicated_headers_are_made_unique_and_reported(tmp_path):
    text = "q1;q1;q2;q1;q1__2;\n1;2;3;4;5;6\n"
    table = read_table(write(tmp_path, "pre.csv", text.encode()))
    assert list(table.frame.columns) == ["q1", "q1__3", "q2", "q1__4", "q1__2", "unnamed_6"]
    assert table.frame.columns.is_unique
    assert table.original_headers == ["q1", "q1", "q2", "q1", "q1__2", ""]
    dup = [w for w in table.warnings if w.code == "duplicate_headers"]
    assert len(dup) == 1 and "3 times" in dup[0].message and "1, 2, 4" in dup[0].message
    assert "empty_headers" in codes(table)


def test_rows_with_wrong_field_count_are_accounted(tmp_path):
    good = [f"{i};Да;{i % 5}" for i in range(1, 41)]
    lines = ["id;ответ;балл", *good[:10], "", "99;СЕКРЕТНЫЙ ОТВЕТ", *good[10:20], " ; ; ",
             "98;a;b;c;d", *good[20:], "97;Нет;3;;"]  # fmt: skip
    path = write(tmp_path, "pre.csv", ("\n".join(lines) + "\n").encode())
    table = read_table(path)
    assert table.malformed_rows == [
        (13, "row has 2 fields but the header has 3"),
        (25, "row has 5 fields but the header has 3"),
    ]
    assert table.blank_rows == 2
    assert len(table.frame) == 41
    assert table.records_after_header == 45
    assert table.source_rows[-1] == 46  # the padded row "97;Нет;3;;" is kept
    assert "trailing_empty_fields" in codes(table)
    assert_accounting(table)
    assert "СЕКРЕТНЫЙ" not in all_messages(table)


def test_zero_width_chars_and_latin_lookalikes(tmp_path):
    text = (
        "\u200bID\u200b;Ответ\u00a0 1;Страна\n"
        "1;Cогласен;KZ\n"  # Latin C
        "2;\u00a0Согласен\u200b ;Kaзахстан\n"  # Latin K, a
    )
    table = read_table(write(tmp_path, "mixed_script_labels.csv", text.encode()))
    assert list(table.frame.columns) == ["ID", "Ответ 1", "Страна"]
    answers = table.frame["Ответ 1"].tolist()
    assert answers == ["Cогласен", "Согласен"]  # stored as found
    assert answers[0] != answers[1]
    assert fold_for_matching(answers[0]) == fold_for_matching(answers[1]) == "согласен"
    assert fold_for_matching(table.frame["Страна"].iloc[1]) == "казахстан"


def test_leading_blank_rows_are_skipped_and_reported(tmp_path):
    table = read_table(write(tmp_path, "pre.csv", b"\n;;\nid;a\n1;2\n"))
    assert list(table.frame.columns) == ["id", "a"]
    assert table.source_rows == [4]
    assert "leading_blank_rows" in codes(table)


def test_explicit_two_row_header_in_csv(tmp_path):
    text = "Знания;Знания;Страна\nдо;после;\n3;4;KZ\n"
    table = read_table(write(tmp_path, "pre.csv", text.encode()), header_rows=2)
    assert list(table.frame.columns) == ["Знания / до", "Знания / после", "Страна"]
    assert table.source_rows == [3]
    assert table.header_rows == 2


def test_sha256_is_of_the_file_bytes(tmp_path):
    import hashlib

    data = "ID;Ответ\n1;Да\n".encode("cp1251")
    table = read_table(write(tmp_path, "pre.csv", data))
    assert table.sha256 == hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------------


def test_merged_two_row_header_xlsx(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Ответы"
    ws["A1"] = "ID"
    ws.merge_cells("A1:A2")
    ws["B1"] = "Знания о НПД"
    ws.merge_cells("B1:C1")
    ws["B2"] = "до"
    ws["C2"] = "после"
    ws["D1"] = "Страна"
    ws.merge_cells("D1:D2")
    ws.append([1, 3, 4, "KZ"])
    ws.append([])
    ws.append([2, 2.5, 5, "TJ"])
    wb.create_sheet("Notes")["A1"] = "ignored"
    wb.save(tmp_path / "merged_two_row_header.xlsx")

    table = read_table(tmp_path / "merged_two_row_header.xlsx")
    assert table.header_rows == 2
    assert list(table.frame.columns) == [
        "ID",
        "Знания о НПД / до",
        "Знания о НПД / после",
        "Страна",
    ]
    assert table.frame.to_dict("list") == {
        "ID": ["1", "2"],
        "Знания о НПД / до": ["3", "2.5"],
        "Знания о НПД / после": ["4", "5"],
        "Страна": ["KZ", "TJ"],
    }
    assert table.source_rows == [3, 5]
    assert table.blank_rows == 1
    assert table.dialect is None and table.decimal == "."
    assert table.sheet == "Ответы"
    assert {"multi_row_header", "first_sheet_used"} <= set(codes(table))
    assert_accounting(table)

    one_row = read_table(tmp_path / "merged_two_row_header.xlsx", header_rows=1)
    # Merged header cells are still copied across their range, which duplicates the name.
    assert list(one_row.frame.columns)[:3] == ["ID", "Знания о НПД", "Знания о НПД__2"]
    assert "duplicate_headers" in codes(one_row)
    assert one_row.source_rows == [2, 3, 5]
    assert_accounting(one_row)

    notes = read_table(tmp_path / "merged_two_row_header.xlsx", sheet="Notes")
    assert list(notes.frame.columns) == ["ignored"] and len(notes.frame) == 0
    with pytest.raises(InputFileError, match="no sheet named"):
        read_table(tmp_path / "merged_two_row_header.xlsx", sheet="Missing")


@pytest.mark.parametrize("epoch1904", [False, True])
def test_serial_dates_xlsx(tmp_path, epoch1904):
    wb = openpyxl.Workbook()
    if epoch1904:
        wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(["ID", "Дата", "Время", "Серийный номер", "Верно"])
    ws.append([1, dt.date(2024, 3, 15), dt.datetime(2024, 3, 15, 10, 30), 45366, True])
    ws["B2"].number_format = "dd.mm.yyyy"
    ws["C2"].number_format = "dd.mm.yyyy hh:mm"
    wb.save(tmp_path / "serial_dates.xlsx")

    table = read_table(tmp_path / "serial_dates.xlsx")
    assert table.epoch1904 is epoch1904
    row = table.frame.iloc[0]
    assert row["Дата"] == "2024-03-15"
    assert row["Время"] == "2024-03-15T10:30:00"
    assert row["Верно"] == "TRUE"
    # A serial number in a cell not formatted as a date stays a number; converting it is the
    # caller's decision, with the workbook's epoch.
    assert row["Серийный номер"] == "45366"
    converted = parse_excel_serial_date(row["Серийный номер"], epoch1904=table.epoch1904)
    assert converted == (dt.date(2028, 3, 16) if epoch1904 else dt.date(2024, 3, 15))


def test_empty_sheet(tmp_path):
    openpyxl.Workbook().save(tmp_path / "empty.xlsx")
    with pytest.raises(InputFileError, match="empty"):
        read_table(tmp_path / "empty.xlsx")


def test_xlsx_duplicate_headers_and_cell_normalisation(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append([" q1\u00a0", "q1", None, "\u200b"])
    wb.active.append(["  a  b ", None, None, "x"])
    wb.save(tmp_path / "dup.xlsx")
    table = read_table(tmp_path / "dup.xlsx")
    assert list(table.frame.columns) == ["q1", "q1__2", "unnamed_3", "unnamed_4"]
    assert table.frame.iloc[0].tolist() == ["a b", None, None, "x"]
    assert "duplicate_headers" in codes(table)


# --------------------------------------------------------------------------------------------
# Value helpers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "decimal", "expected"),
    [
        ("1 234,5", ",", 1234.5),
        ("1\u00a0234\u00a0567,25", ",", 1234567.25),
        ("1\u202f234", ",", 1234.0),
        ("3.5", ",", 3.5),
        ("-2", ",", -2.0),
        ("+7,0", ",", 7.0),
        (",5", ",", 0.5),
        ("1E+3", ".", 1000.0),
        ("3,5", ".", None),
        ("1,234", ".", None),
        ("1.234,5", ",", None),
        ("1,2,3", ",", None),
        ("", ",", None),
        ("  ", ",", None),
        ("nan", ",", None),
        ("inf", ".", None),
        ("45%", ",", None),
        ("пять", ",", None),
        ("12 34", ",", None),
        (None, ",", None),
        (True, ",", None),
        (4, ",", 4.0),
    ],
)
def test_parse_number(raw, decimal, expected):
    assert parse_number(raw, decimal) == expected


def test_parse_number_rejects_unknown_decimal():
    with pytest.raises(ValueError):
        parse_number("1", decimal=";")


@pytest.mark.parametrize(
    ("raw", "epoch1904", "expected"),
    [
        (45366, False, dt.date(2024, 3, 15)),
        ("45366", False, dt.date(2024, 3, 15)),
        (45366.25, False, dt.datetime(2024, 3, 15, 6, 0)),
        (43904, True, dt.date(2024, 3, 15)),
        (20000, False, dt.date(1954, 10, 3)),
        (19999, False, None),
        (80001, False, None),
        (5, False, None),
        ("abc", False, None),
        (None, False, None),
        (True, False, None),
        (float("nan"), False, None),
    ],
)
def test_parse_excel_serial_date(raw, epoch1904, expected):
    assert parse_excel_serial_date(raw, epoch1904=epoch1904) == expected


def test_serial_date_matches_pandas_origin():
    expected = pd.to_datetime(45366, unit="D", origin="1899-12-30").date()
    assert parse_excel_serial_date(45366) == expected


def test_normalize_cell():
    assert normalize_cell("  a \t b\u00a0\u202fc  ") == "a b c"
    assert normalize_cell("line 1 \r\n  line 2\u2028x") == "line 1\nline 2\nx"
    assert normalize_cell("\ufeffID") == "ID"
    assert normalize_cell("a\x07b") == "ab"
    assert normalize_cell(12) == "12"


@settings(derandomize=True, max_examples=200, deadline=None)
@given(st.text())
def test_normalize_cell_is_idempotent(s):
    once = normalize_cell(s)
    assert normalize_cell(once) == once
    assert once == once.strip()


def test_fold_for_matching():
    assert fold_for_matching("ПОЛНОСТЬЮ  СОГЛАСЕН") == "полностью согласен"
    assert fold_for_matching("Всё") == "все"
    assert fold_for_matching("Kaзахстан") == "казахстан"
    assert fold_for_matching("Tоkyo") == "tokyo"
    assert fold_for_matching("ok") == "ok"  # pure Latin word untouched


# --------------------------------------------------------------------------------------------
# Property test: nothing but an EvaluationError escapes, and rows are always accounted for
# --------------------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1251", "kz1048"]
cell_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі АБВ")),
        st.sampled_from(list(" ;,\t|\"'\n?.0123456789\u00a0\u200b")),
        st.characters(categories=["L", "M", "N", "P", "S", "Zs"]),
    ),
    max_size=10,
)
ODD_CHARACTERS = ["\x00", "\x07", "\x1b", "\x85", "\ufeff", "\U0001f600"]


@st.composite
def messy_exports(draw):
    n_cols = draw(st.integers(min_value=1, max_value=5))
    n_rows = draw(st.integers(min_value=0, max_value=30))
    header = draw(st.lists(cell_text, min_size=n_cols, max_size=n_cols))
    rows: list[list[str]] = []
    for _ in range(n_rows):
        # Mostly well-formed rows; sometimes blank, missing or extra fields.
        extra = draw(st.sampled_from([0] * 12 + [-1, 1, 2, None]))
        if extra is None:
            rows.append([])
            continue
        width = max(n_cols + extra, 0)
        rows.append(draw(st.lists(cell_text, min_size=width, max_size=width)))
    if rows and draw(st.integers(min_value=0, max_value=9)) == 0:
        row = draw(st.sampled_from(rows))
        row.append(draw(st.sampled_from(ODD_CHARACTERS)))
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    encoding = draw(st.sampled_from(ENCODINGS))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows([header, *rows])
    data = buffer.getvalue().encode(encoding, errors="replace")
    suffix = draw(st.sampled_from([".csv", ".txt", ".tsv"]))
    return data, suffix, encoding


@settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messy_exports())
def test_read_table_accounts_for_rows_or_raises_evaluation_error(tmp_path, export):
    data, suffix, encoding = export
    path = tmp_path / f"export{suffix}"
    path.write_bytes(data)
    legacy = "kz1048" if encoding == "kz1048" else "cp1251"
    try:
        table = read_table(path, legacy_encoding=legacy, languages=("ru", "kk"))
    except EvaluationError as exc:
        message = str(exc)
        assert message.startswith(f"file export{suffix}")
        assert "\n" not in message
        return
    assert_accounting(table)
    assert table.frame.columns.is_unique
    assert all(r > table.header_rows for r in table.source_rows)
    assert table.source_rows == sorted(table.source_rows)
    assert len(table.frame.columns) >= 1


@st.composite
def exports_with_one_bad_row(draw):
    n_cols = draw(st.integers(min_value=2, max_value=5))
    n_rows = draw(st.integers(min_value=20, max_value=40))
    bad = draw(st.integers(min_value=0, max_value=n_rows - 1))
    width = n_cols + draw(st.sampled_from([-1, 1, 3]))
    non_empty = cell_text.filter(lambda v: normalize_cell(v) != "")
    header = draw(st.lists(cell_text, min_size=n_cols, max_size=n_cols))
    rows = [
        draw(st.lists(non_empty, min_size=width if i == bad else n_cols,
                      max_size=width if i == bad else n_cols))
        for i in range(n_rows)
    ]  # fmt: skip
    header[0] = header[0] or "id"
    delimiter = draw(st.sampled_from([";", ",", "\t", "|"]))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows([header, *rows])
    return buffer.getvalue().encode("utf-8"), bad, n_rows, width


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(exports_with_one_bad_row())
def test_one_bad_row_in_twenty_is_set_aside_not_dropped(tmp_path, export):
    data, bad, n_rows, width = export
    path = tmp_path / "pre.csv"
    path.write_bytes(data)
    table = read_table(path)
    assert [row for row, _ in table.malformed_rows] == [bad + 2]
    assert f"row has {width} fields" in table.malformed_rows[0][1]
    assert len(table.frame) == n_rows - 1
    assert bad + 2 not in table.source_rows
    assert_accounting(table)
