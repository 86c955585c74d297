"""Configuration: the documented shape loads, and every mistake is one clear line."""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import MINIMAL_CONFIG, REPO, make_maildir
from smtpserver import make_certificate

from triage import config as config_module
from triage.cli import main
from triage.config import SCHEMA, Credentials, load_config, locate_config, read_password
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


@pytest.fixture(scope="module")
def ca_pem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real PEM certificate: a ca_file is read when the configuration is."""
    return make_certificate(tmp_path_factory.mktemp("ca"))[0]


def test_the_minimal_shape_from_the_design_loads(tmp_path: Path, ca_pem: Path) -> None:
    ca = ca_pem
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
    default = load_config(write_config()).service
    assert default.idle_seconds == 600
    assert default.processes == min(2, os.cpu_count() or 1)
    custom = load_config(write_config(MINIMAL_CONFIG + """
[service]
idle = false
poll_seconds = 15
notices_seconds = 900
processes = 1
"""))
    assert (custom.service.idle, custom.service.poll_seconds,
            custom.service.notices_seconds, custom.service.processes) == (False, 15, 900, 1)


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
    ('drafts = "Drafts"', 'drafts = ""', "[folders] drafts: expected a non-empty string"),
    ('timezone = "Europe/Madrid"', 'timezone = "Mars/Olympus"',
     '[provider] timezone: expected an IANA time zone'),
    ('addresses = ["ana@agency.example", "billing@agency.example"]', 'addresses = ["ana"]',
     "[provider] addresses: expected a list of e-mail addresses"),
    ('name = "Ana Ruiz, Web Agency"', "",
     "[provider] name: expected a string (the key is missing)"),
    ('[provider]', '[provider]\nlanguage = "fr"',
     "[provider] language: expected one of es, pt, en"),
    ('[store]', '[storage]', "[storage]: unknown table; did you mean store?"),
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
     "[drafts] payment_terms.fr: expected texts under es, pt or en only, got 'fr'"),
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
     "[digest] to: expected a list of non-empty strings of one line each"),
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


@pytest.mark.parametrize("url", [
    "imaps://ana:Sup3rS3cret@mail.example", "imaps://ana:Sup3rS3cret@mail.example:99999",
    "imaps://ana:Sup3rS3cret@mail.example/INBOX", "imaps://ana:Sup3rS3cret@[::1",
    "ftp://ana:Sup3rS3cret@mail.example", "imaps://ana:Sup3rS3cret@mail example"])
def test_a_password_never_appears_in_the_error(write_config, url: str) -> None:
    path = write_config(MINIMAL_CONFIG.replace('url = "maildir:{maildir}"', f'url = "{url}"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "Sup3rS3cret" not in str(caught.value)
    assert "[mailbox] url: expected" in str(caught.value)


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


def test_check_config_prints_ok(write_config, tmp_path: Path, capsys) -> None:
    make_maildir(tmp_path / "Maildir")
    assert main(["check-config", "--config", str(write_config())]) == 0
    assert capsys.readouterr().out == (f"ok: maildir:{tmp_path / 'Maildir'} reached, folders "
                                       "INBOX, Sent, Billing found\n")


def test_check_config_offline_reads_the_file_only(write_config, capsys) -> None:
    # No mailbox at all: --offline never looks for it.
    assert main(["check-config", "--offline", "--config", str(write_config())]) == 0
    assert capsys.readouterr().out == "ok\n"


@pytest.mark.parametrize("folder,key", [("Sent", "sent"), ("Billing", "notices")])
def test_check_config_names_the_key_of_a_missing_folder(
        write_config, tmp_path: Path, capsys, folder: str, key: str) -> None:
    make_maildir(tmp_path / "Maildir", tuple(f for f in ("Sent", "Billing") if f != folder))
    path = write_config()
    assert main(["check-config", "--config", str(path)]) == 78
    err = capsys.readouterr().err
    assert err == (f"triage: error: folder {folder!r} does not exist in maildir:"
                   f"{tmp_path / 'Maildir'}; check [folders] {key} in {path}\n")


def test_check_config_says_when_the_password_cannot_be_read(
        write_config, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRIAGE_IMAP_PASSWORD", raising=False)
    text = MINIMAL_CONFIG.replace('url = "maildir:{maildir}"',
                                  'url = "imaps://ana@mail.agency.example"')
    assert main(["check-config", "--config", str(write_config(text))]) == 78
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "TRIAGE_IMAP_PASSWORD" in err


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


def test_a_password_command_that_cannot_run_or_hangs_is_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "pw.sh"
    script.write_text("#!/bin/sh\necho secret\n")
    script.chmod(0o600)  # not executable, even by root
    monkeypatch.setattr(config_module, "_PASSWORD_COMMAND_TIMEOUT", 0.5)
    cases = [(str(script), "the password command failed (Permission denied)"),
             (str(tmp_path), "the password command failed (Permission denied)"),
             (f'{sys.executable} -c "import time; time.sleep(30)"',
              "the password command failed (it did not finish in 0.5 s)"),
             (f'{sys.executable} -c "import sys; sys.exit(2)"',
              "the password command exited with 2; run it yourself to see why")]
    for command, expected in cases:
        with pytest.raises(SecretError) as caught:
            read_password(Credentials(command=command), "IMAP login ana@mail.example")
        assert str(caught.value) == "no password for the IMAP login ana@mail.example: " + expected


def test_a_failing_password_command_is_one_line_from_the_command_line(
        write_config, capsys: pytest.CaptureFixture[str]) -> None:
    # The file itself is fine; the password command fails whenever it is run.
    path = write_config(MINIMAL_CONFIG + f"""
