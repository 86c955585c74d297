"""The ``triage`` command: argument parsing, logging set-up and exit codes.

Each sub-command is built in three steps: parse the arguments, load and check
the configuration, then act. Every ``TriageError`` becomes one line on stderr
and a non-zero exit status: 78 when the configuration or a password is wrong,
77 when the mail server refused the login (both need a person; a service
manager should not restart on them), 1 for anything else. A wrong command line
is status 2; Ctrl-C is 130.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import logging
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from zoneinfo import ZoneInfo

from tqdm import tqdm

from triage import __version__
from triage.config import Config, load_config, locate_config, read_password
from triage.corpus import REPO_CORPUS, corpus_paths
from triage.errors import (
    ConfigError,
    MailboxAuthError,
    MissingFolderError,
    SecretError,
    TriageError,
    UsageError,
)
from triage.export import export_rows, write_csv, write_file, write_jsonl
from triage.files import exclusive_lock, private_folder, write_private
from triage.ingest import Progress, folder_error, ingest
from triage.mailbox import ImapMailbox, Mailbox, MaildirMailbox
from triage.message import Kind
from triage.show import as_json, gather, printable, render
from triage.store import Store

if TYPE_CHECKING:
    from triage.classify import MessageClassifier
    from triage.drafting import DraftReport
    from triage.evidence import EvidenceFinder
    from triage.reports import Reporter
    from triage.workers import Helper

log = logging.getLogger("triage")

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_REFUSED, EXIT_CONFIG = 77, 78  # sysexits.h EX_NOPERM and EX_CONFIG
BENCH_RESULTS = Path(__file__).resolve().parent.parent / "bench" / "results"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triage",
        description=(
            "Sort difficult client mail (accusations, payment excuses, scope creep, genuine "
            "faults), find the notices already sent that answer it, and leave calm reply "
            "drafts for a person to review. Reads the mailbox; never sends, moves or "
            "deletes client mail."
        ),
        epilog="Every command reads --config FILE, else $TRIAGE_CONFIG, else "
        "~/.config/triage/triage.toml. See triage.example.toml for the keys.",
    )
    parser.add_argument("--version", action="version", version=f"triage {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str, action: Callable[[argparse.Namespace], int],
                config: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if config:
            sub.add_argument("--config", metavar="FILE", help="the configuration file (TOML)")
        sub.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
        sub.add_argument("-q", "--quiet", action="store_true", help="log only problems")
        sub.add_argument("--log-format", choices=("text", "json"), default="text",
                         help="log lines as text (default) or one JSON object per line")
        sub.set_defaults(action=action)
        return sub

    check = command(
        "check-config",
        "Check the configuration: read the file, get the passwords (from the environment "
        "or the password command), log in to the mailbox and look for every folder it "
        "names; print 'ok' or the first mistake.", cmd_check_config)
    check.add_argument("--offline", action="store_true",
                       help="check the file only: no passwords, no login")
    sub = command("run", "Run the service: read new mail as it arrives (IMAP IDLE, or "
                  "polling), classify every client message and store the verdict. Runs "
                  "until SIGTERM or Ctrl-C; reconnects by itself after an outage.", cmd_run)
    sub.add_argument("--once", action="store_true",
                     help="read every folder once, triage what is new, and exit")
    sub.add_argument("--dry-run", action="store_true",
                     help="change nothing in the mailbox: drafts are planned in the state "
                     "database but none is appended to Drafts")
    sub.add_argument("--now", metavar="TIME", type=moment,
                     help="with --once: say how many drafts would be due at TIME (ISO 8601, "
                     "e.g. 2026-12-01T09:00; without an offset, in the provider's time zone); "
                     "mail is read and stored as usual, but no draft is planned or appended")
    sub = command("demo", "Run the whole pipeline on the bundled demo mailbox (a copy of it, "
                  "in a new folder): triage, evidence, and reply drafts with the clock set "
                  "to the demo's Monday morning, then show what was found.", cmd_demo,
                  config=False)
    sub.add_argument("--dir", metavar="DIR",
                     help="copy the demo mailbox and keep the state here (a new or empty "
                     "folder; default: a new temporary folder)")
    sub.add_argument("--now", metavar="TIME", type=moment,
                     help="act as if it were TIME (default 2026-11-23T09:00, Madrid time)")
    sub = command("digest", "Build the digest of hostile threads for a period (default: "
                  "the last 7 days): print its text, write its HTML to a file, or send it "
                  "through [smtp]. Reads only the state database.", cmd_digest)
    sub.add_argument("--out", metavar="FILE.html",
                     help="write the HTML digest (with its chart) to this file")
    sub.add_argument("--send", action="store_true",
                     help="send it to [digest] to (default: your first [provider] address) "
                     "through [smtp]")
    sub.add_argument("--days", type=int, metavar="N",
                     help="the period's length in days (default: [digest] days, 7)")
    sub.add_argument("--end", metavar="TIME", type=moment,
                     help="the period's end (ISO 8601; default: now; without an offset, in "
                     "the provider's time zone)")
    sub = command("ingest", "Read new mail from every configured folder into the state "
                  "database and classify the clients' messages, with a progress bar. "
                  "Running it again reads only what is new.", cmd_ingest)
    sub.add_argument("--no-progress", action="store_true", help="no progress bar")
    sub = command("export", "Write one row per stored message (JSON Lines or CSV).", cmd_export)
    sub.add_argument("--format", choices=("jsonl", "csv"), default="jsonl",
                     help="output format (default: jsonl)")
    sub.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    sub = command("show", "Show one stored message with its thread and the evidence found "
                  "for it: the notices already sent to this client that answer it, and the "
                  "ones worth a look that the search was not sure enough to cite.", cmd_show)
    sub.add_argument("message_id", metavar="MESSAGE_ID",
                     help="the message's Message-ID, with or without <>")
    sub.add_argument("--json", action="store_true", help="print it as one JSON object")
    sub = command("list", "Show the stored messages, newest first, one line each: a client's "
                  "message with its category and hostility (0-3), others by kind.", cmd_list)
    sub.add_argument("--limit", type=int, default=50, metavar="N",
                     help="show at most N messages (default 50; 0 for all)")
    sub.add_argument("--kind", choices=[k.value for k in Kind], action="append",
                     help="show only this kind of message (repeatable)")

    sub = command("classify", "Classify .eml files, folders of them, or a Maildir, with no "
                  "configuration needed: language, category, confidence, hostility.",
                  cmd_classify, config=False)
    sub.add_argument("paths", nargs="+", metavar="PATH", help=".eml file, folder or Maildir")
    sub.add_argument("--json", action="store_true", help="one JSON object per line")
    source = sub.add_mutually_exclusive_group()
    source.add_argument("--model", metavar="DIR", help="model folder (default: the shipped one)")
    source.add_argument("--config", metavar="FILE",
                        help="use the model in use for this configuration (retrained on its "
                        "corrections by 'triage retrain')")
    sub = command("train", "Train the model from the labelled corpus; measure it on the "
                  "held-out groups; write the model, its manifest and its card.", cmd_train,
                  config=False)
    sub.add_argument("--corpus", metavar="PATH", nargs="+",
                     help="corpus .jsonl files or folders (default: corpus/ of the repository)")
    sub.add_argument("--out", metavar="DIR", help="model folder (default: the shipped one)")
    sub = command("evaluate", "Measure the model on the held-out groups of the corpus (or on "
                  "the external test set): precision, recall, F1, confusion, hostility.",
                  cmd_evaluate, config=False)
    sub.add_argument("--corpus", metavar="PATH", nargs="+",
                     help="corpus .jsonl files or folders (default: corpus/ of the repository)")
    sub.add_argument("--external", action="store_true",
                     help="measure on corpus/external/, messages never used in training")
    sub.add_argument("--model", metavar="DIR", help="model folder (default: the shipped one)")
    sub.add_argument("--json", action="store_true", help="print the figures as JSON")
    sub = command("retrain", "Fit a new model on the corpus plus the categories you corrected "
                  "(each correction counts as [corrections] weight corpus messages), measure "
                  "it and the model in use on the corpus's held-out groups, and put the new "
                  "one in use unless its macro-F1 falls more than [corrections] tolerance "
                  "below that of the model in use or of the shipped model. "
                  "The model it replaces is kept for 'triage rollback'. Does nothing when "
                  "there is no new correction since the last retraining. Takes about 30 s "
                  "and 0.8 GB of memory.", cmd_retrain)
    sub.add_argument("--corpus", metavar="PATH", nargs="+",
                     help="corpus .jsonl files or folders (default: corpus/ of the repository)")
    sub.add_argument("--force", action="store_true",
                     help="retrain even with no new correction (e.g. after changing "
                     "[corrections] weight or tolerance)")
    command("rollback", "Go back to the model in use before the last retraining (or, with "
            "none left, to the shipped model), and say which one is in use now. Retraining "
            "starts again only with new corrections.", cmd_rollback)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(verbose=args.verbose, quiet=args.quiet, json_lines=args.log_format == "json")
    # Commands that need no configuration file have no --config.
    args.config = getattr(args, "config", None)
    try:
        result: int = args.action(args)
        return result
    except TriageError as exc:
        print(f"triage: error: {exc}", file=sys.stderr)
        if isinstance(exc, MailboxAuthError):
            return EXIT_REFUSED
        if isinstance(exc, UsageError):
            return EXIT_USAGE
        if isinstance(exc, ConfigError | SecretError | MissingFolderError):
            return EXIT_CONFIG
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("triage: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


_handler: logging.Handler | None = None


class JsonLines(logging.Formatter):
    """One JSON object per log record: time, level, logger, message and, for a
    triaged message, its fields (sender, category, hostility...)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "triage", None)
        if isinstance(fields, dict):
            entry.update(fields)
        return json.dumps(entry, ensure_ascii=False)


