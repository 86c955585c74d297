"""Configuration: the documented shape loads, and every mistake is one clear line."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG, REPO

from triage.cli import main
from triage.config import Credentials, load_config, locate_config, read_password
from triage.errors import ConfigError, SecretError

ISSUE_SHAPE = """
[mailbox]
url = "imaps://ana@mail.agency.example"
password_env = "TRIAGE_IMAP_PASSWORD"
tls = "starttls"
ca_file = "{ca}"

[folders]
inbox = "INBOX"
sent = "Sent"
drafts = "Drafts"
notices = ["Billing"]

[provider]
name = "Ana Ruiz, Web Agency"
addresses = ["ana@agency.example", "billing@agency.example"]
domains = ["agency.example"]
timezone = "Europe/Madrid"

[store]
path = "/var/lib/triage/triage.db"
"""


def test_the_minimal_shape_from_the_design_loads(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    path = tmp_path / "t.toml"
    path.write_text(ISSUE_SHAPE.format(ca=ca))
    config = load_config(path)
    # tls applies to imap:// URLs; an imaps:// URL is always implicit TLS.
    assert (config.mailbox.scheme, config.mailbox.tls) == ("imaps", "implicit")
    assert (config.mailbox.user, config.mailbox.host, config.mailbox.port) == (
        "ana", "mail.agency.example", 993)
    starttls = tmp_path / "s.toml"
    starttls.write_text(ISSUE_SHAPE.format(ca=ca).replace("imaps://", "imap://"))
    assert (load_config(starttls).mailbox.tls, load_config(starttls).mailbox.port) == (
        "starttls", 143)
    assert config.mailbox.ca_file == ca
    assert config.mailbox.credentials == Credentials(env="TRIAGE_IMAP_PASSWORD")
    assert config.folders.notices == ("Billing",)
    assert config.folders.all_read == ("INBOX", "Sent", "Billing")
    assert config.provider.owns("Billing@Agency.example")
    assert config.provider.owns("someone@mail.agency.example")
    assert not config.provider.owns("client@other.example")
    assert config.store.path == Path("/var/lib/triage/triage.db")


def test_imaps_defaults_to_port_993_and_implicit_tls(write_config) -> None:
    path = write_config(MINIMAL_CONFIG.replace('url = "maildir:{maildir}"',
                                               'url = "imaps://ana@mail.example"'))
    config = load_config(path)
    assert (config.mailbox.port, config.mailbox.tls) == (993, "implicit")


def test_service_settings_have_defaults_and_can_be_set(write_config) -> None:
    assert load_config(write_config()).service.idle_seconds == 600
    custom = load_config(write_config(MINIMAL_CONFIG + """
[service]
idle = false
poll_seconds = 15
notices_seconds = 900
"""))
    assert (custom.service.idle, custom.service.poll_seconds,
            custom.service.notices_seconds) == (False, 15, 900)


def test_relative_paths_are_taken_from_the_config_folder(write_config, tmp_path: Path) -> None:
    text = MINIMAL_CONFIG.replace("maildir:{maildir}", "maildir:mail").replace(
        '"{store}"', '"state/t.db"')
    config = load_config(write_config(text))
    assert config.mailbox.path == tmp_path / "mail"
    assert config.store.path == tmp_path / "state" / "t.db"


def test_store_path_defaults_under_the_user_data_folder(write_config, monkeypatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "/data/home")
    text = MINIMAL_CONFIG.replace('[store]\npath = "{store}"\n', "")
    config = load_config(write_config(text))
    assert config.store.path == Path("/data/home/triage/triage.db")


def test_the_example_file_in_the_repository_is_valid() -> None:
    config = load_config(REPO / "triage.example.toml")
    assert config.provider.language == "es"
    assert config.smtp is None


def test_drafts_settings_have_defaults_and_can_be_set(write_config, tmp_path: Path) -> None:
    config = load_config(write_config())
    assert config.drafts.working_days == (0, 1, 2, 3, 4)
    assert config.drafts.cooldown_hours == 12 and config.drafts.no_cooldown == ("genuine_fault",)
    assert config.draft_sender == "ana@agency.example"
    (tmp_path / "mine").mkdir()
    config = load_config(write_config(MINIMAL_CONFIG + """
