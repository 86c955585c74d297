"""spaCy pipelines: tokens, lookup lemmas and entity matchers, loaded once.

Blank spaCy pipelines (no statistical model, nothing downloaded) tokenise the
text. Lemmas come from the lookup tables of spacy-lookups-data, cut down at
training time to the words the model knows (``build_lemma_tables``) so that
they load in milliseconds instead of seconds. Token matchers find the entities
a complaint and a notice share: invoice numbers, amounts, dates and domains.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab

from triage.terms import LemmaTable

SPACY_LANGS = {"es": "es", "pt": "pt", "en": "en", "other": "xx"}

INVOICE_WORDS = ["factura", "facturas", "fatura", "faturas", "invoice", "invoices", "nf", "nfe",
                 "nf-e", "recibo", "receipt", "boleto", "bill", "albarán", "cobro", "boleta",
                 "folio"]
NUMBER_WORDS = ["nº", "n°", "n.º", "no", "no.", "#", "number", "número", "numero", "nr", "num",
                "num.", "n", "n.", "nro", "nro.", "núm", "núm."]
NUMBER_MARKS = [".", "°", "º", ":"]
CURRENCY_BEFORE = ["€", "$", "£", "₹", "r$", "us$", "usd", "eur", "mxn", "ars", "brl", "gbp",
                   "inr", "clp", "cop", "pen", "rs", "rs.", "u$s", "s/", "s/."]
CURRENCY_AFTER = ["€", "eur", "euros", "euro", "usd", "dólares", "dolares", "dollars", "reais",
                  "real", "pesos", "mxn", "ars", "brl", "£", "gbp", "pounds", "libras", "rupees",
                  "inr", "soles", "clp", "cop"]
MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "setiembre", "octubre", "noviembre", "diciembre", "janeiro",
          "fevereiro", "março", "marco", "maio", "junho", "julho", "setembro", "outubro",
          "novembro", "dezembro", "january", "february", "march", "april", "may", "june",
          "july", "august", "september", "october", "november", "december", "jan", "feb",
          "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "ene", "abr",
          "ago", "dic", "fev", "mai", "out", "dez"]
_CODE = r"^#?[A-Za-z]{0,6}[-/#]?\d[\w/.-]*$"
_PREFIXED_CODE = r"^#?(?i:inv|fac|fat|ft|nf|fv|rec|cl|bill|ord)[-/#_]?\d{2,}[\w/-]*$"
_DOMAIN = r"^(?:https?://)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/\S*)?$"


# Every entity pattern needs a digit, an "@" or a dotted name; the matcher only
# looks near them, and text with none of them is not run through it at all.
_MAY_HOLD_ENTITY = re.compile(r"\d+|@|[a-z0-9-]\.[a-z]{2}", re.IGNORECASE)
_RUN = re.compile(r"\S+")
_LEMMA_CACHE_SIZE = 50_000  # words, all languages together
# Strings a pipeline's vocabulary may gather before it is built afresh (see tokenise).
VOCAB_LIMIT = 50_000
# The longest entity pattern is three tokens; a window this wide either side of a
# candidate token holds any pattern the token can be part of.
_PATTERN_REACH = 3


@dataclass(frozen=True, slots=True)
class Entity:
    """Something a complaint and a notice can share; ``value`` is normalised for matching."""

    kind: str  # "invoice", "amount", "date" or "domain"
    text: str
    value: str


@dataclass(frozen=True, slots=True)
class Analysis:
    lemmas: tuple[str, ...]
    entities: tuple[Entity, ...]


# Every combining mark of the Basic Multilingual Plane, deleted by str.translate
# (built once, in a few milliseconds; a per-character test was a hot spot).
_NO_MARKS = {cp: None for cp in range(0x10000) if unicodedata.combining(chr(cp))}


def fold(text: str) -> str:
    """Lower case without accents: "Facturación" → "facturacion"."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text.lower()).translate(_NO_MARKS)


