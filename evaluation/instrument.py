"""Survey instruments: load, validate and query the YAML definition of a questionnaire.

The format is documented in ``surveys/README.md``. An :class:`Instrument` is immutable once
loaded; every problem found while loading is collected and reported together as one sentence per
problem, each naming the item (or list, scale or section) concerned.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evaluation.errors import InstrumentError

__all__ = [
    "WAVES",
    "FORM_WAVES",
    "ITEM_TYPES",
    "CODE_ELEMENTS",
    "Choice",
    "ChoiceList",
    "Scale",
    "Section",
    "Item",
    "Instrument",
    "load_instrument",
    "parse_instrument",
    "default_instrument_path",
    "find_instrument",
    "safe_yaml",
]

#: Every wave an item may be asked in. ``retro`` is asked inside the post form.
WAVES = ("pre", "post", "followup", "retro")
#: The waves that have a form of their own.
FORM_WAVES = ("pre", "post", "followup")
ITEM_TYPES = (
    "likert",
    "single_choice",
    "multiple_choice",
    "number",
    "text",
    "knowledge",
    "code",
)
#: Kinds of elements of the self-generated participant code.
CODE_ELEMENTS = ("letter", "day", "month", "digit")
ROLES = ("country", "sector", "gender", "involvement", "experience")
PARTS = ("intro", "part1", "part2")
DOMAINS = ("readiness", "cooperation", "reaction", "application")
SENSITIVITY = ("normal", "high")
CHOICE_TYPES = ("likert", "single_choice", "multiple_choice", "knowledge")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_INSTRUMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CHOICE_CODE = re.compile(r"^[A-Za-z0-9_.<>+-]+$")

_TOP_KEYS = {
    "id",
    "version",
    "languages",
    "title",
    "default_language",
    "sections",
    "choice_lists",
    "scales",
    "items",
    "description",
}
_ITEM_KEYS = {
    "id",
    "type",
    "section",
    "text",
    "waves",
    "choices",
    "scale",
    "reverse",
    "correct",
    "min",
    "max",
    "element",
    "role",
    "part",
    "sensitivity",
    "required",
    "hint",
}
_LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "kk": "Kazakh", "ky": "Kyrgyz", "tg": "Tajik",
                   "uz": "Uzbek", "tk": "Turkmen"}


@dataclass(frozen=True)
class Choice:
    """One answer option: its code and its label per language."""

    code: str
    labels: Mapping[str, str]
    missing: bool = False

    def label(self, language: str) -> str:
        """Return the label in ``language`` (falls back to the code)."""
        return self.labels.get(language, self.code)


@dataclass(frozen=True)
class ChoiceList:
    """A named list of answer options; ``ordered`` lists have integer codes low → high."""

    id: str
    choices: tuple[Choice, ...]
    missing: tuple[Choice, ...] = ()
    ordered: bool = False

    @property
    def all_choices(self) -> tuple[Choice, ...]:
        """Scale choices followed by the missing ("don't know") choices."""
        return self.choices + self.missing

    @property
    def codes(self) -> tuple[str, ...]:
        """Codes of the scale choices (not the missing ones), in order."""
        return tuple(c.code for c in self.choices)

    @property
    def missing_codes(self) -> tuple[str, ...]:
        """Codes of the "don't know" style choices."""
        return tuple(c.code for c in self.missing)

    @property
    def score_range(self) -> tuple[int, int] | None:
        """``(min, max)`` of the integer codes of an ordered list, else ``None``."""
        if not self.ordered:
            return None
        values = [int(c) for c in self.codes]
        return min(values), max(values)


@dataclass(frozen=True)
class Scale:
    """A score built as the mean of the answered items that belong to it."""

    id: str
    labels: Mapping[str, str]
    domain: str
    items: tuple[str, ...] = ()

    def label(self, language: str) -> str:
        """Return the scale's label in ``language``."""
        return self.labels.get(language, self.id)