[smtp]
url = "smtp://triage@127.0.0.1:9"
tls = "none"
from = "triage@agency.example"
password_command = '{sys.executable} -c "print(1234); import sys; sys.exit(5)"'
""")
    assert main(["check-config", "--offline", "--config", str(path)]) == 0
    capsys.readouterr()
    failure = ("triage: error: no password for the SMTP login triage@127.0.0.1: the "
               "password command exited with 5; run it yourself to see why\n")
    # check-config reads it, as the service does at start; the digest too.
    assert main(["check-config", "--config", str(path)]) == 78
    assert capsys.readouterr().err == failure
    assert main(["digest", "--config", str(path), "--send", "--end", "2026-11-23T08:00"]) == 78
    assert capsys.readouterr().err == failure


def test_environment_is_not_needed_to_load(write_config) -> None:
    # Loading checks the file only; the password is read when it is needed.
    assert "TRIAGE_IMAP_PASSWORD" not in os.environ
    text = MINIMAL_CONFIG.replace('url = "maildir:{maildir}"', 'url = "imaps://a@mail.example"')
    assert load_config(write_config(text)).mailbox.credentials.env == "TRIAGE_IMAP_PASSWORD"


# --- Every key of the schema, wrong in every way it can be -----------------------------
#
# The cases below are made from triage.example.toml with its commented-out keys and tables
# turned on, and checked against config.SCHEMA: a key added to the schema fails
# test_the_full_example_documents_every_key_of_the_schema until the example shows it, and
# test_every_key_says_how_it_can_be_malformed until MALFORMED lists it; from then on its
# wrong type, misspelling, syntax error and repetition are tested without more work.

EXAMPLE = REPO / "triage.example.toml"
# The example shows optional keys and tables as comments: "# key = value", "# [table]".
COMMENTED = re.compile(r"# ?(\[\w+\]|\w+ = .*)")
# Keys the example shows as alternatives: the full configuration keeps the one it names.
ALTERNATIVES = {"password_command": "password_env"}
# Placeholders for paths of this machine (the example's point at the author's).
CA, FOLDER, NOT_PEM, MISSING, UNDER_FILE = ("<ca>", "<folder>", "<not-pem>", "<missing>",
                                            "<under-a-file>")
LOCAL = {("mailbox", "ca_file"): CA, ("smtp", "ca_file"): CA, ("drafts", "templates"): FOLDER,
         ("store", "path"): "state/triage.db"}
# Values wrong for each key beyond their type; generic mistakes (an empty string, a line
# break, a negative or huge number...) are tried on every key of their type besides.
MALFORMED: dict[tuple[str, str], tuple[object, ...]] = {
    ("mailbox", "url"): (
        "imaps://ana@mail.agency.example:99999", "imaps://ana@mail.agency.example:0",
        "imaps://ana@mail.agency.example:port", "imaps://mail.agency.example",
        "ftp://ana@mail.agency.example", "imaps://ana@mail.agency.example/INBOX",
        "imaps://ana@mail agency.example", "imaps://ana@-mail.agency.example", "maildir:",
        "maildir:~nosuchuser-triage/Mail",
        "mail.agency.example"),
    ("mailbox", "password_env"): ("MY PASSWORD", "1PASSWORD", "hunter2!"),
    ("mailbox", "password_command"): ('pass "show mail/ana',),
    ("mailbox", "tls"): ("ssl", "none", "STARTTLS"),
    ("mailbox", "ca_file"): (MISSING, FOLDER, NOT_PEM),
    ("mailbox", "timeout_seconds"): (0, 4, 3601, 60.5),
    ("folders", "inbox"): ("Sent", "Drafts"),
    ("folders", "sent"): ("INBOX", "inbox", "Drafts"),
    ("folders", "drafts"): ("INBOX", "Sent", "Billing"),
    ("folders", "notices"): (["INBOX"], ["Drafts"], ["Sent"]),
    ("provider", "name"): (),  # free text on one line
    ("provider", "addresses"): (["ana"], ["ana@"], ["@agency.example"],
                                ["Ana <ana@agency.example>"], ["ana@agency..example"],
                                ["ana@agency.example, billing@agency.example"]),
    ("provider", "domains"): (["agency example"], ["https://agency.example"],
                              ["-agency.example"], ["agency..example"]),
    ("provider", "timezone"): ("Mars/Olympus", "Europe", "Europe/", "+02:00", "CEST",
                               "/etc/localtime", "../../etc/passwd", "Europe/" + "x" * 300),
    ("provider", "language"): ("fr", "ES", "spanish"),
    ("provider", "signature"): (),  # free text, empty or of many lines
    ("store", "path"): (FOLDER, UNDER_FILE, "~nosuchuser-triage/triage.db"),
    ("service", "idle"): (),
    ("service", "idle_seconds"): (0, 9, 1501, 600.5),
    ("service", "poll_seconds"): (0, 3601, 1.5),
    ("service", "notices_seconds"): (9, 86401),
    ("service", "processes"): (0, 3, 1.5),
    ("drafts", "enabled"): (),
    ("drafts", "categories"): (["rant"], ["other"], ["Accusation"]),
    ("drafts", "working_days"): (["funday"], ["monkey"], ["mo"], ["mon", "7"], []),
    ("drafts", "day_starts"): ("24:00", "9", "09:60", "9am", "09:00:00", "-1:00"),
    ("drafts", "cooldown_hours"): (720.5, float("nan"), float("inf")),
    ("drafts", "cooldown_hours_hostile"): (721, float("-inf")),
    ("drafts", "no_cooldown"): (["rant"], ["other"]),
    ("drafts", "max_age_days"): (0, 3651, 1.5),
    ("drafts", "from"): ("ana", "ana@", "Ana <ana@agency.example>",
                         "ana@agency.example, billing@agency.example"),
    ("drafts", "templates"): (MISSING, NOT_PEM),
    ("drafts", "payment_terms"): ({"fr": "30 jours"}, {"en": ["30 days"]}),
    ("drafts", "scope_terms"): ({"de": "zwei Runden"},),
    ("smtp", "url"): ("smtps://ana@smtp.agency.example:70000", "http://ana@smtp.agency.example",
                      "smtps://smtp.agency.example", "smtps://ana@smtp.agency.example/x",
                      "smtps://ana:secret@smtp.agency.example", "imaps://ana@smtp.agency.example"),
    ("smtp", "from"): ("triage", "Triage <triage@agency.example>", "triage@"),
    ("smtp", "password_env"): ("MY PASSWORD",),
    ("smtp", "password_command"): ("pass 'show",),
    ("smtp", "tls"): ("ssl", "none"),
    ("smtp", "login"): (),
    ("smtp", "ca_file"): (MISSING, NOT_PEM),
    ("digest", "send"): (),
    ("digest", "to"): (["ana"], [], ["Ana <ana@agency.example>"]),
    ("digest", "weekday"): ("someday", "monkey", "m", "1"),
    ("digest", "time"): ("8", "25:00", "08:00 pm"),
    ("digest", "days"): (0, 93),
    ("alerts", "enabled"): (),
    ("alerts", "to"): (["boss"], []),
    ("alerts", "max_per_hour"): (0, 61),
    ("alerts", "max_age_hours"): (0, 721),
    ("corrections", "enabled"): (),
    ("corrections", "create_folders"): (),
    ("corrections", "folders"): ({"acusation": "Triage/A"}, {"other": "Sent"},
                                 {"other": "Triage/Accusation"}, {"other": ""},
                                 {"other": 3}, {"other": "a\nb"}),
    ("corrections", "keywords"): ({"other": "not a keyword"}, {"other": "triage_accusation"},
                                  {"oter": "x"}, {"other": "(x)"}),
    ("corrections", "retrain"): (),
    ("corrections", "retrain_at"): ("3am", "24:00"),
    ("corrections", "weight"): (0, 1001, True),
    ("corrections", "tolerance"): (-0.1, 0.6),
}
MULTILINE = {("provider", "signature")}  # the one key where any text, even none, is right


@functools.cache
def full_example() -> dict[str, dict[str, Any]]:
    """The example file with every commented-out key and table turned on."""
    lines = [found.group(1) if (found := COMMENTED.fullmatch(line)) else line
             for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    return tomllib.loads("\n".join(lines))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # nan, inf and -inf are TOML as Python writes them
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"


@dataclass(frozen=True)
class Mistake:
    """One key wrong in one way: ``value`` replaces it, or ``how`` says what else."""

    table: str
    key: str
    how: str  # "value", "misspelled", "syntax", "unclosed" or "twice"
    value: object = None
    spelling: str = ""

    def __str__(self) -> str:
        shown = toml_value(self.value)[:40] if self.how == "value" else self.spelling
        return f"[{self.table}] {self.key} {self.how} {shown}".strip()


def example_lines(places: dict[str, str], mistake: Mistake | None = None) -> list[str]:
    """The full example as TOML lines, with local paths and ``mistake`` in it."""
    wrong = (mistake.table, mistake.key) if mistake else None
    out = []
    for table, values in full_example().items():
        values = {key: LOCAL.get((table, key), value) for key, value in values.items()}
        for key, instead in ALTERNATIVES.items():
            if instead in values and key in values:
                del values[instead if (table, key) == wrong else key]
        out.append(f"[{table}]")
        for key, value in values.items():
            line = f"{key} = {toml_value(places.get(str(value), value))}"
            if mistake and (table, key) == wrong:
                if mistake.how == "value":
                    line = f"{key} = {toml_value(places.get(str(mistake.value), mistake.value))}"
                elif mistake.how == "misspelled":
                    line = mistake.spelling + line[len(key):]
                elif mistake.how == "syntax":
                    line = line.replace(" = ", " ", 1)
                elif mistake.how == "unclosed":
                    line = line[:-1]
                else:
                    out.append(line)  # twice
            out.append(line)
        out.append("")
    return out


def generic_values(value: object, table: str, key: str) -> list[object]:
    """Mistakes any key with a value of this type can be given."""
    if isinstance(value, bool):
        return ["yes", 1]
    if isinstance(value, int | float):
        return ["seven", True, -1, 10**9]
    if isinstance(value, str):
        one_line = [] if (table, key) in MULTILINE else ["", "   ", "two\nlines", "tab\there"]
        return [7, ["a list"], *one_line]
    if isinstance(value, list):
        return ["a string", [7], [""], ["two\nlines"]]
    assert isinstance(value, dict)
    return ["a string", {"xx": "a text"}, {"es": 7}, {"es": ""}]


def misspellings(key: str) -> list[str]:
    middle = len(key) // 2
    return [key[:middle] + key[middle] + key[middle:], key.capitalize()]


def all_mistakes() -> list[Mistake]:
    cases = []
    for table, values in full_example().items():
        for key, value in values.items():
            for wrong in [*generic_values(value, table, key), *MALFORMED.get((table, key), ())]:
                cases.append(Mistake(table, key, "value", wrong))
            cases += [Mistake(table, key, "misspelled", spelling=s) for s in misspellings(key)]
            cases += [Mistake(table, key, how) for how in ("syntax", "twice")]
            if isinstance(value, str):
                cases.append(Mistake(table, key, "unclosed"))
    return cases


MISTAKES = all_mistakes()


@pytest.fixture(scope="module")
def places(ca_pem: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What the placeholders stand for on this machine."""
    folder = tmp_path_factory.mktemp("places")
    (folder / "replies").mkdir()
    (folder / "notes.txt").write_text("not a certificate\n")
    return {CA: str(ca_pem), FOLDER: str(folder / "replies"), NOT_PEM: str(folder / "notes.txt"),
            MISSING: str(folder / "missing"), UNDER_FILE: str(folder / "notes.txt" / "t.db")}


