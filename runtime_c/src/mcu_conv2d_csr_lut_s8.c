/* mcu_conv2d_csr_lut_s8.c - CONV_2D on CSR sparse weights whose
 * stored values are lookup-table codes (loops as mcu_conv2d_csr_s8). */
#include <stdint.h>

#include "mcu_cw_internal.h"

void mcu_conv2d_csr_lut_s8(const mcu_conv2d_cw_params_s8 *p, const int8_t *in, const int32_t *bias,
                           int8_t *out, int8_t *scratch)
{
    mcu_cw_conv(p, in, bias, out, scratch, MCU_CW_CSR_LUT);
}
