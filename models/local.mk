# Models: libsbmodel (cost, fit, sizing, rules, catalog) and the sb_model CLI.
noinst_LIBRARIES += models/libsbmodel.a
models_libsbmodel_a_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS)
models_libsbmodel_a_SOURCES = \
	models/error.c models/error.h \
	models/units.c models/units.h \
	models/catalog.c models/catalog.h \
	models/system.c models/system.h \
	models/cost.c models/cost.h \
	models/predict.c models/predict.h \
	models/results.c models/results.h models/method.c models/method.h \
	models/fit.c models/fit.h \
	models/params.c models/params.h \
	models/sizing.c models/sizing.h \
	models/rules.c models/rules.h \
	models/pairs.c models/pairs.h

SBM_LIBS = models/libsbmodel.a $(JANSSON_LIBS) -lm

# The catalog is read from the source tree by default; --catalog DIR loads another.
bin_PROGRAMS += models/sb_model
models_sb_model_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) \
	-DSB_CATALOG_DIR=\"$(abs_top_srcdir)/models/systems\"
models_sb_model_SOURCES = models/sb_model.c models/cli.c models/cli.h \
	models/cmd_systems.c models/cmd_predict.c models/cmd_fit.c models/cmd_validate.c \
	models/cmd_size.c models/cmd_rules.c models/cmd_pairs.c
models_sb_model_LDADD = $(SBM_LIBS)
# make install copies the catalog to $(pkgdatadir)/systems, used when the source tree is gone.
systemsdir = $(pkgdatadir)/systems
dist_systems_DATA = models/systems/components.json models/systems/hopper.json \
	models/systems/blackwell.json models/systems/huawei.json
models_sb_model_CPPFLAGS += -DSB_CATALOG_INSTALLED=\"$(systemsdir)\"
EXTRA_DIST += results/model-shm.md

# Unit tests (cmocka, one group per program) and integration tests (TAP from shell).
SBM_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) \
	-DSB_CATALOG_DIR=\"$(abs_top_srcdir)/models/systems\"
SBM_TEST_LIBS = $(SBM_LIBS) $(CMOCKA_LIBS)
model_unit_tests = tests/unit/test_model_cost tests/unit/test_model_fit \
	tests/unit/test_model_sizing tests/unit/test_model_rules tests/unit/test_model_input \
	tests/unit/test_model_pairs
check_PROGRAMS += $(model_unit_tests)
TESTS += $(model_unit_tests)
tests_unit_test_model_cost_CFLAGS = $(SBM_TEST_CFLAGS)
tests_unit_test_model_cost_LDADD = $(SBM_TEST_LIBS)
tests_unit_test_model_fit_CFLAGS = $(SBM_TEST_CFLAGS)
tests_unit_test_model_fit_LDADD = $(SBM_TEST_LIBS)
tests_unit_test_model_sizing_CFLAGS = $(SBM_TEST_CFLAGS)
tests_unit_test_model_sizing_LDADD = $(SBM_TEST_LIBS)
tests_unit_test_model_rules_CFLAGS = $(SBM_TEST_CFLAGS)
tests_unit_test_model_rules_LDADD = $(SBM_TEST_LIBS)
tests_unit_test_model_input_CFLAGS = $(SBM_TEST_CFLAGS)
tests_unit_test_model_input_LDADD = $(SBM_TEST_LIBS)
tests_unit_test_model_pairs_CFLAGS = $(SBM_TEST_CFLAGS)
tests_unit_test_model_pairs_LDADD = $(SBM_TEST_LIBS)

model_integration_tests = tests/integration/model_cli.sh tests/integration/model_bad_input.sh \
	tests/integration/model_edge.sh
TESTS += $(model_integration_tests)
EXTRA_DIST += $(model_integration_tests) tests/integration/model_fit_validate.sh
# It measures with mpirun first.
if HAVE_MPI
TESTS += tests/integration/model_fit_validate.sh
endif
