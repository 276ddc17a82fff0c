"""Usager search through an index (pg_trgm on PostgreSQL, FTS5 trigram on SQLite): the same
results as the LIKE scan it replaces, the scope untouched, the index in step with the dossiers,
and the maintenance command that refreshes the planner's statistics."""
import datetime as dt
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services import usagers
from app.services.fake import make_nir
from app.services.rgpd import anonymise

from . import factories as f


@pytest.fixture(scope="module")
def people(app):
    with app.app_context():
        family = f.unique_name("ÉLOÏSE-D'AUBIGNÉ")
        birth = dt.date(1938, 2, 11)
        renee = f.gen_usager(nom_naissance=family, prenoms_naissance="Renée Ana", date_naissance=birth,
                             matricule_ins=make_nir("F", birth, "63113", 7), oid_ins="1.2.250.1.213.1.4.8",
                             nom_utilise="Qÿ")
        anais = f.gen_usager(nom_naissance=family, prenoms_naissance="Anaïs", admitted=False)
        elsewhere = f.gen_usager(f.SOURCES, nom_naissance=family, prenoms_naissance="Renée")
        return {"family": family, "renee": renee.id, "anais": anais.id, "elsewhere": elsewhere.id,
                "nir": renee.matricule_ins}


@contextmanager
def without_index():
    """The search as it was: LIKE over every row (SQLite: the switch; PostgreSQL: the planner
    forbidden to use any index, so the trigram index cannot answer)."""
    if db.engine.dialect.name == "sqlite":
        from flask import current_app

        current_app.config["SILLAGE_SEARCH_INDEX"] = False
        try:
            yield
        finally:
            current_app.config["SILLAGE_SEARCH_INDEX"] = True
    else:
        db.session.execute(text("SET LOCAL enable_bitmapscan = off"))
        db.session.execute(text("SET LOCAL enable_indexscan = off"))
        try:
            yield
        finally:
            db.session.rollback()


def found(q, **filters):
    return {u.id for u in usagers.search_usagers(db.session, q=q, page_size=100, **filters)[0]}


QUERIES = [
    "{family}", "{family_plain}", "{family_lower} renee", "RENÉE {family_plain}", "ana {family}",
    "{family_plain} an", "{family_plain} lo", "{family_plain} qy", "{family_plain} é", "{family_middle}", "{family_plain} nee",
    "\"{family_plain}\" 'renee'", "{family_plain} ana renee", "{family_plain} zzz", "{nir_part} {family_plain}",
    "{family_plain} %", "{family_plain} _",
]


@pytest.mark.parametrize("template", QUERIES)
def test_results_are_the_same_with_and_without_the_index(ctx, people, template):
    family = people["family"]
    plain = family.replace("É", "E").replace("Ï", "I")
    q = template.format(family=family, family_plain=plain, family_lower=plain.lower(),
                        family_middle=plain[3:-3], nir_part=people["nir"][3:9])
    with_index = found(q)
    with without_index():
        scanned = found(q)
    assert with_index == scanned
    assert with_index <= {people["renee"], people["anais"], people["elsewhere"]}


def test_accents_case_and_several_tokens_find_the_person(ctx, people):
    plain = people["family"].replace("É", "e").replace("Ï", "i").lower()
    assert found(f"{plain} RENÉE") == {people["renee"], people["elsewhere"]}
    assert found(f"{people['family']} anaïs") == {people["anais"]}
    assert found(f"{plain} QY") == {people["renee"]}  # a short token (below a trigram) still counts


def test_secretary_does_not_find_another_etablissements_usager(as_user, people):
    page = as_user("secretaire.tilleuls").get(f"/usagers/?q={people['family']} renee").data.decode()
    assert f'href="/dossier/{people["renee"]}"' in page
    assert f'href="/dossier/{people["elsewhere"]}"' not in page
    wide = as_user("direction").get(f"/usagers/?q={people['family']} renee").data.decode()
    assert f'href="/dossier/{people["elsewhere"]}"' in wide


