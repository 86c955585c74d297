"""Saving and loading the trained model without running untrusted code.

A model folder holds:
  model.npz        the fitted models' arrays (inverse document frequencies,
                   weights, intercepts), read by NumPy with pickles refused;
  data.json.gz     plain data: the cut-down lemma tables, the vocabularies and
                   the models' few numbers (temperature, classes, parameters);
  manifest.json    SHA-256 of both files, the training metadata and the figures.
A file whose hash does not match the manifest, or whose arrays do not fit
together, is refused with a clear error.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from triage.classifier import STYLE_FEATURES
from triage.errors import TriageError
from triage.files import open_private, write_private
from triage.terms import LemmaTable, Terms
from triage.textmodel import ANALYZERS, TextModel, Vocabulary

log = logging.getLogger(__name__)

MODEL_FILE = "model.npz"
DATA_FILE = "data.json.gz"
MANIFEST_FILE = "manifest.json"
# 2: the category model became a linear SVM with a temperature; 3: arrays read
# without scikit-learn in place of its objects in skops format.
FORMAT = 3
_ARRAYS = ("category_coef", "category_intercept", "style_scale", "hostility_coef")


class ModelError(TriageError):
    """The model files are missing, damaged or not what triage wrote."""


class OutdatedModel(ModelError):
    """A model written by an older triage, in a format this one cannot read."""


@dataclass(frozen=True, slots=True)
class LoadedModel:
    classifier: TextModel
    lemma_tables: dict[str, LemmaTable]
    manifest: dict[str, Any]
    folder: Path


def default_model_dir() -> Path:
    """The model shipped with the package: models/ in the repository, installed
    as the data of the ``triage.models`` package."""
    import triage.models

    return Path(triage.models.__file__).resolve().parent


def model_id(manifest: dict[str, Any]) -> str:
    """A model's short name, stored with each verdict: the start of its file's SHA-256."""
    return str(manifest.get("files", {}).get(MODEL_FILE, "unknown"))[:12]


def save_model(model: TextModel, lemma_tables: Mapping[str, Mapping[str, str]],
               folder: Path, metadata: dict[str, Any]) -> dict[str, Any]:
    model_path, data_path = folder / MODEL_FILE, folder / DATA_FILE
    arrays = {name: getattr(model, name) for name in _ARRAYS}
    arrays |= {f"{v.name}_idf": v.idf for v in model.vocabularies}
    about = {"params": model.params, "concepts": model.concepts, "classes": list(model.classes),
             "temperature": model.temperature, "style_weight": model.style_weight,
             "hostility_intercept": model.hostility_intercept,
             "vocabularies": [{"name": v.name, "analyzer": v.analyzer, "pattern": v.pattern,
                               "ngrams": list(v.ngrams), "weight": v.weight}
                              for v in model.vocabularies]}
    try:  # owner-only: a model trained on one's own mail holds words of it
        with open_private(model_path, "wb") as raw:
            np.savez_compressed(raw, **arrays)
        with (open_private(data_path, "wb") as raw,
              gzip.open(raw, "wt", encoding="utf-8", compresslevel=6) as out):
            json.dump({"lemmas": {lang: dict(table) for lang, table in lemma_tables.items()},
                       "model": about,
                       "vocabularies": {v.name: list(v.terms) for v in model.vocabularies}},
                      out,
                      ensure_ascii=False)
    except OSError as exc:
        raise ModelError(f"cannot write the model to {folder}: {exc.strerror or exc}") from None
    manifest = {
        "format": FORMAT,
        "files": {MODEL_FILE: sha256_of(model_path), DATA_FILE: sha256_of(data_path)},
        **metadata,
    }
    write_private(folder / MANIFEST_FILE,
                  json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def load_model(folder: Path | None = None, remedy: str = "run 'triage train' to rebuild it"
               ) -> LoadedModel:
    """The model in ``folder`` (default: the shipped one), checked against its manifest;
    a missing or damaged file is a ``ModelError`` that ends with ``remedy``."""
    folder = folder or default_model_dir()
    started = time.perf_counter()
    manifest = _read_manifest(folder, remedy)
    for name in (MODEL_FILE, DATA_FILE):
        check_hash(folder / name, manifest.get("files", {}).get(name), "its manifest",
                   ModelError, remedy)
    data = read_json_gz(folder / DATA_FILE, ModelError, remedy)
    arrays = read_arrays(folder / MODEL_FILE, ModelError, remedy)
    try:
        classifier = _text_model(data["model"], data["vocabularies"], arrays)
        lemma_tables = {str(lang): LemmaTable(table) for lang, table in data["lemmas"].items()}
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise ModelError(f"the model in {folder} does not hold a triage model "
                         f"({type(exc).__name__}: {exc}); {remedy}") from None
    log.debug("model loaded from %s in %.2f s", folder, time.perf_counter() - started)
    return LoadedModel(classifier=classifier, lemma_tables=lemma_tables, manifest=manifest,
                       folder=folder)


def is_outdated(folder: Path) -> bool:
    """Whether ``folder`` holds a model an older triage wrote (which ``load_model``
    refuses with ``OutdatedModel``); a missing or damaged manifest is not outdated."""
    try:
        _read_manifest(folder, "")
    except OutdatedModel:
        return True
    except ModelError:
        return False
    return False


def _read_manifest(folder: Path, remedy: str) -> dict[str, Any]:
    path = folder / MANIFEST_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no model in {folder} (no {MANIFEST_FILE}); {remedy}") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the model manifest {path}: {exc}") from None
    if not isinstance(manifest, dict):
        raise ModelError(f"{path} is not a triage model manifest")
    found = manifest.get("format")
    if isinstance(found, int) and 0 < found < FORMAT:
        raise OutdatedModel(f"the model in {folder} was made by an older triage (model format "
                            f"{found}, this one reads {FORMAT}); {remedy}")
    if isinstance(found, int) and found > FORMAT:
        raise ModelError(f"the model in {folder} was made by a newer triage (model format "
                         f"{found}, this one reads {FORMAT}): upgrade triage to use it")
    if found != FORMAT:
        raise ModelError(f"{path} is not a triage model manifest of format {FORMAT}")
    return manifest


def _text_model(about: dict[str, Any], terms: dict[str, list[str]],
                arrays: dict[str, np.ndarray]) -> TextModel:
    """The models from the data file's numbers and terms and the model file's arrays,
    checked to fit together (a ValueError, KeyError or TypeError when not)."""
    vocabularies = tuple(
        Vocabulary(name=v["name"], analyzer=v["analyzer"], pattern=v["pattern"],
                   ngrams=(int(v["ngrams"][0]), int(v["ngrams"][1])),
                   terms=Terms(str(t) for t in terms[v["name"]]),
                   idf=arrays[f"{v['name']}_idf"].astype(np.float32), weight=float(v["weight"]))
        for v in about["vocabularies"])
    classes = tuple(str(c) for c in about["classes"])
    model = TextModel(
        params=dict(about["params"]), vocabularies=vocabularies,
        concepts=bool(about["concepts"]), classes=classes,
        category_coef=arrays["category_coef"].astype(np.float32),
        category_intercept=arrays["category_intercept"].astype(np.float64),
        temperature=float(about["temperature"]),
        style_scale=arrays["style_scale"].astype(np.float64),
        style_weight=float(about["style_weight"]),
        hostility_coef=arrays["hostility_coef"].astype(np.float32),
        hostility_intercept=float(about["hostility_intercept"]))
    width, machines = model.width, 1 if len(classes) == 2 else len(classes)
    # Only the analyzers the fitting uses: a pattern from the file is never compiled.
    if [v.name for v in vocabularies] != list(ANALYZERS) or not all(
            (v.analyzer, v.pattern) == ANALYZERS[v.name] and v.idf.shape == (len(v.terms),)
            for v in vocabularies):
        raise ValueError("a vocabulary and its weights do not fit together")
    if (len(classes) < 2 or model.category_coef.shape != (machines, width)
            or model.category_intercept.shape != (machines,)
            or model.style_scale.shape != (len(STYLE_FEATURES),)
            or model.hostility_coef.shape != (width + len(STYLE_FEATURES),)):
        raise ValueError("the arrays do not fit the vocabularies")
    if not (all(np.isfinite(arrays[name]).all() for name in arrays)
            and (model.style_scale > 0).all()):
        raise ValueError("the arrays hold numbers that are not finite, or a style scale of 0")
    return model


def check_hash(path: Path, expected: object, where: str, error: type[TriageError],
               remedy: str) -> None:
    """Refuse ``path`` (an ``error`` ending with ``remedy``) when it is missing or its
    SHA-256 is not the ``expected`` one that ``where`` records: checked before
    anything in it is read."""
    if not path.is_file():
        raise error(f"the model file {path} is missing; {remedy}")
    try:
        found = sha256_of(path)
    except OSError as exc:
        raise error(f"cannot read the model file {path}: {exc.strerror or exc}; {remedy}"
                    ) from None
    if found != expected:
        raise error(f"the model file {path} does not match {where} (changed or damaged); "
                    f"refusing to load it: {remedy}")


def read_json_gz(path: Path, error: type[TriageError], remedy: str) -> Any:
    """The JSON in a gzip file; a missing, unreadable or damaged one is an ``error``."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as text:
            return json.load(text)
    except FileNotFoundError:
        raise error(f"the model file {path} is missing; {remedy}") from None
    except Exception as exc:  # noqa: BLE001 - zlib, gzip, JSON, recursion: a bad file
        raise error(f"cannot read the model file {path}: {type(exc).__name__}: {exc}; "
                    f"{remedy}") from None


def read_arrays(path: Path, error: type[TriageError], remedy: str) -> dict[str, np.ndarray]:
    """The arrays of an .npz file, read with pickles refused; a file that cannot be
    read, or that holds a pickle, is an ``error`` ending with ``remedy``."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except Exception as exc:  # noqa: BLE001 - zip, NumPy, a pickle refused: a bad file
        raise error(f"cannot read the model file {path}: {type(exc).__name__}: {exc}; "
                    f"{remedy}") from None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
