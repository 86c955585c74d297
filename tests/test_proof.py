"""The evidence search's learned ranker (triage/proof.py): its files are checked
before anything in them is built, and its citing rule (evidence.cite) does what
its three bars say."""

from __future__ import annotations

import gzip
import json
import math
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from triage import proof
from triage.evidence import (
    LEAD_CHANCE,
    MAX_LEADS,
    Candidate,
    Complaint,
    Profile,
    Scored,
    assess,
    cite,
    leads,
    rank_all,
    read_all,
)
from triage.model_io import sha256_of


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """The shipped ranker's two files, copied where a test may damage them."""
    for name in (proof.MODEL_FILE, proof.DATA_FILE):
        shutil.copy(proof.default_dir() / name, tmp_path / name)
    return tmp_path


def read_data(folder: Path) -> dict[str, object]:
    with gzip.open(folder / proof.DATA_FILE, "rt", encoding="utf-8") as text:
        data = json.load(text)
    assert isinstance(data, dict)
    return data


def write_data(folder: Path, data: dict[str, object]) -> None:
    with gzip.open(folder / proof.DATA_FILE, "wt", encoding="utf-8") as text:
        json.dump(data, text)


def test_the_shipped_ranker_loads_with_bars_in_order() -> None:
    model = proof.shipped()
    assert 0.0 < model.further <= min(model.together, model.alone)
    assert model.together <= model.first and max(model.first, model.alone) < 1.0
    assert model.documents > 1000 and len(model.word_counts) > 1000


def test_a_saved_ranker_loads_back_and_gives_the_same_chances(copy: Path,
                                                              tmp_path: Path) -> None:
    model = proof.load(copy)
    rows = np.random.RandomState(0).rand(20, len(proof.FEATURES)) * 3
    again = tmp_path / "again"
    again.mkdir()
    proof.save(model, again)
    loaded = proof.load(again)
    assert loaded.probabilities(rows.tolist()) == model.probabilities(rows.tolist())
    assert (loaded.first, loaded.further, loaded.alone, loaded.together, loaded.documents) == (
        model.first, model.further, model.alone, model.together, model.documents)
    assert loaded.word_counts == model.word_counts


class Planted:
    """A pickle that, if it were ever unpickled, would leave a file behind."""

    def __init__(self, mark: Path) -> None:
        self.mark = mark

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path.touch, (str(self.mark),))  # type: ignore[return-value]


def plant(copy: Path, mark: Path) -> None:
    """Replace the model file with one whose trees hold a pickle."""
    with np.load(copy / proof.MODEL_FILE) as stored:
        arrays = {name: stored[name] for name in stored.files}
    arrays["value"] = np.array([Planted(mark)] * len(arrays["value"]), dtype=object)
    np.savez(copy / proof.MODEL_FILE, **arrays)


