/* mcu_nn_gemm_s8.c - shared GEMM core of the convolutions: the rows of a
 * weight stream (mcu_dot_s8.h) against one or two int8 columns, in 2 x 2
 * blocks, each result requantized straight from its register.
 *
 * The common case - fast requantization (rq_fast) and runs that are a
 * multiple of 8 bytes (or 8k + 4 in one run), which the code generator
 * arranges wherever it can -
 * is one assembly loop over all row pairs on Cortex-M DSP cores: the dot
 * loop needs 13 registers, so everything else (column starts, output
 * pointers, loop ends) lives in stack slots it reads when needed, and the
 * stream hands it biases and triples where its one pointer already is.
 * Everything else runs the C below, which gives the same bits. */
#include <stdint.h>
#include <string.h>

#include "mcu_dot_s8.h"

#if defined(MCU_DSP_ASM)

/* 8 bytes of both columns through both rows */
#define K8_HALF                                   \
    "ldr    %[va], [%[xa]], #4\n\t"               \
    "ldr    %[vb], [%[xb]], #4\n\t"               \
    "ldr    %[wv], [%[wp]], #4\n\t"               \
    "sxtb16 %[a1], %[va], ror #8\n\t"             \
    "sxtb16 %[va], %[va]\n\t"                     \
    "sxtb16 %[b1], %[vb], ror #8\n\t"             \
    "sxtb16 %[vb], %[vb]\n\t"                     \
    "sxtb16 %[t], %[wv]\n\t"                      \
    "smlad  %[s00], %[t], %[va], %[s00]\n\t"      \
    "smlad  %[s01], %[t], %[vb], %[s01]\n\t"      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"             \
    "smlad  %[s00], %[wv], %[a1], %[s00]\n\t"     \
    "smlad  %[s01], %[wv], %[b1], %[s01]\n\t"     \
    "ldr    %[wv], [%[wp]], #4\n\t"               \
    "sxtb16 %[t], %[wv]\n\t"                      \
    "smlad  %[s10], %[t], %[va], %[s10]\n\t"      \
    "smlad  %[s11], %[t], %[vb], %[s11]\n\t"      \
    "sxtb16 %[wv], %[wv], ror #8\n\t"             \
    "smlad  %[s10], %[wv], %[a1], %[s10]\n\t"     \
    "smlad  %[s11], %[wv], %[b1], %[s11]\n\t"
#define K8 K8_HALF K8_HALF

/* Requantize accumulator S in place with the triple (va, vb, a1) */
#define RQ(S) MCU_ASM_RQ(S, "va", "vb", "a1", "xa", "xb")

#define ROW_PAIR_START                            \
    "ldrd   %[s00], %[s10], [%[wp]], #8\n\t"      \
    "mov    %[s01], %[s00]\n\t"                   \
    "mov    %[s11], %[s10]\n\t"                   \
    "ldr    %[xa], %[x0]\n\t"                     \
    "ldr    %[xb], %[x1]\n\t"

#define DOT_LOOP_TO(END)                          \
    "1:\n\t" K8                                   \
    "ldr    %[t], %[" END "]\n\t"                 \
    "cmp    %[xa], %[t]\n\t"                      \
    "bne    1b\n\t"
#define DOT_LOOP DOT_LOOP_TO("end")

/* from the end of one run to the start of the next */
#define JUMP                                      \
    "ldr    %[t], %[jump]\n\t"                    \
    "add    %[xa], %[xa], %[t]\n\t"               \
    "add    %[xb], %[xb], %[t]\n\t"

/* the four results to the outputs: clamped by SSAT to the int8 range... */
#define STORE_FULL                                \
    "ldr    %[t], %[o0]\n\t"                      \
    "strb   %[s10], [%[t], #1]\n\t"               \
    "strb   %[s00], [%[t]], #2\n\t"               \
    "str    %[t], %[o0]\n\t"                      \
    "ldr    %[t], %[o1]\n\t"                      \
    "strb   %[s11], [%[t], #1]\n\t"               \
    "strb   %[s01], [%[t]], #2\n\t"               \
    "str    %[t], %[o1]\n\t"

