"""Classifying messages with the shipped model: the part the rest of triage calls.

``MessageClassifier`` loads the model once and classifies parsed messages on
what the client wrote (the parser has already removed the quote and the
signature). ``message_files`` finds messages on disk for ``triage classify``:
.eml files, folders of them, or a Maildir.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from triage.classifier import predict, prepare
from triage.errors import TriageError
from triage.mailbox import maildir_files
from triage.message import Classification, Message
from triage.model_io import LoadedModel, load_model, model_id
from triage.nlp import TextAnalyzer


class MessageClassifier:
    def __init__(self, model: LoadedModel | None = None) -> None:
        self.model = model or load_model()
        self.analyzer = TextAnalyzer(self.model.lemma_tables)

    def classify_text(self, subject: str, text: str, lang: str | None = None) -> Classification:
        return self.classify_texts([(subject, text, lang)])[0]

    def classify_texts(self, items: Sequence[tuple[str, str, str | None]]) -> list[Classification]:
        docs = [prepare(subject, text, self.analyzer, lang=lang) for subject, text, lang in items]
        return predict(self.model.classifier, docs)

    def classify_messages(self, messages: Sequence[Message]) -> list[Classification]:
        return self.classify_texts([(m.subject, m.body, None) for m in messages])

    @property
    def model_id(self) -> str:
        """Which model gave a verdict: the start of its file's SHA-256."""
        return model_id(self.model.manifest)

    def classifications(self, messages: Sequence[Message]) -> list[Classification]:
        """Stored verdicts for client messages (the ingest ``Classifier``)."""
        return [replace(p, model=self.model_id) for p in self.classify_messages(messages)]


def message_files(paths: Sequence[str]) -> Iterator[Path]:
    """Every message file under ``paths``: files as given, .eml files in folders
    (recursively), and the files of a Maildir's cur/ and new/. Every path is checked
    before the first file is given, so a typo in the last one stops nothing half done."""
    for name in paths:
        path = Path(name)
        if not path.exists():
            raise TriageError(f"{path}: no such file or folder")
        if not (path.is_file() or path.is_dir()):
            raise TriageError(f"{path}: not a file or a folder of messages")
    for name in paths:
        path = Path(name)
        if path.is_file():
            yield path
        elif (path / "cur").is_dir() and (path / "new").is_dir():
            yield from sorted(maildir_files(path).values())
        else:
            yield from sorted(p for p in path.rglob("*.eml") if p.is_file())
