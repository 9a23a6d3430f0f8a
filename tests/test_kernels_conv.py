"""The conv-family C kernels against the numpy reference kernels, bit for bit.

Each configuration (plain C; DSP code path emulated in C under ASan+UBSan;
single rounding) compiles ONE test program holding every random case: the
KernelCalls from lower_conv are rendered into C (consts, params struct,
call) with exact-size buffers so the sanitizers see any over-read, and the
program writes all outputs to a file that is compared here with the
reference interpreter's results. A case may force a kernel variant (the
lowering functions' `variant`, `transposed`, `scratch_limit`) and may run
in place (output buffer = input buffer, for calls that allow it). Buffers
get exactly the alignment the generator promises: constant tables 16,
activations and scratch 4 (scratch at 4 mod 8, so nothing relies on more);
the one-channel depthwise kernel, which claims none, gets an odd scratch.
On QEMU the same program runs the Cortex-M4 assembly paths.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import single_op as so
from mcugen import fixedpoint as fp
from mcugen.codegen import lower_conv
from mcugen.codegen.lowering import KernelCall
from mcugen.reference import interpreter

ROOT = Path(__file__).resolve().parents[1]
INC, SRC = ROOT / "runtime_c" / "include", ROOT / "runtime_c" / "src"
WARN = ["-std=c99", "-Wall", "-Wextra", "-Werror"]
CONFIGS = {
    "plain": (["-O2"], "double"),
    "dsp_emulated_sanitized": (["-O1", "-g", "-DMCU_EMULATE_DSP", "-fsanitize=address,undefined",
                                "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"], "double"),
    "single_rounding": (["-O2", "-DMCU_EMULATE_DSP", "-DMCU_SINGLE_ROUNDING"], "single"),
}


# ---- random cases ------------------------------------------------------------------

# effective scale > 1 (a left shift in the requantization) without saturating:
# weights in {-1, 0, 1}, inputs within +-SPREAD of the zero point
LEFT_SHIFT = dict(weight_max=1, gain=20.0, bias=False, out_zp=0)
SPREAD = 4



class _Cases(list):
    """(name, graph, opts): opts are lowering keywords, plus inplace=True to
    run the kernel with the output over its input."""

    def append(self, item):
        super().append(item if len(item) == 3 else (*item, {}))


def _cases() -> list[tuple[str, object, dict]]:
    """(name, graph, opts) triples; shapes small, but covering every code path."""
    rng = np.random.default_rng(20240611)
    C = _Cases()
    conv, dw, fc, tc = so.conv2d, so.depthwise, so.fully_connected, so.transpose_conv
    # fixed shapes for the specialised paths
    C.append(("conv_first_3ch_s2", conv(rng, in_hw=(16, 15), in_c=3, out_c=8, kernel=(3, 3), stride=(2, 2))))
    C.append(("conv_first_3ch_s1_relu", conv(rng, in_hw=(9, 10), in_c=3, out_c=16, activation_fn="RELU")))
    C.append(("conv_1x1_s1", conv(rng, in_hw=(5, 7), in_c=16, out_c=24, kernel=(1, 1))))
    C.append(("conv_1x1_s2_odd", conv(rng, in_hw=(7, 5), in_c=7, out_c=5, kernel=(1, 1), stride=(2, 2))))
    C.append(("conv_1x1_batch3_valid", conv(rng, batches=3, in_hw=(3, 3), in_c=6, out_c=3, kernel=(1, 1), padding="VALID")))
    C.append(("conv_1xN_inplace", conv(rng, in_hw=(1, 20), in_c=4, out_c=6, kernel=(1, 5), padding="VALID")))
    C.append(("conv_1xN_same", conv(rng, in_hw=(2, 13), in_c=5, out_c=3, kernel=(1, 3), stride=(1, 2))))
    C.append(("conv_kws_first", conv(rng, in_hw=(25, 10), in_c=1, out_c=8, kernel=(10, 4), stride=(2, 2), activation_fn="RELU")))
    C.append(("conv_grouped", conv(rng, in_hw=(6, 6), in_c=8, out_c=6, groups=2)))
    C.append(("conv_grouped_1x1", conv(rng, in_hw=(4, 5), in_c=6, out_c=9, kernel=(1, 1), groups=3)))
    C.append(("conv_dilated", conv(rng, in_hw=(9, 9), in_c=3, out_c=4, dilation=(2, 2))))
    C.append(("conv_left_shift", conv(rng, in_hw=(4, 4), in_c=1, out_c=3, kernel=(1, 1), **LEFT_SHIFT)))
    C.append(("conv_no_bias_relu6", conv(rng, in_hw=(6, 5), in_c=4, out_c=5, bias=False, activation_fn="RELU6")))
    C.append(("conv_zp_extremes", conv(rng, in_hw=(5, 5), in_c=3, out_c=4, in_zp=-128, out_zp=127)))
    C.append(("conv_zp_127", conv(rng, in_hw=(5, 6), in_c=2, out_c=3, in_zp=127, out_zp=-128, per_channel=False)))
    C.append(("dw3x3_s1", dw(rng, in_hw=(7, 9), in_c=8)))
    C.append(("dw3x3_s2", dw(rng, in_hw=(10, 9), in_c=5, stride=(2, 2), activation_fn="RELU6")))
    C.append(("dw3x3_valid", dw(rng, in_hw=(6, 8), in_c=3, padding="VALID")))
    C.append(("dw3x3_s2_valid_batch2", dw(rng, batches=2, in_hw=(9, 8), in_c=4, stride=(2, 2), padding="VALID")))
    C.append(("dw3x3_1ch_tiny", dw(rng, in_hw=(1, 1), in_c=1)))
    C.append(("dw3x3_stride3", dw(rng, in_hw=(11, 7), in_c=6, stride=(3, 2))))
    C.append(("dw3x3_left_shift", dw(rng, in_hw=(5, 5), in_c=4, **{**LEFT_SHIFT, "gain": 30.0})))
    C.append(("dw5x5", dw(rng, in_hw=(8, 7), in_c=6, kernel=(5, 5))))
    C.append(("dw_dm2", dw(rng, in_hw=(6, 6), in_c=3, depth_multiplier=2)))
    C.append(("dw_dm3_s2", dw(rng, in_hw=(7, 6), in_c=2, depth_multiplier=3, stride=(2, 2))))
    C.append(("dw_dilated", dw(rng, in_hw=(9, 9), in_c=5, dilation=(2, 2))))
    C.append(("dw_3x1", dw(rng, in_hw=(8, 4), in_c=9, kernel=(3, 1), per_channel=False)))
    C.append(("fc_b1", fc(rng, in_depth=64, out_depth=10)))
    C.append(("fc_b1_odd", fc(rng, in_depth=27, out_depth=7, per_channel=True)))
    C.append(("fc_b2", fc(rng, batches=2, in_depth=33, out_depth=9, activation_fn="RELU")))
    C.append(("fc_b3_pc", fc(rng, batches=3, in_depth=8, out_depth=4, per_channel=True)))
    C.append(("fc_weight_zp", fc(rng, batches=3, in_depth=13, out_depth=5, weight_zp=7)))
    C.append(("fc_depth1", fc(rng, in_depth=1, out_depth=3, gain=0.5)))
    C.append(("fc_left_shift", fc(rng, in_depth=2, out_depth=4, **LEFT_SHIFT)))
    C.append(("fc_4d_input", fc(rng, batches=1, in_depth=24, out_depth=6, input_shape=(1, 2, 3, 4))))
    C.append(("tconv_s2_same", tc(rng, in_hw=(4, 5), in_c=3, out_c=4)))
    C.append(("tconv_s1_valid", tc(rng, in_hw=(3, 4), in_c=5, out_c=2, stride=(1, 1), padding="VALID")))
    C.append(("tconv_s3_k4", tc(rng, in_hw=(3, 2), in_c=2, out_c=3, kernel=(4, 4), stride=(3, 3), per_channel=False)))
    C.append(("tconv_k2_s2_batch2", tc(rng, batches=2, in_hw=(3, 3), in_c=6, out_c=5, kernel=(2, 2))))
    # the Helium paths (M55): depth-8 1x1 at stride 1 (odd pixel count, ReLU6 clamp), runs of 16+ bytes
    # with a 4/8/12-byte rest (im2col columns of 28 and 40), 3x3 depthwise on four channels per vector
    C.append(("conv_1x1_d8_odd_relu6", conv(rng, in_hw=(5, 5), in_c=8, out_c=6, kernel=(1, 1), activation_fn="RELU6")))
    C.append(("conv_1x1_d32_relu", conv(rng, in_hw=(3, 5), in_c=32, out_c=10, kernel=(1, 1), activation_fn="RELU")))
    C.append(("conv_im2col_28", conv(rng, in_hw=(7, 6), in_c=3, out_c=6, activation_fn="RELU6")))
    C.append(("conv_10x4_col40", conv(rng, in_hw=(15, 6), in_c=1, out_c=4, kernel=(10, 4), stride=(2, 2))))
    C.append(("dw3x3_ch4_relu6", dw(rng, in_hw=(6, 7), in_c=12, activation_fn="RELU6")))
    # kernel variants, forced: direct (no-scratch) convolution, im2col of the same shapes
    C.append(("conv_direct_3x3_16", conv(rng, in_hw=(7, 6), in_c=16, out_c=7), {"variant": "direct"}))
    C.append(("conv_direct_s2_valid", conv(rng, in_hw=(9, 8), in_c=8, out_c=6, stride=(2, 2), padding="VALID"),
              {"variant": "direct"}))
    C.append(("conv_direct_5x3_pad", conv(rng, in_hw=(6, 7), in_c=4, out_c=5, kernel=(5, 3), stride=(1, 2)),
              {"variant": "direct"}))
    C.append(("conv_direct_dil_h", conv(rng, in_hw=(9, 6), in_c=12, out_c=4, kernel=(3, 2), dilation=(2, 1)),
              {"variant": "direct"}))
    C.append(("conv_direct_kw1_dil_w", conv(rng, in_hw=(6, 9), in_c=4, out_c=3, kernel=(2, 1), dilation=(1, 3)),
              {"variant": "direct"}))
    C.append(("conv_direct_no_inside", conv(rng, in_hw=(2, 2), in_c=8, out_c=3, kernel=(3, 3), stride=(2, 2)),
              {"variant": "direct"}))
    C.append(("conv_direct_relu6_pt", conv(rng, in_hw=(5, 5), in_c=8, out_c=4, activation_fn="RELU6",
                                           per_channel=False), {"variant": "direct"}))
    C.append(("conv_direct_scratch0", conv(rng, in_hw=(8, 8), in_c=16, out_c=16), {"scratch_limit": 0}))
    C.append(("conv_im2col_3x3_16", conv(rng, in_hw=(7, 6), in_c=16, out_c=7), {"variant": "im2col"}))
    # depthwise 3x3: four channels at a time, one channel at a time, transposed, in place
    C.append(("dw_ch4_s1_inplace", dw(rng, in_hw=(6, 7), in_c=8), {"inplace": True}))
    C.append(("dw_ch4_tall_inplace", dw(rng, in_hw=(9, 4), in_c=12, activation_fn="RELU"), {"inplace": True}))
    C.append(("dw_ch4_s2", dw(rng, in_hw=(9, 8), in_c=4, stride=(2, 2))))
    C.append(("dw_ch4_s2_valid_batch2", dw(rng, batches=2, in_hw=(7, 9), in_c=8, stride=(2, 2), padding="VALID")))
    C.append(("dw_ch4_chunked", dw(rng, in_hw=(5, 6), in_c=20), {"scratch_limit": 2 * 6 * 4 * 8}))
    C.append(("dw_ch4_1x1_img", dw(rng, in_hw=(1, 1), in_c=4)))
    C.append(("dw_ch4_s3_wide", dw(rng, in_hw=(4, 11), in_c=4, stride=(3, 3))))
    C.append(("dw_ch4_per_tensor", dw(rng, in_hw=(5, 5), in_c=8, per_channel=False)))
    C.append(("dw_channel_inplace", dw(rng, in_hw=(5, 8), in_c=3), {"inplace": True}))
    C.append(("dw_channel_tall_inplace", dw(rng, in_hw=(11, 3), in_c=5), {"inplace": True}))
    C.append(("dw_channel_forced_s2", dw(rng, in_hw=(8, 7), in_c=8, stride=(2, 1), activation_fn="RELU6"),
              {"variant": "channel"}))
    C.append(("dw_channel_transposed_s2", dw(rng, in_hw=(7, 9), in_c=4, stride=(1, 2)),
              {"variant": "channel", "transposed": True}))
    C.append(("dw_channel_even_odd", dw(rng, in_hw=(5, 4), in_c=4, padding="VALID"), {"variant": "channel"}))
    C.append(("dw_general_forced", dw(rng, in_hw=(5, 6), in_c=4), {"variant": "general"}))
    C.append(("dw_scratch_too_small", dw(rng, in_hw=(6, 6), in_c=4), {"scratch_limit": 20}))
    C.append(("fc_quad_tails", fc(rng, in_depth=13, out_depth=11, per_channel=True)))
    C.append(("fc_k8_relu", fc(rng, in_depth=8, out_depth=9, activation_fn="RELU")))
    # random shapes
    for k in range(14):
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        groups = int(rng.choice([1, 1, 1, 2]))
        dh, dw_ = int(rng.choice([1, 1, 2])), int(rng.choice([1, 1, 2]))
        eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw_ + 1
        C.append((f"conv_rand{k}", conv(
            rng, batches=int(rng.integers(1, 3)), in_hw=(int(rng.integers(eh, 12)), int(rng.integers(ew, 12))),
            in_c=groups * int(rng.integers(1, 9)), out_c=groups * int(rng.integers(1, 7)), kernel=(kh, kw),
            stride=(int(rng.integers(1, 4)), int(rng.integers(1, 4))), dilation=(dh, dw_),
            padding=str(rng.choice(["SAME", "VALID"])), groups=groups, per_channel=bool(rng.integers(2)),
            bias=bool(rng.integers(4)), activation_fn=str(rng.choice(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"])))))
    for k in range(12):
        kh, kw = (3, 3) if k % 2 else (int(rng.integers(1, 6)), int(rng.integers(1, 6)))
        dm = 1 if k % 2 else int(rng.integers(1, 4))
        dh, dw_ = (1, 1) if k % 2 else (int(rng.choice([1, 2])), int(rng.choice([1, 2])))
        eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw_ + 1
        C.append((f"dw_rand{k}", dw(
            rng, batches=int(rng.integers(1, 3)), in_hw=(int(rng.integers(eh, 13)), int(rng.integers(ew, 13))),
            in_c=int(rng.integers(1, 11)), depth_multiplier=dm, kernel=(kh, kw),
            stride=(int(rng.integers(1, 4)), int(rng.integers(1, 4))), dilation=(dh, dw_),
            padding=str(rng.choice(["SAME", "VALID"])), per_channel=bool(rng.integers(2)),
            activation_fn=str(rng.choice(["NONE", "RELU", "RELU6"])))))
    for k in range(8):
        C.append((f"fc_rand{k}", fc(
            rng, batches=int(rng.integers(1, 5)), in_depth=int(rng.integers(1, 90)), out_depth=int(rng.integers(1, 20)),
            per_channel=bool(rng.integers(2)), bias=bool(rng.integers(4)))))
    for k in range(4):
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        C.append((f"tconv_rand{k}", tc(
            rng, in_hw=(int(rng.integers(1, 6)), int(rng.integers(1, 6))), in_c=int(rng.integers(1, 6)),
            out_c=int(rng.integers(1, 6)), kernel=(kh, kw), stride=(int(rng.integers(1, 4)), int(rng.integers(1, 4))),
            padding=str(rng.choice(["SAME", "VALID"])), per_channel=bool(rng.integers(2)))))
    for k in range(8):
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(2, 5))  # 1x1 would take the 1x1 kernel
        dh = int(rng.choice([1, 1, 2]))
        C.append((f"conv_direct_rand{k}", conv(
            rng, batches=int(rng.integers(1, 3)), in_hw=(int(rng.integers((kh - 1) * dh + 1, 11)), int(rng.integers(kw, 11))),
            in_c=4 * int(rng.integers(1, 5)), out_c=int(rng.integers(1, 8)), kernel=(kh, kw),
            stride=(int(rng.integers(1, 3)), int(rng.integers(1, 3))), dilation=(dh, 1),
            padding=str(rng.choice(["SAME", "VALID"])), per_channel=bool(rng.integers(2)),
            activation_fn=str(rng.choice(["NONE", "RELU"]))), {"variant": "direct"}))
    for k in range(8):
        same = k % 2 == 0
        opts = {"inplace": True} if same else {}
        if k % 4 == 3:
            opts["variant"] = "channel"
        pad = "SAME" if same else str(rng.choice(["SAME", "VALID"]))
        lo = 1 if pad == "SAME" else 3
        C.append((f"dw3x3_rand{k}", dw(
            rng, batches=int(rng.integers(1, 3)), in_hw=(int(rng.integers(lo, 11)), int(rng.integers(lo, 11))),
            in_c=4 * int(rng.integers(1, 5)), stride=(1, 1) if same else (int(rng.integers(1, 4)), int(rng.integers(1, 4))),
            padding=pad, per_channel=bool(rng.integers(2)),
            activation_fn=str(rng.choice(["NONE", "RELU", "RELU6"]))), opts))
    return C


# ---- rendering a test program --------------------------------------------------------


def _c_array(ctype: str, name: str, data: np.ndarray, const: bool = True, align: int = 0) -> str:
    vals = ", ".join(str(int(v)) if int(v) != -(2**31) else "(-2147483647 - 1)" for v in np.asarray(data).ravel())
    n = max(int(np.asarray(data).size), 1)
    al = f" __attribute__((aligned({align})))" if align else ""
    return f"{'static const' if const else 'static'} {ctype} {name}[{n}]{al} = {{{vals or '0'}}};\n"


# scratch alignment each kernel is promised (the generator's arena gives 4)
SCRATCH_ALIGN = {"mcu_depthwise_conv_3x3_s8": 1}


def _render_case(k: int, call: KernelCall, x: np.ndarray, out_bytes: int, inplace: bool = False) -> tuple[str, str]:
    """Globals and the statement block running case k (its call was lowered
    with index k); its output is then in out{k}."""
    g = []
    for c in call.consts:
        g.append(_c_array(c.ctype, c.name, c.data, align=c.align))
    fields = "".join(f"    .{f} = {v},\n" for f, v in call.params_init.items())
    g.append(f"static const {call.params_type} l{k}_params = {{\n{fields}}};\n")
    if inplace:
        assert call.inplace_input == 0 and x.size == out_bytes, f"case {k}: {call.func} cannot run in place here"
        g.append(_c_array("int8_t", f"out{k}", x, const=False, align=4))
        src = f"out{k}"
    else:
        g.append(_c_array("int8_t", f"in{k}", x, align=4))
        g.append(f"static int8_t out{k}[{out_bytes}] __attribute__((aligned(4)));\n")
        src = f"in{k}"
    scratch = "((int8_t *)0)"
    if call.scratch_bytes:
        off = SCRATCH_ALIGN.get(call.func, 4)
        g.append(f"static int8_t scratch{k}[{call.scratch_bytes + off}] __attribute__((aligned(8)));\n")
        scratch = f"(scratch{k} + {off})"
    args = [a.format(params=f"&l{k}_params", in0=src, out0=f"out{k}", scratch=scratch) for a in call.args]
    return "".join(g), f"    {call.func}({', '.join(args)});\n"


_FIXEDPOINT_C = r"""
static void fixedpoint_check(FILE *f, const int32_t *x, const int32_t *m, const int32_t *s, const int32_t *tab, int n)
{
    int i;
    for (i = 0; i < n; ++i) {
        int32_t r[7];
        r[0] = mcu_mul_by_quantized_mult(x[i], m[i], s[i]);
        r[1] = mcu_requantize_s8(x[i], m[i], s[i], 3, -128, 127);
        r[2] = mcu_sat_rounding_doubling_high_mul(x[i], m[i]);
        r[3] = mcu_rounding_divide_by_pot(x[i], s[i] < 0 ? -s[i] : s[i]);
        r[4] = mcu_sat_rounding_mul_by_pot(x[i], s[i] > 0 ? s[i] % 8 : s[i]);
        r[5] = mcu_sat_rounding_doubling_high_mul(x[i], x[i]);
        r[6] = mcu_requant_tab_s8(tab + 3 * i, x[i], -128, 127);
        fwrite(r, sizeof r, 1, f);
    }
}
"""


def _fixedpoint_inputs():
    rng = np.random.default_rng(7)
    edge_x = [-(2**31), 2**31 - 1, 0, 1, -1, 2**30, -(2**30), 12345, -12345, 2**16, -(2**16) - 1]
    x = np.concatenate([edge_x * 9, rng.integers(-(2**31), 2**31, 300), rng.integers(-5000, 5000, 300)])
    m = np.concatenate([[0, 2**30, 2**31 - 1, 2**30 + 1, 1518500250, 1073741824, 2147483600, 1234567890, 1610612736] * 11,
                        rng.integers(2**30, 2**31, 600)])[:x.size]
    s = np.concatenate([rng.integers(-31, 31, 99), rng.integers(-31, 31, 300), rng.integers(-12, 3, 300)])[:x.size]
    s[:2] = [-31, 30]
    return x.astype(np.int64), m.astype(np.int64), s.astype(np.int64)


def _fixedpoint_expected(x, m, s, rounding):
    q = fp.multiply_by_quantized_multiplier(x, m, s, rounding)
    req = np.clip(fp.wrap_int32(q + 3), -128, 127)
    sat_hi = fp.saturating_rounding_doubling_high_mul(x, m)
    rdbp = fp.rounding_divide_by_pot(x, np.abs(s))
    from mcugen.reference import gemmlowp
    pot = np.array([gemmlowp.saturating_rounding_multiply_by_pot(int(a), int(e % 8 if e > 0 else e))
                    for a, e in zip(x, s)], dtype=np.int64)
    sq = fp.saturating_rounding_doubling_high_mul(x, x)
    return np.stack([q, req, sat_hi, rdbp, pot, sq, req], axis=1).astype(np.int32)


def _lower(g, k: int, opts: dict, rounding: str = "double") -> KernelCall:
    op = g.operators[0]
    return lower_conv.LOWER[op.kind](g, op, k, rounding=rounding, **{o: v for o, v in opts.items() if o != "inplace"})


def _lower_cases(cases, rounding: str, seed: int = 99):
    """(calls, inputs, reference outputs); case k is lowered with index k so
    the constant names l{k}_... never clash."""
    calls, xs, refs = [], [], []
    rng = np.random.default_rng(seed)
    for k, (name, g, opts) in enumerate(cases):
        calls.append(_lower(g, k, opts, rounding))
        xs.append(so.random_input(rng, g, spread=SPREAD if "left_shift" in name else None))
        refs.append(interpreter.run(g, [xs[-1]], rounding)[0])
    return calls, xs, refs


def _render_program(calls, xs, refs, target: str, inplace=None) -> str:
    """target "host": main(argv[1]) writes every output to a file.
    target "qemu": mcugen_harness_invoke() for boards/qemu/main.c; layer mark
    2k opens case k's kernel call, 2k+1 the copy of its output.
    inplace[k]: case k runs with its output over its input."""
    glob, blocks = [], []
    inplace = inplace or [False] * len(calls)
    for k, (call, x, y) in enumerate(zip(calls, xs, refs)):
        gl, body = _render_case(k, call, x, y.size, inplace[k])
        glob.append(gl)
        if target == "host":
            blocks.append(body + f"    fwrite(out{k}, 1, {y.size}, f);\n")
        else:
            blocks.append(f"    MCUGEN_LAYER_MARK({2 * k});\n{body}    MCUGEN_LAYER_MARK({2 * k + 1});\n"
                          f"    memcpy(o, out{k}, {y.size});\n    o += {y.size};\n")
    fx, fm, fs = _fixedpoint_inputs()
    head = "#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n#include \"mcu_nn.h\"\n"
    if target == "qemu":
        head = "#include <stdint.h>\n#include <string.h>\n#include \"mcu_nn.h\"\n#include \"mcugen_harness.h\"\n"
    tables = (_c_array("int32_t", "fx", fx) + _c_array("int32_t", "fm", fm) + _c_array("int32_t", "fs", fs)
              + _c_array("int32_t", "ftab", lower_conv.requant_table(fm, fs, 3)))
    if target == "host":
        main = ("int main(int argc, char **argv)\n{\n    FILE *f;\n    if (argc < 2) return 2;\n"
                "    f = fopen(argv[1], \"wb\");\n    if (!f) return 3;\n" + "".join(blocks)
                + f"    fixedpoint_check(f, fx, fm, fs, ftab, {fx.size});\n    fclose(f);\n    return 0;\n}}\n")
        return head + "".join(glob) + _FIXEDPOINT_C + tables + main
    main = ("int mcugen_harness_invoke(const int8_t *in, int8_t *o)\n{\n    (void)in;\n" + "".join(blocks)
            + f"    MCUGEN_LAYER_MARK({2 * len(calls)});\n    fixedpoint_check(o, fx, fm, fs, ftab, {fx.size});\n"
            "    return 0;\n}\n")
    return head + "".join(glob) + _FIXEDPOINT_C.replace("FILE *f", "int8_t *f").replace(
        "fwrite(r, sizeof r, 1, f);", "memcpy(f, r, sizeof r);\n        f += sizeof r;") + tables + main


def _split_outputs(raw: np.ndarray, refs):
    got, at = [], 0
    for y in refs:
        got.append(raw[at:at + y.size].reshape(y.shape))
        at += y.size
    return got, raw[at:].view(np.int32).reshape(-1, 7)


def _inplace(cases) -> list[bool]:
    return [bool(opts.get("inplace")) for _, _, opts in cases]


def _build_and_run(tmp: Path, config: str, cases, rounding: str):
    flags, _ = CONFIGS[config]
    calls, xs, refs = _lower_cases(cases, rounding)
    (tmp / "main.c").write_text(_render_program(calls, xs, refs, "host", _inplace(cases)))
    sources = sorted({s for c in calls for s in c.sources})
    exe = tmp / "kernels"
    cmd = ["gcc", *WARN, *flags, f"-I{INC}", f"-I{SRC}", str(tmp / "main.c"), *[str(SRC / s) for s in sources], "-o", str(exe)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-4000:]
    r = subprocess.run([str(exe), str(tmp / "out.bin")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"test program failed ({r.returncode}):\n{r.stderr[-4000:]}"
    got, fixed = _split_outputs(np.fromfile(tmp / "out.bin", dtype=np.int8), refs)
    fx, fm, fs = _fixedpoint_inputs()
    return calls, refs, got, (fixed, _fixedpoint_expected(fx, fm, fs, rounding))


CASES = _cases()


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no host gcc")
@pytest.mark.parametrize("config", list(CONFIGS))
def test_kernels_bit_exact(config, tmp_path):
    rounding = CONFIGS[config][1]
    calls, refs, got, (fixed, fixed_expected) = _build_and_run(tmp_path, config, CASES, rounding)
    _check(CASES, calls, refs, got, fixed, fixed_expected)
    # the outputs must not be degenerate, or the comparison proves little
    varied = [np.unique(y).size > 8 for y in refs if y.size >= 24]
    assert sum(varied) > 0.85 * len(varied)
    for (name, g, opts), call, y in zip(CASES, calls, refs):
        if "left_shift" in name:
            sh = lower_conv.requant_table(*_rq_of(g), 0).reshape(-1, 3)[:, 1]
            assert (sh + 100).max() > 0, name  # a slow-form triple holding a left shift
            assert call.params_init["rq_fast"] == 0, name
            assert np.mean((y == 127) | (y == -128)) < 0.3, name
        if opts.get("inplace"):
            assert call.inplace_input == 0, name
    # the forced variants really ran
    funcs = {name: call.func for (name, _, _), call in zip(CASES, calls)}
    assert {f for n, f in funcs.items() if n.startswith("conv_direct")} == {"mcu_conv2d_direct_s8"}
    assert {f for n, f in funcs.items() if n.startswith("dw_ch4")} == {"mcu_depthwise_conv_3x3_ch4_s8"}
    assert {f for n, f in funcs.items() if n.startswith("dw_channel")} == {"mcu_depthwise_conv_3x3_s8"}
    assert funcs["dw_general_forced"] == funcs["dw_scratch_too_small"] == "mcu_depthwise_conv_s8"


def _rq_of(g):
    from mcugen.params import nn as P
    op = g.operators[0]
    p = P.fully_connected_params(g, op) if op.kind == "FULLY_CONNECTED" else P.conv_params(g, op)
    return p.multiplier, p.shift


def test_kernel_choice_follows_shape():
    picks = {name: _lower(g, 0, opts) for name, g, opts in CASES}
    func = {name: c.func for name, c in picks.items()}
    assert func["conv_first_3ch_s2"] == "mcu_conv2d_s8"  # in_c % 4 != 0: im2col
    assert func["conv_1x1_s2_odd"] == "mcu_conv2d_1x1_s8"
    assert func["conv_grouped_1x1"] == "mcu_conv2d_s8"
    assert func["conv_direct_scratch0"] == "mcu_conv2d_direct_s8" and picks["conv_direct_scratch0"].scratch_bytes == 0
    assert func["dw3x3_s2"] == "mcu_depthwise_conv_3x3_s8"  # 5 channels: one at a time
    assert func["dw_ch4_s2"] == "mcu_depthwise_conv_3x3_ch4_s8"
    assert func["dw_dm2"] == "mcu_depthwise_conv_s8"
    assert func["dw_dilated"] == "mcu_depthwise_conv_s8"
    assert picks["conv_1xN_inplace"].scratch_bytes == 0
    assert picks["conv_1xN_same"].scratch_bytes == 2 * 3 * 5
    # in place exactly when the depthwise output has the input's shape
    assert picks["dw_ch4_s1_inplace"].inplace_input == 0 and picks["dw_channel_inplace"].inplace_input == 0
    assert picks["dw_ch4_s2"].inplace_input is None and picks["dw3x3_valid"].inplace_input is None
    assert picks["dw_general_forced"].inplace_input is None
    # tall images run transposed (columns as rows)
    assert picks["dw_ch4_tall_inplace"].params_init["transposed"] == 1
    assert picks["dw_channel_tall_inplace"].params_init["transposed"] == 1
    assert picks["dw_ch4_s1_inplace"].params_init["transposed"] == 0


def test_scratch_limit_picks_a_variant_that_fits():
    rng = np.random.default_rng(5)
    # a 3x3 convolution: the direct kernel (no scratch) wherever it applies, else im2col
    g = so.conv2d(rng, in_hw=(16, 16), in_c=8, out_c=8)
    assert _lower(g, 0, {"variant": "im2col"}).scratch_bytes == 2 * 72
    for limit in (None, 0, 1000):
        c = _lower(g, 0, {"scratch_limit": limit})
        assert (c.func, c.scratch_bytes) == ("mcu_conv2d_direct_s8", 0)
    g3 = so.conv2d(rng, in_hw=(8, 8), in_c=3, out_c=8)  # in_c % 4 != 0: im2col only
    assert _lower(g3, 0, {"scratch_limit": 0}).func == "mcu_conv2d_s8"
    # depthwise: all channels per pass, fewer, the one-channel kernel, then the general one
    g = so.depthwise(rng, in_hw=(6, 10), in_c=16)
    full = _lower(g, 0, {})
    assert full.func == "mcu_depthwise_conv_3x3_ch4_s8" and full.params_init["group_chunk"] == 4
    assert full.scratch_bytes == lower_conv.dw_ch4_scratch(16, 10, 1)
    per_group = lower_conv.dw_ch4_scratch(4, 10, 1)
    for limit, chunk in [(3 * per_group, 2), (2 * per_group, 2), (per_group + 1, 1)]:
        c = _lower(g, 0, {"scratch_limit": limit})
        assert (c.func, c.params_init["group_chunk"]) == ("mcu_depthwise_conv_3x3_ch4_s8", chunk)
        assert c.scratch_bytes <= limit
    # the other orientation (6 rows of 10, taken as 10 rows of 6) needs less per group
    per_group_t = lower_conv.dw_ch4_scratch(4, 6, 1)
    c = _lower(g, 0, {"scratch_limit": per_group_t})
    assert (c.func, c.params_init["transposed"], c.scratch_bytes) == ("mcu_depthwise_conv_3x3_ch4_s8", 1, per_group_t)
    c = _lower(g, 0, {"scratch_limit": per_group_t - 1})
    assert c.func == "mcu_depthwise_conv_3x3_s8" and c.scratch_bytes <= per_group_t - 1 and c.inplace_input == 0
    assert _lower(g, 0, {"scratch_limit": 10}).func == "mcu_depthwise_conv_s8"
    assert _lower(g, 0, {"scratch_limit": 10}).scratch_bytes == 0


def test_generator_passes_scratch_limit():
    """generate.lower() re-lowers a call whose scratch exceeds the free
    bytes at its step; the conv lowerings accept that hint."""
    import inspect
    for fn in (lower_conv.lower_conv2d, lower_conv.lower_depthwise):
        assert "scratch_limit" in inspect.signature(fn).parameters


def test_bias_fold_and_pair_layout():
    w = np.arange(-15, 15, dtype=np.int8).reshape(3, 10)
    lay = lower_conv.pair_layout(w)
    # rows 0 and 1 interleave by words, then tails, then row 2 as is
    assert lay[:8].tolist() == w[0, :4].tolist() + w[1, :4].tolist()
    assert lay[16:20].tolist() == w[0, 8:].tolist() + w[1, 8:].tolist()
    assert lay[20:].tolist() == w[2].tolist()
    # quad layout: four rows by words, their tails, the rest in pairs
    w6 = np.arange(-60, 6, dtype=np.int8).reshape(6, 11)
    q = lower_conv.quad_layout(w6)
    assert q[:16].tolist() == sum((w6[r, :4].tolist() for r in range(4)), [])
    assert q[32:44].tolist() == sum((w6[r, 8:].tolist() for r in range(4)), [])
    assert q[44:].tolist() == lower_conv.pair_layout(w6[4:]).tolist()
    # the conv stream: biases, pair-layout rows, triples (int32 little-endian)
    b = np.array([1, -2, 3], np.int32)
    rq = np.arange(9, dtype=np.int32) - 4
    st = lower_conv.conv_stream(w6[:3, :8], b, rq)
    assert st.size == 3 * (8 + 16)
    assert st[:8].view("<i4").tolist() == [1, -2] and st[24:48].view("<i4").tolist() == rq[:6].tolist()
    assert st[48:52].view("<i4").tolist() == [3] and st[60:].view("<i4").tolist() == rq[6:].tolist()
    b = lower_conv.fold_bias(np.array([1, 2, 2**31 - 1], np.int32), w, 3)
    assert b[0] == 1 + 3 * int(w[0].astype(int).sum())
    assert b[2] == fp.wrap_int32(2**31 - 1 + 3 * int(w[2].astype(int).sum()))  # wraps like TFLM's int32


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m0plus", "cortex-m3", "cortex-m7", "cortex-m33", "cortex-m55"])
def test_cross_compiles_warning_free(cpu, tmp_path):
    cc = shutil.which("arm-none-eabi-gcc")
    if cc is None:
        pytest.skip("arm-none-eabi-gcc is not installed")
    srcs = sorted({s for name, g, opts in CASES for s in _lower(g, 0, opts).sources})
    extra = ["-mfloat-abi=hard", "-mfpu=fpv4-sp-d16"] if cpu == "cortex-m4" else []
    for s in srcs:
        r = subprocess.run([cc, f"-mcpu={cpu}", "-mthumb", *extra, "-O2", *WARN, f"-I{INC}", f"-I{SRC}", "-c",
                            str(SRC / s), "-o", str(tmp_path / (s + ".o"))], capture_output=True, text=True)
        assert r.returncode == 0, f"{s} for {cpu}:\n{r.stderr[-3000:]}"


def _check(cases, calls, refs, got, fixed, fixed_expected):
    bad = []
    for (name, _, _), call, y, z in zip(cases, calls, refs, got):
        if not np.array_equal(y, z):
            diff = np.abs(y.astype(np.int32) - z.astype(np.int32))
            bad.append(f"{name} ({call.func}): {int((diff > 0).sum())}/{y.size} differ, max {int(diff.max())}")
    assert not bad, "\n".join(bad)
    wrong = np.nonzero((fixed != fixed_expected).any(axis=1))[0]
    assert wrong.size == 0, f"fixed-point helpers differ at {wrong[:10]}: got {fixed[wrong[:3]]}, want {fixed_expected[wrong[:3]]}"


@pytest.fixture(scope="module")
def m4_toolchain():
    from mcugen.harness import qemu
    why = qemu.toolchain_missing(count=True)
    if why:
        pytest.skip(f"no Cortex-M toolchain/QEMU: {why}")
    return qemu


@pytest.mark.parametrize("machine", ["mps2-an386", "mps3-an547"])
@pytest.mark.parametrize("rounding", ["double", "single"])
def test_dsp_and_helium_paths_bit_exact_on_qemu(m4_toolchain, rounding, machine, tmp_path):
    """The real SXTB16/SMLAD code (and the M4's requantization) on QEMU
    mps2-an386, and the Helium code on mps3-an547 (Cortex-M55)."""
    qemu = m4_toolchain
    calls, xs, refs = _lower_cases(CASES, rounding)
    (tmp_path / "cases.c").write_text(_render_program(calls, xs, refs, "qemu", _inplace(CASES)))
    fx, fm, fs = _fixedpoint_inputs()
    out_bytes = sum(y.size for y in refs) + fx.size * 28
    sources = [tmp_path / "cases.c", *[SRC / s for s in sorted({s for c in calls for s in c.sources})]]
    defines = {"MCUGEN_IN_BYTES": 1, "MCUGEN_OUT_BYTES": out_bytes, "MCUGEN_PROFILE": None}
    if rounding == "single":
        defines["MCU_SINGLE_ROUNDING"] = None
    elf = qemu.build_firmware(machine, sources, include_dirs=[INC, SRC], defines=defines,
                              out_dir=tmp_path, extra_cflags=["-Werror", "-Wextra", "-std=c99"])
    raw, _ = qemu.run_firmware(machine, elf, b"\0", 1, out_bytes)
    got, fixed = _split_outputs(np.frombuffer(raw, dtype=np.int8), refs)
    _check(CASES, calls, refs, got, fixed, _fixedpoint_expected(fx, fm, fs, rounding))


# representative MLPerf Tiny layers and the most instructions per MAC each may
# take on the M4 (CMSIS-NN needs ~8 for depthwise 3x3, 4.8-6.1 for first
# convolutions, ~2.1 for k x k and 1x1 convolutions, ~2.2 for
# FULLY_CONNECTED); the bounds are the measured values plus 8%
PERF = [
    # MLPerf Tiny's quantization: fused ReLUs end at the int8 range (output zero point -128)
    ("vww_first_conv_3ch", lambda r: so.conv2d(r, in_hw=(32, 32), in_c=3, out_c=8, stride=(2, 2), activation_fn="RELU",
                                               out_zp=-128), {}, 3.00),
    ("kws_1x1_64", lambda r: so.conv2d(r, in_hw=(25, 5), in_c=64, out_c=64, kernel=(1, 1), activation_fn="RELU",
                                       out_zp=-128), {}, 1.70),
    ("vww_1x1_8_16", lambda r: so.conv2d(r, in_hw=(16, 16), in_c=8, out_c=16, kernel=(1, 1)), {}, 3.25),
    ("ic01_conv3x3_16_im2col", lambda r: so.conv2d(r, in_hw=(16, 16), in_c=16, out_c=16), {"variant": "im2col"}, 1.70),
    ("ic01_conv3x3_16_direct", lambda r: so.conv2d(r, in_hw=(32, 32), in_c=16, out_c=16), {"scratch_limit": 0}, 1.60),
    ("vww_dw3x3_s1", lambda r: so.depthwise(r, in_hw=(24, 24), in_c=16, activation_fn="RELU", out_zp=-128),
     {"inplace": True}, 3.30),
    ("vww_dw3x3_s2", lambda r: so.depthwise(r, in_hw=(24, 24), in_c=32, stride=(2, 2), padding="VALID"), {}, 4.05),
    ("vww_dw3x3_6x6", lambda r: so.depthwise(r, in_hw=(6, 6), in_c=128), {"inplace": True}, 3.75),
    ("kws_dw3x3_s1", lambda r: so.depthwise(r, in_hw=(25, 5), in_c=64), {"inplace": True, "scratch_limit": 8000}, 3.35),
    ("kws_dw3x3_one_channel", lambda r: so.depthwise(r, in_hw=(25, 5), in_c=64),
     {"inplace": True, "variant": "channel"}, 4.45),
    ("ad01_fc_640", lambda r: so.fully_connected(r, in_depth=640, out_depth=128), {}, 1.55),
    ("ad01_fc_128", lambda r: so.fully_connected(r, in_depth=128, out_depth=128), {}, 1.60),
    # a clamp narrower than int8 (ReLU6 with a zero point inside the range): the bytewise clamp
    ("conv3x3_relu6_clamp", lambda r: so.conv2d(r, in_hw=(16, 16), in_c=16, out_c=16, activation_fn="RELU6",
                                                out_zp=-20), {"variant": "im2col"}, 1.75),
    ("dw3x3_relu6_clamp", lambda r: so.depthwise(r, in_hw=(24, 24), in_c=16, activation_fn="RELU6", out_zp=-20),
     {"inplace": True}, 3.50),
]


def test_instructions_per_mac_on_cortex_m4(m4_toolchain, tmp_path):
    """Exact instruction counts (QEMU TCG plugin) of each kernel call; guards
    the fast paths against silent regressions, e.g. a compiler starting to
    spill in an inner loop."""
    qemu = m4_toolchain
    rng = np.random.default_rng(3)
    cases = [(name, make(rng), opts) for name, make, opts, _ in PERF]
    calls, xs, refs = _lower_cases(cases, "double")
    (tmp_path / "cases.c").write_text(_render_program(calls, xs, refs, "qemu", _inplace(cases)))
    fx, _, _ = _fixedpoint_inputs()
    out_bytes = sum(y.size for y in refs) + fx.size * 28
    sources = [tmp_path / "cases.c", *[SRC / s for s in sorted({s for c in calls for s in c.sources})]]
    elf = qemu.build_firmware("mps2-an386", sources, include_dirs=[INC, SRC],
                              defines={"MCUGEN_IN_BYTES": 1, "MCUGEN_OUT_BYTES": out_bytes, "MCUGEN_PROFILE": None},
                              out_dir=tmp_path)
    raw, counts = qemu.run_firmware("mps2-an386", elf, b"\0", 1, out_bytes, count=True, timeout=300)
    got, _ = _split_outputs(np.frombuffer(raw, dtype=np.int8), refs)
    per_call = counts.per_layer[0]
    report = []
    for k, ((name, _, _, bound), call, y, z) in enumerate(zip(PERF, calls, refs, got)):
        assert np.array_equal(y, z), name
        ipm = per_call[2 * k] / call.macs
        report.append(f"{name} ({call.func}): {ipm:.2f} instr/MAC (bound {bound})")
    print("\n".join(report))
    for (name, _, _, bound), line in zip(PERF, report):
        assert float(line.split(": ")[1].split()[0]) < bound, "\n".join(report)