def test_the_hash_is_checked_before_the_model_file_is_read(
        copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A swapped model file whose hash the data file does not record is refused
    before NumPy looks inside it at all."""
    plant(copy, tmp_path / "ran")

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("NumPy read a file whose hash did not match")

    monkeypatch.setattr(np, "load", never)
    with pytest.raises(proof.ProofModelError, match="does not match proof.json.gz"):
        proof.load(copy)


@pytest.mark.parametrize("damage", ["truncated", "bit flipped", "deeply nested"])
def test_a_damaged_data_file_is_one_clear_error(copy: Path, damage: str) -> None:
    path = copy / proof.DATA_FILE
    raw = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "bit flipped":
        # A flipped bit inside the deflate stream: zlib's own error, not a gzip one.
        path.write_bytes(raw[:40] + bytes([raw[40] ^ 0x10]) + raw[41:])
    else:
        with gzip.open(path, "wt", encoding="utf-8") as text:
            text.write("[" * 100_000 + "]" * 100_000)
    with pytest.raises(proof.ProofModelError, match=r"cannot read the model file|not an "):
        proof.load(copy)


@pytest.mark.parametrize(("key", "value"), [
    ("first", float("nan")), ("first", 7), ("further", 0.9), ("alone", 0.05),
    ("alone", None), ("together", 0.95), ("together", 0.01), ("together", "half"),
    ("documents", -5),
    ("word_counts", {"servidor": "many"}), ("word_counts", {"servidor": 10**9})])
def test_bars_and_word_counts_out_of_range_are_refused(copy: Path, key: str,
                                                       value: object) -> None:
    data = read_data(copy)
    data[key] = value
    write_data(copy, data)
    with pytest.raises(proof.ProofModelError, match="does not hold"):
        proof.load(copy)


def test_a_data_file_naming_no_together_bar_cites_nothing_below_the_first(copy: Path) -> None:
    data = read_data(copy)
    del data["together"]
    write_data(copy, data)
    model = proof.load(copy)
    assert model.together == model.first


def test_a_changed_model_file_is_refused(copy: Path) -> None:
    with (copy / proof.MODEL_FILE).open("ab") as raw:
        raw.write(b"\0")
    with pytest.raises(proof.ProofModelError, match="does not match"):
        proof.load(copy)


def test_a_missing_data_file_says_how_to_get_it_back(copy: Path) -> None:
    (copy / proof.DATA_FILE).unlink()
    with pytest.raises(proof.ProofModelError, match="missing; reinstall triage"):
        proof.load(copy)


def test_a_ranker_made_for_other_features_is_refused(copy: Path) -> None:
    data = read_data(copy)
    data["features"] = [*proof.FEATURES, "something new"]
    write_data(copy, data)
    with pytest.raises(proof.ProofModelError, match="other features"):
        proof.load(copy)


def test_a_model_file_holding_a_pickle_is_refused_unread(copy: Path, tmp_path: Path) -> None:
    """A file whose hash is recorded but that holds a pickle (one that would leave a
    file behind if it ran) is refused, not loaded."""
    mark = tmp_path / "ran"
    plant(copy, mark)
    data = read_data(copy)
    data["sha256"] = sha256_of(copy / proof.MODEL_FILE)
    write_data(copy, data)
    with pytest.raises(proof.ProofModelError, match="cannot read the model file .*allow_pickle"):
        proof.load(copy)
    assert not mark.exists()
    assert "\n" not in str(pytest.raises(proof.ProofModelError, proof.load, copy).value)


@pytest.mark.parametrize("damage", ["a child before its parent", "a feature out of range",
                                    "an array missing", "no starting score"])
def test_arrays_that_are_not_trees_over_the_features_are_refused(copy: Path,
                                                                 damage: str) -> None:
    """Reading a tree ends only if each node's children come after it: a file whose
    nodes loop, or read a feature the ranker has not, is refused before any reading."""
    with np.load(copy / proof.MODEL_FILE) as stored:
        arrays = {name: stored[name].copy() for name in stored.files}
    data = read_data(copy)
    inner = int(np.flatnonzero(~arrays["leaf"])[1])
    if damage == "a child before its parent":
        arrays["left"][inner] = inner
    elif damage == "a feature out of range":
        arrays["feature"][inner] = len(proof.FEATURES)
    elif damage == "an array missing":
        del arrays["threshold"]
    else:
        del data["baseline"]
    np.savez(copy / proof.MODEL_FILE, **arrays)
    data["sha256"] = sha256_of(copy / proof.MODEL_FILE)
    write_data(copy, data)
    with pytest.raises(proof.ProofModelError, match="does not hold an evidence ranker"):
        proof.load(copy)


def test_the_trees_give_the_chances_scikit_learn_gives() -> None:
    """The ranker's trees, read as arrays, give scikit-learn's chances, with missing
    values and values on the thresholds among them."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from triage.trees import Trees

    random = np.random.RandomState(0)
    x = random.rand(600, 6)
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0.8) ^ (random.rand(600) < 0.1)
    x[random.rand(600, 6) < 0.05] = np.nan
    fitted = HistGradientBoostingClassifier(max_depth=3, max_iter=60, random_state=0).fit(x, y)
    trees = Trees.of(fitted)
    rows = random.rand(300, 6)
    rows[random.rand(300, 6) < 0.1] = np.nan
    rows[:20] = trees.threshold[~trees.leaf][:20, None]  # exactly on a threshold
    assert trees.predict_proba(rows) == pytest.approx(fitted.predict_proba(rows), abs=1e-12)
    assert len(np.unique(np.round(trees.predict_proba(rows)[:, 1], 3))) > 20


def assessed(*items: tuple[float, dict[str, float], float]) -> list[Scored]:
    """Candidates as the ranker leaves them: (chance, hand features, hand score)."""
    when = datetime(2026, 3, 1, tzinfo=UTC)
    blank = Profile(topics={}, words=frozenset(), codes=frozenset(), amounts=frozenset(),
                    dates=frozenset(), marks=frozenset(), head_marks=frozenset(),
                    types=frozenset(), reply=False)
    found = []
    for index, (chance, features, hand) in enumerate(items):
        candidate = Candidate(row=index, message_id=f"<n{index}@x>",
                              date=when - timedelta(days=index), subject="", body="", sender="",
                              recipients=(), thread_id=None, to_complainant=True)
        found.append(Scored(candidate, blank, score=hand, chance=chance,
                            features=dict(features)))
    return found