/* ...or packed into one word and clamped to [act_min, act_max] bytewise
 * (SSUB8 sets a GE flag per byte, SEL picks by them) */
#define STORE_CLAMPED                             \
    "bfi    %[s00], %[s10], #8, #8\n\t"           \
    "bfi    %[s00], %[s01], #16, #8\n\t"          \
    "bfi    %[s00], %[s11], #24, #8\n\t"          \
    MCU_ASM_CLAMP4("s00", "wv", "t")              \
    "ldr    %[t], %[o0]\n\t"                      \
    "strh   %[s00], [%[t]], #2\n\t"               \
    "str    %[t], %[o0]\n\t"                      \
    "lsr    %[s00], %[s00], #16\n\t"              \
    "ldr    %[t], %[o1]\n\t"                      \
    "strh   %[s00], [%[t]], #2\n\t"               \
    "str    %[t], %[o1]\n\t"

#define ROW_PAIR_END(STORE)                       \
    "ldrd   %[va], %[vb], [%[wp]], #8\n\t"        \
    "ldr    %[a1], [%[wp]], #4\n\t"               \
    RQ("s00") RQ("s01")                           \
    "ldrd   %[va], %[vb], [%[wp]], #8\n\t"        \
    "ldr    %[a1], [%[wp]], #4\n\t"               \
    RQ("s10") RQ("s11")                           \
    STORE                                         \
    "ldr    %[t], %[wend]\n\t"                    \
    "cmp    %[wp], %[t]\n\t"                      \
    "bne    2b\n\t"

#define REGS                                                                                                \
    [s00] "=&r"(s00), [s10] "=&r"(s10), [s01] "=&r"(s01), [s11] "=&r"(s11), [xa] "=&r"(xa), [xb] "=&r"(xb), \
        [wp] "+r"(wp), [va] "=&r"(va), [vb] "=&r"(vb), [a1] "=&r"(a1), [b1] "=&r"(b1), [wv] "=&r"(wv),     \
        [t] "=&r"(t), [o0] "+m"(o0), [o1] "+m"(o1)

/* one run per column */
#define ONE_RUN(STORE)                                                                                     \
    __asm__ volatile("2:\n\t" ROW_PAIR_START DOT_LOOP ROW_PAIR_END(STORE)                                  \
                     : REGS                                                                                \
                     : [x0] "m"(x0), [x1] "m"(x1), [end] "m"(end), [wend] "m"(wend), [lo4] "m"(lo4),        \
                       [hi4] "m"(hi4)                                                                      \
                     : "cc", "memory")

/* one run of 8k + 4 bytes (k >= 1): the loop, then half a turn */
#define ONE_RUN_K4(STORE)                                                                                  \
    __asm__ volatile("2:\n\t" ROW_PAIR_START DOT_LOOP K8_HALF ROW_PAIR_END(STORE)                          \
                     : REGS                                                                                \
                     : [x0] "m"(x0), [x1] "m"(x1), [end] "m"(end), [wend] "m"(wend), [lo4] "m"(lo4),        \
                       [hi4] "m"(hi4)                                                                      \
                     : "cc", "memory")

/* 3x3-style kernels: the three runs unrolled */
#define THREE_RUNS(STORE)                                                                                  \
    __asm__ volatile("2:\n\t" ROW_PAIR_START DOT_LOOP JUMP DOT_LOOP_TO("end1") JUMP DOT_LOOP_TO("end2")    \
                     ROW_PAIR_END(STORE)                                                                   \
                     : REGS                                                                                \
                     : [x0] "m"(x0), [x1] "m"(x1), [end] "m"(end), [end1] "m"(end1), [end2] "m"(end2),      \
                       [wend] "m"(wend), [jump] "m"(jump), [lo4] "m"(lo4), [hi4] "m"(hi4)                  \
                     : "cc", "memory")

