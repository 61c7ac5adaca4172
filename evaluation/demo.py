"""Synthetic demo workshops: invented people, invented answers, real export dialects.

:func:`generate_demo` writes a folder of workshop folders (``workshop.yaml`` plus the survey
exports of every wave) that exercise the whole toolkit: the flagship workshop of the concept note
(Astana, 21-22 May 2018) with realistic messiness, and seven further workshops across the three
project phases. **Everything it writes is synthetic**: no real person, answer or contact detail.

The data model, in short: each invented person has a latent readiness ``theta ~ N(0, 1)`` with
small country and sector shifts; each workshop has a true gain (in SD of ``theta``) with a
person-level spread of 0.4 SD; a Likert answer is ``latent + item offset + noise`` cut at
thresholds into 1..5 (reverse-keyed items reflected); the retrospective ("thinking back") answers
sit about 0.25 SD below the pre answers (response shift); knowledge answers are correct with a
probability that rises from about 45 % to 65 %; cross-border contacts are Poisson counts that grow
after the workshop; reactions are mostly positive (part 2 highest); at follow-up about 55 % have
applied what they learnt, 35 % took part in drafting and 60 % used the materials.

The exports follow the dialects of ``survey-tools-and-donor-reports.md`` §3: KoboToolbox CSV
(``;``, every field quoted, labels or XML names with ``/`` group paths, metadata columns
``_id ... _index``), KoboToolbox XLSX (XML names and values, one sheet named after the form),
ODK Central CSV (``,``, ``-`` group paths, split select-multiple columns, ``SubmissionDate`` ...
``FormVersion``) and a plain "generic" CSV or XLSX with item ids as headers.

Regenerating with the same seed gives byte-identical files: every random draw is derived from
the uniform doubles of one seeded NumPy ``Generator`` (PCG64) per workshop, so the files do not
change with NumPy's sampling algorithms; no clock is read; CSV files are written with explicit
delimiters, quoting, encodings and line endings; XLSX files go through
:func:`evaluation.xlsx.write_workbook` (fixed timestamps).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from evaluation.instrument import (
    FORM_WAVES,
    ChoiceList,
    Instrument,
    Item,
    Section,
    find_instrument,
    load_instrument,
    surveys_dir,
)
from evaluation.xlsform import write_xlsform
from evaluation.xlsx import write_workbook

__all__ = [
    "DEMO_SEED",
    "FLAGSHIP_ID",
    "SYNTHETIC_NOTE",
    "WaveExport",
    "DemoWorkshop",
    "DEMO_WORKSHOPS",
    "generate_demo",
    "generate_workshop",
    "write_demo_forms",
]

#: The default seed (the first day of the Astana workshop).
DEMO_SEED = 20180521
#: Id of the flagship demo workshop (the concept note's workshop).
FLAGSHIP_ID = "astana-2018-05"
#: Text of the metadata cell that marks every synthetic submission.
SYNTHETIC_NOTE = "synthetic demo data"
_ODK_SUBMITTER = "synthetic-demo"
_PROJECT = "UNOCT-UNCCT / UNRCCA project on the Joint Plan of Action in Central Asia"
_EVALUATOR = "Demo evaluator (synthetic)"
_HEADER_COMMENT = (
    "# SYNTHETIC DEMONSTRATION DATA: invented people and invented answers, written by\n"
    "# `evaluate demo` (evaluation/demo.py). Regenerate instead of editing by hand.\n"
)
_DIALECTS = ("kobo_csv_labels", "kobo_csv_xml", "kobo_xlsx", "odk_csv", "generic_csv",
             "generic_xlsx")
_SOURCE_OF = {
    "kobo_csv_labels": "kobo",
    "kobo_csv_xml": "kobo",
    "kobo_xlsx": "kobo",
    "odk_csv": "odk",
    "generic_csv": "generic",
    "generic_xlsx": "generic",
}
_COUNTRIES = ("KZ", "KG", "TJ", "TM", "UZ")
_SECTORS = ("LE", "SOC", "CSO")
_KOBO_META = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes", "_status",
              "_submitted_by", "__version__", "_tags", "_index")
_ODK_TAIL = ("KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent", "AttachmentsExpected",
             "Status", "ReviewState", "DeviceID", "Edits", "FormVersion")
_KOBO_VALIDATION = {
    "": ("", ""),
    "approved": ("validation_status_approved", "Approved"),
    "not_approved": ("validation_status_not_approved", "Not approved"),
}


# ---- workshop specifications --------------------------------------------------------------


@dataclass(frozen=True)
class WaveExport:
    """How one wave of a demo workshop is exported.

    ``dialect`` is one of ``kobo_csv_labels`` (KoboToolbox CSV, Russian labels),
    ``kobo_csv_xml`` (KoboToolbox CSV, XML values and headers), ``kobo_xlsx``, ``odk_csv``,
    ``generic_csv`` and ``generic_xlsx``; ``encoding`` and ``delimiter`` apply to generic CSV.
    """

    dialect: str
    encoding: str = "utf-8"
    delimiter: str = ","

    def __post_init__(self) -> None:
        if self.dialect not in _DIALECTS:
            raise ValueError(f"dialect must be one of {', '.join(_DIALECTS)}, "
                             f"not {self.dialect!r}")

    @property
    def source(self) -> str:
        """The ``source`` written to ``workshop.yaml`` (``kobo``, ``odk`` or ``generic``)."""
        return _SOURCE_OF[self.dialect]

    @property
    def extension(self) -> str:
        """File extension of the export (``csv`` or ``xlsx``)."""
        return "xlsx" if self.dialect.endswith("xlsx") else "csv"


@dataclass(frozen=True)
class DemoWorkshop:
    """The specification of one synthetic demo workshop.

    Examples
    --------
    >>> from evaluation.demo import DEMO_WORKSHOPS
    >>> flagship = DEMO_WORKSHOPS[0]
    >>> flagship.id, flagship.participants, flagship.phase
    ('astana-2018-05', 30, 'III')
    """

    id: str
    phase: str
    title: Mapping[str, str]
    location: Mapping[str, str]
    start: dt.date
    end: dt.date
    utc_offset: int
    instrument_version: str
    per_country: int
    observers: int
    gain: float
    waves: Mapping[str, WaveExport]
    followup_window: tuple[dt.date, dt.date] | None = None
    pre_rate: float = 0.9
    post_rate: float = 0.88
    followup_rate: float = 0.55
    skip_rate: float = 0.02
    dk_rate: float = 0.03
    duplicates: Mapping[str, int] = field(default_factory=dict)
    test_rows: Mapping[str, int] = field(default_factory=dict)
    post_typos: int = 0
    post_only: int = 0
    cp1251_safe: bool = False

    @property
    def participants(self) -> int:
        """Invited participants from the five Central Asian countries (observers excluded)."""
        return self.per_country * len(_COUNTRIES)


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


DEMO_WORKSHOPS: tuple[DemoWorkshop, ...] = (
    DemoWorkshop(
        id=FLAGSHIP_ID,
        phase="III",
        title={
            "en": "Towards a comprehensive implementation of the United Nations Global "
                  "Counter-Terrorism Strategy in Central Asia: addressing conditions conducive "
                  "to the spread of violent extremism and terrorism",
            "ru": "На пути к всестороннему осуществлению Глобальной контртеррористической "
                  "стратегии ООН в Центральной Азии: устранение условий, способствующих "
                  "распространению насильственного экстремизма и терроризма",
        },
        location={"en": "Astana, Kazakhstan", "ru": "Астана, Казахстан"},
        start=_d("2018-05-21"),
        end=_d("2018-05-22"),
        utc_offset=6,
        instrument_version="2.0",
        per_country=6,
        observers=4,
        gain=0.5,
        waves={
            "pre": WaveExport("kobo_csv_labels", delimiter=";"),
            "post": WaveExport("odk_csv"),
            "followup": WaveExport("kobo_xlsx"),
        },
        followup_window=(_d("2018-10-01"), _d("2018-10-26")),
        skip_rate=0.03,
        dk_rate=0.04,
        duplicates={"pre": 1},
        test_rows={"pre": 1, "post": 1},
        post_typos=2,
        post_only=1,
    ),
    DemoWorkshop(
        id="almaty-2012-11",
        phase="I",
        title={
            "en": "Regional workshop on the Joint Plan of Action: national focal points and "
                  "first steps of implementation",
            "ru": "Региональный семинар по Совместному плану действий: национальные "
                  "координаторы и первые шаги по реализации",
        },
        location={"en": "Almaty, Kazakhstan", "ru": "Алматы, Казахстан"},
        start=_d("2012-11-14"),
        end=_d("2012-11-15"),
        utc_offset=6,
        instrument_version="1.0",
        per_country=4,
        observers=2,
        gain=0.3,
        waves={"pre": WaveExport("generic_xlsx"), "post": WaveExport("generic_xlsx")},
    ),
    DemoWorkshop(
        id="bishkek-2013-04",
        phase="I",
        title={
            "en": "Preventing radicalization among youth: the role of state bodies and civil "
                  "society",
            "ru": "Профилактика радикализации среди молодёжи: роль государственных органов и "
                  "гражданского общества",
        },
        location={"en": "Bishkek, Kyrgyzstan", "ru": "Бишкек, Кыргызстан"},
        start=_d("2013-04-17"),
        end=_d("2013-04-18"),
        utc_offset=6,
        instrument_version="2.0",
        per_country=4,
        observers=0,
        gain=0.65,
        waves={
            "pre": WaveExport("generic_csv", encoding="cp1251", delimiter=";"),
            "post": WaveExport("generic_csv", encoding="cp1251", delimiter=";"),
            "followup": WaveExport("generic_xlsx"),
        },
        followup_window=(_d("2013-09-02"), _d("2013-09-27")),
        cp1251_safe=True,
    ),
    DemoWorkshop(
        id="dushanbe-2014-10",
        phase="II",
        title={
            "en": "Counter-narratives and the role of the media in preventing violent "
                  "extremism",
            "ru": "Контрнарративы и роль средств массовой информации в предупреждении "
                  "насильственного экстремизма",
        },
        location={"en": "Dushanbe, Tajikistan", "ru": "Душанбе, Таджикистан"},
        start=_d("2014-10-08"),
        end=_d("2014-10-09"),
        utc_offset=5,
        instrument_version="2.0",
        per_country=3,
        observers=3,
        gain=0.2,
        waves={
            "pre": WaveExport("kobo_csv_xml", delimiter=";"),
            "post": WaveExport("kobo_csv_xml", delimiter=";"),
            "followup": WaveExport("kobo_csv_xml", delimiter=";"),
        },
        followup_window=(_d("2015-02-02"), _d("2015-02-27")),
        test_rows={"pre": 1},
    ),
    DemoWorkshop(
        id="ashgabat-2015-06",
        phase="II",
        title={
            "en": "Social inclusion and the prevention of violent extremism: exchange of "
                  "national experience",
            "ru": "Социальная интеграция и предупреждение насильственного экстремизма: обмен "
                  "национальным опытом",
        },
        location={"en": "Ashgabat, Turkmenistan", "ru": "Ашхабад, Туркменистан"},
        start=_d("2015-06-03"),
        end=_d("2015-06-04"),
        utc_offset=5,
        instrument_version="2.0",
        per_country=3,
        observers=0,
        gain=0.5,
        waves={
            "pre": WaveExport("kobo_csv_xml", delimiter=";"),
            "post": WaveExport("kobo_csv_xml", delimiter=";"),
        },
    ),
    DemoWorkshop(
        id="tashkent-2016-09",
        phase="II",
        title={
            "en": "Foreign terrorist fighters: prevention, return and reintegration",
            "ru": "Иностранные боевики-террористы: предупреждение, возвращение и реинтеграция",
        },
        location={"en": "Tashkent, Uzbekistan", "ru": "Ташкент, Узбекистан"},
        start=_d("2016-09-20"),
        end=_d("2016-09-21"),
        utc_offset=5,
        instrument_version="2.0",
        per_country=7,
        observers=1,
        gain=0.8,
        waves={
            "pre": WaveExport("odk_csv"),
            "post": WaveExport("odk_csv"),
            "followup": WaveExport("odk_csv"),
        },
        followup_window=(_d("2017-01-16"), _d("2017-02-10")),
        duplicates={"pre": 1},
    ),
    DemoWorkshop(
        id="issyk-kul-2017-08",
        phase="III",
        title={
            "en": "Regional training on national action plans to prevent violent extremism",
            "ru": "Региональный тренинг по национальным планам действий по предупреждению "
                  "насильственного экстремизма",
        },
        location={
            "en": "Cholpon-Ata, Issyk-Kul region, Kyrgyzstan",
            "ru": "Чолпон-Ата, Иссык-Кульская область, Кыргызстан",
        },
        start=_d("2017-08-15"),
        end=_d("2017-08-17"),
        utc_offset=6,
        instrument_version="2.0",
        per_country=7,
        observers=5,
        gain=0.45,
        waves={
            "pre": WaveExport("kobo_csv_xml", delimiter=";"),
            "post": WaveExport("odk_csv"),
            "followup": WaveExport("generic_xlsx"),
        },
        followup_window=(_d("2018-01-15"), _d("2018-02-09")),
        post_typos=1,
    ),
    DemoWorkshop(
        id="samarkand-2019-04",
        phase="III",
        title={
            "en": "Monitoring and evaluation of national strategies and action plans on "
                  "preventing violent extremism",
            "ru": "Мониторинг и оценка национальных стратегий и планов действий по "
                  "предупреждению насильственного экстремизма",
        },
        location={"en": "Samarkand, Uzbekistan", "ru": "Самарканд, Узбекистан"},
        start=_d("2019-04-10"),
        end=_d("2019-04-11"),
        utc_offset=5,
        instrument_version="2.0",
        per_country=5,
        observers=3,
        gain=0.6,
        waves={
            "pre": WaveExport("generic_csv", encoding="utf-8-sig", delimiter=","),
            "post": WaveExport("generic_csv", encoding="utf-8-sig", delimiter=","),
            "followup": WaveExport("odk_csv"),
        },
        followup_window=(_d("2019-08-19"), _d("2019-09-13")),
        post_only=1,
    ),
)


# ---- invented people ----------------------------------------------------------------------

# First names used only for the *initial letters* of the synthetic participant codes.
_MOTHERS = {
    "KZ": ("Әлия", "Айгуль", "Гульнара", "Жанар", "Сауле", "Бибигуль", "Ләззат", "Нургуль",
           "Ольга", "Зауре", "Светлана", "Раушан"),
    "KG": ("Айгерим", "Бермет", "Гулзат", "Жылдыз", "Назгуль", "Чолпон", "Асель", "Елена",
           "Света", "Үмүт"),
    "TJ": ("Нигина", "Мехрона", "Зарина", "Гулчехра", "Шахноза", "Фарзона", "Мавзуна",
           "Саида", "Тахмина"),
    "TM": ("Огулджан", "Джемал", "Айна", "Гульшат", "Майса", "Энеджан", "Сельби", "Язгуль"),
    "UZ": ("Дильноза", "Нилуфар", "Малика", "Мохира", "Гулнора", "Феруза", "Шахло", "Умида",
           "Саодат"),
    "OBS": ("Anna", "Maria", "Elena", "Sarah", "Fatima", "Lin", "Marina", "Zahra"),
    "INT": ("Anna", "Claire", "Ingrid", "Olga", "Helen", "Nadia", "Sofia"),
}
_FATHERS = {
    "KZ": ("Ерлан", "Қайрат", "Нурлан", "Серик", "Бауыржан", "Марат", "Асхат", "Ғабит",
           "Виктор", "Талгат"),
    "KG": ("Азамат", "Бакыт", "Улан", "Канат", "Эрмек", "Нурбек", "Таалай", "Алмаз", "Игорь"),
    "TJ": ("Рустам", "Фаррух", "Шухрат", "Джамшед", "Исмоил", "Бахтиёр", "Умед", "Далер"),
    "TM": ("Сердар", "Мердан", "Батыр", "Довлет", "Аман", "Гурбан", "Чары", "Ыхлас"),
    "UZ": ("Алишер", "Бекзод", "Улугбек", "Шавкат", "Равшан", "Жахонгир", "Отабек", "Баходир"),
    "OBS": ("Ahmad", "John", "Wei", "Sergei", "Pavel", "Michael", "Karim"),
    "INT": ("Peter", "Thomas", "Jean", "Lars", "Andrei", "Marco"),
}
_PLACES = {
    "KZ": ("Алматы", "Шымкент", "Караганда", "Тараз", "Өскемен", "Қызылорда", "Актобе",
           "Павлодар", "Семей", "Кокшетау"),
    "KG": ("Бишкек", "Ош", "Каракол", "Нарын", "Талас", "Жалал-Абад", "Токмок", "Баткен"),
    "TJ": ("Душанбе", "Худжанд", "Куляб", "Бохтар", "Истаравшан", "Хорог", "Пенджикент"),
    "TM": ("Ашхабад", "Мары", "Дашогуз", "Туркменабат", "Балканабат", "Теджен", "Байрамали"),
    "UZ": ("Ташкент", "Самарканд", "Бухара", "Наманган", "Андижан", "Фергана", "Нукус", "Карши"),
    "OBS": ("Kabul", "Moscow", "Beijing", "Herat", "Boston", "Novosibirsk"),
    "INT": ("Vienna", "Geneva", "Oslo", "Lyon", "Warsaw", "Bratislava"),
}
# Uzbek Latin spelling of a Cyrillic initial (some Uzbek participants write Latin letters).
_UZ_LATIN = {"А": "A", "Б": "B", "Г": "G", "Д": "D", "Ж": "J", "Қ": "Q", "К": "Q", "М": "M",
             "Н": "N", "О": "O", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ф": "F", "Ш": "S",
             "Ю": "Y", "Я": "Y", "Х": "X", "Ч": "C", "Э": "E", "Е": "E", "Ў": "O", "Л": "L"}
# Letters outside cp1251, folded for workshops whose exports are cp1251 CSV.
_CP1251_FOLD = str.maketrans("ӘәҒғҚқҢңӨөҰұҮүҺһІіЎўҲҳҶҷӢӣӮӯ", "АаГгКкНнОоУуУуХхИиУуХхЖжИиУу")
# For keeping invented codes far apart: a letter's Latin shape and its transliteration.
_CONFUSABLE = str.maketrans("АВЕКМНОРСТХУ", "ABEKMHOPCTXY")
_TRANSLIT = str.maketrans("АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЫЭЮЯӘҒҚҢӨҰҮҺІЎҲҶӢӮ",
                          "ABVGDEEJZIIKLMNOPRSTUFHCCSSYEYYAGQNOUUHIOHJIU")

_COUNTRY_SHIFT = {"KZ": 0.15, "KG": 0.05, "TJ": -0.1, "TM": -0.2, "UZ": 0.05, "OBS": 0.3,
                  "INT": 0.45}
_SECTOR_SHIFT = {"LE": -0.05, "SOC": -0.1, "CSO": 0.15, "INT": 0.3}
_FOLLOWUP_RATES = (("applied", 0.55), ("drafting", 0.35), ("material", 0.6),
                   ("contact", 0.5), ("recommend", 0.85))
_POSITIVE_CODES = ("Y", "yes", "several", "once", "often", "sometimes")


@dataclass
class _Person:
    """One invented participant (never a real person)."""

    number: int
    country: str
    sector: str
    gender: str
    involvement: str
    experience: str
    theta: float
    gain: float
    coop: float
    coop_gain: float
    response_shift: float
    reaction: float
    contacts: int
    english: bool
    code: dict[str, str | int] = field(default_factory=dict)


@dataclass
class _Submission:
    """One row of an export: the answers plus the metadata of its submission."""

    answers: dict[str, Any]
    start: dt.datetime
    end: dt.datetime
    received: dt.datetime
    uid: str
    person: int | None
    validation: str = ""
    review_state: str = ""
    device: str = ""
    note: str = ""


@dataclass
class _WaveFacts:
    """What the README says about one generated export."""

    file: str
    dialect: WaveExport
    rows: int
    respondents: int
    duplicates: int = 0
    test_rows: int = 0
    typos: list[str] = field(default_factory=list)
    post_only: int = 0
    planted: list[str] = field(default_factory=list)


# ---- small helpers ------------------------------------------------------------------------


class _Random:
    """Seeded draws built only on ``Generator.random()`` of NumPy's PCG64 generator.

    NumPy keeps the bit stream of PCG64 and of ``random()`` stable, but not necessarily the
    algorithms behind ``normal``, ``poisson`` or ``choice``; deriving every draw from uniform
    doubles here keeps the demo files byte-identical across NumPy versions.
    """

    def __init__(self, *entropy: int) -> None:
        self._gen = np.random.Generator(np.random.PCG64(np.random.SeedSequence(list(entropy))))

    def random(self) -> float:
        """A uniform double in [0, 1)."""
        return float(self._gen.random())

    def integers(self, low: int, high: int) -> int:
        """A uniform integer in [low, high)."""
        return low + min(high - low - 1, int(self.random() * (high - low)))

    def normal(self, mean: float = 0.0, sd: float = 1.0) -> float:
        """A normal draw (Box-Muller)."""
        u1, u2 = 1.0 - self.random(), self.random()
        return mean + sd * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def poisson(self, lam: float) -> int:
        """A Poisson draw (Knuth's product of uniforms; fine for the small means used here)."""
        limit, k, prod = math.exp(-lam), 0, self.random()
        while prod > limit:
            k += 1
            prod *= self.random()
        return k

    def pick(self, options: Sequence[Any], weights: Sequence[float] | None = None) -> Any:
        """One element of ``options`` (uniform, or proportional to ``weights``)."""
        if weights is None:
            return options[self.integers(0, len(options))]
        u, acc = self.random() * sum(weights), 0.0
        for option, weight in zip(options, weights, strict=True):
            acc += weight
            if u < acc:
                return option
        return options[-1]

    def permutation(self, n: int) -> list[int]:
        """A random order of ``range(n)`` (Fisher-Yates)."""
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.integers(0, i + 1)
            order[i], order[j] = order[j], order[i]
        return order

    def sample(self, n: int, k: int) -> list[int]:
        """``k`` distinct indices of ``range(n)``, sorted."""
        return sorted(self.permutation(n)[:k])

    def uid(self) -> str:
        """A version-4 UUID string."""
        return str(uuid.UUID(bytes=bytes(self.integers(0, 256) for _ in range(16)), version=4))

    def token(self, n: int) -> str:
        """``n`` letters and digits (e.g. a KoboToolbox form version or a device id)."""
        alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        return "".join(self.pick(alphabet) for _ in range(n))


def _iso_local(moment: dt.datetime, offset: int) -> str:
    sign = "+" if offset >= 0 else "-"
    return f"{moment:%Y-%m-%dT%H:%M:%S}.000{sign}{abs(offset):02d}:00"


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _letter_key(letter: str) -> tuple[str, str, str]:
    up = str(letter).upper()
    return up, up.translate(_CONFUSABLE), up.translate(_TRANSLIT)


def _code_distance(a: Mapping[str, str | int], b: Mapping[str, str | int]) -> int:
    """Element-wise distance; two letters count as equal if any canonical form agrees."""
    dist = 0
    for key, va in a.items():
        vb = b[key]
        if isinstance(va, str) and isinstance(vb, str):
            ka, kb = _letter_key(va), _letter_key(vb)
            if not any(x == y for x, y in zip(ka, kb, strict=True)):
                dist += 1
        elif va != vb:
            dist += 1
    return dist


def _rate(item: Item) -> float:
    """The share of "yes" (positive) answers intended for a non-profile single-choice item."""
    for key, rate in _FOLLOWUP_RATES:
        if key in item.id:
            return rate
    return 0.5


def _form_fields(inst: Instrument, wave: str) -> list[tuple[Section, Item, str]]:
    """(section, item, column name) in XLSForm order, as :mod:`evaluation.xlsform` writes it."""
    out: list[tuple[Section, Item, str]] = []
    for section in inst.sections:
        if section.id == "retro":
            if wave == "post":
                out += [(section, it, it.retro_id) for it in inst.items_for_wave("retro")]
            continue
        out += [(section, it, it.id) for it in inst.items_for_wave(wave)
                if it.section == section.id]
    return out


# ---- the generator of one workshop ---------------------------------------------------------


class _WorkshopGenerator:
    """Invents the people and answers of one workshop and writes its folder."""

    def __init__(self, spec: DemoWorkshop, inst: Instrument, seed: int, index: int) -> None:
        self.spec = spec
        self.inst = inst
        self.rng = _Random(seed, index)
        # Item offsets belong to the instrument, not to the workshop: one stream per version.
        item_rng = _Random(seed, 1000, *map(ord, inst.version))
        self.offset = {it.id: item_rng.normal(0.0, 0.3) for it in inst.items}
        self.people: list[_Person] = []
        self.facts: dict[str, _WaveFacts] = {}
        self.both: list[_Person] = []
        self.yes: dict[str, set[int]] = {}
        self.post_only: list[_Person] = []

    # -- people ----------------------------------------------------------------------------
    def make_people(self) -> None:
        rng, spec = self.rng, self.spec
        number = 0
        for country in _COUNTRIES:
            sectors = list(_SECTORS)
            first = int(rng.integers(0, 3))
            for k in range(spec.per_country):
                number += 1
                sector = sectors[(first + k) % 3]
                self.people.append(self.person(number, country, sector))
        for _ in range(spec.observers):
            number += 1
            country = "OBS" if rng.random() < 0.5 else "INT"
            self.people.append(self.person(number, country, "INT"))
        for person in self.people:
            self.assign_code(person)

    def person(self, number: int, country: str, sector: str) -> _Person:
        rng, spec = self.rng, self.spec
        theta = float(rng.normal(0.0, 1.0)) + _COUNTRY_SHIFT.get(country, 0.0) + \
            _SECTOR_SHIFT.get(sector, 0.0)
        gender = rng.pick(["F", "M", "X"], [0.36, 0.61, 0.03])
        involvement = "Y" if rng.random() < (0.45 if sector != "INT" else 0.2) else "N"
        experience = rng.pick(["E1", "E2", "E3", "E4"], [0.15, 0.32, 0.3, 0.23])
        gain = float(rng.normal(spec.gain, 0.4))
        return _Person(
            number=number,
            country=country,
            sector=sector,
            gender=gender,
            involvement=involvement,
            experience=experience,
            theta=theta,
            gain=gain,
            coop=0.5 * theta + float(rng.normal(0.0, 0.85)),
            coop_gain=0.6 * gain + float(rng.normal(0.1, 0.2)),
            response_shift=float(rng.normal(0.25, 0.15)),
            reaction=0.5 * (gain - spec.gain) / 0.4 + float(rng.normal(0.0, 0.8)),
            contacts=int(rng.poisson(2.0 * math.exp(0.25 * theta))),
            english=country in ("OBS", "INT") and rng.random() < 0.75,
        )

    def assign_code(self, person: _Person) -> None:
        """Draw the six code elements, far (distance >= 3) from every earlier person's code."""
        rng = self.rng
        latin = person.country == "UZ" and rng.random() < 0.35
        for _attempt in range(200):
            sources = [_MOTHERS, _FATHERS, _PLACES]
            code: dict[str, str | int] = {}
            n_letter = 0
            for it in self.inst.code_items():
                if it.element == "letter":
                    names = sources[n_letter % 3][person.country]
                    n_letter += 1
                    letter = str(names[int(rng.integers(0, len(names)))])[0].upper()
                    if latin:
                        letter = _UZ_LATIN.get(letter, letter)
                    if self.spec.cp1251_safe:
                        letter = letter.translate(_CP1251_FOLD)
                    code[it.id] = letter
                elif it.element == "day":
                    code[it.id] = int(rng.integers(1, 29))
                elif it.element == "month":
                    code[it.id] = int(rng.integers(1, 13))
                else:
                    code[it.id] = int(min(9, rng.poisson(1.6)))
            if all(_code_distance(code, other.code) >= 3 for other in self.people
                   if other.code):
                person.code = code
                return
        person.code = code  # pragma: no cover - 200 draws never all collide in practice

    # -- answers -----------------------------------------------------------------------------
    def latent(self, person: _Person, item: Item, wave: str) -> float:
        scale = self.inst.scales.get(item.scale) if item.scale else None
        domain = scale.domain if scale else None
        if domain == "reaction" or (domain is None and "pre" not in item.waves):
            return person.reaction
        if domain == "cooperation":
            base, gain = person.coop, person.coop_gain
        else:
            base, gain = person.theta, person.gain
        return {
            "pre": base,
            "post": base + gain,
            "retro": base - person.response_shift,
            "followup": base + 0.8 * gain,
        }[wave]

    def likert(self, person: _Person, item: Item, wave: str, clist: ChoiceList) -> str | None:
        rng, spec = self.rng, self.spec
        low, high = clist.score_range or (1, 5)
        reaction = "pre" not in item.waves and wave == "post"
        if clist.missing and rng.random() < (0.015 if reaction else spec.dk_rate):
            return clist.missing[0].code
        step = (high - low) / 4.0
        value = self.latent(person, item, wave)
        scale = self.inst.scales.get(item.scale) if item.scale else None
        lift = 0.35 if scale is not None and scale.domain == "cooperation" else 0.0
        if reaction:
            part = {"intro": -0.3, "part1": 0.1, "part2": 0.4}.get(item.part or "", 0.0)
            # agenda parts are rated by their own quality only: part 2 highest, intro lowest
            offset = 0.0 if item.part else self.offset[item.id]
            star = 1.05 + part + 0.55 * value + offset + float(rng.normal(0, 0.5))
        else:
            star = lift + 0.85 * value + self.offset[item.id] + float(rng.normal(0.0, 0.6))
        code = int(round((low + high) / 2.0 + star * step))
        code = max(low, min(high, code))
        if item.reverse:
            code = low + high - code
        return str(code)

    def knowledge(self, person: _Person, item: Item, wave: str, clist: ChoiceList) -> str:
        rng = self.rng
        shift = 1.6 * person.gain if wave != "pre" else 0.0
        p = _expit(-0.05 + 0.7 * person.theta + shift + 1.5 * self.offset[item.id])
        if rng.random() < p:
            return str(item.correct)
        wrong = [c for c in clist.codes if c != item.correct]
        return wrong[int(rng.integers(0, len(wrong)))]

    def single(self, person: _Person, item: Item, clist: ChoiceList) -> str | None:
        rng = self.rng
        codes = list(clist.codes)
        if item.role is not None:
            wanted = {
                "country": person.country, "sector": person.sector, "gender": person.gender,
                "involvement": person.involvement, "experience": person.experience,
            }.get(item.role)
            if wanted in codes:
                return wanted
            if item.role == "country" and "INT" in codes and person.country not in codes:
                return "INT"
            return codes[int(rng.integers(0, len(codes)))]
        positive = [c for c in codes if c in _POSITIVE_CODES] or codes[:1]
        negative = [c for c in codes if c not in positive]
        if item.id in self.yes:
            says_yes = person.number in self.yes[item.id]
        else:
            p = _expit(math.log(_rate(item) / (1 - _rate(item)))
                       + 1.2 * (person.gain - self.spec.gain))
            says_yes = rng.random() < p
        pool = positive if (says_yes or not negative) else negative
        return rng.pick(pool, [0.75 ** i for i in range(len(pool))])

    def multiple(self, person: _Person, item: Item, clist: ChoiceList) -> tuple[str, ...]:
        rng = self.rng
        options = [c for c in clist.codes if c != "none"]
        chosen = []
        for i, code in enumerate(options):
            p = _expit(math.log(0.6 / 0.4) - 0.45 * i + 0.4 * person.gain)
            if rng.random() < p:
                chosen.append(code)
        if not chosen:
            chosen = ["none"] if "none" in clist.codes else options[:1]
        return tuple(chosen)

    def number(self, person: _Person, item: Item, wave: str) -> int:
        rng = self.rng
        count = person.contacts
        if wave in ("post", "followup"):
            count += int(rng.poisson(max(0.3, 2.0 + 3.0 * person.coop_gain)))
        if wave == "followup":
            count += int(rng.poisson(1.0))
        low = int(item.min) if item.min is not None else 0
        high = int(item.max) if item.max is not None else 10**6
        return max(low, min(high, count))

    def text(self, person: _Person, item: Item, wave: str) -> str | None:
        rng = self.rng
        answer_p = 0.7 if "useful" in item.id else 0.5
        if rng.random() >= answer_p:
            return None
        key = "followup" if wave == "followup" else ("improve" if "improve" in item.id
                                                   else "useful")
        bank = _TEXTS[key]["en" if person.english else "ru"]
        return bank[int(rng.integers(0, len(bank)))]

    def answers(self, person: _Person, wave: str) -> dict[str, Any]:
        rng, inst = self.rng, self.inst
        out: dict[str, Any] = {}
        for _section, item, name in _form_fields(inst, wave):
            item_wave = "retro" if name != item.id else wave
            clist = inst.choice_list_of(item)
            if item.type == "code":
                out[name] = person.code[item.id]
                continue
            if item.type == "text":
                out[name] = self.text(person, item, wave)
                continue
            if item.role is None and rng.random() < self.spec.skip_rate:
                out[name] = None
                continue
            if item.type == "likert" and clist is not None:
                out[name] = self.likert(person, item, item_wave, clist)
            elif item.type == "knowledge" and clist is not None:
                out[name] = self.knowledge(person, item, wave, clist)
            elif item.type == "single_choice" and clist is not None:
                out[name] = self.single(person, item, clist)
            elif item.type == "multiple_choice" and clist is not None:
                out[name] = self.multiple(person, item, clist)
            elif item.type == "number":
                out[name] = self.number(person, item, wave)
            else:
                out[name] = None
        return out

    # -- waves -------------------------------------------------------------------------------
    def times(self, wave: str) -> tuple[dt.datetime, dt.datetime]:
        rng, spec = self.rng, self.spec
        if wave == "pre":
            day = spec.start
            minute = int(rng.integers(8 * 60 + 20, 9 * 60 + 40))
            length = int(rng.integers(9, 24))
        elif wave == "post":
            day = spec.end
            minute = int(rng.integers(16 * 60 + 10, 17 * 60 + 45))
            length = int(rng.integers(11, 28))
        else:
            first, last = spec.followup_window or (spec.end, spec.end)
            day = first + dt.timedelta(days=int(rng.integers(0, (last - first).days + 1)))
            minute = int(rng.integers(9 * 60, 18 * 60))
            length = int(rng.integers(6, 17))
        start = dt.datetime.combine(day, dt.time()) + dt.timedelta(
            minutes=minute, seconds=int(rng.integers(0, 60)))
        end = start + dt.timedelta(minutes=length, seconds=int(rng.integers(0, 60)))
        return start, end

    def submission(self, answers: dict[str, Any], wave: str, person: int | None) -> _Submission:
        start, end = self.times(wave)
        received = end - dt.timedelta(hours=self.spec.utc_offset) + dt.timedelta(
            seconds=int(self.rng.integers(2, 240)))
        device = ""
        if self.rng.random() < 0.6:
            device = "collect:" + self.rng.token(16)
        return _Submission(answers, start, end, received, self.rng.uid(), person, device=device)

    def choose(self, pool: Sequence[_Person], n: int) -> list[_Person]:
        n = max(0, min(n, len(pool)))
        return [pool[i] for i in self.rng.sample(len(pool), n)]

    def respondents(self) -> dict[str, list[_Person]]:
        """Who answers which wave (pre, post, followup), with the planned post-only people."""
        spec, people = self.spec, self.people
        if spec.id == FLAGSHIP_ID:
            n_pre, n_both, n_fu = 29, 26, 16
        else:
            n_pre = int(round(spec.pre_rate * len(people)))
            n_both = int(round(spec.post_rate * n_pre))
            n_fu = int(round(spec.followup_rate * n_both)) if spec.followup_window else 0
        pre = self.choose(people, n_pre)
        both = self.choose(pre, n_both)
        answered = {p.number for p in pre}
        outsiders = [p for p in people if p.number not in answered and p.country in _COUNTRIES]
        self.post_only = self.choose(outsiders, spec.post_only)
        self.both = both
        post = sorted(both + self.post_only, key=lambda p: p.number)
        followup = self.choose(both, n_fu) if "followup" in spec.waves else []
        return {"pre": pre, "post": post, "followup": followup}

    def test_submission(self, wave: str) -> _Submission:
        """An organiser's test of the form the day before (answers invented on the spot)."""
        dummy = self.person(0, "KZ", "LE")
        dummy.code = {}
        for it in self.inst.code_items():
            dummy.code[it.id] = {"letter": "Т", "day": 1, "month": 1}.get(it.element or "", 0)
        answers = self.answers(dummy, wave)
        sub = self.submission(answers, wave, None)
        shift = dt.timedelta(hours=14 if wave == "pre" else 7)
        sub.start, sub.end, sub.received = sub.start - shift, sub.end - shift, sub.received - shift
        sub.validation, sub.review_state = "not_approved", "rejected"
        sub.note = "test"
        return sub

    def build_wave(self, wave: str, people: list[_Person]) -> tuple[list[_Submission],
                                                                    _WaveFacts]:
        spec, rng = self.spec, self.rng
        # Follow-up yes/no outcomes: exactly round(rate * n) people say yes (the ones with the
        # largest gain plus noise), so small workshops still show the intended proportions.
        self.yes = {}
        if wave == "followup":
            for item in self.inst.items_for_wave(wave):
                if item.type == "single_choice" and item.role is None:
                    score = {p.number: p.gain + rng.normal(0.0, 0.4) for p in people}
                    ranked = sorted(score, key=lambda n: (-score[n], n))
                    self.yes[item.id] = set(ranked[: int(round(_rate(item) * len(people)))])
        subs = []
        for person in people:
            subs.append(self.submission(self.answers(person, wave), wave, person.number))
        facts = _WaveFacts(file="", dialect=spec.waves[wave], rows=0, respondents=len(subs))
        if wave == "post":
            facts.post_only = len(self.post_only)
            self.plant_typos(subs, facts)
            if spec.id == FLAGSHIP_ID:
                self.plant_contacts(subs, facts)
        for _ in range(spec.duplicates.get(wave, 0)):
            eligible = [s for s in subs if s.person is not None]
            original = eligible[int(rng.integers(0, len(eligible)))]
            resent = _Submission(
                dict(original.answers), original.start, original.end,
                original.received + dt.timedelta(minutes=int(rng.integers(3, 40))),
                rng.uid(), original.person, device=original.device, note="duplicate",
            )
            subs.append(resent)
            facts.duplicates += 1
        for _ in range(spec.test_rows.get(wave, 0)):
            subs.append(self.test_submission(wave))
            facts.test_rows += 1
        subs.sort(key=lambda s: (s.received, s.uid))
        facts.rows = len(subs)
        return subs, facts

    def plant_typos(self, subs: list[_Submission], facts: _WaveFacts) -> None:
        """Change one code element in the post answers of ``post_typos`` matched people.

        The first is a real one-element typo (day 7 at pre written as 1 at post); the second
        writes a Latin ``C`` at post where the pre answer had a Cyrillic ``С`` (equal after
        canonicalisation). Both stay at distance >= 2 from every other person's code.
        """
        code_items = self.inst.code_items()
        plans: list[tuple[str, object, object, str]] = []
        days = [it.id for it in code_items if it.element == "day"]
        letters = [it.id for it in code_items if it.element == "letter"]
        if days:
            plans.append((days[0], 7, 1, "7 at pre, 1 at post (a one-element typo)"))
        if letters:
            plans.append((letters[0], "С", "C", "Cyrillic 'С' at pre, Latin 'C' at post "
                          "(equal after canonicalisation)"))
        both = {p.number for p in self.both}
        by_person = {s.person: s for s in subs if s.person in both}
        order = self.rng.permutation(len(self.people))
        used: set[int] = set()
        for element, pre_value, post_value, text in plans[: self.spec.post_typos]:
            for i in order:
                person = self.people[i]
                if person.number in used or person.number not in by_person \
                        or person.country not in _COUNTRIES:
                    continue
                pre_code = {**person.code, element: pre_value}
                post_code = {**person.code, element: post_value}
                others = [p.code for p in self.people if p.number != person.number]
                if all(_code_distance(pre_code, o) >= 3 and _code_distance(post_code, o) >= 2
                       for o in others):
                    break
            else:  # pragma: no cover - with 12+ people a candidate always exists
                continue
            used.add(person.number)
            person.code = pre_code
            for sub in self.subs["pre"]:
                if sub.person == person.number:
                    sub.answers.update(pre_code)
            by_person[person.number].answers.update(post_code)
            facts.typos.append(f"{element}: {text}")

    def plant_contacts(self, subs: list[_Submission], facts: _WaveFacts) -> None:
        """Put fake contact details into exactly two open answers (to show the redaction)."""
        texts = [it.id for it in self.inst.items_for_wave("post") if it.type == "text"]
        if not texts:
            return
        useful = texts[0]
        improve = texts[1] if len(texts) > 1 else texts[0]
        ordinary = [s for s in subs if s.person is not None
                    and not self.people[s.person - 1].english]
        first, second = ordinary[1], ordinary[-2]
        first.answers[useful] = (
            "Самым полезным был обмен опытом по национальным планам действий. "
            "Если нужны наши материалы, пишите: demo.participant@example.org"
        )
        second.answers[improve] = (
            "Больше практических упражнений в малых группах. Готов помочь с организацией "
            "следующего семинара, мой телефон +7 701 000 00 00"
        )
        first.note, second.note = "email", "phone"
        facts.planted = [f"{useful}: an e-mail address (demo.participant@example.org)",
                         f"{improve}: a phone number (+7 701 000 00 00)"]

    # -- the folder --------------------------------------------------------------------------
    def run(self, folder: Path) -> dict[str, _WaveFacts]:
        self.make_people()
        who = self.respondents()
        self.subs: dict[str, list[_Submission]] = {}
        for wave in FORM_WAVES:
            if wave in self.spec.waves:
                self.subs[wave], self.facts[wave] = self.build_wave(wave, who[wave])
        folder.mkdir(parents=True, exist_ok=True)
        for wave, subs in self.subs.items():
            export = self.spec.waves[wave]
            name = f"{wave}-synthetic.{export.extension}"
            self.facts[wave].file = name
            _write_export(folder / name, export, self.inst, wave, subs, self.spec, self.rng)
        (folder / "workshop.yaml").write_bytes(_workshop_yaml(self.spec, self.facts))
        return self.facts


# ---- open answers (invented) ---------------------------------------------------------------

_TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "useful": {
        "ru": (
            "Обмен опытом по подготовке национальных планов действий во второй части.",
            "Практические примеры стран Центральной Азии по работе с молодёжью.",
            "Обсуждение методики анализа ситуации перед разработкой стратегии.",
            "Возможность напрямую пообщаться с коллегами из соседних стран.",
            "Сессия о роли гражданского общества в профилактике радикализации.",
            "Материалы о рекомендациях Плана действий Генерального секретаря ООН по "
            "предупреждению насильственного экстремизма.",
            "Опыт реинтеграции лиц, вернувшихся из зон вооружённых конфликтов.",
            "Разбор того, как выстроить мониторинг и оценку плана действий.",
            "Дискуссия о контрнарративах и работе со СМИ.",
            "Примеры межведомственной координации при подготовке стратегии.",
            "Всё было полезно, особенно вторая часть.",
            "Обсуждение свободы вероисповедания в контртеррористическом законодательстве.",
            "Модерируемые дискуссии, где можно было задать вопросы экспертам.",
        ),
        "en": (
            "The exchange on national action plans in Part 2 was the most useful.",
            "Hearing how other Central Asian countries involve civil society.",
            "The session on monitoring and evaluation frameworks.",
        ),
    },
    "improve": {
        "ru": (
            "Больше времени на обсуждения в малых группах.",
            "Раздавать материалы заранее, до начала семинара.",
            "Хотелось бы больше практических упражнений.",
            "Увеличить продолжительность семинара до трёх дней.",
            "Приглашать больше представителей местных органов власти.",
            "Синхронный перевод иногда отставал от выступающих.",
            "Меньше презентаций, больше дискуссий.",
            "Организовать последующую онлайн-встречу участников.",
            "Подготовить сборник материалов на русском языке.",
        ),
        "en": (
            "More time for questions after each panel.",
            "Share the slides before the sessions.",
        ),
    },
    "followup": {
        "ru": (
            "Подготовили предложения в проект региональной программы по профилактике "
            "экстремизма.",
            "Провёл брифинг для коллег по итогам семинара.",
            "Использовали материалы семинара при обучении сотрудников.",
            "Включили раздел о мониторинге и оценке в проект национального плана действий.",
            "Обменялись опытом работы с молодёжью с коллегами из соседней страны.",
            "Организовали круглый стол с участием гражданского общества.",
            "Материалы переданы в рабочую группу по разработке стратегии.",
            "Пока только поделился материалами с руководством.",
        ),
        "en": (
            "We used the good practice examples in a training for local officials.",
            "Shared the policy brief with our working group on the national strategy.",
        ),
    },
}


