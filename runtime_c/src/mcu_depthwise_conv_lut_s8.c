/* mcu_depthwise_conv_lut_s8.c - DEPTHWISE_CONV_2D on lookup-table
 * weights: each channel's taps are decoded once, zero taps dropped. */
#include <stdint.h>

#include "mcu_cw_internal.h"

void mcu_depthwise_conv_lut_s8(const mcu_dw_conv_cw_params_s8 *p, const int8_t *in, const int32_t *bias,
                               int8_t *out, int8_t *scratch)
{
    mcu_cw_dw(p, in, bias, out, scratch, MCU_CW_LUT);
}
