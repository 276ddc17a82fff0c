"""AGGIR: the GIR on every profile, against an independent implementation of CASF annexe 2-2."""
import itertools

import pytest

from app.domain import aggir

VARIABLES = ["coh", "ori", "toi", "hab", "ali", "eli", "tra", "din", "dex", "com"]

# Written again here from the legal text (CASF annexe 2-2), as the annexe lays it out: one line
# per group giving the C and B values of each variable, then the "sommation" rules. Independent
# of app.domain.aggir's data structures on purpose.
LEGAL = """
A C 2000 1200 40 40 60 100 800 200 0 0
A B 0 0 16 16 20 16 120 32 0 0
B C 1500 1200 40 40 60 100 800 -80 0 0
B B 320 120 16 16 0 16 120 -40 0 0
C C 0 0 40 40 60 160 1000 400 0 0
C B 0 0 16 16 20 20 200 40 0 0
D C 0 0 0 0 2000 400 2000 200 0 0
D B 0 0 0 0 200 200 200 0 0 0
E C 400 400 400 400 400 800 800 200 0 0
E B 0 0 100 100 100 100 100 0 0 0
F C 200 200 500 500 500 500 500 200 0 0
F B 100 100 100 100 100 100 100 0 0 0
G C 150 150 300 300 500 500 400 200 0 0
G B 0 0 200 200 200 200 200 100 0 0
H C 0 0 3000 3000 3000 3000 1000 1000 0 0
H B 0 0 2000 2000 2000 2000 2000 1000 0 0
"""
TABLE = {}
for line in LEGAL.strip().splitlines():
    group, letter, *values = line.split()
    TABLE[(group, letter)] = dict(zip(VARIABLES, map(int, values)))


def legal_gir(profile: str) -> int:
    def s(group):
        return sum(TABLE[(group, letter)][v] for v, letter in zip(VARIABLES, profile) if letter != "A")

    if s("A") >= 4380:
        rang = 1
    elif s("A") >= 4140:
        rang = 2
    elif s("A") >= 3390:
        rang = 3
    elif s("B") >= 2016:
        rang = 4
    elif s("C") >= 1700:
        rang = 5
    elif s("C") >= 1432:
        rang = 6
    elif s("D") >= 2400:
        rang = 7
    elif s("E") >= 1200:
        rang = 8
    elif s("F") >= 800:
        rang = 9
    elif s("G") >= 650:
        rang = 10
    elif s("H") >= 4000:
        rang = 11
    elif s("H") >= 2000:
        rang = 12
    else:
        rang = 13
    return {1: 1, 2: 2, 3: 2, 4: 2, 5: 2, 6: 2, 7: 2, 8: 3, 9: 3, 10: 4, 11: 4, 12: 5, 13: 6}[rang]


def test_gir_is_exact_on_every_profile_of_the_ten_variables():
    counts = {g: 0 for g in range(1, 7)}
    for letters in itertools.product("ABC", repeat=10):
        profile = "".join(letters)
        expected = legal_gir(profile)
        got = aggir.gir(dict(zip(aggir.DISCRIMINANT, letters))).gir
        assert got == expected, profile
        if profile.endswith("AA"):
            counts[got] += 1
    # the distribution over the 3^8 weighted profiles given by the reference
    assert counts == {1: 8, 2: 3208, 3: 2400, 4: 760, 5: 157, 6: 28}


@pytest.mark.parametrize("profile, expected_gir, rang", [
    ("CCCCCCCCCC", 1, 1), ("CCAAAAAAAA", 2, 4), ("AAAAACCAAA", 2, 7), ("AAACCAAAAA", 3, 9),
    ("AAAAAABAAA", 5, 12), ("AAAAAACAAA", 6, 13), ("AAAAAAAAAA", 6, 13),
])
def test_worked_cases_of_the_reference(profile, expected_gir, rang):
    result = aggir.gir(dict(zip(aggir.DISCRIMINANT, profile)))
    assert (result.gir, result.rang) == (expected_gir, rang)


