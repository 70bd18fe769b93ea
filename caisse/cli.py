"""The ``caisse`` command: batch commands of the contract, the persistent path and the server.

Each command only parses its options and calls one function of the domain; the imports are
lazy so that ``caisse c2s`` does not start Django and ``caisse --help`` stays instant.
"""

from __future__ import annotations

import errno
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from caisse.batch_io import UnreadableFile, iso_date

app = typer.Typer(
    help="Caisse : système d'information d'une caisse primaire d'assurance maladie.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
exporter_app = typer.Typer(help="Exporter les décomptes ou les paiements.", no_args_is_help=True)
app.add_typer(exporter_app, name="exporter")


class Format(StrEnum):
    ndjson = "ndjson"
    parquet = "parquet"


def _fail(message: str) -> NoReturn:
    typer.echo(message.splitlines()[0] if message else "Erreur.", err=True)
    raise typer.Exit(code=2)


def _database_label() -> str:
    """The database in use, for an error message: engine, host, port and name, never the password."""
    from django.db import connection

    db = connection.settings_dict
    engine = str(db.get("ENGINE", "")).rsplit(".", 1)[-1]
    host = ":".join(str(part) for part in (db.get("HOST"), db.get("PORT")) if part)
    return f"{engine} {host}/{db.get('NAME')}" if host else f"{engine} {db.get('NAME')}"


def _setup_django(migrate: bool = True) -> None:
    """Start Django and bring the database schema up to date (idempotent, safe to repeat).

    A ``CAISSE_DATABASE_URL`` that cannot be read, a database that does not answer or a schema
    that cannot be brought up to date ends the command (exit 2) with a one-line French error on
    stderr, never a traceback: every persistent command (``importer``, ``recevoir``, ``traiter``,
    ``exporter``) and the server go through here.
    """
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caisse.config.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured
    from django.db import Error as DatabaseError

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        _fail(f"Configuration invalide : {exc}")
    if not migrate:
        return
    from django.core.management import call_command
    from django.db import connection

    try:
        connection.ensure_connection()
    except (DatabaseError, ImproperlyConfigured) as exc:  # refused, unknown host, bad password, no driver
        _fail(f"Base de données inaccessible ({_database_label()}, CAISSE_DATABASE_URL) : {exc}")
    try:
        call_command("migrate", verbosity=0, interactive=False)
    except DatabaseError as exc:
        _fail(f"Mise à jour du schéma de la base impossible ({_database_label()}) : {exc}")


@app.command()
def liquider(
    referentiel: Annotated[Path, typer.Option(help="Dossier du référentiel (NDJSON).")],
    feuilles: Annotated[Path, typer.Option(help="Feuilles de soins (NDJSON, ou Parquet).")],
    out: Annotated[str, typer.Option(help="Fichier de sortie (« - » : sortie standard).")],
    format: Annotated[Format, typer.Option("--format", help="Format de sortie.")] = Format.ndjson,
) -> None:
    """Liquider des feuilles de soins contre un référentiel (en mémoire)."""
    from caisse.rules.claims.batch import run

    if out == "-" and format is Format.parquet:
        _fail("La sortie standard (« --out - ») s'écrit en NDJSON : donnez un dossier ou un fichier pour --format parquet.")
    try:
        run(referentiel, feuilles, out, format.value)
    except UnreadableFile as exc:
        _fail(str(exc))


@app.command()
def c2s(
    demandes: Annotated[Path, typer.Option(help="Demandes de C2S (NDJSON).")],
    out: Annotated[str, typer.Option(help="Fichier de sortie (« - » : sortie standard).")],
) -> None:
    """Instruire des demandes de complémentaire santé solidaire."""
    from caisse.rules.c2s.batch import run

    try:
        run(demandes, out)
    except UnreadableFile as exc:
        _fail(str(exc))


@app.command()
def ij(
    arrets: Annotated[Path, typer.Option(help="Arrêts de travail (NDJSON).")],
    out: Annotated[str, typer.Option(help="Fichier de sortie (« - » : sortie standard).")],
) -> None:
    """Calculer les indemnités journalières d'arrêts de travail."""
    from caisse.rules.allowances.batch import run

    try:
        run(arrets, out)
    except UnreadableFile as exc:
        _fail(str(exc))


@app.command()
def simuler(
    beneficiaires: Annotated[int, typer.Option(help="Nombre de bénéficiaires.")],
    annee: Annotated[int, typer.Option(help="Année simulée (flux de soins et d'arrêts).")],
    graine: Annotated[int, typer.Option(help="Graine : même graine, même caisse.")],
    out: Annotated[Path, typer.Option(help="Dossier de sortie.")],
    format: Annotated[Format, typer.Option("--format", help="Format des flux.")] = Format.ndjson,
) -> None:
    """Générer une caisse synthétique déterministe (référentiel et flux d'une année)."""
    from caisse.simulation.generator import SimulationError, run

    try:
        run(beneficiaires, annee, graine, out, format.value)
    except SimulationError as exc:
        _fail(str(exc))


def _serving_defaults(host: str) -> None:
    """What serving needs unless the environment says otherwise: no development mode (French
    error pages, no technical detail shown to users; the secret key is then the installation's,
    see the settings) and the host served among the allowed ones."""
    import contextlib
    import os
    from pathlib import Path

    os.environ.setdefault("CAISSE_DEBUG", "0")
    var = Path(__file__).resolve().parent.parent / "var"
    with contextlib.suppress(OSError):  # settings.STATIC_ROOT: WhiteNoise warns when it is missing
        (var / "static").mkdir(parents=True, exist_ok=True)
    if "CAISSE_ALLOWED_HOSTS" not in os.environ and host not in ("127.0.0.1", "localhost"):
        os.environ["CAISSE_ALLOWED_HOSTS"] = "*" if host in ("0.0.0.0", "::") else f"127.0.0.1,localhost,{host}"


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
) -> None:
    """Servir le back-office, les espaces en ligne et l'API HTTP."""
    _serving_defaults(host)
    _setup_django()
    from caisse.web.server import serve as run_server

    run_server(host, port)