/* any number of runs: after each the columns jump to the next kernel row
 * (the whole int8 range only: gcc allows 30 operands) */
#define RUNS(STORE)                                                                                        \
    __asm__ volatile("2:\n\t" ROW_PAIR_START                                                               \
                     "ldr    %[t], %[nseg]\n\t"                                                            \
                     "str    %[t], %[segs]\n\t"                                                            \
                     "ldr    %[t], %[end0]\n\t"                                                            \
                     "str    %[t], %[end]\n\t" DOT_LOOP                                                    \
                     "ldr    %[t], %[segs]\n\t"                                                            \
                     "subs   %[t], %[t], #1\n\t"                                                           \
                     "beq    4f\n\t"                                                                       \
                     "str    %[t], %[segs]\n\t" JUMP                                                       \
                     "ldr    %[t], %[end]\n\t"                                                             \
                     "ldr    %[va], %[step]\n\t"                                                           \
                     "add    %[t], %[t], %[va]\n\t"                                                        \
                     "str    %[t], %[end]\n\t"                                                             \
                     "b      1b\n\t"                                                                       \
                     "4:\n\t" ROW_PAIR_END(STORE)                                                          \
                     : REGS, [segs] "+m"(segs), [end] "+m"(end)                                            \
                     : [x0] "m"(x0), [x1] "m"(x1), [wend] "m"(wend), [nseg] "m"(n_seg), [end0] "m"(end0),   \
                       [jump] "m"(jump), [step] "m"(step)                                                  \
                     : "cc", "memory")

/* All row pairs of a fast stream whose runs are multiples of 8 bytes, in
 * the loop mcu_nn_gemm_s8_prepare chose; returns where the stream
 * continues (an odd last row). */
#if MCU_MVE && (defined(__GNUC__) || defined(__clang__))
/* out of line on Helium cores, where the deep layers take rows_2col_mve or
 * the C path: inlined, its register needs would make every call of
 * mcu_nn_gemm_s8 save them */
__attribute__((noinline))
#endif
static const int8_t *rows_2col_asm(const mcu_gemm_s8_t *g, const int8_t *x0, const int8_t *x1, int8_t **out0,
                                   int8_t **out1)
{
    const int8_t *wp = g->w;
    const int32_t len = g->seg_len;
    const int8_t *const wend = g->w_pairs_end;
    const int8_t *end = x0 + len;
    const int32_t lo4 = g->lo4, hi4 = g->hi4;
    int8_t *o0 = *out0, *o1 = *out1;
    int32_t s00, s10, s01, s11, va, vb, a1, b1, wv, t;
    const int8_t *xa, *xb;

    switch (g->path) {
    case MCU_GEMM_ONE_RUN:
        ONE_RUN(STORE_FULL);
        break;
    case MCU_GEMM_ONE_RUN_CLAMPED:
        ONE_RUN(STORE_CLAMPED);
        break;
    case MCU_GEMM_ONE_RUN_K4:
        end = x0 + (len & ~7);
        ONE_RUN_K4(STORE_FULL);
        break;
    case MCU_GEMM_ONE_RUN_K4_CLAMPED:
        end = x0 + (len & ~7);
        ONE_RUN_K4(STORE_CLAMPED);
        break;
    case MCU_GEMM_THREE_RUNS:
    case MCU_GEMM_THREE_RUNS_CLAMPED: {
        const int8_t *const end1 = end + g->seg_step, *const end2 = end1 + g->seg_step;
        const int32_t jump = g->seg_step - len;
        if (g->path == MCU_GEMM_THREE_RUNS)
            THREE_RUNS(STORE_FULL);
        else
            THREE_RUNS(STORE_CLAMPED);
        break;
    }
    default: {
        const int8_t *const end0 = end;
        const int32_t n_seg = g->n_seg, jump = g->seg_step - len, step = g->seg_step;
        int32_t segs = n_seg;
        RUNS(STORE_FULL);
        break;
    }
    }
    (void)lo4;
    (void)hi4;
    *out0 = o0;
    *out1 = o1;
    return wp;
}
#endif /* MCU_DSP_ASM */

