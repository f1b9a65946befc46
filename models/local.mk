# Models library and CLI: filled in by the models work.