@dataclass(frozen=True)
class Section:
    """A group of items shown together (an XLSForm group)."""

    id: str
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Item:
    """One question of the instrument. See ``surveys/README.md`` for every field."""

    id: str
    type: str
    section: str
    text: Mapping[str, str]
    waves: tuple[str, ...]
    choices: str | None = None
    scale: str | None = None
    reverse: bool = False
    correct: str | None = None
    min: float | None = None
    max: float | None = None
    element: str | None = None
    role: str | None = None
    part: str | None = None
    sensitivity: str = "normal"
    required: bool = True
    hint: Mapping[str, str] = field(default_factory=dict)

    def label(self, language: str) -> str:
        """Return the question text in ``language``."""
        return self.text.get(language, self.id)

    def asked_in(self, wave: str) -> bool:
        """Whether the item is asked in ``wave`` (``retro`` counts as its own wave)."""
        return wave in self.waves

    @property
    def retro_id(self) -> str:
        """Column name of the retrospective ("thinking back") version in the post form."""
        return f"{self.id}_retro"


@dataclass(frozen=True)
class Instrument:
    """A validated survey instrument.

    Use :func:`load_instrument` to read one from YAML.

    Examples
    --------
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> inst = load_instrument(default_instrument_path())
    >>> inst.id, inst.languages
    ('pvect-readiness', ('en', 'ru'))
    >>> inst.item("country").role
    'country'
    """

    id: str
    version: str
    languages: tuple[str, ...]
    title: Mapping[str, str]
    default_language: str
    sections: tuple[Section, ...]
    choice_lists: Mapping[str, ChoiceList]
    scales: Mapping[str, Scale]
    items: tuple[Item, ...]
    path: Path | None = None

    # ---- look-ups -------------------------------------------------------------------------
    def item(self, item_id: str) -> Item:
        """Return the item with ``item_id`` (KeyError if absent)."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def has_item(self, item_id: str) -> bool:
        """Whether the instrument has an item with ``item_id``."""
        return any(it.id == item_id for it in self.items)

    def items_for_wave(self, wave: str) -> list[Item]:
        """Items asked in ``wave`` (``pre``, ``post``, ``followup`` or ``retro``), form order."""
        return [it for it in self.items if it.asked_in(wave)]

    def items_of_scale(self, scale_id: str) -> list[Item]:
        """Items belonging to scale ``scale_id`` in form order."""
        return [it for it in self.items if it.scale == scale_id]

    def item_by_role(self, role: str) -> Item | None:
        """The profile item with ``role`` (``country``, ``sector``, ...), if any."""
        for it in self.items:
            if it.role == role:
                return it
        return None

    def code_items(self) -> list[Item]:
        """The elements of the self-generated participant code, in form order."""
        return [it for it in self.items if it.type == "code"]

    def choice_list_of(self, item: Item | str) -> ChoiceList | None:
        """The choice list of ``item`` (or ``None`` for items without one)."""
        it = self.item(item) if isinstance(item, str) else item
        return self.choice_lists.get(it.choices) if it.choices else None

    def section(self, section_id: str) -> Section:
        """Return the section with ``section_id``."""
        for sec in self.sections:
            if sec.id == section_id:
                return sec
        raise KeyError(section_id)

    def column_names(self, wave: str) -> list[str]:
        """Column (XLSForm ``name``) of every item in the form of ``wave``.

        The post form also holds the retrospective items as ``<id>_retro``.
        """
        names = [it.id for it in self.items_for_wave(wave)]
        if wave == "post":
            names += [it.retro_id for it in self.items_for_wave("retro")]
        return names

    @property
    def label(self) -> str:
        """``id version`` for provenance and reports."""
        return f"{self.id} {self.version}"


# ---- loading ----------------------------------------------------------------------------------


_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_yaml(text: str) -> Any:
    """Parse YAML safely (no tags that build Python objects), with libyaml's C parser if present.

    Examples
    --------
    >>> from evaluation.instrument import safe_yaml
    >>> safe_yaml("a: [1, 2]")
    {'a': [1, 2]}
    """
    return yaml.load(text, Loader=_SafeLoader)  # SafeLoader or CSafeLoader: safe


@functools.lru_cache(maxsize=32)
def _cached_yaml(path: str, mtime_ns: int, size: int) -> Any:
    return safe_yaml(Path(path).read_text(encoding="utf-8"))


def _yaml_file(path: Path) -> Any:
    """Parsed content of a YAML file, cached until the file changes."""
    st = path.stat()
    return _cached_yaml(str(path.resolve()), st.st_mtime_ns, st.st_size)


def default_instrument_path() -> Path:
    """Path of the default instrument shipped in ``surveys/``.

    Examples
    --------
    >>> from evaluation.instrument import default_instrument_path
    >>> default_instrument_path().name
    'pvect-readiness.yaml'
    """
    return surveys_dir() / "pvect-readiness.yaml"


def surveys_dir() -> Path:
    """The repository's ``surveys/`` folder (instruments are data next to the package)."""
    return Path(__file__).resolve().parent.parent / "surveys"


