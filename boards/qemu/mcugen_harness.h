/*
 * Contract between the mcugen QEMU firmware harness (main.c) and generated code.
 *
 * Generated code provides mcugen_harness_invoke(); the harness calls it once per
 * input sample between mcugen_bench_begin() and mcugen_bench_end(), whose entry
 * addresses the instruction-counting QEMU plugin watches.
 */
#ifndef MCUGEN_HARNESS_H
#define MCUGEN_HARNESS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Run one inference: read MCUGEN_IN_BYTES from `in`, write MCUGEN_OUT_BYTES to
 * `out`. Returns 0 on success; any other value stops the firmware with
 * MCUGEN_EXIT_INVOKE. */
int mcugen_harness_invoke(const int8_t *in, int8_t *out);

/* Benchmark markers. They must stay out-of-line: the plugin finds them by the
 * address of their first instruction, which only starts a translation block
 * when it is reached by a call. */
void mcugen_bench_begin(void) __attribute__((noinline));
void mcugen_bench_end(void) __attribute__((noinline));

/* Call before layer k when built with -DMCUGEN_PROFILE. Layers are attributed
 * in call order (the j-th mark of an inference opens layer j), so call it once
 * per layer, in execution order, starting at k = 0. */
void mcugen_layer_mark(int k) __attribute__((noinline));

#ifdef MCUGEN_PROFILE
#define MCUGEN_LAYER_MARK(k) mcugen_layer_mark(k)
#else
#define MCUGEN_LAYER_MARK(k) ((void)0)
#endif

/* Firmware exit statuses (the QEMU process exit code). Away from 1, which is
 * what QEMU itself returns when it cannot start. */
#define MCUGEN_EXIT_OK 0
#define MCUGEN_EXIT_INVOKE 65      /* mcugen_harness_invoke returned non-zero */
#define MCUGEN_EXIT_IO 66          /* a semihosting file operation failed */
#define MCUGEN_EXIT_INPUT_SIZE 67  /* input file is not a whole number of samples */
#define MCUGEN_EXIT_FAULT 68       /* HardFault, NMI or another unexpected exception */

#ifdef __cplusplus
}
#endif

#endif /* MCUGEN_HARNESS_H */