@app.command()
def demo(
    personnes: Annotated[int, typer.Option(help="Taille de la caisse de démonstration.")] = 20_000,
    host: Annotated[str, typer.Option(help="Adresse d'écoute.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port d'écoute.")] = 8000,
    servir: Annotated[bool, typer.Option("--servir/--sans-serveur", help="Servir après construction.")] = True,
) -> None:
    """Construire une caisse de démonstration, afficher les comptes, puis la servir."""
    if servir:
        _serving_defaults(host)
    _setup_django()
    from caisse.web.demo import build_demo

    build_demo(personnes)
    if servir:
        from caisse.web.server import serve as run_server

        run_server(host, port)


@app.command()
def importer(
    referentiel: Annotated[Path, typer.Option(help="Dossier du référentiel (NDJSON).")],
) -> None:
    """Charger ou mettre à jour le référentiel dans la base."""
    _setup_django()
    from caisse.beneficiaries.exchange import import_referentiel
    from caisse.claims.services import import_referentiel_extras

    try:
        import_referentiel(referentiel)
        import_referentiel_extras(referentiel)
    except UnreadableFile as exc:
        _fail(str(exc))


@app.command()
def nomenclature(
    out: Annotated[str, typer.Option(help="Fichier NDJSON produit (le nomenclature.ndjson d'un référentiel ; « - » : sortie standard).")],
    bdpm: Annotated[
        Path | None, typer.Option(help="Présentations de la base de données publique des médicaments (CIS_CIP_bdpm.txt).")
    ] = None,
    csv: Annotated[
        Path | None, typer.Option(help="Table officielle convertie en CSV « ; » (code, libelle, categorie, tarif_cts, debut, fin).")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Date d'effet des prix de la base des médicaments (AAAA-MM-JJ ; défaut : aujourd'hui).")
    ] = None,
) -> None:
    """Convertir des fichiers officiels (base des médicaments, tables en CSV) en nomenclature datée."""
    import datetime as dt

    import polars as pl

    from caisse.batch_io import write_ndjson
    from caisse.rules.claims.nomenclature import SCHEMA, load_official_csv
    from caisse.rules.claims.official import nomenclature_records, read_bdpm_presentations

    if bdpm is None and csv is None:
        _fail("Indiquez au moins un fichier officiel : --bdpm ou --csv.")
    try:
        debut = iso_date(date) if date else dt.date.today()
    except ValueError:
        _fail(f"Date d'effet invalide : « {date} » (attendu : AAAA-MM-JJ).")
    parts = [pl.DataFrame(schema=SCHEMA)]
    try:
        if csv is not None:
            parts.append(load_official_csv(csv))
            typer.echo(f"nomenclature : {parts[-1].height} ligne(s) lue(s) dans {csv}.", err=True)
        if bdpm is not None:
            rows, report = read_bdpm_presentations(bdpm, debut)
            parts.append(rows)
            left_out = "".join(f" ; {count} écartée(s) : {why}" for why, count in sorted(report.left_out.items()))
            typer.echo(f"nomenclature : {report.kept} présentation(s) remboursable(s) au {debut:%d/%m/%Y}{left_out}.", err=True)
    except UnreadableFile as exc:
        _fail(str(exc))
    written = write_ndjson(out, nomenclature_records(pl.concat(parts)))
    typer.echo(f"nomenclature : {written} code(s) daté(s) écrits dans {out}.", err=True)


