"""Evidence: the provider's earlier messages that answer a client's complaint.

For a complaint (a client message the classifier did not call ``other``) the
candidates are the provider's own messages sent to the same client before the
complaint: to the complainant's address or to anyone at their organisation
(the office manager, the accounts address), in To, Cc or Bcc. The store finds
them through the ``parties`` index (see threads.party).

Each candidate is scored on what it shares with the complaint, and why:

- subject matter: the topics of topics.py, which bridge the complaint's words
  and the notice's across the three languages ("sin correo toda la noche" and
  "ventana de mantenimiento del servidor de correo" share mail + interruption);
- words: the rarer words both use (server names, products, places), folded, and
  not the names of people and organisations, which any personal notice shares with
  the complaint its addressee signs (see ``without_names``);
- entities: the same invoice or reference code, amount or date; a notice about
  another invoice of the same series is a contradiction, not a match;
- timing: an event the notice announced for the days just before the complaint;
  how long before the complaint it was sent;
- the kind of notice the category calls for (billing for payment excuses,
  announcements for accusations, proposals and terms for scope creep); marketing
  is never proof;
- who it went to (the complainant's own address counts a little more than a
  colleague's) and whether it is the provider's earlier word in the same thread.

A notice made stale by a later one before the complaint (rescheduled,
corrected, a new version of the proposal) is dropped.

These hand-set scores are then read by a learned ranker (proof.py), which says
how likely each candidate is to be proof, seeing it beside the others: how far
behind the best it is and whether it resembles the best (the reminder beside
the announcement), with two more text similarities. Nothing is cited unless the
likeliest candidate clears a first bar; then every candidate above a second,
lower bar is, at most three, best first: citing an unrelated notice in a reply
is worse than citing nothing. A genuine fault never cites the provider's own
earlier answer in its conversation (where the fault was owned). The likeliest of
the others, when likely enough, are kept as leads: shown to a person (``triage
show``, ``triage export``), never cited in a reply.

The complaint's most likely category (other than ``other``) decides what its
proof is about. The proof can change that category: a genuine fault the model
doubts, whose search as an accusation finds the announcement of that very event,
is an accusation (see ``read_all``). The hand-set weights were set on the tuning scenarios
(corpus/evidence_scenarios/es_pt.jsonl and tune_*.jsonl), where the ranker is
fitted too (bench/evidence_fit.py); both are measured on the others
(bench/evidence.py).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import getaddresses
from typing import Any

from spacy.lang.en.stop_words import STOP_WORDS as EN_STOP
from spacy.lang.es.stop_words import STOP_WORDS as ES_STOP
from spacy.lang.pt.stop_words import STOP_WORDS as PT_STOP

from triage import proof
from triage.language import detect_language
from triage.nlp import entities_in, fold
from triage.store import Store
from triage.threads import FREE_MAIL, party, strip_prefixes
from triage.topics import is_offer, marks, notice_types, topics, version_of
from triage.workers import Splitter, share

log = logging.getLogger(__name__)

MAX_EVIDENCE = 3
# A candidate not cited is still shown to a person as worth a look when the ranker
# finds it at least this likely to be proof, at most this many (see ``leads``).
# Cross-validated on the 582 tuning scenarios the shipped ranker was fitted on
# (bench/evidence_fit.py --leave-out 'tune_w1*.jsonl'): 0.41 leads per complaint, 36%
# of them proof, and 94% of the proof cited or a lead, against 82% cited. On all 782
# (the same way, at the shipped ranker's bars, a one-off run) a bar of 0.1 showed 95%
# of the proof with 29% of the leads proof, 0.2 93% with 36%, and 0.3 91% with 41%.
LEAD_CHANCE = 0.2
MAX_LEADS = 2
EXCERPT_CHARS = 240
# An excerpt is taken from this much of the start of a notice (see opening).
_OPENING_CHARS = 4000
# Complaints whose evidence is read from the store at a time, and searched (and
# their evidence saved) between two looks at the stop signal.
_ROUND = 500
_STEP = 100
CATEGORIES = ("accusation", "payment_excuse", "scope_creep", "genuine_fault")

# What each category's proof is about: how much a topic shared with the
# complaint counts, and which topics make a notice the right kind.
_TOPIC_WEIGHT: dict[str, dict[str, float]] = {
    "accusation": {"interruption": 1.0, "mail": 0.8, "web": 0.8, "domain": 1.0,
                   "access": 1.0, "data": 0.8, "devices": 0.6, "suspension": 1.0,
                   "overdue": 0.6, "deadline": 0.8, "price": 1.0, "hours": 0.5,
                   "storage": 1.0},
    "payment_excuse": {"billing": 1.0, "overdue": 1.0, "suspension": 1.0, "price": 0.6,
                       "agreement": 0.5},
    "scope_creep": {"agreement": 1.0, "deadline": 0.8, "hours": 0.8, "move": 0.8,
                    "content": 0.8, "seo": 0.8, "translation": 0.6, "design": 0.8,
                    "software": 0.6, "accounting": 0.6, "devices": 0.5},
    "genuine_fault": {"interruption": 1.0, "mail": 0.8, "web": 0.8, "domain": 1.0,
                      "access": 1.0, "data": 0.8, "devices": 0.6, "storage": 0.8},
}
# How well each type of notice (its subject, see topics.NOTICE_TYPES; "reply" for
# the provider's answer in a conversation) fits each category's proof.
_TYPE_FIT: dict[str, dict[str, float]] = {
    "accusation": {"announcement": 1.0, "reply": 0.7, "agreement": 0.6, "billing": 0.2},
    "payment_excuse": {"billing": 1.0, "reply": 0.6, "agreement": 0.5, "announcement": 0.3},
    "scope_creep": {"agreement": 1.0, "reply": 0.6, "announcement": 0.4, "billing": 0.1},
    "genuine_fault": {"announcement": 0.5, "reply": 0.3, "agreement": 0.3},
}
_BILLING_SENDERS = re.compile(
    r"^(factura|fatura|billing|invoice|financ|cobr|cartera|contab|account|pago|pagamento|"
    r"payment|tesorer|tesour|administraci)", re.IGNORECASE)
# Reference codes: "INV-88213", "NC-2026-0311", "COT-RS-2291" (an upper-case series,
# a hyphen, digits); "NF 3345", "FT 2026/77", "B 0003-00000412" (a short upper-case
# series, a space, a number of three digits or more, or with a slash or a hyphen);
# "#20260712". Currencies and taxes before an amount ("EUR 114") are not series.
_CODE = re.compile(
    r"(?<![\w/-])(?:([A-Z][A-Z0-9]{0,5}(?:-[A-Z0-9]{1,6})*-\d[\d/-]*\d)"
    r"|(?!(?:EUR|USD|BRL|MXN|GBP|INR|ARS|CLP|COP|PEN|VAT|IVA|R|RS|US) )"
    r"([A-Z]{1,4} (?:\d{3,}|\d+[/-]\d+)(?:[/-]\d+)*)|#(\d{4,}))(?![\w/-])")
# A whole word that is an address or a domain: "citas@clinicasol.example",
# "www.clinicasol.example", "clinicasol.com.br" (matched word by word: one pattern
# over a whole message backtracks for minutes on "a.a.a.a..." sent by a client).
_ADDRESS_OR_DOMAIN = re.compile(r"(?:[\w.+-]+@)?[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}")
_WORD = re.compile(r"[a-z0-9][a-z0-9-]{2,}[a-z0-9]")
_MAIL_WORDS = frozenset("""
hola ola hello dear estimado estimada estimados prezado prezada prezados caro cara saludo
saludos cumprimentos regards best kind thanks gracias obrigado obrigada equipo equipe team
cliente clientes client clients customer customers senor senora senhor senhora atentamente
cordialmente abraco abrazo buenos buenas bom boa good morning tardes dias favor please
mensaje mensagem message correo mail email asunto assunto subject adjunto anexo attached
attachment quedamos ficamos disposicion disposicao duda dudas duvida duvidas question questions
""".split())


@dataclass(frozen=True, slots=True)
class Profile:
    """What ranking compares of one message's text."""

    topics: Mapping[str, int]
    words: frozenset[str]
    codes: frozenset[str]
    amounts: frozenset[str]
    dates: frozenset[str]  # "MM-DD"
    marks: frozenset[str]
    head_marks: frozenset[str]  # marks in the subject and opening lines ("change": subject)
    types: frozenset[str]  # what the subject says the message is (topics.NOTICE_TYPES)
    reply: bool  # the subject is a reply's ("Re: ...")
    version: int = 0  # the version its subject names (topics.version_of)
    offer: bool = False  # its subject names a proposal, quote or statement of work


