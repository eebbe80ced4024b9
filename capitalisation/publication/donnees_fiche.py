"""The content of a fiche projet: its data, read from the published tables, and its
sections, written as French Markdown for the cells of `reports/fiche.qmd`.

Every figure comes from the warehouse's publication layer (`pub_*` tables) or from the
seeds (project catalogue, published figures); the narrative texts come from
`reports/narratifs/<projet_id>.yml` and hold no figure. A secret cell prints « s ».
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from capitalisation import formats
from capitalisation.erreurs import ErreurUtilisateur
from capitalisation.formats import ESPACE_INSECABLE as NBSP
from capitalisation.publication import libelles
from capitalisation.publication.publie import (
    LIBELLE_SECRET,
    cellule,
    connecter,
    echapper,
    enumeration,
    est_secret,
    etiquette,
    guillemets,
    intervalle_montant,
    lignes,
    lire,
    liste,
    montant,
    paragraphes,
    proportion,
    secrets,
    tableau,
    typographie,
)
from capitalisation.publication.publie import date as date_cellule
from capitalisation.publication.secret import SECRET

CLES_NARRATIF = ("nature", "contexte", "objectifs", "public", "partenaires", "mise_en_oeuvre",
                 "moyens_humains", "financement", "enseignements_qualitatifs", "perspectives",
                 "contacts")

METHODES_RAPPORT = {"rapport_risques", "cox"}


def types_resultats() -> tuple[set[str], set[str]]:
    """The comparison's binary outcomes and time-to-event outcomes (the engine's lists)."""
    from capitalisation.evaluation.entrepot import EVENEMENTS, RESULTATS_BINAIRES

    return set(RESULTATS_BINAIRES), set(EVENEMENTS)


def lire_narratif(chemin: Path) -> dict:
    """The narrative texts of a project; a clear message when the file or a key is missing."""
    chemin = Path(chemin)
    if not chemin.exists():
        raise ErreurUtilisateur(
            f"textes de la fiche introuvables : {chemin} (copier un fichier de "
            f"{chemin.parent} sous ce nom, voir son README.md)")
    try:
        narratif = yaml.safe_load(chemin.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ErreurUtilisateur(f"{chemin.name} n'est pas un YAML valide : {exc}") from exc
    if not isinstance(narratif, dict):
        raise ErreurUtilisateur(f"{chemin.name} doit contenir des clés (nature, contexte…).")
    manquantes = [c for c in CLES_NARRATIF if c not in narratif]
    if manquantes:
        raise ErreurUtilisateur(f"{chemin.name} : clé(s) manquante(s) : {', '.join(manquantes)}")
    return narratif


def _signe(texte: str, valeur) -> str:
    return ("+" + texte) if not formats.manquant(valeur) and float(valeur) > 0 else texte


def _alt(texte: str) -> str:
    return texte.replace('"', "'").replace("\n", " ")


@dataclass
class Fiche:
    """One project's published data and narrative, and the Markdown of each section."""

    projet_id: str
    projet: dict
    narratif: dict
    effectifs: dict | None
    indicateurs: pd.DataFrame
    reconciliation: pd.DataFrame
    couts: dict | None
    comparaisons: pd.DataFrame
    equilibre: pd.DataFrame
    trajectoires: pd.DataFrame
    survie: pd.DataFrame
    bailleurs: dict = None
    figures: Path = Path("figures")
    livraison: dict | None = None  # pub_livraisons_projet: the extraction in use, and why
    titres_sources: dict = None  # seed sources_publiees: document → title cited

    # ------------------------------------------------------------------ loading

    @classmethod
    def charger(cls, entrepot, projet_id: str, narratifs, figures="figures") -> Fiche:
        con = connecter(entrepot)
        try:
            catalogue = lignes(lire(con, "projets", projet_id))
            if not catalogue:
                raise ErreurUtilisateur(f"projet inconnu du catalogue (seeds/projets.csv) : {projet_id}")
            effectifs = lignes(lire(con, "pub_effectifs_projet", projet_id))
            couts = lignes(lire(con, "pub_couts_projet", projet_id))
            bailleurs = {r["bailleur_id"]: r["nom"] for r in lignes(lire(con, "bailleurs"))}
            livraison = lignes(lire(con, "pub_livraisons_projet", projet_id))
            titres = {r["source"]: r["titre"] for r in lignes(lire(con, "sources_publiees"))}
            donnees = {
                "indicateurs": lire(con, "pub_indicateurs_projet", projet_id),
                "reconciliation": lire(con, "pub_reconciliation", projet_id),
                "comparaisons": lire(con, "pub_comparaisons", projet_id),
                "equilibre": lire(con, "pub_equilibre", projet_id),
                "trajectoires": lire(con, "pub_trajectoires", projet_id),
                "survie": lire(con, "pub_survie", projet_id),
            }
        finally:
            con.close()
        return cls(
            projet_id=projet_id,
            projet=catalogue[0],
            narratif=lire_narratif(Path(narratifs) / f"{projet_id}.yml"),
            effectifs=effectifs[0] if effectifs else None,
            couts=couts[0] if couts else None,
            bailleurs=bailleurs,
            figures=Path(figures),
            livraison=livraison[0] if livraison else None,
            titres_sources=titres,
            **donnees,
        )

    # ------------------------------------------------------------------ helpers

    @property
    def nom(self) -> str:
        return str(self.projet["nom"])

    @property
    def date_extraction(self) -> dt.date | None:
        return date_cellule(self.effectifs.get("date_extraction")) if self.effectifs else None

    def titre(self) -> str:
        return f"Fiche projet {guillemets(self.nom)}"

    def date(self) -> str:
        """The fiche's date line: the extraction month (« Juin 2020 »)."""
        date = self.date_extraction
        return formats.mois_annee_titre(date) if date else ""

    def _effectif(self, colonne: str) -> str:
        return cellule(self.effectifs, colonne)

    def _indicateur(self, code: str) -> dict | None:
        table = self.indicateurs
        if table.empty:
            return None
        trouve = lignes(table[table["indicateur"] == code])
        return trouve[0] if trouve else None

    def _k_secret(self, code: str) -> bool:
        return code in self.indicateurs_secrets()

    @property
    def binaires(self) -> set[str]:
        return types_resultats()[0]

    @property
    def survies(self) -> set[str]:
        return types_resultats()[1]

    def figure(self, nom: str, figure, legende: str, alt: str, largeur: str = "100%") -> str:
        """Save a chart in the document's figure folder and return its Markdown image."""
        if figure is None:
            return ""
        chemin = self.figures / f"{nom}.png"
        chemin.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(chemin, dpi=150)
        legende_md = typographie(legende).replace("[", "\\[").replace("]", "\\]")
        return (f'\n![{legende_md}]({chemin.as_posix()}){{#fig-{nom} fig-alt="{_alt(typographie(alt))}" '
                f'width="{largeur}"}}\n\n')

    # ------------------------------------------------------------------ header

    # ------------------------------------------------------------------ sections

    def presentation(self) -> str:
        p = self.projet
        texte = paragraphes(self.narratif.get("nature"))
        mots = [typographie(echapper(m.strip())) for m in str(p.get("mots_cles") or "").split(";") if m.strip()]
        porteurs = [typographie(echapper(m.strip())) for m in str(p.get("porteurs") or "").split(";")
                    if m.strip()]
        debut, fin = date_cellule(p.get("date_debut")), date_cellule(p.get("date_fin"))
        elements = [
            f"**{etiquette('Catégorie')}** {typographie(echapper(p.get('categorie') or '–'))}",
            f"**{etiquette('Mots clés')}** {(NBSP + '; ').join(mots) or '–'}",
            f"**{etiquette('Porteurs du projet')}** {enumeration(porteurs) or '–'}",
            f"**{etiquette('Période')}** " + (formats.periode(debut, fin) if debut and fin else "–"),
            f"**{etiquette('Territoire concerné')}** {typographie(echapper(p.get('territoire') or '–'))}"
            + (f" — département{'s' if len(str(p['departements']).split()) > 1 else ''} "
               f"{echapper(', '.join(str(p['departements']).split()))}" if p.get("departements") else ""),
        ]
        return texte + liste([typographie(e) for e in elements])

    def contexte(self) -> str:
        return paragraphes(self.narratif.get("contexte"))

    def objectifs(self) -> str:
        return liste([typographie(str(o)) for o in self.narratif.get("objectifs") or []])

    def public(self) -> str:
        texte = "\n### Profil des publics visés\n" + paragraphes(self.narratif.get("public"))
        texte += "\n### Nombre de ménages\n\n"
        if not self.effectifs:
            return texte + "Aucune livraison de données n'a encore été reçue pour ce projet.\n\n"
        e = self.effectifs
        premiere, derniere = date_cellule(e.get("premiere_orientation")), date_cellule(e.get("derniere_orientation"))
        extraction = self.date_extraction
        phrase = "Nombres de ménages calculés à partir de la livraison du projet"
        if extraction:
            phrase += f" extraite le {formats.date_longue(extraction)}"
        if premiere and derniere:
            phrase += (f"{NBSP}; les orientations s'étalent {formats.de(formats.mois_annee(premiere))} "
                       f"à {formats.mois_annee(derniere)}")
        texte += phrase + ".\n"
        rangees = []
        for colonne in ("menages_orientes", "menages_accompagnes", "menages_termines",
                        "menages_en_cours", "volet_maintien", "volet_acces"):
            if colonne in e:
                rangees.append([libelles.EFFECTIFS[colonne], self._effectif(colonne)])
        temoins = e.get("menages_temoins")
        if est_secret(e, "menages_temoins") or (not formats.manquant(temoins) and temoins > 0):
            rangees.append([libelles.EFFECTIFS["menages_temoins"], self._effectif("menages_temoins")])
        texte += tableau(["Ménages", "Nombre"], rangees, [60, 20], ["g", "d"],
                         legende="Ménages du projet (s : secret statistique)")
        return texte

    def partenaires(self) -> str:
        return paragraphes(self.narratif.get("partenaires"))

    def mise_en_oeuvre(self) -> str:
        texte = ""
        for element in self.narratif.get("mise_en_oeuvre") or []:
            texte += f"\n### {typographie(str(element.get('titre', '')).strip())}\n"
            texte += paragraphes(element.get("texte"))
        return texte

    def moyens(self) -> str:
        texte = "\n### Moyens humains\n" + paragraphes(self.narratif.get("moyens_humains"))
        etp = self.projet.get("etp")
        if not formats.manquant(etp):
            texte += (f"Équipe dédiée{NBSP}: {formats.nombre(etp, 1 if float(etp) % 1 else 0)} "
                      f"équivalent{'s' if float(etp) >= 2 else ''} temps plein.\n\n")
        texte += "\n### Moyens financiers\n" + paragraphes(self.narratif.get("financement"))
        c = self.couts or {}
        budget = self.projet.get("budget_annuel")
        elements = []
        if not formats.manquant(budget):
            elements.append(f"**{etiquette('Budget annuel')}** {formats.euros(budget)}")
        fnavdl = c.get("financement_fnavdl", self.projet.get("financement_fnavdl"))
        if not formats.manquant(fnavdl):
            part = c.get("part_fnavdl")
            elements.append(f"**{etiquette('Financement du FNAVDL')}** {formats.euros(fnavdl)}"
                            + (f", soit {formats.pourcentage(part)} du budget" if not formats.manquant(part) else ""))
        if c:
            par_an = c.get("menages_accompagnes_par_an")
            annees = c.get("annees")
            precision = ""
            if not formats.manquant(par_an) and not formats.manquant(annees):
                precision = (f" ({formats.nombre(par_an, 1)} ménages accompagnés en moyenne chaque année, "
                             f"sur {formats.nombre(annees)} année{'s' if annees > 1 else ''} civile{'s' if annees > 1 else ''})")
            elements.append(f"**{etiquette('Coût par ménage accompagné et par an')}** "
                            f"{cellule(c, 'cout_par_menage_an', formats.euros)}{precision}")
            elements.append(self._cout_expulsion(c))
        if elements:
            texte += liste(elements)
            texte += (f"Les montants viennent du catalogue des projets{NBSP}; le coût par ménage rapporte le "
                      "budget annuel au nombre moyen de ménages accompagnés chaque année, le coût par "
                      "expulsion évitée rapporte le budget des mois que dure le projet (budget annuel "
                      "multiplié par le nombre de mois, divisé par douze) aux expulsions évitées "
                      "recalculées.\n\n")
        return texte

    def _cout_expulsion(self, c: dict) -> str:
        libelle = f"**{etiquette('Coût par expulsion évitée')}** "
        if self._k_secret("expulsion_evitee") or est_secret(c, "expulsions_evitees") \
                or est_secret(c, "cout_par_expulsion_evitee"):
            return libelle + f"{SECRET} ({LIBELLE_SECRET})"
        evitees = c.get("expulsions_evitees")
        if formats.manquant(evitees) or evitees == 0:
            return libelle + "non calculable (aucune expulsion évitée recensée dans les données)"
        mois = c.get("mois_projet")
        duree = "" if formats.manquant(mois) else f" en {formats.nombre(mois)} mois"
        return (libelle + formats.euros(c.get("cout_par_expulsion_evitee"))
                + f" ({formats.nombre(evitees)} expulsions évitées{duree})")

    # ------------------------------------------------------------------ results

    def _publie(self, code: str) -> dict | None:
        table = self.reconciliation
        if table.empty:
            return None
        trouve = [r for r in lignes(table[(table["indicateur"] == code) & (table["type_valeur"] == "proportion")])
                  if r.get("population_defaut") is not False]
        return trouve[0] if trouve else None


    def _lignes_indicateurs(self) -> tuple[list[dict], list[dict]]:
        proportions, montants = [], []
        ordre = list(libelles.INDICATEURS) + list(libelles.MONTANTS)
        for ligne in sorted(lignes(self.indicateurs),
                            key=lambda r: (ordre.index(r["indicateur"]) if r["indicateur"] in ordre
                                           else len(ordre), r["indicateur"])):
            (montants if ligne.get("nature") == "montant" else proportions).append(ligne)
        return proportions, montants

    def resultats(self) -> str:
        """Les enseignements : every indicator, then every published figure beside its recomputation."""
        texte = "\n### Principaux résultats\n\n"
        if self.indicateurs.empty:
            texte += "Aucun indicateur n'a pu être recalculé pour ce projet.\n\n"
        else:
            texte += self._indicateurs()
        texte += self.reconciliation_texte()
        texte += "\n### Ce qu'en retiennent les acteurs\n" + paragraphes(
            self.narratif.get("enseignements_qualitatifs"))
        return texte

    def _indicateurs(self) -> str:
        """The tables and chart of the recomputed indicators."""
        texte = ""
        extraction = self.date_extraction
        texte += (
            "Les chiffres ci-dessous sont recalculés ménage par ménage à partir de la livraison du projet"
            + (f" extraite le {formats.date_longue(extraction)}" if extraction else "")
            + f", selon les définitions communes du programme. Chaque proportion est donnée avec son "
            f"numérateur, son dénominateur et son intervalle de confiance à 95{NBSP}% (méthode de "
            f"Wilson){NBSP}; le chiffre publié par le projet figure à côté. "
            f"La mention {guillemets(SECRET)} signale un chiffre couvert par le secret statistique.\n\n")
        proportions, montants = self._lignes_indicateurs()
        rangees = []
        points = []
        for ligne in proportions:
            code = ligne["indicateur"]
            libelle, population = libelles.INDICATEURS.get(code, (libelles.indicateur(code), ""))
            morceaux = proportion(ligne)
            publie = self._publie(code)
            rangees.append([
                libelle + (f" ({population})" if population else ""),
                morceaux["valeur"], morceaux["k_sur_n"], morceaux["ic"],
                valeur_publiee(publie) if publie else "",
                statut(publie),
            ])
            if morceaux["valeur"] != SECRET and not formats.manquant(ligne.get("valeur")):
                points.append({"libelle": libelle, "valeur": ligne["valeur"], "ic_bas": ligne["ic_bas"],
                               "ic_haut": ligne["ic_haut"],
                               "publie": publie.get("valeur_publiee") if publie else None})
        texte += tableau(
            ["Indicateur (population)", "Recalculé", "k sur n", f"IC à 95{NBSP}%", "Publié", "Constat"],
            rangees, [34, 11, 16, 17, 9, 13], ["g", "d", "d", "d", "d", "g"],
            legende=f"Indicateurs recalculés du projet {guillemets(echapper(self.nom))}")
        if points:
            alt = ("Graphique en points : pour chaque indicateur, la proportion recalculée et son intervalle "
                   "de confiance à 95 %, et le chiffre publié par le projet quand il existe. " + " ; ".join(
                       f"{p['libelle']} : {formats.pourcentage(p['valeur'])} "
                       f"(IC {formats.etendue(p['ic_bas'], p['ic_haut'])})"
                       + (f", publié {formats.pourcentage(p['publie'])}" if p.get("publie") is not None else "")
                       for p in points))
            texte += self.figure(
                "indicateurs", _graphiques().indicateurs(points),
                "Indicateurs recalculés (point et intervalle de confiance à 95 %)"
                + (" et chiffres publiés par le projet (losange rouge)"
                   if any(p.get("publie") is not None for p in points) else "")
                + ". Les indicateurs couverts par le secret statistique ne sont pas représentés.", alt)
        if montants:
            rangees = []
            for ligne in montants:
                code = ligne["indicateur"]
                libelle, population = libelles.MONTANTS.get(code, (libelles.indicateur(code), ""))
                rangees.append([
                    libelle + (f" ({population})" if population else ""),
                    cellule(ligne, "n"),
                    cellule(ligne, "moyenne_eur", montant),
                    cellule(ligne, "mediane_eur", montant),
                    SECRET if est_secret(ligne, "ic_bas") else intervalle_montant(
                        ligne.get("ic_bas"), ligne.get("ic_haut")),
                ])
            texte += tableau(["Montant par ménage", "Ménages", "Moyenne", "Médiane",
                              f"IC à 95{NBSP}% de la moyenne"],
                             rangees, [40, 10, 12, 12, 22], ["g", "d", "d", "d", "d"],
                             legende="Montants recalculés, par ménage")
        return texte

    def indicateurs_secrets(self) -> set[str]:
        return indicateurs_secrets(self.indicateurs)

    def _recalcule(self, ligne: dict) -> str:
        return recalcule(ligne, self.indicateurs_secrets())

    def phrase_reconciliation(self, ligne: dict) -> str | None:
        return phrase_reconciliation(ligne, self.indicateurs_secrets())

    def reconciliation_texte(self) -> str:
        if self.reconciliation.empty:
            return ("\nLe projet n'a pas publié de chiffre à rapprocher des données livrées.\n\n")
        texte = "\n#### Chiffres publiés par le projet et chiffres recalculés\n\n"
        texte += (
            "Chaque chiffre publié par le projet est recalculé sur la même population que celle dont il "
            f"parle (par exemple tous les ménages orientés, qu'ils aient adhéré ou non), puis comparé selon "
            f"ce qu'il affirme{NBSP}: un nombre exact doit être retrouvé tel quel, un minimum («{NBSP}au "
            f"moins{NBSP}», «{NBSP}plus de{NBSP}») atteint, un maximum non dépassé, un ordre de grandeur "
            f"(«{NBSP}environ{NBSP}») compris dans l'intervalle indiqué. Une proportion est comparée à "
            f"travers l'intervalle de confiance à 95{NBSP}% de la proportion recalculée. Le constat est "
            f"**confirmé** quand les données satisfont cette comparaison, **non confirmé** sinon, "
            f"**non testable** quand les données livrées ne permettent pas de la faire (la raison est "
            f"donnée).\n\n")
        rangees = []
        phrases = []
        secrets_indicateurs = self.indicateurs_secrets()
        for ligne in lignes(self.reconciliation):
            c = comparable(ligne)
            libelle = typographie(echapper(str(ligne.get("libelle") or libelles.indicateur(ligne["indicateur"]))))
            rangees.append([
                avec_periode(libelle, ligne.get("periode")),
                population(c) or "–",
                valeur_publiee(c), recalcule(c, secrets_indicateurs) if c.get("verdict") != "non_testable"
                or not formats.manquant(c.get("valeur_recalculee")) else "–", statut(c)])
            phrases.append(phrase_verdict(ligne, secrets_indicateurs))
        texte += tableau(["Chiffre publié par le projet", "Population", "Publié", "Recalculé", "Constat"],
                         rangees, [34, 20, 9, 24, 13], ["g", "g", "d", "d", "g"],
                         legende="Chiffres publiés et chiffres recalculés sur la même population")
        texte += "\n##### Constat, chiffre par chiffre\n" + liste(phrases)
        return texte

    # ------------------------------------------------------------------ comparison

    def a_une_comparaison(self) -> bool:
        return not self.comparaisons.empty

    def _estimation(self, ligne: dict, colonne: str = "estimation", unite: bool = True) -> str:
        if est_secret(ligne, colonne) or est_secret(ligne, "estimation"):
            return SECRET
        valeur = ligne.get(colonne)
        if formats.manquant(valeur):
            return "–"
        methode, resultat = ligne["methode"], ligne["resultat"]
        if methode in METHODES_RAPPORT:
            return formats.nombre(valeur, 2)
        if methode == "logrank":
            return f"khi{NBSP}deux = {formats.nombre(valeur, 2)}".replace(" =", NBSP + "=")
        if resultat in self.binaires:
            texte = formats.points(valeur, 1) if unite else formats.nombre(float(valeur) * 100, 1)
        else:
            texte = formats.euros(valeur) if unite else formats.nombre(valeur)
        return _signe(texte, valeur)

    def _intervalle_estimation(self, ligne: dict, unite: bool = False) -> str:
        if est_secret(ligne, "estimation") or est_secret(ligne, "ic_bas"):
            return SECRET
        if formats.manquant(ligne.get("ic_bas")) or formats.manquant(ligne.get("ic_haut")):
            return "–"
        if unite:
            return (f"de {self._estimation(ligne, 'ic_bas')} à {self._estimation(ligne, 'ic_haut')}")
        return (f"{self._estimation(ligne, 'ic_bas', unite=False)} à "
                f"{self._estimation(ligne, 'ic_haut', unite=False)}")

    @staticmethod
    def _p(ligne: dict) -> str:
        if est_secret(ligne, "p_valeur"):
            return SECRET
        p = ligne.get("p_valeur")
        if formats.manquant(p):
            return "–"
        return f"<{NBSP}0,001" if p < 0.001 else formats.nombre(p, 3)

    def _groupe(self, ligne: dict, cohorte: str) -> str:
        n, k = f"n_{cohorte}", f"k_{cohorte}"
        if ligne["resultat"] in self.binaires or ligne["resultat"] in self.survies:
            if est_secret(ligne, k) or (formats.manquant(ligne.get(k)) and "estimation" in
                                         str(ligne.get("cellules_secretes"))):
                return f"{SECRET} sur {cellule(ligne, n)}"
            if formats.manquant(ligne.get(k)):
                return cellule(ligne, n)
            return f"{cellule(ligne, k)} sur {cellule(ligne, n)}"
        return cellule(ligne, n)

    def comparaison(self) -> str:
        """The cohort comparison, when the project sent a control group."""
        if not self.a_une_comparaison():
            return ""
        from capitalisation.evaluation.moteur import METHODES

        table = self.comparaisons
        horizon = int(table["horizon_mois"].dropna().iloc[0]) if table["horizon_mois"].notna().any() else None
        texte = "\n### Comparaison avec un groupe témoin\n\n"
        temoins = self._effectif("menages_temoins") if self.effectifs else SECRET
        texte += (
            f"Le projet a transmis les données d'un groupe témoin de {temoins} ménages, suivis selon "
            f"l'organisation habituelle du bailleur. Les deux groupes sont comparés "
            + (f"{horizon}{NBSP}mois après l'orientation, " if horizon else "")
            + "pour les ménages dont la livraison couvre cette durée. Les groupes n'ayant pas été tirés "
            f"au sort, un écart brut n'est pas à lui seul un effet de l'accompagnement{NBSP}: les "
            "estimations ajustées tiennent compte des différences connues à l'entrée. Une différence "
            "est exprimée en points de pourcentage pour une proportion, en euros pour une dette.\n\n")
        ordre_resultats = list(libelles.RESULTATS)
        ordre_methodes = list(METHODES)
        estimations = sorted(
            (r for r in lignes(table) if not str(r["methode"]).startswith("puissance")),
            key=lambda r: (ordre_resultats.index(r["resultat"]) if r["resultat"] in ordre_resultats else 99,
                           ordre_methodes.index(r["methode"]) if r["methode"] in ordre_methodes else 99))
        rangees = []
        codes_vus: list[str] = []
        secret = "secret_statistique"
        for resultat in dict.fromkeys(r["resultat"] for r in estimations):
            groupe = [r for r in estimations if r["resultat"] == resultat]
            nom = libelles.RESULTATS.get(resultat, libelles.humaniser(resultat))
            if all(est_secret(r, "estimation") for r in groupe):
                # Every estimate of this outcome is secret: one line says so.
                codes_vus.append(secret)
                rangees.append([nom, "Toutes les méthodes", self._groupe(groupe[0], "traites"),
                                self._groupe(groupe[0], "temoins"), SECRET, SECRET, SECRET,
                                libelles.remarque(secret)])
                continue
            for ligne in groupe:
                codes = libelles.codes_avertissements(ligne.get("avertissements"))
                if est_secret(ligne, "estimation"):
                    codes = [secret] + [c for c in codes if c != secret]
                else:
                    codes = [c for c in codes if c != secret]
                codes_vus += codes
                rangees.append([
                    nom, typographie(METHODES.get(ligne["methode"], libelles.humaniser(ligne["methode"]))),
                    self._groupe(ligne, "traites"), self._groupe(ligne, "temoins"),
                    self._estimation(ligne), self._intervalle_estimation(ligne), self._p(ligne),
                    (NBSP + "; ").join(libelles.remarque(c) for c in codes),
                ])
        texte += tableau(["Résultat", "Méthode", "Accompagnés", "Témoins", "Estimation",
                          f"IC à 95{NBSP}%", "p", "Remarques"], rangees,
                         [12, 17, 10, 10, 11, 13, 7, 20], ["g", "g", "d", "d", "d", "d", "d", "g"],
                         legende=f"Estimations de la comparaison (s{NBSP}: secret statistique)")
        if codes_vus:
            texte += "Remarques" + NBSP + ":\n" + liste(
                [typographie(libelles.explication(c)).capitalize() + "." for c in dict.fromkeys(codes_vus)])
        texte += self._graphique_forest()
        texte += self._equilibre()
        texte += self._trajectoires()
        texte += self._survie()
        texte += self._puissance()
        return texte

    def _graphique_forest(self) -> str:
        figure = _graphiques().forest(self.comparaisons, self.binaires)
        if figure is None:
            return ""
        visibles = [r for r in lignes(self.comparaisons)
                    if not est_secret(r, "estimation") and not formats.manquant(r.get("estimation"))
                    and r["methode"] not in ("puissance_mdd", "logrank")]
        alt = "Graphique en forêt des estimations et de leurs intervalles de confiance à 95 % : " + " ; ".join(
            f"{libelles.RESULTATS.get(r['resultat'], r['resultat'])}, {r['methode'].replace('_', ' ')} : "
            f"{self._estimation(r)} ({self._intervalle_estimation(r, unite=True)})" for r in visibles)
        return self.figure(
            "comparaison", figure,
            "Estimations de l'écart entre accompagnés et témoins, avec leur intervalle de confiance à "
            "95 % (ligne pointillée : aucun écart). Les résultats couverts par le secret statistique ne "
            "sont pas représentés.", alt)

    def _equilibre(self) -> str:
        if self.equilibre.empty:
            return ""
        from capitalisation.evaluation.moteur import SEUIL_SMD

        texte = "\n#### Équilibre des groupes à l'entrée\n\n"
        table = lignes(self.equilibre)
        avant = sum(1 for r in table if not formats.manquant(r.get("smd_avant")) and abs(r["smd_avant"]) > SEUIL_SMD)
        apres = sum(1 for r in table if not formats.manquant(r.get("smd_apres")) and abs(r["smd_apres"]) > SEUIL_SMD)
        seuil = formats.nombre(SEUIL_SMD, 1)
        texte += (
            f"Sur {len(table)} caractéristiques comparées (ou modalités de caractéristiques), {avant} "
            f"différai{'en' if avant > 1 else ''}t nettement entre les groupes avant pondération "
            f"(différence standardisée supérieure à {seuil} en valeur absolue) et {apres} après "
            "pondération. Plus il en reste, plus la comparaison doit être lue avec prudence.\n\n")
        alt = ("Graphique en points des différences standardisées entre accompagnés et témoins, avant et "
               f"après pondération, pour {len(table)} caractéristiques ; {avant} dépassent le seuil de "
               f"{seuil} avant pondération et {apres} après.")
        texte += self.figure("equilibre", _graphiques().equilibre(
                                 self.equilibre, {"bailleur_id": self.bailleurs or {}}),
                             f"Différences standardisées des caractéristiques à l'entrée, avant et après "
                             f"pondération (ligne pointillée : seuil de {seuil}).", alt, largeur="90%")
        return texte

    def _trajectoires(self) -> str:
        figure = _graphiques().trajectoires(self.trajectoires)
        did = [r for r in lignes(self.comparaisons) if r["methode"] == "did"]
        if figure is None and not did:
            return ""
        texte = "\n#### Trajectoires de dette\n\n"
        for ligne in did:
            if est_secret(ligne, "estimation") or formats.manquant(ligne.get("estimation")):
                texte += ("L'estimation en différence de différences est couverte par le secret "
                          "statistique ou n'a pas pu être calculée.\n\n")
                continue
            sens = "diminué" if ligne["estimation"] < 0 else "augmenté"
            texte += (
                f"Après l'orientation, le solde mensuel du compte des ménages accompagnés a {sens} de "
                f"{formats.euros(abs(ligne['estimation']))} de plus que celui des témoins "
                f"(différence de différences{NBSP}; IC à 95{NBSP}%{NBSP}: "
                f"{self._intervalle_estimation(ligne, unite=True)}).\n\n")
        if figure is not None:
            visibles = self.trajectoires[self.trajectoires["moyenne"].notna()]
            resume = []
            for cohorte, groupe in visibles.groupby("cohorte"):
                groupe = groupe.sort_values("mois_relatif")
                resume.append(
                    f"{libelles.COHORTES.get(cohorte, cohorte)} : de {formats.euros(groupe['moyenne'].iloc[0])} "
                    f"au mois {int(groupe['mois_relatif'].iloc[0])} à {formats.euros(groupe['moyenne'].iloc[-1])} "
                    f"au mois {int(groupe['mois_relatif'].iloc[-1])}")
            alt = ("Courbes du solde moyen du compte locatif par mois relatif à l'orientation, par groupe, "
                   "avec leur bande de confiance à 95 %. " + " ; ".join(resume) + ".")
            texte += self.figure("trajectoires", figure,
                                 "Solde moyen du compte locatif en fin de mois, par mois relatif à "
                                 "l'orientation (mois 0), avec sa bande de confiance à 95 %. Les mois "
                                 "comptant trop peu de ménages ne sont pas représentés.", alt)
        return texte

    def _evenements_publiables(self) -> list[str]:
        """Time-to-event curves are drawn only when the event counts are not secret."""
        publiables = []
        for evenement in (list(self.survie["evenement"].unique()) if not self.survie.empty else []):
            rangs = [r for r in lignes(self.comparaisons) if r["resultat"] == evenement]
            if rangs and any(est_secret(r, "k_traites") or est_secret(r, "k_temoins")
                             or est_secret(r, "estimation") for r in rangs):
                continue
            publiables.append(evenement)
        return publiables

    def _survie(self) -> str:
        evenements = list(self.survie["evenement"].unique()) if not self.survie.empty else []
        rangs = [r for r in lignes(self.comparaisons) if r["resultat"] in self.survies]
        if not evenements and not rangs:
            return ""
        texte = "\n#### Délais avant expulsion et avant apurement de la dette\n\n"
        publiables = self._evenements_publiables()
        caches = [e for e in dict.fromkeys(evenements + [r["resultat"] for r in rangs]) if e not in publiables]
        for evenement in publiables:
            for ligne in (r for r in rangs if r["resultat"] == evenement and r["methode"] == "cox"):
                texte += (f"{libelles.RESULTATS.get(evenement, evenement)}{NBSP}: rapport des risques "
                          f"instantanés (modèle de Cox) de {self._estimation(ligne)} "
                          f"(IC à 95{NBSP}%{NBSP}: {self._intervalle_estimation(ligne, unite=True)}{NBSP}; "
                          f"p{NBSP}= {self._p(ligne)}).\n\n")
        if caches:
            texte += (
                "Les courbes et les tests de "
                + enumeration([libelles.RESULTATS.get(e, e).lower() for e in caches])
                + f" ne sont pas publiés{NBSP}: trop peu de ménages ont connu l'événement dans un des "
                "groupes (secret statistique).\n\n")
        figure = _graphiques().survie(self.survie, publiables)
        if figure is not None:
            noms = enumeration([libelles.RESULTATS.get(e, e).lower() for e in publiables])
            alt = (f"Courbes de Kaplan-Meier par groupe ({noms}) : proportion des ménages n'ayant pas "
                   "encore connu l'événement selon le nombre de mois depuis l'orientation.")
            texte += self.figure("survie", figure,
                                 "Courbes de Kaplan-Meier par groupe, avec leur bande de confiance à 95 %.",
                                 alt)
        return texte

    def _puissance(self) -> str:
        """What the study could detect at its size (puissance_mdd), and the size it would need
        for a given difference (puissance_taille), in plain words."""
        ordre = list(libelles.RESULTATS)
        rangs = [r for r in lignes(self.comparaisons) if str(r["methode"]).startswith("puissance")]
        resultats = sorted({r["resultat"] for r in rangs},
                           key=lambda r: ordre.index(r) if r in ordre else len(ordre))
        if not resultats:
            return ""
        from capitalisation.evaluation.moteur import ALPHA, PUISSANCE

        texte = "\n#### Ce que l'étude pouvait mettre en évidence\n\n"
        texte += (f"Avec des groupes de cette taille, seules les différences assez grandes ont de bonnes "
                  f"chances d'être détectées. Pour chaque résultat, la plus petite différence que l'étude "
                  f"avait {formats.pourcentage(PUISSANCE)} de chances de mettre en évidence (test "
                  f"bilatéral au seuil de {formats.pourcentage(ALPHA)}), et le nombre de ménages qu'il "
                  f"faudrait par groupe pour détecter un écart donné{NBSP}:\n")
        elements = []
        for resultat in resultats:
            sujet = libelles.RESULTATS_PHRASE.get(resultat, libelles.RESULTATS.get(
                resultat, libelles.humaniser(resultat)).lower())
            titre = sujet[0].upper() + sujet[1:]
            mdd = next((r for r in rangs if r["resultat"] == resultat and r["methode"] == "puissance_mdd"), None)
            taille = next((r for r in rangs if r["resultat"] == resultat
                           and r["methode"] == "puissance_taille"), None)
            if any(est_secret(r, "estimation") for r in (mdd, taille) if r):
                elements.append(f"{titre}{NBSP}: {SECRET} ({LIBELLE_SECRET}).")
                continue
            phrases = []
            if mdd and not formats.manquant(mdd.get("estimation")):
                phrases.append(
                    f"avec {cellule(mdd, 'n_traites')} ménages accompagnés et {cellule(mdd, 'n_temoins')} "
                    f"témoins, un écart d'au moins {self._ecart(resultat, mdd['estimation'])} entre les "
                    "deux groupes")
            elif mdd:
                phrases.append("aucun écart n'était détectable avec ces effectifs")
            if taille and not formats.manquant(taille.get("estimation")) \
                    and not formats.manquant(taille.get("p_traites")) and not formats.manquant(taille.get("p_temoins")):
                cible, temoin = taille["p_traites"], taille["p_temoins"]
                phrases.append(
                    f"pour détecter un écart de {self._ecart(resultat, abs(cible - temoin))} "
                    f"({formats.de(self._niveau(resultat, temoin))} chez les témoins à "
                    f"{self._niveau(resultat, cible)}), il faudrait environ "
                    f"{formats.nombre(taille['estimation'])} ménages par groupe")
            if phrases:
                elements.append(f"{titre}{NBSP}: " + f"{NBSP}; ".join(phrases) + ".")
        texte += liste(elements)
        texte += (f"Un écart plus petit peut exister sans que l'étude puisse le montrer{NBSP}: l'absence "
                  "de différence significative ne prouve pas l'absence d'effet.\n\n")
        return texte

    def _ecart(self, resultat: str, valeur) -> str:
        return formats.points(valeur) if resultat in self.binaires else formats.euros(valeur)

    def _niveau(self, resultat: str, valeur) -> str:
        return formats.pourcentage(valeur) if resultat in self.binaires else formats.euros(valeur)

    # ------------------------------------------------------------------ end

    def perspectives(self) -> str:
        perspectives = self.narratif.get("perspectives") or {}
        if isinstance(perspectives, str):
            return paragraphes(perspectives)
        texte = paragraphes(perspectives.get("texte"))
        if perspectives.get("liste"):
            texte += liste([typographie(str(e)) for e in perspectives["liste"]])
        return texte

    def contacts(self) -> str:
        return liste([typographie(echapper(str(c))) for c in self.narratif.get("contacts") or []])

    def extraction_en_usage(self) -> str:
        """Why the extraction in use is not the project's newest delivery, when it is not."""
        livraison = self.livraison or {}
        refusee = date_cellule(livraison.get("date_livraison_refusee"))
        en_usage = date_cellule(livraison.get("date_extraction_en_usage")) or self.date_extraction
        if not refusee or not en_usage:
            return ""
        texte = f"{NBSP}; extraction du {formats.date_longue(en_usage)} en usage"
        lue_le = date_cellule(livraison.get("lue_le"))
        if refusee == en_usage and lue_le:
            texte += f" (copie lue le {formats.date_longue(lue_le)})"
        return texte + f"{NBSP}: la livraison du {formats.date_longue(refusee)} a été refusée par la validation"

    def sources(self) -> str:
        extraction = self.date_extraction
        titres = self.titres_sources or {}
        sources = sorted({str(titres.get(s) or s)
                          for s in self.reconciliation.get("source", pd.Series(dtype=str)).dropna()})
        texte = ("\n---\n\n*Sources" + NBSP + ": livraison anonymisée du projet"
                 + (f" extraite le {formats.date_longue(extraction)}" if extraction else "")
                 + ", recalculée dans l'entrepôt de capitalisation du programme")
        texte += self.extraction_en_usage()
        if sources:
            texte += f"{NBSP}; chiffres publiés{NBSP}: " + f"{NBSP}; ".join(typographie(echapper(s)) for s in sources)
        texte += (". Les effectifs et les proportions sous les seuils du secret statistique ne sont pas "
                  f"publiés ({guillemets(SECRET)}).*\n")
        return texte


