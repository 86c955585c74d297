"""Retraining on the provider's corrections, and going back to an earlier model.

A retrained model is fitted on the training side of the corpus plus every corrected
message, a correction weighing ``[corrections] weight`` corpus messages, and kept only
when its macro-F1 on the held-out groups is within ``tolerance`` of the model in use.

Models live under ``Config.models_dir`` (never over the shipped one):
  model-*/   one folder per retrained model, as model_io writes it;
  current    a symbolic link to the model in use (none: the shipped model);
  previous   a link to the one it replaced, for ``triage rollback``.
A new model is written and synced in a folder of its own first; only then do the
links move, each with ``os.replace``, which is atomic. So ``current`` names the old
complete model or the new complete one at every moment, whatever is interrupted,
and a half-written folder is only an unlinked one, removed by the next retrain.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from triage.classifier import own_text, prepare
from triage.config import Config
from triage.corpus import LABELS, Example, corpus_paths, load_examples, split
from triage.errors import TriageError
from triage.files import exclusive_lock, private_folder
from triage.model_io import (
    MANIFEST_FILE,
    LoadedModel,
    ModelError,
    OutdatedModel,
    default_model_dir,
    is_outdated,
    load_model,
    model_id,
    save_model,
)
from triage.nlp import TextAnalyzer
from triage.store import Store
from triage.textmodel import TextModel
from triage.training import evaluate_on, lemma_tables_for, library_versions

log = logging.getLogger(__name__)

CURRENT, PREVIOUS = "current", "previous"
_FOLDER_PREFIX = "model-"
_LINK_SUFFIX = ".new"
_LOCK = ".lock"
_ACTIVE_REMEDY = ("run 'triage rollback' to go back to the model before it (see "
                  "'triage rollback --help')")


class RetrainError(TriageError):
    """Retraining or rolling back cannot go on; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Correction:
    """A corrected client message as the model learns it."""

    id: int
    subject: str
    text: str  # what the client wrote: the parser has removed the quote and signature
    lang: str
    label: str
    hostility: int  # the model's own level: the provider corrects the category only


@dataclass(frozen=True, slots=True)
class RetrainResult:
    """What ``retrain`` did. ``outcome`` is 'kept' (the new model is in use: reload
    the classifier), 'rejected', 'failed' (``detail`` says why) or 'nothing' (no new
    correction since the last retraining: nothing done or recorded)."""

    outcome: str
    corrections: int = 0
    before: float | None = None  # held-out macro-F1 of the model in use
    after: float | None = None  # ... and of the candidate
    model: str = ""  # the kept model's id (as stored with each verdict)
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RollbackResult:
    replaced: str  # id of the model that was in use
    restored: str  # id of the one in use now
    shipped: bool  # whether that is the shipped model


def active_model_dir(config: Config) -> Path | None:
    """The folder of the model in use: the retrained one ``current`` names, or None for
    the shipped model. A ``current`` that names nothing is an error, not a fallback."""
    link = config.models_dir / CURRENT
    if not os.path.lexists(link):
        return None
    try:
        # Resolved once, so that a load reads one model even if a retrain moves the link.
        return link.resolve(strict=True)
    except (OSError, RuntimeError):
        raise ModelError(f"the model in use, {link}, is missing; {_ACTIVE_REMEDY}") from None


def load_active(config: Config) -> LoadedModel:
    """The model in use, checked against its manifest like every model. A retrained
    model an older triage wrote is passed over for the shipped one, with a warning:
    the corrections it learned are in the store, and the next retraining learns them
    again."""
    folder = active_model_dir(config)
    if folder is None:
        return load_model()
    try:
        return load_model(folder, _ACTIVE_REMEDY)
    except OutdatedModel:
        log.warning("the retrained model in use, %s, was made by an older triage; using the "
                    "shipped model until the next retraining ('triage retrain --force' "
                    "retrains now)", folder)
        return load_model()


