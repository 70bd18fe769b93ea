"""Daily run of the AT/MP deadlines: ``python -m django atmp_echeances [--date AAAA-MM-JJ]``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from caisse.work_accidents.services import flag_deadlines


class Command(BaseCommand):
    help = "Signale les dossiers AT/MP proches d'une échéance et constate les reconnaissances implicites."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="Jour du traitement (AAAA-MM-JJ), aujourd'hui par défaut.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            today = dt.date.fromisoformat(options["date"]) if options.get("date") else timezone.localdate()
        except ValueError:
            raise CommandError("Date invalide : format attendu AAAA-MM-JJ.") from None
        report = flag_deadlines(today)
        self.stdout.write(
            f"{report.checked} dossiers examinés au {today:%d/%m/%Y} : {len(report.flagged)} signalés, "
            f"{len(report.implicit)} reconnaissances implicites."
        )
