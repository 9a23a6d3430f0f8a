"""Writing an output folder without losing anything.

Files are rendered into a temporary folder first; only when every file
exists are they moved into place, and if moving fails half-way the files
already moved are put back. A manifest records what mcugen wrote, so a
re-run removes exactly those and nothing the user put there. A folder
holding files mcugen did not write is refused unless --force, and even then
mcugen writes beside those files, never over them.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from ..errors import McugenError

MANIFEST = ".mcugen-manifest.json"
_TMP_PREFIX = ".mcugen-tmp-"


def _safe_rel(rel: object) -> str | None:
    """A manifest entry, if it names a file inside the folder; None otherwise
    (a hand-edited manifest must not make mcugen touch files elsewhere)."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel:
        return None
    p = PurePosixPath(rel)
    if p.is_absolute() or any(part in ("..", "") for part in p.parts) or p.parts[0] == ".":
        return None
    return str(p)


def _previous(outdir: Path) -> list[str]:
    try:
        data = json.loads((outdir / MANIFEST).read_text())
        files = data.get("files", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [r for r in (_safe_rel(f) for f in files if isinstance(files, list)) if r is not None]


def _all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if (p.is_file() or p.is_symlink()) and not p.relative_to(root).parts[0].startswith(_TMP_PREFIX))


def check_writable(outdir: Path, force: bool, new_files: list[str] | None = None) -> None:
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise McugenError(f"output path '{outdir}' exists and is not a directory; choose another -o")
    for parent in outdir.parents:
        if parent.exists():
            if not parent.is_dir():
                raise McugenError(f"output path '{outdir}' lies under '{parent}', which is a file; choose another -o")
            break
    if not outdir.exists():
        return
    ours = set(_previous(outdir)) | {MANIFEST}
    foreign = [f for f in _all_files(outdir) if f not in ours]
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise McugenError(
            f"output directory '{outdir}' holds {len(foreign)} file(s) mcugen did not write ({shown}); "
            "choose an empty or new directory, or pass --force to write mcugen's files beside them")
    clash = sorted(set(foreign) & set(new_files or []))
    if clash:
        raise McugenError(
            f"output directory '{outdir}' holds '{clash[0]}', which mcugen did not write but would write now; "
            "mcugen never overwrites such files, even with --force: move it away or choose another -o (or --name)")


def write_tree(outdir: Path, files: dict[str, bytes], force: bool = False) -> None:
    """Replaces mcugen's files in outdir with `files` (relative path -> bytes)."""
    outdir = Path(outdir)
    check_writable(outdir, force, list(files))
    existed = outdir.is_dir()
    # stage next to the final place: inside outdir when it exists (its parent
    # may not be writable), else beside it, so every move is a rename
    stage_in = outdir if existed else outdir.absolute().parent
    try:
        stage_in.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=stage_in))
    except OSError as e:
        raise McugenError(f"cannot create the output directory '{outdir}': {e.strerror or e}; "
                          "check the path and its permissions") from None
    try:
        for rel, data in files.items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        (tmp / MANIFEST).write_text(json.dumps({"generator": "mcugen", "files": sorted(files)}, indent=1) + "\n")
        _match_umask(tmp)
        if not existed:
            os.replace(tmp, outdir)
            return
        _swap_in(outdir, tmp, sorted(files) + [MANIFEST], [r for r in _previous(outdir) if r not in files])
        _prune_empty_dirs(outdir)
    except OSError as e:
        where = f" ('{e.filename}')" if getattr(e, "filename", None) else ""
        raise McugenError(f"cannot write into '{outdir}'{where}: {e.strerror or e}; nothing was changed there. "
                          "Check its permissions or choose another -o") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(outdir: Path, tmp: Path, new: list[str], stale: list[str]) -> None:
    """Moves the previous run's files into a backup, the new ones into place;
    on any failure, undoes every move so the folder is as it was."""
    backup = tmp / ".previous"
    moved_out: list[str] = []
    moved_in: list[str] = []
    try:
        for rel in new + stale:
            old = outdir / rel
            if old.is_file() or old.is_symlink():
                (backup / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(old, backup / rel)
                moved_out.append(rel)
        for rel in new:
            dst = outdir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, dst)
            moved_in.append(rel)
    except OSError:
        for rel in reversed(moved_in):
            try:
                os.replace(outdir / rel, tmp / rel)
            except OSError:
                pass
        for rel in reversed(moved_out):
            try:
                os.replace(backup / rel, outdir / rel)
            except OSError:
                pass
        raise


def _match_umask(root: Path) -> None:
    # mkdtemp makes 0700 folders; give the result the permissions a plain mkdir would
    mask = os.umask(0)
    os.umask(mask)
    for p in [root, *root.rglob("*")]:
        if p.is_dir():
            p.chmod(0o777 & ~mask)


def _prune_empty_dirs(root: Path) -> None:
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        try:
            d.rmdir()
        except OSError:
            pass
