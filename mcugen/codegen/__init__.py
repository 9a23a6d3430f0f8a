"""IR -> C: lowering each operator to a runtime_c kernel call, then rendering templates."""
