"""Real-time liquidation of one FSE: the same engine and the same référentiel as the daily run.

The answer is what the daily run would pay for this feuille if it were the next one processed:
the person's counters (caps, debt) come from the database, nothing is written. The feuille is
then sent in a flow (``caisse recevoir``), where it is stored and paid once.

The engine has a fixed cost per call, whatever the number of feuilles, so concurrent requests of
a server process are liquidated together (micro-batching, ADR 0008): the first request waits a
few milliseconds, takes the feuilles queued meanwhile and liquidates them in one engine call,
then hands over to the next queued request. Feuilles of one batch are independent: never two of
the same person or with the same id (those wait for the next batch), and every feuille sees the
counters of the database only, so each answer equals :func:`liquidate_one`'s.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import polars as pl
from django.http import HttpRequest, JsonResponse

from caisse.accounts.models import Role
from caisse.accounts.perms import Capability, has
from caisse.api import openapi
from caisse.api.auth import authenticated, endpoint, problem
from caisse.api.engine_process import BatchInfo, EngineClient
from caisse.claims.services import (
    batch_inputs,
    load_counters,
    nomenclature_version,
    referentiel_for,
    stored_nomenclature,
)
from caisse.rules.claims import records
from caisse.rules.claims.controls import PARCOURS, RISQUES
from caisse.rules.claims.engine import liquidate, liquidate_records

JSON = {"ensure_ascii": False}
logger = logging.getLogger(__name__)


@lru_cache(maxsize=2)
def _nomenclature(version: tuple[int, Any]) -> pl.DataFrame:
    return stored_nomenclature()


def liquidate_one(feuille: dict[str, Any]) -> dict[str, Any]:
    """One feuille alone, one engine call: the reference the batched path must equal."""
    nir, executant = str(feuille.get("nir") or ""), str(feuille.get("executant") or "")
    referentiel = referentiel_for([nir], [executant], _nomenclature(nomenclature_version()))
    decomptes, _ = liquidate_records(referentiel, [feuille], load_counters([nir]))
    return decomptes[0]


def _key(value: Any) -> str | None:
    """A field as the engine reads it (string, or an integer as text; anything else is empty)."""
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def independence_keys(feuille: dict[str, Any]) -> tuple[tuple[str, str | None], ...]:
    """Two feuilles sharing a key would see each other in one engine call: same person (caps, debt,
    duplicate acts) or same id (duplicate feuille)."""
    return ("nir", _key(feuille.get("nir"))), ("id", _key(feuille.get("id")))


def independent_rounds(feuilles: Sequence[dict[str, Any]]) -> list[list[int]]:
    """Positions grouped so that no two feuilles of a group share a key (first come, first placed)."""
    rounds: list[tuple[set[Any], list[int]]] = []
    for pos, feuille in enumerate(feuilles):
        keys = independence_keys(feuille)
        for used, members in rounds:
            if used.isdisjoint(keys):
                used.update(keys)
                members.append(pos)
                break
        else:
            rounds.append((set(keys), [pos]))
    return [members for _, members in rounds]


def liquidate_batch(feuilles: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each feuille as :func:`liquidate_one` would answer it, with one read of the database for all
    (référentiel, counters and nomenclature version in one round trip, by queries compiled once per
    process), and one engine call per group of independent feuilles (usually one)."""
    if not feuilles:
        return []
    inputs = batch_inputs([str(f.get("nir") or "") for f in feuilles], [str(f.get("executant") or "") for f in feuilles])
    referentiel = inputs.referentiel(_nomenclature(inputs.nomenclature_version))
    counters = inputs.counters
    out: list[dict[str, Any] | None] = [None] * len(feuilles)
    for members in independent_rounds(feuilles):
        f, lines = records.frames_from_records([feuilles[i] for i in members])
        decomptes, out_lines, _ = liquidate(referentiel, f, lines, counters, carry=False)
        for pos, decompte in zip(members, records.records_from_frames(decomptes, out_lines), strict=True):
            out[pos] = decompte
    return [d for d in out if d is not None]


