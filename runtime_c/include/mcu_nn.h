/* mcu_nn.h - everything generated code needs from the mcugen runtime. */
#ifndef MCU_NN_H
#define MCU_NN_H

#include "mcu_fixedpoint.h"
#include "mcu_nn_conv.h"
#include "mcu_nn_compressed.h"
#include "mcu_nn_misc.h"

#endif /* MCU_NN_H */