def no_mail_trace(record: logging.LogRecord) -> bool:
    """Keep the mail out of the log, also with -v: imaplib's debug trace (which
    imapclient logs as "imapclient.imaplib") prints every answer of the server in
    full, message bodies included. Only the commands sent are kept; imapclient has
    already replaced a LOGIN's password in them with **REDACTED**."""
    return (record.name != "imapclient.imaplib" or record.levelno > logging.DEBUG
            or record.getMessage().startswith("> "))


def setup_logging(verbose: bool = False, quiet: bool = False, json_lines: bool = False) -> None:
    """Log to stderr; calling it again replaces only the handler it installed."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(sys.stderr)
    _handler.addFilter(no_mail_trace)
    _handler.setFormatter(JsonLines() if json_lines else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S"))
    root.addHandler(_handler)
    root.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    # mail-parser reports every MIME part it does not render; that is not news.
    logging.getLogger("mailparser").setLevel(logging.ERROR)
    # matplotlib says when it builds its font cache; that is not news either.
    logging.getLogger("matplotlib").setLevel(logging.WARNING)


def load(args: argparse.Namespace) -> Config:
    return load_config(locate_config(args.config))


def output_file(value: str) -> Path:
    """A file the user named for a command's output. Its folder is made when missing,
    readable by its owner only, and the user is told (a typo in the path should not
    go unnoticed)."""
    path = Path(value)
    if not path.parent.exists():
        try:
            private_folder(path.parent)
        except OSError as exc:
            raise TriageError(f"cannot make the folder {path.parent}: "
                              f"{exc.strerror or exc}") from None
        log.info("made the folder %s (readable by you only) for %s", path.parent, path.name)
    return path


def mailbox_opener(config: Config, store: Store) -> Callable[[], Mailbox]:
    """A function that opens the configured mailbox (again, after an outage).
    The IMAP password is read once, here, and kept only in memory."""
    box = config.mailbox
    if box.is_maildir:
        assert box.path is not None
        path = box.path
        return lambda: MaildirMailbox(path, registry=store)
    password = read_password(box.credentials, f"IMAP login {box.user}@{box.host}")
    return lambda: ImapMailbox(box, password, timeout=box.timeout)


def open_classifier(config: Config) -> MessageClassifier:
    """The model in use for ``config``: the last one 'triage retrain' kept, else the
    shipped one."""
    # Imported here: the models' libraries take a moment to load, and only
    # the commands that classify need them.
    from triage.classify import MessageClassifier
    from triage.retraining import load_active

    return MessageClassifier(load_active(config))


def reporter(config: Config, store: Store) -> Reporter | None:
    """The weekly digest and alerts, when the config turns either on."""
    if not (config.digest.send or config.alerts.enabled) or config.smtp is None:
        return None
    from triage import outbox
    from triage.reports import Reporter

    return Reporter(config, store, outbox.Outbox(config.smtp).send)


def open_evidence() -> EvidenceFinder:
    from triage.evidence import EvidenceFinder

    return EvidenceFinder()


def helper_for(config: Config, classifier: MessageClassifier, finder: EvidenceFinder
               ) -> Helper | None:
    """With ``[service] processes = 2``, a helper process (forked from this one, with
    the model already loaded) that reads, classifies and searches half of each large
    batch. It opens a connection of its own to the store, and only reads from it."""
    if config.service.processes < 2:
        return None
    from triage.ingest import read_fetched
    from triage.workers import Helper

    opened: list[Store] = []

    def search(rows: Sequence[int]) -> list[Any]:
        return finder.search(opened[0], rows)

    return Helper({"read": functools.partial(read_fetched, config),
                   "classify": classifier.classifications, "evidence": search},
                  after_fork=lambda: opened.append(Store(config.store.path)))


def moment(text: str) -> datetime:
    """``--now``: an ISO 8601 date and time; a naive one is completed later with the
    provider's time zone."""
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date and time, e.g. 2026-12-01T09:00 or "
            "2026-12-01T09:00+01:00") from None