def read_corrections(store: Store) -> list[Correction]:
    """What retraining learns from: each corrected message once, with its latest label."""
    found = []
    for row in store.training_corrections():
        where = f"correction {row['id']} (of {row['message_id']})"
        if row["label"] not in LABELS:
            raise RetrainError(f"{where}: {row['label']!r} is not a category "
                               f"({', '.join(LABELS)}); correct that message again")
        if not isinstance(row["hostility"], int) or not 0 <= row["hostility"] <= 3 \
                or not row["language"]:
            raise RetrainError(f"{where}: its stored verdict has no language or hostility "
                               "0-3; correct that message again after 'triage ingest'")
        found.append(Correction(id=int(row["id"]), subject=row["subject"] or "",
                                text=row["body"] or "", lang=str(row["language"]),
                                label=str(row["label"]), hostility=int(row["hostility"])))
    return found


def fit_weighted(training: Sequence[Example], corrections: Sequence[Correction],
                 weight: float, params: dict[str, Any] | None = None
                 ) -> tuple[TextModel, dict[str, dict[str, str]]]:
    """A model fitted on corpus examples and corrections (each weighing ``weight``
    examples in the category model), and its lemma tables, built from both."""
    own = [own_text(e.body) for e in training]
    tables = lemma_tables_for(
        [(e.lang, f"{e.subject}\n{text}") for e, text in zip(training, own, strict=True)]
        + [(c.lang, f"{c.subject}\n{c.text}") for c in corrections])
    analyzer = TextAnalyzer(tables)
    docs = [prepare(e.subject, text, analyzer, lang=e.lang)
            for e, text in zip(training, own, strict=True)]
    docs += [prepare(c.subject, c.text, analyzer, lang=c.lang) for c in corrections]
    from triage.fitting import TriageClassifier

    model = TriageClassifier(**(params or {})).fit(
        docs, [e.label for e in training] + [c.label for c in corrections],
        [e.hostility for e in training] + [c.hostility for c in corrections],
        sample_weight=[1.0] * len(training) + [weight] * len(corrections),
        groups=[e.group for e in training] + [f"correction {c.id}" for c in corrections])
    return model.text_model(), tables


def _state(store: Store) -> tuple[int, int]:
    """The last correction recorded, and how many corrected messages can be learned
    (a message moved to a correction folder before triage read it counts once read)."""
    return store.last_correction_id(), store.count_training_corrections()


def has_new_corrections(store: Store) -> bool:
    """Whether some correction was not in the last decision (kept, rejected or rolled
    back; a failed attempt decided nothing, so it is tried again)."""
    upto, count = _state(store)
    decided = [r for r in store.retrains() if r["outcome"] != "failed"]
    last = (int(decided[-1]["upto"]), int(decided[-1]["corrections"])) if decided else (0, 0)
    return count > 0 and (upto, count) != last


def retrain(config: Config, store: Store, now: datetime, corpus: Sequence[str] | None = None,
            force: bool = False) -> RetrainResult:
    """Fit a candidate on the corpus (files or folders; default the repository's) and
    the corrections; keep it when it is no worse than the model in use by more than
    the tolerance. Every attempt is recorded in the store; a failure is returned
    (outcome 'failed'), not raised, so that the service goes on with its model."""
    if not force and not has_new_corrections(store):
        return RetrainResult("nothing", detail="no new correction since the last retraining")
    upto, count = _state(store)
    log.info("retraining on the corpus and %d corrections (about 30 s)", count)
    try:
        with _locked(config.models_dir):
            result = _retrain(config, store, now, upto, corpus)
    except TriageError as exc:
        result = RetrainResult("failed", count, detail=str(exc))
    store.record_retrain(result.outcome, upto, result.corrections, now, result.before,
                         result.after, result.model, result.detail)
    if result.outcome == "failed":
        log.warning("retraining failed: %s", result.detail)
    else:
        log.info("retraining on %d corrections: %s (held-out macro-F1 %.3f -> %.3f; %s)",
                 result.corrections, result.outcome, result.before, result.after,
                 result.detail)
    return result