# --------------------------------------------------------------------------- reconciliation


def indicateurs_secrets(indicateurs: pd.DataFrame) -> set[str]:
    """Indicators whose count k is secret in pub_indicateurs_projet: the same count must not
    be shown elsewhere (in the reconciliation, the costs), since its denominator is published."""
    return {r["indicateur"] for r in lignes(indicateurs)
            if est_secret(r, "k") or est_secret(r, "valeur")}


# The columns of pub_reconciliation on the published figure's own population, and the
# default-population columns they take the place of in a fiche.
COLONNES_POPULATION = {"valeur_population": "valeur_recalculee", "ic_bas_population": "ic_bas",
                       "ic_haut_population": "ic_haut", "n_population": "n", "k_population": "k",
                       "verdict": "statut"}
RAISON_DEFAUT = "les données livrées ne permettent pas de recalculer ce chiffre sur cette population"


def comparable(ligne: dict) -> dict:
    """A reconciliation row as the fiche reads it: the figure recomputed on the population the
    project published it for (the `*_population` columns and `verdict` of pub_reconciliation)
    under the names valeur_recalculee, ic_bas, ic_haut, n, k and `verdict`, secret cells
    renamed alike. A table without them gives its default-population figures, its `statut`
    as the verdict, and no population."""
    if ligne.get("_comparable"):
        return ligne
    if "verdict" not in ligne:
        code = ligne.get("statut")
        return {**ligne, "verdict": libelles.VERDICTS_ANCIENS.get(code, code), "population": None,
                "_comparable": True}
    resultat = {**ligne, "_comparable": True}
    for colonne, ancienne in COLONNES_POPULATION.items():
        resultat[ancienne] = ligne.get(colonne)
    # A secret default-population cell stays secret (conservative), and so do the population's.
    listes = secrets(ligne)
    resultat["cellules_secretes"] = ",".join(sorted(listes | {COLONNES_POPULATION[c] for c in listes
                                                               if c in COLONNES_POPULATION}))
    return resultat


