"""Analytics over panels: rotation, breadth, event studies, reconstitution."""