@app.command()
def recevoir(
    feuilles: Annotated[Path, typer.Option(help="Flux de feuilles (NDJSON ou Parquet).")],
) -> None:
    """Recevoir un flux de feuilles de soins (un doublon d'identifiant n'est jamais stocké deux fois)."""
    _setup_django()
    from caisse.claims.services import receive_flow

    try:
        receive_flow(feuilles)
    except UnreadableFile as exc:
        _fail(str(exc))


@app.command()
def traiter(
    jusqu_au: Annotated[str | None, typer.Option("--jusqu-au", help="Date limite de réception (AAAA-MM-JJ).")] = None,
) -> None:
    """Traitement quotidien : liquider les feuilles reçues, mettre à jour compteurs, dettes et paiements."""

    limit = None
    if jusqu_au:
        try:
            limit = iso_date(jusqu_au)
        except ValueError:
            _fail(f"Date « {jusqu_au} » invalide : format attendu AAAA-MM-JJ.")
    _setup_django()
    from caisse.claims.services import RunConflict, daily_run

    try:
        daily_run(limit)
    except RunConflict as exc:
        _fail(str(exc) or "Un autre traitement quotidien est en cours : relancez-le quand il sera terminé.")


@exporter_app.command("decomptes")
def exporter_decomptes(
    out: Annotated[str, typer.Option(help="Fichier de sortie (« - » : sortie standard).")],
) -> None:
    """Exporter tous les décomptes (format du §2), dans l'ordre de réception."""
    _setup_django()
    from caisse.claims.services import export_decomptes

    export_decomptes(out)


@exporter_app.command("paiements")
def exporter_paiements(
    out: Annotated[str, typer.Option(help="Fichier SEPA pain.001 de sortie.")],
) -> None:
    """Exporter les paiements en virements SEPA (pain.001), un par destinataire et date.

    Sans aucun virement à exporter (aucun paiement, ou aucun avec un IBAN valide), aucun fichier
    n'est écrit : un message en français et le code de sortie 1."""
    _setup_django()
    from caisse.claims.sepa import NothingToTransfer
    from caisse.claims.services import export_payments

    try:
        export_payments(out)
    except NothingToTransfer as exc:
        typer.echo(f"exporter : {exc}", err=True)
        raise typer.Exit(code=1) from None