# ---- export dialects -----------------------------------------------------------------------


def _choice_label(clist: ChoiceList | None, code: str, lang: str) -> str:
    if clist is None:
        return code
    for choice in clist.all_choices:
        if choice.code == code:
            return choice.label(lang)
    return code


def _columns(inst: Instrument, wave: str, style: str) -> list[tuple[str, str, str | None]]:
    """(header, column name, option code or None) of every answer column of a form.

    ``style``: ``kobo_labels`` (Russian labels, ``/`` paths), ``kobo_xml`` (``/`` paths),
    ``odk`` (``-`` group paths, ``/`` before the option) or ``generic`` (bare names).
    """
    out: list[tuple[str, str, str | None]] = []
    for section, item, name in _form_fields(inst, wave):
        if style == "kobo_labels":
            group = section.labels.get("ru", section.id)
            header = f"{group}/{item.label('ru')}"
        elif style == "kobo_xml":
            header = f"{section.id}/{name}"
        elif style == "odk":
            header = f"{section.id}-{name}"
        else:
            header = name
        out.append((header, name, None))
        if item.type == "multiple_choice" and style != "generic":
            clist = inst.choice_list_of(item)
            for choice in clist.all_choices if clist else ():
                option = choice.label("ru") if style == "kobo_labels" else choice.code
                sub = f"{header}/{option}"
                out.append((sub, name, choice.code))
    return out


