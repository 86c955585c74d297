"""The compact string index behind the model's vocabularies and lemma tables."""

from __future__ import annotations

import pytest

from triage.model_io import load_model
from triage.terms import LemmaTable, Terms


def test_each_term_is_found_at_its_position_and_other_words_are_not() -> None:
    terms = Terms(["factura", "mantenimiento programado", "é", " ab", ""])
    assert terms.positions(["é", "nada", "factura", "", " ab", "mantenimiento programado",
                            "factura"]) == [2, -1, 0, 4, 3, 1, 0]
    assert terms.positions([]) == []
    assert Terms([]).positions(["factura"]) == [-1]


def test_the_terms_come_back_in_order_as_they_went_in() -> None:
    words = ["zeta", "alfa", "olá", "two words"]
    terms = Terms(words)
    assert list(terms) == words and len(terms) == 4
    assert [terms[i] for i in range(4)] == words


def test_no_terms_give_nothing_back_and_a_position_outside_is_an_error() -> None:
    assert list(Terms([])) == [] and len(Terms([])) == 0
    assert dict(LemmaTable({})) == {}
    with pytest.raises(IndexError):
        Terms(["a"])[-1]
    with pytest.raises(IndexError):
        Terms(["a"])[1]


def test_terms_and_lemma_tables_are_rebuilt_from_their_text_when_pickled() -> None:
    """The hashes are this process's; another process rebuilds them (its hash differs)."""
    import pickle

    terms = pickle.loads(pickle.dumps(Terms(["uno", "dos"])))
    assert terms.positions(["dos", "tres", "uno"]) == [1, -1, 0]
    table = pickle.loads(pickle.dumps(LemmaTable({"fui": "ir"})))
    assert table.lemmas(["fui", "voy"]) == ["ir", "voy"]


def test_a_term_twice_or_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        Terms(["a", "b", "a"])
    with pytest.raises(ValueError, match="line break"):
        Terms(["a\nb"])


class _ByLength(Terms):
    """Every word of one length has one hash: terms that share a hash."""

    __slots__ = ()
    _hash = staticmethod(len)


def test_terms_that_share_a_hash_are_told_apart_by_their_text() -> None:
    terms = _ByLength(["ab", "cd", "e", "xyz", "gh"])
    assert terms.positions(["cd", "ab", "zz", "e", "gh"]) == [1, 0, -1, 2, 4]


def test_a_lemma_table_gives_each_forms_lemma_and_the_form_itself_when_it_has_none() -> None:
    source = {"facturas": "factura", "pagamos": "pagar", "pagó": "pagar"}
    table = LemmaTable(source)
    assert table.lemmas(["pagó", "hola", "facturas", "pagamos"]) == [
        "pagar", "hola", "factura", "pagar"]
    assert table["pagamos"] == "pagar" and table.get("hola") is None
    assert dict(table) == source and len(table) == 3


def test_the_shipped_models_vocabularies_find_every_term_at_its_column() -> None:
    for vocabulary in load_model().classifier.vocabularies:
        words = list(vocabulary.terms)
        assert vocabulary.terms.positions(words) == list(range(len(words)))
        assert len(words) == len(vocabulary.idf)
