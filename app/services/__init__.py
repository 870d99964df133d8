"""Use cases: one function each, working inside a unit of work the caller commits."""