def _cell(inst: Instrument, name: str, option: str | None, value: Any, labels: bool,
          typed: bool = False) -> Any:
    """Render one answer for an export (a skipped answer becomes an empty cell)."""
    if option is not None:
        if value is None:
            return ""
        hit = option in value
        return int(hit) if typed else ("1" if hit else "0")
    if value is None:
        return ""
    item = _item_of(inst, name)
    clist = inst.choice_list_of(item) if item is not None and item.choices else None
    if isinstance(value, tuple):
        if labels:
            return " ".join(_choice_label(clist, c, "ru") for c in value)
        return " ".join(value)
    if isinstance(value, int):
        return value if typed else str(value)
    if labels and clist is not None:
        return _choice_label(clist, value, "ru")
    return value


def _item_of(inst: Instrument, name: str) -> Item | None:
    if inst.has_item(name):
        return inst.item(name)
    if name.endswith("_retro") and inst.has_item(name[: -len("_retro")]):
        return inst.item(name[: -len("_retro")])
    return None


def _csv_bytes(rows: Sequence[Sequence[object]], delimiter: str, quoting: int, newline: str,
               encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, quotechar='"', quoting=quoting,
                        lineterminator=newline, doublequote=True)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(encoding)


def _kobo_table(inst: Instrument, wave: str, subs: Sequence[_Submission], spec: DemoWorkshop,
                rng: _Random, labels: bool, typed: bool) -> list[list[object]]:
    columns = _columns(inst, wave, "kobo_labels" if labels else "kobo_xml")
    header: list[object] = ["start", "end", "workshop_id", "instrument_version"]
    header += [c[0] for c in columns] + list(_KOBO_META)
    rows: list[list[object]] = [header]
    version = "v" + rng.token(21)
    first_id = int(rng.integers(1_000_000, 9_000_000))
    for index, sub in enumerate(subs, start=1):
        row: list[object] = [_iso_local(sub.start, spec.utc_offset),
                             _iso_local(sub.end, spec.utc_offset), spec.id, inst.version]
        row += [_cell(inst, name, option, sub.answers.get(name), labels, typed)
                for _h, name, option in columns]
        xml_status, label_status = _KOBO_VALIDATION[sub.validation]
        submission_id = first_id + 3 * index + int(rng.integers(0, 3))
        row += [
            submission_id if typed else str(submission_id),
            sub.uid,
            f"{sub.received:%Y-%m-%dT%H:%M:%S}",
            label_status if labels else xml_status,
            SYNTHETIC_NOTE,
            "submitted_via_web",
            "",
            version,
            "",
            index if typed else str(index),
        ]
        rows.append(row)
    return rows


