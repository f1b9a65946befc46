# Scripts (nightly job, plots, emulated cluster) and their tests (issue 7).
dist_bin_SCRIPTS += scripts/sb-nightly scripts/sb-plot scripts/sb-netns scripts/sb-gpu-baseline

# sb_compare: the per-size join of two runs with a noise-aware verdict (used by sb-nightly).
bin_PROGRAMS += models/sb_compare
models_sb_compare_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
models_sb_compare_SOURCES = models/sb_compare.c models/compare.c models/compare.h models/method.c models/method.h
models_sb_compare_LDADD = $(JANSSON_LIBS) -lm

check_PROGRAMS += tests/unit/test_compare
TESTS += tests/unit/test_compare
tests_unit_test_compare_SOURCES = tests/unit/test_compare.c models/compare.c models/compare.h models/method.c \
	models/method.h
tests_unit_test_compare_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_compare_LDADD = $(JANSSON_LIBS) $(CMOCKA_LIBS) -lm

scripts_integration_tests = tests/integration/compare.sh tests/integration/plot.sh tests/integration/sb_run.sh \
	tests/integration/nightly.sh tests/integration/netns.sh tests/integration/netns_pairs.sh
if HAVE_MPI
TESTS += $(scripts_integration_tests)
endif
EXTRA_DIST += $(scripts_integration_tests) scripts/nightly.conf.example
EXTRA_DIST += scripts/debian-packages scripts/install-deps scripts/sb-run
