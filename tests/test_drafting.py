"""Planning, re-planning, cancelling and appending reply drafts, over a local
Maildir with a fixed clock (the IMAP side is in test_imap.py).

The classifier here is a stand-in that returns the verdict each test names for
each message: these tests are about what happens after triage, not about the
model (test_classifier.py is).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Desk, mail

from triage.cli import exclusive, main
from triage.drafting import Drafter
from triage.drafts import tone_problems
from triage.store import Store

MADRID = ZoneInfo("Europe/Madrid")
# A Friday evening in Madrid: the next working morning is Monday 09:00.
FRIDAY_EVENING = datetime(2026, 11, 20, 18, 0, tzinfo=MADRID)


CLIENT = "Marta Gil <marta@bodega.example>"
AGENCY = "Ana Ruiz <ana@agency.example>"


def accusation(desk: Desk, n: int = 1, when: datetime = FRIDAY_EVENING, hostility: int = 2,
               parent: str = "") -> str:
    message_id = f"<acc{n}@bodega.example>"
    desk.deliver("INBOX", mail(message_id, when, CLIENT, AGENCY, "Correo caído",
                               "Nadie nos avisó del corte del correo del martes.",
                               parent=parent),
                 ("accusation", hostility, "es"))
    return message_id


def test_an_accusation_waits_for_the_next_working_morning_then_is_appended_once(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    accusation(desk)
    desk.run(FRIDAY_EVENING + timedelta(hours=1))
    (plan,) = desk.plans()
    assert plan["state"] == "planned"
    due = datetime.fromisoformat(str(plan["due_at"])).astimezone(MADRID)
    assert due == datetime(2026, 11, 23, 9, 0, tzinfo=MADRID)  # Monday 09:00
    desk.run(datetime(2026, 11, 22, 12, 0, tzinfo=MADRID))  # Sunday: not yet
    assert desk.drafts() == []
    desk.run(datetime(2026, 11, 23, 9, 0, tzinfo=MADRID))
    desk.run(datetime(2026, 11, 23, 9, 30, tzinfo=MADRID))
    (draft,) = desk.drafts()
    assert draft["To"] == CLIENT
    assert draft["Subject"] == "Re: Correo caído"
    assert draft["In-Reply-To"] == "<acc1@bodega.example>"
    assert draft["X-Triage-Category"] == "accusation"
    assert draft["X-Triage-Hostility"] == "2"
    assert draft["X-Triage-Draft"] == plan["plan_id"]
    body = draft.get_content()
    assert tone_problems(body.split("\nEl ")[0], "es") == []
    assert "> Nadie nos avisó del corte del correo del martes." in body
    assert desk.plans()[0]["state"] == "appended"


def test_a_hostile_accusation_waits_longer(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    accusation(desk, hostility=3, when=datetime(2026, 11, 23, 8, 0, tzinfo=MADRID))  # Monday
    desk.run(datetime(2026, 11, 23, 8, 5, tzinfo=MADRID))
    (plan,) = desk.plans()
    # 36 hours after Monday 08:00 is Tuesday 20:00: the next morning is Wednesday.
    assert datetime.fromisoformat(str(plan["due_at"])).astimezone(MADRID) == datetime(
        2026, 11, 25, 9, 0, tzinfo=MADRID)


def test_a_genuine_fault_gets_its_draft_at_once(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    desk.deliver("INBOX", mail("<gf1@bodega.example>", FRIDAY_EVENING, CLIENT, AGENCY,
                               "La web no carga", "Desde las 17:00 la web da error 500."),
                 ("genuine_fault", 2, "es"))
    desk.run(FRIDAY_EVENING + timedelta(minutes=2))
    (draft,) = desk.drafts()
    assert draft["X-Triage-Category"] == "genuine_fault"
    assert "disculp" in draft.get_content().lower()


def test_other_mail_gets_no_draft(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    desk.deliver("INBOX", mail("<o1@bodega.example>", FRIDAY_EVENING, CLIENT, AGENCY,
                               "Gracias", "Todo perfecto, gracias."), ("other", 0, "es"))
    desk.run(FRIDAY_EVENING + timedelta(days=5))
    assert desk.plans() == [] and desk.drafts() == []


def test_a_new_client_message_rebuilds_the_plan_and_restarts_the_cooldown(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    first = accusation(desk, hostility=1)
    desk.run(FRIDAY_EVENING + timedelta(hours=1))
    (before,) = desk.plans()
    # Monday 08:00, an hour before the draft was due, the client writes again.
    later = datetime(2026, 11, 23, 8, 0, tzinfo=MADRID)
    second = accusation(desk, n=2, when=later, hostility=3, parent=first)
    desk.run(later + timedelta(minutes=5))
    old, after = desk.plans()
    assert old["plan_id"] == before["plan_id"] and old["state"] == "cancelled"
    assert "rebuilt" in str(old["reason"])
    assert after["plan_id"] != before["plan_id"] and after["state"] == "planned"
    assert after["hostility"] == 3  # the worst of the thread
    assert datetime.fromisoformat(str(after["due_at"])) >= later + timedelta(hours=36)
    desk.run(datetime(2026, 11, 23, 9, 0, tzinfo=MADRID))
    assert desk.drafts() == []  # the old due time no longer holds
    desk.run(datetime(2026, 11, 26, 9, 0, tzinfo=MADRID))
    (draft,) = desk.drafts()
    assert draft["In-Reply-To"] == second  # answers the newest message
    assert first in draft["References"]


def test_a_reply_from_the_provider_cancels_the_planned_draft(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    first = accusation(desk)
    desk.run(FRIDAY_EVENING + timedelta(hours=1))
    desk.deliver("Sent", mail("<reply1@agency.example>", FRIDAY_EVENING + timedelta(hours=2),
                              AGENCY, CLIENT, "Re: Correo caído", "Te lo explico por teléfono.",
                              parent=first))
    desk.run(datetime(2026, 11, 23, 10, 0, tzinfo=MADRID))
    (plan,) = desk.plans()
    assert plan["state"] == "cancelled"
    assert "provider replied" in str(plan["reason"])
    assert desk.drafts() == []


def test_a_client_message_after_the_providers_reply_plans_a_new_draft(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    first = accusation(desk)
    desk.deliver("Sent", mail("<reply1@agency.example>", FRIDAY_EVENING + timedelta(hours=2),
                              AGENCY, CLIENT, "Re: Correo caído", "Te llamo el lunes.",
                              parent=first))
    desk.run(FRIDAY_EVENING + timedelta(hours=3))
    assert desk.plans() == []  # answered already
    again = FRIDAY_EVENING + timedelta(hours=4)
    accusation(desk, n=2, when=again, parent="<reply1@agency.example>")
    desk.run(again + timedelta(minutes=1))
    (plan,) = desk.plans()
    assert plan["state"] == "planned"


def test_a_draft_appended_before_a_crash_is_not_appended_again(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    accusation(desk)
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=MADRID)

    class CrashAfterAppend(Drafter):
        def _record(self, *args: object) -> None:
            raise SystemExit("killed between the append and the store's record")

    with Store(desk.config.store.path) as store, pytest.raises(SystemExit):
        desk.run(monday, drafter=CrashAfterAppend(desk.config, store))
    assert len(desk.drafts()) == 1
    assert desk.plans()[0]["state"] == "planned"  # the store never heard of it
    desk.run(monday + timedelta(minutes=5))
    assert len(desk.drafts()) == 1
    (plan,) = desk.plans()
    assert plan["state"] == "appended" and "found in Drafts" in str(plan["reason"])


def test_dry_run_plans_but_appends_nothing(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    accusation(desk)
    service = desk.run(datetime(2026, 11, 23, 9, 0, tzinfo=MADRID), dry_run=True)
    assert service.report.drafts.due == 1
    assert desk.drafts() == []
    assert desk.plans()[0]["state"] == "planned"


def test_old_mail_from_a_first_backfill_gets_no_draft(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    accusation(desk, when=datetime(2025, 3, 3, 10, 0, tzinfo=MADRID))
    desk.run(FRIDAY_EVENING)
    assert desk.plans() == [] and desk.drafts() == []


def test_reply_to_is_honoured(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    desk.deliver("INBOX", mail("<gf2@bodega.example>", FRIDAY_EVENING, CLIENT, AGENCY,
                               "Error 500", "La tienda da error 500 desde las 17:00.",
                               reply_to="soporte@bodega.example"),
                 ("genuine_fault", 1, "es"))
    desk.run(FRIDAY_EVENING + timedelta(minutes=1))
    (draft,) = desk.drafts()
    assert draft["To"] == "soporte@bodega.example"


def test_a_user_template_that_fails_the_tone_check_is_held_back(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "replies" / "es"
    folder.mkdir(parents=True)
    (folder / "genuine_fault.txt.j2").write_text(
        "Hola {{ client_name }}, ¡ya está arreglado! Un saludo.\n", encoding="utf-8")
    desk = Desk(tmp_path, extra=f'\n[drafts]\ntemplates = "{tmp_path / "replies"}"\n')
    desk.deliver("INBOX", mail("<gf3@bodega.example>", FRIDAY_EVENING, CLIENT, AGENCY,
                               "Error 500", "La tienda da error 500 desde las 17:00."),
                 ("genuine_fault", 1, "es"))
    with caplog.at_level(logging.WARNING):
        desk.run(FRIDAY_EVENING + timedelta(minutes=1))
    assert desk.drafts() == []
    (plan,) = desk.plans()
    assert plan["state"] == "held" and "exclamation" in str(plan["reason"])
    assert "held back" in caplog.text
    # Other categories still use the built-in templates.
    accusation(desk, n=9, when=FRIDAY_EVENING)
    desk.run(datetime(2026, 11, 23, 9, 0, tzinfo=MADRID))
    assert [d["X-Triage-Category"] for d in desk.drafts()] == ["accusation"]


def test_the_evidence_is_cited_with_its_date_in_the_providers_zone(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    notice_at = datetime(2026, 11, 14, 17, 2, tzinfo=UTC)  # 18:02 in Madrid
    desk.deliver("Sent", mail(
        "<n1@agency.example>", notice_at, AGENCY, "Marta Gil <marta@bodega.example>",
        "Mantenimiento programado del servidor de correo el martes 17",
        "El martes 17 de noviembre, de 22:00 a 02:00, haremos un mantenimiento programado "
        "del servidor de correo. El correo puede no estar disponible durante esa ventana."))
    desk.deliver("INBOX", mail(
        "<acc5@bodega.example>", FRIDAY_EVENING, CLIENT, AGENCY, "Sin correo toda la noche",
        "Nadie nos avisó de que el martes por la noche nos íbamos a quedar sin correo por un "
        "mantenimiento del servidor."), ("accusation", 2, "es"))
    desk.run(datetime(2026, 11, 23, 9, 0, tzinfo=MADRID))
    (draft,) = desk.drafts()
    body = draft.get_content()
    assert "14 de noviembre a las 18:02" in body
    assert "marta@bodega.example" in body
    assert "Mantenimiento programado del servidor de correo" in body


def test_run_now_says_what_would_be_due_in_the_providers_zone_and_changes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desk = Desk(tmp_path)
    accusation(desk)
    config = str(desk.config_path)
    # Monday 08:59 in Madrid is not yet due, 09:00 is: the naive time is Madrid's.
    assert main(["run", "--once", "--config", config, "--now", "2026-11-23T08:59"]) == 0
    assert "0 drafts would be due" in capsys.readouterr().out
    assert main(["run", "--once", "--config", config, "--now", "2026-11-23T09:00"]) == 0
    assert "1 drafts would be due" in capsys.readouterr().out
    # A look far ahead neither appends nor plans: the real run later still drafts it.
    assert main(["run", "--once", "--config", config, "--now", "2027-06-01T09:00"]) == 0
    assert desk.drafts() == [] and desk.plans() == []


def test_a_second_run_on_the_same_store_is_refused(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    desk = Desk(tmp_path)
    store = desk.config.store.path
    with exclusive(store):
        assert main(["run", "--once", "--config", str(desk.config_path)]) == 1
    assert "another 'triage run' is using the state database" in capsys.readouterr().err
    assert main(["run", "--once", "--config", str(desk.config_path)]) == 0


def test_run_now_needs_once_and_a_valid_time(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    desk = Desk(tmp_path)
    config = str(desk.config_path)
    assert main(["run", "--config", config, "--now", "2026-11-23T09:00"]) == 2
    assert "--now needs --once" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--once", "--config", config, "--now", "next monday"])
    assert exit_info.value.code == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_a_draft_the_server_refuses_stays_planned_and_is_tried_again(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    desk = Desk(tmp_path)
    accusation(desk)
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=MADRID)
    # A file where the Drafts folder's tmp/ should be: every APPEND fails, even
    # for root.
    spool = desk.root / ".Drafts" / "tmp"
    spool.rmdir()
    spool.write_text("not a folder")
    with caplog.at_level(logging.WARNING):
        service = desk.run(monday)
    spool.unlink()
    spool.mkdir()
    assert service.report.drafts.failed == 1
    assert "not appended, will try again" in caplog.text
    assert desk.plans()[0]["state"] == "planned"
    desk.run(monday + timedelta(minutes=5))
    assert len(desk.drafts()) == 1 and desk.plans()[0]["state"] == "appended"


def test_a_reply_that_names_the_message_cancels_even_when_its_date_is_earlier(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    # The client's clock runs ten minutes fast: their Date is after the reply's.
    first = accusation(desk, when=FRIDAY_EVENING + timedelta(minutes=10))
    desk.deliver("Sent", mail("<reply2@agency.example>", FRIDAY_EVENING + timedelta(minutes=5),
                              AGENCY, CLIENT, "Re: Correo caído", "Le llamo ahora.",
                              parent=first))
    desk.run(datetime(2026, 11, 23, 9, 0, tzinfo=MADRID))
    assert desk.drafts() == [] and desk.plans() == []


def test_a_thank_you_after_the_draft_does_not_bring_a_second_draft(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    first = accusation(desk)
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=MADRID)
    desk.run(monday)
    assert len(desk.drafts()) == 1
    desk.deliver("INBOX", mail("<thanks@bodega.example>", monday + timedelta(hours=1), CLIENT,
                               AGENCY, "Re: Correo caído", "Quedo a la espera, gracias.",
                               parent=first), ("other", 0, "es"))
    desk.run(monday + timedelta(days=2))
    assert len(desk.drafts()) == 1


def test_an_overdue_draft_is_still_appended_after_a_long_stop(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    accusation(desk)
    desk.run(FRIDAY_EVENING + timedelta(hours=1))
    # The service was down for two weeks: longer than max_age_days.
    desk.run(FRIDAY_EVENING + timedelta(days=14))
    assert len(desk.drafts()) == 1 and desk.plans()[0]["state"] == "appended"


def test_a_message_with_no_address_to_reply_to_is_held_not_a_crash(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    raw = mail("<nofrom@bodega.example>", FRIDAY_EVENING, "undisclosed-recipients:;", AGENCY,
               "Error 500", "La tienda da error 500 desde las 17:00.")
    desk.deliver("INBOX", raw, ("genuine_fault", 1, "es"))
    accusation(desk)
    desk.run(datetime(2026, 11, 23, 9, 0, tzinfo=MADRID))
    states = {p["message"]: p["state"] for p in desk.plans()}
    assert sorted(states.values()) == ["appended", "held"]
    assert len(desk.drafts()) == 1


def test_a_user_template_that_raises_is_held_with_its_error(tmp_path: Path) -> None:
    folder = tmp_path / "replies" / "es"
    folder.mkdir(parents=True)
    (folder / "accusation.txt.j2").write_text("Hola. {{ 1 // 0 }}\n", encoding="utf-8")
    desk = Desk(tmp_path, extra=f'\n[drafts]\ntemplates = "{tmp_path / "replies"}"\n')
    accusation(desk)
    desk.run(datetime(2026, 11, 23, 9, 0, tzinfo=MADRID))
    (plan,) = desk.plans()
    assert plan["state"] == "held" and "ZeroDivisionError" in str(plan["reason"])