def _odk_table(inst: Instrument, wave: str, subs: Sequence[_Submission], spec: DemoWorkshop,
               rng: _Random) -> list[list[object]]:
    columns = _columns(inst, wave, "odk")
    header: list[object] = ["SubmissionDate", "meta-instanceID", "start", "end", "workshop_id",
                            "instrument_version"]
    header += [c[0] for c in columns] + list(_ODK_TAIL)
    rows: list[list[object]] = [header]
    submitter = int(rng.integers(3, 40))
    # ODK Central lists the newest submission first.
    for sub in sorted(subs, key=lambda s: (s.received, s.uid), reverse=True):
        millis = int(rng.integers(0, 1000))
        key = f"uuid:{sub.uid}"
        row: list[object] = [f"{sub.received:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z", key,
                             _iso_local(sub.start, spec.utc_offset),
                             _iso_local(sub.end, spec.utc_offset), spec.id, inst.version]
        row += [_cell(inst, name, option, sub.answers.get(name), False)
                for _h, name, option in columns]
        row += [key, str(submitter), _ODK_SUBMITTER, "0", "0", "", sub.review_state,
                sub.device, "0", inst.version]
        rows.append(row)
    return rows


def _generic_table(inst: Instrument, wave: str, subs: Sequence[_Submission], spec: DemoWorkshop,
                   typed: bool) -> list[list[object]]:
    columns = _columns(inst, wave, "generic")
    rows: list[list[object]] = [["workshop_id"] + [c[0] for c in columns]]
    for sub in subs:
        row: list[object] = [spec.id]
        for _h, name, option in columns:
            value = _cell(inst, name, option, sub.answers.get(name), False, typed)
            if typed and isinstance(value, str) and value.isdigit():
                item = _item_of(inst, name)
                if item is not None and item.type == "likert":
                    value = int(value)
            row.append(None if value == "" else value)
        rows.append(row)
    return rows


