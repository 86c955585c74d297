"""The weekly digest: where the trouble is, in one email to the provider.

``build`` reads the store and returns plain data (``Digest``): every hostile
thread of the period (a client message with hostility 2 or more, see the
taxonomy), grouped by client and worst first, with its evidence, the state of
its reply draft and, for payment excuses, the invoice numbers and amounts the
client named; on top, the counts per category and language against the four
periods before, the clients whose hostility is rising, and the genuine faults
still without a reply (the provider's to fix, so shown first); and the number of
hostile threads in each of the last eight weeks, drawn as a small chart.

``render`` turns it into a multipart email in the provider's language: plain
text, and HTML (simple tables, inline styles, no scripts, no links) with the
chart inline by Content-ID. The HTML is built by jinja2 with autoescaping and
nothing a client wrote is ever marked safe, so a subject or body holding
``<script>`` or an image tag shows as text. ``html_page`` is the same HTML as a
file with the chart embedded, for ``triage digest --out``.

``Schedule`` says when ``triage run`` sends it: at the configured weekday and
time in the provider's time zone; the store records each period sent, so a
period goes out once, also across restarts.
"""

from __future__ import annotations

import base64
import io
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date

from triage.config import Config, DigestConfig
from triage.corpus import LABELS as CATEGORIES
from triage.nlp import entities_in
from triage.show import printable
from triage.store import Store
from triage.threads import party

HOSTILE = 2  # the taxonomy's "hostile": 2 (angry) and 3 (abusive, threatening)
HISTORY_PERIODS = 4  # "this week against the previous four"
CHART_WEEKS = 8
OPEN_FAULT_WEEKS = 5  # genuine faults without a reply are looked for this far back
CHART_CID = "hostile-threads-chart"


@dataclass(slots=True)
class ThreadLine:
    """One thread as the digest shows it."""

    thread_id: str
    client: str  # the party: a domain, or an address at a free-mail provider
    names: list[str]
    subject: str
    category: str
    hostility: int  # the highest of the period's client messages
    language: str
    client_messages: int  # in the period
    first: datetime
    last: datetime
    evidence: list[dict[str, Any]] = field(default_factory=list)
    draft: str = "none"  # none, planned, appended, cancelled, held
    invoices: list[str] = field(default_factory=list)
    amounts: list[str] = field(default_factory=list)
    replied: bool = False  # the provider wrote in the thread after the last client message


@dataclass(slots=True)
class ClientGroup:
    client: str
    threads: list[ThreadLine]

    @property
    def worst(self) -> int:
        return max(t.hostility for t in self.threads)


@dataclass(slots=True)
class Digest:
    start: datetime
    end: datetime
    zone: ZoneInfo
    groups: list[ClientGroup]
    categories: dict[str, tuple[int, float]]  # this period, mean of the four before
    languages: dict[str, tuple[int, float]]
    rising: list[tuple[str, float, float]]  # client, mean hostility before, now
    open_faults: list[ThreadLine]
    weeks: list[tuple[datetime, int]]  # week start, hostile threads
    # The provider's corrections of the period ((model's label, provider's label) -> how
    # many), and the retraining attempts and rollbacks of the period (store.retrains).
    corrections: dict[tuple[str, str], int] = field(default_factory=dict)
    retrains: list[dict[str, Any]] = field(default_factory=list)
    days: int = 7  # the period's length: a week unless asked otherwise (digest --days)

    @property
    def hostile_threads(self) -> int:
        return sum(len(g.threads) for g in self.groups)