class TextAnalyzer:
    """Tokens, lemmas and entities for the three languages; pipelines built once."""

    def __init__(self, lemma_tables: Mapping[str, Mapping[str, str]] | None = None) -> None:
        self.lemma_tables = {lang: table if isinstance(table, LemmaTable) else LemmaTable(table)
                             for lang, table in (lemma_tables or {}).items()}
        # Folded lemma per lower-case word, by language: mail repeats its words, and
        # folding each token again was a fifth of the analysis time.
        self._folded: dict[str, dict[str, str]] = {}

    def analyse(self, text: str, lang: str) -> Analysis:
        doc = self.tokenise(text, lang)
        words = [token.lower_ for token in doc if not token.is_space and not token.is_punct]
        return Analysis(lemmas=tuple(self.lemmas(words, lang)),
                        entities=tuple(find_entities(doc)))

    def lemmas(self, words: Sequence[str], lang: str) -> list[str]:
        """The folded lemma of each lower-case word (the word itself when the
        language's table has none)."""
        folded = self._folded.setdefault(lang, {})
        new = [word for word in dict.fromkeys(words) if word not in folded]
        if new:
            if sum(map(len, self._folded.values())) + len(new) > _LEMMA_CACHE_SIZE:
                self._folded.clear()
                folded = self._folded[lang] = {}
                new = list(dict.fromkeys(words))
            table = self.lemma_tables.get(lang)
            folded.update(zip(new, map(fold, table.lemmas(new) if table is not None else new),
                              strict=True))
        return [folded[word] for word in words]

    def tokenise(self, text: str, lang: str) -> Doc:
        return tokenise(text, lang)


def tokenise(text: str, lang: str) -> Doc:
    """``text`` as a spaCy Doc of the language's blank pipeline (built once, and again
    when its vocabulary has grown past ``VOCAB_LIMIT``)."""
    code = SPACY_LANGS.get(lang, "xx")
    pipeline = _pipeline(code)
    if len(pipeline.vocab.strings) > VOCAB_LIMIT:
        # spaCy keeps every string it has ever seen (each invoice number, amount and
        # typo) for the life of the vocabulary: a service reading mail for months
        # would grow without end. A fresh pipeline starts from nothing again.
        _pipeline.cache_clear()
        _matcher.cache_clear()
        pipeline = _pipeline(code)
    return pipeline(text)


@functools.cache
def _pipeline(code: str) -> Language:
    return spacy.blank(code)


@functools.cache
def _matcher(code: str) -> tuple[Vocab, Matcher]:
    vocab = _pipeline(code).vocab
    return vocab, _build_matcher(vocab)


def _build_matcher(vocab: Vocab) -> Matcher:
    matcher = Matcher(vocab)
    number = {"TEXT": {"REGEX": r"^\d[\d.,]*$"}}
    # "factura N° 4471" and "invoice no. 5521": the tokenizer splits the degree sign
    # and the full stop off the number word. "Nota fiscal 3345" is the Brazilian invoice.
    named: list[dict[str, Any]] = [
        {"LOWER": {"IN": INVOICE_WORDS}}, {"LOWER": {"IN": NUMBER_WORDS}, "OP": "?"},
        {"TEXT": {"IN": NUMBER_MARKS}, "OP": "*"}, {"TEXT": {"REGEX": _CODE}}]
    fiscal: list[dict[str, Any]] = [
        {"LOWER": "nota"}, {"LOWER": {"IN": ["fiscal", "fiscais"]}}, *named[1:]]
    prefixed: list[dict[str, Any]] = [{"TEXT": {"REGEX": _PREFIXED_CODE}}]
    matcher.add("invoice", [named, fiscal, prefixed,
                            *(_joined(p, [r"^\d[\w/]*$"]) for p in (named, fiscal, prefixed))])
    matcher.add("amount", [
        [{"LOWER": {"IN": CURRENCY_BEFORE}}, {"TEXT": ".", "OP": "?"}, number],
        [number, {"LOWER": {"IN": CURRENCY_AFTER}}],
    ])
    matcher.add("date", [
        [{"TEXT": {"REGEX": r"^\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?$"}}],
        [{"TEXT": {"REGEX": r"^\d{4}-\d{2}-\d{2}$"}}],
        # "2026-06-16" and "16-06-2026" as the English tokenizer splits them.
        _joined([{"TEXT": {"REGEX": r"^\d{4}$"}}], [r"^\d{2}$", r"^\d{2}$"]),
        _joined([{"TEXT": {"REGEX": r"^\d{1,2}$"}}], [r"^\d{1,2}$", r"^\d{2,4}$"]),
        [{"TEXT": {"REGEX": r"^\d{1,2}(?:st|nd|rd|th)?$"}},
         {"LOWER": {"IN": ["de", "of"]}, "OP": "?"}, {"LOWER": {"IN": MONTHS}}],
        [{"LOWER": {"IN": MONTHS}}, {"TEXT": {"REGEX": r"^\d{1,2}(?:st|nd|rd|th)?$"}}],
    ])
    matcher.add("domain", [[{"LOWER": {"REGEX": _DOMAIN}}], [{"LIKE_EMAIL": True}]])
    return matcher