def find_instrument(reference: str, base_dir: Path | None = None) -> Path:
    """Resolve an instrument reference from ``workshop.yaml``.

    ``reference`` is either a path (relative to ``base_dir`` or to the repository's ``surveys/``)
    or ``"<id>"`` / ``"<id>@<version>"`` naming an instrument in ``surveys/``.

    Examples
    --------
    >>> from evaluation.instrument import find_instrument
    >>> find_instrument("pvect-readiness@1.0").name
    'pvect-readiness-v1.yaml'
    """
    candidates: list[Path] = []
    ref_path = Path(reference)
    if ref_path.suffix in {".yaml", ".yml"}:
        if base_dir is not None:
            candidates.append(base_dir / ref_path)
        candidates.append(surveys_dir() / ref_path.name)
        for cand in candidates:
            if cand.is_file():
                return cand
        raise InstrumentError(ref_path, [f"The instrument file {reference!r} was not found."])
    wanted_id, _, wanted_version = reference.partition("@")
    for path in sorted(surveys_dir().glob("*.yaml")):
        try:
            head = _yaml_file(path) or {}
        except yaml.YAMLError:
            continue
        if not isinstance(head, dict) or head.get("id") != wanted_id:
            continue
        if not wanted_version or str(head.get("version")) == wanted_version:
            candidates.append(path)
    if not candidates:
        raise InstrumentError(None, [f"No instrument {reference!r} exists in surveys/."])
    # Without a version, the newest version wins.
    return max(candidates, key=lambda p: _version_key(str(_yaml_file(p).get("version"))))


def _version_key(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"[.-]", version))


#: Most nodes a YAML document may hold once its aliases are counted out (the largest instrument
#: has about 2,500): a "billion laughs" document is refused before any code walks it.
MAX_YAML_NODES = 1_000_000


def yaml_structure_problem(data: Any, max_nodes: int = MAX_YAML_NODES) -> str | None:
    """Why a loaded YAML document is unsafe to walk, or None.

    ``yaml.safe_load`` builds no Python objects, but anchors and aliases can still make a
    document that contains itself (any recursive walk never ends) or one that is small on disk
    and explodes when walked ("billion laughs"). Both are refused here, counting every alias
    as the copy a consumer would see.

    Examples
    --------
    >>> import yaml
    >>> from evaluation.instrument import yaml_structure_problem
    >>> print(yaml_structure_problem(yaml.safe_load("a: [1, 2]")))
    None
    >>> yaml_structure_problem(yaml.safe_load("a: &x [*x]"))
    'it contains itself (an alias inside its own anchor)'
    >>> bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\\n" + "".join(
    ...     f"b{i}: &b{i} [" + ", ".join(["*a" if i == 0 else f"*b{i - 1}"] * 10) + "]\\n"
    ...     for i in range(6))
    >>> yaml_structure_problem(yaml.safe_load(bomb))
    'its aliases expand to more than 1000000 values'
    """
    budget = [max_nodes]
    on_path: set[int] = set()

    def walk(node: Any) -> str | None:
        budget[0] -= 1
        if budget[0] < 0:
            return f"its aliases expand to more than {max_nodes} values"
        if isinstance(node, Mapping):
            children = [c for kv in node.items() for c in kv]
        elif isinstance(node, list | tuple | set):
            children = list(node)
        else:
            return None
        if id(node) in on_path:
            return "it contains itself (an alias inside its own anchor)"
        on_path.add(id(node))
        try:
            for child in children:
                problem = walk(child)
                if problem:
                    return problem
        finally:
            on_path.discard(id(node))
        return None

    try:
        return walk(data)
    except RecursionError:
        return "it is nested too deeply"


