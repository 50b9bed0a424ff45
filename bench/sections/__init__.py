"""One module per benchmark section; each exposes run(args, env) -> dict (the section's results)."""