def test_index_follows_create_update_and_anonymise(app, ctx):
    name = f.unique_name("INDEXE")
    usager = f.gen_usager(nom_naissance=name, prenoms_naissance="Gaspard")
    assert found(f"{name} gaspard") == {usager.id}
    renamed = f.unique_name("RENOMME")
    usagers.update_usager(db.session, usager, {"nom_naissance": renamed}, usager.version)
    assert found(name) == set() and found(f"{renamed} gaspard") == {usager.id}
    anonymise(db.session, usager, app.config["SILLAGE_DATA_DIR"], "test")
    db.session.commit()
    assert found(renamed, statut="archive") == set()
    if db.engine.dialect.name == "sqlite":  # the FTS5 table checked row by row against usager
        db.session.execute(text("INSERT INTO usager_fts(usager_fts, rank) VALUES ('integrity-check', 1)"))


def test_the_index_answers_substring_queries(ctx, people):
    if db.engine.dialect.name == "sqlite":
        query = usagers._matching(db.session, "eloise renee", [usagers.Usager.id])
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r) for r in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "VIRTUAL TABLE INDEX" in plan and "usager_fts" in plan, plan
        # many matches: the page walks the name index and only checks each row against the matches
        query = usagers._matching(db.session, "eloise", [usagers.Usager.id], walk=True) \
            .order_by(*usagers.NAME_ORDER).limit(25)
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r) for r in db.session.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "ix_usager_name_order" in plan and "TEMP B-TREE" not in plan, plan
    else:  # a small table is scanned anyway: the index must be usable, not necessarily chosen
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(r[0] for r in db.session.execute(
            text("EXPLAIN SELECT id FROM usager WHERE search_text LIKE '%eloise%'")))
        assert "ix_usager_search_trgm" in plan, plan
        # written at once: no pending list for every search to read whole (migration 0035)
        assert db.session.execute(text("SELECT reloptions FROM pg_class WHERE relname = 'ix_usager_search_trgm'")
                                  ).scalar() == ["fastupdate=off"]
        assert db.session.execute(text("SELECT gin_clean_pending_list('ix_usager_search_trgm'::regclass)")
                                  ).scalar() == 0


def test_maintenance_command_refreshes_statistics(app):
    result = app.test_cli_runner().invoke(args=["sillage", "maintenance"])
    assert result.exit_code == 0, result.output
    assert "ANALYZE" in result.output
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'usager'")).scalar() > 0
        else:
            assert db.session.execute(text(
                "SELECT last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname = 'usager'")).scalar()
        db.session.remove()


@pytest.mark.parametrize("cap", [2, 3, 100])
def test_beyond_the_cap_the_count_says_more_and_the_page_is_the_same(app, as_user, monkeypatch, cap):
    """Many matches: the count stops at COUNT_CAP + 1 and the page is read walking the name index;
    it holds what a full sort of every match gives, within the user's scope."""
    with app.app_context():
        family = f.unique_name("Capdeville")
        names = ["Zoé", "Anne", "Marc", "Léa", "Yves"]
        ids = [f.gen_usager(nom_naissance=family + suffix, prenoms_naissance=p).id
               for suffix, p in zip("BACAB", names)]  # Tilleuls
        f.gen_usager(f.SOURCES, nom_naissance=family + "A", prenoms_naissance="Ailleurs")
    monkeypatch.setattr(usagers, "COUNT_CAP", cap)
    with app.test_request_context():
        from flask import g

        from app.models import User
        from app.security.scope import scope_for_user

        g.sillage_scope = scope_for_user(db.session, db.session.query(User).filter_by(
            username="secretaire.tilleuls").one())
        rows, total = usagers.search_usagers(db.session, q=family, page_size=2)
        everything = sorted(db.session.query(usagers.Usager).filter(usagers.Usager.id.in_(ids)).all(),
                            key=lambda u: (u.nom_naissance, u.premier_prenom_naissance, u.id))
        assert [u.id for u in rows] == [u.id for u in everything[:2]]
        assert total == (5 if cap >= 5 else cap + 1)
        page2, _ = usagers.search_usagers(db.session, q=family, page=2, page_size=2)
        assert [u.id for u in page2] == ([u.id for u in everything[2:4]] if cap > 2 else [])
        db.session.remove()
    page = as_user("secretaire.tilleuls").get(f"/usagers/?q={family}").get_data(as_text=True)
    assert (f"Plus de {cap} usagers" in page) == (cap < 5)


