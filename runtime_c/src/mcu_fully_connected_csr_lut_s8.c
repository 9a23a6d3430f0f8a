/* mcu_fully_connected_csr_lut_s8.c - FULLY_CONNECTED on CSR sparse weights
 * whose stored values are lookup-table codes. */
#include <stdint.h>

#include "mcu_cw_internal.h"

void mcu_fully_connected_csr_lut_s8(const mcu_fc_cw_params_s8 *p, const int8_t *in, const int32_t *bias, int8_t *out,
                                    int8_t *scratch)
{
    mcu_cw_fc(p, in, bias, out, scratch, MCU_CW_CSR_LUT);
}