@pytest.mark.parametrize("variable, subs, strict, expected", [
    ("toilette", "AA", True, "A"), ("toilette", "CC", True, "C"), ("toilette", "AC", True, "B"),
    ("habillage", "AAA", True, "A"), ("habillage", "CCC", True, "C"), ("habillage", "ACC", True, "B"),
    ("coherence", "AB", True, "B"), ("coherence", "AC", True, "C"), ("coherence", "BB", True, "B"),
    ("orientation", "CA", True, "C"), ("elimination", "BC", True, "C"),
    ("alimentation", "AC", True, "C"), ("alimentation", "AC", False, "B"), ("alimentation", "BC", False, "C"),
    ("alimentation", "CC", False, "C"), ("alimentation", "AB", False, "B"),
])
def test_sub_variables_combine_by_the_reference_rules(variable, subs, strict, expected):
    assert aggir.combine(variable, list(subs), alimentation_strict=strict) == expected


def test_every_sub_variable_combination_gives_a_letter_consistent_with_the_rules():
    for variable, subs in aggir.SUB_VARIABLES.items():
        for letters in itertools.product("ABC", repeat=len(subs)):
            letter = aggir.combine(variable, list(letters))
            if set(letters) == {"A"}:
                assert letter == "A"
            elif set(letters) == {"C"}:
                assert letter == "C"
            else:
                assert letter in ("B", "C")


def test_worked_sub_variable_example_gives_gir_4():
    answers = {"coherence_communication": "A", "coherence_comportement": "A", "orientation_temps": "B",
               "orientation_espace": "A", "toilette_haut": "A", "toilette_bas": "B", "habillage_haut": "A",
               "habillage_moyen": "A", "habillage_bas": "B", "alimentation_se_servir": "B",
               "alimentation_manger": "A", "elimination_urinaire": "A", "elimination_fecale": "A",
               "transferts": "A", "deplacements_interieurs": "A", "deplacements_exterieurs": "B",
               "communication_a_distance": "A"}
    computed, errors = aggir.evaluate(answers)
    assert errors == {}
    assert [computed[v] for v in aggir.DISCRIMINANT[:8]] == list("ABBBBAAA")
    assert computed["gir"] == 4


def test_partial_answers_compute_what_they_can():
    computed, errors = aggir.evaluate({"toilette_haut": "C", "toilette_bas": "C", "transferts": "B"})
    assert computed == {"toilette": "C", "transferts": "B"}
    assert "coherence" in errors["gir"]


def test_stch_rule():
    assert aggir.letter_from_adverbs(True, True, True, True) == "A"
    assert aggir.letter_from_adverbs(False, False, False, False) == "C"
    assert aggir.letter_from_adverbs(True, False, True, True) == "B"


def _adverbs(yes: int) -> dict:
    return {a: "oui" if i < yes else "non" for i, a in enumerate(aggir.ADVERBS)}


def test_each_sub_variable_derives_its_letter_from_the_four_adverbs():
    answers = {code: "A" for code in aggir.LEAVES}
    answers.pop("transferts")
    answers["transferts_stch"] = _adverbs(0)  # four "non": C
    answers.pop("toilette_haut")
    answers["toilette_haut_stch"] = _adverbs(3)  # one "non": B
    computed, errors = aggir.evaluate(answers)
    assert errors == {} and computed["transferts"] == "C" and computed["toilette"] == "B"
    assert computed["gir"] == aggir.gir({**{v: "A" for v in aggir.DISCRIMINANT}, "transferts": "C",
                                         "toilette": "B"}).gir
    partial = {**answers, "transferts_stch": {"spontanement": "oui"}}  # incomplete: the letter is needed
    assert "transferts" in aggir.evaluate(partial)[1]["gir"]


def test_a_letter_that_contradicts_its_adverbs_is_an_error_not_a_guess(app):
    answers = {code: "A" for code in aggir.LEAVES}
    answers["transferts_stch"] = _adverbs(0)
    with app.test_request_context("/"):
        computed, errors = aggir.evaluate(answers)
    assert "gir" not in computed and "transferts" in errors["gir"] and "discordants" in errors["gir"]
