"""Identity rules: INS matricule (NIR/NIA), RNIV statuses, FINESS, SIREN, contacts."""
import datetime as dt

from flask import Flask
from flask_babel import Babel
from hypothesis import given, strategies as st

from app.domain import identity
from app.domain.text import duplicate_key, fold, split_prenoms
from app.services.fake import COMMUNES, make_nir

BABEL_ONLY = Flask(__name__)
Babel(BABEL_ONLY)
BIRTH = dt.date(1984, 12, 3)
VALID_F = make_nir("F", BIRTH, "76451", 89)  # 2 84 12 76451 089 + key


def test_valid_nir_consistent_with_sex_and_birth_is_accepted(ctx):
    assert identity.check_nir(VALID_F, "F", BIRTH) is None
    assert identity.check_nir(" ".join([VALID_F[:1], VALID_F[1:3], VALID_F[3:]]), "F", BIRTH) is None


def test_nir_with_wrong_key_is_refused(ctx):
    bad = VALID_F[:-2] + f"{(int(VALID_F[-2:]) + 1) % 97:02d}"
    assert "clé" in identity.check_nir(bad, "F", BIRTH)


def test_nir_of_other_sex_is_refused(ctx):
    assert "sexe" in identity.check_nir(VALID_F, "M", BIRTH)


def test_nir_of_other_year_or_month_is_refused(ctx):
    assert "année" in identity.check_nir(VALID_F, "F", dt.date(1985, 12, 3))
    assert "mois" in identity.check_nir(VALID_F, "F", dt.date(1984, 11, 3))


def test_nir_with_unknown_birth_month_is_not_compared(ctx):
    body = "2842076451089"  # month 20: birth month unknown to the INSEE
    nir = body + f"{97 - int(body) % 97:02d}"
    assert identity.check_nir(nir, "F", BIRTH) is None


def test_corsican_nir_is_accepted(ctx):
    assert identity.check_nir("253072B07300470", "F", dt.date(1953, 7, 1)) is None


def test_too_short_nir_is_refused(ctx):
    assert identity.check_nir("1234", "M", BIRTH) is not None


@given(sexe=st.sampled_from("MF"), birth=st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31)),
       commune=st.sampled_from([c for c, _ in COMMUNES]), order=st.integers(1, 999))
def test_every_generated_nir_passes_and_fails_on_the_other_sex(sexe, birth, commune, order):
    with BABEL_ONLY.app_context():  # the rules need translations, not a database
        nir = make_nir(sexe, birth, commune, order)
        assert identity.check_nir(nir, sexe, birth) is None
        assert identity.check_nir(nir, "F" if sexe == "M" else "M", birth) is not None


def test_qualified_identity_needs_ins_and_verified_document(ctx):
    errors = identity.identity_status_errors({"statut_identite": "qualifiee"})
    assert set(errors) == {"matricule_ins", "ins_recupere_le", "piece_identite_type", "piece_identite_verifiee_le"}
    complete = {"statut_identite": "qualifiee", "matricule_ins": VALID_F, "oid_ins": identity.OID_NIR,
                "ins_recupere_le": dt.datetime(2025, 1, 1), "piece_identite_type": "cni",
                "piece_identite_verifiee_le": dt.date(2025, 1, 1)}
    assert identity.identity_status_errors(complete) == {}


def test_retrieved_identity_needs_ins_but_no_document(ctx):
    data = {"statut_identite": "recuperee", "matricule_ins": VALID_F, "oid_ins": identity.OID_NIR,
            "ins_recupere_le": dt.datetime(2025, 1, 1)}
    assert identity.identity_status_errors(data) == {}
    assert "piece_identite_type" in identity.identity_status_errors({**data, "statut_identite": "validee"})


def test_finess_key_is_checked(ctx):
    assert identity.check_finess("750712184") is None  # AP-HP
    assert identity.check_finess("750712185") is not None
    assert identity.check_finess("75071218") is not None


def test_siren_key_is_checked(ctx):
    assert identity.check_siren("775684764") is None
    assert identity.check_siren("775684765") is not None


def test_phone_numbers_are_stored_in_e164_and_shown_nationally(ctx):
    assert identity.normalize_phone("06 12 34 56 78") == ("+33612345678", None)
    assert identity.normalize_phone("12")[1] is not None
    assert identity.format_phone("+33612345678") == "06 12 34 56 78"


def test_email_is_normalised_or_refused(ctx):
    assert identity.normalize_email("Marie.Dupont@Exemple.FR")[0] == "Marie.Dupont@exemple.fr"
    assert identity.normalize_email("marie@")[1] is not None


def test_duplicate_key_ignores_accents_case_and_punctuation():
    birth = dt.date(2010, 3, 4)
    assert duplicate_key("Lefèvre", "Élodie", birth) == duplicate_key("LEFEVRE", "elodie", birth)
    assert fold("D'Aubigné-Écrin") == "d aubigne ecrin"
    assert split_prenoms("  Jean-Pierre  Marie ") == ["Jean-Pierre", "Marie"]

