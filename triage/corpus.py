"""The labelled corpus: reading it, checking it, and the group-held-out split.

The corpus is JSON Lines (see corpus/README.md): one client message per line
with ``id``, ``lang``, ``label``, ``hostility``, ``subject``, ``body`` and a
``group`` that ties variants of one situation together. The held-out split is a
pure function of the group id, so every variant of a test message stays on the
test side, and the split does not move when the corpus grows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from triage.errors import TriageError

LABELS = ("accusation", "payment_excuse", "scope_creep", "genuine_fault", "other")
LANGS = ("es", "pt", "en")
TEST_SHARE = 5  # one group in five is held out
# The training corpus of a source checkout (an installed triage has none).
REPO_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    lang: str
    label: str
    hostility: int
    subject: str
    body: str
    group: str
    region: str = ""
    sector: str = ""

    @property
    def held_out(self) -> bool:
        return is_held_out(self.group)


def is_held_out(group: str) -> bool:
    digest = hashlib.sha256(group.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % TEST_SHARE == 0


def default_corpus_files(root: Path) -> list[Path]:
    """The training corpus: every .jsonl file in corpus/ (not the external test set)."""
    return sorted(root.glob("*.jsonl"))


def load_examples(paths: Iterable[Path]) -> list[Example]:
    examples: list[Example] = []
    seen: set[str] = set()
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise TriageError(f"cannot read the corpus file {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            line_number = path.read_bytes()[: exc.start].count(b"\n") + 1
            raise TriageError(f"{path}:{line_number}: not UTF-8 text (a corpus file is JSON "
                              "Lines in UTF-8)") from None
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            example = _example(line, f"{path}:{number}")
            if example.id in seen:
                raise TriageError(f"{path}:{number}: duplicate id {example.id!r}")
            seen.add(example.id)
            examples.append(example)
    if not examples:
        raise TriageError("the corpus is empty: no .jsonl lines found")
    return examples


def _example(line: str, where: str) -> Example:
    try:
        data = json.loads(line)
        example = Example(
            id=str(data["id"]), lang=str(data["lang"]), label=str(data["label"]),
            hostility=int(data["hostility"]), subject=str(data.get("subject") or ""),
            body=str(data["body"]), group=str(data["group"]),
            region=str(data.get("region") or ""), sector=str(data.get("sector") or ""),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise TriageError(f"{where}: not a corpus record ({type(exc).__name__}: {exc})") from None
    if example.label not in LABELS:
        raise TriageError(f"{where}: label {example.label!r} is not one of {', '.join(LABELS)}")
    if example.lang not in LANGS:
        raise TriageError(f"{where}: lang {example.lang!r} is not one of {', '.join(LANGS)}")
    if not 0 <= example.hostility <= 3:
        raise TriageError(f"{where}: hostility {example.hostility} is not 0-3")
    return example


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(training, held-out test), by group."""
    train = [e for e in examples if not e.held_out]
    test = [e for e in examples if e.held_out]
    return train, test


def corpus_paths(given: Sequence[str] | None, external: bool = False) -> list[Path]:
    """The corpus files: as given (files or folders of .jsonl), or the repository's."""
    if not given:
        root = REPO_CORPUS / "external" if external else REPO_CORPUS
        if not root.is_dir():
            raise TriageError(f"no corpus at {root}: pass --corpus FILE_OR_FOLDER")
        given = [str(root)]
    paths: list[Path] = []
    for name in given:
        path = Path(name)
        if path.is_dir():
            paths += default_corpus_files(path)
        elif path.is_file():
            paths.append(path)
        else:
            raise TriageError(f"{path}: no such corpus file or folder")
    if not paths:
        raise TriageError(f"no .jsonl files in {', '.join(given)}")
    return paths
