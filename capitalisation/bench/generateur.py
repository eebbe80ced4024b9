"""Deliveries of N households for the benchmark, generated in DuckDB (vectorised, deterministic).

Each household has 60 months of rent account (January 2020 to December 2024); households
are spread over a few hundred projects and landlords; some projects send a large control
panel. Half of the projects write like French office tools (`;`, decimal comma,
DD/MM/YYYY, MM/YYYY, oui/non), the other half UTF-8 with `,` and ISO dates. The account
identity holds to the cent. Nothing here is meant to look like the demo: only the volume
and the shape matter.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from capitalisation import contrat

EXTRACTION = "2024-12-31"
MOIS_COMPTE = 60
PREMIER_MOIS = "2020-01-01"


@dataclass
class Jeu:
    menages: int
    projets: list[str]
    bailleurs: list[str]
    exports: Path
    octets: int


def nombre_projets(menages: int) -> int:
    """A few hundred projects at scale: about 3 300 households a project, 3 to 300."""
    return max(3, min(300, menages // 3300))


def _u(colonne: str, graine: int) -> str:
    """A uniform number in [0, 1) drawn from the row's id, reproducible."""
    return f"((hash(i, '{colonne}', {graine}) % 1000000) / 1000000.0)"


def _creer_tables(con: duckdb.DuckDBPyConnection, menages: int, projets: int, graine: int) -> None:
    u = lambda colonne: _u(colonne, graine)  # noqa: E731
    con.execute(
        f"""
        create table menages as
        with base as (
            select
                i,
                i % {projets} as p,
                cast(floor({u('orientation')} * 42) as integer) as decalage_index,
                {u('cohorte')} as tirage_cohorte,
                {u('adhesion')} as tirage_adhesion,
                {u('fin')} as tirage_fin
            from range({menages}) as t(i)
        )
        select
            i,
            'bench_p' || lpad(cast(p as varchar), 3, '0') as projet_id,
            'bench_b' || lpad(cast((p * 7 + i % 3) % 60 as varchar), 2, '0') as bailleur_id,
            -- one project in ten sends a control panel half as large as its cohort
            case when p % 10 = 0 and tirage_cohorte < 0.33 then 'temoin' else 'accompagne' end as cohorte,
            case when {u('volet')} < 0.7 then 'maintien' else 'acces' end as volet,
            date '2020-07-01' + to_months(decalage_index) + to_days(cast(floor({u('jour')} * 27) as integer))
                as date_orientation,
            decalage_index,
            tirage_adhesion,
            tirage_fin,
            cast(30000 + floor({u('loyer')} * 35000) as bigint) as loyer_centimes,
            cast(floor({u('aide')} * 20000) as bigint) as aide_centimes,
            {u('fragilite')} as fragilite
        from base
        """
    )
    con.execute(
        f"""
        create table menages_livres as
        select
            i,
            'h' || lpad(cast(i as varchar), 9, '0') as menage_id,
            projet_id,
            bailleur_id,
            cohorte,
            volet,
            date_orientation,
            case when cohorte = 'accompagne' and tirage_adhesion < 0.8
                then date_orientation + to_days(cast(5 + floor(tirage_fin * 40) as integer)) end
                as date_debut_accompagnement,
            case when cohorte = 'accompagne' and tirage_adhesion < 0.8 and tirage_fin < 0.6
                and decalage_index < 30
                then date_orientation + to_months(6 + cast(floor(tirage_fin * 10) as integer)) end
                as date_fin_accompagnement,
            (['isole', 'couple_sans_enfant', 'couple_avec_enfants', 'monoparental', 'autre'])
                [1 + cast(floor({u('composition')} * 5) as integer)] as composition,
            (['moins_25', '25_39', '40_59', '60_plus'])[1 + cast(floor({u('age')} * 4) as integer)]
                as tranche_age,
            (['moins_1000', '1000_1500', '1500_plus'])[1 + cast(floor({u('ressources')} * 3) as integer)]
                as tranche_ressources,
            loyer_centimes,
            aide_centimes,
            fragilite,
            decalage_index,
            case when {u('effort')} < 0.1 then null else round(0.1 + {u('effort2')} * 0.5, 3) end
                as taux_effort,
            (['57', '54', '67', '68', '31', '33', '59', '62', '93', '94', '95', '91', '78', '45', '2A', '971'])
                [1 + cast(floor({u('departement')} * 16) as integer)] as departement,
            (['dalo', 'pdalhpd', 'violences', 'sortie_hebergement', 'aucun'])
                [1 + cast(floor({u('public')} * 5) as integer)] as public_prioritaire,
            (['bailleur', 'siao', 'ccas', 'service_social', 'association', 'autre'])
                [1 + cast(floor({u('origine')} * 6) as integer)] as origine_orientation
        from menages
        """
    )
    # 60 months each; payments fall short for fragile households before the index month,
    # and recover after it for accompanied ones. Balances are cumulated exactly in cents.
    con.execute(
        f"""
        create table comptes as
        with mois as (
            select
                menages_livres.*,
                m,
                date '{PREMIER_MOIS}' + to_months(m) as mois,
                cast(hash(menages_livres.i, m, {graine}) % 1000 as bigint) as alea
            from menages_livres
            cross join range({MOIS_COMPTE}) as t(m)
        ),
        mouvements as (
            select
                *,
                loyer_centimes as quittance,
                aide_centimes as aide,
                case
                    when fragilite > 0.6 and alea < 300
                        and (mois < date_orientation or cohorte = 'temoin' or alea < 120)
                        then greatest(loyer_centimes - aide_centimes - 15000 - alea * 10, 0)
                    else loyer_centimes - aide_centimes + case when alea > 950 then 5000 else 0 end
                end as paiement,
                case when m % 12 = 5 and alea < 100 then alea * 10 - 500 else 0 end as regularisation
            from mois
        )
        select
            menage_id,
            projet_id,
            mois,
            quittance,
            aide,
            paiement,
            regularisation,
            sum(quittance - aide - paiement + regularisation) over (
                partition by menage_id order by mois rows between unbounded preceding and current row
            ) + cast(fragilite * 50000 as bigint) as solde,
            fragilite > 0.6 and alea > 900 as plan_apurement
        from mouvements
        """
    )
    con.execute(
        """
        create table evenements as
        select menage_id, projet_id, date_orientation - to_days(90) as date, 'commandement_payer' as type_evenement
        from menages_livres where fragilite > 0.8
        union all
        select menage_id, projet_id, date_orientation - to_days(20), 'assignation'
        from menages_livres where fragilite > 0.85
        union all
        select menage_id, projet_id, date_orientation + to_days(200), 'expulsion_realisee'
        from menages_livres where fragilite > 0.985 and decalage_index < 30
        union all
        select menage_id, projet_id, date_orientation + to_days(60), 'plan_apurement_signe'
        from menages_livres where fragilite between 0.7 and 0.8
        """
    )
    con.execute(
        f"""
        create table contacts as
        select
            menage_id,
            projet_id,
            date_debut_accompagnement + to_days(cast(k * 21 as integer)) as date,
            (['visite_domicile', 'rdv_bureau', 'telephone', 'bilan'])[1 + cast(k % 4 as integer)]
                as type_contact,
            cast(hash(i, k, {graine}) % 100 as bigint) < 78 as honore,
            (['travailleur_social', 'cesf', 'psychologue'])[1 + cast(k % 3 as integer)] as intervenant
        from menages_livres
        cross join range(8) as t(k)
        where date_debut_accompagnement is not null
            and date_debut_accompagnement + to_days(cast(k * 21 as integer)) <= date '{EXTRACTION}'
        """
    )


