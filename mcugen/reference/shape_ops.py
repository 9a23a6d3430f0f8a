"""(to be written)"""
KERNELS = {}