def _effectif(valeur) -> str:
    if formats.manquant(valeur):
        return "–"
    return formats.nombre(valeur, 0 if float(valeur) == int(float(valeur)) else 1)


def avec_periode(libelle: str, periode) -> str:
    """« … sur la période (2017–2019). »: the period inside the sentence, before its full stop."""
    if not periode:
        return libelle
    corps = libelle.rstrip()
    fin = ""
    if corps.endswith((".", "!", "?", "…")):
        corps, fin = corps[:-1].rstrip(), corps[-1]
    return f"{corps} ({typographie(echapper(str(periode).replace('-', '–')))}){fin}"


def valeur_publiee(ligne: dict) -> str:
    valeur = ligne.get("valeur_publiee")
    prefixe = libelles.SYMBOLES_COMPARAISON.get(ligne.get("comparaison"), "")
    if ligne.get("type_valeur") == "proportion":
        return prefixe + formats.pourcentage(valeur)
    return prefixe + _effectif(valeur)


def statut(ligne: dict | None) -> str:
    """The verdict of a reconciliation row, on the published figure's population (« s » when secret)."""
    if not ligne:
        return ""
    ligne = comparable(ligne)
    if est_secret(ligne, "statut") or est_secret(ligne, "verdict"):
        return SECRET
    code = ligne.get("verdict")
    return libelles.STATUTS.get(code, libelles.humaniser(code or ""))