def _readme_sheet(spec: DemoWorkshop, wave: str) -> list[list[object]]:
    return [
        ["SYNTHETIC DEMONSTRATION DATA"],
        [f"Invented people and invented answers: the {wave} wave of the demo workshop "
         f"'{spec.id}'."],
        ["Written by `evaluate demo` (evaluation/demo.py); no real person is described here."],
    ]


def _write_export(path: Path, export: WaveExport, inst: Instrument, wave: str,
                  subs: Sequence[_Submission], spec: DemoWorkshop,
                  rng: _Random) -> None:
    dialect = export.dialect
    if dialect in ("kobo_csv_labels", "kobo_csv_xml"):
        rows = _kobo_table(inst, wave, subs, spec, rng, dialect == "kobo_csv_labels", False)
        path.write_bytes(_csv_bytes(rows, ";", csv.QUOTE_ALL, "\r\n", "utf-8"))
    elif dialect == "kobo_xlsx":
        rows = _kobo_table(inst, wave, subs, spec, rng, False, True)
        sheet = f"{inst.id}_{wave}"[:31]
        write_workbook({sheet: rows}, path, bold_header=False)
    elif dialect == "odk_csv":
        rows = _odk_table(inst, wave, subs, spec, rng)
        path.write_bytes(_csv_bytes(rows, ",", csv.QUOTE_MINIMAL, "\n", "utf-8"))
    elif dialect == "generic_csv":
        rows = _generic_table(inst, wave, subs, spec, False)
        path.write_bytes(_csv_bytes(rows, export.delimiter, csv.QUOTE_MINIMAL, "\r\n",
                                    export.encoding))
    elif dialect == "generic_xlsx":
        rows = _generic_table(inst, wave, subs, spec, True)
        write_workbook({"responses": rows, "README": _readme_sheet(spec, wave)}, path)
    else:  # pragma: no cover - the specs above only use known dialects
        raise ValueError(f"unknown demo dialect {dialect!r}")


