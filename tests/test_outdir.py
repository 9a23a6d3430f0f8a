"""Output folders: never overwrite files mcugen did not write, never leave a half-written folder."""
import json

import pytest

from mcugen.codegen import outdir
from mcugen.errors import McugenError


def test_fresh_and_rerun_replaces_only_own_files(tmp_path):
    d = tmp_path / "out"
    outdir.write_tree(d, {"a.c": b"1", "sub/b.h": b"2"})
    assert (d / "a.c").read_bytes() == b"1"
    assert json.loads((d / outdir.MANIFEST).read_text())["files"] == ["a.c", "sub/b.h"]
    outdir.write_tree(d, {"a.c": b"3"})  # b.h no longer generated: removed
    assert (d / "a.c").read_bytes() == b"3"
    assert not (d / "sub" / "b.h").exists()


def test_refuses_foreign_files_unless_forced(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    (d / "main.c").write_text("user code")
    with pytest.raises(McugenError, match="did not write.*--force"):
        outdir.write_tree(d, {"a.c": b"1"})
    assert not (d / "a.c").exists()
    outdir.write_tree(d, {"a.c": b"1"}, force=True)
    assert (d / "main.c").read_text() == "user code"
    # later runs keep the user's file too, and need --force again
    with pytest.raises(McugenError):
        outdir.write_tree(d, {"a.c": b"2"})
    outdir.write_tree(d, {"a.c": b"2"}, force=True)
    assert (d / "main.c").read_text() == "user code" and (d / "a.c").read_bytes() == b"2"


def test_output_path_is_a_file(tmp_path):
    f = tmp_path / "x"
    f.write_text("keep")
    with pytest.raises(McugenError, match="not a directory"):
        outdir.write_tree(f, {"a.c": b"1"})
    assert f.read_text() == "keep"


def test_no_temp_folders_left_behind(tmp_path):
    outdir.write_tree(tmp_path / "out", {"a.c": b"1"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_force_never_overwrites_a_foreign_file_of_the_same_name(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    (d / "a.c").write_text("user's own a.c")
    with pytest.raises(McugenError, match="never overwrites"):
        outdir.write_tree(d, {"a.c": b"generated"}, force=True)
    assert (d / "a.c").read_text() == "user's own a.c"


def test_manifest_cannot_point_outside_the_folder(tmp_path):
    d = tmp_path / "out"
    outdir.write_tree(d, {"a.c": b"1"})
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    (d / outdir.MANIFEST).write_text(json.dumps({"files": ["a.c", "../victim.txt", str(victim), "/etc/passwd"]}))
    outdir.write_tree(d, {"b.c": b"2"})
    assert victim.read_text() == "keep"
    assert (d / "b.c").exists() and not (d / "a.c").exists()


def test_failed_rerun_leaves_previous_files(tmp_path, monkeypatch):
    d = tmp_path / "out"
    outdir.write_tree(d, {"m.c": b"old c", "m.h": b"old h", "m_weights.c": b"old w"})
    real = outdir.os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 6:  # in the middle of moving the new files in
            raise PermissionError(1, "Operation not permitted", str(dst))
        return real(src, dst)

    monkeypatch.setattr(outdir.os, "replace", flaky)
    with pytest.raises(McugenError, match="nothing was changed"):
        outdir.write_tree(d, {"m.c": b"new c", "m.h": b"new h", "m_weights.c": b"new w"})
    monkeypatch.setattr(outdir.os, "replace", real)
    assert {p: (d / p).read_bytes() for p in ("m.c", "m.h", "m_weights.c")} == {
        "m.c": b"old c", "m.h": b"old h", "m_weights.c": b"old w"}
    assert sorted(p.name for p in d.iterdir()) == [outdir.MANIFEST, "m.c", "m.h", "m_weights.c"]


def test_new_folder_gets_umask_permissions(tmp_path):
    import os
    old = os.umask(0o022)
    try:
        outdir.write_tree(tmp_path / "out", {"sub/a.c": b"1"})
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "out" / "sub").stat().st_mode & 0o777 == 0o755


def test_existing_empty_folder_in_unwritable_parent(tmp_path):
    import os
    parent = tmp_path / "p"
    (parent / "out").mkdir(parents=True)
    parent.chmod(0o555)
    try:
        outdir.write_tree(parent / "out", {"a.c": b"1"})
    finally:
        parent.chmod(0o755)
    assert (parent / "out" / "a.c").read_bytes() == b"1"
