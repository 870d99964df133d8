"""The domain: patient rules, search semantics and errors. Standard library only."""
