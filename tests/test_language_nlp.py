"""Language detection and the spaCy analysis: lemmas, entities, concepts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triage import nlp
from triage.concepts import concept_tokens
from triage.language import detect_language
from triage.nlp import TextAnalyzer, fold, parse_amount


@pytest.mark.parametrize(("text", "lang"), [
    ("Nadie nos avisó del mantenimiento y estuvimos sin correo toda la noche.", "es"),
    ("nadie nos aviso del corte, q onda con uds", "es"),
    ("Vos me dijiste que el sitio estaba listo y sigue caído, che.", "es"),
    ("Ninguém avisou da manutenção e ficamos sem e-mail a noite toda.", "pt"),
    ("ninguem avisou nada, vcs sao uma piada", "pt"),
    ("Não recebi a fatura, podem reenviar para o meu email?", "pt"),
    ("Nobody told us about the maintenance window, this is unacceptable.", "en"),
    ("pls fix asap, site down again", "en"),
    # The trigrams alone read this one as German (0.96); the full models do not.
    ("Nadie nos avisó del corte de anoche.", "es"),
    ("Bonjour, le site ne fonctionne plus depuis ce matin, merci de regarder.", "other"),
    ("Guten Tag, die Rechnung ist leider falsch, bitte korrigieren Sie sie.", "other"),
    ("", "other"),
    ("!!!", "other"),
])
def test_languages(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_a_short_text_borrows_the_subject() -> None:
    assert detect_language("ok", fallback="Re: Recordatorio de la factura de noviembre") == "es"
    assert detect_language("ok", fallback="Re: Lembrete da fatura de novembro") == "pt"


def test_lemmas_use_the_lookup_tables_and_fold_accents() -> None:
    analyzer = TextAnalyzer({"pt": {"caíram": "cair", "faturas": "fatura"}})
    analysis = analyzer.analyse("Os servidores caíram, e as Faturas?", "pt")
    assert "cair" in analysis.lemmas and "fatura" in analysis.lemmas
    assert "," not in analysis.lemmas and "?" not in analysis.lemmas


@pytest.mark.parametrize(("lang", "text", "expected"), [
    ("es", "La factura FAC-2026-0412 de 1.210,00 € vence el 14/11/2026",
     {("invoice", "FAC-2026-0412"), ("amount", "1210.00"), ("date", "11-14")}),
    ("es", "Factura nº 1042, pagaré el 3 de noviembre, ver www.cliente.es",
     {("invoice", "1042"), ("date", "11-03"), ("domain", "cliente.es")}),
    ("pt", "A NF 3321 de R$ 1.800,00 vence dia 14 de novembro",
     {("invoice", "3321"), ("amount", "1800.00"), ("date", "11-14")}),
    ("en", "Invoice #INV-0098 for $1,250.00 due on Nov 14 (see acme.co.uk)",
     {("invoice", "INV-0098"), ("amount", "1250.00"), ("date", "11-14"),
      ("domain", "acme.co.uk")}),
    ("es", "Recordatorio – factura N° 4471 vencida; la N° 4402 ya está pagada",
     {("invoice", "4471")}),
    ("en", "Invoice no. 5521 and invoice No.: 5522 are overdue",
     {("invoice", "5521"), ("invoice", "5522")}),
    ("es", "Factura Nro. 4471, boleta 00123 y folio 88 de S/ 350.00",
     {("invoice", "4471"), ("invoice", "00123"), ("invoice", "88"), ("amount", "350.00")}),
    ("pt", "A Nota Fiscal nº 3345 vence em 16-06-2026", {("invoice", "3345"), ("date", "06-16")}),
    ("en", "Invoice INV-2026-0457 was due 2026-06-16, the 16th of June",
     {("invoice", "INV-2026-0457"), ("date", "06-16")}),

    ("en", "Rs. 4000 and £540.00 paid to billing@shop.example",
     {("amount", "4000.00"), ("amount", "540.00"), ("domain", "shop.example")}),
])
def test_entity_matchers(lang: str, text: str, expected: set[tuple[str, str]]) -> None:
    found = {(e.kind, e.value) for e in TextAnalyzer().analyse(text, lang).entities}
    assert expected <= found


def test_a_number_after_a_spaced_hyphen_is_not_part_of_the_invoice_code() -> None:
    found = {(e.kind, e.value) for e in TextAnalyzer().analyse(
        "invoice 1042 - 3 days late, and 16 - 06 - 2026 is no date", "en").entities}
    assert found == {("invoice", "1042")}


@pytest.mark.parametrize(("number", "lang", "value"), [
    ("1.210,00", "es", "1210.00"), ("1,210.00", "en", "1210.00"), ("1.200", "es", "1200.00"),
    ("450", "pt", "450.00"), ("12,5", "es", "12.50"), ("99.90", "en", "99.90"),
])
def test_amounts_in_local_formats(number: str, lang: str, value: str) -> None:
    assert parse_amount(number, lang) == value


def test_concepts_are_shared_across_languages() -> None:
    spanish = concept_tokens(fold("Nadie nos avisó y la web está caída"))
    portuguese = concept_tokens(fold("Ninguém avisou e o site caiu"))
    english = concept_tokens(fold("Nobody told us and the site is down"))
    for tokens in (spanish, portuguese, english):
        assert "__not_told__" in tokens and "__outage__" in tokens
    assert "__extra__" in concept_tokens(fold("Já que você está mexendo, inclui um blog de graça?"))
    assert "__pay_later__" in concept_tokens(fold("I'll pay you next week, I'm travelling"))


def test_the_vocabulary_stays_bounded_over_endless_new_strings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """spaCy keeps every string it has seen; a service reading invoice numbers for
    months must not grow with them. Entities are still found after a renewal."""
    monkeypatch.setattr(nlp, "VOCAB_LIMIT", 3_000)
    sizes = []
    for n in range(2_000):
        doc = nlp.tokenise(f"La factura FAC-{n} de {n * 7},50 EUR, pedido #{n + 13}", "es")
        sizes.append(len(doc.vocab.strings))
    assert max(sizes) <= 3_000 + 50  # the limit plus one message's strings
    renewals = sum(b < a for a, b in zip(sizes, sizes[1:], strict=False))
    assert renewals >= 1
    earlier = nlp.tokenise("La factura FAC-77 de 120,00 EUR vence el 12/03.", "es")
    for n in range(3_000):  # renew the pipeline under the earlier Doc
        nlp.tokenise(f"ref{n}x y{n}z", "es")
    assert earlier.vocab is not nlp.tokenise("hola", "es").vocab
    assert {(e.kind, e.value) for e in nlp.find_entities(earlier)} >= {
        ("invoice", "FAC-77"), ("amount", "120.00")}


_PIECES = ["factura", "nº", "FAC-2026-0412", "1042", "1.210,00", "€", "R$", "$1,250.00", "de",
           "14", "noviembre", "Nov", "3rd", "14/11/2026", "2026-03-12", "www.cliente.es",
           "billing@shop.example", "INV-0098", "EUR", "pagaré", "ok.", "(ver", "acme.co.uk)",
           "#77", "Rs.", "4000", "dia", "hola", "—", "x"]
_GAPS = [" ", " ", " ", "  ", "\n", "\n\n", "\t", " \n ", "\u00a0", "\r\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PIECES), st.sampled_from(_GAPS)), max_size=40),
       st.sampled_from(["es", "pt", "en"]))
def test_entities_from_the_stretches_around_candidates_are_those_of_the_whole_text(
        parts: list[tuple[str, str]], lang: str) -> None:
    text = "".join(piece + gap for piece, gap in parts)
    assert nlp.entities_in(text, lang) == nlp.find_entities(nlp.tokenise(text, lang))


def test_entities_of_a_text_with_long_stretches_between_candidates() -> None:
    filler = "palabra " * 50
    text = f"{filler}factura 1042 {filler}de 1.210,00 €\n\n{filler}el 3 de noviembre"
    assert [(e.kind, e.value) for e in nlp.entities_in(text, "es")] == [
        ("invoice", "1042"), ("amount", "1210.00"), ("date", "11-03")]