def _selection(table: str, francais: bool) -> str:
    """The SELECT that writes one table in one of the two office formats."""
    def montant(expr: str) -> str:
        texte = f"printf('%.2f', ({expr}) / 100.0)"
        return f"replace({texte}, '.', ',')" if francais else texte

    def date(expr: str) -> str:
        return f"strftime({expr}, '%d/%m/%Y')" if francais else f"strftime({expr}, '%Y-%m-%d')"

    def mois(expr: str) -> str:
        return f"strftime({expr}, '%m/%Y')" if francais else f"strftime({expr}, '%Y-%m')"

    def booleen(expr: str) -> str:
        return f"case when {expr} then 'oui' else 'non' end" if francais else f"case when {expr} then 'true' else 'false' end"

    if table == "menages":
        colonnes = [
            "menage_id", "projet_id", "bailleur_id", "cohorte", "volet",
            f"{date('date_orientation')} as date_orientation",
            f"{date('date_debut_accompagnement')} as date_debut_accompagnement",
            f"{date('date_fin_accompagnement')} as date_fin_accompagnement",
            "case when date_fin_accompagnement is not null then 'objectifs_atteints' end as motif_fin",
            "composition", "tranche_age", "tranche_ressources",
            f"{montant('loyer_centimes')} as loyer_mensuel",
            ("replace(cast(taux_effort as varchar), '.', ',')" if francais else "taux_effort")
            + " as taux_effort",
            "departement", "public_prioritaire", "origine_orientation",
        ]
        source = "menages_livres"
    elif table == "comptes_mensuels":
        colonnes = [
            "menage_id", "projet_id", f"{mois('mois')} as mois",
            f"{montant('quittance')} as quittance", f"{montant('aide')} as aide_logement",
            f"{montant('paiement')} as paiement", f"{montant('regularisation')} as regularisation",
            f"{montant('solde')} as solde_fin_mois", f"{booleen('plan_apurement')} as plan_apurement",
        ]
        source = "comptes"
    elif table == "evenements":
        colonnes = ["menage_id", "projet_id", f"{date('date')} as date", "type_evenement"]
        source = "evenements"
    else:
        colonnes = [
            "menage_id", "projet_id", f"{date('date')} as date", "type_contact",
            f"{booleen('honore')} as honore", "intervenant",
        ]
        source = "contacts"
    return f"select {', '.join(colonnes)} from {source}"


