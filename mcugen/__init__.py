"""mcugen: compile compressed int8 TFLite models to bit-exact C for Cortex-M."""

__version__ = "0.1.0"