#if defined(MCU_DSP_ASM) && MCU_MVE
/* Helium: 16 bytes of both columns through both rows per turn. VLD2 splits
 * the word-interleaved pair into the rows' 16 bytes, VMLAVA adds 16
 * products into an accumulator, which must be an even core register
 * (hence the register variables); the loop counter is LR (DLS/LE). A run's
 * last 4, 8 or 12 bytes (im2col columns of 28 or 40) and the rest of a row
 * pair - biases, requantization, stores - are the DSP code's. */
#define MVE_DOT_LOOP                              \
    "ldr    %[t], %[k16]\n\t"                     \
    "dls    lr, %[t]\n\t"                         \
    "1:\n\t"                                      \
    "vld20.32  {q0, q1}, [%[wp]]\n\t"             \
    "vld21.32  {q0, q1}, [%[wp]]!\n\t"            \
    "vldrb.u8  q2, [%[xa]], #16\n\t"              \
    "vldrb.u8  q3, [%[xb]], #16\n\t"              \
    "vmlava.s8 %[s00], q0, q2\n\t"                \
    "vmlava.s8 %[s01], q0, q3\n\t"                \
    "vmlava.s8 %[s10], q1, q2\n\t"                \
    "vmlava.s8 %[s11], q1, q3\n\t"                \
    "le     lr, 1b\n\t"                         \
    "ldr    %[t], %[rem]\n\t"                     \
    "cmp    %[t], #8\n\t"                         \
    "blt    3f\n\t" K8                            \
    "3:\n\t"                                      \
    "ldr    %[t], %[rem]\n\t"                     \
    "tst    %[t], #4\n\t"                         \
    "beq    5f\n\t" K8_HALF                       \
    "5:\n\t"

#define MVE_REGS                                                                                            \
    [s00] "=&r"(s00), [s10] "=&r"(s10), [s01] "=&r"(s01), [s11] "=&r"(s11), [xa] "=&r"(xa), [xb] "=&r"(xb), \
        [wp] "+r"(wp), [va] "=&r"(va), [vb] "=&r"(vb), [a1] "=&r"(a1), [b1] "=&r"(b1), [wv] "=&r"(wv),     \
        [t] "=&r"(t), [o0] "+m"(o0), [o1] "+m"(o1)
#define MVE_CLOBBERS "q0", "q1", "q2", "q3", "lr", "cc", "memory"

#define MVE_ONE_RUN(STORE)                                                                                 \
    __asm__ volatile("2:\n\t" ROW_PAIR_START MVE_DOT_LOOP ROW_PAIR_END(STORE)                              \
                     : MVE_REGS                                                                            \
                     : [x0] "m"(x0), [x1] "m"(x1), [k16] "m"(k16), [rem] "m"(rem), [wend] "m"(wend),        \
                       [lo4] "m"(lo4), [hi4] "m"(hi4)                                                      \
                     : MVE_CLOBBERS)

#define MVE_THREE_RUNS(STORE)                                                                              \
    __asm__ volatile("2:\n\t" ROW_PAIR_START MVE_DOT_LOOP JUMP MVE_DOT_LOOP JUMP MVE_DOT_LOOP              \
                     ROW_PAIR_END(STORE)                                                                   \
                     : MVE_REGS                                                                            \
                     : [x0] "m"(x0), [x1] "m"(x1), [k16] "m"(k16), [rem] "m"(rem), [wend] "m"(wend),        \
                       [jump] "m"(jump), [lo4] "m"(lo4), [hi4] "m"(hi4)                                    \
                     : MVE_CLOBBERS)

