"""Group formation: the pure engine (engine/) and the proposals a coordinator reviews and commits."""
