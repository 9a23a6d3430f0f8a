/* mcu_config.h - build configuration of a generated library.
 * mcugen writes its own copy into every generated folder; this default is
 * for building runtime_c on its own (TFLM's double rounding). */
#ifndef MCU_CONFIG_H
#define MCU_CONFIG_H
#endif /* MCU_CONFIG_H */
