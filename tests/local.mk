# Unit tests (cmocka, TAP output) and integration tests (shell, TAP output).
EXTRA_DIST += tests/summarize.sh
