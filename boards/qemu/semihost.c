#include "semihost.h"

#include <string.h>

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_FLEN = 0x0C,
    SYS_EXIT = 0x18,
    SYS_EXIT_EXTENDED = 0x20,
};
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static uintptr_t sh_call(uintptr_t op, const void *arg)
{
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    /* The host reads and writes guest memory through r1: "memory" keeps the
     * compiler from caching buffers across the call. */
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int sh_open(const char *path, int mode)
{
    uintptr_t block[3] = {(uintptr_t)path, (uintptr_t)mode, strlen(path)};
    return (int)sh_call(SYS_OPEN, block);
}

int sh_close(int handle)
{
    uintptr_t block[1] = {(uintptr_t)handle};
    return (int)sh_call(SYS_CLOSE, block);
}

long sh_flen(int handle)
{
    uintptr_t block[1] = {(uintptr_t)handle};
    return (long)sh_call(SYS_FLEN, block);
}

size_t sh_read(int handle, void *buf, size_t len)
{
    uintptr_t block[3] = {(uintptr_t)handle, (uintptr_t)buf, len};
    return sh_call(SYS_READ, block);
}

size_t sh_write(int handle, const void *buf, size_t len)
{
    uintptr_t block[3] = {(uintptr_t)handle, (uintptr_t)buf, len};
    return sh_call(SYS_WRITE, block);
}

void sh_write0(const char *text)
{
    sh_call(SYS_WRITE0, text);
}

void sh_exit(int status)
{
    /* SYS_EXIT on AArch32 cannot carry a status; the extended call can. */
    uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)status};
    sh_call(SYS_EXIT_EXTENDED, block);
    sh_call(SYS_EXIT, (const void *)(uintptr_t)ADP_STOPPED_APPLICATION_EXIT);
    for (;;) {
    }
}