def _retrain(config: Config, store: Store, now: datetime, upto: int,
             corpus: Sequence[str] | None) -> RetrainResult:
    started = time.perf_counter()
    paths = corpus_paths(corpus)
    training, held_out = split(load_examples(paths))
    if not held_out or not training:
        raise RetrainError(f"the corpus ({len(paths)} files) needs groups on both sides of "
                           "the held-out split to measure a new model; pass the full corpus")
    corrections = read_corrections(store)
    in_use = load_active(config)  # a damaged model in use stops here, before the fitting
    try:
        model, tables = fit_weighted(training, corrections, config.corrections.weight,
                                     in_use.classifier.params)
    except ValueError as exc:  # e.g. a corpus of one category, or of too few words
        raise RetrainError(f"cannot fit a model on this corpus and these corrections: {exc}"
                           ) from None
    before = evaluate_on(in_use.classifier, TextAnalyzer(in_use.lemma_tables), held_out)
    after = evaluate_on(model, TextAnalyzer(tables), held_out)
    tolerance = config.corrections.tolerance
    # Against the shipped model too: retraining after retraining may not drift away
    # from it by a tolerance at each step.
    floor = before.macro_f1
    if active_model_dir(config) is not None:
        shipped = load_model()
        floor = max(floor, evaluate_on(shipped.classifier, TextAnalyzer(shipped.lemma_tables),
                                       held_out).macro_f1)
    if round(after.macro_f1 - floor, 3) < -tolerance:
        detail = (f"held-out macro-F1 would fall more than {tolerance:g} below {floor:.3f} "
                  f"(the model in use, or the shipped one); the model in use "
                  f"({model_id(in_use.manifest)}) stays")
        return RetrainResult("rejected", len(corrections), before.macro_f1, after.macro_f1,
                             detail=detail)
    folder = _write(config.models_dir, model, tables, {
        "trained_at": now.isoformat(timespec="seconds"),
        "corpus_files": [p.name for p in paths],
        "training_examples": len(training),
        "corrections": len(corrections),
        "corrections_upto": upto,
        "correction_weight": config.corrections.weight,
        "replaced": model_id(in_use.manifest),
        "held_out_examples": len(held_out),
        "held_out": after.as_dict(),
        "params": model.params,
        "training_seconds": round(time.perf_counter() - started, 1),
        "versions": library_versions(),
    })
    _use(config.models_dir, folder)
    return RetrainResult("kept", len(corrections), before.macro_f1, after.macro_f1,
                         model=_short_id(folder), detail=f"replaced {model_id(in_use.manifest)}")


def rollback(config: Config, store: Store, now: datetime) -> RollbackResult:
    """Put the previous model back in use (the shipped one when there is none); the
    corrections so far count as decided, so only new ones start a retraining."""
    models_dir = config.models_dir
    with _locked(models_dir):
        current, previous = _linked(models_dir, CURRENT), _linked(models_dir, PREVIOUS)
        if current is None:
            raise RetrainError("nothing to roll back: the shipped model is in use")
        replaced = _short_id(current)
        if previous is not None and is_outdated(previous):
            previous = None  # an older triage's model cannot be used: the shipped one can
            _point(models_dir, PREVIOUS, None)
        if previous is not None:
            load_model(previous, f"remove {models_dir / PREVIOUS} to roll back to the "
                       "shipped model instead")
            _point(models_dir, CURRENT, previous)
            _point(models_dir, PREVIOUS, None)
            restored = _short_id(previous)
        else:
            _point(models_dir, CURRENT, None)
            restored = _short_id(default_model_dir())
        _tidy(models_dir)
    upto, count = _state(store)
    store.record_retrain("rolled_back", upto, count, now, model=restored,
                         detail=f"replaced {replaced}")
    return RollbackResult(replaced=replaced, restored=restored, shipped=previous is None)


@contextlib.contextmanager
def _locked(models_dir: Path) -> Iterator[None]:
    """One retrain or rollback at a time (the service's and a command's)."""
    try:
        private_folder(models_dir)
    except OSError as exc:
        raise RetrainError(f"cannot create {models_dir}: {exc.strerror or exc}") from None
    with exclusive_lock(models_dir / _LOCK, RetrainError(
            f"another retrain or rollback is using {models_dir}; try again when it has "
            "finished")):
        yield


