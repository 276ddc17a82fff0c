"""Quality officers edit definitions in the application: YAML editor, errors by line, publish."""
import html
import re

from .factories import unique_name


def text(response):
    return html.unescape(response.data.decode())


def test_definitions_list_and_detail(as_user):
    client = as_user("qualite")
    page = text(client.get("/formulaires/"))
    assert "aggir" in page and "publiée" in page
    assert "Grille AGGIR" in text(client.get("/formulaires/aggir"))
    assert client.get("/formulaires/inconnu").status_code == 404


def test_clone_edit_with_errors_then_publish(as_user):
    client = as_user("qualite")
    code = "aggir_" + unique_name("").lower()
    response = client.post("/formulaires/aggir/cloner", data={"new_code": code})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/formulaires/{code}/brouillon")
    editor = text(client.get(f"/formulaires/{code}/brouillon"))
    source = re.search(r'<textarea[^>]*name="source"[^>]*>(.*?)</textarea>', editor, re.S).group(1)
    broken = source.replace("type: ordinal", "type: ordinale", 1)
    refused = client.post(f"/formulaires/{code}/brouillon", data={"source": broken})
    page = text(refused)
    assert refused.status_code == 422 and "rien n'a été enregistré" in page
    assert re.search(r"ligne \d+</a> — <code>sections\[0\]\.items\[1\]\.type</code>", page)
    assert "type: ordinale" in page  # the text typed is kept
    extra = source.replace("sections:\n", "sections:\n", 1).rstrip() + "\n"
    assert client.post(f"/formulaires/{code}/brouillon", data={"source": extra}).status_code == 302
    confirm = text(client.get(f"/formulaires/{code}/publier"))
    assert "Première publication" in confirm
    assert client.post(f"/formulaires/{code}/publier").status_code == 302
    assert "publiée" in text(client.get(f"/formulaires/{code}"))
    # editing the published version makes version 2 as a draft, then the diff is shown
    assert client.post(f"/formulaires/{code}/nouvelle-version").status_code == 302
    v2 = extra.replace("version: 1", "version: 2").replace("label: Cohérence — communication",
                                                            "label: Cohérence — communication verbale")
    assert client.post(f"/formulaires/{code}/brouillon", data={"source": v2}).status_code == 302
    diff = text(client.get(f"/formulaires/{code}/publier"))
    assert "Champ modifié :" in diff and "communication verbale" in diff


def test_readers_cannot_edit_definitions(as_user):
    client = as_user("soin.tilleuls")
    assert client.get("/formulaires/").status_code == 200
    assert client.post("/formulaires/aggir/nouvelle-version").status_code == 403
    assert client.get("/formulaires/aggir/brouillon").status_code == 403


def test_unreadable_yaml_is_an_error_with_its_line_never_a_500(as_user):
    client = as_user("qualite")
    response = client.post("/formulaires/aggir/brouillon", data={"source": "code: aggir\ntitle: [\n"})
    assert response.status_code == 422 and "YAML illisible" in text(response)
    assert "brouillon" not in text(client.get("/formulaires/aggir")).split("<tbody>")[1].split("</tbody>")[0]


def test_preview_of_a_draft_computes_without_saving(app, as_user):
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Evaluation

    client = as_user("qualite")
    code = "aggir_" + unique_name("").lower()
    client.post("/formulaires/aggir/cloner", data={"new_code": code})
    page = text(client.get(f"/formulaires/{code}/apercu"))
    assert "Aperçu du brouillon" in page and "Valider l'évaluation" not in page
    with app.app_context():
        before = db.session.execute(select(func.count()).select_from(Evaluation)).scalar_one()
    response = client.post(f"/formulaires/{code}/apercu/calcul", json={"answers": {"toilette_haut": "C", "toilette_bas": "C"}})
    assert response.status_code == 200 and response.json["computed"]["toilette"] == "C"
    assert client.post(f"/formulaires/{code}/apercu/calcul", json=[1]).status_code == 400
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Evaluation)).scalar_one() == before
    assert client.get("/formulaires/aggir/apercu").status_code == 404  # no draft of aggir itself