@dataclass(frozen=True, slots=True)
class Complaint:
    message_id: str
    date: datetime
    subject: str
    body: str
    sender: str
    thread_id: str | None
    probabilities: Mapping[str, float]
    in_reply_to: str | None = None  # the message the complaint answers
    language: str | None = None  # the classifier's, so the search need not detect it again
    settled: bool = False  # a person chose its category: the proof does not change it
    follows_accusation: bool = False  # an earlier client message of its thread is one
    sender_name: str = ""  # the display name of its From


@dataclass(frozen=True, slots=True)
class Candidate:
    """A provider message that went to the complainant's side before the complaint."""

    row: int
    message_id: str
    date: datetime
    subject: str
    body: str
    sender: str
    recipients: tuple[str, ...]  # to, cc and bcc, in that order
    thread_id: str | None
    to_complainant: bool  # the complainant's own address, not only their organisation


@dataclass(frozen=True, slots=True)
class Evidence:
    """One cited notice: what a person (and a reply draft) needs to point at it."""

    message_id: str
    date: str  # ISO 8601
    subject: str
    recipients: tuple[str, ...]
    excerpt: str
    score: float
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"message_id": self.message_id, "date": self.date, "subject": self.subject,
                "recipients": list(self.recipients), "excerpt": self.excerpt,
                "score": round(self.score, 3), "reasons": list(self.reasons)}


@dataclass(slots=True)
class Scored:
    """A candidate as ranking sees it: its profile, features, score and reasons."""

    candidate: Candidate
    profile: Profile
    score: float = 0.0  # the hand-set score
    chance: float = 0.0  # how likely it is proof, by the learned ranker
    features: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


@functools.cache
def _stop_words() -> frozenset[str]:
    return frozenset(fold(w) for w in (*ES_STOP, *PT_STOP, *EN_STOP)) | _MAIL_WORDS


def profile(subject: str, body: str, lang: str | None = None) -> Profile:
    """The comparable parts of a message: topics, words, entities and marks."""
    text = f"{subject}\n{body}"
    folded = fold(text)
    lang = lang or detect_language(body, subject)
    entities = entities_in(text, lang)
    codes = {_code(m.group(1) or m.group(2) or m.group(3)) for m in _CODE.finditer(text)}
    # "factura 412", "fatura 2026/0412": numbers the entity matcher saw named as invoices.
    codes |= {_code(e.value) for e in entities if e.kind == "invoice"}
    codes = {c for c in codes if not _looks_like_date(c) and not _is_year_label(c)}
    head = fold(f"{subject}\n{body[:300]}")
    own_subject = strip_prefixes(subject)
    folded_subject = fold(own_subject)
    head_marks = (marks(head) - {"change"}) | (marks(folded_subject) & {"change"})
    if "unpaid" in head_marks:
        head_marks.discard("paid")
    return Profile(
        topics=topics(folded),
        words=words_of(folded),
        codes=frozenset(codes),
        amounts=frozenset(e.value for e in entities if e.kind == "amount"),
        dates=frozenset(e.value for e in entities if e.kind == "date"
                        and re.fullmatch(r"\d\d-\d\d", e.value)),
        marks=frozenset(marks(folded)),
        head_marks=frozenset(head_marks),
        types=frozenset(notice_types(folded_subject)),
        reply=own_subject != subject.strip(),
        version=version_of(folded_subject),
        offer=is_offer(folded_subject),
    )


