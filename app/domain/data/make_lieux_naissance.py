"""Rebuild lieux_naissance.csv (see README.md beside this file) from its three sources.

    npm pack @etalab/decoupage-administratif@6.0.0 && tar xzf etalab-decoupage-administratif-6.0.0.tgz
    pip download --no-deps odoo14-addon-l10n-fr-cog==14.0.1.1.0 && unzip odoo14_addon_l10n_fr_cog-*.whl
    apt-get install iso-codes   # Debian 4.15.0: French country names
    python app/domain/data/make_lieux_naissance.py package/data/communes.json \
        odoo/addons/l10n_fr_cog/data/country.xml > app/domain/data/lieux_naissance.csv

Not run by the application: the CSV is the shipped data, this says how it was made.
"""
import csv
import gettext
import json
import re
import sys

KINDS = {"commune-actuelle": "C", "commune-deleguee": "D", "commune-associee": "A", "arrondissement-municipal": "M"}


def main(communes_json: str, cog_xml: str) -> None:
    out = csv.writer(sys.stdout, delimiter=";", lineterminator="\n")
    out.writerow(("code", "libelle", "type"))
    communes = json.load(open(communes_json, encoding="utf-8"))
    rows = {(c["code"], c["nom"], KINDS[c["type"]]) for c in communes}
    current = {c["code"] for c in communes}
    for c in communes:  # codes of communes since merged: the name they are known by now
        for old in c.get("anciensCodes", ()):
            if old not in current:
                rows.add((old, c["nom"], "X"))
    iso = json.load(open("/usr/share/iso-codes/json/iso_3166-1.json", encoding="utf-8"))["3166-1"]
    fr = gettext.translation("iso_3166-1", localedir="/usr/share/locale", languages=["fr"])
    names = {c["alpha_2"]: fr.gettext(c.get("common_name", c["name"])) for c in iso}
    names["XK"] = "Kosovo"  # a COG country that ISO 3166-1 does not list
    xml = open(cog_xml, encoding="utf-8").read()
    for alpha2, cog in re.findall(r'id="base\.(\w\w)".*?<field name="fr_cog">(\d{5})<', xml, re.S):
        alpha2 = {"UK": "GB"}.get(alpha2.upper(), alpha2.upper())  # Odoo's own id for the United Kingdom
        if alpha2 in names:
            rows.add((cog, names[alpha2], "P"))
        else:
            print(f"no ISO 3166 name for {alpha2} ({cog})", file=sys.stderr)
    for row in sorted(rows):
        out.writerow(row)


if __name__ == "__main__":
    main(*sys.argv[1:3])
