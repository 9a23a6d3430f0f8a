/*
 * Arm semihosting calls (BKPT 0xAB on M-profile), the only I/O the harness uses:
 * QEMU services them on the host with -semihosting-config target=native.
 */
#ifndef MCUGEN_SEMIHOST_H
#define MCUGEN_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

#define SH_MODE_RB 1  /* fopen "rb" */
#define SH_MODE_WB 5  /* fopen "wb" */

int sh_open(const char *path, int mode);                 /* handle, or -1 */
int sh_close(int handle);                                /* 0 on success */
long sh_flen(int handle);                                /* length, or -1 */
size_t sh_read(int handle, void *buf, size_t len);       /* bytes NOT read */
size_t sh_write(int handle, const void *buf, size_t len);/* bytes NOT written */
void sh_write0(const char *text);                        /* to the QEMU console */
void sh_exit(int status) __attribute__((noreturn));

#endif /* MCUGEN_SEMIHOST_H */