def build(store: Store, end: datetime, days: int, zone: ZoneInfo) -> Digest:
    """The digest of the ``days`` before ``end`` (an aware datetime)."""
    period = timedelta(days=days)
    local_end = end.astimezone(zone)

    def back(span: timedelta) -> datetime:
        # Wall-clock days in the provider's zone: a week across a clock change is
        # still Monday 08:00 to Monday 08:00, with no hour lost or counted twice.
        return (local_end - span).astimezone(UTC)

    start = back(period)
    history_start = min(back(period * (1 + HISTORY_PERIODS)),
                        back(timedelta(weeks=max(CHART_WEEKS, OPEN_FAULT_WEEKS))))
    rows = store.client_verdicts(history_start, end)
    for row in rows:
        row["when"] = datetime.fromisoformat(row["date"])
        row["sender"] = row["sender"] or "?"
        # Shown as the client's name in the text and HTML: the address's own
        # characters (control, format) marked like any other client text.
        row["party"] = one_line(party(row["sender"]))
    current = [r for r in rows if r["when"] >= start]
    before = [r for r in rows if back(period * (1 + HISTORY_PERIODS)) <= r["when"] < start]

    by_thread: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in current:
        by_thread[row["thread"]].append(row)
    lines = [_thread_line(store, thread, rows_of) for thread, rows_of in sorted(by_thread.items())
             if any(r["hostility"] >= HOSTILE for r in rows_of)]
    by_client: dict[str, list[ThreadLine]] = defaultdict(list)
    for line in lines:
        by_client[line.client].append(line)
    groups = [ClientGroup(client, sorted(threads, key=lambda t: (-t.hostility,
                                                                 -t.last.timestamp())))
              for client, threads in by_client.items()]
    groups.sort(key=lambda g: (-g.worst, -sum(t.client_messages for t in g.threads),
                               -max(t.last.timestamp() for t in g.threads), g.client))

    faults_since = back(timedelta(weeks=OPEN_FAULT_WEEKS))
    fault_rows = [r for r in rows if r["category"] == "genuine_fault"
                  and r["when"] >= faults_since]
    open_faults = []
    for thread in dict.fromkeys(r["thread"] for r in fault_rows):
        line = _thread_line(store, thread, [r for r in fault_rows if r["thread"] == thread])
        if not line.replied:
            open_faults.append(line)
    open_faults.sort(key=lambda t: (-t.hostility, t.last))

    weeks = []
    for weeks_back in range(CHART_WEEKS, 0, -1):
        week_start = back(timedelta(weeks=weeks_back))
        week_end = back(timedelta(weeks=weeks_back - 1))
        weeks.append((week_start, len({r["thread"] for r in rows if r["hostility"] >= HOSTILE
                                       and week_start <= r["when"] < week_end})))

    return Digest(
        start=start, end=end, zone=zone, groups=groups,
        categories=_compare(Counter(r["category"] for r in current),
                            Counter(r["category"] for r in before), CATEGORIES),
        languages=_compare(Counter(r["language"] for r in current),
                           Counter(r["language"] for r in before),
                           ("es", "pt", "en", "other")),
        rising=_rising(current, before), open_faults=open_faults, weeks=weeks,
        corrections=dict(Counter((c["old_label"] or "?", c["new_label"])
                                 for c in store.corrections(start, end))),
        retrains=[r for r in store.retrains(start) if r["at"] < end.isoformat()],
        days=days)


def _compare(now: Counter[str], before: Counter[str], keys: Sequence[str]
             ) -> dict[str, tuple[int, float]]:
    return {k: (now.get(k, 0), before.get(k, 0) / HISTORY_PERIODS) for k in keys
            if now.get(k, 0) or before.get(k, 0)}


def _rising(current: list[dict[str, Any]], before: list[dict[str, Any]]
            ) -> list[tuple[str, float, float]]:
    """Clients whose mean hostility this period is at least one level above their
    mean over the four periods before (clients new this period are not "rising")."""
    def means(rows: list[dict[str, Any]]) -> dict[str, float]:
        levels: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            levels[row["party"]].append(int(row["hostility"]))
        return {k: sum(v) / len(v) for k, v in levels.items()}
    now, earlier = means(current), means(before)
    found = [(client, earlier[client], level) for client, level in now.items()
             if client in earlier and level >= earlier[client] + 1.0]
    return sorted(found, key=lambda x: (-(x[2] - x[1]), x[0]))


