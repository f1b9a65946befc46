# The inference model (issue 6): libsbmodel sources, sb_model infer/demand, LLM catalog, tests.
models_libsbmodel_a_SOURCES += models/infer.c models/infer.h models/infer_llm.c \
	models/infer_law.c models/infer_claims.c
models_sb_model_SOURCES += models/cmd_infer.c models/cmd_demand.c
# The LLM descriptions are read from the source tree by default; --llms DIR loads another.
models_sb_model_CPPFLAGS += -DSB_LLM_DIR=\"$(abs_top_srcdir)/models/llms\"
llmsdir = $(pkgdatadir)/llms
dist_llms_DATA = models/llms/llama-3.1-70b.json models/llms/llama-3.1-405b.json \
	models/llms/deepseek-v3.json models/llms/gpt-moe-1.8t.json models/llms/serving.json
models_sb_model_CPPFLAGS += -DSB_LLM_INSTALLED=\"$(llmsdir)\"
dist_bin_SCRIPTS += scripts/sb-plot-infer
EXTRA_DIST += results/model-infer.md

check_PROGRAMS += tests/unit/test_model_infer
TESTS += tests/unit/test_model_infer
tests_unit_test_model_infer_CFLAGS = $(SBM_TEST_CFLAGS) -DSB_LLM_DIR=\"$(abs_top_srcdir)/models/llms\"
tests_unit_test_model_infer_LDADD = $(SBM_TEST_LIBS)

TESTS += tests/integration/model_infer.sh
EXTRA_DIST += tests/integration/model_infer.sh