def rows(cited: list[Scored]) -> list[int]:
    return [s.candidate.row for s in cited]


def test_nothing_is_cited_unless_the_likeliest_reaches_the_first_bar() -> None:
    items = assessed((0.55, {}, 0.0), (0.5, {}, 0.0))
    assert cite(items, "accusation", first=0.6, further=0.3) == []
    assert rows(cite(items, "accusation", first=0.5, further=0.3)) == [0, 1]


def test_once_the_best_is_likely_the_others_need_only_the_second_bar() -> None:
    items = assessed((0.2, {}, 0.0), (0.9, {}, 0.0), (0.4, {}, 0.0), (0.36, {}, 0.0))
    assert rows(cite(items, "payment_excuse", first=0.6, further=0.35)) == [1, 2, 3]
    assert rows(cite(items, "payment_excuse", first=0.6, further=0.38)) == [1, 2]
    assert rows(cite(assessed((0.9, {}, 0.0), (0.3, {}, 0.0)), "payment_excuse", first=0.6,
                     further=0.35)) == [0]


def test_no_more_than_three_are_cited() -> None:
    items = assessed(*[(0.9 - k / 100, {}, 0.0) for k in range(5)])
    assert rows(cite(items, "scope_creep", first=0.6, further=0.35)) == [0, 1, 2]


def test_the_notice_the_complaint_answers_is_cited_when_the_hand_score_finds_it() -> None:
    answered = {"answered": 1.0}
    assert rows(cite(assessed((0.1, {}, 0.0), (0.2, answered, 0.3)), "accusation",
                     first=0.6, further=0.35)) == [1]
    # It goes first, and opens the first bar for the others: the second bar is enough.
    assert rows(cite(assessed((0.5, {}, 0.0), (0.2, answered, 0.3), (0.3, {}, 0.0)),
                     "accusation", first=0.6, further=0.35)) == [1, 0]
    # Answering an old thread about something else (a low hand score) proves nothing,
    # and a genuine fault reported in reply to a notice is not disproved by it.
    assert cite(assessed((0.2, answered, -1.0)), "accusation", first=0.6, further=0.35) == []
    assert cite(assessed((0.2, answered, 0.3)), "genuine_fault", first=0.6, further=0.35) == []


def test_a_genuine_fault_skips_the_providers_own_reply_in_its_conversation() -> None:
    items = assessed((0.9, {"same_thread": 1.0}, 1.0), (0.7, {}, 0.5))
    items[0] = replace(items[0], profile=replace(items[0].profile, reply=True))
    assert rows(cite(items, "accusation", first=0.6, further=0.35)) == [0, 1]
    assert rows(cite(items, "genuine_fault", first=0.6, further=0.35)) == [1]


def test_leads_are_the_likeliest_not_cited_that_reach_their_bar() -> None:
    below = LEAD_CHANCE - 0.01
    items = assessed((0.95, {}, 1.0), (0.5, {}, 0.0), (LEAD_CHANCE, {}, 0.0), (0.45, {}, 0.0),
                     (below, {}, 0.0))
    cited = cite(items, "accusation", first=0.9, further=0.6)
    assert rows(cited) == [0]
    assert MAX_LEADS == 2 and rows(leads(items, "accusation", cited)) == [1, 3]
    # With nothing cited, the likeliest are the leads; none below the bar.
    assert rows(leads(items[1:], "accusation", [])) == [1, 3]
    assert leads(assessed((below, {}, 0.0)), "accusation", []) == []
    # A candidate exactly at the bar is a lead.
    assert rows(leads(assessed((0.5, {}, 0.0), (LEAD_CHANCE, {}, 0.0), (below, {}, 0.0)),
                      "accusation", [])) == [0, 1]


def test_a_genuine_faults_leads_skip_the_providers_own_reply_in_its_conversation() -> None:
    items = assessed((0.5, {"same_thread": 1.0}, 1.0), (0.3, {}, 0.5))
    items[0] = replace(items[0], profile=replace(items[0].profile, reply=True))
    assert rows(leads(items, "accusation", [])) == [0, 1]
    assert rows(leads(items, "genuine_fault", [])) == [1]


