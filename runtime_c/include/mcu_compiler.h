/* Compiler portability for generated code: alignment and section placement. */
#ifndef MCU_COMPILER_H
#define MCU_COMPILER_H

#if defined(__GNUC__) || defined(__clang__)
#define MCU_ALIGNED(n) __attribute__((aligned(n)))
#if defined(__APPLE__)
/* Mach-O section names take a "segment,section" form; host builds on macOS
 * keep the default placement (sections only matter on the target). */
#define MCU_SECTION(s)
#else
#define MCU_SECTION(s) __attribute__((section(s)))
#endif
#define MCU_NOINLINE __attribute__((noinline))
#else
/* Other compilers: no alignment beyond the natural one, default sections. */
#define MCU_ALIGNED(n)
#define MCU_SECTION(s)
#define MCU_NOINLINE
#endif

#endif /* MCU_COMPILER_H */
