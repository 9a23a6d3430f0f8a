/*
 * mcugen QEMU firmware harness: runs the generated model on every sample of a
 * host file and writes the outputs to another, all through semihosting.
 *
 *   input  file MCUGEN_INPUT_FILE : N * MCUGEN_IN_BYTES int8 bytes
 *   output file MCUGEN_OUTPUT_FILE: N * MCUGEN_OUT_BYTES int8 bytes
 *
 * Sizes come from -DMCUGEN_IN_BYTES=... -DMCUGEN_OUT_BYTES=... or, when those
 * are absent, from a generated header "mcugen_io.h" defining them. The file
 * names are relative to QEMU's working directory.
 */
#include <stdint.h>

#include "mcugen_harness.h"
#include "semihost.h"

#if !defined(MCUGEN_IN_BYTES) || !defined(MCUGEN_OUT_BYTES)
#include "mcugen_io.h"
#endif
#ifndef MCUGEN_INPUT_FILE
#define MCUGEN_INPUT_FILE "mcugen_in.bin"
#endif
#ifndef MCUGEN_OUTPUT_FILE
#define MCUGEN_OUTPUT_FILE "mcugen_out.bin"
#endif

static int8_t in_buf[MCUGEN_IN_BYTES] __attribute__((aligned(16)));
static int8_t out_buf[MCUGEN_OUT_BYTES] __attribute__((aligned(16)));

/* The empty asm keeps gcc from proving the markers side-effect free and
 * deleting the calls; the plugin needs the calls to happen. */
void mcugen_bench_begin(void) { __asm__ volatile("" ::: "memory"); }
void mcugen_bench_end(void) { __asm__ volatile("" ::: "memory"); }
void mcugen_layer_mark(int k) { __asm__ volatile("" ::"r"(k) : "memory"); }

static int fail(const char *why, int status)
{
    sh_write0("mcugen: ");
    sh_write0(why);
    sh_write0("\n");
    return status;
}

int main(void)
{
    int fin = sh_open(MCUGEN_INPUT_FILE, SH_MODE_RB);
    if (fin < 0)
        return fail("cannot open " MCUGEN_INPUT_FILE, MCUGEN_EXIT_IO);
    long len = sh_flen(fin);
    if (len < 0)
        return fail("cannot size " MCUGEN_INPUT_FILE, MCUGEN_EXIT_IO);
    if (len % MCUGEN_IN_BYTES != 0)
        return fail("input length is not a multiple of MCUGEN_IN_BYTES", MCUGEN_EXIT_INPUT_SIZE);
    int fout = sh_open(MCUGEN_OUTPUT_FILE, SH_MODE_WB);
    if (fout < 0)
        return fail("cannot create " MCUGEN_OUTPUT_FILE, MCUGEN_EXIT_IO);

    for (long n = len / MCUGEN_IN_BYTES; n > 0; n--) {
        if (sh_read(fin, in_buf, MCUGEN_IN_BYTES) != 0)
            return fail("short read", MCUGEN_EXIT_IO);
        mcugen_bench_begin();
        int status = mcugen_harness_invoke(in_buf, out_buf);
        mcugen_bench_end();
        if (status != 0)
            return fail("mcugen_harness_invoke returned non-zero", MCUGEN_EXIT_INVOKE);
        if (sh_write(fout, out_buf, MCUGEN_OUT_BYTES) != 0)
            return fail("short write", MCUGEN_EXIT_IO);
    }
    sh_close(fin);
    if (sh_close(fout) != 0)
        return fail("cannot close " MCUGEN_OUTPUT_FILE, MCUGEN_EXIT_IO);
    return MCUGEN_EXIT_OK;
}