def profile_of(words: set[str], topics: dict[str, int] | None = None,
               types: frozenset[str] = frozenset()) -> Profile:
    return Profile(topics=topics or {}, words=frozenset(words), codes=frozenset(),
                   amounts=frozenset(), dates=frozenset(), marks=frozenset(),
                   head_marks=frozenset(), types=types, reply=False)


def test_the_rankers_own_features_are_what_their_names_say() -> None:
    model = proof.ProofModel(model=None, word_counts={"servidor": 50, "correo": 10},
                             documents=100, first=0.8, further=0.5, alone=0.6, together=0.8,
                             card={})
    own = profile_of({"servidor", "correo", "mantenimiento"})
    best, other = assessed((0.0, {"topics": 1.0}, 1.5), (0.0, {}, -0.5))
    best.profile = profile_of({"servidor", "mantenimiento", "ventana"}, {"mail": 1, "web": 1})
    other.profile = profile_of({"correo", "servidor"}, {"mail": 2})
    found = proof.feature_rows([best, other], own, "accusation",
                               [{"announcement"}, {"billing"}], model)
    named = [dict(zip(proof.FEATURES, row, strict=True)) for row in found]
    assert named[0]["topics"] == 1.0 and named[0]["hand_score"] == 1.5
    assert named[1]["behind_best"] == 2.0 and named[1]["position"] == 1.0
    assert named[0]["category_accusation"] == 1.0 and named[0]["category_scope_creep"] == 0.0
    assert named[0]["kind_announcement"] == 1.0 and named[1]["kind_billing"] == 1.0
    assert named[1]["like_best_kind"] == 0.0 and named[1]["like_best_topics"] == 1.0
    # Rare words: the shared words weighted by their rarity in client mail.
    weight = {"servidor": proof.idf(100, 50), "correo": proof.idf(100, 10),
              "mantenimiento": proof.idf(100, 0), "ventana": proof.idf(100, 0)}

    def cosine(a: set[str], b: set[str]) -> float:
        dot = sum(weight[w] ** 2 for w in a & b)
        return dot / math.sqrt(sum(weight[w] ** 2 for w in a) * sum(weight[w] ** 2 for w in b))

    assert named[1]["rare_words"] == pytest.approx(cosine(set(own.words), set(other.profile.words)))
    assert named[1]["like_best_words"] == pytest.approx(
        cosine(set(best.profile.words), set(other.profile.words)))
    # Spellings: shared runs of four letters, over the geometric mean of their numbers.
    def spell(words: frozenset[str]) -> set[str]:
        return {w[i:i + 4] for w in words for i in range(len(w) - 3)}

    mine, theirs = spell(own.words), spell(best.profile.words)
    assert named[0]["spellings"] == pytest.approx(
        len(mine & theirs) / math.sqrt(len(mine) * len(theirs)))
    # Each similarity beside the highest of the complaint's candidates.
    for name, share in (("rare_words", "rarest_words"), ("spellings", "most_spellings")):
        top = max(row[name] for row in named)
        assert top > 0 and {row[share] for row in named} >= {1.0}
        for row in named:
            assert row[share] == pytest.approx(row[name] / top)


def test_similarities_all_zero_stay_zero_beside_the_highest() -> None:
    assert proof.beside_highest([0.0, 0.0]) == [0.0, 0.0]
    assert proof.beside_highest([]) == []
    assert proof.beside_highest([0.5, 2.0, 0.0]) == [0.25, 1.0, 0.0]


def test_a_kept_text_is_the_one_a_fresh_computation_gives() -> None:
    model = proof.ProofModel(model=None, word_counts={"servidor": 5}, documents=10,
                             first=0.8, further=0.5, alone=0.6, together=0.8, card={})
    words = [frozenset({"servidor", f"palabra{k}"}) for k in range(proof._KEEP + 5)]
    for w in words:
        model.text(w)
    fresh = proof.ProofModel(model=None, word_counts={"servidor": 5}, documents=10,
                             first=0.8, further=0.5, alone=0.6, together=0.8, card={})
    for w in (words[0], words[-1], words[7]):
        assert model.text(w) == fresh.text(w, keep=False)
    assert len(model._texts) <= proof._KEEP


class Fixed:
    """A stand-in for the trees: the same probability for every row."""

    n_features_in_ = len(proof.FEATURES)

    def __init__(self, chance: float) -> None:
        self.chance = chance

    def predict_proba(self, rows: list[list[float]]) -> np.ndarray:
        return np.array([[1 - self.chance, self.chance] for _ in rows])


