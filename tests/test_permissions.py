"""Every file and folder triage writes is its owner's alone, whatever the umask.

Each writer runs under a permissive umask (0o022, the usual one, and 0o000) and the
modes are read back with os.stat: files 0600, folders 0700. A file that exists keeps a
mode its owner made tighter; one open to others is tightened, with one warning.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from conftest import MINIMAL_CONFIG, Desk, deliver, mail, make_maildir

from triage import demo
from triage.cli import main
from triage.files import open_private, private_folder, restrict, write_private
from triage.model_io import load_model, save_model
from triage.store import Store
from triage.training import write_model_card

NOW = datetime.fromisoformat("2026-11-23T09:00:00+01:00")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_a_new_file_and_its_new_folders_are_owner_only(umask: int, tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "page.html"
    write_private(path, "<p>client</p>")
    assert path.read_text() == "<p>client</p>"
    assert mode(path) == 0o600
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700
    with open_private(tmp_path / "c" / "rows.csv", newline="") as out:
        out.write("a,b\r\n")
    assert mode(tmp_path / "c" / "rows.csv") == 0o600 and mode(tmp_path / "c") == 0o700


def test_folders_that_exist_keep_their_mode(umask: int, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    private_folder(shared / "mine")
    assert mode(shared) == 0o755 and mode(shared / "mine") == 0o700


def test_an_existing_file_is_never_loosened_and_is_tightened_once_with_a_warning(
        umask: int, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tight = tmp_path / "tight.csv"
    tight.write_text("old")
    tight.chmod(0o200)  # the owner's choice: write-only
    write_private(tight, "new")
    assert mode(tight) == 0o200
    loose = tmp_path / "loose.csv"
    loose.write_text("old")
    loose.chmod(0o664)
    with caplog.at_level(logging.WARNING, logger="triage.files"):
        write_private(loose, "new")
        write_private(loose, "newer")
    assert mode(loose) == 0o600 and loose.read_text() == "newer"
    assert [r.getMessage() for r in caplog.records] == [
        f"{loose} was readable by other users (mode 664); triage made it readable by its "
        "owner only"]


def test_what_is_not_a_regular_file_is_left_alone(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo, 0o644)
    os.chmod(fifo, 0o644)
    assert restrict(fifo) is None and mode(fifo) == 0o644
    assert restrict(tmp_path / "missing") is None


def test_a_file_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(Exception, match=r"^cannot write .*/file/x\.html: Not a directory$"):
        write_private(tmp_path / "file" / "x.html", "text")


def wal_files(db: Path) -> list[Path]:
    return [db.with_name(db.name + end) for end in ("-wal", "-shm")]


def test_the_state_database_its_wal_files_and_its_folders_are_owner_only(
        umask: int, tmp_path: Path) -> None:
    db = tmp_path / "data" / "triage" / "triage.db"
    with Store(db) as store:
        store.reset_folder("INBOX", 1)
        assert all(p.exists() for p in wal_files(db))  # WAL mode, while it is open
        assert [mode(p) for p in (db, *wal_files(db))] == [0o600] * 3
    assert mode(tmp_path / "data") == mode(tmp_path / "data" / "triage") == 0o700


def test_a_database_open_to_others_is_tightened_with_one_warning(
        umask: int, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "triage.db"
    Store(db).close()
    os.chmod(db, 0o644)
    # What a crash of an older version leaves: a WAL file as open as the database.
    wal = wal_files(db)[0]
    wal.write_bytes(b"")
    os.chmod(wal, 0o644)
    with caplog.at_level(logging.WARNING, logger="triage"):
        Store(db).close()
        Store(db).close()
    assert mode(db) == 0o600
    assert [r.getMessage() for r in caplog.records] == [
        f"the state database {db} was readable by other users (triage.db mode 644, "
        "triage.db-wal mode 644); triage made it readable by its owner only"]


def test_a_database_the_owner_keeps_private_is_left_as_it_is(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = tmp_path / "triage.db"
    Store(db).close()
    with caplog.at_level(logging.WARNING, logger="triage"):
        Store(db).close()
    assert mode(db) == 0o600 and not caplog.records


def test_a_run_over_a_maildir_leaves_only_owner_only_files(
        umask: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    maildir = make_maildir(tmp_path / "Maildir")
    deliver(maildir, "INBOX", "1790000001.a.host", mail(
        "<m1@client.example>", NOW, "Bruno <bruno@client.example>", "ana@agency.example",
        "The site is down", "Hello, the site has been down since this morning. Bruno"))
    config = tmp_path / "triage.toml"
    state = tmp_path / "state" / "deeper"
    config.write_text(MINIMAL_CONFIG.format(maildir=maildir, store=state / "triage.db"))
    assert main(["run", "--once", "--config", str(config)]) == 0
    assert "1 new messages stored" in capsys.readouterr().out
    made = [state.parent, state, *state.iterdir()]
    assert {p.name for p in made} >= {"state", "deeper", "triage.db", "triage.db.lock"}
    assert {p.name: mode(p) for p in made} == {
        p.name: 0o700 if p.is_dir() else 0o600 for p in made}


def test_drafts_appended_to_a_maildir_are_owner_only(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        desk = Desk(tmp_path)
        desk.deliver("INBOX", mail("<m1@client.example>", NOW, "bruno@client.example",
                                   "ana@agency.example", "The site is down",
                                   "The site is down since this morning."),
                     verdict=("genuine_fault", 1, "en"))
        desk.run(NOW)
    finally:
        os.umask(previous)
    drafts = list((desk.root / ".Drafts" / "cur").iterdir())
    assert drafts and [mode(p) for p in drafts] == [0o600] * len(drafts)


def test_export_and_digest_files_are_owner_only(
        umask: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desk = Desk(tmp_path)
    desk.deliver("INBOX", mail("<m1@client.example>", NOW, "bruno@client.example",
                               "ana@agency.example", "Invoice", "I will pay next month."),
                 verdict=("payment_excuse", 1, "en"))
    desk.run(NOW)
    config = str(desk.config_path)
    out = tmp_path / "reports" / "all.csv"
    assert main(["export", "--config", config, "--format", "csv", "--output", str(out)]) == 0
    assert main(["export", "--config", config, "-o", str(tmp_path / "all.jsonl")]) == 0
    page = tmp_path / "reports" / "week" / "digest.html"
    assert main(["digest", "--config", config, "--end", "2026-11-23T10:00",
                 "--out", str(page)]) == 0
    err = capsys.readouterr().err
    # The folders it had to make are named: a typo in the path does not go unnoticed.
    assert f"made the folder {tmp_path / 'reports'} (readable by you only)" in err
    assert f"made the folder {page.parent} (readable by you only)" in err
    assert err.count("made the folder") == 2  # tmp_path existed: the -o export made none
    assert "bruno@client.example" in out.read_text()
    assert [mode(p) for p in (out, tmp_path / "all.jsonl", page)] == [0o600] * 3
    assert mode(tmp_path / "reports") == mode(page.parent) == 0o700


def test_an_export_that_cannot_be_written_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    desk = Desk(tmp_path)
    desk.run(NOW)
    target = tmp_path / "a-folder"
    target.mkdir()
    assert main(["export", "--config", str(desk.config_path), "-o", str(target)]) == 1
    assert capsys.readouterr().err == f"triage: error: cannot write {target}: Is a directory\n"


def test_model_files_are_owner_only_and_load_back(umask: int, tmp_path: Path) -> None:
    shipped = load_model()
    folder = tmp_path / "models" / "mine"
    save_model(shipped.classifier, shipped.lemma_tables, folder,
               {k: v for k, v in shipped.manifest.items() if k not in ("format", "files")})
    card = write_model_card(folder, load_model(folder).manifest)
    assert {p.name for p in folder.iterdir()} == {
        "model.npz", "data.json.gz", "manifest.json", card.name}
    assert [mode(p) for p in folder.iterdir()] == [0o600] * 4
    assert mode(folder) == mode(folder.parent) == 0o700


def test_the_demo_folder_and_everything_copied_into_it_are_owner_only(
        umask: int, tmp_path: Path) -> None:
    target = tmp_path / "demo"
    config = demo.prepare(target)
    assert config.source == target / "triage.toml"
    copied = list(target.rglob("*"))
    assert len(copied) > 40
    assert {p: mode(p) for p in [target, *copied]} == {
        p: 0o700 if p.is_dir() else 0o600 for p in [target, *copied]}
    # A Maildir message's file time is when it arrived: the copy keeps it.
    original = next((demo.DEMO / "mailbox" / "cur").iterdir())
    assert (target / "mailbox" / "cur" / original.name).stat().st_mtime_ns == \
        original.stat().st_mtime_ns
