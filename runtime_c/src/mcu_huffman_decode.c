/* Table-driven decoder for canonical, length-limited Huffman streams (mcu_huffman.h).
 *
 * The first fast_bits bits of the bit buffer index a lookup table built in
 * `work` from the code lengths (entry = length << 8 | symbol); codes longer
 * than fast_bits are found by canonical order, one length at a time.
 *
 * Two phases keep the hot loop short: while more than four bytes lie wholly
 * inside data_bits, the buffer is refilled without branches or bounds
 * checks and holds >= 24 bits, enough for two codes of at most 12 bits,
 * and no code can end past data_bits. The tail then refills a byte at a
 * time, reads zeros past the end of the data, and checks every code
 * against data_bits. */
#include "mcu_huffman.h"

#include <string.h>

#include "mcu_compiler.h"

#if defined(__GNUC__) || defined(__clang__)
#define RARE(x) __builtin_expect(!!(x), 0)
#else
#define RARE(x) (x)
#endif

typedef struct {
    uint32_t first_code[MCU_HUFF_MAX_BITS + 1];  /* value of the first code of each length */
    uint32_t first_index[MCU_HUFF_MAX_BITS + 1]; /* its symbol's position in canonical order */
    uint32_t max_len;
} canon_t;

/* The entry (length << 8 | symbol) of a code longer than k bits at the
 * top of buf, as the lookup table would hold it; 0 when the bits are no
 * code. Not inlined: the hot loop keeps its registers. */
static MCU_NOINLINE uint32_t slow_entry(const mcu_huffman_stream_t *s, const canon_t *c, uint32_t k, uint32_t buf)
{
    uint32_t l;
    for (l = k + 1; l <= c->max_len; l++) {
        uint32_t off = (buf >> (32u - l)) - c->first_code[l];
        if (off < s->count[l]) return (l << 8) | s->symbols[c->first_index[l] + off];
    }
    return 0;
}

/* one code off the top of buf (>= 12 valid bits there) into *o++; len_ gets its length */
#define DECODE_ONE(len_)                                              \
    do {                                                              \
        uint32_t e_ = fast[buf >> shift];                             \
        if (RARE(e_ == 0)) {                                          \
            e_ = slow_entry(s, &c, k, buf);                           \
            if (e_ == 0) return MCU_HUFF_ERR_CODE;                    \
        }                                                             \
        len_ = e_ >> 8;                                               \
        buf <<= len_;                                                 \
        have -= len_;                                                 \
        *o++ = (uint8_t)e_;                                           \
    } while (0)

int mcu_huffman_decode(const mcu_huffman_stream_t *s, uint8_t *out, uint32_t out_len, void *work)
{
    canon_t c;
    uint16_t *fast = (uint16_t *)work;
    uint32_t code = 0, index = 0, l, k, shift;

    if (s == 0 || out == 0 || work == 0 || s->count == 0 || s->symbols == 0) return MCU_HUFF_ERR_ARG;
    if (s->data == 0 && s->data_bytes != 0) return MCU_HUFF_ERR_ARG;
    if ((s->data_bits >> 3) + ((s->data_bits & 7u) != 0) > s->data_bytes) return MCU_HUFF_ERR_ARG;
    k = s->fast_bits;
    if (k < 1 || k > MCU_HUFF_FAST_BITS_MAX) return MCU_HUFF_ERR_TABLE;
    if (s->num_symbols < 1 || s->num_symbols > 256 || s->count[0] != 0) return MCU_HUFF_ERR_TABLE;

    /* canonical layout; Kraft's inequality checked length by length */
    c.first_code[0] = c.first_index[0] = c.max_len = 0;
    for (l = 1; l <= MCU_HUFF_MAX_BITS; l++) {
        uint32_t n = s->count[l];
        code <<= 1;
        c.first_code[l] = code;
        c.first_index[l] = index;
        if (n > (1u << l) - code) return MCU_HUFF_ERR_TABLE;
        code += n;
        index += n;
        if (n != 0) c.max_len = l;
    }
    if (index != s->num_symbols) return MCU_HUFF_ERR_TABLE;

    memset(fast, 0, (size_t)2u << k);
    for (l = 1; l <= k && l <= c.max_len; l++) {
        uint32_t j, span = 1u << (k - l);
        for (j = 0; j < s->count[l]; j++) {
            uint16_t e = (uint16_t)((l << 8) | s->symbols[c.first_index[l] + j]);
            uint32_t at = (c.first_code[l] + j) << (k - l), end = at + span;
            for (; at < end; at++) fast[at] = e;
        }
    }

    {
        const uint8_t *p = s->data;
        const uint32_t nbytes = s->data_bytes, nbits = s->data_bits, whole = nbits >> 3;
        uint8_t *o = out, *const o_end = out + out_len;
        uint32_t buf = 0, have = 0; /* have: valid bits at the top of buf */
        uint32_t pos, used, len;
        shift = 32u - k;

        /* fast phase: each refill reads the 4 bytes at p, all wholly inside
         * data_bits, ORs them in below the valid bits (bits already there are
         * the same bits) and moves p past the whole bytes taken: 24..31 bits
         * are then valid, two codes' worth */
        if (whole > 4) {
            const uint8_t *const p_stop = s->data + (whole - 4);
            for (;;) {
                /* a refill moves p by at most 3 bytes: n more pairs keep every read before p_stop + 3 */
                uint32_t n = (uint32_t)(o_end - o) >> 1, m = (uint32_t)(p_stop - p) / 3u;
                if (n > m) n = m;
                if (n == 0) break;
                do {
                    uint32_t w = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
                    buf |= w >> have;
                    p += (31u - have) >> 3;
                    have |= 24u;
                    DECODE_ONE(len);
                    DECODE_ONE(len);
                } while (--n);
            }
        }
        pos = (uint32_t)(p - s->data);
        used = 8u * pos - have;
        /* tail: zeros past the data, every code checked against data_bits */
        while (o < o_end) {
            while (have <= 24) {
                uint32_t byte = 0;
                if (pos < nbytes) byte = s->data[pos++];
                buf |= byte << (24 - have);
                have += 8;
            }
            DECODE_ONE(len);
            used += len;
            if (used > nbits) return MCU_HUFF_ERR_LENGTH;
        }
        if (used != nbits) return MCU_HUFF_ERR_LENGTH;
    }
    return MCU_HUFF_OK;
}