def load_instrument(path: str | Path) -> Instrument:
    """Load and validate an instrument from a YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file (format in ``surveys/README.md``).

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        With one sentence per problem, each naming the item, list, scale or section.

    Examples
    --------
    >>> from evaluation.instrument import load_instrument, default_instrument_path
    >>> inst = load_instrument(default_instrument_path())
    >>> [s.id for s in inst.sections][:3]
    ['profile', 'code', 'readiness']
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstrumentError(path, [f"The file {path.name} does not exist."]) from None
    except IsADirectoryError:
        raise InstrumentError(path, [f"{path.name} is a folder, not an instrument file."]) \
            from None
    except UnicodeDecodeError:
        raise InstrumentError(path, ["The file is not UTF-8 text."]) from None
    except OSError as exc:
        raise InstrumentError(path, [f"The file cannot be read ({exc.strerror})."]) from None
    try:
        data = safe_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InstrumentError(path, [f"The file is not valid YAML{where}."]) from None
    problem = yaml_structure_problem(data)
    if problem:
        raise InstrumentError(path, [f"The file cannot be used: {problem}."])
    return parse_instrument(data, path=path)


def parse_instrument(data: Any, path: str | Path | None = None) -> Instrument:
    """Validate an instrument given as a mapping (as read from YAML).

    Examples
    --------
    >>> from evaluation.instrument import parse_instrument
    >>> parse_instrument({"id": "x"})
    Traceback (most recent call last):
    ...
    evaluation.errors.InstrumentError: Instrument (in memory) has 5 problems: ...
    """
    checker = _Checker()
    inst = checker.build(data, Path(path) if path is not None else None)
    if checker.problems:
        raise InstrumentError(path, checker.problems)
    assert inst is not None
    return inst


class _Checker:
    """Collects problems while building an :class:`Instrument`."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.languages: tuple[str, ...] = ("en", "ru")

    def add(self, message: str) -> None:
        self.problems.append(message)

    # -- helpers
    def texts(self, value: Any, what: str) -> dict[str, str]:
        if not isinstance(value, Mapping):
            self.add(f"{what} needs a text per language ({', '.join(self.languages)}).")
            return {}
        out = {}
        for lang in self.languages:
            text = value.get(lang)
            if not isinstance(text, str) or not text.strip():
                name = _LANGUAGE_NAMES.get(lang, lang)
                self.add(f"{what} has no {name} text.")
            else:
                out[lang] = text.strip()
        return out

    def build(self, data: Any, path: Path | None) -> Instrument | None:
        if not isinstance(data, Mapping):
            self.add("The instrument must be a YAML mapping with id, version, items and more.")
            return None
        for key in sorted(set(data) - _TOP_KEYS, key=str):
            self.add(f"Unknown top-level key {key!r}.")
        inst_id = data.get("id")
        if not isinstance(inst_id, str) or not _INSTRUMENT_ID.match(inst_id):
            self.add("The instrument needs an 'id' of letters, digits, '-', '_' or '.'.")
            inst_id = str(inst_id)
        version = data.get("version")
        if not isinstance(version, str) or not version.strip():
            self.add("The instrument needs a 'version' written as a string, e.g. \"2.0\".")
            version = str(version)
        langs = data.get("languages", ["en", "ru"])
        if (
            not isinstance(langs, list)
            or not langs
            or not all(isinstance(x, str) and re.fullmatch(r"[a-z]{2,3}", x) for x in langs)
        ):
            self.add("'languages' must be a list of language codes such as [en, ru].")
            langs = ["en", "ru"]
        self.languages = tuple(langs)
        default_language = data.get("default_language", self.languages[0])
        if default_language not in self.languages:
            self.add(f"default_language {default_language!r} is not one of the languages.")
        title = self.texts(data.get("title"), "The instrument title")

        sections = self.build_sections(data.get("sections"))
        lists = self.build_lists(data.get("choice_lists"))
        scale_defs = self.build_scales(data.get("scales"))
        items = self.build_items(data.get("items"), {s.id for s in sections}, lists, scale_defs)

        scales = {}
        for sid, scale in scale_defs.items():
            members = tuple(it.id for it in items if it.scale == sid)
            if len(members) < 3:
                self.add(f"Scale {sid!r} has {len(members)} items; a scale needs at least 3.")
            lists_used = {it.choices for it in items if it.scale == sid}
            if len(lists_used) > 1:
                self.add(f"Scale {sid!r} mixes choice lists {sorted(lists_used)}; "
                         "its items must share one.")
            scales[sid] = Scale(scale.id, scale.labels, scale.domain, members)
        self.check_code(items)
        self.check_roles(items)
        return Instrument(
            id=inst_id,
            version=version,
            languages=self.languages,
            title=title,
            default_language=default_language,
            sections=tuple(sections),
            choice_lists=lists,
            scales=scales,
            items=tuple(items),
            path=path,
        )

    def build_sections(self, raw: Any) -> list[Section]:
        if not isinstance(raw, list) or not raw:
            self.add("'sections' must be a non-empty list.")
            return []
        out, seen = [], set()
        for entry in raw:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
                self.add("Every section needs an 'id' and a 'label'.")
                continue
            sid = entry["id"]
            if sid in seen:
                self.add(f"Section {sid!r} is defined twice.")
            seen.add(sid)
            out.append(Section(sid, self.texts(entry.get("label"), f"Section {sid!r}")))
        return out

    def build_lists(self, raw: Any) -> dict[str, ChoiceList]:
        if not isinstance(raw, Mapping):
            self.add("'choice_lists' must be a mapping of list names to choices.")
            return {}
        out = {}
        for name, spec in raw.items():
            if not isinstance(spec, Mapping) or not isinstance(spec.get("choices"), list):
                self.add(f"Choice list {name!r} needs a 'choices' list.")
                continue
            unknown = set(spec) - {"choices", "missing", "ordered"}
            for key in sorted(unknown):
                self.add(f"Choice list {name!r} has an unknown key {key!r}.")
            ordered = bool(spec.get("ordered", False))
            choices = self.build_choices(name, spec.get("choices") or [], False)
            missing = self.build_choices(name, spec.get("missing") or [], True)
            codes = [c.code for c in choices + missing]
            for code in sorted({c for c in codes if codes.count(c) > 1}):
                self.add(f"Choice list {name!r} has the code {code!r} twice.")
            if ordered:
                if not all(re.fullmatch(r"-?\d+", c.code) for c in choices):
                    self.add(f"Choice list {name!r} is ordered, so its codes must be integers.")
                elif len(choices) < 3:
                    self.add(f"Choice list {name!r} is ordered but has fewer than 3 choices.")
            if len(choices) < 2:
                self.add(f"Choice list {name!r} needs at least 2 choices.")
            out[str(name)] = ChoiceList(str(name), tuple(choices), tuple(missing), ordered)
        return out

    def build_choices(self, list_name: Any, raw: list, missing: bool) -> list[Choice]:
        out = []
        for entry in raw:
            if not isinstance(entry, Mapping) or "code" not in entry:
                self.add(f"Choice list {list_name!r} has a choice without a 'code'.")
                continue
            code = str(entry["code"])
            if not _CHOICE_CODE.match(code):
                self.add(f"Choice list {list_name!r} has code {code!r}, which contains a space "
                         "or a character XLSForm does not allow.")
            labels = self.texts({k: v for k, v in entry.items() if k != "code"},
                                f"Choice {code!r} of list {list_name!r}")
            out.append(Choice(code, labels, missing))
        return out

    def build_scales(self, raw: Any) -> dict[str, Scale]:
        if raw is None:
            return {}
        if not isinstance(raw, list):
            self.add("'scales' must be a list.")
            return {}
        out = {}
        for entry in raw:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
                self.add("Every scale needs an 'id', a 'label' and a 'domain'.")
                continue
            sid = entry["id"]
            if sid in out:
                self.add(f"Scale {sid!r} is defined twice.")
            domain = entry.get("domain")
            if domain not in DOMAINS:
                self.add(f"Scale {sid!r} has domain {domain!r}; use one of {', '.join(DOMAINS)}.")
            out[sid] = Scale(sid, self.texts(entry.get("label"), f"Scale {sid!r}"), str(domain))
        return out

    def build_items(
        self,
        raw: Any,
        section_ids: set[str],
        lists: Mapping[str, ChoiceList],
        scales: Mapping[str, Scale],
    ) -> list[Item]:
        if not isinstance(raw, list) or not raw:
            self.add("'items' must be a non-empty list.")
            return []
        out: list[Item] = []
        seen: set[str] = set()
        for entry in raw:
            item = self.build_item(entry, section_ids, lists, scales)
            if item is None:
                continue
            if item.id in seen:
                self.add(f"Item {item.id!r} is defined twice.")
                continue
            seen.add(item.id)
            out.append(item)
        retro_names = {it.retro_id for it in out if "retro" in it.waves}
        for clash in sorted(retro_names & seen):
            self.add(f"Item {clash!r} clashes with the retrospective column of another item.")
        return out

    def build_item(
        self,
        entry: Any,
        section_ids: set[str],
        lists: Mapping[str, ChoiceList],
        scales: Mapping[str, Scale],
    ) -> Item | None:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            self.add("Every item needs an 'id'.")
            return None
        iid = entry["id"]
        what = f"Item {iid!r}"
        n_before = len(self.problems)
        if not _ID.match(iid):
            self.add(f"{what} has an id that is not lower-case letters, digits and '_' "
                     "starting with a letter.")
        for key in sorted(set(entry) - _ITEM_KEYS, key=str):
            self.add(f"{what} has an unknown key {key!r}.")
        itype = entry.get("type")
        if itype not in ITEM_TYPES:
            self.add(f"{what} has type {itype!r}; use one of {', '.join(ITEM_TYPES)}.")
        section = entry.get("section")
        if section not in section_ids:
            self.add(f"{what} is in section {section!r}, which does not exist.")
        text = self.texts(entry.get("text"), what)
        waves = entry.get("waves")
        if not isinstance(waves, list) or not waves:
            self.add(f"{what} needs 'waves', a list from {', '.join(WAVES)}.")
            waves = []
        for wave in waves:
            if wave not in WAVES:
                self.add(f"{what} asks an unknown wave {wave!r}.")
        if "retro" in waves:
            if itype != "likert":
                self.add(f"{what} asks wave 'retro', which only Likert items can.")
            if "post" not in waves:
                self.add(f"{what} asks wave 'retro' but is not asked at 'post'.")
        choices = entry.get("choices")
        clist = None
        if itype in CHOICE_TYPES:
            if choices is None:
                self.add(f"{what} of type {itype} needs a 'choices' list.")
            elif choices not in lists:
                self.add(f"{what} refers to choice list {choices!r}, which does not exist.")
            else:
                clist = lists[choices]
                if itype == "likert" and not clist.ordered:
                    self.add(f"{what} is a Likert item but list {choices!r} is not ordered.")
        elif choices is not None:
            self.add(f"{what} of type {itype} cannot have a choice list.")
        scale = entry.get("scale")
        if scale is not None:
            if scale not in scales:
                self.add(f"{what} belongs to scale {scale!r}, which does not exist.")
            if itype != "likert":
                self.add(f"{what} belongs to a scale but is not a Likert item.")
        reverse = entry.get("reverse", False)
        if not isinstance(reverse, bool):
            self.add(f"{what} has reverse={reverse!r}; use true or false.")
            reverse = False
        if reverse and itype != "likert":
            self.add(f"{what} is reverse-keyed but only Likert items can be.")
        correct = entry.get("correct")
        if itype == "knowledge":
            if correct is None:
                self.add(f"{what} is a knowledge question without a 'correct' option.")
            elif clist is not None and str(correct) not in clist.codes:
                self.add(f"{what} is a knowledge question whose correct option {str(correct)!r} "
                         f"is not in list {choices!r}.")
        elif correct is not None:
            self.add(f"{what} has a 'correct' option but is not a knowledge question.")
        bounds = {}
        for key in ("min", "max"):
            value = entry.get(key)
            if value is not None:
                if itype != "number":
                    self.add(f"{what} has '{key}' but is not a number item.")
                elif not isinstance(value, int | float) or isinstance(value, bool):
                    self.add(f"{what} has a non-numeric '{key}'.")
                else:
                    bounds[key] = float(value)
        if "min" in bounds and "max" in bounds and bounds["min"] > bounds["max"]:
            self.add(f"{what} has min greater than max.")
        element = entry.get("element")
        if itype == "code":
            if element not in CODE_ELEMENTS:
                self.add(f"{what} is a code element and needs 'element', one of "
                         f"{', '.join(CODE_ELEMENTS)}.")
        elif element is not None:
            self.add(f"{what} has 'element' but is not a code item.")
        role = entry.get("role")
        if role is not None and role not in ROLES:
            self.add(f"{what} has role {role!r}; use one of {', '.join(ROLES)}.")
        part = entry.get("part")
        if part is not None and part not in PARTS:
            self.add(f"{what} has part {part!r}; use one of {', '.join(PARTS)}.")
        sensitivity = entry.get("sensitivity", "normal")
        if sensitivity not in SENSITIVITY:
            self.add(f"{what} has sensitivity {sensitivity!r}; use normal or high.")
        required = entry.get("required", itype != "text")
        if not isinstance(required, bool):
            self.add(f"{what} has required={required!r}; use true or false.")
            required = True
        hint = self.texts(entry["hint"], f"The hint of {what.lower()}") if "hint" in entry else {}
        if len(self.problems) > n_before:
            return Item(iid, str(itype), str(section), text, tuple(waves))
        return Item(
            id=iid,
            type=itype,
            section=section,
            text=text,
            waves=tuple(waves),
            choices=choices,
            scale=scale,
            reverse=reverse,
            correct=str(correct) if correct is not None else None,
            min=bounds.get("min"),
            max=bounds.get("max"),
            element=element,
            role=role,
            part=part,
            sensitivity=sensitivity,
            required=required,
            hint=hint,
        )

    def check_code(self, items: Iterable[Item]) -> None:
        code = [it for it in items if it.type == "code"]
        if not code:
            return
        kinds = sorted(it.element or "" for it in code)
        if len(code) != 6 or "day" not in kinds or "month" not in kinds:
            self.add(
                "The participant code needs six elements including a 'day' and a 'month' "
                f"(found: {', '.join(it.id for it in code)})."
            )
        waves = {it.waves for it in code}
        if len(waves) > 1:
            self.add("All participant code elements must be asked in the same waves.")

    def check_roles(self, items: Iterable[Item]) -> None:
        seen: dict[str, str] = {}
        for it in items:
            if it.role is None:
                continue
            if it.role in seen:
                self.add(f"Item {it.id!r} has role {it.role!r}, already taken by "
                         f"{seen[it.role]!r}.")
            seen[it.role] = it.id
            if it.type != "single_choice":
                self.add(f"Item {it.id!r} has a profile role but is not a single choice item.")