__attribute__((noinline)) static const int8_t *rows_2col_mve(const mcu_gemm_s8_t *g, const int8_t *x0,
                                                            const int8_t *x1, int8_t **out0, int8_t **out1)
{
    register int32_t s00 __asm__("r0");
    register int32_t s10 __asm__("r2");
    register int32_t s01 __asm__("r4");
    register int32_t s11 __asm__("r6");
    const int8_t *wp = g->w;
    const int8_t *const wend = g->w_pairs_end;
    const int32_t k16 = g->seg_len >> 4, rem = g->seg_len & 15, jump = g->seg_step - g->seg_len;
    const int32_t lo4 = g->lo4, hi4 = g->hi4;
    int8_t *o0 = *out0, *o1 = *out1;
    int32_t va, vb, a1, b1, wv, t;
    const int8_t *xa, *xb;

    switch (g->path) {
    case MCU_GEMM_MVE_ONE_RUN:
        MVE_ONE_RUN(STORE_FULL);
        break;
    case MCU_GEMM_MVE_ONE_RUN_CLAMPED:
        MVE_ONE_RUN(STORE_CLAMPED);
        break;
    case MCU_GEMM_MVE_THREE_RUNS:
        MVE_THREE_RUNS(STORE_FULL);
        break;
    default:
        MVE_THREE_RUNS(STORE_CLAMPED);
        break;
    }
    (void)lo4;
    (void)hi4;
    *out0 = o0;
    *out1 = o1;
    return wp;
}
#endif

/* the last odd row (stream at w): one plain row against both columns */
static void gemm_2col_odd(const mcu_gemm_s8_t *g, const int8_t *w, const int8_t *x0, const int8_t *x1, int8_t *out0,
                          int8_t *out1)
{
    const int32_t len = g->seg_len, n_seg = g->n_seg, seg_step = g->seg_step;
    int32_t a0 = mcu_read_s32(w), a1 = a0, q[3], s;
    w += 4;
    for (s = 0; s < n_seg; ++s) {
        mcu_dot_1x2(w, x0 + s * seg_step, x1 + s * seg_step, len, &a0, &a1);
        w += len;
    }
    memcpy(q, w, sizeof q);
    out0[0] = mcu_requant3_s8(q[0], q[1], q[2], a0, g->act_min, g->act_max);
    out1[0] = mcu_requant3_s8(q[0], q[1], q[2], a1, g->act_min, g->act_max);
}

static void gemm_2col(const mcu_gemm_s8_t *g, const int8_t *x0, const int8_t *x1, int8_t *out0, int8_t *out1)
{
    const int8_t *w = g->w;
    const int32_t len = g->seg_len, n_seg = g->n_seg, seg_step = g->seg_step;
    const int32_t lo = g->act_min, hi = g->act_max;
    int32_t r, s;

    for (r = g->rows >> 1; r > 0; --r) {
        int32_t acc[4];
        acc[0] = mcu_read_s32(w);
        acc[1] = mcu_read_s32(w + 4);
        acc[2] = acc[0];
        acc[3] = acc[1];
        w += 8;
        for (s = 0; s < n_seg; ++s) {
            mcu_dot_pair_x2(w, x0 + s * seg_step, x1 + s * seg_step, len, acc);
            w += 2 * len;
        }
        {
            int32_t q[6];
            memcpy(q, w, sizeof q);
            out0[0] = mcu_requant3_s8(q[0], q[1], q[2], acc[0], lo, hi);
            out1[0] = mcu_requant3_s8(q[0], q[1], q[2], acc[2], lo, hi);
            out0[1] = mcu_requant3_s8(q[3], q[4], q[5], acc[1], lo, hi);
            out1[1] = mcu_requant3_s8(q[3], q[4], q[5], acc[3], lo, hi);
        }
        w += 24;
        out0 += 2;
        out1 += 2;
    }
    if (g->rows & 1) gemm_2col_odd(g, w, x0, x1, out0, out1);
}