def _joined(pattern: list[dict[str, Any]], parts: list[str]) -> list[dict[str, Any]]:
    """``pattern`` followed by a hyphen and each of ``parts`` (regular expressions), with
    no space between them: "INV-2026-0457" and "2026-06-16", which the English
    tokenizer splits at each hyphen between two digits ("factura 1042 - 3 días" is
    not one code)."""
    joined = [*pattern[:-1], {**pattern[-1], "SPACY": False}]
    for i, part in enumerate(parts):
        joined += [{"TEXT": "-", "SPACY": False},
                   {"TEXT": {"REGEX": part}, **({} if i == len(parts) - 1 else {"SPACY": False})}]
    return joined


def find_entities(doc: Doc) -> list[Entity]:
    vocab, matcher = _matcher(doc.lang_ if doc.lang_ in ("es", "pt", "en") else "xx")
    if vocab is not doc.vocab:  # a Doc made before its pipeline was renewed
        matcher = _build_matcher(doc.vocab)
    # The matcher only looks near tokens that could be part of an entity (a digit,
    # an "@", a dotted name): a few tokens either side hold the longest pattern.
    # On the corpus this finds exactly what matching the whole text finds, in a
    # third of the time.
    spans = [Span(doc, window.start + start, window.start + end, label=match_id)
             for window in _candidate_windows(doc)
             for match_id, start, end in matcher(window)]
    # Longest first, so "factura 1042" wins over a bare "1042" inside it.
    spans = sorted(spans, key=lambda s: (s.start, -(s.end - s.start)))
    found: list[Entity] = []
    taken: set[int] = set()
    for span in spans:
        if taken.intersection(range(span.start, span.end)):
            continue
        kind = span.label_
        value = _normalise(kind, span.text, doc.lang_)
        if value is None:
            continue
        taken.update(range(span.start, span.end))
        found.append(Entity(kind=kind, text=span.text, value=value))
    return found


def entities_in(text: str, lang: str) -> list[Entity]:
    """The entities ``find_entities`` finds in the whole text, found by tokenising only
    the stretches of it around a candidate (a digit, an "@", a dotted name).

    spaCy tokenises each run of non-space characters on its own, so a stretch of
    whole runs is tokenised as it is inside the text; every run gives at least one
    token, so a stretch reaching a few runs either side of a candidate holds every
    pattern the candidate can be part of. For a text that is not otherwise tokenised
    (the evidence search's), this saves about half the work.
    """
    candidates = list(_MAY_HOLD_ENTITY.finditer(text))
    if not candidates:
        return []
    runs = [match.span() for match in _RUN.finditer(text)]
    starts = [start for start, _ in runs]
    stretches: list[list[int]] = []
    for match in candidates:
        run = bisect.bisect_right(starts, match.start()) - 1
        first, last = max(0, run - _PATTERN_REACH), min(len(runs) - 1, run + _PATTERN_REACH)
        if stretches and first <= stretches[-1][1] + 1:
            stretches[-1][1] = last
        else:
            stretches.append([first, last])
    # One Doc for all the stretches: a line break between two is a token of its own,
    # which no pattern can match across.
    return find_entities(tokenise("\n\n".join(
        text[runs[first][0]:runs[last][1]] for first, last in stretches), lang))


def _candidate_windows(doc: Doc) -> list[Span]:
    # The token holding each candidate's characters, by bisecting the tokens' start
    # offsets (doc.char_span walks the tokens on every call; so would a loop over
    # them). A candidate is never white space, so its characters lie inside tokens.
    starts = doc.to_array("IDX").tolist()
    windows: list[list[int]] = []
    for match in _MAY_HOLD_ENTITY.finditer(doc.text):
        first = bisect.bisect_right(starts, match.start()) - 1
        last = bisect.bisect_right(starts, match.end() - 1)
        start = max(0, first - _PATTERN_REACH)
        end = min(len(doc), last + _PATTERN_REACH)
        if windows and start <= windows[-1][1]:
            windows[-1][1] = end
        else:
            windows.append([start, end])
    return [doc[start:end] for start, end in windows]