def _thread_line(store: Store, thread: str, rows: list[dict[str, Any]]) -> ThreadLine:
    worst = max(rows, key=lambda r: (r["hostility"], r["when"]))
    messages = store.thread_for_drafts(thread)
    last_client = max(r["when"] for r in rows)
    replied = any(m["kind"] == "provider" and datetime.fromisoformat(m["date"]) > last_client
                  for m in messages)
    draft = store.latest_draft(thread)
    invoices: dict[str, None] = {}
    amounts: dict[str, None] = {}
    if worst["category"] == "payment_excuse":
        for row in rows:
            lang = row["language"] if row["language"] in ("es", "pt", "en") else "xx"
            for entity in entities_in(f"{row['subject']}\n{row['body']}", lang):
                if entity.kind == "invoice":
                    invoices[entity.value] = None
                elif entity.kind == "amount":
                    amounts[one_line(entity.text)] = None
    return ThreadLine(
        thread_id=thread, client=worst["party"],
        names=list(dict.fromkeys(one_line(r["sender_name"] or r["sender"]) for r in rows)),
        subject=one_line(worst["subject"]), category=worst["category"],
        hostility=int(worst["hostility"]), language=worst["language"],
        client_messages=len(rows), first=min(r["when"] for r in rows), last=last_client,
        evidence=store.thread_evidence(thread)[:3],
        draft=draft["state"] if draft else "none",
        invoices=list(invoices)[:5], amounts=list(amounts)[:5], replied=replied)


def one_line(text: str | None) -> str:
    """Client text as one harmless line: control and format characters marked
    (show.printable), line breaks folded,
    and web addresses broken with a zero-width space so that no mail client turns
    them into links ("http://evil.example" stays text)."""
    flat = " ".join(printable(text).split())
    return _LINKY.sub(lambda m: m.group(0)[:-1] + "\u200b" + m.group(0)[-1], flat)


_LINKY = re.compile(r"(?i)(?:[a-z][a-z0-9+.-]*:/|\bwww\.)")


