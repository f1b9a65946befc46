# sb_local: single-node bandwidths (host memcpy and k-buffer reduction = the model's gamma; on a
# CUDA build, pinned H2D/D2H and D2D copies, and with nvcc the device reduction).  The kernels are
# compiled into the program and the unit test directly, not into the harness library.
bin_PROGRAMS += benchmarks/sb_local
benchmarks_sb_local_SOURCES = benchmarks/sb_local.c common/local_bw.c common/local_bw.h common/local_kernels.h
benchmarks_sb_local_CPPFLAGS = $(AM_CPPFLAGS) $(HWLOC_CFLAGS) $(JANSSON_CFLAGS)
benchmarks_sb_local_LDADD = $(SB_HARNESS_LIBS)

check_PROGRAMS += tests/unit/test_local_bw
TESTS += tests/unit/test_local_bw tests/integration/local_bw.sh
EXTRA_DIST += tests/integration/local_bw.sh
tests_unit_test_local_bw_SOURCES = tests/unit/test_local_bw.c common/local_bw.c common/local_bw.h \
	common/local_kernels.h
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

# The device reduction: kernels compiled by nvcc where configure found it (HAVE_NVCC implies
# HAVE_CUDA); otherwise a stand-in that reports the test absent, "built without nvcc".
if HAVE_NVCC
sb_local_dreduce_sources = common/local_dreduce.c common/local_kernels.cu
EXTRA_DIST += common/local_dreduce_none.c
else
sb_local_dreduce_sources = common/local_dreduce_none.c
EXTRA_DIST += common/local_dreduce.c common/local_kernels.cu
endif
benchmarks_sb_local_SOURCES += $(sb_local_dreduce_sources)
tests_unit_test_local_bw_SOURCES += $(sb_local_dreduce_sources)

# nvcc through a suffix rule (automake does not know .cu): one object, shared by sb_local and the
# unit test, removed by `make clean` with the other objects.  NVCC_ARCH_FLAGS (configure) picks
# the architectures; NVCCFLAGS adds flags.  No dependency tracking: the headers are listed.
SUFFIXES = .cu
AM_V_NVCC = $(am__v_NVCC_@AM_V@)
am__v_NVCC_ = $(am__v_NVCC_@AM_DEFAULT_V@)
am__v_NVCC_0 = @echo "  NVCC    " $@;
am__v_NVCC_1 =
.cu.$(OBJEXT):
	$(AM_V_NVCC)$(NVCC) $(SB_NVCCFLAGS) $(NVCC_ARCH_FLAGS) $(NVCCFLAGS) -I$(top_srcdir)/common -c -o $@ $<
common/local_kernels.$(OBJEXT): $(top_srcdir)/common/local_kernels.h $(top_srcdir)/common/dtype.h