def test_each_cited_notice_carries_the_rankers_probability_as_its_score() -> None:
    when = datetime(2026, 3, 13, 8, tzinfo=UTC)
    complaint = Complaint(message_id="<c@x>", date=when, subject="Anoche sin correo",
                          body="Anoche no funcionó el correo del servidor mx2.",
                          sender="a@b.example", thread_id=None,
                          probabilities={"accusation": 0.9, "other": 0.1})
    notice = Candidate(row=1, message_id="<n@x>", date=when - timedelta(days=3),
                       subject="Mantenimiento del servidor de correo mx2",
                       body="El jueves migramos el servidor de correo mx2.",
                       sender="avisos@p.example", recipients=("a@b.example",),
                       thread_id=None, to_complainant=True)
    model = replace(proof.shipped(), model=Fixed(0.83), first=0.8)
    (cited,) = rank_all([(complaint, [notice], None)], model)[0:1]
    assert [e.score for e in cited] == [0.83]
    assert rank_all([(complaint, [notice], None)], replace(model, model=Fixed(0.79))) == [[]]


class ByReading:
    """A stand-in for the trees that tells the two readings of a doubted genuine fault
    apart: read as an accusation, a notice announcing the days just before is
    ``announced`` likely and any other 0.3; read as a genuine fault, every notice 0.25."""

    n_features_in_ = len(proof.FEATURES)

    def __init__(self, announced: float) -> None:
        self.announced = announced

    def predict_proba(self, rows: list[list[float]]) -> np.ndarray:
        as_accusation = proof.FEATURES.index("category_accusation")
        announcing = proof.FEATURES.index("event_before")
        chances = [(self.announced if row[announcing] else 0.3) if row[as_accusation] else 0.25
                   for row in rows]
        return np.array([[1 - c, c] for c in chances])


def test_the_leads_come_from_the_reading_whose_citations_are_kept() -> None:
    """A failure report the model doubts is read twice, as a genuine fault and as an
    accusation. When the announcement of that night makes it an accusation, the leads
    are that reading's, beside its citation; when it does not, the genuine fault's."""
    when = datetime(2026, 3, 13, 8, tzinfo=UTC)
    complaint = Complaint(message_id="<c@x>", date=when, subject="Correo caído anoche",
                          body="Anoche, la noche del 12 de marzo, no entraba ningún correo.",
                          sender="marta@clinicasol.example", thread_id=None,
                          probabilities={"genuine_fault": 0.7, "accusation": 0.2,
                                         "other": 0.1})
    announcement = Candidate(
        row=1, message_id="<n1@x>", date=when - timedelta(days=8),
        subject="Mantenimiento del correo: noche del 12 de marzo",
        body="La noche del 12 de marzo migramos el servidor de correo.",
        sender="avisos@nubeclara.example", recipients=("marta@clinicasol.example",),
        thread_id=None, to_complainant=True)
    invoice = Candidate(
        row=2, message_id="<n2@x>", date=when - timedelta(days=20),
        subject="Factura NC-0311", body="Adjuntamos la factura del plan de correo.",
        sender="facturacion@nubeclara.example", recipients=("marta@clinicasol.example",),
        thread_id=None, to_complainant=True)
    shipped = proof.shipped()

    (announced,) = read_all([(complaint, [announcement, invoice], None)],
                            replace(shipped, model=ByReading(0.9)))
    assert announced.category == "accusation"
    assert [e.message_id for e in announced.evidence] == ["<n1@x>"]
    assert [(e.message_id, e.score) for e in announced.leads] == [("<n2@x>", 0.3)]

    (fault,) = read_all([(complaint, [announcement, invoice], None)],
                        replace(shipped, model=ByReading(0.5)))
    assert fault.category is None and fault.evidence == []
    assert sorted((e.message_id, e.score) for e in fault.leads) == [
        ("<n1@x>", 0.25), ("<n2@x>", 0.25)]


def test_a_notice_of_another_matter_than_the_best_needs_the_alone_bar() -> None:
    items = assessed((0.9, {}, 1.0), (0.45, {}, 0.5), (0.45, {}, 0.4))
    items[0].candidate = replace(items[0].candidate, thread_id="t1")
    items[1].candidate = replace(items[1].candidate, thread_id="t1")  # the best's thread
    assert rows(cite(items, "payment_excuse", first=0.6, further=0.4, alone=0.5)) == [0, 1]
    assert rows(cite(items, "payment_excuse", first=0.6, further=0.4, alone=0.45)) == [0, 1, 2]
    # By default the alone bar is the further one.
    assert rows(cite(items, "payment_excuse", first=0.6, further=0.4)) == [0, 1, 2]
    # The best is cited once it reaches the first bar, even below the alone bar.
    assert rows(cite(items, "payment_excuse", first=0.6, further=0.4, alone=0.95)) == [0, 1]