# --- rendering ------------------------------------------------------------------

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Weekly digest", "period": "{start} to {end}",
        "subject": "triage: {count} hostile threads, {start} to {end}",
        "subject_one": "triage: 1 hostile thread, {start} to {end}",
        "summary": "This week", "category": "Category", "language": "Language",
        "this_week": "This week", "before": "Weekly average, previous 4 weeks",
        "open_faults": "Genuine faults still without a reply",
        "open_faults_none": "No genuine fault is waiting for a reply.",
        "rising": "Clients whose hostility is rising",
        "rising_line": "{client}: {before} → {now} (mean hostility)",
        "chart": "Hostile threads per week, last 8 weeks",
        "chart_alt": "Bar chart of hostile threads per week: {values}",
        "threads": "Hostile threads by client, worst first",
        "no_threads": "No hostile threads this week.",
        "client": "Client", "hostility": "Hostility", "messages": "Client messages",
        "dates": "Dates", "draft": "Reply draft", "evidence": "Proof found",
        "no_evidence": "none", "invoices": "Invoices named", "amounts": "Amounts named",
        "footer": "Made by triage on your own machine. Client mail never left it.",
        "accusation": "Accusation", "payment_excuse": "Payment excuse",
        "scope_creep": "Scope creep", "genuine_fault": "Genuine fault", "other": "Other",
        "es": "Spanish", "pt": "Portuguese", "lang_en": "English", "lang_other": "Other",
        "draft_none": "none", "draft_planned": "planned (cooling down)",
        "draft_appended": "in Drafts", "draft_cancelled": "cancelled: you replied",
        "draft_held": "held back (see triage show)",
        "learning": "Your corrections and the model",
        "corrections_none": "No corrections this week.",
        "corrections_count": "{count} messages re-sorted by you this week:",
        "corrections_one": "1 message re-sorted by you this week:",
        "correction_line": "{old} → {new}: {count}",
        "model_kept": ("{day}: retrained on {count} corrections and kept (held-out macro-F1 "
                       "{before} → {after})"),
        "model_rejected": ("{day}: retrained on {count} corrections, not kept: held-out macro-F1 "
                           "{before} → {after}; the model before stays"),
        "model_failed": "{day}: retraining failed ({detail})",
        "model_rolled_back": "{day}: rolled back to the model before",
        "alert_from": "From", "alert_subject": "Subject",
    },
    "es": {
        "title": "Resumen semanal", "period": "del {start} al {end}",
        "subject": "triage: {count} hilos hostiles, del {start} al {end}",
        "subject_one": "triage: 1 hilo hostil, del {start} al {end}",
        "summary": "Esta semana", "category": "Categoría", "language": "Idioma",
        "this_week": "Esta semana", "before": "Media semanal de las 4 semanas anteriores",
        "open_faults": "Fallos reales todavía sin respuesta",
        "open_faults_none": "Ningún fallo real espera respuesta.",
        "rising": "Clientes cuya hostilidad va en aumento",
        "rising_line": "{client}: {before} → {now} (hostilidad media)",
        "chart": "Hilos hostiles por semana, últimas 8 semanas",
        "chart_alt": "Gráfico de barras de hilos hostiles por semana: {values}",
        "threads": "Hilos hostiles por cliente, los peores primero",
        "no_threads": "No hubo hilos hostiles esta semana.",
        "client": "Cliente", "hostility": "Hostilidad", "messages": "Mensajes del cliente",
        "dates": "Fechas", "draft": "Borrador de respuesta", "evidence": "Pruebas encontradas",
        "no_evidence": "ninguna", "invoices": "Facturas citadas", "amounts": "Importes citados",
        "footer": "Hecho por triage en su propio equipo. El correo de los clientes no salió "
                  "de él.",
        "accusation": "Acusación", "payment_excuse": "Excusa de pago",
        "scope_creep": "Ampliación del alcance", "genuine_fault": "Fallo real",
        "other": "Otros", "es": "Español", "pt": "Portugués", "lang_en": "Inglés",
        "lang_other": "Otro",
        "draft_none": "ninguno", "draft_planned": "previsto (en enfriamiento)",
        "draft_appended": "en Borradores", "draft_cancelled": "cancelado: usted respondió",
        "draft_held": "retenido (ver triage show)",
        "learning": "Sus correcciones y el modelo",
        "corrections_none": "Ninguna corrección esta semana.",
        "corrections_count": "{count} mensajes reclasificados por usted esta semana:",
        "corrections_one": "1 mensaje reclasificado por usted esta semana:",
        "correction_line": "{old} → {new}: {count}",
        "model_kept": ("{day}: reentrenado con {count} correcciones y adoptado (macro-F1 en el "
                       "conjunto reservado {before} → {after})"),
        "model_rejected": ("{day}: reentrenado con {count} correcciones, no adoptado: macro-F1 en "
                           "el conjunto reservado {before} → {after}; se mantiene el modelo "
                           "anterior"),
        "model_failed": "{day}: el reentrenamiento falló ({detail})",
        "model_rolled_back": "{day}: se volvió al modelo anterior",
        "alert_from": "De", "alert_subject": "Asunto",
    },
    "pt": {
        "title": "Resumo semanal", "period": "de {start} a {end}",
        "subject": "triage: {count} conversas hostis, de {start} a {end}",
        "subject_one": "triage: 1 conversa hostil, de {start} a {end}",
        "summary": "Esta semana", "category": "Categoria", "language": "Idioma",
        "this_week": "Esta semana", "before": "Média semanal das 4 semanas anteriores",
        "open_faults": "Falhas reais ainda sem resposta",
        "open_faults_none": "Nenhuma falha real espera resposta.",
        "rising": "Clientes cuja hostilidade está a subir",
        "rising_line": "{client}: {before} → {now} (hostilidade média)",
        "chart": "Conversas hostis por semana, últimas 8 semanas",
        "chart_alt": "Gráfico de barras de conversas hostis por semana: {values}",
        "threads": "Conversas hostis por cliente, as piores primeiro",
        "no_threads": "Não houve conversas hostis esta semana.",
        "client": "Cliente", "hostility": "Hostilidade", "messages": "Mensagens do cliente",
        "dates": "Datas", "draft": "Rascunho de resposta", "evidence": "Provas encontradas",
        "no_evidence": "nenhuma", "invoices": "Faturas citadas", "amounts": "Valores citados",
        "footer": "Feito pelo triage no seu próprio computador. O e-mail dos clientes não "
                  "saiu dele.",
        "accusation": "Acusação", "payment_excuse": "Desculpa de pagamento",
        "scope_creep": "Aumento de escopo", "genuine_fault": "Falha real",
        "other": "Outros", "es": "Espanhol", "pt": "Português", "lang_en": "Inglês",
        "lang_other": "Outro",
        "draft_none": "nenhum", "draft_planned": "previsto (em arrefecimento)",
        "draft_appended": "em Rascunhos", "draft_cancelled": "cancelado: você respondeu",
        "draft_held": "retido (ver triage show)",
        "learning": "As suas correções e o modelo",
        "corrections_none": "Nenhuma correção esta semana.",
        "corrections_count": "{count} mensagens reclassificadas por si esta semana:",
        "corrections_one": "1 mensagem reclassificada por si esta semana:",
        "correction_line": "{old} → {new}: {count}",
        "model_kept": ("{day}: retreinado com {count} correções e adotado (macro-F1 no "
                       "conjunto reservado {before} → {after})"),
        "model_rejected": ("{day}: retreinado com {count} correções, não adotado: macro-F1 no "
                           "conjunto reservado {before} → {after}; mantém-se o modelo anterior"),
        "model_failed": "{day}: o retreino falhou ({detail})",
        "model_rolled_back": "{day}: voltou-se ao modelo anterior",
        "alert_from": "De", "alert_subject": "Assunto",
    },
}


