"""Planning: where every tensor lives (memory) and, later, which weight format each constant takes."""