def cmd_run(args: argparse.Namespace) -> int:
    from triage.corrections import Corrector
    from triage.daemon import Service
    from triage.drafting import Drafter
    from triage.retraining import QuietHours

    if args.now is not None and not args.once:
        raise UsageError("--now needs --once: the service itself always runs on the real clock")
    config = load(args)
    clock = None
    if args.now is not None:
        fixed: datetime = config.local(args.now)

        def clock() -> datetime:
            return fixed

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("%s received: stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        with exclusive(config.store.path), Store(config.store.path) as store:
            # The passwords first: a failing password command is said at once, not
            # after the model's seconds of loading (or at the first digest).
            opener, reports = mailbox_opener(config, store), reporter(config, store)
            classifier, finder = open_classifier(config), open_evidence()
            helper = helper_for(config, classifier, finder)

            def reload() -> tuple[MessageClassifier, Helper | None]:
                """A retrained model was kept: use it, in a new helper process too."""
                if service.helper is not None:
                    service.helper.close()
                fresh = open_classifier(config)
                return fresh, helper_for(config, fresh, finder)

            # --dry-run: no draft is appended and no corrected message put back.
            service = Service(config, store, classifier, opener,
                              stop=stop, evidence=finder,
                              drafter=Drafter(config, store), clock=clock,
                              dry_run=args.dry_run, preview=args.now is not None,
                              reporter=reports, helper=helper,
                              corrector=Corrector(config, store),
                              retrainer=QuietHours(config, store, reload))
            try:
                report = service.run_once() if args.once else service.run_forever()
            finally:
                if service.helper is not None:  # the one in use (retraining replaces it)
                    service.helper.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if args.once:
        print(f"{report.added} new messages stored, {report.triaged} client messages "
              f"triaged ({report.unreadable} unreadable) in {config.store.path}")
        if args.now is not None:
            print(f"{report.drafts.due} drafts would be due at "
                  f"{args.now.isoformat(timespec='minutes')} (--now: no draft planned or "
                  "appended)")
        else:
            print(drafts_summary(report.drafts, args.dry_run))
        corrected = report.corrections
        if corrected.recorded or corrected.moved_back or corrected.removed or corrected.left:
            print(f"{corrected.recorded} corrections recorded, {corrected.moved_back} corrected "
                  "messages put back" + (f", {corrected.left} left in a correction folder "
                                          "(see the log)" if corrected.left else ""))
        sent = report.reports
        if sent.digests or sent.alerts or sent.failed:
            print(f"{sent.digests} digests and {sent.alerts} alerts sent"
                  + (f", {sent.failed} not sent (see the log)" if sent.failed else ""))
    return EXIT_OK


@contextlib.contextmanager
def exclusive(store: Path) -> Iterator[None]:
    """One ``triage run`` per state database at a time: two would both append the
    same due draft."""
    with exclusive_lock(store.with_name(store.name + ".lock"), TriageError(
            f"another 'triage run' is using the state database {store}; stop it first (or "
            "use --config with another store)")):
        yield


def drafts_summary(drafts: DraftReport, dry_run: bool) -> str:
    parts = [f"{drafts.planned} drafts planned"]
    if drafts.rebuilt:
        parts.append(f"{drafts.rebuilt} rebuilt")
    if drafts.cancelled:
        parts.append(f"{drafts.cancelled} cancelled")
    if dry_run:
        parts.append(f"{drafts.due} due but not appended (dry run: the mailbox was not "
                     "changed)")
    else:
        parts.append(f"{drafts.appended + drafts.recovered} appended to Drafts")
    if drafts.held:
        parts.append(f"{drafts.held} held back (see the log)")
    if drafts.failed:
        parts.append(f"{drafts.failed} refused by the server, to be tried again (see the log)")
    return ", ".join(parts)


def cmd_demo(args: argparse.Namespace) -> int:
    from triage import demo
    from triage.daemon import Service
    from triage.drafting import Drafter

    config = demo.prepare(Path(args.dir) if args.dir else None)
    now = demo.demo_now(config, args.now)
    if not args.verbose:
        logging.getLogger("triage.triaged").setLevel(logging.WARNING)
        logging.getLogger("triage.drafting").setLevel(logging.WARNING)
    with Store(config.store.path) as store:
        service = Service(config, store, open_classifier(config), mailbox_opener(config, store),
                          evidence=open_evidence(), drafter=Drafter(config, store),
                          clock=lambda: now)
        report = service.run_once()
        demo.table(store, sys.stdout)
        from triage import digest
        found = digest.build(store, now, config.digest.days, ZoneInfo(config.provider.timezone))
        page = config.source.parent / "digest.html"
        write_private(page, digest.html_page(found, config.provider.language))
    assert config.mailbox.path is not None
    print()
    print(f"{report.added} messages read, {report.triaged} client messages triaged "
          f"({report.unreadable} unreadable), as of {now.isoformat(timespec='minutes')}")
    print(drafts_summary(report.drafts, dry_run=False))
    print(f"Drafts:  {config.mailbox.path / '.Drafts' / 'cur'} (one .eml-like file each)")
    print(f"Digest:  {page} (the week's hostile threads, as the weekly email shows them)")
    print(f"Store:   {config.store.path}")
    program = this_program()
    print(f"More:    {program} show --config {config.source} MESSAGE_ID  (ids: {program} "
          f"export --config {config.source})")
    return EXIT_OK


def this_program() -> str:
    """How to run triage again from this shell: ``triage`` when that is the one on the
    PATH, else the path of the one running (``.venv/bin/triage`` after scripts/demo)."""
    running = Path(sys.argv[0])
    if running.name == "triage" and running.is_file():
        on_path = shutil.which("triage")
        if on_path and Path(on_path).resolve() == running.resolve():
            return "triage"
        return str(running.absolute())
    return f"{sys.executable} -m triage"


def cmd_digest(args: argparse.Namespace) -> int:
    from triage import digest, outbox

    config = load(args)
    if args.days is not None and not 1 <= args.days <= 92:
        raise UsageError("--days takes a number of days from 1 to 92")
    if args.send and config.smtp is None:
        raise ConfigError(f"{config.source}: --send needs an [smtp] table (see "
                          "triage.example.toml)")
    out = output_file(args.out) if args.out else None
    end = config.local(args.end or datetime.now(ZoneInfo(config.provider.timezone)))
    with Store(config.store.path) as store:
        found, mail = digest.compose(config, store, end, args.days)
        if out:
            page = digest.html_page(found, config.provider.language)
            write_private(out, page)
            print(f"{found.hostile_threads} hostile threads; the digest is in {args.out}")
        if args.send:
            assert config.smtp is not None
            outbox.send(config.smtp, mail)
            print(f"{found.hostile_threads} hostile threads; the digest was sent to "
                  f"{mail['To']}")
        if not args.out and not args.send:
            body = mail.get_body(preferencelist=("plain",))
            assert body is not None
            print(body.get_content(), end="")
    return EXIT_OK


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load(args)
    if args.offline:
        print("ok")
        return EXIT_OK
    if not args.verbose:
        # One line, "ok" or the mistake: not imapclient's news of closing the connection.
        logging.getLogger("imapclient").setLevel(logging.WARNING)
    if config.smtp is not None and config.smtp.credentials is not None:
        read_password(config.smtp.credentials,
                      f"SMTP login {config.smtp.user}@{config.smtp.host}")
    with tempfile.TemporaryDirectory(prefix="triage-check-") as scratch:
        # A throwaway store: checking must not create or change the real one.
        with Store(Path(scratch) / "check.db") as store:
            mailbox = mailbox_opener(config, store)()
            try:
                for folder in config.folders.all_read:
                    try:
                        mailbox.status(folder)
                    except MissingFolderError as exc:
                        raise folder_error(config, folder, exc) from None
            finally:
                mailbox.close()
    print(f"ok: {mailbox.describe()} reached, folders {', '.join(config.folders.all_read)} "
          "found")
    return EXIT_OK


def cmd_ingest(args: argparse.Namespace) -> int:
    config = load(args)
    if not args.verbose:
        # A line per message would scroll the progress bar away; -v shows them.
        logging.getLogger("triage.triaged").setLevel(logging.WARNING)
    with Store(config.store.path) as store:
        mailbox = mailbox_opener(config, store)()  # a wrong password before the model loads
        try:
            classifier = open_classifier(config)
            bars: list[tqdm] = []

            def progress_factory(folder: str, total: int) -> Progress:
                bar = tqdm(total=total, desc=folder, unit="msg", file=sys.stderr,
                           disable=True if args.no_progress or total < 50 else None)
                bars.append(bar)

                def advance(count: int) -> None:
                    bar.update(count)

                return advance

            report = ingest(mailbox, store, config, progress_factory, classifier,
                            evidence=open_evidence())
            for bar in bars:
                bar.close()
        finally:
            mailbox.close()
    for folder in report.folders:
        if not folder.missing:
            log.info("%s: %d read, %d new, %d unreadable", folder.folder, folder.seen,
                     folder.added, folder.unreadable)
    print(f"{report.added} new messages stored, {report.triaged} client messages triaged "
          f"({report.unreadable} unreadable) in {config.store.path}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    config = load(args)
    writer = write_csv if args.format == "csv" else write_jsonl
    output = output_file(args.output) if args.output else None
    with Store(config.store.path) as store:
        if output:
            count = write_file(output, writer, export_rows(store))
            log.info("%d rows written to %s", count, args.output)
        else:
            writer(export_rows(store), sys.stdout)
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    config = load(args)
    with Store(config.store.path) as store:
        rows = list(export_rows(store))
    rows.reverse()
    if args.kind:
        rows = [row for row in rows if row["kind"] in args.kind]
    if args.limit > 0:
        rows = rows[: args.limit]
    _print_table(rows, sys.stdout)
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:

    config = load(args)
    with Store(config.store.path) as store:
        shown = gather(store, args.message_id)
    if args.json:
        print(as_json(shown))
    else:
        print(render(shown))
    return EXIT_OK


def _print_table(rows: list[dict[str, object]], out: TextIO) -> None:
    if not rows:
        print("no messages stored yet: run 'triage ingest' first", file=out)
        return
    for row in rows:
        date = str(row["date"])[:16].replace("T", " ")
        sender = _fit(str(row["from"] or "-"), 28)
        subject = _fit(str(row["subject"] or "(no subject)"), 48)
        kind = str(row["kind"])
        if row["category"]:
            kind = f"{row['category']} {row['hostility']}"
        note = f"  [{_fit(str(row['error']), 40)}]" if row["error"] else ""
        print(f"{date}  {kind:<16} {sender:<28}  {subject}{note}", file=out)


def _fit(text: str, width: int) -> str:
    text = printable(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


LOW_CONFIDENCE = 0.5  # below this the category is shown as a guess


def cmd_train(args: argparse.Namespace) -> int:
    from triage.corpus import load_examples
    from triage.model_io import default_model_dir
    from triage.training import format_evaluation, train, write_model_card

    paths = corpus_paths(args.corpus)
    examples = load_examples(paths)
    out = Path(args.out) if args.out else default_model_dir()
    log.info("training on %d examples from %d files", len(examples), len(paths))
    manifest, evaluation = train(examples, out, paths)
    print(format_evaluation("held-out groups", evaluation))
    external = REPO_CORPUS / "external"
    if not args.corpus and external.is_dir():
        # Measured for the record only: nothing is chosen on the external set.
        from triage.training import record_external

        external_evaluation = record_external(out, load_examples(corpus_paths(None, True)))
        manifest["external"] = external_evaluation.as_dict()
        print()
        print(format_evaluation("external test set", external_evaluation))
    write_model_card(out, manifest, BENCH_RESULTS / "classify_speed.txt")
    print(f"\nmodel written to {out}")
    return EXIT_OK


def cmd_evaluate(args: argparse.Namespace) -> int:
    from triage.corpus import load_examples, split
    from triage.model_io import load_model
    from triage.nlp import TextAnalyzer
    from triage.training import evaluate_on, format_evaluation

    model = load_model(Path(args.model) if args.model else None)
    examples = load_examples(corpus_paths(args.corpus, external=args.external))
    if not args.external:
        examples = split(examples)[1]
    evaluation = evaluate_on(model.classifier, TextAnalyzer(model.lemma_tables), examples)
    if args.json:
        print(json.dumps(evaluation.as_dict(), indent=2))
    else:
        title = "external test set" if args.external else "held-out groups"
        print(format_evaluation(title, evaluation))
    return EXIT_OK


def cmd_retrain(args: argparse.Namespace) -> int:
    from triage.retraining import retrain

    config = load(args)
    with Store(config.store.path) as store:
        result = retrain(config, store, datetime.now(ZoneInfo(config.provider.timezone)),
                         args.corpus, force=args.force)
    if result.outcome == "nothing":
        print(f"nothing to do: {result.detail} (--force retrains anyway)")
        return EXIT_OK
    if result.outcome == "failed":
        print(f"triage: error: retraining failed: {result.detail}", file=sys.stderr)
        return EXIT_ERROR
    print(f"{result.corrections} corrections, each weighing {config.corrections.weight:g} "
          "corpus messages")
    print(f"held-out macro-F1: {result.before:.3f} with the model in use, {result.after:.3f} "
          "with the new one")
    if result.outcome == "kept":
        print(f"kept: the new model {result.model} is in use ({result.detail}; "
              "'triage rollback' goes back)")
    else:
        print(f"rejected: {result.detail}")
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from triage.retraining import rollback

    config = load(args)
    with Store(config.store.path) as store:
        result = rollback(config, store, datetime.now(ZoneInfo(config.provider.timezone)))
    what = "the shipped model" if result.shipped else "the retrained model"
    print(f"rolled back from {result.replaced}: {what} {result.restored} is in use")
    return EXIT_OK


def cmd_classify(args: argparse.Namespace) -> int:
    # Imported here: the models' libraries take a moment to load, and only
    # the commands that classify need them.
    from triage.classify import MessageClassifier, message_files
    from triage.mailbox import read_message_file
    from triage.model_io import load_model
    from triage.parsing import parse_message

    if args.config:
        classifier = open_classifier(load(args))
    else:
        classifier = MessageClassifier(load_model(Path(args.model) if args.model else None))
    for path in message_files(args.paths):
        try:
            raw, _ = read_message_file(path)
        except OSError as exc:
            _print_classified(args, {"path": str(path), "error": exc.strerror})
            continue
        message = parse_message(raw)
        if message.unreadable:
            _print_classified(args, {"path": str(path), "message_id": message.message_id,
                                     "error": message.unreadable})
            continue
        prediction = classifier.classify_messages([message])[0]
        _print_classified(args, {
            "path": str(path), "message_id": message.message_id,
            "language": prediction.language, "category": prediction.category,
            "confidence": prediction.confidence,
            "low_confidence": prediction.confidence < LOW_CONFIDENCE,
            "probabilities": prediction.probabilities, "hostility": prediction.hostility,
            "hostility_score": prediction.hostility_score,
            "automated": message.automated is not None,
        })
    return EXIT_OK


def _print_classified(args: argparse.Namespace, row: dict[str, object]) -> None:
    if args.json:
        print(json.dumps(row, ensure_ascii=False), flush=True)
        return
    if "error" in row:
        print(f"{row['path']}  unreadable: {row['error']}", flush=True)
        return
    guess = " (low confidence)" if row["low_confidence"] else ""
    print(f"{row['path']}  {row['language']}  {row['category']} {row['confidence']:.2f}{guess}"
          f"  hostility {row['hostility']}", flush=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