def generer(
    exports: Path, menages: int, graine: int = 20200601, memoire: str = "4GB", projets: int | None = None
) -> Jeu:
    """Write the deliveries of `menages` households under `exports/<projet>/<EXTRACTION>/`
    (spread over `projets` projects, by default a few hundred at scale: see nombre_projets)."""
    exports = Path(exports)
    if exports.exists():
        shutil.rmtree(exports)
    exports.mkdir(parents=True)
    projets = projets or nombre_projets(menages)
    travail = exports.parent / f".{exports.name}.generation"
    shutil.rmtree(travail, ignore_errors=True)
    travail.mkdir(parents=True)
    con = duckdb.connect(str(travail / "generation.duckdb"))
    try:
        con.execute(f"set memory_limit = '{memoire}'")
        con.execute("set enable_progress_bar = false")
        _creer_tables(con, menages, projets, graine)
        for table in ("menages", "comptes_mensuels", "evenements", "contacts"):
            for francais in (False, True):
                parite = 1 if francais else 0
                cible = travail / f"{table}_{parite}"
                selection = _selection(table, francais)
                con.execute(
                    f"""
                    copy (
                        select * from ({selection})
                        where cast(right(projet_id, 3) as integer) % 2 = {parite}
                        order by all
                    ) to '{cible}' (format csv, header, delimiter '{';' if francais else ','}',
                        partition_by (projet_id), overwrite_or_ignore, write_partition_columns true)
                    """
                )
                for dossier in sorted(cible.glob("projet_id=*")):
                    projet = dossier.name.split("=", 1)[1]
                    destination = exports / projet / EXTRACTION
                    destination.mkdir(parents=True, exist_ok=True)
                    morceaux = sorted(dossier.glob("*.csv"))
                    _concatener(morceaux, destination / f"{table}.csv")
        # projects without events or contacts still deliver the header
        for dossier in exports.iterdir():
            for table in ("evenements", "contacts"):
                fichier = dossier / EXTRACTION / f"{table}.csv"
                if not fichier.exists():
                    separateur = ";" if int(dossier.name[-3:]) % 2 else ","
                    fichier.write_text(separateur.join(contrat.TABLES[table].noms_colonnes) + "\n")
        bailleurs = [r[0] for r in con.execute("select distinct bailleur_id from menages_livres order by 1").fetchall()]
    finally:
        con.close()
        shutil.rmtree(travail, ignore_errors=True)
    noms = sorted(p.name for p in exports.iterdir())
    octets = sum(f.stat().st_size for f in exports.rglob("*.csv"))
    return Jeu(menages, noms, bailleurs, exports, octets)


def _concatener(morceaux: list[Path], cible: Path) -> None:
    """Join the partition files of one table into one CSV with a single header."""
    with open(cible, "wb") as sortie:
        for numero, morceau in enumerate(morceaux):
            with open(morceau, "rb") as entree:
                entete = entree.readline()
                if numero == 0:
                    sortie.write(entete)
                shutil.copyfileobj(entree, sortie, 1 << 20)


def _terminer_ligne(fichier: Path) -> None:
    contenu = fichier.read_bytes()
    if contenu and not contenu.endswith(b"\n"):
        fichier.write_bytes(contenu + b"\n")


def ecrire_catalogue(dossier_seeds: Path, jeu: Jeu) -> None:
    """Append the benchmark's projects and landlords to a copy of the catalogue seeds."""
    for nom in ("projets.csv", "bailleurs.csv"):
        _terminer_ligne(dossier_seeds / nom)
    with open(dossier_seeds / "projets.csv", "a", newline="", encoding="utf-8") as flux:
        ecrivain = csv.writer(flux, lineterminator="\n")
        for projet in jeu.projets:
            ecrivain.writerow([
                projet, f"Projet de mesure {projet[-3:]}", "Bailleurs de mesure", "Maintien",
                "mesure", "France", "57", "2020-01-01", "2024-12-31", "", "100000.00", "", "",
            ])
    with open(dossier_seeds / "bailleurs.csv", "a", newline="", encoding="utf-8") as flux:
        ecrivain = csv.writer(flux, lineterminator="\n")
        for bailleur in jeu.bailleurs:
            ecrivain.writerow([bailleur, f"Bailleur de mesure {bailleur[-2:]}", "ESH", "Grand Est"])
