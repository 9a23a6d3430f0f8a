/*
 * Vector table and reset handler for every Cortex-M family mcugen targets.
 * One file serves all of them; what differs is selected by the compiler's
 * architecture macros (the board's -mcpu/-mfpu flags):
 *   ARMv6-M (M0/M0+), ARMv7-M (M3): nothing to enable;
 *   ARMv7E-M (M4F/M7) and ARMv8-M (M33) with an FPU, ARMv8.1-M (M55, FPU and
 *   MVE): CP10/CP11 must be enabled before the first FP/vector instruction;
 *   ARMv8-M mainline: MSPLIM turns a stack overflow into a fault instead of
 *   silent corruption of .bss.
 * No interrupt is ever enabled: the instruction counter relies on every
 * translation block running to its end.
 */
#include <stdint.h>
#include <string.h>

#include "mcugen_harness.h"
#include "semihost.h"

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_top[], __stack_limit[];

int main(void);

void Reset_Handler(void) __attribute__((noreturn));
void Fault_Handler(void) __attribute__((noreturn));

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    /* Before any C below: gcc may vectorise or use FP registers anywhere. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
#if defined(__ARM_ARCH_8M_MAIN__) || defined(__ARM_ARCH_8_1M_MAIN__)
    __asm__ volatile("msr msplim, %0" ::"r"(__stack_limit));
#endif
    memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
    memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
    sh_exit(main());
}

void Fault_Handler(void)
{
    sh_write0("mcugen: firmware fault (HardFault/NMI/unexpected exception)\n");
    sh_exit(MCUGEN_EXIT_FAULT);
}

/* Only the 16 system entries: no peripheral interrupt is used. The union
 * keeps ISO C happy about mixing the stack pointer with handler addresses. */
typedef union {
    void (*handler)(void);
    const void *stack;
} vector_t;

#define FAULT {.handler = Fault_Handler}

__attribute__((section(".vectors"), used))
const vector_t mcugen_vectors[16] = {
    {.stack = __stack_top},
    {.handler = Reset_Handler},
    FAULT, /* NMI */
    FAULT, /* HardFault */
    FAULT, /* MemManage */
    FAULT, /* BusFault */
    FAULT, /* UsageFault */
    FAULT, /* SecureFault */
    {0}, {0}, {0},
    FAULT, /* SVCall */
    FAULT, /* DebugMonitor */
    {0},
    FAULT, /* PendSV */
    FAULT, /* SysTick */
};
