"""The shipped model: safe loading, quote-stripping in the features, hard cases, classify."""

from __future__ import annotations

import dataclasses
import gzip
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES_MAIL, REPO

from triage.classifier import Prepared, own_text, predict, prepare, temper
from triage.classify import MessageClassifier
from triage.cli import main
from triage.corpus import default_corpus_files, load_examples
from triage.fitting import TriageClassifier
from triage.model_io import (
    DATA_FILE,
    MANIFEST_FILE,
    MODEL_FILE,
    ModelError,
    OutdatedModel,
    default_model_dir,
    load_model,
    sha256_of,
)
from triage.nlp import TextAnalyzer
from triage.training import prepare_examples


@pytest.fixture(scope="module")
def classifier() -> MessageClassifier:
    return MessageClassifier(load_model())


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    target = tmp_path / "model"
    shutil.copytree(default_model_dir(), target, ignore=shutil.ignore_patterns("*.py", "__*"))
    return target


def _rewrite_manifest_hash(folder: Path, name: str = MODEL_FILE) -> None:
    """What an attacker who can write the folder would also do."""
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["files"][name] = sha256_of(folder / name)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_the_shipped_model_loads_and_knows_its_figures() -> None:
    model = load_model()
    assert model.manifest["held_out"]["size"] > 300
    assert set(model.lemma_tables) == {"es", "pt", "en"}


def test_a_changed_model_file_is_refused(model_copy: Path) -> None:
    path = model_copy / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its manifest"):
        load_model(model_copy)