def test_the_builder_adds_orders_conditions_and_edits_fields_of_the_same_draft(app, as_user):
    from app.extensions import db
    from app.services import forms

    client = as_user("qualite")
    code = "habitudes_" + unique_name("").lower()
    client.post("/formulaires/habitudes_de_vie/cloner", data={"new_code": code})
    url = f"/formulaires/{code}/constructeur"
    assert "Constructeur" in client.get(url).data.decode()

    def draft():
        with app.app_context():
            return next(v for v in forms.versions(db.session, code) if v.status == "draft").data

    items = lambda: [i["code"] for i in draft()["sections"][0]["items"]]  # noqa: E731
    post = lambda **data: client.post(url, data=data)  # noqa: E731
    with app.app_context():  # a draft whose YAML opens with its sources, as a quality officer wrote it
        source = next(v for v in forms.versions(db.session, code) if v.status == "draft").source_text
    client.post(f"/formulaires/{code}/brouillon", data={"source": "# Source : projet d'établissement 2026\n" + source})
    assert post(op="add_field", section="0", type="single_choice", code="aide_lever", label="Aide au lever").status_code == 302
    index = items().index("aide_lever")
    assert post(op="up", section="0", index=str(index)).status_code == 302
    assert items().index("aide_lever") == index - 1
    index -= 1
    assert post(op="update", section="0", index=str(index), label="Aide pour se lever", help="Le matin",
                required="1", required_message="Dites si une aide est nécessaire.",
                options="aucune: Aucune\nstimulation: Stimulation\npartielle: Aide partielle",
                cond_field="sieste", cond_op="==", cond_value="oui").status_code == 302
    field = draft()["sections"][0]["items"][index]
    assert field == {"code": "aide_lever", "label": "Aide pour se lever", "type": "single_choice", "help": "Le matin",
                     "required": True, "required_message": "Dites si une aide est nécessaire.", "show_if": "sieste == True",
                     "options": [{"code": "aucune", "label": "Aucune"}, {"code": "stimulation", "label": "Stimulation"},
                                 {"code": "partielle", "label": "Aide partielle"}]}
    yaml = client.get(f"/formulaires/{code}/brouillon").data.decode()
    assert "aide_lever" in yaml and "sieste == True" in yaml  # the YAML editor shows the same draft
    assert "# Source : projet d'établissement 2026" in html.unescape(yaml)  # the header comments are kept
    refused = post(op="add_field", section="0", type="text", code="lever", label="Doublon")  # code taken
    assert refused.status_code == 422 and "lever" in refused.data.decode()
    assert items().count("lever") == 1
    bad_condition = post(op="update", section="0", index=str(index), label="x", show_if="inconnu == 1")
    assert bad_condition.status_code == 422 and "inconnu" in bad_condition.data.decode()
    assert post(op="remove", section="0", index=str(index)).status_code == 302 and "aide_lever" not in items()
    assert post(op="add_section", section="0", code="sommeil", title="Sommeil").status_code == 302
    assert draft()["sections"][-1]["title"] == "Sommeil"
    assert post(op="move", section="9", index="0").status_code == 422
    assert as_user("educ.sources").get(url).status_code == 403


def test_the_submissions_column_counts_every_submission_for_who_reads_no_dossier(app, as_user):
    import re

    from app.extensions import db
    from app.services import forms

    from . import factories as f
    from .test_evaluations import profile

    with app.app_context():
        forms.save_evaluation(db.session, usager=f.gen_usager(), code="aggir", version=None, status="validated",
                              answers=profile({}))
        total = forms.get(db.session, "aggir")
        version = total.version
    pages = {user: as_user(user).get("/formulaires/").data.decode() for user in ("qualite", "direction")}
    counts = {user: re.search(r'>aggir</a>.*?<td>' + str(version) + r'</td>.*?<td>(\d+)</td></tr>', page, re.S).group(1)
              for user, page in pages.items()}
    assert counts["qualite"] == counts["direction"] and int(counts["qualite"]) >= 1
