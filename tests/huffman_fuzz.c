/* Fuzz driver for mcu_huffman_decode (built with ASan + UBSan by tests/test_huffman.py).
 *
 * usage: huffman_fuzz STREAM.bin MUTANTS SEED
 * STREAM.bin (little-endian): u32 out_len, u32 data_bits, u32 data_bytes, u16 num_symbols,
 * u8 fast_bits, u16 count[MCU_HUFF_MAX_BITS + 1], u8 symbols[num_symbols],
 * u8 data[data_bytes], u8 expected[out_len].
 *
 * The unmutated stream must decode to `expected`. Then each mutant changes
 * one to four things (flipped/overwritten/truncated data, data_bits, counts,
 * symbols, num_symbols, fast_bits, out_len) and is decoded from exactly
 * sized heap copies, so any read or write out of bounds trips ASan. Prints
 * how many mutants ended in each return code; exits 1 on an unknown code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcu_huffman.h"

static uint32_t rng_state;

static uint32_t rnd(void)
{
    /* xorshift32 */
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

static void *dup(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);
    if (!q) exit(3);
    if (n) memcpy(q, p, n);
    return q;
}

static uint32_t rd32(const uint8_t *p) { return p[0] | (p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }

int main(int argc, char **argv)
{
    FILE *f;
    long size;
    uint8_t *file;
    uint32_t out_len, data_bits, data_bytes, m, mutants, i;
    uint16_t nsym, count[MCU_HUFF_MAX_BITS + 1];
    uint8_t fast_bits;
    const uint8_t *p, *symbols, *data, *expected;
    unsigned long outcomes[5] = {0, 0, 0, 0, 0};

    if (argc != 4) return 64;
    f = fopen(argv[1], "rb");
    if (!f) return 66;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    file = malloc((size_t)size);
    if (!file || fread(file, 1, (size_t)size, f) != (size_t)size) return 66;
    fclose(f);
    mutants = (uint32_t)strtoul(argv[2], 0, 10);
    rng_state = (uint32_t)strtoul(argv[3], 0, 10) | 1u;

    p = file;
    out_len = rd32(p);
    data_bits = rd32(p + 4);
    data_bytes = rd32(p + 8);
    nsym = rd16(p + 12);
    fast_bits = p[14];
    p += 15;
    for (i = 0; i <= MCU_HUFF_MAX_BITS; i++, p += 2) count[i] = rd16(p);
    symbols = p;
    data = symbols + nsym;
    expected = data + data_bytes;
    if ((long)(expected + out_len - file) != size) return 65;

    for (m = 0; m <= mutants; m++) {
        mcu_huffman_stream_t s;
        uint16_t *cnt = dup(count, sizeof count);
        uint32_t nbytes = data_bytes, nbits = data_bits, olen = out_len, nsyms = nsym, k;
        uint8_t *dat, *sym, *out;
        void *work;
        int rc, fb = fast_bits, changes = m == 0 ? 0 : 1 + (int)(rnd() % 4), c;
        uint8_t *d0 = dup(data, data_bytes), *s0 = dup(symbols, nsym);

        for (c = 0; c < changes; c++) {
            switch (rnd() % 10) {
            case 0: case 1: case 2: /* flip bits of the code */
                if (nbytes) for (k = 1 + rnd() % 3; k; k--) d0[rnd() % nbytes] ^= (uint8_t)(1u << (rnd() % 8));
                break;
            case 3: /* overwrite a run of bytes */
                if (nbytes) {
                    uint32_t at = rnd() % nbytes, n = 1 + rnd() % 8;
                    for (; n && at < nbytes; n--, at++) d0[at] = (uint8_t)rnd();
                }
                break;
            case 4: /* truncate the data, keeping or fixing data_bits */
                nbytes = nbytes ? rnd() % nbytes : 0;
                if (rnd() & 1) nbits = nbytes * 8u - (nbytes ? rnd() % 8 : 0);
                break;
            case 5: /* another bit count */
                nbits = (rnd() & 1) ? nbits + (rnd() % 17) - 8 : rnd() % (8u * nbytes + 16u);
                break;
            case 6: /* corrupt the code lengths */
                cnt[rnd() % (MCU_HUFF_MAX_BITS + 1)] = (rnd() & 1) ? (uint16_t)(rnd() % 300) : (uint16_t)(cnt[rnd() % (MCU_HUFF_MAX_BITS + 1)] + (rnd() % 3) - 1);
                break;
            case 7: /* another symbol */
                if (nsyms) s0[rnd() % nsyms] = (uint8_t)rnd();
                break;
            case 8: /* fewer symbols declared (the array keeps its size) or other fast_bits */
                if (rnd() & 1) nsyms = rnd() % (nsym + 1u);
                else fb = (int)(rnd() % (MCU_HUFF_FAST_BITS_MAX + 3));
                break;
            default: /* another output length */
                olen = ((rnd() & 1) && olen >= 2) ? olen + (rnd() % 5) - 2 : rnd() % (2u * out_len + 1u);
                break;
            }
        }
        dat = dup(d0, nbytes); /* exactly nbytes: a read past the end trips ASan */
        sym = dup(s0, nsyms);
        out = malloc(olen ? olen : 1);
        work = malloc(MCU_HUFF_WORK_BYTES(fb >= 1 && fb <= MCU_HUFF_FAST_BITS_MAX ? fb : 1));
        if (!out || !work) return 3;
        s.data = nbytes ? dat : 0;
        s.data_bytes = nbytes;
        s.data_bits = nbits;
        s.count = cnt;
        s.symbols = sym;
        s.num_symbols = (uint16_t)nsyms;
        s.fast_bits = (uint8_t)fb;
        rc = mcu_huffman_decode(&s, out, olen, work);
        if (rc < 0 || rc > 4) {
            fprintf(stderr, "mutant %lu: unknown return code %d\n", (unsigned long)m, rc);
            return 1;
        }
        if (m == 0 && (rc != MCU_HUFF_OK || memcmp(out, expected, out_len) != 0)) {
            fprintf(stderr, "the unmutated stream does not decode (rc %d)\n", rc);
            return 2;
        }
        outcomes[rc]++;
        free(dat); free(sym); free(out); free(work); free(cnt); free(d0); free(s0);
    }
    printf("ok %lu arg %lu table %lu code %lu length %lu\n", outcomes[0], outcomes[1], outcomes[2], outcomes[3], outcomes[4]);
    free(file);
    return 0;
}