def recalcule(ligne: dict, secrets_indicateurs: set[str] = frozenset()) -> str:
    """The recomputed side of a published figure (a row read through `comparable`)."""
    if ligne.get("type_valeur") == "proportion":
        if est_secret(ligne, "valeur_recalculee") or est_secret(ligne, "k"):
            return SECRET
        if formats.manquant(ligne.get("valeur_recalculee")):
            return "–"
        return formats.proportion_detaillee(ligne.get("k"), ligne.get("n"), ligne["valeur_recalculee"],
                                            ligne.get("ic_bas"), ligne.get("ic_haut"))
    if est_secret(ligne, "valeur_recalculee") or ligne.get("indicateur") in secrets_indicateurs:
        return SECRET
    return cellule(ligne, "valeur_recalculee", _effectif)


def population(ligne: dict) -> str:
    """The population a published figure is about, in words (empty when unknown)."""
    code = ligne.get("population")
    return libelles.POPULATIONS.get(code, libelles.humaniser(code)) if code else ""


def annonce(ligne: dict) -> str:
    """What the project published, in words: « au moins 100 ménages orientés »,
    « 33 % (relogement ou mutation) des ménages orientés… », « environ 75 … (de 67,5 à 82,5) »."""
    comparaison = ligne.get("comparaison")
    mots = "plus de " if comparaison == "au_moins" and ligne.get("type_valeur") == "proportion" \
        else libelles.COMPARAISONS.get(comparaison, "")
    indicateur = ligne.get("indicateur")
    qui = population(ligne)
    if ligne.get("type_valeur") == "proportion":
        texte = (f"{mots}{formats.pourcentage(ligne.get('valeur_publiee'))} "
                 f"({libelles.indicateur(indicateur).lower()})" + (f" des {qui}" if qui else ""))
    else:
        noms = (libelles.NOMS_EFFECTIFS_SINGULIER if not formats.manquant(ligne.get("valeur_publiee"))
                and abs(float(ligne["valeur_publiee"])) < 2 else libelles.NOMS_EFFECTIFS)
        nom = noms.get(indicateur, libelles.indicateur(indicateur).lower())
        texte = f"{mots}{_effectif(ligne.get('valeur_publiee'))} {nom}"
        if qui and indicateur in ("expulsion_evitee", "expulse", "relogement", "en_procedure"):
            texte += f" parmi les {qui}"
    if comparaison == "dans_intervalle" and not formats.manquant(ligne.get("borne_basse")):
        bornes = (formats.etendue(ligne["borne_basse"], ligne["borne_haute"])
                  if ligne.get("type_valeur") == "proportion"
                  else f"de {_effectif(ligne['borne_basse'])} à {_effectif(ligne['borne_haute'])}")
        texte += f" ({bornes})"
    return texte