def _search_statements(app, username, q, *, searched=True, page=1):
    """(results, total, [(statement, parameters)]) of `search_usagers` as `username`; `searched`:
    after a change of data, so that the search runs rather than its kept page."""
    from flask import g
    from sqlalchemy import event

    from app.models import User
    from app.security import stamp
    from app.security.scope import scope_for_user

    if searched:
        with app.app_context():
            stamp.move_data_version(db.session)
    seen = []
    listener = lambda _c, _cur, statement, parameters, _ctx, _many: seen.append((statement, parameters))  # noqa: E731
    with app.test_request_context():
        g.sillage_scope = scope_for_user(db.session, db.session.query(User).filter_by(username=username).one())
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rows, total = usagers.search_usagers(db.session, q=q, page=page)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        plans = {}
        if db.engine.dialect.name == "sqlite":
            for statement, params in seen:
                plans[statement] = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}",
                                                                           params).all()
        db.session.remove()
    return [u.id for u in rows], total, seen, plans


def test_a_one_etablissement_user_searches_from_her_places(app, people, monkeypatch):
    """Issue 20: when the text matches many people in the organisation, a secretary's search
    starts from the usagers of her établissement, each checked against the text index, instead
    of checking every match in the organisation against her scope (at 30,000 usagers that read
    all of them); the scope's own rule still applies. Few matches: from the matches, as before."""
    q = f"{people['family']} renee"
    monkeypatch.setattr(usagers, "_from_candidates", lambda *_args: True)  # as if the text matched many people
    ids, total, seen, plans = _search_statements(app, "secretaire.tilleuls", q)
    assert ids == [people["renee"]] and total == 1
    count = next(s for s, _p in seen if " ".join(s.split()).startswith("SELECT usager.id FROM"))  # the matches
    flat = " ".join(count.split())
    assert "scope_candidate_admission" in flat and "EXISTS (SELECT * FROM admission AS scope_admission" in flat
    if plans:
        plan = plans[count]
        parents = {row[0]: row[3] for row in plan}
        index = next(row for row in plan if "usager_fts" in row[3])
        assert parents.get(index[1], "").startswith("LIST SUBQUERY"), plan  # a list to check against
        assert any("SEARCH scope_candidate_admission USING" in row[3] for row in plan), plan
    monkeypatch.undo()
    ids, total, seen, plans = _search_statements(app, "secretaire.tilleuls", q)
    assert ids == [people["renee"]] and total == 1
    if plans:  # SQLite: three matches (fewer than her usagers), read from the index, checked against her scope
        assert not [s for s, _p in seen if "scope_candidate" in s and s.startswith("SELECT usager.id")]
        # her usagers counted only up to the number of matches, not all of them at each search
        counted = [" ".join(s.split()) for s, _p in seen if "scope_candidate" in s]
        assert counted and all(s.startswith("SELECT count(*)") and " LIMIT " in s for s in counted), counted
    ids, total, seen, _plans = _search_statements(app, "direction", q)
    assert set(ids) == {people["renee"], people["elsewhere"]}
    assert not [s for s, _p in seen if "scope_candidate" in s]  # the whole organisation: no candidates


def test_few_matches_are_searched_once_then_listed_by_id(app, people):
    """Issue 20: the matches' ids are read once (counted from them); when they are all known, the
    page is their rows in name order, read by id — not a second text search (on PostgreSQL it cost
    as much as the first). That statement still goes through the user's scope."""
    q = f"{people['family']} renee"
    ids, total, seen, _plans = _search_statements(app, "secretaire.tilleuls", q)
    assert ids == [people["renee"]] and total == 1
    flat = [" ".join(s.split()) for s, _p in seen]
    assert len([s for s in flat if s.startswith("SELECT usager.id FROM")]) == 1, flat  # the matches, once
    page = flat[-1]
    assert "search_text" not in page and "usager_fts" not in page, page
    assert "usager.id IN (" in page and "ORDER BY usager.nom_naissance" in page, page
    assert "FROM admission AS scope_admission WHERE scope_admission.usager_id = usager.id" in page, page
    # each row looked up by index (PER_ROW), not every admission of her places hashed
    assert re.search(r"scope_admission\.date_sortie >= \S+ LIMIT \S+ OFFSET", page), page


