"""Engines that execute a model: TFLM (the oracle), the host C build, QEMU."""