# What LABELS says of a week, for a period of another length ({days} days; one day
# has its own words).
PERIOD_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Digest of the last {days} days", "summary": "This period",
        "this_week": "This period", "before": "Average per {days} days, previous 4 periods",
        "no_threads": "No hostile threads in this period.",
        "corrections_none": "No corrections in this period.",
        "corrections_count": "{{count}} messages re-sorted by you in this period:",
        "corrections_one": "1 message re-sorted by you in this period:",
    },
    "es": {
        "title": "Resumen de los últimos {days} días", "summary": "Este periodo",
        "this_week": "Este periodo",
        "before": "Media por periodo de {days} días, 4 periodos anteriores",
        "no_threads": "No hubo hilos hostiles en este periodo.",
        "corrections_none": "Ninguna corrección en este periodo.",
        "corrections_count": "{{count}} mensajes reclasificados por usted en este periodo:",
        "corrections_one": "1 mensaje reclasificado por usted en este periodo:",
    },
    "pt": {
        "title": "Resumo dos últimos {days} dias", "summary": "Este período",
        "this_week": "Este período",
        "before": "Média por período de {days} dias, 4 períodos anteriores",
        "no_threads": "Não houve conversas hostis neste período.",
        "corrections_none": "Nenhuma correção neste período.",
        "corrections_count": "{{count}} mensagens reclassificadas por si neste período:",
        "corrections_one": "1 mensagem reclassificada por si neste período:",
    },
}
ONE_DAY_LABELS: dict[str, dict[str, str]] = {
    "en": {"title": "Daily digest", "summary": "Today", "this_week": "Today",
           "before": "Daily average, previous 4 days"},
    "es": {"title": "Resumen diario", "summary": "Hoy", "this_week": "Hoy",
           "before": "Media diaria de los 4 días anteriores"},
    "pt": {"title": "Resumo diário", "summary": "Hoje", "this_week": "Hoje",
           "before": "Média diária dos 4 dias anteriores"},
}