def test_the_full_example_documents_every_key_of_the_schema() -> None:
    documented = {(table, key) for table, values in full_example().items() for key in values}
    assert documented == {(table, key) for table, keys in SCHEMA.items() for key in keys}


def test_every_key_says_how_it_can_be_malformed() -> None:
    assert set(MALFORMED) == {(table, key) for table, keys in SCHEMA.items() for key in keys}


def test_the_full_example_loads(tmp_path: Path, places: dict[str, str]) -> None:
    path = tmp_path / "full.toml"
    path.write_text("\n".join(example_lines(places)), encoding="utf-8")
    config = load_config(path)
    assert config.smtp is not None and config.smtp.credentials == Credentials(
        env="TRIAGE_SMTP_PASSWORD")
    assert config.mailbox.ca_file == Path(places[CA])
    assert config.drafts.templates == Path(places[FOLDER])
    assert config.alerts.to == ("ana@agency.example",)


@pytest.mark.parametrize("mistake", MISTAKES, ids=str)
def test_every_key_wrong_in_turn_is_one_line_naming_it(
        mistake: Mistake, tmp_path: Path, places: dict[str, str],
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "triage.toml"
    path.write_text("\n".join(example_lines(places, mistake)), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    if mistake.how == "misspelled":
        assert f"[{mistake.table}] {mistake.spelling}: unknown key; did you mean " \
               f"{mistake.key}? (expected one of: " in message
    else:
        assert f"[{mistake.table}] {mistake.key}" in message
        assert "expected " in message
    if mistake.key in ("password_env", "password_command") and isinstance(mistake.value, str) \
            and mistake.value.strip():
        # The value may be a password typed in the wrong place.
        assert mistake.value.strip() not in message.removeprefix(f"{path}: ")
    assert main(["check-config", "--config", str(path)]) == 78
    assert capsys.readouterr().err == f"triage: error: {message}\n"


@pytest.mark.parametrize("table", list(SCHEMA))
def test_a_misspelled_table_is_named_with_the_nearest(table: str, tmp_path: Path,
                                                       places: dict[str, str]) -> None:
    wrong = table[:-1]
    text = "\n".join(example_lines(places)).replace(f"[{table}]", f"[{wrong}]")
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(
            f"[{wrong}]: unknown table; did you mean {table}? (expected one of: mailbox,")):
        load_config(path)


@pytest.mark.parametrize(("text", "expected"), [
    ('url = "imaps://a@mail.example"\n[mailbox]\n',
     "url: a key outside any table; expected it under [mailbox] or [smtp]"),
    ("colour = 1\n", "colour: a key outside any table; expected it under a table"),
    ("[drafts]\nenabled = true\n[drafts]\nenabled = false\n",
     "[drafts] (line 3): expected each table once; this line declares it again"),
    ('[provider]\nname = "Ana"\nname = "Ana"', "[provider] name (line 3): expected each key once"),
    ('[provider]\nname = "Ana"\n\naddresses = [\n  "a@b.example",\n  "c@d.example" "e"]\n\n',
     '[provider] addresses (line 6): not valid TOML (Unclosed array); expected key = value'),
    ('[provider]\nname = "Ana\n', '[provider] name (line 2): not valid TOML (Illegal'),
    ("[provider\n", "[provider] (line 1): not valid TOML"),
    ("= 3\n", "line 1: not valid TOML (Invalid statement)"),
])
def test_syntax_and_place_mistakes_name_where_they_are(write_config, text: str,
                                                       expected: str) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: {expected}")
    assert "\n" not in str(caught.value)