# ---- workshop.yaml and README --------------------------------------------------------------


def _workshop_yaml(spec: DemoWorkshop, facts: Mapping[str, _WaveFacts]) -> bytes:
    waves: dict[str, Any] = {}
    for wave, fact in facts.items():
        entry: dict[str, Any] = {"file": fact.file, "source": fact.dialect.source}
        if fact.dialect.dialect == "generic_xlsx":
            entry["sheet"] = "responses"
        waves[wave] = entry
    expected: dict[str, Any] = {
        "participants": spec.participants,
        "per_country": spec.per_country,
        "countries": list(_COUNTRIES),
    }
    if spec.observers:
        expected["observers"] = spec.observers
    data: dict[str, Any] = {
        "id": spec.id,
        "synthetic": True,
        "title": dict(spec.title),
        "dates": {"start": spec.start, "end": spec.end},
        "location": dict(spec.location),
        "project": _PROJECT,
        "phase": spec.phase,
        "evaluator": _EVALUATOR,
        "languages": ["en", "ru"],
        "instrument": f"pvect-readiness@{spec.instrument_version}",
        "waves": waves,
        "expected": expected,
        "privacy": {"k_min": 5, "demo_key": True},
        "ingest": {"encoding": "cp1251", "unmapped_values": "quarantine"},
        "open_answers": {"reviewed": ["open_most_useful"]},
        "description": {
            "en": "SYNTHETIC demonstration workshop: the people, answers and contact details in "
                  "this folder are invented.",
            "ru": "СИНТЕТИЧЕСКИЙ демонстрационный семинар: люди, ответы и контактные данные в "
                  "этой папке вымышлены.",
        },
    }
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100,
                          default_flow_style=False)
    return (_HEADER_COMMENT + text).encode("utf-8")