static void gemm_1col(const mcu_gemm_s8_t *g, const int8_t *x0, int8_t *out0)
{
    const int8_t *w = g->w;
    const int32_t len = g->seg_len, n_seg = g->n_seg, seg_step = g->seg_step;
    const int32_t lo = g->act_min, hi = g->act_max;
    int32_t r, s;

    for (r = g->rows >> 1; r > 0; --r) {
        int32_t a0 = mcu_read_s32(w), a1 = mcu_read_s32(w + 4), q[6];
        w += 8;
        for (s = 0; s < n_seg; ++s) {
            mcu_dot_pair_x1(w, x0 + s * seg_step, len, &a0, &a1);
            w += 2 * len;
        }
        memcpy(q, w, sizeof q);
        w += 24;
        out0[0] = mcu_requant3_s8(q[0], q[1], q[2], a0, lo, hi);
        out0[1] = mcu_requant3_s8(q[3], q[4], q[5], a1, lo, hi);
        out0 += 2;
    }
    if (g->rows & 1) {
        int32_t a = mcu_read_s32(w), q[3];
        w += 4;
        for (s = 0; s < n_seg; ++s) {
            a = mcu_dot_1x1(w, x0 + s * seg_step, len, a);
            w += len;
        }
        memcpy(q, w, sizeof q);
        out0[0] = mcu_requant3_s8(q[0], q[1], q[2], a, lo, hi);
    }
}

void mcu_nn_gemm_s8_prepare(mcu_gemm_s8_t *g)
{
    const int32_t full = g->act_min == -128 && g->act_max == 127;
    g->path = MCU_GEMM_C;
    g->lo4 = mcu_bytes4(g->act_min);
    g->hi4 = mcu_bytes4(g->act_max);
    g->w_pairs_end = g->w + (g->rows >> 1) * (2 * g->n_seg * g->seg_len + 32);
#if defined(MCU_DSP_ASM)
#if MCU_MVE
    if (g->rq_fast && g->rows >= 2 && g->seg_len >= 16 && (g->seg_len & 3) == 0 && (g->n_seg == 1 || g->n_seg == 3)) {
        g->path = g->n_seg == 1 ? (full ? MCU_GEMM_MVE_ONE_RUN : MCU_GEMM_MVE_ONE_RUN_CLAMPED)
                                : (full ? MCU_GEMM_MVE_THREE_RUNS : MCU_GEMM_MVE_THREE_RUNS_CLAMPED);
        return;
    }
#endif
    if (MCU_MVE_WINS(g->seg_len)) return;
    if (g->rq_fast && g->rows >= 2 && g->n_seg == 1 && g->seg_len >= 12 && (g->seg_len & 7) == 4)
        g->path = full ? MCU_GEMM_ONE_RUN_K4 : MCU_GEMM_ONE_RUN_K4_CLAMPED;
    if (g->rq_fast && g->rows >= 2 && g->seg_len > 0 && (g->seg_len & 7) == 0) {
        if (g->n_seg == 1)
            g->path = full ? MCU_GEMM_ONE_RUN : MCU_GEMM_ONE_RUN_CLAMPED;
        else if (g->n_seg == 3)
            g->path = full ? MCU_GEMM_THREE_RUNS : MCU_GEMM_THREE_RUNS_CLAMPED;
        else if (full)
            g->path = MCU_GEMM_RUNS;
    }
#else
    (void)full;
#endif
}

void mcu_nn_gemm_s8(const mcu_gemm_s8_t *g, const int8_t *x0, const int8_t *x1, int8_t *out0, int8_t *out1)
{
    if (x1 == NULL) {
        gemm_1col(g, x0, out0);
        return;
    }
#if defined(MCU_DSP_ASM)
    if (g->path != MCU_GEMM_C) {
#if MCU_MVE
        const int8_t *rest = g->path >= MCU_GEMM_MVE_ONE_RUN ? rows_2col_mve(g, x0, x1, &out0, &out1)
                                                             : rows_2col_asm(g, x0, x1, &out0, &out1);
#else
        const int8_t *rest = rows_2col_asm(g, x0, x1, &out0, &out1);
#endif
        if (g->rows & 1) gemm_2col_odd(g, rest, x0, x1, out0, out1);
        return;
    }
#endif
    gemm_2col(g, x0, x1, out0, out1);
}
