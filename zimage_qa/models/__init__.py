"""Model profiles: what `--qa-model` names and how it is built or loaded (see `profiles`)."""
