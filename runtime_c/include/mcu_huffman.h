/* mcu_huffman.h - decoder for mcugen's Huffman-coded constant tables.
 *
 * A stream is a canonical prefix code over bytes (mcugen/formats/huffman.py
 * writes it): count[l] codes of each length l (1..MCU_HUFF_MAX_BITS), the
 * symbols in canonical order (by length, then value), and the code bits
 * MSB first. The decoder is bounded: it reads only data[0..data_bytes),
 * symbols[0..num_symbols), count[0..MCU_HUFF_MAX_BITS] and
 * work[0..2^fast_bits), writes only out[0..out_len), and returns an error
 * code for any table or stream that does not describe exactly out_len
 * symbols in exactly data_bits bits. A corrupted stream that still decodes
 * to out_len symbols in data_bits bits is not detected (there is no checksum).
 */
#ifndef MCU_HUFFMAN_H
#define MCU_HUFFMAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MCU_HUFF_MAX_BITS 12      /* longest code */
#define MCU_HUFF_FAST_BITS_MAX 10 /* widest lookup table */
/* bytes of the work buffer (uint16_t aligned) for a stream's fast_bits */
#define MCU_HUFF_WORK_BYTES(fast_bits) (2u << (fast_bits))

/* Return codes. */
#define MCU_HUFF_OK 0
#define MCU_HUFF_ERR_ARG 1    /* NULL pointer, or data_bits beyond data_bytes */
#define MCU_HUFF_ERR_TABLE 2  /* counts/symbols/fast_bits describe no valid prefix code */
#define MCU_HUFF_ERR_CODE 3   /* a bit pattern that is no code */
#define MCU_HUFF_ERR_LENGTH 4 /* the bits run out before out_len symbols, or some are left over */

typedef struct {
    const uint8_t *data;     /* code bits, MSB first */
    uint32_t data_bytes;     /* bytes readable at data */
    uint32_t data_bits;      /* bits the encoder wrote (<= 8 * data_bytes) */
    const uint16_t *count;   /* MCU_HUFF_MAX_BITS + 1 entries; count[0] must be 0 */
    const uint8_t *symbols;  /* num_symbols entries, canonical order */
    uint16_t num_symbols;    /* 1..256 */
    uint8_t fast_bits;       /* lookup-table index width, 1..MCU_HUFF_FAST_BITS_MAX */
} mcu_huffman_stream_t;

/* Decodes exactly out_len bytes into out. work: MCU_HUFF_WORK_BYTES(s->fast_bits)
 * bytes of scratch, 2-byte aligned, free while the call runs. */
int mcu_huffman_decode(const mcu_huffman_stream_t *s, uint8_t *out, uint32_t out_len, void *work);

#ifdef __cplusplus
}
#endif

#endif /* MCU_HUFFMAN_H */