class _Planted:
    """A pickle that, if it were ever unpickled, would leave a file behind."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.mark),))  # type: ignore[return-value]


def test_a_model_file_holding_a_pickle_is_refused_unread_even_with_a_matching_hash(
        model_copy: Path, tmp_path: Path) -> None:
    mark = tmp_path / "ran"
    with np.load(model_copy / MODEL_FILE) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["style_scale"] = np.array([_Planted(mark)], dtype=object)
    np.savez(model_copy / MODEL_FILE, **arrays)
    _rewrite_manifest_hash(model_copy)
    with pytest.raises(ModelError, match="cannot read the model file .*allow_pickle=False"):
        load_model(model_copy)
    assert not mark.exists()


def test_a_file_that_is_not_a_model_is_refused(model_copy: Path) -> None:
    with zipfile.ZipFile(model_copy / MODEL_FILE, "w") as archive:
        archive.writestr("schema.json", "{not json")
    _rewrite_manifest_hash(model_copy)
    with pytest.raises(ModelError, match="cannot read the model file|does not hold a triage "
                       "model"):
        load_model(model_copy)


def test_a_data_file_naming_another_token_pattern_is_refused(model_copy: Path) -> None:
    """A pattern from the file (here one that takes exponential time) is never compiled."""
    with gzip.open(model_copy / DATA_FILE, "rt", encoding="utf-8") as text:
        data = json.load(text)
    data["model"]["vocabularies"][0]["pattern"] = "(a+)+$"
    with gzip.open(model_copy / DATA_FILE, "wt", encoding="utf-8") as text:
        json.dump(data, text)
    _rewrite_manifest_hash(model_copy, DATA_FILE)
    with pytest.raises(ModelError, match="does not hold a triage model"):
        load_model(model_copy)


@pytest.mark.parametrize("change", ["short idf", "coef of another width", "missing array"])
def test_arrays_that_do_not_fit_the_vocabularies_are_refused(model_copy: Path,
                                                             change: str) -> None:
    with np.load(model_copy / MODEL_FILE) as stored:
        arrays = {name: stored[name] for name in stored.files}
    if change == "short idf":
        arrays["char_idf"] = arrays["char_idf"][:-1]
    elif change == "coef of another width":
        arrays["category_coef"] = arrays["category_coef"][:, :-1]
    else:
        del arrays["hostility_coef"]
    np.savez(model_copy / MODEL_FILE, **arrays)
    _rewrite_manifest_hash(model_copy)
    with pytest.raises(ModelError, match="does not hold a triage model"):
        load_model(model_copy)


def test_a_missing_model_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="run 'triage train'"):
        load_model(tmp_path)


def test_a_model_of_another_format_is_named_as_such(model_copy: Path) -> None:
    manifest = json.loads((model_copy / MANIFEST_FILE).read_text())
    manifest["format"] = 1
    (model_copy / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(OutdatedModel, match=r"made by an older triage \(model format 1, "
                       r"this one reads 3\); run 'triage train'"):
        load_model(model_copy)
    manifest["format"] = 4
    (model_copy / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"made by a newer triage \(model format 4, this one "
                       r"reads 3\): upgrade triage"):
        load_model(model_copy)


TINY = {  # a few words per category, enough for the machine to separate them
    "accusation": ["nobody told us about the maintenance", "you never warned us, your fault",
                   "no notice at all, who is responsible"],
    "payment_excuse": ["I will pay next week, travelling", "the bank is slow, pay on monday",
                       "pay you when my salary arrives"],
    "scope_creep": ["while you are at it add a blog", "also translate the site for free",
                    "one more revision, included right"],
    "genuine_fault": ["the site is down since your update", "you charged us twice",
                      "error 500 after your migration"],
    "other": ["thanks for the meeting", "see you on thursday", "here is the logo file"],
}


def _tiny(labels: list[str]) -> tuple[list, list[str], list[int]]:
    analyzer = TextAnalyzer()
    docs, truth = [], []
    for label in labels:
        for text in TINY[label]:
            docs.append(prepare("", text, analyzer, lang="en"))
            truth.append(label)
    return docs, truth, [1] * len(docs)


def test_a_class_missing_from_a_calibration_fold_scores_below_the_others_there() -> None:
    docs, labels, hostility = _tiny(list(TINY))
    # Every accusation in one group: the fold that tests that group trains a machine
    # that has never seen an accusation (the first column, so a mapping that fills
    # the columns in order would put another class's scores there).
    groups = ["acc" if label == "accusation" else f"g{i % 4}"
              for i, label in enumerate(labels)]
    model = TriageClassifier(min_df=1).fit(docs, labels, hostility, groups=groups)
    held_out = model._held_out_scores(model._features(docs)[0], np.asarray(labels), None,
                                      groups)
    assert held_out is not None
    scores, scored_labels = held_out
    assert list(scored_labels) == labels  # every fold had two categories or more
    column = list(model.category_.classes_).index("accusation")
    assert column == 0
    for row, label in zip(scores, labels, strict=True):
        if label == "accusation":
            assert row[column] < min(np.delete(row, column))
    for verdict in predict(model, docs):
        assert set(verdict.probabilities) == set(TINY)
        assert abs(sum(verdict.probabilities.values()) - 1) < 0.01


def test_a_model_fitted_on_two_categories_gives_the_others_no_probability() -> None:
    docs, labels, hostility = _tiny(["payment_excuse", "other"])
    monday = prepare("", "I will pay on monday, the bank is slow", TextAnalyzer(), lang="en")
    # Folds by category; folds by group where one fold's training side holds one
    # category (it is left out); and a single group, which cannot be folded.
    for groups in (None, ["a", "a", "a", "b", "c", "d"], ["one"] * 6):
        model = TriageClassifier(min_df=1).fit(docs, labels, hostility, groups=groups)
        # scikit-learn's reading and the arrays' (a two-class machine has one row).
        verdict, again = (predict(m, [monday])[0] for m in (model, model.text_model()))
        assert verdict.category == "payment_excuse", groups
        assert verdict.probabilities["accusation"] == verdict.probabilities["scope_creep"] == 0
        assert abs(sum(verdict.probabilities.values()) - 1) < 0.01
        assert verdict.confidence > 0.5, groups
        assert again.probabilities == pytest.approx(verdict.probabilities, abs=1e-4)
    # Unfoldable: the plain softmax, not a temperature fitted on training scores
    # (which separate perfectly, and would make every confidence 1).
    assert model.temperature_ == 1.0 and verdict.confidence < 0.99


@pytest.fixture(scope="module")
def fitted_on_a_slice() -> tuple[TriageClassifier, list[Prepared]]:
    """A model fitted on every eighth corpus message, and every eighth of the others."""
    examples = load_examples(default_corpus_files(REPO / "corpus"))
    docs = prepare_examples(examples[::4], TextAnalyzer())
    model = TriageClassifier().fit(docs[::2], [e.label for e in examples[::8]],
                                   [e.hostility for e in examples[::8]],
                                   groups=[e.group for e in examples[::8]])
    return model, docs[1::2]


def test_the_arrays_read_a_message_as_scikit_learn_reads_it(
        fitted_on_a_slice: tuple[TriageClassifier, list[Prepared]]) -> None:
    """The text model's hand-made TF-IDF rows are scikit-learn's, column for column,
    and so are its probabilities and hostility scores, on messages it was not fitted on."""
    model, docs = fitted_on_a_slice
    arrays = model.text_model()
    text, _ = model._features(docs)
    for row, doc in enumerate(docs):
        columns, values = arrays.features(doc)
        expected = text.getrow(row)
        assert sorted(columns.tolist()) == sorted(expected.indices.tolist())
        order = np.argsort(columns)
        assert values[order] == pytest.approx(expected.data[np.argsort(expected.indices)],
                                              abs=1e-6)
    proba, hostility = arrays.predict_both(docs)
    expected_proba, expected_hostility = model.predict_both(docs)
    assert proba == pytest.approx(expected_proba, abs=1e-5)
    assert hostility == pytest.approx(expected_hostility, abs=1e-4)
    assert len({tuple(np.round(p, 2)) for p in proba}) > 10  # not one answer for all


def test_the_features_ignore_the_quoted_mail() -> None:
    analyzer = TextAnalyzer()
    body = ("Gracias, nos vemos el jueves a las diez.\n\n"
            "El lun, 2 nov 2026 a las 9:00, Facturación <billing@agency.example> escribió:\n"
            "> La factura FAC-77 de 1.210,00 € está vencida. Si no la paga, suspenderemos "
            "el servicio.\n")
    doc = prepare("Re: Factura vencida", own_text(body), analyzer, lang="es")
    assert "suspender" not in doc.lemmas and "1.210,00" not in doc.chars
    assert "jueves" in doc.lemmas
    assert not any(kind == "amount" for kind, _ in doc.entities)


def test_a_quoted_reminder_under_a_thank_you_does_not_make_it_a_payment_excuse(
        classifier: MessageClassifier) -> None:
    body = ("Muchas gracias por la reunión de ayer, nos vemos el jueves a las diez para "
            "revisar el diseño.\n\n"
            "El lun, 2 nov 2026 a las 9:00, Facturación <billing@agency.example> escribió:\n"
            "> Le recordamos que la factura FAC-77 está vencida. Si no la paga antes del "
            "viernes suspenderemos el servicio. Para pagar, haga una transferencia.\n")
    with_quote = classifier.classify_text("Re: Factura vencida", own_text(body))
    assert with_quote.category == "other"


HARD_CASES = [
    # (language, subject, text, category, the hostility range that is right)
    ("es", "SIN CORREO", "Nadie nos avisó de ningún mantenimiento y anoche nos quedamos sin "
     "correo toda la noche. Es la tercera vez. ¿De quién es la responsabilidad? Exijo una "
     "explicación.", "accusation", (1, 3)),
    ("es", "Servicio suspendido", "Les pago el lunes sin falta, ahora estoy de viaje. "
     "Reactiven la web ya, que estoy perdiendo clientes.", "payment_excuse", (1, 2)),
    ("es", "Una cosita", "Hola Ana, ¿podrías añadir también una sección de blog y traducir la "
     "web al inglés? Ya que estás con el rediseño supongo que no cuesta nada. ¡Gracias!",
     "scope_creep", (0, 1)),
    ("es", "LA WEB CAÍDA", "Desde vuestra actualización de ayer la tienda da error 500 y no "
     "podemos vender. Es inaceptable, arreglenlo YA.", "genuine_fault", (2, 3)),
    ("pt", "Manutenção?", "Ninguém nos avisou dessa manutenção, ficamos a noite toda sem "
     "e-mail. Vocês acham isso normal? Quero saber quem vai se responsabilizar.",
     "accusation", (1, 3)),
    ("pt", "boleto", "Vou pagar o boleto semana que vem, o banco está lento. Libera o site "
     "por favor que preciso dele hoje.", "payment_excuse", (0, 2)),
    ("pt", "ideia", "Oi! Já que você está mexendo no site, daria pra incluir uma loja virtual "
     "e um blog? Coisa rápida, acho que entra no pacote, né?", "scope_creep", (0, 1)),
    pytest.param(
        "pt", "PERDEMOS OS EMAILS", "Depois da migração que vocês fizeram perdemos todos os "
        "e-mails do financeiro. Isso é um absurdo, quero os dados de volta hoje.",
        "genuine_fault", (2, 3),
        marks=pytest.mark.xfail(strict=True, reason="known weakness of the model of seven "
                                "corpus waves: accusation 0.57, genuine fault 0.42 (the seventh "
                                "wave's accusations about announced migrations pull it over)")),
    ("en", "Outage??", "Nobody told us about any maintenance and our site was down all "
     "night. Can someone explain why you decided to take us offline in the middle of a "
     "campaign?", "accusation", (1, 3)),
    ("en", "invoice", "I will pay the invoice next week, I am travelling until Friday. "
     "Please turn the service back on in the meantime.", "payment_excuse", (0, 2)),
    ("en", "Quick favour", "While you're at it, could you also redesign the logo and set up "
     "a newsletter? Shouldn't take long, so I assume it's included.", "scope_creep", (0, 1)),
    ("en", "Charged twice", "You charged us twice for the October invoice, the money left "
     "our account two times. Please refund the duplicate.", "genuine_fault", (0, 2)),
    ("en", "Thanks", "Thanks for sorting the DNS so quickly yesterday. See you at the "
     "review on Monday.", "other", (0, 0)),
]


@pytest.mark.parametrize(("lang", "subject", "text", "category", "hostility"), HARD_CASES)
def test_hand_picked_hard_cases(classifier: MessageClassifier, lang: str, subject: str,
                                text: str, category: str, hostility: tuple[int, int]) -> None:
    prediction = classifier.classify_text(subject, text)
    assert prediction.language == lang
    assert prediction.category == category, prediction.probabilities
    low, high = hostility
    assert low <= prediction.hostility <= high, prediction.hostility_score
    assert abs(sum(prediction.probabilities.values()) - 1) < 0.01


@pytest.mark.parametrize("subject", ["Fatura em atraso", "Website down", "Urgente", "Hola"])
def test_a_message_that_is_only_a_subject_keeps_its_category_but_is_less_sure(
        classifier: MessageClassifier, subject: str) -> None:
    doc = prepare(subject, " \n-- \n", classifier.analyzer)
    assert doc.subject_only
    [raw] = predict(classifier.model.classifier, [dataclasses.replace(doc, subject_only=False)])
    read = classifier.classify_text(subject, "")
    assert read.category == raw.category
    assert read.confidence < raw.confidence
    assert sum(read.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
    # A message with one word of its own is read as it is.
    worded = prepare(subject, "ok", classifier.analyzer)
    assert not worded.subject_only


def test_tempering_keeps_the_order_and_flattens() -> None:
    row = np.array([0.7, 0.2, 0.05, 0.04, 0.01])
    assert temper(row, 1.0) == pytest.approx(row)
    flatter = temper(row, 3.5)
    assert flatter.sum() == pytest.approx(1.0)
    assert list(np.argsort(flatter)) == list(np.argsort(row))
    assert flatter.max() < row.max() and flatter.min() > row.min()


def test_classify_json_on_files_folders_and_maildirs(tmp_path: Path, capsys) -> None:
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    shutil.copy(FIXTURES_MAIL / "es_gmail_reply_qp.eml", maildir / "new" / "1.a.host")
    folder = tmp_path / "eml"
    folder.mkdir()
    shutil.copy(FIXTURES_MAIL / "pt_bare_quote.eml", folder)
    shutil.copy(FIXTURES_MAIL / "xx_empty.eml", folder)
    single = FIXTURES_MAIL / "en_gmail_reply.eml"
    assert main(["classify", "--json", str(single), str(folder), str(maildir)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 4
    readable = [r for r in rows if "error" not in r]
    assert len(readable) == 3
    for row in readable:
        assert set(row) >= {"path", "message_id", "language", "category", "confidence",
                            "probabilities", "hostility", "hostility_score"}
        assert len(row["probabilities"]) == 5
    assert {r["language"] for r in readable} == {"es", "pt", "en"}
    (empty,) = [r for r in rows if "error" in r]
    assert empty["error"] == "empty message"


def test_classify_needs_no_configuration(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("TRIAGE_CONFIG", raising=False)
    assert main(["classify", str(FIXTURES_MAIL / "en_sig_dashdash.eml")]) == 0
    assert "hostility" in capsys.readouterr().out


def test_classify_a_missing_path_is_one_clear_line(capsys) -> None:
    assert main(["classify", "/nonexistent/mail.eml"]) == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_classify_checks_every_path_before_the_first_result(capsys) -> None:
    # A typo in the last path must not leave the first ones printed and the rest undone.
    good = str(FIXTURES_MAIL / "en_sig_dashdash.eml")
    assert main(["classify", good, "/nonexistent/mail.eml", good]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "triage: error: /nonexistent/mail.eml: no such file or folder\n"


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_a_corpus_file_that_is_not_utf8_is_one_line(tmp_path: Path, capsys, command: str
                                                    ) -> None:
    good = json.dumps({"id": "x-1", "lang": "es", "label": "other", "hostility": 0,
                       "subject": "", "body": "hola", "group": "g1"})
    corpus = tmp_path / "latin1.jsonl"
    corpus.write_bytes(good.encode() + b"\n" + '{"body": "ma\xf1ana"}\n'.encode("latin-1"))
    extra = ["--out", str(tmp_path / "model")] if command == "train" else []
    assert main([command, "--corpus", str(corpus), *extra]) == 1
    err = capsys.readouterr().err
    assert err == f"triage: error: {corpus}:2: not UTF-8 text (a corpus file is JSON Lines " \
                  "in UTF-8)\n"
