"""Tests for evaluation.matching: tiered SGIC matching, participant table, attrition checks.

All data are synthetic and built here. A code is written as a short string, one character per
element ("?" = missing element); each character becomes an opaque hex "pseudonym" per element,
as the privacy step would produce.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.errors import AnalysisError, EvaluationError
from evaluation.matching import (
    DEFAULT_ELEMENTS,
    UNMATCHED_CAUSES,
    compare_matched_unmatched,
    find_collisions,
    match_waves,
    match_workshop,
)

ELEMENTS = DEFAULT_ELEMENTS


def _pseudo(element: str, char: str) -> str:
    return hashlib.sha256(f"{element}:{char}".encode()).hexdigest()[:16]


def wave(rows, elements=ELEMENTS) -> pd.DataFrame:
    """rows: (record_id, code, country, gender, sector); code None = no code at all."""
    data: dict[str, list] = {"record_id": [], "country": [], "gender": [], "sector": []}
    for el in elements:
        data[el] = []
    for rid, code, country, gender, sector in rows:
        data["record_id"].append(rid)
        data["country"].append(country)
        data["gender"].append(gender)
        data["sector"].append(sector)
        code = code if code is not None else "?" * len(elements)
        assert len(code) == len(elements)
        for el, ch in zip(elements, code, strict=True):
            data[el].append(None if ch == "?" else _pseudo(el, ch))
    return pd.DataFrame(data)


def person(rid, code, country="KZ", gender="f", sector="gov"):
    return (rid, code, country, gender, sector)


def pairs_of(m) -> list[tuple[str, str, str, int]]:
    return [tuple(r) for r in m.pairs.itertuples(index=False, name=None)]


def causes_of(m) -> dict[str, str]:
    return dict(zip(m.unmatched["record_id"], m.unmatched["cause"], strict=True))


# --------------------------------------------------------------------------------- match_waves


def test_exact_match_is_tier_1():
    pre = wave([person("a1", "ABCDEF"), person("a2", "GHIJKL")])
    post = wave([person("b2", "GHIJKL"), person("b1", "ABCDEF")])
    m = match_waves(pre, post)
    assert pairs_of(m) == [("a1", "b1", "1", 0), ("a2", "b2", "1", 0)]
    assert m.unmatched.empty
    assert m.tier_counts() == {"1": 2, "2": 0}


def test_sgic_one_element_typo_matched_at_tier_2():
    # a1 and b1 differ only in the day element; each is the other's only near candidate.
    pre = wave([person("a1", "ABCDEF"), person("a2", "GHIJKL")])
    post = wave([person("b1", "ABXDEF"), person("b2", "GHIJKL")])
    m = match_waves(pre, post)
    assert pairs_of(m) == [("a1", "b1", "2", 1), ("a2", "b2", "1", 0)]


def test_typo_not_matched_when_covariates_disagree():
    pre = wave([person("a1", "ABCDEF", country="KZ")])
    post = wave([person("b1", "ABXDEF", country="KG")])
    m = match_waves(pre, post)
    assert m.pairs.empty
    assert causes_of(m) == {"a1": "no counterpart", "b1": "no counterpart"}


def test_typo_matched_when_a_covariate_is_missing_on_one_side():
    pre = wave([person("a1", "ABCDEF", sector=None)])
    post = wave([person("b1", "ABXDEF", sector="cso")])
    assert pairs_of(match_waves(pre, post)) == [("a1", "b1", "2", 1)]


def test_exact_match_is_not_gated_by_covariates():
    # R-ID-03 gates tier 2 only.
    pre = wave([person("a1", "ABCDEF", gender="f")])
    post = wave([person("b1", "ABCDEF", gender="m")])
    assert pairs_of(match_waves(pre, post)) == [("a1", "b1", "1", 0)]


def test_sgic_ambiguous_tie_is_never_matched():
    # b1 and b2 are both one element away from a1: a tie, so nothing is linked.
    pre = wave([person("a1", "ABCDEF")])
    post = wave([person("b1", "ABCDEX"), person("b2", "ABCDEY")])
    m = match_waves(pre, post)
    assert m.pairs.empty
    assert causes_of(m) == {"a1": "ambiguous", "b1": "ambiguous", "b2": "ambiguous"}


def test_tie_on_the_other_side_is_ambiguous_too():
    # a1 is unique best for nobody: b1 sees a1 and a2 at distance 1.
    pre = wave([person("a1", "ABCDEX"), person("a2", "ABCDEY"), person("a3", "MNOPQR")])
    post = wave([person("b1", "ABCDEF"), person("b3", "MNOPQR")])
    m = match_waves(pre, post)
    assert pairs_of(m) == [("a3", "b3", "1", 0)]
    assert causes_of(m) == {"a1": "ambiguous", "a2": "ambiguous", "b1": "ambiguous"}


def test_tie_is_not_resolved_by_covariates():
    # Only b1 agrees on country, but the codes tie: conservative, no link.
    pre = wave([person("a1", "ABCDEF", country="KZ")])
    post = wave([person("b1", "ABCDEX", country="KZ"), person("b2", "ABCDEY", country="TJ")])
    assert match_waves(pre, post).pairs.empty


def test_exact_pair_removes_candidate_before_tier_2():
    # b1 is taken at tier 1 by a1, so a2 (one away from b1 and b2) is unique best of b2 only
    # once tier 1 has run: "among records not matched in tier 1".
    pre = wave([person("a1", "ABCDEF"), person("a2", "ABCDEX")])
    post = wave([person("b1", "ABCDEF"), person("b2", "ABCDYX")])
    m = match_waves(pre, post)
    assert pairs_of(m) == [("a1", "b1", "1", 0), ("a2", "b2", "2", 1)]


def test_two_differences_need_max_mismatch_2():
    pre = wave([person("a1", "ABCDEF")])
    post = wave([person("b1", "ABXYEF")])
    default = match_waves(pre, post)
    assert default.pairs.empty
    assert causes_of(default) == {"a1": "no counterpart", "b1": "no counterpart"}
    loose = match_waves(pre, post, max_mismatch=2)
    assert pairs_of(loose) == [("a1", "b1", "2b", 2)]
    assert loose.tier_counts() == {"1": 0, "2": 0, "2b": 1}


def test_max_mismatch_0_is_exact_only():
    pre = wave([person("a1", "ABCDEF"), person("a2", "GHIJKL")])
    post = wave([person("b1", "ABXDEF"), person("b2", "GHIJKL")])
    m = match_waves(pre, post, max_mismatch=0)
    assert pairs_of(m) == [("a2", "b2", "1", 0)]
    assert m.tier_counts() == {"1": 1}


def test_ambiguity_at_tier_2_is_not_resolved_at_tier_2b():
    # a1 ties between b1 and b2 at distance 1; b3 at distance 2 must not be taken instead.
    pre = wave([person("a1", "ABCDEF")])
    post = wave([person("b1", "ABCDEX"), person("b2", "ABCDEY"), person("b3", "ABCDZZ")])
    m = match_waves(pre, post, max_mismatch=2)
    assert m.pairs.empty
    assert causes_of(m)["a1"] == "ambiguous"


def test_collision_excluded_from_pairing_and_counted():
    # Two different post submissions share the complete code of a1: collision (R-ID-05).
    pre = wave([person("a1", "ABCDEF"), person("a2", "GHIJKL")])
    post = wave(
        [
            person("b1", "ABCDEF", gender="f"),
            person("b2", "ABCDEF", gender="m"),
            person("b3", "ABCDEX"),  # one from a1: must not be linked in place of b1/b2
            person("b4", "GHIJKL"),
        ]
    )
    found = find_collisions(post)
    assert found["record_id"].tolist() == ["b1", "b2"]
    assert found["collision_group"].tolist() == [1, 1]
    assert found["group_size"].tolist() == [2, 2]
    assert not any(c.startswith("pid_code") for c in found.columns)  # no pseudonym output
    m = match_waves(pre, post)
    assert pairs_of(m) == [("a2", "b4", "1", 0)]
    assert causes_of(m) == {
        "a1": "ambiguous",
        "b1": "collision",
        "b2": "collision",
        # b3's nearest record a1 is closer to b1/b2 (distance 0) than to b3: b3 is not part of
        # that tie, it simply has no counterpart of its own.
        "b3": "no counterpart",
    }


def test_collision_in_the_earlier_wave():
    pre = wave([person("a1", "ABCDEF"), person("a2", "ABCDEF")])
    post = wave([person("b1", "ABCDEF")])
    m = match_waves(pre, post)
    assert m.pairs.empty
    assert causes_of(m) == {"a1": "collision", "a2": "collision", "b1": "ambiguous"}


def test_find_collisions_ignores_incomplete_codes_and_numbers_groups():
    w = wave(
        [
            person("r5", "ZZZZZZ"),
            person("r1", "ABCDE?"),
            person("r2", "ABCDE?"),  # same partial code: not a collision (not complete)
            person("r4", "ZZZZZZ"),
            person("r3", "YYYYYY"),
            person("r0", "YYYYYY"),
            person("r6", "YYYYYY"),
        ]
    )
    found = find_collisions(w)
    assert found.to_dict("list") == {
        "record_id": ["r0", "r3", "r6", "r4", "r5"],
        "collision_group": [1, 1, 1, 2, 2],
        "group_size": [3, 3, 3, 2, 2],
    }
    assert find_collisions(wave([person("x", "ABCDEF")])).empty


def test_missing_code_is_no_code():
    pre = wave([person("a1", None), person("a2", "ABCDEF")])
    post = wave([person("b1", None), person("b2", "ABCDEF")])
    m = match_waves(pre, post)
    assert pairs_of(m) == [("a2", "b2", "1", 0)]
    assert causes_of(m) == {"a1": "no code", "b1": "no code"}


def test_blank_and_nan_elements_count_as_missing():
    pre = wave([person("a1", "ABCDEF")])
    post = wave([person("b1", "ABCDEF")])
    post.loc[0, list(ELEMENTS)] = ["  ", np.nan, None, "", pd.NA, np.nan]
    assert causes_of(match_waves(pre, post))["b1"] == "no code"


def test_one_missing_element_counts_as_one_difference():
    # Decision: a missing element is a differing element (never agreeing). One blank with the
    # other five equal is linked at tier 2; two blanks exceed max_mismatch=1 -> "no code".
    pre = wave([person("a1", "ABCDEF"), person("a2", "GHIJKL")])
    post = wave([person("b1", "AB?DEF"), person("b2", "G??JKL")])
    m = match_waves(pre, post)
    assert pairs_of(m) == [("a1", "b1", "2", 1)]
    assert causes_of(m) == {"a2": "no counterpart", "b2": "no code"}
    # With max_mismatch=2, b2 is usable and links at tier 2b.
    assert ("a2", "b2", "2b", 2) in pairs_of(match_waves(pre, post, max_mismatch=2))
    # Strict option: only complete codes take part at all.
    strict = match_waves(pre, post, missing_as_mismatch=False)
    assert strict.pairs.empty
    assert causes_of(strict)["b1"] == "no code"


def test_two_partial_codes_missing_the_same_element_do_not_match():
    # Missing never agrees with missing: distance 1 but both blanks -> not tier 1; tier 2 link
    # is allowed because the other five agree (one difference).
    pre = wave([person("a1", "AB?DEF")])
    post = wave([person("b1", "AB?DEF")])
    assert pairs_of(match_waves(pre, post)) == [("a1", "b1", "2", 1)]
    assert match_waves(pre, post, max_mismatch=0).unmatched["cause"].tolist() == [
        "no code",
        "no code",
    ]


def test_element_columns_are_configurable():
    els = ("c1", "c2", "c3", "c4")
    pre = wave([person("a1", "ABCD")], elements=els)
    post = wave([person("b1", "ABCX")], elements=els)
    assert pairs_of(match_waves(pre, post, elements=els)) == [("a1", "b1", "2", 1)]
    with pytest.raises(AnalysisError, match="missing"):
        match_waves(pre, post)  # the default columns do not exist here


def test_match_waves_input_errors():
    pre = wave([person("a1", "ABCDEF"), person("a1", "GHIJKL")])
    post = wave([person("b1", "ABCDEF")])
    with pytest.raises(AnalysisError, match="more than once"):
        match_waves(pre, post)
    ok = wave([person("a1", "ABCDEF")])
    with pytest.raises(AnalysisError, match="max_mismatch"):
        match_waves(ok, post, max_mismatch=3)
    with pytest.raises(AnalysisError, match="two different names"):
        match_waves(ok, post, wave_a="pre", wave_b="pre")
    with pytest.raises(AnalysisError, match="'country'"):
        match_waves(ok, post.drop(columns="country"))
    no_id = ok.copy()
    no_id.loc[0, "record_id"] = None
    with pytest.raises(EvaluationError, match="no record_id"):
        match_waves(no_id, post)


def test_error_messages_carry_no_pseudonym():
    pre = wave([person("a1", "ABCDEF"), person("a1", "ABCDEF")])
    with pytest.raises(AnalysisError) as info:
        match_waves(pre, wave([person("b1", "ABCDEF")]))
    assert _pseudo(ELEMENTS[0], "A") not in str(info.value)


# ------------------------------------------------------------------------------ match_workshop


def test_post_only_respondent_gets_own_participant_row():
    pre = wave([person("a1", "ABCDEF")])
    post = wave([person("b1", "ABCDEF"), person("b2", "GHIJKL")])
    r = match_workshop({"pre": pre, "post": post})
    p = r.participants
    assert p["participant_key"].tolist() == ["P001", "P002"]
    assert p["record_id_pre"].tolist() == ["a1", None]
    assert p["record_id_post"].tolist() == ["b1", "b2"]
    assert p["record_id_followup"].tolist() == [None, None]
    assert p["tier_pre_post"].tolist() == ["1", None]


def test_followup_linked_via_post_when_no_pre():
    pre = wave([person("a1", "ABCDEF")])
    post = wave([person("b1", "ABCDEF"), person("b2", "GHIJKL")])
    fu = wave([person("c1", "ABCDEF"), person("c2", "GHIJKX")])  # c2: typo vs b2
    r = match_workshop({"pre": pre, "post": post, "followup": fu})
    p = r.participants.set_index("participant_key")
    assert p.loc["P001"].tolist() == ["a1", "b1", "c1", "1", "1", None]
    assert p.loc["P002"].tolist() == [None, "b2", "c2", None, None, "2"]
    assert list(r.wave_matches) == [("pre", "post"), ("pre", "followup"), ("post", "followup")]
    # The post-followup match only sees records without a pre link.
    assert r.wave_matches[("post", "followup")].n_a == 1


def test_pre_participant_never_gets_followup_through_post():
    # a1-b1 linked; a1-c1 differ in 2 elements (not linked); b1-c1 exact. Chains are not
    # followed: c1 stays a follow-up-only participant.
    pre = wave([person("a1", "ABCDEF")])
    post = wave([person("b1", "ABCDEX")])
    fu = wave([person("c1", "ABCDYX")])
    r = match_workshop({"pre": pre, "post": post, "followup": fu})
    assert r.participants["record_id_followup"].tolist() == [None, "c1"]
    assert r.participants["record_id_pre"].tolist() == ["a1", None]


def test_only_some_waves_and_unknown_wave():
    r = match_workshop({"post": wave([person("b1", "ABCDEF")])})
    assert r.participants.columns.tolist()[:4] == [
        "participant_key",
        "record_id_pre",
        "record_id_post",
        "record_id_followup",
    ]
    s = r.summary()
    assert s.match_rate_pre_post is None and s.match_rate_pre_followup is None
    assert s.matched.empty
    with pytest.raises(AnalysisError, match="Unknown wave"):
        match_workshop({"retro": wave([person("b1", "ABCDEF")])})
    with pytest.raises(AnalysisError, match="No survey wave"):
        match_workshop({})


def _ten_people():
    """The hand-built 10-person workshop used by the summary test.

    People P1..P10 (codes differ in all six elements between people):
      P1, P2      pre, post, followup, exact codes
      P3          pre, post exact; followup with one element left blank (tier 2)
      P4, P5      same code by accident: collide in every wave
      P6          pre; post with one typo (tier 2); no followup
      P7          pre; post with two typos (not linked); followup exact
      P8          pre with no code at all; post exact (cannot link)
      P9          pre only
      P10         no pre; post and followup exact (linked via post)
    """
    cov = {
        "1": ("KZ", "f", "gov"), "2": ("KG", "m", "cso"), "3": ("TJ", "f", "gov"),
        "4": ("TM", "m", "gov"), "5": ("UZ", "f", "cso"), "6": ("KZ", "m", "cso"),
        "7": ("KG", "f", "gov"), "8": ("TJ", "m", "cso"), "9": ("UZ", "m", "gov"),
        "10": ("TM", "f", "cso"),
    }  # fmt: skip
    code = {
        "1": "AAAAAA", "2": "BBBBBB", "3": "CCCCCC", "4": "DDDDDD", "5": "DDDDDD",
        "6": "FFFFFF", "7": "GGGGGG", "8": "HHHHHH", "9": "IIIIII", "10": "JJJJJJ",
    }  # fmt: skip

    def rec(rid, who, c=None, blank=False):
        return (rid, None if blank else (c or code[who]), *cov[who])

    pre = wave(
        [rec(f"pre0{i}", str(i)) for i in range(1, 8)]
        + [rec("pre08", "8", blank=True), rec("pre09", "9")]
    )
    post = wave(
        [rec(f"post0{i}", str(i)) for i in range(1, 6)]
        + [
            rec("post06", "6", "FFFFFX"),
            rec("post07", "7", "GGGGXX"),
            rec("post08", "8"),
            rec("post10", "10"),
        ]
    )
    fu = wave(
        [
            rec("fu01", "1"),
            rec("fu02", "2"),
            rec("fu03", "3", "CCC?CC"),
            rec("fu04", "4"),
            rec("fu05", "5"),
            rec("fu07", "7"),
            rec("fu10", "10"),
        ]
    )
    return {"pre": pre, "post": post, "followup": fu}


def test_summary_on_hand_built_ten_person_example():
    r = match_workshop(_ten_people())
    s = r.summary()
    # N per wave: pre01..pre09 = 9; post01..post08 + post10 = 9; fu01-05, fu07, fu10 = 7.
    assert s.n_per_wave == {"pre": 9, "post": 9, "followup": 7}
    # pre-post: tier 1 = P1, P2, P3 (3); tier 2 = P6 (1). P4/P5 collide, P7 two typos,
    # P8 no pre code, P9 no post.
    # pre-followup: tier 1 = P1, P2, P7 (3); tier 2 = P3, one blank element (1).
    # post-followup (only records without a pre link: post04,05,07,08,10 / fu04,05,10):
    # tier 1 = P10 (1).
    matched = {(r_.wave_a, r_.wave_b, r_.tier): r_.n for r_ in s.matched.itertuples()}
    assert matched == {
        ("pre", "post", "1"): 3, ("pre", "post", "2"): 1,
        ("pre", "followup", "1"): 3, ("pre", "followup", "2"): 1,
        ("post", "followup", "1"): 1, ("post", "followup", "2"): 0,
    }  # fmt: skip
    un = s.unmatched.set_index(["wave_a", "wave_b", "wave", "cause"])["n"].to_dict()
    # pre-post, pre side (5 = 9 - 4): pre04, pre05 collision; pre08 no code;
    # pre07 (post07 is 2 away) and pre09 no counterpart; none ambiguous.
    assert un[("pre", "post", "pre", "collision")] == 2
    assert un[("pre", "post", "pre", "no code")] == 1
    assert un[("pre", "post", "pre", "no counterpart")] == 2
    assert un[("pre", "post", "pre", "ambiguous")] == 0
    # pre-post, post side (5 = 9 - 4): post04, post05 collision; post07, post08, post10
    # no counterpart.
    assert un[("pre", "post", "post", "collision")] == 2
    assert un[("pre", "post", "post", "no counterpart")] == 3
    assert un[("pre", "post", "post", "no code")] == 0
    # pre-followup: pre side 5 = pre04, pre05 collision, pre08 no code, pre06 and pre09
    # no counterpart; followup side 3 = fu04, fu05 collision, fu10 no counterpart.
    assert un[("pre", "followup", "pre", "no counterpart")] == 2
    assert un[("pre", "followup", "followup", "collision")] == 2
    assert un[("pre", "followup", "followup", "no counterpart")] == 1
    # post-followup: post side 4 = post04, post05 collision + post07, post08 no counterpart;
    # followup side 2 = fu04, fu05 collision.
    assert un[("post", "followup", "post", "collision")] == 2
    assert un[("post", "followup", "post", "no counterpart")] == 2
    assert un[("post", "followup", "followup", "collision")] == 2
    assert un[("post", "followup", "followup", "no counterpart")] == 0
    # Match rates: pre->post = 4 linked / 9 pre; pre->followup = 4 / 9.
    assert s.match_rate_pre_post == pytest.approx(4 / 9)
    assert s.match_rate_pre_followup == pytest.approx(4 / 9)
    # Collisions: two records (P4, P5) in every wave.
    assert s.collisions == {"pre": 2, "post": 2, "followup": 2}
    # Participants: 9 pre rows + 5 post-first (post04, 05, 07, 08, 10) + 2 followup-only
    # (fu04, fu05) = 16.
    assert s.n_participants == 16
    p = r.participants.set_index("participant_key")
    assert p.loc["P003"].tolist() == ["pre03", "post03", "fu03", "1", "2", None]
    assert p.loc["P007"].tolist() == ["pre07", None, "fu07", None, "1", None]
    assert p.loc["P014"].tolist() == [None, "post10", "fu10", None, None, "1"]
    assert p.loc["P016"].tolist() == [None, None, "fu05", None, None, None]
    long = s.to_frame()
    assert set(long["measure"]) == {
        "n", "matched", "unmatched", "match_rate", "collisions", "participants",
    }  # fmt: skip


def test_every_record_in_exactly_one_participant_row():
    waves = _ten_people()
    p = match_workshop(waves).participants
    for name, frame in waves.items():
        col = p[f"record_id_{name}"].dropna()
        assert sorted(col) == sorted(frame["record_id"])


def test_participant_keys_are_opaque():
    waves = _ten_people()
    p = match_workshop(waves).participants
    assert p["participant_key"].str.fullmatch(r"P\d{3}").all()
    pseudonyms = set(pd.concat([w[list(ELEMENTS)] for w in waves.values()]).stack())
    assert not pseudonyms & set(p.to_numpy().ravel().tolist())


def test_shuffling_rows_does_not_change_the_result():
    waves = _ten_people()
    base = match_workshop(waves)
    for seed in range(5):
        rng = np.random.default_rng(seed)
        shuffled = {
            k: v.sample(frac=1, random_state=rng).reset_index(drop=True)[
                list(rng.permutation(v.columns))
            ]
            for k, v in waves.items()
        }
        other = match_workshop(shuffled)
        pd.testing.assert_frame_equal(base.participants, other.participants)
        pd.testing.assert_frame_equal(base.summary().to_frame(), other.summary().to_frame())
        for key, m in base.wave_matches.items():
            pd.testing.assert_frame_equal(m.pairs, other.wave_matches[key].pairs)
            pd.testing.assert_frame_equal(m.unmatched, other.wave_matches[key].unmatched)


def test_linked_ids_feed_compare():
    r = match_workshop(_ten_people())
    assert r.linked_ids("pre", "post") == {"pre01", "pre02", "pre03", "pre06"}
    assert r.linked_ids("pre", "followup") == {"pre01", "pre02", "pre03", "pre07"}
    with pytest.raises(AnalysisError):
        r.linked_ids("pre", "retro")


# ------------------------------------------------------------------- compare_matched_unmatched

# Lakens (2013), "Calculating and reporting effect sizes to facilitate cumulative science",
# Front. Psychol. 4:863, Table 1: two groups of n = 10, means 8.7 (SD 0.82) and 7.7 (SD 0.95),
# reported Cohen's d_s = 1.13 and Hedges' g_s = 1.08 (t(18) = 2.52). The scores below reproduce
# those summary statistics.
LAKENS_1 = [9, 7, 8, 9, 8, 9, 9, 10, 9, 9]  # mean 8.7, SS = 6.1, SD = 0.823
LAKENS_2 = [9, 6, 7, 8, 7, 9, 8, 8, 8, 7]  # mean 7.7, SS = 8.1, SD = 0.949


def _baseline(scores_m, scores_u, **covs):
    n_m, n_u = len(scores_m), len(scores_u)
    frame = pd.DataFrame(
        {
            "record_id": [f"m{i:02d}" for i in range(n_m)] + [f"u{i:02d}" for i in range(n_u)],
            "readiness": list(scores_m) + list(scores_u),
        }
    )
    for name, values in covs.items():
        frame[name] = values
    return frame, [f"m{i:02d}" for i in range(n_m)]


def test_smd_matches_lakens_2013():
    base, matched = _baseline(LAKENS_1, LAKENS_2)
    t = compare_matched_unmatched(base, matched, covariates=())
    row = t[t["variable"] == "readiness"].iloc[0]
    # Hand computation: mean difference 8.7 - 7.7 = 1.0; pooled variance (6.1 + 8.1) / 18 =
    # 0.78889; s_p = 0.88819; d = 1.0 / 0.88819 = 1.12588 (Lakens: 1.13).
    assert row["smd"] == pytest.approx(1.0 / math.sqrt(14.2 / 18), rel=1e-12)
    assert round(row["smd"], 2) == 1.13
    assert row["mean_matched"] == pytest.approx(8.7)
    assert row["mean_unmatched"] == pytest.approx(7.7)
    assert row["imbalance"] is True
    assert not row["suppressed"]
    # Hedges: d * (1 - 3 / (4 * 20 - 9)) = 1.12588 * 0.95775 = 1.07831 (Lakens: 1.08).
    g = compare_matched_unmatched(base, matched, covariates=(), small_sample_correction=True)
    assert round(g["smd"].iloc[-1], 2) == 1.08
    # Direction is matched minus unmatched.
    base2, matched2 = _baseline(LAKENS_2, LAKENS_1)
    swapped = compare_matched_unmatched(base2, matched2, covariates=())
    assert swapped["smd"].iloc[-1] == pytest.approx(-row["smd"])


def test_small_smd_is_not_flagged():
    base, matched = _baseline([1, 2, 3, 4, 5, 6], [1.5, 2.5, 3.5, 4.5, 5.5, 6.5])
    row = compare_matched_unmatched(base, matched, covariates=()).iloc[-1]
    # d = -0.5 / 1.8708 = -0.267 -> flagged; shift by 0.25 instead -> |d| = 0.134, not flagged.
    assert row["imbalance"] is True
    base, matched = _baseline([1, 2, 3, 4, 5, 6], [1.25, 2.25, 3.25, 4.25, 5.25, 6.25])
    row = compare_matched_unmatched(base, matched, covariates=()).iloc[-1]
    assert row["smd"] == pytest.approx(-0.25 / math.sqrt(3.5))
    assert row["imbalance"] is False


def _visible_counts(t):
    vals = pd.concat([t["n_matched"], t["n_unmatched"]])
    return [v for v in vals if not isinstance(v, str)]


def test_small_cells_are_suppressed_with_complementary_cells():
    # matched 18 = KG 6, KZ 6, TJ 6; unmatched 13 = KG 5, KZ 6, TJ 2.
    country = ["KG"] * 6 + ["KZ"] * 6 + ["TJ"] * 6 + ["KG"] * 5 + ["KZ"] * 6 + ["TJ"] * 2
    base, matched = _baseline([3.0] * 9 + [4.0] * 9, [3.0] * 7 + [4.0] * 6, country=country)
    t = compare_matched_unmatched(base, matched, covariates=["country"])
    rows = t[t["variable"] == "country"].set_index("category")
    # TJ unmatched = 2 < 5: primary; TJ matched hidden too (row rule: the TJ total is public).
    assert rows.loc["TJ", "n_unmatched"] == "<5" and rows.loc["TJ", "n_matched"] == "<5"
    # Matched column then has one hidden cell: the smallest shown (KG, 6; tie -> first) too.
    assert rows.loc["KG", "n_matched"] == "<5" and rows.loc["KG", "n_unmatched"] == "<5"
    assert rows.loc["KZ", "n_matched"] == 6 and rows.loc["KZ", "n_unmatched"] == 6
    assert rows.loc["KZ", "prop_matched"] == pytest.approx(6 / 18)
    assert rows.loc["KZ", "difference"] == pytest.approx(6 / 18 - 6 / 13)
    assert rows["suppressed"].tolist() == [True, False, True]
    assert (
        rows.loc[["KG", "TJ"], ["prop_matched", "prop_unmatched", "difference"]]
        .isna()
        .all(axis=None)
    )
    assert all(v >= 5 for v in _visible_counts(t))


def test_group_under_k_min_reveals_nothing():
    # Only 4 unmatched: no detail of that group (or of the complementary one) is published.
    base, matched = _baseline(
        [3.0] * 20, [1.0, 2.0, 2.0, 1.0], gender=["f"] * 10 + ["m"] * 10 + ["f", "m", "m", "m"]
    )
    t = compare_matched_unmatched(base, matched, covariates=["gender"])
    assert t["suppressed"].all()
    assert (t["n_unmatched"] == "<5").all()
    assert t[["prop_matched", "prop_unmatched", "difference", "smd"]].isna().all(axis=None)
    assert t["imbalance"].isna().all()
    assert _visible_counts(t) == []


def test_zero_and_missing_categories_and_k_min_setting():
    # 10 matched (sector gov 5, cso 5), 10 unmatched (gov 5, missing 5); cso unmatched = 0.
    sector = ["gov"] * 5 + ["cso"] * 5 + ["gov"] * 5 + [None] * 5
    base, matched = _baseline([2.0] * 10, [2.0] * 10, sector=sector)
    t = compare_matched_unmatched(base, matched, covariates=["sector"], k_min=5)
    rows = t[t["variable"] == "sector"].set_index("category")
    assert list(rows.index) == ["(missing)", "cso", "gov"]
    # A zero is disclosive too: cso unmatched 0 and (missing) matched 0 are hidden.
    assert rows.loc["cso", "n_unmatched"] == "<5"
    assert rows.loc["(missing)", "n_matched"] == "<5"
    assert all(v >= 5 for v in _visible_counts(t))
    t10 = compare_matched_unmatched(base, matched, covariates=["sector"], k_min=10)
    assert (t10.loc[t10["variable"] == "sector", "n_unmatched"] == "<10").all()
    assert t10["n_unmatched"].iloc[0] == 10  # the group itself has 10: shown
    assert all(v >= 10 for v in _visible_counts(t10))
    # Equal scores: SD 0 -> SMD undefined, shown as missing, not as a number.
    assert math.isnan(t.iloc[-1]["smd"])


def test_compare_input_errors():
    base, matched = _baseline([1.0] * 6, [2.0] * 6, country=["KZ"] * 12)
    with pytest.raises(AnalysisError, match="k_min"):
        compare_matched_unmatched(base, matched, covariates=["country"], k_min=2)
    with pytest.raises(AnalysisError, match="not in the baseline"):
        compare_matched_unmatched(base, [*matched, "zz"], covariates=["country"])
    with pytest.raises(AnalysisError, match="'sector'"):
        compare_matched_unmatched(base, matched, covariates=["sector"])
    bad = base.assign(readiness=["x"] * 12)
    with pytest.raises(AnalysisError, match="not numeric"):
        compare_matched_unmatched(bad, matched, covariates=["country"])


def test_compare_on_a_workshop_result():
    # End to end: ten-person example; only 4 of 9 pre records matched -> unmatched group 5,
    # matched group 4 < 5: everything about the matched group (and by complement) is hidden.
    waves = _ten_people()
    pre = waves["pre"].assign(readiness=[3, 4, 2, 5, 3, 4, 2, 3, 4])
    r = match_workshop(waves)
    t = compare_matched_unmatched(pre, r.linked_ids("pre", "post"))
    assert t["suppressed"].all()
    assert _visible_counts(t) == []


# ------------------------------------------------------------------------- property-based test

ALPHABET = ["a", "b", None]
ELS3 = ("e1", "e2", "e3", "e4")


@st.composite
def random_wave(draw, prefix):
    n = draw(st.integers(min_value=0, max_value=7))
    rows = []
    for i in range(n):
        code = [draw(st.sampled_from(ALPHABET)) for _ in ELS3]
        country = draw(st.sampled_from(["KZ", "KG", None]))
        row = {"record_id": f"{prefix}{i}", "country": country}
        rows.append(row | dict(zip(ELS3, code, strict=True)))
    return pd.DataFrame(rows, columns=["record_id", "country", *ELS3])


def _dist(x, y):
    return sum(1 for u, v in zip(x, y, strict=True) if u is None or v is None or u != v)


def _codes(frame):
    out = {}
    for row in frame.itertuples(index=False):
        values = (getattr(row, e) for e in ELS3)
        out[row.record_id] = tuple(None if pd.isna(v) else v for v in values)
    return out


@settings(derandomize=True, max_examples=200, deadline=None)
@given(
    a=random_wave("a"),
    b=random_wave("b"),
    max_mismatch=st.sampled_from([0, 1, 2]),
    perm_seed=st.integers(min_value=0, max_value=2**16),
)
def test_matching_properties(a, b, max_mismatch, perm_seed):
    m = match_waves(a, b, elements=ELS3, max_mismatch=max_mismatch, agree_on=["country"])
    ca, cb = _codes(a), _codes(b)
    country_a = dict(zip(a["record_id"], a["country"], strict=True))
    country_b = dict(zip(b["record_id"], b["country"], strict=True))
    pairs = m.pairs
    # Every record is either paired once or unmatched with one cause, never both.
    for side, ids, col in (("a", ca, "record_id_a"), ("b", cb, "record_id_b")):
        wave_name = m.wave_a if side == "a" else m.wave_b
        paired = pairs[col].tolist()
        assert len(paired) == len(set(paired))
        un = m.unmatched.loc[m.unmatched["wave"] == wave_name, "record_id"].tolist()
        assert len(un) == len(set(un))
        assert set(paired).isdisjoint(un)
        assert set(paired) | set(un) == set(ids)
    assert set(m.unmatched["cause"]) <= set(UNMATCHED_CAUSES)
    collided = {*find_collisions(a, ELS3)["record_id"], *find_collisions(b, ELS3)["record_id"]}

    def usable(code):
        return sum(v is None for v in code) <= max_mismatch

    tier_of_a = dict(zip(pairs["record_id_a"], pairs["n_mismatch"], strict=True))
    tier_of_b = dict(zip(pairs["record_id_b"], pairs["n_mismatch"], strict=True))
    for x, y, tier, k in pairs.itertuples(index=False, name=None):
        d = _dist(ca[x], cb[y])
        assert d == k <= max_mismatch
        assert tier == {0: "1", 1: "2", 2: "2b"}[k]
        if k == 0:
            assert ca[x] == cb[y] and None not in ca[x]
        else:
            cx, cy = country_a[x], country_b[y]
            assert pd.isna(cx) or pd.isna(cy) or cx == cy
        assert x not in collided and y not in collided
        # Unique mutual best among the usable records not linked at a lower tier: no other
        # record of either wave is as close (ties are never broken).
        for y2, code in cb.items():
            if y2 != y and usable(code) and tier_of_b.get(y2, 99) >= k:
                assert _dist(ca[x], code) > k
        for x2, code in ca.items():
            if x2 != x and usable(code) and tier_of_a.get(x2, 99) >= k:
                assert _dist(code, cb[y]) > k
    # Row order (and column order) does not matter.
    rng = np.random.default_rng(perm_seed)
    a2 = a.iloc[rng.permutation(len(a))].reset_index(drop=True)
    b2 = b.iloc[rng.permutation(len(b))][["country", *reversed(ELS3), "record_id"]]
    m2 = match_waves(a2, b2, elements=ELS3, max_mismatch=max_mismatch, agree_on=["country"])
    pd.testing.assert_frame_equal(m.pairs, m2.pairs)
    pd.testing.assert_frame_equal(m.unmatched, m2.unmatched)


@settings(derandomize=True, max_examples=60, deadline=None)
@given(
    pre=random_wave("a"),
    post=random_wave("b"),
    fu=random_wave("c"),
    perm_seed=st.integers(min_value=0, max_value=2**16),
)
def test_workshop_properties(pre, post, fu, perm_seed):
    waves = {"pre": pre, "post": post, "followup": fu}
    r = match_workshop(waves, elements=ELS3, agree_on=["country"])
    p = r.participants
    # Every submission sits in exactly one participant row; no empty rows; keys P001...
    for name, frame in waves.items():
        assert sorted(p[f"record_id_{name}"].dropna()) == sorted(frame["record_id"])
    ids = p[["record_id_pre", "record_id_post", "record_id_followup"]]
    assert ids.notna().any(axis=1).all()
    assert p["participant_key"].tolist() == [f"P{i:03d}" for i in range(1, len(p) + 1)]
    # A link's tier is given exactly when both of its records are.
    for a_, b_, tier in (
        ("pre", "post", "tier_pre_post"),
        ("pre", "followup", "tier_pre_followup"),
    ):
        both = p[f"record_id_{a_}"].notna() & p[f"record_id_{b_}"].notna()
        assert (p[tier].notna() == both).all()
    s = r.summary()
    if len(pre):
        assert s.match_rate_pre_post == len(r.linked_ids("pre", "post")) / len(pre)
    rng = np.random.default_rng(perm_seed)
    shuffled = {k: v.iloc[rng.permutation(len(v))] for k, v in waves.items()}
    r2 = match_workshop(shuffled, elements=ELS3, agree_on=["country"])
    pd.testing.assert_frame_equal(p, r2.participants)
    pd.testing.assert_frame_equal(s.to_frame(), r2.summary().to_frame())
