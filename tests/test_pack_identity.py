"""The record of what was sent is the clinic's, not its folder name's: a renamed, moved or linked clinic folder, or a
new release of it, sends nothing twice; two folders declaring the same clinic_id are refused."""

from __future__ import annotations

import json
import os
import shutil

from pack_support import copy_clinic, local_email, no_wait, pack, set_email, write_appointments

ROWS = ["Sam,sam@example.test,2030-12-03,09:30,facial,", "Jo,jo@example.test,2030-12-03,11:00,hair,"]


def send(folder, out, appointments):
    return pack(folder, out, "--appointments", str(appointments), "--send", sleep=no_wait)


def test_a_renamed_then_linked_clinic_folder_sends_nothing_twice(approved, mail_server, tmp_path, capsys):
    folder = copy_clinic(approved, tmp_path / "clinics")
    out = tmp_path / "out"
    set_email(folder, local_email(mail_server.port))
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS)
    assert send(folder, out, appointments) == 0
    assert len(mail_server.mailbox.received) == 2

    # Renamed: the same folder on the same disk.
    renamed = folder.with_name("harbour-london")
    folder.rename(renamed)
    capsys.readouterr()
    assert send(renamed, out, appointments) == 0
    assert "Sent: 2 already sent." in capsys.readouterr().out
    # Reached through a link of another name.
    link = tmp_path / "clinics" / "front-desk"
    link.symlink_to(renamed)
    assert send(link, out, appointments) == 0
    assert len(mail_server.mailbox.received) == 2
    # One record, found each time, in the folder it was first made in.
    assert sorted(path.name for path in (out / ".private").iterdir() if path.is_dir()) == ["harbour"]
    record = json.loads((out / ".private" / "harbour" / "clinic.json").read_text())
    assert sorted(os.path.basename(named) for named in record["folders"]) == ["front-desk", "harbour-london"]


def test_a_release_link_switched_to_a_new_copy_sends_nothing_twice(approved, mail_server, tmp_path):
    first = copy_clinic(approved, tmp_path / "releases" / "2026-11-01" / "clinics")
    current = tmp_path / "current"
    current.symlink_to(tmp_path / "releases" / "2026-11-01")
    folder = current / "clinics" / "harbour"
    out = tmp_path / "out"
    set_email(folder, local_email(mail_server.port))
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS)
    assert send(folder, out, appointments) == 0
    # The next release: a new copy (another folder, another inode), reached by the same path once the link moves.
    shutil.copytree(first, tmp_path / "releases" / "2026-12-01" / "clinics" / "harbour")
    current.unlink()
    current.symlink_to(tmp_path / "releases" / "2026-12-01")
    assert send(folder, out, appointments) == 0
    assert len(mail_server.mailbox.received) == 2


def test_a_declared_clinic_id_follows_a_copy_and_two_folders_with_it_are_refused(
    approved, mail_server, tmp_path, capsys
):
    folder = copy_clinic(approved, tmp_path / "clinics")
    out = tmp_path / "out"
    set_email(folder, local_email(mail_server.port))
    config = folder / "clinic.yaml"
    config.write_text(config.read_text() + "clinic_id: harbour-london\n")
    appointments = write_appointments(tmp_path / "appointments.csv", ROWS)
    assert send(folder, out, appointments) == 0

    # A copy under another name, the first still there: which one is the clinic? Refused, before anything is made.
    copy = tmp_path / "elsewhere" / "harbour-copy"
    shutil.copytree(folder, copy)
    capsys.readouterr()
    assert send(copy, out, appointments) == 2
    err = capsys.readouterr().err
    assert (
        'clinic_id: expected an id no other clinic folder has, got "harbour-london", which '
        f"{folder} also has (its record of sent emails is {out}/.private/harbour/)"
    ) in err
    assert not (out / "harbour-copy").exists()
    # The first one gone (moved by copying, to another disk say): the copy is the clinic, and knows what was sent.
    shutil.rmtree(folder)
    assert send(copy, out, appointments) == 0
    assert len(mail_server.mailbox.received) == 2

    # Its id changed by hand: not silently another clinic that would send everything again.
    config = copy / "clinic.yaml"
    config.write_text(config.read_text().replace("clinic_id: harbour-london", "clinic_id: harbour-soho"))
    assert send(copy, out, appointments) == 2
    assert 'expected the id this clinic\'s record of sent emails has ("harbour-london"' in capsys.readouterr().err
    assert len(mail_server.mailbox.received) == 2