@app.command()
def jeton(
    utilisateur: Annotated[str, typer.Option(help="Identifiant du compte (professionnel ou agent).")],
    libelle: Annotated[str, typer.Option(help="À quoi sert le jeton (logiciel, partenaire).")] = "Jeton d'API",
) -> None:
    """Créer un jeton d'API (Authorization: Bearer …) pour un compte ; il n'est affiché qu'une fois."""
    _setup_django()
    from caisse.accounts.models import ApiToken, User

    user = User.objects.filter(username=utilisateur, is_active=True).first()
    if user is None:
        _fail(f"Compte « {utilisateur} » introuvable ou désactivé.")
    _, token = ApiToken.issue(user, libelle)
    typer.echo(f"Jeton créé pour {user} (il ne sera plus affiché) :", err=True)
    typer.echo(token)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def gerer(ctx: typer.Context) -> None:
    """Commandes d'administration Django (migrate, createsuperuser…)."""
    _setup_django(migrate=False)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["caisse gerer", *ctx.args])


_OS_ERRORS = {
    errno.ENOENT: "dossier ou fichier introuvable",
    errno.EISDIR: "c'est un dossier, un fichier est attendu",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EACCES: "permission refusée",
    errno.EPERM: "opération non permise",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "système de fichiers en lecture seule",
}


_OS_ERROR_TYPES = (
    (IsADirectoryError, errno.EISDIR),
    (NotADirectoryError, errno.ENOTDIR),
    (FileNotFoundError, errno.ENOENT),
    (PermissionError, errno.EACCES),
)
"""The errno of an error raised without one (Polars' writer raises ``IsADirectoryError`` with an
English text only)."""


def os_error_message(exc: OSError) -> str:
    """One French line for a file the command could not read or write (never a traceback)."""
    where = f" « {exc.filename} »" if exc.filename else ""
    code = exc.errno or next((number for kind, number in _OS_ERROR_TYPES if isinstance(exc, kind)), 0)
    why = _OS_ERRORS.get(code) or exc.strerror or str(exc) or type(exc).__name__
    return f"Accès impossible au fichier{where} : {why}."


def usage_error_message(exc: Exception) -> str:
    """One French line for a command line the parser refused (typer's own texts are English)."""
    from typer._click import exceptions as cli_errors  # typer's bundled click (version pinned)

    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "caisse"
    hint = f" (voir « {command} --help »)"
    param = getattr(exc, "param", None)
    what = " / ".join(getattr(param, "opts", None) or [str(getattr(param, "name", None) or "un paramètre")])
    if isinstance(exc, cli_errors.MissingParameter):
        return f"Paramètre obligatoire manquant : {what}{hint}."
    if isinstance(exc, cli_errors.BadParameter):
        return f"Valeur invalide pour {what}{hint}."
    if isinstance(exc, cli_errors.NoSuchOption):
        return f"Option inconnue : {exc.option_name}{hint}."
    if isinstance(exc, cli_errors.BadOptionUsage):
        return f"Option mal employée : {exc.option_name}{hint}."
    message = str(getattr(exc, "message", ""))
    if message.startswith("No such command"):
        return f"Commande inconnue{message[len('No such command'):].rstrip('.')}{hint}."
    return f"Ligne de commande invalide{hint}."


def main() -> None:
    from typer._click import exceptions as cli_errors

    try:
        result = app(prog_name="caisse", standalone_mode=False)
    except cli_errors.NoArgsIsHelpError as exc:  # ``caisse`` alone: its help, as before
        exc.show()
        sys.exit(2)
    except cli_errors.UsageError as exc:
        print(usage_error_message(exc), file=sys.stderr)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        print("Interrompu.", file=sys.stderr)
        sys.exit(130)
    except OSError as exc:
        # `caisse … --out - | head`: the reader left, nothing to say (Polars' writer gives no errno).
        if exc.errno == errno.EPIPE or "os error 32" in str(exc):
            sys.stderr.close()
            sys.exit(1)
        print(os_error_message(exc), file=sys.stderr)
        sys.exit(2)
    if isinstance(result, int) and result:  # a command's typer.Exit(code)
        sys.exit(result)


if __name__ == "__main__":
    main()
