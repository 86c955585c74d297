"""The evidence search's learned ranker (triage/proof.py): its files are checked
before anything in them is built, and its citing rule (evidence.cite) does what
the two bars say."""

from __future__ import annotations

import gzip
import json
import shutil
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from triage import proof
from triage.evidence import Candidate, Profile, Scored, cite
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
    assert 0.0 < model.further <= model.first < 1.0
    assert model.documents > 1000 and len(model.word_counts) > 1000


def test_a_saved_ranker_loads_back_and_gives_the_same_chances(copy: Path,
                                                              tmp_path: Path) -> None:
    model = proof.load(copy)
    rows = np.random.RandomState(0).rand(20, len(proof.FEATURES)) * 3
    again = tmp_path / "again"
    again.mkdir()
    proof.save(model, again)
    assert proof.load(again).probabilities(rows.tolist()) == model.probabilities(rows.tolist())


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


def test_a_model_file_asking_for_an_untrusted_type_is_refused_before_it_is_built(
        copy: Path) -> None:
    """A file whose hash is recorded but that holds a type outside the trusted list
    (here a Fraction, which skops would build by calling its constructor) is refused,
    not loaded."""
    with (copy / proof.MODEL_FILE).open("wb") as raw:
        sio.dump({"trees": Fraction(1, 2)}, raw, compression=zipfile.ZIP_DEFLATED)
    data = read_data(copy)
    data["sha256"] = sha256_of(copy / proof.MODEL_FILE)
    write_data(copy, data)
    with pytest.raises(proof.ProofModelError, match="does not trust"):
        proof.load(copy)


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
    items = assessed((0.2, {}, 0.0), (0.9, {}, 0.0), (0.4, {}, 0.0), (0.35, {}, 0.0),
                     (0.36, {}, 0.0))
    assert rows(cite(items, "payment_excuse", first=0.6, further=0.35)) == [1, 2, 4]


def test_the_notice_the_complaint_answers_is_cited_when_the_hand_score_finds_it() -> None:
    answered = {"answered": 1.0}
    assert rows(cite(assessed((0.1, {}, 0.0), (0.2, answered, 0.3)), "accusation",
                     first=0.6, further=0.35)) == [1]
    # Answering an old thread about something else (a low hand score) proves nothing,
    # and a genuine fault reported in reply to a notice is not disproved by it.
    assert cite(assessed((0.2, answered, -1.0)), "accusation", first=0.6, further=0.35) == []
    assert cite(assessed((0.2, answered, 0.3)), "genuine_fault", first=0.6, further=0.35) == []


def test_a_genuine_fault_skips_the_providers_own_reply_in_its_conversation() -> None:
    items = assessed((0.9, {"same_thread": 1.0}, 1.0), (0.7, {}, 0.5))
    items[0] = replace(items[0], profile=replace(items[0].profile, reply=True))
    assert rows(cite(items, "accusation", first=0.6, further=0.35)) == [0, 1]
    assert rows(cite(items, "genuine_fault", first=0.6, further=0.35)) == [1]