def test_a_search_asked_again_reads_only_its_page_until_the_data_moves(app, people):
    """Issue 20: the count and the page's ids are kept per scope, search and page until the data
    moves: the same search again (back from a dossier) reads the page's rows by id, through the
    scope and the read audit, whatever the number of matches. Another user, another page, or any
    change of data searches again."""
    q = f"{people['family']} renee"
    ids, total, seen, _plans = _search_statements(app, "secretaire.tilleuls", q)
    assert ids == [people["renee"]] and total == 1
    ids, total, again, _plans = _search_statements(app, "secretaire.tilleuls", q, searched=False)
    assert ids == [people["renee"]] and total == 1
    flat = [" ".join(s.split()) for s, _p in again]
    assert len(flat) < len(seen), flat
    assert not [s for s in flat if "usager_fts" in s or "search_text" in s], flat  # not searched again
    page = next(s for s in flat if s.startswith("SELECT usager.id, usager.nom_naissance"))
    assert "FROM admission AS scope_admission WHERE scope_admission.usager_id = usager.id" in page, page
    ids, total, other, _plans = _search_statements(app, "direction", q, searched=False)  # another scope
    assert set(ids) == {people["renee"], people["elsewhere"]} and total == 2
    assert [s for s, _p in other if "usager_fts" in s or "search_text" in s]
    ids, total, _other, _plans = _search_statements(app, "secretaire.sources", q, searched=False)  # elsewhere
    assert ids == [people["elsewhere"]] and total == 1
    ids, total, second, _plans = _search_statements(app, "secretaire.tilleuls", q, searched=False, page=2)
    assert ids == [] and total == 1 and [s for s, _p in second if "usager_fts" in s or "search_text" in s]
    with app.app_context():  # a change of data (here, her match archived) shows at once
        db.session.get(usagers.Usager, people["renee"]).archived_at = dt.datetime(2026, 1, 1)
        db.session.commit()
    try:
        ids, total, _seen, _plans = _search_statements(app, "secretaire.tilleuls", q, searched=False)
        assert ids == [] and total == 0
    finally:
        with app.app_context():
            db.session.get(usagers.Usager, people["renee"]).archived_at = None
            db.session.commit()


def test_a_text_matching_too_many_people_starts_from_her_places(app, monkeypatch):
    """Issue 20: a secretary's search weighs its two starts by counting the text's matches (up to
    MATCHES_CAP) and her usagers only up to that number; beyond the cap it starts from her places.
    Either way she finds the same people: her établissement's only. (PostgreSQL too: its planner
    guessed 200 people behind her places and started from 13,000 of them.)"""
    with app.app_context():
        family = f.unique_name("Largeville")
        mine = f.gen_usager(nom_naissance=family).id
        for _ in range(3):
            f.gen_usager(f.SOURCES, nom_naissance=family)
    ids, total, seen, _plans = _search_statements(app, "secretaire.tilleuls", family)
    assert ids == [mine] and total == 1
    assert not [s for s, _p in seen if "scope_candidate" in s and s.startswith("SELECT usager.id")]  # from the matches
    matches = next(" ".join(s.split()) for s, _p in seen if s.startswith("SELECT usager.id \nFROM"))
    assert "EXISTS (SELECT 1 FROM admission AS scope_admission" in matches, matches  # each checked by index
    monkeypatch.setattr(usagers, "MATCHES_CAP", 3)
    ids, total, seen, _plans = _search_statements(app, "secretaire.tilleuls", family)
    assert ids == [mine] and total == 1
    assert [s for s, _p in seen if "scope_candidate" in s and s.startswith("SELECT usager.id")]  # from her places