def _normalise(kind: str, text: str, lang: str) -> str | None:
    if kind == "invoice":
        code = text.split()[-1].lstrip("#").rstrip(".,").upper()
        return code if any(ch.isdigit() for ch in code) else None
    if kind == "amount":
        number = re.search(r"\d[\d.,]*", text)
        return parse_amount(number.group(0), lang) if number else None
    if kind == "date":
        return _normalise_date(text)
    if kind == "domain":
        domain = text.lower().split("@")[-1]
        domain = re.sub(r"^(?:https?://)?(?:www\.)?", "", domain).split("/")[0].rstrip(".")
        return domain if "." in domain else None
    return None


def parse_amount(number: str, lang: str) -> str | None:
    """"1.210,00" (es/pt) and "1,210.00" (en) → "1210.00"."""
    number = number.rstrip(".,")
    if not number:
        return None
    last_dot, last_comma = number.rfind("."), number.rfind(",")
    decimal_sep: str | None = None
    if last_dot >= 0 and last_comma >= 0:
        decimal_sep = "." if last_dot > last_comma else ","
    elif last_dot >= 0 or last_comma >= 0:
        sep = "." if last_dot >= 0 else ","
        tail = number.rsplit(sep, 1)[1]
        thousands = len(tail) == 3 and number.count(sep) >= 1
        decimal_sep = None if thousands else sep
    digits = number
    if decimal_sep:
        whole, _, cents = number.rpartition(decimal_sep)
        digits = re.sub(r"[.,]", "", whole) + "." + cents
    else:
        digits = re.sub(r"[.,]", "", number)
    try:
        return f"{float(digits):.2f}"
    except ValueError:
        return None


_MONTH_NUMBER = {m: i for i, names in enumerate([
    ("enero", "ene", "janeiro", "jan", "january"), ("febrero", "feb", "fevereiro", "fev",
                                                    "february"),
    ("marzo", "mar", "março", "marco", "march"), ("abril", "abr", "april", "apr"),
    ("mayo", "maio", "mai", "may"), ("junio", "junho", "june", "jun"),
    ("julio", "julho", "july", "jul"), ("agosto", "ago", "august", "aug"),
    ("septiembre", "setiembre", "setembro", "september", "sep", "sept"),
    ("octubre", "outubro", "out", "october", "oct"), ("noviembre", "novembro", "november", "nov"),
    ("diciembre", "dic", "dezembro", "dez", "december", "dec"),
], start=1) for m in names}


def _normalise_date(text: str) -> str:
    """Day and month as "MM-DD" where both are clear; the folded text otherwise."""
    words = fold(text).replace(",", " ").split()
    month = next((_MONTH_NUMBER[fold(w)] for w in words if fold(w) in _MONTH_NUMBER), None)
    days = (int(re.sub(r"\D", "", w)) for w in words if re.match(r"^\d{1,2}(st|nd|rd|th)?$", w))
    day = next(days, None)
    if month and day and 1 <= day <= 31:
        return f"{month:02d}-{day:02d}"
    iso = re.match(r"^(\d{4})-(\d{2})-(\d{2})$", text)
    if iso:
        return f"{iso.group(2)}-{iso.group(3)}"
    numeric = re.match(r"^(\d{1,2})[/.-](\d{1,2})", text)
    if numeric:
        first, second = int(numeric.group(1)), int(numeric.group(2))
        if second <= 12 and first <= 31:
            return f"{second:02d}-{first:02d}"  # day first, as in es/pt and UK mail
    return fold(text)


def build_lemma_tables(words_by_lang: Mapping[str, Iterable[str]]) -> dict[str, dict[str, str]]:
    """Lookup-lemma tables cut down to what a model trained on these words can use.

    Keeps every form whose lemma is the lemma of a word seen in training, so an
    unseen inflection of a known word still maps onto the known lemma. Needs
    spacy-lookups-data (a training-time dependency only).
    """
    import gzip
    import json

    import spacy_lookups_data

    tables: dict[str, dict[str, str]] = {}
    for lang, words in words_by_lang.items():
        if lang not in ("es", "pt", "en"):
            continue
        # The raw table, read directly: spaCy's Table keeps only hashes of the keys.
        source = spacy_lookups_data.get_file(f"{lang}_lemma_lookup.json.gz")
        with gzip.open(str(source), "rt", encoding="utf-8") as data:
            full: dict[str, str] = json.load(data)
        seen = {w.lower() for w in words}
        wanted = {full.get(w, w) for w in seen} | seen
        tables[lang] = {
            form: lemma for form, lemma in full.items()
            if isinstance(lemma, str) and lemma in wanted and form != lemma
        }
    return tables
