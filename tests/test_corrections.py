"""Corrections by the provider (corrections.py, store): dropping a message into a
correction folder (moved or copied) or setting a keyword records the new category,
re-plans the draft, and leaves exactly one copy of the message where it was.

These run on a Maildir (the Desk); the same paths against a real Dovecot are in
test_imap_corrections.py."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Desk, Verdicts, mail

from triage import show
from triage.daemon import Service
from triage.errors import StoreError
from triage.export import export_rows
from triage.mailbox import MaildirMailbox
from triage.retraining import QuietHours, RetrainResult
from triage.store import Store

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday morning
CLIENT = "Rosa Vidal <rosa@tienda.example>"
AGENCY = "ana@agency.example"


def complaint(n: int, when: datetime = NOW - timedelta(hours=1)) -> bytes:
    return mail(f"<c{n}@tienda.example>", when, CLIENT, AGENCY, f"Pedido {n}",
                "Nadie nos avisó del corte de anoche.")


def files(folder: Path) -> list[Path]:
    return sorted(p for sub in ("cur", "new") for p in (folder / sub).iterdir())


def first_file(desk: Desk) -> Path:
    [path] = files(desk.root)
    return path


def drop_box(desk: Desk, name: str) -> Path:
    return desk.root / ("." + name.replace("/", "."))


def corrections(desk: Desk) -> list[dict[str, object]]:
    with Store(desk.config.store.path) as store:
        return store.corrections()


def verdict(desk: Desk, message_id: str) -> dict[str, object]:
    with Store(desk.config.store.path) as store:
        found = store.message(message_id)
        assert found is not None
        return found


def desk_with_complaint(tmp_path: Path, label: str = "accusation",
                        extra: str = "") -> Desk:
    desk = Desk(tmp_path, extra="[corrections]\ncreate_folders = true\n" + extra)
    desk.deliver("INBOX", complaint(1), (label, 1, "es"))
    desk.run(NOW)
    return desk


def test_the_correction_folders_are_created_when_the_config_asks(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    for name in ("Triage/Accusation", "Triage/Payment excuse", "Triage/Scope creep",
                 "Triage/Genuine fault", "Triage/Other"):
        assert (drop_box(desk, name) / "cur").is_dir(), name


def test_no_folder_is_created_by_default(tmp_path: Path) -> None:
    desk = Desk(tmp_path)
    desk.deliver("INBOX", complaint(1), ("accusation", 1, "es"))
    desk.run(NOW)
    assert not drop_box(desk, "Triage/Other").exists()


def test_a_message_moved_to_a_folder_is_corrected_and_moved_back(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    [plan] = desk.plans()
    assert plan["state"] == "planned" and plan["category"] == "accusation"
    original = first_file(desk)
    target = drop_box(desk, "Triage/Payment excuse") / "cur" / original.name
    original.rename(target)

    desk.run(NOW + timedelta(minutes=5))

    assert files(drop_box(desk, "Triage/Payment excuse")) == []
    assert [p.name for p in files(desk.root)] == [original.name]  # back, same flags
    [fixed] = corrections(desk)
    assert (fixed["message_id"], fixed["old_label"], fixed["new_label"]) == (
        "<c1@tienda.example>", "accusation", "payment_excuse")
    assert fixed["source"] == "folder:Triage/Payment excuse"
    stored = verdict(desk, "<c1@tienda.example>")
    assert (stored["category"], stored["model_category"]) == ("payment_excuse", "accusation")
    # The draft is re-planned at once with the new category.
    old, new = desk.plans()
    assert (old["state"], new["state"], new["category"]) == (
        "cancelled", "planned", "payment_excuse")


def test_a_copied_message_is_removed_from_the_folder_and_left_once_in_the_inbox(
        tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    original = first_file(desk)
    shutil.copy(original, drop_box(desk, "Triage/Scope creep") / "new" / "copy.1.host")

    desk.run(NOW + timedelta(minutes=5))

    assert files(drop_box(desk, "Triage/Scope creep")) == []
    assert files(desk.root) == [original]
    assert verdict(desk, "<c1@tienda.example>")["category"] == "scope_creep"


def test_a_correction_to_other_cancels_the_planned_draft(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    original = first_file(desk)
    original.rename(drop_box(desk, "Triage/Other") / "cur" / original.name)
    desk.run(NOW + timedelta(minutes=5))
    [plan] = desk.plans()
    assert plan["state"] == "cancelled"
    desk.run(NOW + timedelta(days=2))  # long past the cool-down: still no draft
    assert desk.drafts() == []


def test_dropping_the_same_message_twice_records_one_correction(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    for minutes in (5, 10):
        original = first_file(desk)
        original.rename(drop_box(desk, "Triage/Other") / "cur" / original.name)
        desk.run(NOW + timedelta(minutes=minutes))
    assert len(corrections(desk)) == 1
    assert len(files(desk.root)) == 1


def test_a_message_moved_before_triage_read_it_is_corrected_once_read(
        tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    raw = complaint(2)
    desk.verdicts.by_id["<c2@tienda.example>"] = ("accusation", 2, "es")
    (drop_box(desk, "Triage/Genuine fault") / "new" / "early.2.host").write_bytes(raw)

    desk.run(NOW + timedelta(minutes=5))  # recorded, moved back; read at the next sync
    [fixed] = corrections(desk)
    assert fixed["old_label"] is None
    assert len(files(desk.root)) == 2
    desk.run(NOW + timedelta(minutes=10))
    stored = verdict(desk, "<c2@tienda.example>")
    assert (stored["category"], stored["model_category"]) == ("genuine_fault", "accusation")


def test_a_message_of_sent_dropped_by_mistake_goes_back_to_sent(tmp_path: Path) -> None:
    desk = Desk(tmp_path, extra="[corrections]\ncreate_folders = true\n")
    desk.deliver("Sent", mail("<n1@agency.example>", NOW - timedelta(days=3), AGENCY,
                              CLIENT, "Mantenimiento", "El martes hay mantenimiento."))
    desk.run(NOW)
    [sent] = files(desk.root / ".Sent")
    sent.rename(drop_box(desk, "Triage/Other") / "cur" / sent.name)
    desk.run(NOW + timedelta(minutes=5))
    assert [p.name for p in files(desk.root / ".Sent")] == [sent.name]
    assert files(desk.root) == []


def test_a_dovecot_maildir_keyword_corrects_an_inbox_message(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    # Dovecot keeps a Maildir's keywords as letters: here "b" is triage_genuine_fault.
    (desk.root / "dovecot-keywords").write_text("0 $Junk\n1 triage_genuine_fault\n")
    original = first_file(desk)
    flagged = original.parent.parent / "cur" / (original.name.split(":")[0] + ":2,Sb")
    original.rename(flagged)

    desk.run(NOW + timedelta(minutes=5))
    desk.run(NOW + timedelta(minutes=10))  # still set: not recorded again

    [fixed] = corrections(desk)
    assert (fixed["new_label"], fixed["source"]) == ("genuine_fault",
                                                     "keyword:triage_genuine_fault")
    assert files(desk.root) == [flagged]  # the keyword and the message stay as they were


def test_a_message_flagged_deleted_in_a_folder_is_left_alone(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    original = first_file(desk)
    trashed = drop_box(desk, "Triage/Other") / "cur" / "trash.9.host:2,ST"
    shutil.copy(original, trashed)
    desk.run(NOW + timedelta(minutes=5))
    assert files(drop_box(desk, "Triage/Other")) == [trashed]
    assert corrections(desk) == []


def test_dry_run_records_nothing_and_moves_nothing(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    original = first_file(desk)
    moved = drop_box(desk, "Triage/Other") / "cur" / original.name
    original.rename(moved)
    desk.run(NOW + timedelta(minutes=5), dry_run=True)
    assert files(drop_box(desk, "Triage/Other")) == [moved]
    assert corrections(desk) == []


def test_export_marks_corrected_messages(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    desk.deliver("INBOX", complaint(3), ("scope_creep", 0, "es"))
    desk.run(NOW)
    first = next(p for p in files(desk.root) if "m1." in p.name)
    first.rename(drop_box(desk, "Triage/Other") / "cur" / first.name)
    desk.run(NOW + timedelta(minutes=5))
    with Store(desk.config.store.path) as store:
        rows = {r["message_id"]: r for r in export_rows(store)}
    assert rows["<c1@tienda.example>"]["category"] == "other"
    assert rows["<c1@tienda.example>"]["corrected"] == {"model_category": "accusation"}
    assert rows["<c3@tienda.example>"]["corrected"] is None


def test_show_says_the_category_was_corrected(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    original = first_file(desk)
    original.rename(drop_box(desk, "Triage/Other") / "cur" / original.name)
    desk.run(NOW + timedelta(minutes=5))
    with Store(desk.config.store.path) as store:
        shown = show.render(show.gather(store, "<c1@tienda.example>"))
    assert "Triage:     other, hostility 1" in shown
    assert "corrected by you (the model said accusation)" in shown


# --- the store's rules ----------------------------------------------------------------


def test_a_keyword_still_set_is_not_recorded_again_after_a_folder_drop(
        tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    with Store(desk.config.store.path) as store, store.transaction():
        assert store.record_correction("<c1@tienda.example>", "other", "keyword:triage_other",
                                       NOW)
        assert store.record_correction("<c1@tienda.example>", "scope_creep",
                                       "folder:Triage/Scope creep", NOW)
        # The keyword is still on the message at the next sync: the drop stands.
        assert not store.record_correction("<c1@tienda.example>", "other",
                                           "keyword:triage_other", NOW)
        # Another keyword is a new correction.
        assert store.record_correction("<c1@tienda.example>", "genuine_fault",
                                       "keyword:triage_genuine_fault", NOW)
    assert verdict(desk, "<c1@tienda.example>")["category"] == "genuine_fault"
    assert [c["new_label"] for c in corrections(desk)] == [
        "other", "scope_creep", "genuine_fault"]


def test_the_store_refuses_a_correction_to_something_that_is_not_a_category(
        tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    with Store(desk.config.store.path) as store, pytest.raises(StoreError, match="category"):
        store.record_correction("<c1@tienda.example>", "Other", "folder:x", NOW)


def test_retraining_reads_each_corrected_message_once_with_its_latest_label(
        tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    with Store(desk.config.store.path) as store:
        with store.transaction():
            store.record_correction("<c1@tienda.example>", "other", "folder:x", NOW)
            store.record_correction("<c1@tienda.example>", "scope_creep", "folder:y", NOW)
            store.record_correction("<unknown@x>", "other", "folder:x", NOW)  # not read yet
        rows = store.training_corrections()
    assert [(r["message_id"], r["label"], r["language"]) for r in rows] == [
        ("<c1@tienda.example>", "scope_creep", "es")]
    with Store(desk.config.store.path) as store:
        assert store.count_training_corrections() == len(rows)
    assert rows[0]["body"] == "Nadie nos avisó del corte de anoche."


# --- retraining at the quiet hour (retraining.QuietHours) ----------------------------


def quiet_hours(desk: Desk, store: Store, outcome: str = "kept"
                ) -> tuple[QuietHours, list[datetime], list[str]]:
    attempts: list[datetime] = []
    reloads: list[str] = []

    def fake_retrain(config: object, store: Store, now: datetime) -> RetrainResult:
        attempts.append(now)
        store.record_retrain(outcome, store.last_correction_id(),
                             len(store.training_corrections()), now)
        return RetrainResult(outcome)

    def reload() -> str:
        reloads.append("reloaded")
        return "new classifier"

    return QuietHours(desk.config, store, reload, fake_retrain), attempts, reloads


def test_the_service_retrains_once_at_the_quiet_hour_when_there_are_new_corrections(
        tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)  # Europe/Madrid, retrain_at 03:00
    madrid = ZoneInfo("Europe/Madrid")
    evening = datetime(2026, 11, 2, 22, 0, tzinfo=madrid)
    with Store(desk.config.store.path) as store:
        hours, attempts, reloads = quiet_hours(desk, store)
        assert hours.next_run(evening) is None  # nothing to learn yet
        with store.transaction():
            store.record_correction("<c1@tienda.example>", "other", "folder:x", evening)
        night = datetime(2026, 11, 3, 3, 0, tzinfo=madrid)
        assert hours.next_run(evening) == night
        assert hours.next_run(night + timedelta(minutes=20)) == night  # late, still due
        assert hours.run(night + timedelta(minutes=20)) == "new classifier"
        assert (len(attempts), reloads) == (1, ["reloaded"])
        assert hours.next_run(night + timedelta(minutes=30)) is None  # learned
        # A new correction at 04:00 waits for the next night.
        with store.transaction():
            store.record_correction("<c1@tienda.example>", "scope_creep", "folder:x",
                                    night + timedelta(hours=1))
        assert hours.next_run(night + timedelta(hours=1)) == night + timedelta(days=1)
        # Started in the afternoon: not until the night.
        assert hours.next_run(datetime(2026, 11, 3, 15, 0, tzinfo=madrid)) == \
            night + timedelta(days=1)


def test_a_rejected_model_is_not_reloaded_and_not_retried_the_same_night(
        tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    madrid = ZoneInfo("Europe/Madrid")
    night = datetime(2026, 11, 3, 3, 0, tzinfo=madrid)
    with Store(desk.config.store.path) as store:
        hours, attempts, reloads = quiet_hours(desk, store, outcome="failed")
        with store.transaction():
            store.record_correction("<c1@tienda.example>", "other", "folder:x", night)
        assert hours.run(night) is None and reloads == []
        # A failure decided nothing: tried again, but the next night.
        assert hours.next_run(night + timedelta(minutes=5)) == night + timedelta(days=1)


def test_retraining_can_be_turned_off(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path, extra="retrain = false\n")
    with Store(desk.config.store.path) as store:
        hours, _, _ = quiet_hours(desk, store)
        with store.transaction():
            store.record_correction("<c1@tienda.example>", "other", "folder:x", NOW)
        assert hours.next_run(NOW) is None


def test_the_service_classifies_with_the_kept_model_from_then_on(tmp_path: Path) -> None:
    desk = desk_with_complaint(tmp_path)
    retrained = Verdicts()
    retrained.by_id["<c9@tienda.example>"] = ("scope_creep", 0, "es")

    class Due:
        def next_run(self, now: datetime) -> datetime:
            return now

        def run(self, now: datetime) -> tuple[Verdicts, None]:
            return retrained, None

    with Store(desk.config.store.path) as store:
        service = Service(desk.config, store, desk.verdicts,
                          lambda: MaildirMailbox(desk.root, store), retrainer=Due(),
                          clock=lambda: NOW)
        service.retrain_if_due()
        assert service.classifier is retrained
        desk.deliver("INBOX", complaint(9))
        service.run_once()
    assert verdict(desk, "<c9@tienda.example>")["category"] == "scope_creep"


def test_a_message_sharing_its_message_id_with_another_is_moved_back_not_discarded(
        tmp_path: Path) -> None:
    # Two different complaints under one Message-ID (a broken mailer). The second is
    # moved to a correction folder: its Message-ID is in the inbox, but on the other
    # message, so it must be moved back (never removed as a copy) and only it corrected.
    desk = Desk(tmp_path, extra="[corrections]\ncreate_folders = true\n")
    desk.deliver("INBOX", complaint(1), ("accusation", 1, "es"))
    second = mail("<c1@tienda.example>", NOW - timedelta(minutes=30), CLIENT, AGENCY,
                  "Factura de octubre", "No vamos a pagar esta factura.")
    desk.deliver("INBOX", second)
    desk.run(NOW)
    moved = files(desk.root)[-1]
    assert b"Factura de octubre" in moved.read_bytes()
    moved.rename(drop_box(desk, "Triage/Payment excuse") / "cur" / moved.name)

    desk.run(NOW + timedelta(minutes=5))

    assert files(drop_box(desk, "Triage/Payment excuse")) == []
    assert sorted(p.read_bytes() for p in files(desk.root)) == sorted([complaint(1), second])
    [fixed] = corrections(desk)
    assert fixed["message_id"] != "<c1@tienda.example>"
    assert fixed["new_label"] == "payment_excuse"
    assert verdict(desk, str(fixed["message_id"]))["category"] == "payment_excuse"
    assert verdict(desk, "<c1@tienda.example>")["category"] == "accusation"