def labels_for(language: str, days: int = 7) -> dict[str, str]:
    """The digest's words in ``language`` (English when it has none) for a period of
    ``days``: a weekly digest speaks of this week, any other of this period."""
    if language not in LABELS:
        language = "en"
    labels = dict(LABELS[language])
    if days != 7:
        labels.update({k: v.format(days=days) for k, v in PERIOD_LABELS[language].items()})
    if days == 1:
        labels.update(ONE_DAY_LABELS[language])
    return labels


def _env() -> jinja2.Environment:
    # Autoescaping for everything but the plain-text template, and no filter
    # marks client text safe.
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("triage", "replies/digest"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",),
            default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str  # references the chart as cid:CHART_CID
    chart: bytes  # PNG


def render(digest: Digest, language: str, chart_src: str | None = None) -> Rendered:
    labels = labels_for(language, digest.days)
    locale = {"es": "es_ES", "pt": "pt_PT", "en": "en_GB"}.get(language, "en_GB")
    local = digest.zone

    def day(moment: datetime) -> str:
        return format_date(moment.astimezone(local), "d MMM", locale=locale)

    def span(line: ThreadLine) -> str:
        first, last = day(line.first), day(line.last)
        return first if first == last else f"{first} – {last}"

    def lang_label(code: str) -> str:
        return labels.get(code if code in ("es", "pt") else f"lang_{code}", code)

    start = day(digest.start)
    end = day(digest.end - timedelta(seconds=1))
    count = digest.hostile_threads
    subject = (labels["subject_one"] if count == 1 else labels["subject"]).format(
        count=count, start=start, end=end)
    values = ", ".join(f"{day(w)}: {n}" for w, n in digest.weeks)
    learning = _learning(digest, labels, day)
    context = {
        "l": labels, "d": digest, "period": labels["period"].format(start=start, end=end),
        "day": day, "span": span, "lang_label": lang_label, "lang": language,
        "day_iso": lambda iso: day(datetime.fromisoformat(iso)), "one_line": one_line,
        "chart_alt": labels["chart_alt"].format(values=values),
        "fmt": lambda x: f"{x:.1f}".rstrip("0").rstrip("."), "learning": learning,
    }
    env = _env()
    text = env.get_template("digest.txt.j2").render(**context)
    chart = chart_png(digest.weeks, labels["chart"], day)
    if chart_src is None:
        chart_src = f"cid:{CHART_CID}"
    elif chart_src == "data":
        chart_src = "data:image/png;base64," + base64.b64encode(chart).decode("ascii")
    html = env.get_template("digest.html.j2").render(chart_src=chart_src, **context)
    return Rendered(subject=subject, text=text, html=html, chart=chart)


def _learning(digest: Digest, labels: dict[str, str],
              day: Callable[[datetime], str]) -> tuple[str, list[str]]:
    """The corrections section: a heading line and one line per kind of correction
    and per model change."""
    count = sum(digest.corrections.values())
    if not count:
        head = labels["corrections_none"]
    else:
        head = (labels["corrections_one"] if count == 1 else labels["corrections_count"]
                ).format(count=count)
    lines = [labels["correction_line"].format(old=labels.get(old, old), new=labels[new],
                                              count=n)
             for (old, new), n in sorted(digest.corrections.items(), key=lambda i: -i[1])]
    for retrain in digest.retrains:
        def score(value: float | None) -> str:
            return "?" if value is None else f"{value:.3f}"

        lines.append(labels[f"model_{retrain['outcome']}"].format(
            day=day(datetime.fromisoformat(retrain["at"])), count=retrain["corrections"],
            before=score(retrain["score_before"]), after=score(retrain["score_after"]),
            detail=one_line(retrain["detail"])[:120]))
    return head, lines


def html_page(digest: Digest, language: str) -> str:
    """The digest's HTML as a file a browser opens: the chart embedded as data."""
    return render(digest, language, chart_src="data").html


def chart_png(weeks: Sequence[tuple[datetime, int]], title: str,
              day: Any) -> bytes:
    """A small bar chart of hostile threads per week, as PNG bytes."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(6.0, 2.2), dpi=100)
    try:
        labels = [day(w) for w, _ in weeks]
        counts = [n for _, n in weeks]
        colours = ["#b0b7c3"] * len(counts)
        if colours:
            colours[-1] = "#c0392b"
        axes.bar(range(len(counts)), counts, color=colours, width=0.6)
        axes.set_xticks(range(len(counts)), labels, fontsize=8)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.tick_params(axis="y", labelsize=8)
        axes.set_ylim(0, max([*counts, 1]) * 1.15)
        axes.set_title(title, fontsize=9, loc="left")
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png", metadata={"Software": None})
        return out.getvalue()
    finally:
        plt.close(figure)


def message(rendered: Rendered, sender: str, to: Sequence[str], end: datetime,
            ) -> EmailMessage:
    """The digest as a multipart email: text, and HTML with the chart inline."""
    mail = EmailMessage()
    mail["Subject"] = rendered.subject
    mail["From"] = Address(display_name="triage", addr_spec=sender)
    mail["To"] = ", ".join(to)
    mail["Date"] = format_datetime(datetime.now(UTC))
    domain = sender.rpartition("@")[2] or "triage.invalid"
    # One Message-ID per period: a copy sent twice (a crash between the server's
    # acceptance and our record of it) is recognisably the same digest.
    mail["Message-ID"] = f"<triage-digest-{end.astimezone(UTC):%Y%m%dT%H%M}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(rendered.text)
    mail.add_alternative(rendered.html, subtype="html")
    html_part = mail.get_body(preferencelist=("html",))
    assert html_part is not None
    html_part.add_related(rendered.chart, maintype="image", subtype="png",
                          cid=f"<{CHART_CID}>", filename="hostile-threads.png",
                          disposition="inline")
    return mail


# --- when triage run sends it ---------------------------------------------------------

class Schedule:
    """The digest's periods: each ends at the configured weekday and time."""

    def __init__(self, digest: DigestConfig, zone: ZoneInfo) -> None:
        self.weekday = digest.weekday
        hour, minute = (int(x) for x in digest.time.split(":"))
        self.at = time(hour, minute)
        self.zone = zone

    def last_end(self, now: datetime) -> datetime:
        """The latest period end at or before ``now``."""
        local = now.astimezone(self.zone)
        days_back = (local.weekday() - self.weekday) % 7
        candidate = datetime.combine(local.date() - timedelta(days=days_back), self.at,
                                     tzinfo=self.zone)
        if candidate.astimezone(UTC) > now.astimezone(UTC):
            candidate = datetime.combine(candidate.date() - timedelta(days=7), self.at,
                                         tzinfo=self.zone)
        return candidate.astimezone(UTC)

    def next_end(self, now: datetime) -> datetime:
        last = self.last_end(now).astimezone(self.zone)
        following = datetime.combine(last.date() + timedelta(days=7), self.at, tzinfo=self.zone)
        return following.astimezone(UTC)


def period_key(end: datetime) -> str:
    return end.astimezone(UTC).isoformat(timespec="minutes")


def compose(config: Config, store: Store, end: datetime, days: int | None = None
            ) -> tuple[Digest, EmailMessage]:
    """The digest of the period ending at ``end`` and its email."""
    zone = ZoneInfo(config.provider.timezone)
    digest = build(store, end, days or config.digest.days, zone)
    rendered = render(digest, config.provider.language)
    return digest, message(rendered, config.report_sender,
                           config.report_recipients(config.digest.to), end)
