"""Reply drafts, the pure part: templates, the tone check, the cool-down and the
draft mail's headers."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from triage.drafts import (
    CATEGORIES,
    DRAFT_HEADER,
    LANGUAGES,
    VARIABLES,
    Original,
    ReplyContext,
    Schedule,
    TemplateError,
    Templates,
    cited_from,
    draft_message,
    local_when,
    tone_problems,
)

ZONE = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)
NOTICE = {"date": "2026-11-14T18:02:00+01:00",
          "subject": "Mantenimiento programado del servidor de correo",
          "recipients": ["Avisos <avisos@nubeclara.example>",
                         "Auditor <auditor@clinicasol.example>"],
          "excerpt": "El jueves 19, entre las 23:00 y las 05:00, migraremos el servidor."}


def context(lang: str, category: str, **changes: object) -> ReplyContext:
    values: dict[str, object] = dict(
        client_name="Marta Ruiz", client_address="marta@clinicasol.example",
        subject="Anoche sin correo", received=local_when(NOW, lang, ZONE, NOW),
        category=category, hostility=2, language=lang,
        evidence=cited_from([NOTICE], lang, ZONE, NOW, "marta@clinicasol.example"),
        codes=("A-2026-031",), amounts=("54,45 €",), signature="Ana Ruiz\nNubeclara")
    values.update(changes)
    return ReplyContext(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("category", CATEGORIES)
def test_every_built_in_template_renders_and_passes_the_tone_check(
        lang: str, category: str) -> None:
    templates = Templates()
    for evidence in ((), context(lang, category).evidence):
        ctx = context(lang, category, evidence=evidence)
        text = templates.render(ctx)
        assert templates.check(ctx) == [], text
        assert "Ana Ruiz" in text and "Marta Ruiz" in text


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_accusation_reply_cites_the_notice_with_its_date_and_recipient(lang: str) -> None:
    text = Templates().render(context(lang, "accusation"))
    assert "auditor@clinicasol.example" in text
    assert "avisos@nubeclara.example" not in text  # the provider's own Bcc address
    assert "Mantenimiento programado del servidor de correo" in text
    assert "18:02" in text and {"es": "noviembre", "pt": "novembro",
                                "en": "November"}[lang] in text


def test_a_shouting_client_subject_does_not_hold_back_a_calm_reply() -> None:
    templates = Templates()
    ctx = context("es", "accusation", subject="¡¡ESTAFADORES!! NOS DEJARON SIN CORREO")
    assert templates.check(ctx) == []
    assert "ESTAFADORES" in templates.render(ctx)


def test_a_client_writing_template_syntax_gets_it_back_as_text() -> None:
    ctx = context("en", "accusation", subject="{{ 7*7 }} {% raise %}",
                  client_name="{{ config }}")
    text = Templates().render(ctx)
    assert "{{ 7*7 }} {% raise %}" in text and "{{ config }}" in text
    assert "49" not in text


@pytest.mark.parametrize(("text", "lang", "problem"), [
    ("Gracias por su mensaje. Ya se lo dijimos, ¡lea los avisos!", "es", "exclamation"),
    ("Thank you for your message. PLEASE READ the notice we sent you last week.", "en",
     "shouting"),
    ("Thank you for your message. Obviously you did not read the notice we sent.", "en",
     "hostile"),
    ("Obrigado pela mensagem. Como já lhe dissemos, o aviso foi enviado em março.", "pt",
     "hostile"),
    ("Gracias por su mensaje. Usted debería haber leído el aviso que le enviamos.", "es",
     "hostile"),
    ("Thank you for your message. We sent the notice on 14 November to your office.", "es",
     "not in the client's es"),
])
def test_the_tone_check_names_what_is_wrong(text: str, lang: str, problem: str) -> None:
    problems = tone_problems(text, lang)
    assert any(problem in p for p in problems), problems


def test_the_tone_check_passes_acronyms_and_reference_codes() -> None:
    text = ("Gracias por su mensaje. La factura INV-2291 y los registros DKIM y DMARC del "
            "dominio están correctos desde el lunes.")
    assert tone_problems(text, "es") == []


def test_a_user_template_overrides_the_built_in_one_and_its_problems_are_found(
        tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "accusation.txt.j2").write_text(
        "Hello {{ client_name }}, READ YOUR MAIL! {{ signature }}\n", encoding="utf-8")
    templates = Templates(tmp_path)
    ctx = context("en", "accusation")
    assert templates.is_user("en", "accusation")
    assert templates.render(ctx).startswith("Hello Marta Ruiz, READ YOUR MAIL!")
    problems = templates.check(ctx)
    assert any("exclamation" in p for p in problems)
    assert any("shouting" in p for p in problems)
    # The other templates are still the built-in ones.
    assert not templates.is_user("en", "scope_creep")
    assert templates.check(context("en", "scope_creep")) == []


@pytest.mark.parametrize(("source", "message"), [
    ("{{ client_nmae }}", "client_nmae"),
    ("{% for x in %}", "line 1"),
    ("{{ ''.__class__.__mro__ }}", "sandbox"),
])
def test_a_broken_user_template_is_one_clear_error(tmp_path: Path, source: str,
                                                   message: str) -> None:
    (tmp_path / "es").mkdir()
    (tmp_path / "es" / "accusation.txt.j2").write_text(source, encoding="utf-8")
    with pytest.raises(TemplateError, match=message):
        Templates(tmp_path).render(context("es", "accusation"))


def test_a_missing_templates_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="does not exist"):
        Templates(tmp_path / "nowhere")


def test_every_documented_variable_is_in_the_context() -> None:
    assert set(context("en", "accusation").variables()) == set(VARIABLES)


SCHEDULE = Schedule(zone=ZONE)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    # November 2026: the 23rd is a Monday.
    return datetime(2026, 11, day, hour, minute, tzinfo=ZONE)


@pytest.mark.parametrize(("received", "category", "hostility", "due"), [
    (at(23, 8), "accusation", 1, at(24, 9)),  # 12 h later is 20:00: the next morning
    (at(23, 23, 30), "scope_creep", 0, at(25, 9)),  # 11:30 on the 24th is past 09:00
    (at(27, 15), "payment_excuse", 2, at(30, 9)),  # Friday afternoon: Monday morning
    (at(23, 8), "accusation", 3, at(25, 9)),  # hostility 3: 36 h, then the next morning
    (at(28, 11), "genuine_fault", 3, at(28, 11)),  # no cool-down, even on a Saturday
])
def test_the_cool_down_ends_on_a_working_morning(received: datetime, category: str,
                                                 hostility: int, due: datetime) -> None:
    assert SCHEDULE.due(received, category, hostility) == due


def test_the_cool_down_is_at_least_its_hours_in_another_time_zone() -> None:
    received = datetime(2026, 11, 23, 20, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
    due = SCHEDULE.due(received, "accusation", 1)
    assert due - received >= timedelta(hours=12)
    assert due == at(25, 9)  # 00:00 Madrid on the 24th + 12 h = 12:00: the next morning


ORIGINAL = Original(
    message_id="<c1@clinicasol.example>", references=("<n1@nubeclara.example>",),
    sender_name="Marta Ruiz", sender="marta@clinicasol.example", reply_to="",
    subject="RE: Anoche sin correo", date=at(23, 8, 14),
    body="Anoche no entraba ni salía un solo correo.\n\nMarta")


def parse(raw: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_a_draft_is_threaded_addressed_and_quotes_the_client() -> None:
    mail = draft_message(ORIGINAL, "Gracias por su mensaje.\n", sender="soporte@nubeclara.example",
                         plan_id="plan-7", category="accusation", hostility=2, lang="es",
                         zone=ZONE, now=NOW)
    parsed = parse(bytes(mail))
    assert parsed["To"] == "Marta Ruiz <marta@clinicasol.example>"
    assert parsed["Subject"] == "Re: Anoche sin correo"
    assert parsed["In-Reply-To"] == "<c1@clinicasol.example>"
    assert parsed["References"] == "<n1@nubeclara.example> <c1@clinicasol.example>"
    assert parsed["X-Triage-Category"] == "accusation"
    assert parsed["X-Triage-Hostility"] == "2"
    assert parsed[DRAFT_HEADER] == "plan-7"
    body = parsed.get_content()
    assert body.startswith("Gracias por su mensaje.")
    assert "El 23 de noviembre a las 08:14, Marta Ruiz escribió:" in body
    assert "> Anoche no entraba ni salía un solo correo." in body


def test_reply_to_is_honoured() -> None:
    original = Original(**{**{f: getattr(ORIGINAL, f) for f in ORIGINAL.__slots__},
                           "reply_to": "recepcion@clinicasol.example"})
    mail = draft_message(original, "Hola.\n", sender="soporte@nubeclara.example",
                         plan_id="p", category="accusation", hostility=0, lang="es",
                         zone=ZONE, now=NOW)
    assert parse(bytes(mail))["To"] == "recepcion@clinicasol.example"


def test_header_values_from_the_client_cannot_carry_line_breaks() -> None:
    original = Original(
        message_id="<c1@x.example>\r\nBcc: victim@else.example",
        references=("<a@x.example>\nX-Evil: 1",),
        sender_name="Marta\r\nBcc: victim@else.example", sender="marta@clinicasol.example",
        reply_to="", subject="hola\r\nBcc: victim@else.example\r\n\r\nbody",
        date=at(23, 8), body="texto")
    raw = bytes(draft_message(original, "Hola.\n", sender="soporte@nubeclara.example",
                              plan_id="p", category="accusation", hostility=0, lang="es",
                              zone=ZONE, now=NOW))
    parsed = parse(raw)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert "victim@else.example" in parsed["Subject"]  # kept as text, on one line
    headers = raw.split(b"\n\n", 1)[0].decode()
    assert not any(line.startswith(("Bcc", "X-Evil")) for line in headers.splitlines())