def test_a_best_below_the_first_bar_is_cited_with_another_of_its_matter() -> None:
    """The announcement and its reminder, each fairly likely, bear each other out;
    either alone, or beside a notice of another matter, is not enough."""
    items = assessed((0.55, {}, 1.0), (0.35, {}, 0.5), (0.5, {}, 0.4))
    items[0].profile = replace(items[0].profile, dates=frozenset({"05-12"}))
    items[1].profile = replace(items[1].profile, dates=frozenset({"05-12"}))
    items[2].profile = replace(items[2].profile, dates=frozenset({"05-19"}))
    assert rows(cite(items, "accusation", first=0.7, further=0.3, alone=0.7,
                     together=0.5)) == [0, 1]
    # By default there is no such bar: the first one holds.
    assert cite(items, "accusation", first=0.7, further=0.3, alone=0.7) == []
    # Below the together bar, the two are not enough.
    assert cite(items, "accusation", first=0.7, further=0.3, alone=0.7, together=0.6) == []
    # Nor is a best whose only fellow is of another matter.
    items[1].profile = replace(items[1].profile, dates=frozenset({"05-20"}))
    assert cite(items, "accusation", first=0.7, further=0.3, alone=0.7, together=0.5) == []


def test_a_notice_naming_the_bests_reference_is_of_its_matter_and_no_thread_is_not() -> None:
    items = assessed((0.9, {}, 1.0), (0.45, {}, 0.5), (0.45, {}, 0.4))
    items[0].profile = replace(items[0].profile, codes=frozenset({"INV-1042"}))
    items[1].profile = replace(items[1].profile, codes=frozenset({"INV-1042"}))
    items[2].profile = replace(items[2].profile, codes=frozenset({"INV-1041"}))
    # No thread on either side (thread_id None) ties nothing: only the reference does.
    assert rows(cite(items, "payment_excuse", first=0.6, further=0.4, alone=0.5)) == [0, 1]


def test_a_notice_naming_the_bests_day_is_of_its_matter() -> None:
    """The reminder the evening before names the night the announcement named."""
    items = assessed((0.9, {}, 1.0), (0.45, {}, 0.5), (0.45, {}, 0.4))
    items[0].profile = replace(items[0].profile, dates=frozenset({"05-12"}))
    items[1].profile = replace(items[1].profile, dates=frozenset({"05-12", "05-11"}))
    items[2].profile = replace(items[2].profile, dates=frozenset({"05-19"}))
    assert rows(cite(items, "accusation", first=0.6, further=0.4, alone=0.5)) == [0, 1]


WHEN = datetime(2026, 6, 18, 15, 0, tzinfo=UTC)


def complaint_of(subject: str, body: str, category: str) -> Complaint:
    return Complaint(message_id="<c@x>", date=WHEN, subject=subject, body=body,
                     sender="antonio@padaria.example", thread_id=None,
                     probabilities={category: 1.0}, language="pt")


def notice(row: int, subject: str, body: str, days_before: int) -> Candidate:
    return Candidate(row=row, message_id=f"<n{row}@x>", date=WHEN - timedelta(days=days_before),
                     subject=subject, body=body, sender="honorarios@contabil.example",
                     recipients=("antonio@padaria.example",), thread_id=None,
                     to_complainant=True)


def features_by_row(complaint: Complaint, candidates: list[Candidate]) -> dict[int, Scored]:
    return {s.candidate.row: s for s in assess(complaint, candidates)[1]}


def test_the_notice_most_about_the_categorys_matter_is_marked() -> None:
    complaint = complaint_of("Posts", "Isso não estava incluído no plano?", "scope_creep")
    found = features_by_row(complaint, [
        notice(1, "Orçamento – fotos", "Orçamento da sessão de fotos: R$ 750.", 60),
        notice(2, "Proposta – Plano Básico",
               "Segue a proposta. Incluído no plano: 12 posts e 8 stories por mês. Não "
               "incluído: anúncios, respostas no direct. Escopo e condições do contrato.", 90)])
    assert found[2].features["most_about"] == 1.0
    assert 0.0 <= found[1].features["most_about"] < 1.0
    assert found[2].features["matter"] > found[1].features["matter"]
