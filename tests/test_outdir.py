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