[drafts]
templates = "mine"
working_days = ["Sun", "mon", "tue", "wed", "thu"]
day_starts = "8:30"
cooldown_hours = 6.5
from = "replies@agency.example"
payment_terms = {{ es = "las facturas se pagan a 15 días", en = "invoices are due in 15 days" }}
"""))
    drafts = config.drafts
    assert drafts.templates == tmp_path / "mine"
    assert drafts.working_days == (0, 1, 2, 3, 6) and drafts.day_starts == "08:30"
    assert drafts.cooldown_hours == 6.5 and config.draft_sender == "replies@agency.example"
    assert drafts.terms("payment_terms", "en") == "invoices are due in 15 days."
    assert drafts.terms("payment_terms", "pt") == ""


def test_the_demo_config_is_valid() -> None:
    config = load_config(REPO / "corpus" / "demo" / "triage.toml")
    assert config.mailbox.is_maildir


# Each case: (what to replace, with what, a phrase the one-line error must contain).
BAD = [
    ('url = "maildir:{maildir}"', 'url = "ftp://x@y"', "[mailbox] url: expected imaps://"),
    ('url = "maildir:{maildir}"', "url = 7", "[mailbox] url: expected a string, got 7"),
    ('url = "maildir:{maildir}"', 'url = "imaps://mail.example"', "[mailbox] url"),
    ('url = "maildir:{maildir}"', 'url = "imaps://a:secret@mail.example"',
     "with no password in it"),
    ('url = "maildir:{maildir}"', 'url = "imap://a@mail.example"\ntls = "none"',
     '[mailbox] tls: expected "starttls": "none" is accepted only for loopback hosts'),
    ('url = "maildir:{maildir}"', 'url = "imap://a@mail.example"\ntls = "ssl"',
     '[mailbox] tls: expected "starttls" or "none"'),
    ('url = "maildir:{maildir}"', 'url = "imaps://a@127.0.0.1"\ntls = "none"',
     '[mailbox] tls: expected "implicit" or no tls key'),
    ('url = "maildir:{maildir}"', 'url = "imap://a@127.0.0.1:1143"\ntls = "none"\nx = 1',
     "[mailbox] x: unknown key"),
    ('url = "maildir:{maildir}"', 'url = "imaps://a@mail.example"\npassword = "hunter2"',
     "[mailbox] password: passwords are not read from the configuration file"),
    ('url = "maildir:{maildir}"',
     'url = "imaps://a@mail.example"\npassword_env = "X"\npassword_command = "pass x"',
     "either password_env or password_command"),
    ('url = "maildir:{maildir}"', 'url = "imaps://a@mail.example"\nca_file = "/nonexistent.pem"',
     "[mailbox] ca_file: expected the path of an existing file"),
    ('url = "maildir:{maildir}"', 'url = "maildir:{maildir}"\npasword_env = "X"',
     "[mailbox] pasword_env: unknown key"),
    ('notices = ["Billing"]', 'notices = "Billing"', "[folders] notices: expected a list"),
    ('drafts = "Drafts"', 'drafts = ""', "[folders] drafts: expected a folder name"),
    ('timezone = "Europe/Madrid"', 'timezone = "Mars/Olympus"',
     '[provider] timezone: expected an IANA time zone'),
    ('addresses = ["ana@agency.example", "billing@agency.example"]', 'addresses = ["ana"]',
     "[provider] addresses: expected a list of e-mail addresses"),
    ('name = "Ana Ruiz, Web Agency"', "",
     "[provider] name: expected a string (the key is missing)"),
    ('[provider]', '[provider]\nlanguage = "fr"',
     "[provider] language: expected one of es, pt, en"),
    ('[store]', '[storage]', "storage: unknown table"),
    ('path = "{store}"', "path = 3", "[store] path: expected a string, got 3"),
    ('[folders]', '[[folders]]', "[folders]: expected a table"),
    ('[store]', '[smtp]\nurl = "smtp://a@relay.example"\n\n[store]',
     "[smtp] from: expected a string (the key is missing)"),
    ('[store]', '[smtp]\nurl = "http://a@relay.example"\nfrom = "t@a.example"\n\n[store]',
     "[smtp] url: expected smtps://"),
    ('inbox = "INBOX"', 'inbox = "INBOX', "not valid TOML"),
    ('url = "maildir:{maildir}"', 'url = "imaps://a@mail.example"\ntimeout_seconds = 0',
     "[mailbox] timeout_seconds: expected a whole number of seconds from 5 to 3600, got 0"),
    ('[store]', '[service]\nidle_seconds = 1800\n\n[store]',
     "[service] idle_seconds: expected a whole number of seconds from 10 to 1500, got 1800"),
    ('[store]', '[service]\nidle = "yes"\n\n[store]', "[service] idle: expected true or false"),
    ('[store]', '[service]\npoll_seconds = 1.5\n\n[store]', "[service] poll_seconds: expected"),
    ('[store]', '[service]\nidel = true\n\n[store]', "[service] idel: unknown key"),
    ('[store]', '[drafts]\ncategories = ["rant"]\n\n[store]',
     "[drafts] categories: expected categories among accusation"),
    ('[store]', '[drafts]\nworking_days = ["monday", "funday"]\n\n[store]',
     '[drafts] working_days: expected day names such as ["mon", "tue", "wed"], got \'funday\''),
    ('[store]', '[drafts]\nday_starts = "9am"\n\n[store]',
     '[drafts] day_starts: expected a time of day such as "09:00"'),
    ('[store]', '[drafts]\ncooldown_hours = -1\n\n[store]',
     "[drafts] cooldown_hours: expected a number of hours from 0 to 720, got -1"),
    ('[store]', '[drafts]\ncooldown_hours_hostile = "long"\n\n[store]',
     "[drafts] cooldown_hours_hostile: expected a number of hours"),
    ('[store]', '[drafts]\nno_cooldown = ["other"]\n\n[store]',
     "[drafts] no_cooldown: expected categories among accusation"),
    ('[store]', '[drafts]\nmax_age_days = 0\n\n[store]',
     "[drafts] max_age_days: expected a whole number of days from 1 to 3650, got 0"),
    ('[store]', '[drafts]\ntemplates = "/nonexistent/replies"\n\n[store]',
     "[drafts] templates: expected the path of an existing folder"),
    ('[store]', '[drafts]\nfrom = "ana"\n\n[store]',
     "[drafts] from: expected the e-mail address drafts are written from"),
    ('[store]', '[drafts]\nfrom = "Ana <ana@agency.example>"\n\n[store]',
     "[drafts] from: expected the e-mail address drafts are written from, with no name"),
    ('[store]', '[drafts]\nworking_days = []\n\n[store]',
     "[drafts] working_days: expected at least one working day"),
    ('[store]', '[drafts]\npayment_terms = {{fr = "30 jours"}}\n\n[store]',
     "[drafts] payment_terms.fr: expected a text, under es, pt or en"),
    ('[store]', '[drafts]\nenabled = 1\n\n[store]', "[drafts] enabled: expected true or false"),
    ('[store]', '[drafts]\ncooldown = 3\n\n[store]', "[drafts] cooldown: unknown key"),
    ('[store]', '[digest]\nsend = true\n\n[store]',
     "[digest] send: mail is sent through [smtp], which is missing"),
    ('[store]', '[digest]\nweekday = "someday"\n\n[store]',
     '[digest] weekday: expected a day name such as "mon"'),
    ('[store]', '[digest]\ntime = "8"\n\n[store]',
     '[digest] time: expected a time of day such as "09:00"'),
    ('[store]', '[digest]\ndays = 0\n\n[store]',
     "[digest] days: expected a whole number of days from 1 to 92, got 0"),
    ('[store]', '[digest]\nto = ["Ana <ana@agency.example>\\r\\nBcc: x@evil.example"]\n\n[store]',
     "[digest] to: expected a list of e-mail addresses"),
    ('[store]', '[alerts]\nenabled = true\n\n[store]',
     "[alerts] enabled: mail is sent through [smtp], which is missing"),
    ('[store]', '[alerts]\nmax_per_hour = 0\n\n[store]',
     "[alerts] max_per_hour: expected a whole number of alerts from 1 to 60, got 0"),
    ('[store]', '[alerts]\nto = "boss@agency.example"\n\n[store]',
     "[alerts] to: expected a list of strings"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD, ids=[c[2][:40] for c in BAD])
def test_each_mistake_gives_one_line_naming_the_key(write_config, old, new, expected) -> None:
    assert old in MINIMAL_CONFIG
    path = write_config(MINIMAL_CONFIG.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert str(path) in message


def test_missing_mailbox_table(write_config) -> None:
    path = write_config("[provider]\nname='x'\ndomains=['a.example']\n")
    with pytest.raises(ConfigError, match=r"\[mailbox\]: this table is missing"):
        load_config(path)


def test_a_password_never_appears_in_the_error(write_config) -> None:
    path = write_config(MINIMAL_CONFIG.replace(
        'url = "maildir:{maildir}"', 'url = "imaps://ana:Sup3rS3cret@mail.example"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "Sup3rS3cret" not in str(caught.value)


def test_locate_config_prefers_flag_then_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRIAGE_CONFIG", "/from/env.toml")
    assert locate_config("/from/flag.toml") == Path("/from/flag.toml")
    assert locate_config(None) == Path("/from/env.toml")
    monkeypatch.delenv("TRIAGE_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="no configuration file: pass --config FILE"):
        locate_config(None)
    (tmp_path / "triage").mkdir()
    (tmp_path / "triage" / "triage.toml").write_text("")
    assert locate_config(None) == tmp_path / "triage" / "triage.toml"


def test_check_config_prints_ok(write_config, capsys) -> None:
    assert main(["check-config", "--config", str(write_config())]) == 0
    assert capsys.readouterr().out == "ok\n"


def test_check_config_prints_one_line_and_fails(write_config, capsys) -> None:
    path = write_config(MINIMAL_CONFIG.replace('timezone = "Europe/Madrid"', "timezone = 1"))
    assert main(["check-config", "--config", str(path)]) == 78  # EX_CONFIG
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("triage: error: ") and "[provider] timezone" in err
    assert "Traceback" not in err


def test_password_from_environment(monkeypatch) -> None:
    monkeypatch.setenv("T_PW", "s3cret")
    assert read_password(Credentials(env="T_PW"), "IMAP login") == "s3cret"
    monkeypatch.delenv("T_PW")
    with pytest.raises(SecretError, match="set the environment variable T_PW"):
        read_password(Credentials(env="T_PW"), "IMAP login")


def test_password_from_command_takes_the_first_line() -> None:
    command = f"{sys.executable} -c \"print('pw with spaces'); print('second')\""
    assert read_password(Credentials(command=command), "IMAP login") == "pw with spaces"


@pytest.mark.parametrize(("script", "reason"), [
    ("import sys; print('leaked-secret'); sys.exit(3)", "exited with 3"),
    ("pass", "printed nothing"),
])
def test_password_command_failures_do_not_echo_output(script: str, reason: str) -> None:
    command = f'{sys.executable} -c "{script}"'
    with pytest.raises(SecretError) as caught:
        read_password(Credentials(command=command), "IMAP login ana@mail.example")
    assert reason in str(caught.value)
    assert "leaked-secret" not in str(caught.value)


def test_password_command_that_does_not_exist() -> None:
    with pytest.raises(SecretError, match="the password command failed"):
        read_password(Credentials(command="/nonexistent/pw-helper"), "IMAP login")


def test_environment_is_not_needed_to_load(write_config) -> None:
    # Loading checks the file only; the password is read when it is needed.
    assert "TRIAGE_IMAP_PASSWORD" not in os.environ
    text = MINIMAL_CONFIG.replace('url = "maildir:{maildir}"', 'url = "imaps://a@mail.example"')
    assert load_config(write_config(text)).mailbox.credentials.env == "TRIAGE_IMAP_PASSWORD"