_TESTS_PROPORTION = {
    "egal": ("un intervalle qui contient le chiffre publié", "un intervalle qui ne contient pas le chiffre publié"),
    "au_moins": ("un intervalle qui atteint ce seuil", "un intervalle qui reste sous ce seuil"),
    "au_plus": ("un intervalle qui descend jusqu'à ce plafond", "un intervalle qui reste au-dessus de ce plafond"),
    "dans_intervalle": ("un intervalle qui rencontre celui annoncé", "un intervalle qui ne rencontre pas celui annoncé"),
}


def phrase_verdict(ligne: dict, secrets_indicateurs: set[str] = frozenset()) -> str:
    """The verdict of a published figure in words, on the figure's own population:
    « Le projet annonce au moins 100 ménages orientés ; les données en comptent 104 : confirmé. »
    A secret recomputation shows neither its value nor the verdict."""
    c = comparable(ligne)
    debut = f"Le projet annonce {annonce(c)}"
    verdict = c.get("verdict")
    if verdict == "non_testable" and not est_secret(c, "verdict"):
        raison = str(c.get("raison") or RAISON_DEFAUT).rstrip(".")
        return typographie(f"{debut}{NBSP}: **non testable**, {echapper(raison)}.")
    texte = recalcule(c, secrets_indicateurs)
    if texte == SECRET or est_secret(c, "statut") or est_secret(c, "verdict"):
        return (f"{debut}{NBSP}; le chiffre recalculé sur la même population est couvert par le secret "
                f"statistique{NBSP}: le constat n'est pas publié.")
    mot = libelles.STATUTS.get(verdict, libelles.humaniser(verdict or "")).lower()
    if c.get("type_valeur") == "proportion":
        oui, non = _TESTS_PROPORTION.get(c.get("comparaison"), _TESTS_PROPORTION["egal"])
        return (f"{debut}{NBSP}; les données donnent {texte}, {oui if verdict == 'confirme' else non}"
                f"{NBSP}: **{mot}**.")
    return f"{debut}{NBSP}; les données en comptent {texte}{NBSP}: **{mot}**."


def phrase_reconciliation(ligne: dict, secrets_indicateurs: set[str] = frozenset()) -> str | None:
    """The verdict in words of a published figure the data do not confirm, or cannot test."""
    c = comparable(ligne)
    if est_secret(c, "verdict") or est_secret(c, "statut") or c.get("verdict") not in ("non_confirme", "non_testable"):
        return None
    return phrase_verdict(ligne, secrets_indicateurs)


def _graphiques():
    from capitalisation.publication import graphiques_fiche

    return graphiques_fiche
