"""Memory planner: no live overlap, aliases, in-place, and the arena targets on the shared models."""
import pytest

from conftest import shared_model
from mcugen import frontend
from mcugen.plan.memory import check_plan, live_peak, plan_memory

# activation live-set peaks and TFLM arenas from ../shared/models/README.md
LIVE_PEAK = {"ad01_int8": 768, "ic01_resnet8_int8": 49152, "kws01_dscnn_int8": 16000}
TFLM_ARENA_VWW = 103680


@pytest.mark.parametrize("name", list(LIVE_PEAK))
def test_arena_at_most_live_set_peak(name):
    g = frontend.load(shared_model(name))
    p = plan_memory(g)
    assert p.arena_bytes <= LIVE_PEAK[name]
    check_plan(g, p)


def test_vww_arena_below_60_percent_of_tflm():
    g = frontend.load(shared_model("vww01_mobilenet_int8"))
    p = plan_memory(g)
    assert p.arena_bytes <= 0.6 * TFLM_ARENA_VWW
    assert p.arena_bytes == live_peak(p.buffers)  # the planner reaches the lower bound


def test_reshape_aliases_its_input():
    g = frontend.load(shared_model("kws01_dscnn_int8"))
    p = plan_memory(g)
    for op in g.operators:
        if op.kind == "RESHAPE":
            assert p.tensor_offset[op.inputs[0]] == p.tensor_offset[op.outputs[0]]


def test_inplace_only_where_input_dies():
    g = frontend.load(shared_model("ic01_resnet8_int8"))
    adds = {k: 0 for k, op in enumerate(g.operators) if op.kind == "ADD"}
    p = plan_memory(g, inplace=adds)
    check_plan(g, p)
    for k in adds:
        op = g.operators[k]
        a, out = op.inputs[0], op.outputs[0]
        later_reads = [j for j, o in enumerate(g.operators) if j > k and a in o.inputs]
        if p.tensor_offset[a] == p.tensor_offset[out]:
            assert not later_reads


def test_scratch_is_placed_and_counted():
    g = frontend.load(shared_model("kws01_dscnn_int8"))
    p0 = plan_memory(g)
    p = plan_memory(g, scratch={0: 1000})
    check_plan(g, p)
    assert 0 in p.scratch_offset
    # op 0 reads the 490-byte input and writes 8000 bytes: scratch fits beside them under the peak
    assert p.arena_bytes <= max(p0.arena_bytes, 490 + 8000 + 1000 + 8)
