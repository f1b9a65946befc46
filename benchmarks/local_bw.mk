# sb_local: single-node bandwidths (host memcpy and k-buffer reduction = the model's gamma; on a
# CUDA build, pinned H2D/D2H and D2D copies).  The kernels are compiled into the program and the
# unit test directly, not into the harness library.
bin_PROGRAMS += benchmarks/sb_local
benchmarks_sb_local_SOURCES = benchmarks/sb_local.c common/local_bw.c common/local_bw.h
benchmarks_sb_local_CPPFLAGS = $(AM_CPPFLAGS) $(HWLOC_CFLAGS) $(JANSSON_CFLAGS)
benchmarks_sb_local_LDADD = $(SB_HARNESS_LIBS)

check_PROGRAMS += tests/unit/test_local_bw
TESTS += tests/unit/test_local_bw tests/integration/local_bw.sh
EXTRA_DIST += tests/integration/local_bw.sh
tests_unit_test_local_bw_SOURCES = tests/unit/test_local_bw.c common/local_bw.c common/local_bw.h
tests_unit_test_local_bw_CPPFLAGS = $(AM_CPPFLAGS) $(HWLOC_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_local_bw_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_local_bw_LDADD = $(SB_UNIT_LIBS)

# The device side: CUDA runtime calls only (no nvcc), where configure found CUDA.
if HAVE_CUDA
benchmarks_sb_local_SOURCES += common/local_gpu.c
benchmarks_sb_local_CPPFLAGS += $(CUDA_CPPFLAGS)
benchmarks_sb_local_LDADD += $(CUDA_LDFLAGS) $(CUDA_LIBS)
tests_unit_test_local_bw_SOURCES += common/local_gpu.c
tests_unit_test_local_bw_CPPFLAGS += $(CUDA_CPPFLAGS)
tests_unit_test_local_bw_LDADD += $(CUDA_LDFLAGS) $(CUDA_LIBS)
else
EXTRA_DIST += common/local_gpu.c
endif