def _write(models_dir: Path, model: TextModel, tables: dict[str, dict[str, str]],
           metadata: dict[str, Any]) -> Path:
    """Save a model in a new folder of its own and sync it to disk."""
    try:
        folder = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX, dir=models_dir))  # owner-only
    except OSError as exc:
        raise RetrainError(f"cannot write a model in {models_dir}: {exc.strerror or exc}"
                           ) from None
    try:
        save_model(model, tables, folder, metadata)
        for path in (*folder.iterdir(), folder):
            _fsync(path)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise RetrainError(f"cannot write the model in {folder}: {exc.strerror or exc}"
                           ) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def _use(models_dir: Path, folder: Path) -> None:
    """Make ``folder`` the model in use and the one in use so far the previous one
    (the shipped one, for a model of an older triage that ``load_active`` passed over)."""
    in_use = _linked(models_dir, CURRENT)
    _point(models_dir, PREVIOUS, None if in_use is None or is_outdated(in_use) else in_use)
    _point(models_dir, CURRENT, folder)
    _tidy(models_dir)


def _point(models_dir: Path, name: str, folder: Path | None) -> None:
    """Make the link ``name`` name ``folder`` (remove it for None), atomically."""
    link = models_dir / name
    try:
        if folder is None:
            link.unlink(missing_ok=True)
        else:
            staged = models_dir / f".{name}{_LINK_SUFFIX}"
            staged.unlink(missing_ok=True)
            staged.symlink_to(folder.name)  # relative: the folder may be moved whole
            os.replace(staged, link)
        _fsync(models_dir)
    except OSError as exc:
        raise RetrainError(f"cannot update {link}: {exc.strerror or exc}") from None


def _linked(models_dir: Path, name: str) -> Path | None:
    link = models_dir / name
    return link.resolve() if os.path.lexists(link) else None


def _tidy(models_dir: Path) -> None:
    """Remove the model folders no link names (replaced twice, or left half-written
    by an interrupted retrain) and stray staged links."""
    named = {_linked(models_dir, CURRENT), _linked(models_dir, PREVIOUS)}
    for entry in models_dir.iterdir():
        if entry.is_symlink() and entry.name.endswith(_LINK_SUFFIX):
            entry.unlink(missing_ok=True)
        elif entry.name.startswith(_FOLDER_PREFIX) and not entry.is_symlink() \
                and entry.is_dir() and entry.resolve() not in named:
            try:
                shutil.rmtree(entry)
            except OSError as exc:
                log.warning("cannot remove the unused model folder %s: %s", entry, exc)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _short_id(folder: Path) -> str:
    """A model's id from its manifest, to name it (loading checks the files properly);
    "unknown" when the manifest cannot be read."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    return model_id(manifest if isinstance(manifest, dict) else {})


# How long after ``retrain_at`` the service may still start the night's retraining
# (it was busy with mail, or waiting on an outage, at the exact minute).
QUIET_WINDOW = timedelta(hours=2)


class QuietHours:
    """The service's retraining: once a night at ``[corrections] retrain_at`` (in the
    provider's time zone), when there are corrections the model has not learned.
    ``reload`` gives the service what it needs to use a kept model (the classifier,
    and a helper process that has it)."""

    def __init__(self, config: Config, store: Store, reload: Callable[[], Any],
                 retrain_fn: Callable[[Config, Store, datetime], RetrainResult] | None = None
                 ) -> None:
        self.config = config
        self.store = store
        self.reload = reload
        self.retrain_fn = retrain_fn or retrain
        self.zone = ZoneInfo(config.provider.timezone)
        self._tried: date | None = None  # the local day of the last attempt

    def next_run(self, now: datetime) -> datetime | None:
        if not self.config.corrections.retrain or not has_new_corrections(self.store):
            return None
        local = now.astimezone(self.zone)
        at = dt_time.fromisoformat(self.config.corrections.retrain_at)
        tonight = datetime.combine(local.date(), at, tzinfo=self.zone)
        if self._tried != local.date() and tonight <= local < tonight + QUIET_WINDOW:
            return tonight
        if local < tonight:
            return tonight
        return datetime.combine(local.date() + timedelta(days=1), at, tzinfo=self.zone)

    def run(self, now: datetime) -> Any:
        """Retrain; what ``reload`` gives when the new model was kept, else None."""
        self._tried = now.astimezone(self.zone).date()
        result = self.retrain_fn(self.config, self.store, now)
        return self.reload() if result.outcome == "kept" else None