_DIALECT_TEXT = {
    "kobo_csv_labels": "KoboToolbox CSV, Russian labels: `;`, every field quoted, headers "
                       "`<group label>/<question label>`, answers as Russian choice labels, "
                       "select-multiple as a summary column plus 0/1 columns "
                       "`<group>/<question>/<option label>`",
    "kobo_csv_xml": "KoboToolbox CSV, XML values and headers: `;`, every field quoted, headers "
                    "`<group>/<name>`, answers as codes (`dk` = don't know), select-multiple as "
                    "a summary column plus 0/1 columns `<group>/<name>/<code>`",
    "kobo_xlsx": "KoboToolbox XLSX, XML values and headers: one sheet named after the form, "
                 "headers `<group>/<name>`, codes, numbers stored as numbers",
    "odk_csv": "ODK Central CSV: `,`, RFC-4180 quoting, `\\n` line ends, headers "
               "`<group>-<name>`, codes, select-multiple as a summary column plus 1/0 columns "
               "`<group>-<name>/<code>`, newest submission first",
    "generic_csv": "generic CSV: item ids as headers, codes",
    "generic_xlsx": "generic XLSX: sheet `responses` with item ids as headers and codes, plus a "
                    "`README` sheet saying the data are synthetic",
}


def _readme(
    seed: int, all_facts: Sequence[tuple[DemoWorkshop, Mapping[str, _WaveFacts]]]
) -> bytes:
    lines = [
        "# Demo workshops: SYNTHETIC DEMONSTRATION DATA",
        "",
        "**Everything in this folder is synthetic.** The participants are invented people, their",
        "answers are invented answers, and the two contact details planted in the flagship's open",
        "answers (`demo.participant@example.org`, `+7 701 000 00 00`) belong to nobody. The",
        "workshops are modelled on the UNOCT-UNCCT / UNRCCA project in Central Asia, but no",
        "number here describes a real workshop or a real person. Reports rendered from these",
        "folders say that they are synthetic.",
        "",
        "## How it was generated",
        "",
        "```",
        f"evaluate demo --out demo-workshops --seed {seed}",
        "```",
        "",
        "`evaluation/demo.py` (`generate_demo`) draws every value from a seeded NumPy generator",
        "and writes the same bytes on every run (`tests/test_demo.py` checks that this folder",
        "is exactly what the code produces). Do not edit these files by hand: change the",
        "generator and regenerate.",
        "",
        "File names contain `synthetic`; Kobo exports say `synthetic demo data` in `_notes`,",
        "ODK exports say `synthetic-demo` in `SubmitterName`, generic XLSX files carry a",
        "`README` sheet, and every `workshop.yaml` has `synthetic: true`.",
        "",
        "Data model: latent readiness θ ~ N(0, 1) per person with small country and sector",
        "shifts; a true gain per workshop (0.2 to 0.8 SD) with person-level SD 0.4; Likert answers",
        "cut from latent + item offset + noise (reverse-keyed items reflected); retrospective",
        "answers about 0.25 SD below the pre answers; knowledge correct about 45 % → 65 %;",
        "cross-border contacts Poisson, higher after the workshop; reactions mostly positive",
        "(part 2 highest); at follow-up about 55 % applied, 35 % drafted, 60 % used the materials.",
        "Skipped items and \"don't know\" answers are sprinkled in (flagship: about 3 % and 4 %).",
        "",
        "## Workshops",
        "",
        "| workshop | phase | place | instrument | invited (+ observers) | gain (SD) |",
        "|---|---|---|---|---|---|",
    ]
    for spec, _facts in all_facts:
        lines.append(
            f"| `{spec.id}` | {spec.phase} | {spec.location['en']} | pvect-readiness "
            f"{spec.instrument_version} | {spec.participants} (+ {spec.observers}) | "
            f"{spec.gain:.2f} |"
        )
    lines += ["", "## Files and their planted irregularities", ""]
    for spec, facts in all_facts:
        lines.append(f"### `{spec.id}`")
        lines.append("")
        for fact in facts.values():
            notes = [f"{fact.rows} data rows", f"{fact.respondents} respondents"]
            if fact.duplicates:
                notes.append(f"{fact.duplicates} duplicate submission (same answers resent, "
                             "new submission id)")
            if fact.test_rows:
                status = "`_validation_status` Not approved" if fact.dialect.source == "kobo" \
                    else "`ReviewState` rejected"
                notes.append(f"{fact.test_rows} test submission ({status})")
            if fact.post_only:
                notes.append(f"{fact.post_only} respondent with only a post survey")
            notes += [f"code: {t}" for t in fact.typos]
            notes += [f"planted contact in {t}" for t in fact.planted]
            lines.append(f"- `{fact.file}` ({_DIALECT_TEXT[fact.dialect.dialect]}"
                         + (f", {fact.dialect.encoding}, `{fact.dialect.delimiter}`"
                            if fact.dialect.dialect == "generic_csv" else "")
                         + "): " + "; ".join(notes) + ".")
        lines.append("")
    return "\n".join(lines).encode("utf-8")


