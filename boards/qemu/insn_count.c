/*
 * Exact guest-instruction counter for mcugen benchmarks (QEMU TCG plugin, API v1).
 *
 * Counts the instructions executed from the entry of mcugen_bench_begin up to,
 * not including, the entry of mcugen_bench_end, once per inference, and splits
 * that span at each entry of mcugen_layer_mark (the j-th mark of an inference
 * opens layer j; the plugin cannot read the argument register in API v1).
 *
 * Why this is exact: every translation block adds its instruction count when it
 * starts, and in this firmware a block always runs to its end (no interrupts are
 * enabled and no instruction faults inside the measured span). The marker
 * functions are noinline and only ever entered by a branch, so each marker
 * entry starts a block; a block that would contain a marker entry past its first
 * instruction is reported as an error instead of silently miscounting.
 *
 * Arguments: begin=ADDR,end=ADDR[,mark=ADDR],out=PATH (ADDR in hex or decimal).
 * Output lines: "T <total>" per inference, preceded by "L <count>" per layer,
 * and "E <message>" on error.
 *
 * The few API declarations are written out here because Debian's QEMU ships no
 * qemu-plugin.h; they match include/qemu/qemu-plugin.h with QEMU_PLUGIN_VERSION 1.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t {
    const char *target_name;
    struct { int min; int cur; } version;
    bool system_emulation;
    union { struct { int smp_vcpus; int max_vcpus; } system; };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

enum { KIND_BEGIN = 1, KIND_END = 2, KIND_MARK = 3 };

static uint64_t executed;          /* every guest instruction since start */
static uint64_t addr_begin, addr_end, addr_mark;
static bool have_mark;
static FILE *out;

static bool in_span;
static int layer;                  /* index of the open layer, -1 before the first mark */
static uint64_t span_start, layer_start;

/* Userdata packs the marker kind (low 8 bits) and the block's instruction count. */
static void on_marker(unsigned int vcpu, void *udata)
{
    uintptr_t u = (uintptr_t)udata;
    int kind = (int)(u & 0xff);
    (void)vcpu;
    /* `executed` holds everything before this block: the marker's own block
     * belongs to the span that it opens. */
    if (kind == KIND_BEGIN) {
        in_span = true;
        layer = -1;
        span_start = executed;
    } else if (in_span && kind == KIND_MARK) {
        if (layer >= 0)
            fprintf(out, "L %" PRIu64 "\n", executed - layer_start);
        layer++;
        layer_start = executed;
    } else if (in_span && kind == KIND_END) {
        if (layer >= 0)
            fprintf(out, "L %" PRIu64 "\n", executed - layer_start);
        fprintf(out, "T %" PRIu64 "\n", executed - span_start);
        fflush(out);  /* QEMU may leave without running atexit callbacks */
        in_span = false;
    }
    executed += u >> 8;
}

static int marker_kind(uint64_t vaddr)
{
    if (vaddr == addr_begin) return KIND_BEGIN;
    if (vaddr == addr_end) return KIND_END;
    if (have_mark && vaddr == addr_mark) return KIND_MARK;
    return 0;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    int kind = marker_kind(qemu_plugin_tb_vaddr(tb));
    (void)id;
    for (size_t i = 1; i < n; i++) {
        uint64_t a = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, i));
        if (marker_kind(a)) {
            fprintf(out, "E marker at 0x%" PRIx64 " is inside a block: make it a noinline function\n", a);
            fflush(out);
        }
    }
    if (kind)
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_marker, QEMU_PLUGIN_CB_NO_REGS,
                                             (void *)(((uintptr_t)n << 8) | (uintptr_t)kind));
    else
        qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &executed, n);
}

static void on_atexit(qemu_plugin_id_t id, void *udata)
{
    (void)id; (void)udata;
    if (in_span)
        fprintf(out, "E guest stopped inside the measured span\n");
    fclose(out);
    out = NULL;
}

static bool parse_addr(const char *arg, const char *key, uint64_t *val)
{
    size_t k = strlen(key);
    if (strncmp(arg, key, k) != 0 || arg[k] != '=')
        return false;
    /* Thumb symbols carry bit 0 in the ELF; the block address does not. */
    *val = strtoull(arg + k + 1, NULL, 0) & ~(uint64_t)1;
    return true;
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    const char *path = NULL;
    bool have_begin = false, have_end = false;
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (parse_addr(argv[i], "begin", &addr_begin)) have_begin = true;
        else if (parse_addr(argv[i], "end", &addr_end)) have_end = true;
        else if (parse_addr(argv[i], "mark", &addr_mark)) have_mark = true;
        else if (strncmp(argv[i], "out=", 4) == 0) path = argv[i] + 4;
        else {
            qemu_plugin_outs("insn_count: unknown argument\n");
            return -1;
        }
    }
    if (!have_begin || !have_end || !path) {
        qemu_plugin_outs("insn_count: needs begin=, end= and out=\n");
        return -1;
    }
    out = fopen(path, "w");
    if (!out) {
        qemu_plugin_outs("insn_count: cannot open the out= file\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_atexit, NULL);
    return 0;
}
