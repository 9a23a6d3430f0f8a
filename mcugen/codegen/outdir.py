"""Writing an output folder without losing anything.

Files are rendered into a temporary sibling folder first; only when every
file exists does it replace the files of the previous run. A manifest
records what mcugen wrote, so a re-run removes exactly those and nothing
the user put there; a folder holding files mcugen did not write is refused
unless --force (and even then only mcugen's own names are replaced).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import McugenError

MANIFEST = ".mcugen-manifest.json"


def _previous(outdir: Path) -> list[str]:
    try:
        data = json.loads((outdir / MANIFEST).read_text())
        return [f for f in data.get("files", []) if isinstance(f, str)]
    except (OSError, ValueError, AttributeError):
        return []


def _all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink())


def check_writable(outdir: Path, force: bool) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise McugenError(f"output path '{outdir}' exists and is not a directory; choose another -o")
    if not outdir.exists():
        return
    ours = set(_previous(outdir)) | {MANIFEST}
    foreign = [f for f in _all_files(outdir) if f not in ours]
    if foreign and not force:
        shown = ", ".join(foreign[:5]) + (" …" if len(foreign) > 5 else "")
        raise McugenError(
            f"output directory '{outdir}' holds {len(foreign)} file(s) mcugen did not write ({shown}); "
            "choose an empty or new directory, or pass --force to write mcugen's files beside them")


def write_tree(outdir: Path, files: dict[str, bytes], force: bool = False) -> None:
    """Replaces mcugen's files in outdir with `files` (relative path -> bytes)."""
    outdir = Path(outdir)
    check_writable(outdir, force)
    parent = outdir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.mcugen-", dir=parent))
    except OSError as e:
        raise McugenError(f"cannot create output directory under '{parent}': {e.strerror}") from None
    try:
        for rel, data in files.items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        (tmp / MANIFEST).write_text(json.dumps({"generator": "mcugen", "files": sorted(files)}, indent=1) + "\n")
        if not outdir.exists():
            os.replace(tmp, outdir)
            return
        for rel in _previous(outdir):
            old = outdir / rel
            if rel not in files and old.is_file():
                old.unlink()
        for rel in list(files) + [MANIFEST]:
            dst = outdir / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp / rel, dst)
        _prune_empty_dirs(outdir)
    except OSError as e:
        raise McugenError(f"cannot write into '{outdir}': {e.strerror or e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _prune_empty_dirs(root: Path) -> None:
    for d in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        try:
            d.rmdir()
        except OSError:
            pass