# ---- public API -----------------------------------------------------------------------------


def write_demo_forms(forms_dir: str | Path, workshop_id: str = "demo") -> list[Path]:
    """Write the XLSForm of every wave of every instrument in ``surveys/``.

    File names are ``<instrument id>-<version>-<wave>.xlsx``; waves without items are skipped.

    Parameters
    ----------
    forms_dir : str or Path
        Folder to write into (created if missing).
    workshop_id : str
        Stored in each form's hidden ``workshop_id`` field.

    Returns
    -------
    list of Path
        The forms written, sorted.

    Examples
    --------
    >>> import tempfile
    >>> from evaluation.demo import write_demo_forms
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     names = [p.name for p in write_demo_forms(tmp)]
    >>> "pvect-readiness-2.0-pre.xlsx" in names
    True
    """
    forms_dir = Path(forms_dir)
    forms_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(surveys_dir().glob("*.yaml")):
        inst = load_instrument(path)
        for wave in FORM_WAVES:
            if not inst.items_for_wave(wave):
                continue
            out = forms_dir / f"{inst.id}-{inst.version}-{wave}.xlsx"
            written.append(write_xlsform(inst, wave, out, workshop_id))
    return sorted(written)


def generate_workshop(spec: DemoWorkshop, out: str | Path, seed: int = DEMO_SEED) -> Path:
    """Write one synthetic workshop from a specification (benchmarks use large ones).

    Examples
    --------
    >>> import dataclasses, tempfile, pathlib
    >>> from evaluation.demo import DEMO_WORKSHOPS, generate_workshop
    >>> spec = dataclasses.replace(DEMO_WORKSHOPS[0], id="tiny", per_country=2, observers=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = generate_workshop(spec, pathlib.Path(tmp))
    ...     (folder / "workshop.yaml").is_file()
    True
    """
    inst = load_instrument(find_instrument(f"pvect-readiness@{spec.instrument_version}"))
    folder = Path(out) / spec.id
    _WorkshopGenerator(spec, inst, seed, 0).run(folder)
    return folder


def generate_demo(out: str | Path, seed: int = DEMO_SEED,
                  forms_dir: str | Path | None = None) -> list[Path]:
    """Write the synthetic demo workshops (and optionally the XLSForms) into ``out``.

    Every workshop folder holds ``workshop.yaml`` and the exports of its waves; ``out`` also
    gets a ``README.md`` saying that everything is synthetic and listing the planted
    irregularities (duplicates, test submissions, code typos, post-only respondents, planted
    contact details). The same ``seed`` always gives byte-identical files.

    Parameters
    ----------
    out : str or Path
        Folder to write the workshop folders into (created if missing).
    seed : int
        Seed of the random generators.
    forms_dir : str or Path, optional
        When given, also write the XLSForm of every wave of every instrument in ``surveys/``
        there (see :func:`write_demo_forms`), with workshop id ``"demo"``.

    Returns
    -------
    list of Path
        The workshop folders written, in the order of :data:`DEMO_WORKSHOPS`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from evaluation.demo import generate_demo
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folders = generate_demo(pathlib.Path(tmp))
    ...     names = sorted(p.name for p in (folders[0]).iterdir())
    >>> names
    ['followup-synthetic.xlsx', 'post-synthetic.csv', 'pre-synthetic.csv', 'workshop.yaml']
    >>> len(folders) >= 7
    True
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    instruments: dict[str, Instrument] = {}
    written: list[Path] = []
    all_facts: list[tuple[DemoWorkshop, Mapping[str, _WaveFacts]]] = []
    for index, spec in enumerate(DEMO_WORKSHOPS):
        ref = f"pvect-readiness@{spec.instrument_version}"
        if ref not in instruments:
            instruments[ref] = load_instrument(find_instrument(ref))
        folder = out / spec.id
        facts = _WorkshopGenerator(spec, instruments[ref], seed, index).run(folder)
        all_facts.append((spec, facts))
        written.append(folder)
    (out / "README.md").write_bytes(_readme(seed, all_facts))
    if forms_dir is not None:
        write_demo_forms(forms_dir)
    return written
