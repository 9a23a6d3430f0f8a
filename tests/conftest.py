import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("MCUGEN_SHARED_MODELS", ROOT.parent / "shared" / "models"))
FIXTURES = ROOT / "tests" / "fixtures"
SHARED_MODELS = ["ad01_int8", "ic01_resnet8_int8", "kws01_dscnn_int8", "vww01_mobilenet_int8"]


def shared_model(name: str) -> Path:
    p = SHARED / f"{name}.tflite"
    if not p.exists():
        pytest.skip(f"shared model {p} is not present (set MCUGEN_SHARED_MODELS)")
    return p


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    # host builds go to a per-run cache so tests never reuse stale objects
    os.environ.setdefault("MCUGEN_CACHE", str(tmp_path_factory.mktemp("mcugen-cache")))