def words_of(folded: str) -> frozenset[str]:
    """The words of a folded text that ranking compares: four letters or more, not a
    stop word, a greeting or a number."""
    stop = _stop_words()
    return frozenset(w for w in _WORD.findall(folded) if w not in stop and not w.isdigit())


def _code(text: str) -> str:
    return re.sub(r"[\s#]+", "-", text.strip().lstrip("#")).upper()


def _looks_like_date(code: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d\d|\d{1,4}[/-]\d{1,2}(?:[/-]\d{1,4})?", code))


def _is_year_label(code: str) -> bool:
    """"IRPF-2026", "PLAN-2026": a name and a year, not a reference."""
    return bool(re.fullmatch(r"[A-Z]+-(?:19|20)\d\d", code))


@functools.lru_cache(maxsize=4096)
def _split_code(code: str) -> tuple[str, str]:
    """A code's series and number: "A-2026-031" → ("A-2026-", "31"); "412" → ("", "412")."""
    match = re.match(r"^(.*?)(\d+)$", code)
    if not match:
        return code, ""
    return match.group(1), match.group(2).lstrip("0") or "0"


def _codes_relation(own: frozenset[str], other: frozenset[str]) -> int:
    """1 when both name the same reference, -1 when they name different ones of the
    same series (a reminder for invoice 1041 is no proof about 1042), else 0."""
    if not own or not other:
        return 0
    mine = {_split_code(c) for c in own}
    theirs = {_split_code(c) for c in other}
    if mine & theirs:
        return 1
    # A bare number ("factura 412") matches the same number in a full code.
    numbers = {n for _, n in theirs}
    if any(series == "" and number in numbers for series, number in mine) or any(
            series == "" and number in {n for _, n in mine} for series, number in theirs):
        return 1
    if {s for s, _ in mine} & {s for s, _ in theirs}:
        return -1
    return 0


def category_of(probabilities: Mapping[str, float]) -> str | None:
    """The complaint's most likely category other than ``other``, which decides what
    its proof is about and how strong it must be. (Mixing the categories by their
    probabilities was tried: a complaint with some doubt of being a genuine fault
    then needed stronger proof for every notice, and recall on the first 30 tuning
    scenarios with the model's categories fell from 0.67 to 0.59.)"""
    scores = {c: float(probabilities.get(c, 0.0)) for c in CATEGORIES}
    best = max(scores, key=lambda c: scores[c])
    return best if scores[best] > 0 else None


# How much each feature (see _features) counts. First fitted by logistic
# regression on the candidates of the first 30 tuning scenarios and rounded; the
# code features, which those complaints seldom have, and "answered" were set by
# hand. A regression refitted on the 90 tuning scenarios, cross-validated by
# scenario, did worse there than these (bench/evidence_fit.py), though these were
# partly chosen on the same scenarios, which favours them.
WEIGHTS: dict[str, float] = {
    "topics": 0.9, "type_fit": 1.5, "words": 1.3, "same_code": 2.0, "other_code": -1.5,
    "same_amount": 1.0, "same_date": 0.5, "event_before": 0.75, "age": -0.1,
    "to_complainant": 0.6, "same_thread": 0.8, "answered": 1.5, "marketing": -1.1, "receipt": -1.6,
    # Read by the learned ranker only.
    "matter": 0.0, "most_about": 0.0,
}
_BIAS = -2.8
# A notice that names the same reference as the best one, or is in its thread, is
# part of the same story (the invoice behind the reminder): it counts this much more.
_LINKED = 1.0


def rank(complaint: Complaint, candidates: Iterable[Candidate],
         profiles: Mapping[int, Profile] | None = None,
         model: proof.ProofModel | None = None) -> list[Evidence]:
    """The candidates that prove the provider's position, best first (at most three);
    an empty list when nothing is convincing. ``model`` is the learned ranker (see
    proof.py; default: the shipped one), which turns the hand-set scores and
    features into how likely each candidate is to be proof."""
    return rank_all([(complaint, candidates, profiles)], model)[0]


Search = tuple[Complaint, Iterable[Candidate], Mapping[int, Profile] | None]


def rank_all(searches: Sequence[Search], model: proof.ProofModel | None = None
             ) -> list[list[Evidence]]:
    """``rank`` for many complaints, with one call to the learned ranker for all of
    their candidates (each call costs about a millisecond, however few they are)."""
    return [found.evidence for found in read_all(searches, model)]


@dataclass(frozen=True, slots=True)
class Finding:
    """What the search found for one complaint: the evidence, best first, and the
    category the proof gives it when that is not the model's (see ``read_all``)."""

    evidence: list[Evidence]
    category: str | None = None
    # Notices not cited that a person may still want to read (see ``leads``).
    leads: list[Evidence] = field(default_factory=list)


# A reported failure is an accusation when the provider had announced it: the
# model cannot see the notice, the search can. When the model reads a message as a
# genuine fault with at least this much doubt towards an accusation, it is also
# searched as an accusation; if what that cites first announced an event of the
# days just before the complaint, at least this likely to be proof, the message is
# an accusation. On the scenarios (bench/evidence.py, the model's categories, the
# classifier of seven corpus waves) it relabelled 18 of the 782 tuning complaints, 14
# of them rightly, and 2 of the 64 measured ones, 1 rightly. With the classifier of six
# waves, a doubt of 0.05 relabelled 20 of the 782, 17 rightly, and cited a notice in 2
# more no-proof scenarios.
ACCUSATION_DOUBT = 0.1
ANNOUNCED_CHANCE = 0.7


def read_all(searches: Sequence[Search], model: proof.ProofModel | None = None
             ) -> list[Finding]:
    """``rank_all``, with the category the proof gives each complaint: a genuine
    fault the model doubts, that a notice announced, is an accusation."""
    model = model or proof.shipped()
    readings: list[list[tuple[str, list[Scored]]]] = []
    rows: list[list[float]] = []
    for complaint, candidates, profiles in searches:
        category = category_of(complaint.probabilities)
        if category is None:
            readings.append([])
            continue
        kept = list(candidates)
        readings.append([])
        also = ["accusation"] if _may_be_announced(complaint, category) else []
        for as_category in [category, *also]:
            own, scored = assess(complaint, kept, profiles, as_category)
            readings[-1].append((as_category, scored))
            rows += features_of(scored, own, as_category, model)
    chances = iter(model.probabilities(rows))
    found: list[Finding] = []
    for reading in readings:
        cited: list[tuple[str, list[Scored]]] = []
        for as_category, scored in reading:
            for candidate in scored:
                candidate.chance = next(chances)
            cited.append((as_category, cite(scored, as_category, model.first, model.further,
                                            model.alone, model.together)))
        if not cited:
            found.append(Finding([]))
            continue
        chosen = 1 if len(cited) > 1 and _announced(cited[1][1]) else 0
        as_category, chosen_cited = cited[chosen]
        found.append(Finding([_evidence(s) for s in chosen_cited],
                             as_category if chosen else None,
                             [_evidence(s) for s in leads(reading[chosen][1], as_category,
                                                          chosen_cited)]))
    return found


def _may_be_announced(complaint: Complaint, category: str) -> bool:
    """Whether a complaint is also searched as an accusation (see ACCUSATION_DOUBT):
    a genuine fault the model doubts, or one that follows an accusation in its
    thread (the furious follow-up, "two days and no answer", is about the same
    announced night, however sure of a fault its words make the model)."""
    return category == "genuine_fault" and not complaint.settled and (
        complaint.follows_accusation
        or float(complaint.probabilities.get("accusation", 0.0)) >= ACCUSATION_DOUBT)


def _announced(cited: Sequence[Scored]) -> bool:
    """Whether what is cited first announced an event of the days just before the
    complaint, and is likely proof (see ACCUSATION_DOUBT)."""
    return bool(cited) and "event_before" in cited[0].features and (
        cited[0].chance >= ANNOUNCED_CHANCE)


def cite(scored: Iterable[Scored], category: str, first: float, further: float,
         alone: float | None = None, together: float | None = None) -> list[Scored]:
    """What is cited of candidates the ranker has read: nothing unless the likeliest
    reaches ``first``, or reaches ``together`` (by default ``first``) with another of
    its matter (its thread, its reference or its day) reaching ``further``; then, with
    it, every one of its matter reaching ``further`` and every other reaching ``alone``
    (by default ``further``), at most three, best first. (The best here is the
    ranker's, or the notice the complaint answers; the ranker's "linked" feature ties
    candidates to the hand-set score's best, which it reads before there is a
    ranker's.)"""
    alone = further if alone is None else alone
    together = first if together is None else together
    ordered = _likeliest_first(scored, category)
    # The reminder beside the announcement, the invoice behind the reminder: once
    # the best is likely proof, what else is likely enough is cited with it.
    # A notice the complaint answers, and that the hand-set score finds on the
    # subject, was read: too few of the tuning scenarios answer one for the ranker
    # to have learnt it, so it counts as likely as the first bar asks. (Not for a
    # genuine fault: a report of a real failure in reply to a notice is no sign the
    # notice is proof against it.)
    answered = {id(s) for s in ordered if "answered" in s.features and s.score >= 0.0
                and category != "genuine_fault"}
    ordered.sort(key=lambda s: id(s) not in answered)  # stable: the rest keep their order
    # Two notices of one matter that are each fairly likely proof, the announcement
    # and its reminder, bear each other out (cross-validated on the 582 tuning
    # scenarios, recall at 3 rose from 0.805 to 0.824 with it, precision held at 0.89
    # and no-proof citing went from 0.084 to 0.092).
    if not answered and (not ordered or ordered[0].chance < first) and not (
            ordered and ordered[0].chance >= together and any(
                s.chance >= further and _tied_to(ordered[0], s) for s in ordered[1:])):
        return []
    # Beside the best, the invoice behind its reminder is likely proof too; another
    # month's invoice, as likely by itself, is less often (a one-off count on the 482 tuning
    # scenarios, cross-validated: of the candidates at 0.3 or more beside a best that
    # was proof, 67 of 82 of its matter were proof too, and 73 of 122 others).
    best = ordered[0]
    return [s for s in ordered if id(s) in answered or s is best or s.chance >= (
        further if _tied_to(best, s) else alone)][:MAX_EVIDENCE]


def leads(scored: Iterable[Scored], category: str, cited: Sequence[Scored]) -> list[Scored]:
    """The candidates not cited that are still worth a person's look: at least
    LEAD_CHANCE likely to be proof, at most MAX_LEADS, likeliest first. They are
    shown (``triage show``, ``triage export``), never put in a reply."""
    taken = {id(s) for s in cited}
    return [s for s in _likeliest_first(scored, category)
            if id(s) not in taken and s.chance >= LEAD_CHANCE][:MAX_LEADS]


def _likeliest_first(scored: Iterable[Scored], category: str) -> list[Scored]:
    """The candidates by the ranker's chance, the later first among equals; for a
    genuine fault, without the provider's own earlier answer in its conversation
    ("I can reproduce it, it's on our side"), where the fault was owned: that is
    not proof against it."""
    ordered = sorted(scored, key=lambda s: (-s.chance, -s.candidate.date.timestamp()))
    if category == "genuine_fault":
        ordered = [s for s in ordered if not (
            s.profile.reply and {"answered", "same_thread"} & s.features.keys())]
    return ordered


def score(complaint: Complaint, candidates: Iterable[Candidate],
          profiles: Mapping[int, Profile] | None = None) -> list[Scored]:
    """Every candidate still standing (sent before the complaint, not superseded),
    with its hand-set score and the features behind it, best first."""
    return assess(complaint, candidates, profiles)[1]


def features_of(scored: Sequence[Scored], own: Profile, category: str,
                model: proof.ProofModel) -> list[list[float]]:
    """The learned ranker's features of each assessed candidate (see proof.py)."""
    kinds = [notice_kinds(s.profile, s.candidate.sender) for s in scored]
    return proof.feature_rows(scored, own, category, kinds, model)


def assess(complaint: Complaint, candidates: Iterable[Candidate],
           profiles: Mapping[int, Profile] | None = None, category: str | None = None
           ) -> tuple[Profile, list[Scored]]:
    """The complaint's profile, and ``score``'s list, scored as proof for ``category``
    (by default the complaint's, see ``category_of``)."""
    category = category or category_of(complaint.probabilities)
    own = profile(complaint.subject, complaint.body, complaint.language)
    if category is None:
        return own, []
    candidates = list(candidates)
    own = dataclasses.replace(own, words=without_names(own.words, complaint, candidates))
    scored = [Scored(c, (profiles or {}).get(c.row) or profile(c.subject, c.body))
              for c in candidates if c.date < complaint.date]
    scored = _drop_superseded(scored)
    rarity = _word_rarity(own, [s.profile for s in scored])
    # How much each notice is about what the category's proof is about (the
    # proposal that lists what is included, not the quote in one line).
    matter = [math.fsum(_TOPIC_WEIGHT[category].get(t, 0.0) * n
                        for t, n in s.profile.topics.items()) for s in scored]
    for item, about, most in zip(scored, matter, proof.beside_highest(matter), strict=True):
        item.features = _features(item, own, complaint, category, rarity)
        item.features["matter"] = math.log1p(about)
        item.features["most_about"] = most
        item.score = _BIAS + sum(WEIGHTS[name] * value for name, value in item.features.items())
    scored.sort(key=lambda s: (-s.score, -s.candidate.date.timestamp()))
    if scored:
        _link(scored[0], scored[1:])
        scored.sort(key=lambda s: (-s.score, -s.candidate.date.timestamp()))
    return own, scored


def without_names(words: frozenset[str], complaint: Complaint,
                  candidates: Iterable[Candidate]) -> frozenset[str]:
    """A complaint's ``words`` without those that name people and organisations
    rather than what it is about: the complainant and the colleagues the notices
    went to ("Lisa Grant"), the provider's people as their addresses show them
    ("rhys.morgan@"), and the words inside either side's domain names ("Academia
    Fôlego" for academiafolego.example). A notice that greets the client by name
    shares those words with the complaint they signed, whatever it is about; a
    notice sent to many in Bcc does not. An address or a domain the complaint writes
    out ("mail to citas@clinicasol.example bounces") is what it is about, and stays."""
    side = party(complaint.sender)
    people = {(complaint.sender_name, complaint.sender)}
    for cand in candidates:
        people.add(("", cand.sender))
        people.update(_people_of(cand.recipients, side))
    names: set[str] = set()
    labels: set[str] = set()
    for name, address in people:
        found = _name_words(name, address)
        names |= found[0]
        labels |= found[1]
    written = words_of(fold(" ".join(_written_addresses(f"{complaint.subject}\n{complaint.body}"))))
    return frozenset(w for w in words if w in written or (
        w not in names and not any(w in label for label in labels)))


def _written_addresses(text: str) -> list[str]:
    """The addresses and domains a text writes out, word by word (at most 254
    characters each, the longest a domain can be)."""
    words = (w.strip("<>()[]{},;:!?\"'.") for w in text.split())
    return [w for w in words if 3 < len(w) <= 254 and _ADDRESS_OR_DOMAIN.fullmatch(w)]


@functools.lru_cache(maxsize=4096)
def _people_of(recipients: tuple[str, ...], side: str) -> tuple[tuple[str, str], ...]:
    """The recipients at ``side`` (a party), as name and address. A mass notice may
    have hundreds of recipients: only the client's are parsed."""
    theirs = [r for r in recipients if side in r.lower()]
    return tuple((name, address) for name, address in getaddresses(theirs)
                 if party(address) == side)


@functools.lru_cache(maxsize=4096)
def _name_words(name: str, address: str) -> tuple[frozenset[str], frozenset[str]]:
    """The words that name a person (their display name, their address's local
    part) and the labels of their domain that may name an organisation."""
    local, _, domain = address.lower().partition("@")
    words = words_of(fold(name)) | set(re.split(r"[._+-]+", fold(local)))
    if domain in FREE_MAIL:  # "outlook" and "hotmail" name no one
        return frozenset(words), frozenset()
    # An organisation as its domain spells it: "Academia Fôlego" for
    # academiafolego.example ("acme" names nothing inside itself). A provider whose
    # domain is made of what it sells ("webhosting") loses those words from the
    # comparison too; the topics still see them. Leaving the provider's domains
    # out did a little worse on the tuning scenarios.
    return frozenset(words), frozenset(
        label for label in fold(domain).split(".") if len(label) >= 5)


def _link(best: Scored, others: Iterable[Scored]) -> None:
    for item in others:
        tie = _tie(best, item)
        if tie:
            item.features["linked"] = 1.0
            item.score += _LINKED
            item.reasons.append(tie)


def _tied_to(best: Scored, item: Scored) -> bool:
    """Whether ``item`` is of ``best``'s matter (see ``_tie``)."""
    return _tie(best, item) is not None


def _tie(best: Scored, item: Scored) -> str | None:
    """Why ``item`` is of ``best``'s matter: in its thread, naming its reference, or
    naming the same day (the reminder the evening before the night the announcement
    named); None when it is not."""
    if (best.candidate.thread_id and item.candidate.thread_id == best.candidate.thread_id
            or _codes_relation(best.profile.codes, item.profile.codes) > 0):
        return "part of the same matter as the best match"
    if best.profile.dates & item.profile.dates:
        return "names the same day as the best match"
    return None


def _word_rarity(own: Profile, others: list[Profile]) -> dict[str, float]:
    """Inverse document frequency of the complaint's words among the client's
    notices: a sign-off in all of them says nothing (names are already gone, see
    ``without_names``); a server's name in one of them says a lot."""
    count = len(others) + 1
    found = dict.fromkeys(own.words, 0)
    for other in others:
        for word in own.words & other.words:  # a few words: not every word of every notice
            found[word] += 1
    return {w: proof.idf(count, n) for w, n in found.items()}


def notice_kinds(notice: Profile, sender: str) -> set[str]:
    """What a notice is: one of billing, agreement or announcement (in that order:
    "Invoice for the maintenance plan" is billing), from its subject or a billing
    sender, and "reply" for an answer in a conversation."""
    kinds = set(notice.types)
    if _BILLING_SENDERS.match(sender):
        kinds.add("billing")
    order = ("billing", "agreement", "announcement")
    if "scope" in kinds:
        kinds.add("agreement")
        order = ("agreement", "billing", "announcement")
    primary = next((k for k in order if k in kinds), None)
    found: set[str] = {primary} if primary else set()
    if notice.reply:
        found.add("reply")
    return found


def _features(item: Scored, own: Profile, complaint: Complaint,
              category: str, rarity: Mapping[str, float]) -> dict[str, float]:
    notice, cand = item.profile, item.candidate
    reasons = item.reasons
    found: dict[str, float] = {}
    # Subject matter, weighted by what the category's proof is about.
    shared = set(own.topics) & set(notice.topics)
    found["topics"] = min(3.0, math.fsum(_TOPIC_WEIGHT[category].get(t, 0.0) for t in shared))
    if shared:
        reasons.append("about " + ", ".join(sorted(shared)))
    # The right kind of notice for the category.
    types = notice_kinds(notice, cand.sender)
    found["type_fit"] = max((_TYPE_FIT[category].get(t, 0.0) for t in types), default=0.0)
    # Words both use, weighted by how rare they are among this client's notices.
    common = own.words & notice.words
    if common:
        found["words"] = min(5.0, math.fsum(rarity[w] for w in common)) / 5
        if found["words"] >= 0.3:
            telling = sorted(common, key=lambda w: (-rarity[w], w))[:5]
            reasons.append("shares the words " + ", ".join(telling))
    # Entities.
    relation = _codes_relation(own.codes, notice.codes)
    if relation > 0:
        found["same_code"] = 1.0
        reasons.append("mentions " + ", ".join(sorted(own.codes & notice.codes)
                                                or sorted(notice.codes)[:2]))
    elif relation < 0:
        found["other_code"] = 1.0
        reasons.append("about another reference of the same series")
    if own.amounts & notice.amounts:
        found["same_amount"] = 1.0
        reasons.append("the same amount")
    if own.dates & notice.dates:
        found["same_date"] = 1.0
    if _announced_just_before(notice, complaint.date):
        found["event_before"] = 1.0
        reasons.append("announced an event in the days before the complaint")
    # Timing: the older, the less it says about this complaint.
    days = (complaint.date - cand.date).total_seconds() / 86400
    found["age"] = math.log1p(max(days, 0.0) / 30)
    # Who it went to; the provider's own earlier word in this conversation.
    found["to_complainant"] = float(cand.to_complainant)
    if complaint.in_reply_to and _same_id(complaint.in_reply_to, cand.message_id):
        found["answered"] = 1.0
        reasons.append("the complaint is a reply to it")
    elif complaint.thread_id and cand.thread_id == complaint.thread_id:
        found["same_thread"] = 1.0
        reasons.append("earlier in the same thread")
    # Marketing is never proof; a receipt only proves what was paid.
    if "marketing" in notice.marks and "marketing" not in own.marks:
        found["marketing"] = 1.0
    if "paid" in notice.head_marks and relation <= 0:
        found["receipt"] = 1.0
    return found


def _same_id(a: str, b: str) -> bool:
    return a.strip().strip("<>").lower() == b.strip().strip("<>").lower()


def _announced_just_before(notice: Profile, when: datetime) -> bool:
    """Whether the notice names a day from four days before ``when`` to the day after."""
    return bool(notice.dates & _days_around(when.date()))


@functools.lru_cache(maxsize=1024)
def _days_around(day: date) -> frozenset[str]:
    """"MM-DD" of the days from four before ``day`` to the one after, in its year or
    the last (a notice names a day, not a year)."""
    return frozenset(f"{d.month:02d}-{d.day:02d}" for k in range(-4, 2)
                     for d in [day + timedelta(days=k)] if d.year in (day.year, day.year - 1))


def _drop_superseded(scored: list[Scored]) -> list[Scored]:
    """Without the notices a later one (still before the complaint) changed: a
    rescheduled maintenance, a corrected invoice, a new version of a proposal."""
    stale: set[int] = set()
    for later in scored:
        if "paid" in later.profile.head_marks:
            # A receipt settles the invoice it names: that invoice proves nothing now.
            # (Not the quote that named its deposit invoice, nor the renewal that set
            # out the plan with its invoice: what was agreed stands.)
            stale.update(e.candidate.row for e in scored
                         if e.candidate.date < later.candidate.date
                         and "billing" in notice_kinds(e.profile, e.candidate.sender)
                         and not {"agreement", "scope"} & e.profile.types
                         and _codes_relation(e.profile.codes, later.profile.codes) > 0)
        if not ({"change", "replaces"} & later.profile.head_marks or later.profile.version):
            continue  # it changes nothing: no need to ask what it is about
        earlier = [e for e in scored if e.candidate.date < later.candidate.date
                   and e.candidate.row not in stale and _same_matter(e, later)]
        # "v2, replaces the previous one": where an earlier version is named, that
        # is the one replaced, not the contract of the same matter beside it.
        versions = any(0 < e.profile.version < later.profile.version for e in earlier)
        stale.update(e.candidate.row for e in earlier
                     if _changes(later.profile, e.profile, versions))
    return [s for s in scored if s.candidate.row not in stale]


def _changes(later: Profile, earlier: Profile, versions: bool) -> bool:
    """Whether ``later`` says it changes or replaces a notice such as ``earlier``: it
    reschedules, cancels or corrects, or it is a newer version of the same document,
    both naming their versions (v1, then v2) or both being offers ("Propuesta", then
    "Propuesta v2") when no earlier version is named (``versions``). The third round
    of a logo, or the "versão final" of a translation, is a version of the work, not
    of the quote that priced it."""
    if later.version > 1 and versions:
        return 0 < earlier.version < later.version
    if {"change", "replaces"} & later.head_marks:
        return True
    if not later.version:
        return False
    if earlier.version:
        return later.version > earlier.version
    return later.offer and earlier.offer and later.version > 1


def _same_matter(a: Scored, b: Scored) -> bool:
    if a.candidate.thread_id and a.candidate.thread_id == b.candidate.thread_id:
        return True
    pa, pb = a.profile, b.profile
    kinds_a = notice_kinds(pa, a.candidate.sender) - {"reply"}
    kinds_b = notice_kinds(pb, b.candidate.sender) - {"reply"}
    if kinds_a and kinds_b and not kinds_a & kinds_b:
        # The second round of designs does not replace the quote that set the rounds.
        return False
    if _codes_relation(pa.codes, pb.codes) > 0:
        return True
    if not pa.words or not pb.words:
        return False
    return proof.overlap(pa.words, pb.words) >= 0.25 and bool(set(pa.topics) & set(pb.topics))


def _evidence(item: Scored) -> Evidence:
    cand = item.candidate
    return Evidence(
        message_id=cand.message_id,
        date=cand.date.isoformat(timespec="seconds"),
        subject=cand.subject,
        recipients=cand.recipients,
        excerpt=excerpt(cand.body),
        score=item.chance,
        reasons=tuple(item.reasons),
    )


def opening(body: str) -> str:
    """The start of a notice's body: all that its excerpt is taken from."""
    return body[:_OPENING_CHARS]


def excerpt(body: str, limit: int = EXCERPT_CHARS) -> str:
    """The notice's opening, on one line, cut at a word: enough to recognise it."""
    lines = [line.strip() for line in opening(body).splitlines() if line.strip()]
    # A greeting line ("Hola, Marta:") says nothing; skip it when more follows.
    if len(lines) > 1 and len(lines[0]) < 40 and lines[0].rstrip().endswith((":", ",")):
        lines = lines[1:]
    text = " ".join(" ".join(lines).split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "…"


def _kept(cand: Candidate) -> tuple[Candidate, Profile]:
    """A notice as the finder keeps it: the opening of its body, and its profile."""
    return dataclasses.replace(cand, body=opening(cand.body)), profile(cand.subject, cand.body)


def _as(cand: Candidate, row: int, to_complainant: bool) -> Candidate:
    """``cand`` with this row and flag (copied only when they differ)."""
    if cand.row == row and cand.to_complainant == to_complainant:
        return cand
    return dataclasses.replace(cand, row=row, to_complainant=to_complainant)


# What a message the search cannot handle raises; it is recorded as searched, with
# nothing cited, and the service goes on with the others.
_SEARCH_ERRORS = (ValueError, KeyError, TypeError, IndexError)


def _failed(row_id: int, exc: Exception) -> None:
    log.warning("evidence search failed for stored message %d (%s: %s); nothing cited",
                row_id, type(exc).__name__, exc)


class EvidenceFinder:
    """Runs the search for every complaint that is due, keeping the notices it has
    read, with their profiles (each is compared with many complaints)."""

    def __init__(self, cache_size: int = 20_000, model: proof.ProofModel | None = None
                 ) -> None:
        # The learned ranker, loaded now so that a damaged install says so at start.
        self.model = model or proof.shipped()
        # Keyed by Message-ID, which names one message in a store (Store.own_ids), not
        # across stores: the cache is emptied when another store is searched. A notice
        # is kept with only the opening of its body, all its excerpt reads, so that the
        # cache stays small however long the notices are.
        self._notices: dict[str, tuple[Candidate, Profile]] = {}
        self._cache_size = cache_size
        self._store: Store | None = None

    def find(self, store: Store, row_id: int) -> list[Evidence] | None:
        """The evidence for one stored, triaged message; None when it is not one."""
        search = self.prepare(store, row_id)
        if search is None:
            return None
        return rank_all([search], self.model)[0] if search else []

    def prepare(self, store: Store, row_id: int) -> Search | tuple[()] | None:
        """What ranking one stored message needs; None when it is not a triaged
        message, an empty tuple when it gets no search (``other``, or no sender)."""
        found = self.complaint(store, row_id)
        if found is None:
            return None
        category, complaint = found
        if category == "other" or not complaint.sender:
            return ()
        candidates = self.candidates(store, complaint)
        return complaint, candidates, self.profiles(candidates)

    @staticmethod
    def complaint(store: Store, row_id: int) -> tuple[str, Complaint] | None:
        """A stored, triaged message's category and what the search reads of it."""
        record = store.complaint(row_id)
        if record is None:
            return None
        # The model's category: a message the proof made an accusation is searched
        # again as the model read it, and may stop being one.
        category = record["relabelled_from"] or record["category"]
        probabilities = json.loads(record["probabilities"])
        settled = record["model_category"] is not None
        if settled and category in CATEGORIES:
            # Corrected by the provider: the proof looked for is the corrected
            # category's, not the model's.
            probabilities = {category: 1.0}
        return category, Complaint(
            message_id=record["message_id"], date=datetime.fromisoformat(record["date"]),
            subject=record["subject"], body=record["body"], sender=record["sender"] or "",
            thread_id=record["thread_id"], probabilities=probabilities,
            in_reply_to=record["in_reply_to"], language=record["language"],
            settled=settled, follows_accusation=bool(record["follows_accusation"]),
            sender_name=record["sender_name"] or "")

    def candidates(self, store: Store, complaint: Complaint) -> list[Candidate]:
        """The provider's messages to the complainant's party before the complaint,
        newest first; those read for an earlier complaint are not read again."""
        if store is not self._store:
            self._notices.clear()
            self._store = store
        found = store.proof_candidates(party(complaint.sender), complaint.sender,
                                       complaint.date)
        known = {m: self._notices[m] for _, m, _ in found if m in self._notices}
        for r in store.provider_messages([row for row, m, _ in found if m not in known]):
            cand = Candidate(
                row=int(r["id"]), message_id=r["message_id"],
                date=datetime.fromisoformat(r["date"]), subject=r["subject"], body=r["body"],
                sender=r["sender"] or "", recipients=tuple(r["recipients"]),
                thread_id=r["thread_id"], to_complainant=False)
            known[cand.message_id] = _kept(cand)
        self._keep(known)
        # The row and the flag are this store's and this complaint's.
        return [_as(known[m][0], row, to_complainant) for row, m, to_complainant in found]

    def profiles(self, candidates: Iterable[Candidate]) -> dict[int, Profile]:
        """The candidates' profiles by row, from the cache where they were read before."""
        found = {}
        fresh = {}
        for cand in candidates:
            known = self._notices.get(cand.message_id)
            if known is None:
                known = fresh[cand.message_id] = _kept(cand)
            found[cand.row] = known[1]
        self._keep(fresh)
        return found

    def _keep(self, notices: Mapping[str, tuple[Candidate, Profile]]) -> None:
        if len(self._notices) + len(notices) > self._cache_size:
            self._notices.clear()
        self._notices.update(notices)

    def search(self, store: Store, row_ids: Sequence[int]) -> list[dict[str, Any]]:
        """What ``save_evidence`` takes for each stored, triaged message: its evidence
        (``"evidence"``) and the category the proof gives it (``"category"``, None for
        the model's); the candidates of all of them are read by the ranker at once."""
        searches: dict[int, Search] = {}
        for row_id in row_ids:
            try:
                search = self.prepare(store, row_id)
                if search:
                    searches[row_id] = search
            except _SEARCH_ERRORS as exc:
                _failed(row_id, exc)
        try:
            ranked = dict(zip(searches, read_all(list(searches.values()), self.model),
                              strict=True))
        except _SEARCH_ERRORS:
            # One of them trips the ranking: rank them one by one, to cite for the others.
            ranked = {}
            for row_id, search in searches.items():
                try:
                    ranked[row_id] = read_all([search], self.model)[0]
                except _SEARCH_ERRORS as exc:
                    _failed(row_id, exc)
        nothing = Finding([])
        return [{"evidence": [e.as_dict() for e in found.evidence], "category": found.category,
                 "leads": [e.as_dict() for e in found.leads]}
                for found in (ranked.get(row_id, nothing) for row_id in row_ids)]

    def update(self, store: Store, stop: Callable[[], bool] | None = None,
               helper: Splitter | None = None) -> int:
        """Search for every complaint that is due; returns how many were searched.
        With a ``helper``, another process searches part of each round."""
        done = 0
        search = functools.partial(self.search, store)
        while not (stop and stop()):
            due = store.evidence_due(limit=_ROUND)
            if not due:
                break
            for first in range(0, len(due), _STEP):
                if stop and stop():
                    break
                rows = due[first:first + _STEP]
                found = share(helper, "evidence", rows, search)
                changed = [row_id for row_id, item in zip(rows, found, strict=True)
                           if store.save_evidence(row_id, item["evidence"], item["category"],
                                                  item["leads"])]
                if changed:
                    # Their follow-ups were searched with the category they had before.
                    store.search_later_in_threads(changed)
                done += len(rows)
        if done:
            log.debug("evidence searched for %d messages", done)
        return done