@dataclass(eq=False)  # identity: two callers may send the same feuille
class _Pending:
    feuille: dict[str, Any]
    keys: tuple[tuple[str, str | None], ...]
    done: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    result: dict[str, Any] | None = None
    error: BaseException | None = None
    alone: bool = False
    queued_at: float = field(default_factory=time.perf_counter)
    info: BatchInfo = BatchInfo()


class MicroBatcher:
    """Gathers the concurrent calls of a process and runs them together (leader and followers).

    The first caller waits ``window`` seconds, takes the queued items that are independent of
    each other (up to ``max_size``) and runs them in its own thread, with its own database
    connection; meanwhile new callers queue. When it is done it hands the lead to the oldest
    queued caller, who runs the next batch at once with everything queued by then. An item that
    shares a key with one already taken waits for the next batch. If a batch of several fails,
    each caller retries alone, so one bad feuille never fails the others.
    """

    def __init__(self, run: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
                 keys: Callable[[dict[str, Any]], tuple[tuple[str, str | None], ...]] = independence_keys,
                 window: float = 0.002, max_size: int = 64,
                 gate: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
        self.run, self.keys, self.window, self.max_size, self.gate = run, keys, window, max_size, gate
        self._lock = threading.Lock()
        self._queue: deque[_Pending] = deque()
        self._leading = False
        self.batches = 0  # statistics, for the benchmark and the tests
        self.items = 0

    def submit(self, feuille: dict[str, Any]) -> dict[str, Any]:
        return self.submit_sized(feuille)[0]

    def submit_sized(self, feuille: dict[str, Any]) -> tuple[dict[str, Any], BatchInfo]:
        """The answer, and the size and timings of the engine call that liquidated it."""
        item = _Pending(feuille, self.keys(feuille))
        with self._lock:
            self._queue.append(item)
            fresh = not self._leading
            if fresh:
                self._leading = item.lead = True
        if not item.lead:
            item.done.wait()
        if item.lead:
            self._lead(item, fresh)
        if item.alone:  # its batch failed: alone, it gets its own answer or its own error
            started = time.perf_counter()
            result = self.run([feuille])[0]
            return result, BatchInfo(1, (started - item.queued_at) * 1000, (time.perf_counter() - started) * 1000)
        if item.error is not None:
            raise item.error
        assert item.result is not None
        return item.result, item.info

    def _take(self) -> list[_Pending]:
        batch: list[_Pending] = []
        used: set[Any] = set()
        with self._lock:
            kept: deque[_Pending] = deque()
            while self._queue:
                item = self._queue.popleft()
                if len(batch) < self.max_size and used.isdisjoint(item.keys):
                    used.update(item.keys)
                    batch.append(item)
                else:
                    kept.append(item)
            self._queue = kept
        return batch

    def _lead(self, me: _Pending, fresh: bool) -> None:
        batch: list[_Pending] = []
        try:
            if fresh and self.window > 0:
                time.sleep(self.window)
            with self.gate():  # the batch is taken once through the gate: it holds all that queued meanwhile
                batch = self._take()  # the leader is the oldest item queued: it is always taken
                started = time.perf_counter()
                try:
                    results = self.run([item.feuille for item in batch])
                    if len(results) != len(batch):
                        raise RuntimeError("le moteur n'a pas rendu un décompte par feuille")
                    ran_ms = (time.perf_counter() - started) * 1000
                    for item, result in zip(batch, results, strict=True):
                        item.result = result
                        item.info = BatchInfo(len(batch), (started - item.queued_at) * 1000, ran_ms)
                except Exception as exc:
                    for item in batch:
                        item.alone, item.error = len(batch) > 1, exc
            self.batches += 1
            self.items += len(batch)
        finally:
            for item in batch:
                if item is not me:
                    item.done.set()
            with self._lock:
                if me in self._queue:  # failed before taking its batch: leave, do not hand over to itself
                    self._queue.remove(me)
                    me.error = me.error or RuntimeError("lot interrompu")
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._leading = False


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class FileGate:
    """One batch at a time across the processes of a server: an exclusive ``flock`` on a shared file.

    On a small machine, every process running its engine calls back to back would take every
    core; through the gate, the batches of all processes take turns (each one grows meanwhile)
    and one core at most computes, leaving the others to the requests and the database."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> FileGate:
        if self._fd is None or self._pid != os.getpid():  # a lock of its own in every process
            self._fd, self._pid = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)


def _gate() -> Callable[[], AbstractContextManager[Any]]:
    path = os.environ.get("CAISSE_API_VERROU_MOTEUR")
    if not path:
        return nullcontext
    gate = FileGate(path)
    return lambda: gate


def _slots() -> threading.BoundedSemaphore | None:
    limit = int(_env_number("CAISSE_API_LIQUIDATIONS_MAX", 0))
    return threading.BoundedSemaphore(limit) if limit > 0 else None


# Liquidations waiting or running in this process, at most (``caisse serve`` sets it to three quarters
# of its threads): beyond, a liquidation is refused at once (503) rather than taking the threads that the
# rights lookups need; unset, no limit.
SLOTS = _slots()
BATCHER = MicroBatcher(
    liquidate_batch,
    window=_env_number("CAISSE_API_LOT_ATTENTE_MS", 2) / 1000,
    max_size=max(1, int(_env_number("CAISSE_API_LOT_MAX", 64))),
    gate=_gate(),
)


def _remote() -> EngineClient | None:
    address, key = os.environ.get("CAISSE_API_MOTEUR"), os.environ.get("CAISSE_API_MOTEUR_CLE")
    return EngineClient(address, bytes.fromhex(key)) if address and key else None


# ``caisse serve`` runs the batches in a process of their own (engine_process); elsewhere (tests,
# development server) and if that process cannot be reached, they run in this process.
REMOTE = _remote()


def liquidate_sized(feuille: dict[str, Any]) -> tuple[dict[str, Any], BatchInfo]:
    if REMOTE is not None:
        try:
            return REMOTE.submit_sized(feuille)
        except (OSError, EOFError):
            logger.warning("Processus de liquidation injoignable : liquidation dans le processus web.")
    return BATCHER.submit_sized(feuille)


#: Fields without which the engine cannot read a feuille at all (it would reject it whole with
#: DONNEE_INVALIDE): the API answers 422 and names them. ``risque`` and ``parcours`` default to
#: ``maladie`` and ``medecin_traitant``; ``prescripteur`` and ``carte_vitale`` may be null.
REQUIRED = ("id", "date_reception", "nir", "executant", "tiers_payant", "lignes")


@lru_cache(maxsize=4096)
def professional_identifier(professional_id: int | None) -> str | None:
    """The identifier (RPPS, FINESS…) of a professional account's professional, read once per
    process (it never changes): the real-time liquidation compares it with the feuille's executant."""
    if professional_id is None:
        return None
    from caisse.professionals.models import HealthProfessional

    return HealthProfessional.objects.filter(pk=professional_id).values_list("identifiant", flat=True).first()


def unreadable_fields(feuille: dict[str, Any]) -> tuple[list[str], str]:
    """The required fields missing (absent or null), and what is wrong with ``lignes`` ("" if fine)."""
    missing = [name for name in REQUIRED if feuille.get(name) is None]
    lignes = feuille.get("lignes")
    if lignes is None:
        return missing, ""
    if not isinstance(lignes, list) or not lignes:
        return missing, "« lignes » doit être une liste non vide d'actes"
    if not all(isinstance(line, dict) for line in lignes):
        return missing, "chaque élément de « lignes » doit être un objet {code, date_soins, quantite, coefficient, montant_facture_cts}"
    return missing, ""


def _iso_date(value: Any) -> bool:
    try:
        return isinstance(value, str) and len(value) == 10 and dt.date.fromisoformat(value) is not None
    except ValueError:
        return False


def invalid_fields(feuille: dict[str, Any]) -> list[str]:
    """What the engine will judge invalid (a DONNEE_INVALIDE rejection), field by field and in
    French, so that the professional's software knows what to correct: the décompte is the engine's
    (the same as the batch's), these names come with it (``champs_invalides``)."""
    bad: list[str] = []

    def check(ok: bool, name: str, why: str) -> None:
        if not ok:
            bad.append(f"{name} : {why}")

    check(feuille.get("type") in ("FSE", "FSP"), "type", "« FSE » ou « FSP » attendu")
    check(_iso_date(feuille.get("date_reception")), "date_reception", "date AAAA-MM-JJ attendue")
    for name in ("nir", "executant"):
        check(isinstance(feuille.get(name), str | int) and not isinstance(feuille.get(name), bool), name,
              "texte attendu")
    for name in ("tiers_payant", "en_rapport_ald"):
        check(name not in feuille or isinstance(feuille.get(name), bool), name, "true ou false attendu")
    check(feuille.get("risque", "maladie") in RISQUES, "risque", f"une valeur parmi {', '.join(RISQUES)}")
    check(feuille.get("parcours", "medecin_traitant") in PARCOURS, "parcours", f"une valeur parmi {', '.join(PARCOURS)}")
    for rank, line in enumerate(feuille.get("lignes") or [], start=1):
        where = f"lignes[{rank}]"
        check(isinstance(line.get("code"), str), f"{where}.code", "code d'acte attendu")
        check(_iso_date(line.get("date_soins")), f"{where}.date_soins", "date AAAA-MM-JJ attendue")
        quantite = line.get("quantite", 1)
        check(isinstance(quantite, int) and not isinstance(quantite, bool) and quantite >= 1, f"{where}.quantite",
              "entier positif attendu")
        coefficient = line.get("coefficient", 1)
        check(isinstance(coefficient, int | float) and not isinstance(coefficient, bool) and coefficient > 0,
              f"{where}.coefficient", "nombre positif attendu")
        montant = line.get("montant_facture_cts")
        check(isinstance(montant, int) and not isinstance(montant, bool) and montant >= 0,
              f"{where}.montant_facture_cts", "montant entier en centimes attendu")
    return bad


def unprocessable(missing: list[str], lignes: str) -> JsonResponse:
    parts = ([f"champ(s) manquant(s) : {', '.join(missing)}"] if missing else []) + ([lignes] if lignes else [])
    return problem(422, "Feuille incomplète", "Feuille illisible par le moteur : " + " ; ".join(parts) + ".",
                   rejets=["DONNEE_INVALIDE"], champs_manquants=missing)


@endpoint("POST")
@authenticated
def liquidation(request: HttpRequest) -> JsonResponse:
    user = request.api_user  # type: ignore[attr-defined]
    if not (user.role == Role.PROFESSIONNEL or has(user, Capability.VIEW_FILE)):
        return problem(403, "Accès refusé", "La liquidation en ligne est réservée aux professionnels et agents.")
    try:
        feuille = json.loads(request.body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return problem(400, "Corps illisible", "Un objet JSON (une feuille de soins, contrat §2) est attendu.")
    if not isinstance(feuille, dict):
        return problem(400, "Corps illisible", "Un objet JSON (une feuille de soins, contrat §2) est attendu.")
    missing, lignes = unreadable_fields(feuille)
    if missing or lignes:
        return unprocessable(missing, lignes)
    if user.role == Role.PROFESSIONNEL:  # a professional liquidates its own feuilles only
        own = professional_identifier(user.professional_id)
        if own is None or str(feuille.get("executant")) != own:
            return problem(403, "Accès refusé",
                           "Un professionnel ne liquide en ligne que ses propres feuilles : l'exécutant doit être "
                           f"l'identifiant de votre compte{f' ({own})' if own else ''}.")
    if SLOTS is not None and not SLOTS.acquire(blocking=False):
        response = problem(503, "Service momentanément surchargé",
                           "Trop de liquidations en cours sur ce serveur : réessayez dans une seconde.")
        response["Retry-After"] = "1"
        return response
    try:
        decompte, info = liquidate_sized(feuille)
    finally:
        if SLOTS is not None:
            SLOTS.release()
    if "DONNEE_INVALIDE" in decompte.get("rejets", ()) or any(
            "DONNEE_INVALIDE" in line.get("rejets", ()) for line in decompte.get("lignes") or ()):
        decompte = {**decompte, "champs_invalides": invalid_fields(feuille)}
    response = JsonResponse(decompte, json_dumps_params=JSON)
    # Measurement: the feuilles liquidated in the same engine call, and where the time went
    # (Server-Timing, W3C: shown by browsers' developer tools, read by bench/bench_api.py).
    response["X-Caisse-Lot"] = str(info.size)
    response["Server-Timing"] = (f'attente;dur={info.waited_ms:.1f};desc="attente du lot", '
                                 f'lot;dur={info.ran_ms:.1f};desc="lecture de la base et moteur"')
    return response


openapi.register(
    "/api/v1/liquidations",
    {
        "post": {
            "operationId": "liquiderFeuille",
            "summary": "Liquidation immédiate d'une feuille de soins électronique (sans paiement)",
            "description": "Même moteur et mêmes règles que le traitement quotidien ; les compteurs de la "
                           "personne (plafonds, dette) sont lus dans la base, rien n'est enregistré. Avec le "
                           "jeton d'un professionnel, l'exécutant de la feuille doit être ce professionnel "
                           "(403 sinon) ; un agent liquide la feuille de tout professionnel.",
            "tags": ["Frais de santé"],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Feuille"}}}},
            "responses": {
                "200": {"description": "Décompte (contrat §2)", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Decompte"}}},
                    "headers": {
                        "X-Caisse-Lot": {"description": "Feuilles liquidées dans le même appel du moteur.",
                                         "schema": {"type": "integer"}},
                        "Server-Timing": {"description": "Temps passé dans le serveur (W3C Server Timing) : "
                                                         "« attente » du lot, puis « lot » (lecture de la base "
                                                         "et moteur), en millisecondes.",
                                          "schema": {"type": "string"}},
                    }},
                "400": openapi.PROBLEM, "401": openapi.PROBLEM, "403": openapi.PROBLEM,
                "422": {"description": "Feuille illisible par le moteur (champs obligatoires absents ou nuls, "
                                       "lignes qui ne sont pas une liste d'objets) : problème RFC 9457 avec "
                                       "« rejets » ([DONNEE_INVALIDE]) et « champs_manquants »",
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Probleme"}}}},
                "503": openapi.PROBLEM,
            },
        }
    },
    {
        "Feuille": {
            "type": "object",
            "required": list(REQUIRED),
            "properties": {
                "id": {"type": ["string", "integer"]}, "type": {"enum": ["FSE", "FSP"]},
                "date_reception": {"type": "string", "format": "date"}, "nir": {"type": "string"},
                "executant": {"type": "string"}, "prescripteur": {"type": ["string", "null"]},
                "tiers_payant": {"type": "boolean"}, "risque": {"enum": list(RISQUES)},
                "parcours": {"enum": list(PARCOURS)}, "en_rapport_ald": {"type": "boolean"},
                "carte_vitale": {"type": ["string", "null"]},
                "lignes": {"type": "array", "minItems": 1, "items": {"type": "object", "properties": {
                    "code": {"type": "string"}, "date_soins": {"type": "string", "format": "date"},
                    "quantite": {"type": "integer"}, "coefficient": {"type": "number"},
                    "montant_facture_cts": {"type": "integer"}}}},
            },
        },
        "Decompte": {
            "type": "object",
            "properties": {
                "id": {"type": ["string", "integer"]}, "statut": {"enum": ["liquidee", "rejetee"]},
                "rejets": {"type": "array", "items": {"type": "string"}},
                "destinataire": {"enum": ["ps", "assure"]},
                **{name: {"type": "integer"} for name in (
                    "montant_rembourse_cts", "paiement_ps_cts", "paiement_assure_cts", "part_c2s_cts",
                    "dette_creee_cts", "dette_recuperee_cts", "forfait_journalier_cts")},
                "lignes": {"type": "array", "items": {"type": "object"}},
                "explication": {"type": "string"},
                "champs_invalides": {"type": "array", "items": {"type": "string"},
                                     "description": "Avec un rejet DONNEE_INVALIDE : chaque champ en cause et ce "
                                                    "qui est attendu, en français."},
            },
        },
    },
)
