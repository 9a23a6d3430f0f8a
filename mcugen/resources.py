"""Where templates/, runtime_c/ and boards/ are, in a checkout or installed."""

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Top-level data folder `name` (templates, runtime_c or boards)."""
    installed = _PKG / "_data" / name
    if installed.is_dir():
        return installed
    checkout = _PKG.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"mcugen data folder '{name}' is missing from the installation")
