"""The weekly digest and alerts: what they list, how they look, and how they are
sent, against a real SMTP server (aiosmtpd on loopback, plain, STARTTLS and
implicit TLS with throwaway certificates).

The classifier is the stand-in of conftest (each test names each message's
verdict): these tests are about what the digest does with verdicts.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Desk, mail
from smtpserver import PASSWORD, SmtpServer

from triage import digest
from triage.cli import main
from triage.config import DigestConfig, load_config
from triage.errors import ConfigError
from triage.outbox import SendError, send
from triage.reports import Reporter, threatens
from triage.store import Store

MADRID = ZoneInfo("Europe/Madrid")
# The digest's period: the week before Monday 23 November 2026, 08:00 in Madrid.
END = datetime(2026, 11, 23, 8, 0, tzinfo=MADRID)
AGENCY = "Ana Ruiz <ana@agency.example>"


def client_mail(desk: Desk, n: int, when: datetime, sender: str, subject: str, body: str,
                verdict: tuple[str, int, str], parent: str = "") -> str:
    message_id = f"<c{n}@{sender.split('@')[1].rstrip('>')}>"
    desk.deliver("INBOX", mail(message_id, when, sender, AGENCY, subject, body, parent=parent),
                 verdict)
    return message_id


def week(desk: Desk) -> None:
    """A week of client mail at three clients, and some from the weeks before."""
    day = END - timedelta(days=3)
    # Bodega: an abusive accusation, then an angry payment excuse naming an invoice.
    client_mail(desk, 1, day, "Marta Gil <marta@bodega.example>", "Nos dejasteis sin correo",
                "Sois unos inútiles, nadie nos avisó.", ("accusation", 3, "es"))
    client_mail(desk, 2, day + timedelta(hours=2), "Marta Gil <marta@bodega.example>",
                "Factura 1042", "No pienso pagar la factura 1042 de 480,00 € hasta que "
                "vuelva el correo.", ("payment_excuse", 2, "es"))
    # Óptica: one angry scope request, written twice.
    first = client_mail(desk, 3, day - timedelta(days=2), "Rui Lopes <rui@optica.example>",
                        "Loja online", "Isto estava incluído, quero já.", ("scope_creep", 2, "pt"))
    client_mail(desk, 4, day - timedelta(days=1), "Rui Lopes <rui@optica.example>",
                "Re: Loja online", "Ainda nada?", ("scope_creep", 2, "pt"), parent=first)
    # Physio: a calm message (not hostile: not in the threads) and a furious fault.
    client_mail(desk, 5, day, "Siobhan <siobhan@physio.example>", "Question",
                "Could you send me last month's invoice?", ("other", 0, "en"))
    client_mail(desk, 6, day + timedelta(hours=1), "Siobhan <siobhan@physio.example>",
                "Patients not getting emails", "This is the third day our booking emails "
                "do not arrive.", ("genuine_fault", 2, "en"))
    # The weeks before: Bodega was calm, and a hostile thread three weeks ago.
    for n, back in enumerate((10, 17, 24), start=7):
        client_mail(desk, n, END - timedelta(days=back), "Marta Gil <marta@bodega.example>",
                    f"Consulta {n}", "Una pregunta sobre el dominio.", ("other", 0, "es"))
    client_mail(desk, 10, END - timedelta(days=20), "Rui Lopes <rui@optica.example>",
                "Fatura", "Não vou pagar já.", ("payment_excuse", 2, "pt"))


def built(desk: Desk) -> digest.Digest:
    with Store(desk.config.store.path) as store:
        return digest.build(store, END, 7, MADRID)


def composed(desk: Desk) -> tuple[digest.Digest, EmailMessage]:
    """The digest of the week to END as the service would mail it."""
    with Store(desk.config.store.path) as store:
        return digest.compose(desk.config, store, END)


def test_hostile_threads_are_grouped_by_client_worst_first(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    found = built(desk)
    assert [g.client for g in found.groups] == ["bodega.example", "optica.example",
                                                "physio.example"]
    bodega = found.groups[0]
    assert [(t.category, t.hostility) for t in bodega.threads] == [
        ("accusation", 3), ("payment_excuse", 2)]
    payment = bodega.threads[1]
    assert payment.invoices == ["1042"]
    assert payment.amounts == ["480,00 €"]
    optica = found.groups[1].threads
    assert len(optica) == 1 and optica[0].client_messages == 2
    assert optica[0].first < optica[0].last
    # The calm question is counted but is no hostile thread.
    assert found.hostile_threads == 4
    assert found.categories["other"][0] == 1
    # Drafts were planned and appended by the run (genuine faults at once).
    assert found.groups[2].threads[0].draft == "appended"


def test_summary_compares_with_the_four_weeks_before_and_finds_rising_clients(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    found = built(desk)
    # Five client messages of "other" in the window: one this week, three before.
    assert found.categories["other"] == (1, 3 / 4)
    assert found.categories["payment_excuse"] == (1, 1 / 4)
    assert found.languages["es"] == (2, 3 / 4)
    # Bodega went from calm (0) to a mean of 2.5; Óptica was already at 2.
    assert [c for c, _, _ in found.rising] == ["bodega.example"]
    # The chart: hostile threads per week over eight weeks, this week last.
    assert len(found.weeks) == 8
    assert [n for _, n in found.weeks][-3:] == [1, 0, 4]


def test_a_genuine_fault_without_a_reply_is_listed_until_the_provider_answers(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    assert [t.subject for t in built(desk).open_faults] == ["Patients not getting emails"]
    desk.deliver("Sent", mail("<r1@agency.example>", END - timedelta(hours=1), AGENCY,
                              "siobhan@physio.example", "Re: Patients not getting emails",
                              "We found it: the mail relay was blocked. Fixed now.",
                              parent="<c6@physio.example>"))
    desk.run(END)
    assert built(desk).open_faults == []


def hostile_markup(desk: Desk) -> None:
    subject = "=?utf-8?q?Hola=0D=0ABcc:_x@evil.example_<script>alert(1)</script>?="
    raw = mail("<x1@evil.example>", END - timedelta(days=1), '"<b>Eve</b>" <eve@evil.example>',
               AGENCY, "placeholder", '<img src="http://evil.example/track.png"> '
               '<a href="http://evil.example">pay here</a> {{ 7*7 }}')
    raw = raw.replace(b"Subject: placeholder", b"Subject: " + subject.encode())
    desk.deliver("INBOX", raw, ("accusation", 3, "es"))


def test_client_markup_and_line_breaks_render_as_harmless_text(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    hostile_markup(desk)
    desk.run(END)
    found, message = composed(desk)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html.lower()
    # The only image is the chart, by Content-ID; no link at all, no remote source.
    assert re.findall(r"<img [^>]*src=\"([^\"]+)\"", html) == [f"cid:{digest.CHART_CID}"]
    assert "<a " not in html.lower() and "http://" not in html
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html
    # The CR/LF of the subject is gone: one line, no header injected anywhere.
    line = next(x for x in text.splitlines() if "alert(1)" in x)
    assert "Bcc: x@evil.example" in line
    assert message["Bcc"] is None and "\r" not in found.groups[0].threads[0].subject
    assert message["Subject"].startswith("triage: ")


def test_a_fault_the_provider_answered_is_not_open_after_the_clients_thanks(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.deliver("Sent", mail("<r1@agency.example>", END - timedelta(hours=5), AGENCY,
                              "siobhan@physio.example", "Re: Patients not getting emails",
                              "Fixed: the relay was blocked.", parent="<c6@physio.example>"))
    client_mail(desk, 11, END - timedelta(hours=4), "Siobhan <siobhan@physio.example>",
                "Re: Patients not getting emails", "Thanks, all good now.",
                ("other", 0, "en"), parent="<r1@agency.example>")
    desk.run(END)
    assert built(desk).open_faults == []


def test_web_addresses_from_clients_cannot_become_links(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    client_mail(desk, 1, END - timedelta(days=1), "Eve <eve@evil.example>",
                f"Pay at http://evil.example/pay or www.evil.example cid:{digest.CHART_CID}",
                "Angry.", ("accusation", 3, "en"))
    desk.run(END)
    with Store(desk.config.store.path) as store:
        _, message = digest.compose(desk.config, store, END)
        page = digest.html_page(digest.build(store, END, 7, MADRID), "en")
    for part in ("plain", "html"):
        content = message.get_body(preferencelist=(part,)).get_content()
        assert "evil.example/pay" in content
        assert "http://" not in content and "www.evil" not in content
    # The chart of the --out page is the chart, whatever a subject says.
    assert [src[:22] for src in re.findall(r"<img [^>]*src=\"([^\"]+)\"", page)] == [
        "data:image/png;base64,"]


@pytest.mark.parametrize(("now", "expected_end"), [
    # Sunday 29 March 2026, clocks go forward at 02:00 in Madrid; the digest is at 02:30.
    (datetime(2026, 3, 29, 1, 15, tzinfo=ZoneInfo("UTC")), datetime(2026, 3, 22, 1, 30)),
    # Sunday 25 October 2026, clocks go back at 03:00: 02:15 happens twice.
    (datetime(2026, 10, 25, 1, 15, tzinfo=ZoneInfo("UTC")), datetime(2026, 10, 25, 0, 30)),
])
def test_the_schedule_never_ends_a_period_in_the_future_across_clock_changes(
        now: datetime, expected_end: datetime) -> None:
    schedule = digest.Schedule(DigestConfig(weekday=6, time="02:30"), MADRID)
    last = schedule.last_end(now)
    assert last <= now
    assert last == expected_end.replace(tzinfo=ZoneInfo("UTC"))
    assert schedule.next_end(now) > now


def test_a_week_across_the_clock_change_starts_where_the_last_one_ended(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    end = datetime(2026, 11, 2, 8, 0, tzinfo=MADRID)  # the week of 26 October's change
    with Store(desk.config.store.path) as store:
        found = digest.build(store, end, 7, MADRID)
        previous = digest.build(store, found.start, 7, MADRID)
    assert found.start == datetime(2026, 10, 26, 8, 0, tzinfo=MADRID)
    assert previous.start == datetime(2026, 10, 19, 8, 0, tzinfo=MADRID)
    assert found.weeks[-2][0] == previous.weeks[-1][0] == previous.start


def test_the_digest_is_text_html_and_an_inline_chart(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    assert_digest_structure(composed(desk)[1])


def assert_digest_structure(message: EmailMessage) -> None:
    assert message.get_content_type() == "multipart/alternative"
    plain, related = message.get_payload()  # type: ignore[misc]
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, chart = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert chart.get_content_type() == "image/png"
    assert chart["Content-ID"] == f"<{digest.CHART_CID}>"
    assert chart.get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert f'src="cid:{digest.CHART_CID}"' in html.get_content()


def test_the_digest_is_in_the_providers_language(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    with Store(desk.config.store.path) as store:
        found = digest.build(store, END, 7, MADRID)
    spanish = digest.render(found, "es")
    english = digest.render(found, "en")
    assert "Hilos hostiles por cliente" in spanish.text and "Excusa de pago" in spanish.html
    assert "Hostile threads by client" in english.text and "Payment excuse" in english.html
    assert spanish.subject.startswith("triage: 4 hilos hostiles")


def test_a_digest_of_another_length_than_a_week_does_not_call_itself_weekly(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    with Store(desk.config.store.path) as store:
        fortnight = digest.build(store, END, 14, MADRID)
        day = digest.build(store, END, 1, MADRID)
    english, spanish, portuguese = (digest.render(fortnight, lang) for lang in ("en", "es", "pt"))
    assert english.text.startswith("Digest of the last 14 days, 9 Nov to 23 Nov\n")
    assert "Average per 14 days, previous 4 periods" in english.html
    assert "Weekly" not in english.text + english.html
    assert "This week" not in english.text + english.html
    assert spanish.text.startswith("Resumen de los últimos 14 días, ")
    assert "este periodo / media por periodo de 14 días, 4 periodos anteriores" in spanish.text
    assert "semanal" not in spanish.text and "Esta semana" not in spanish.text
    assert portuguese.text.startswith("Resumo dos últimos 14 dias, ")
    assert "semanal" not in portuguese.text and "Esta semana" not in portuguese.text
    daily = digest.render(day, "en")
    assert daily.text.startswith("Daily digest, 22 Nov to 23 Nov\n")
    assert "today / daily average, previous 4 days" in daily.text
    # A week is still a week.
    assert digest.render(built(desk), "en").text.startswith("Weekly digest, 16 Nov to 23 Nov\n")


def test_digest_command_prints_the_text_or_writes_an_html_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    config = str(desk.config_path)
    assert main(["digest", "--config", config, "--end", "2026-11-23T08:00"]) == 0
    out = capsys.readouterr().out
    assert "bodega.example" in out and "1042" in out
    page = tmp_path / "digest.html"
    assert main(["digest", "--config", config, "--end", "2026-11-23T08:00",
                 "--out", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "cid:" not in html
    assert page.stat().st_mode & 0o077 == 0
    assert main(["digest", "--config", config, "--send"]) == 78
    assert "--send needs an [smtp] table" in capsys.readouterr().err


# --- sending, against aiosmtpd -------------------------------------------------------

def desk_with(tmp_path: Path, server: SmtpServer, **options: object) -> Desk:
    return Desk(tmp_path, extra=server.config(**options))  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["plain", "starttls", "implicit"])
def test_digest_arrives_once_through_each_kind_of_connection(
        tmp_path: Path, mode: str, capsys: pytest.CaptureFixture[str]) -> None:
    with SmtpServer(tmp_path, mode) as server:
        desk = desk_with(tmp_path, server)
        week(desk)
        desk.run(END)
        assert main(["digest", "--config", str(desk.config_path), "--send",
                     "--end", "2026-11-23T08:00"]) == 0
        assert "the digest was sent to ana@agency.example" in capsys.readouterr().out
    ((recipients, message),) = server.received
    assert recipients == ["ana@agency.example"]
    assert_digest_structure(message)
    html = message.get_body(preferencelist=("html",)).get_content()
    # The threads, worst client first (after the summary, which names clients too).
    threads = html[html.index("Hostile threads by client"):]
    assert threads.index("bodega.example") < threads.index("optica.example") < \
        threads.index("physio.example")


def test_login_uses_the_password_from_the_environment_and_never_shows_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    with SmtpServer(tmp_path, "starttls", login=True) as server:
        desk = desk_with(tmp_path, server, login=True)
        week(desk)
        desk.run(END)
        command = ["digest", "--config", str(desk.config_path), "--send"]
        monkeypatch.setenv("TRIAGE_TEST_SMTP_PASSWORD", "wrong password")
        assert main(command) == 1
        err = capsys.readouterr().err
        assert "refused the login of triage" in err and "wrong password" not in err
        monkeypatch.setenv("TRIAGE_TEST_SMTP_PASSWORD", PASSWORD)
        assert main(command) == 0
        assert PASSWORD not in capsys.readouterr().out
    assert len(server.received) == 1


@pytest.mark.parametrize(("mode", "options", "expected"), [
    ("starttls", {"ca": False}, "certificate of localhost was refused"),
    ("implicit", {"ca": False}, "certificate of localhost was refused"),
    ("starttls", {"host": "127.0.0.1"}, "certificate of 127.0.0.1 was refused"),
])
def test_an_untrusted_certificate_is_refused(tmp_path: Path, mode: str,
                                             options: dict[str, object], expected: str) -> None:
    with SmtpServer(tmp_path, mode) as server:
        config = load_config(desk_with(tmp_path, server, **options).config_path)
        assert config.smtp is not None
        with pytest.raises(SendError, match=expected):
            send(config.smtp, EmailMessage())
    assert server.received == []


def test_a_server_without_starttls_is_refused_not_used_in_the_clear(tmp_path: Path) -> None:
    with SmtpServer(tmp_path, "starttls", offer_starttls=False) as server:
        config = load_config(desk_with(tmp_path, server).config_path)
        assert config.smtp is not None
        message = EmailMessage()
        message["To"] = "ana@agency.example"
        message["From"] = "triage@agency.example"
        message.set_content("secret figures")
        with pytest.raises(SendError, match="STARTTLS"):
            send(config.smtp, message)
    assert server.received == []


def test_plain_smtp_is_refused_for_a_host_that_is_not_loopback(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[smtp\] tls"):
        Desk(tmp_path, extra='\n[smtp]\nurl = "smtp://triage@mail.agency.example"\n'
             'from = "triage@agency.example"\ntls = "none"\nlogin = false\n')


# --- the schedule, and alerts -------------------------------------------------------------

def reporter_for(server: SmtpServer):  # type: ignore[no-untyped-def]
    def make(config, store):  # type: ignore[no-untyped-def]
        assert config.smtp is not None
        return Reporter(config, store, lambda message: send(config.smtp, message))
    return make


def test_the_service_sends_each_weeks_digest_once_also_across_a_restart(
        tmp_path: Path) -> None:
    with SmtpServer(tmp_path, "plain") as server:
        desk = Desk(tmp_path, extra=server.config() + '\n[digest]\nsend = true\n'
                    'weekday = "mon"\ntime = "08:00"\n')
        week(desk)
        make = reporter_for(server)
        desk.run(END - timedelta(minutes=1), reporter=make)  # Monday 07:59: not yet,
        # and the week that ended last Monday was before the service's time
        assert server.received == []
        desk.run(END + timedelta(minutes=5), reporter=make)
        desk.run(END + timedelta(hours=3), reporter=make)  # a restart, the same week
        assert len(server.received) == 1
        desk.run(END + timedelta(days=7, minutes=1), reporter=make)  # the next Monday
        assert len(server.received) == 2
    subjects = [m["Subject"] for _, m in server.received]
    assert subjects[0] != subjects[1]
    with Store(desk.config.store.path) as store:
        states = [r[0] for r in store.db.execute(
            "SELECT state FROM outgoing WHERE kind = 'digest' ORDER BY key")]
    # The week that ended before the service first ran is not sent late.
    assert states == ["skipped", "sent", "sent"]


def test_a_refused_digest_is_tried_again_at_the_next_sync(tmp_path: Path) -> None:
    with SmtpServer(tmp_path, "plain") as server:
        desk = Desk(tmp_path, extra=server.config() + '\n[digest]\nsend = true\n')
    # The server is gone: the digest is not recorded as sent...
    week(desk)
    service = desk.run(END + timedelta(minutes=5), reporter=reporter_for(server))
    assert service.report.reports.failed == 1
    with SmtpServer(tmp_path / "again", "plain") as again:
        text = desk.config_path.read_text().replace(str(server.port), str(again.port))
        desk.config_path.write_text(text)
        desk.config = load_config(desk.config_path)
        # ...and goes out at the next sync.
        desk.run(END + timedelta(minutes=10), reporter=reporter_for(again))
    assert len(again.received) == 1


def test_alerts_name_only_sender_subject_and_category_and_are_rate_limited(
        tmp_path: Path) -> None:
    with SmtpServer(tmp_path, "plain") as server:
        desk = Desk(tmp_path, extra=server.config() + '\n[alerts]\nenabled = true\n'
                    'to = ["boss@agency.example"]\nmax_per_hour = 2\n')
        now = END
        client_mail(desk, 1, now - timedelta(hours=30), "A <a@one.example>", "Old fault",
                    "Down since yesterday, furious.", ("genuine_fault", 3, "en"))
        client_mail(desk, 2, now - timedelta(hours=2), "B <b@two.example>", "Site down",
                    "Our private order list leaked? Fix it now.", ("genuine_fault", 2, "en"))
        client_mail(desk, 3, now - timedelta(hours=1), "C <c@three.example>", "Factura",
                    "Si no lo arregláis, hablará mi abogado.", ("payment_excuse", 2, "es"))
        client_mail(desk, 4, now - timedelta(minutes=50), "D <d@four.example>", "Reviews",
                    "I will leave a review on Google about this.", ("accusation", 1, "en"))
        client_mail(desk, 5, now - timedelta(minutes=40), "E <e@five.example>", "Hello",
                    "A calm question about DNS.", ("other", 0, "en"))
        desk.run(now, reporter=reporter_for(server))
        assert len(server.received) == 2  # the limit; the old fault raised none
        desk.run(now + timedelta(minutes=10), reporter=reporter_for(server))
        assert len(server.received) == 2  # still within the hour
        desk.run(now + timedelta(hours=1, minutes=5), reporter=reporter_for(server))
        assert len(server.received) == 3
        desk.run(now + timedelta(hours=3), reporter=reporter_for(server))
    assert len(server.received) == 3  # each message once
    first = server.received[0][1]
    assert server.received[0][0] == ["boss@agency.example"]
    body = first.get_content()
    assert "b@two.example" in body and "Site down" in body
    assert "leaked" not in body and "order list" not in body


@pytest.mark.parametrize(("text", "expected"), [
    ("Hablaré con mi abogado.", True),
    ("Vou registrar no Reclame Aqui.", True),
    ("We'll be leaving a review on Google.", True),
    ("Can you update the Google Analytics tag?", False),
    ("Please cancel the old mailbox.", False),
    ("Thanks for the courtesy call.", False),
    ("Could you put the client review on the homepage?", False),
    ("O consumo de dados subiu e a avaliação do orçamento está pronta.", False),
    ("Hay mucha demanda esta semana; un juicio rápido del diseño, por favor.", False),
    ("We need a social media strategy.", False),
])
def test_threats_of_lawyers_or_reviews(text: str, expected: bool) -> None:
    assert threatens("", text) is expected


def test_a_missing_smtp_password_stops_the_service_at_start_not_at_the_first_digest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
        ) -> None:
    monkeypatch.delenv("TRIAGE_TEST_SMTP_PASSWORD", raising=False)
    with SmtpServer(tmp_path, "starttls", login=True) as server:
        desk = Desk(tmp_path, extra=server.config(login=True) + "\n[digest]\nsend = true\n")
        week(desk)
        code = main(["run", "--once", "--config", str(desk.config_path)])
    assert code == 78
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("triage: error: no password for the SMTP login")
    assert "TRIAGE_TEST_SMTP_PASSWORD" in err[-1]
    with Store(desk.config.store.path) as store:
        assert store.count_messages() == 0  # said before any work was done


def test_the_digest_counts_the_weeks_corrections_and_says_how_the_model_changed(
        tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    during, before = END - timedelta(days=2), END - timedelta(days=9)
    with Store(desk.config.store.path) as store:
        with store.transaction():
            store.record_correction("<c1@bodega.example>", "payment_excuse", "folder:x", during)
            store.record_correction("<c5@physio.example>", "payment_excuse", "folder:x", during)
            store.record_correction("<c3@optica.example>", "other", "folder:x", during)
            store.record_correction("<c7@bodega.example>", "scope_creep", "folder:x", before)
        store.record_retrain("kept", 3, 3, during + timedelta(hours=1), 0.878, 0.881, "m1")
        store.record_retrain("failed", 3, 3, before, detail="<b>corpus</b> missing")
        found = digest.build(store, END, 7, MADRID)
    assert found.corrections == {("accusation", "payment_excuse"): 1,
                                 ("other", "payment_excuse"): 1, ("scope_creep", "other"): 1}
    english = digest.render(found, "en")
    assert "3 messages re-sorted by you this week:" in english.text
    assert "Accusation → Payment excuse: 1" in english.text
    assert "retrained on 3 corrections and kept (held-out macro-F1 0.878 → 0.881)" in \
        english.text
    assert "failed" not in english.text  # the week before's attempt is not this week's
    spanish = digest.render(found, "es")
    assert "3 mensajes reclasificados por usted esta semana:" in spanish.html


def test_a_week_without_corrections_says_so(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    assert "No corrections this week." in digest.render(built(desk), "en").text


def test_a_failed_retraining_is_shown_as_harmless_text(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    week(desk)
    desk.run(END)
    with Store(desk.config.store.path) as store:
        store.record_retrain("failed", 0, 1, END - timedelta(days=1),
                             detail="<b>no corpus</b> at /x")
        found = digest.build(store, END, 7, MADRID)
    html = digest.render(found, "en").html
    assert "retraining failed (&lt;b&gt;no corpus&lt;/b&gt; at /x)" in html
