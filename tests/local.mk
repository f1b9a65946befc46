# Unit tests (cmocka, TAP output) and integration tests (shell, TAP output).
EXTRA_DIST += tests/summarize.sh

# ---- unit tests of the harness (cmocka; one group per program so the TAP plan is whole)
SB_UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(HWLOC_CFLAGS)
SB_UNIT_LIBS = $(SB_HARNESS_LIBS) $(CMOCKA_LIBS)
harness_unit_tests = tests/unit/test_stats tests/unit/test_options tests/unit/test_sweep \
	tests/unit/test_dtype tests/unit/test_pattern tests/unit/test_report \
	tests/unit/test_coll_allreduce tests/unit/test_coll_alltoall tests/unit/test_coll_allgather \
	tests/unit/test_coll_reduce_scatter tests/unit/test_coll_broadcast tests/unit/test_coll_sendrecv \
	tests/unit/test_straggler tests/unit/test_schedule tests/unit/test_gpuinfo \
	tests/unit/test_watchdog
check_PROGRAMS += $(harness_unit_tests)
TESTS += $(harness_unit_tests)
tests_unit_test_stats_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_stats_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_options_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_options_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_sweep_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_sweep_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_dtype_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_dtype_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_pattern_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_pattern_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_report_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_report_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_coll_allreduce_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_coll_allreduce_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_coll_alltoall_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_coll_alltoall_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_coll_allgather_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_coll_allgather_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_coll_reduce_scatter_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_coll_reduce_scatter_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_coll_broadcast_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_coll_broadcast_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_coll_sendrecv_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_coll_sendrecv_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_straggler_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_straggler_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_schedule_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_schedule_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_gpuinfo_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_gpuinfo_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_watchdog_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_watchdog_LDADD = $(SB_UNIT_LIBS)

# ---- sb_pattern_value (the device kernels' formulas) against each descriptor's input() and
# expected(): one program per collective, all built from tests/unit/test_pattern_kind.c.
pattern_kind_tests = tests/unit/test_pattern_kind_allreduce tests/unit/test_pattern_kind_reduce_scatter \
	tests/unit/test_pattern_kind_alltoall tests/unit/test_pattern_kind_allgather \
	tests/unit/test_pattern_kind_broadcast tests/unit/test_pattern_kind_sendrecv tests/unit/test_pattern_kind_pairs
check_PROGRAMS += $(pattern_kind_tests)
TESTS += $(pattern_kind_tests)
SB_KIND_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/benchmarks
tests_unit_test_pattern_kind_allreduce_SOURCES = tests/unit/test_pattern_kind.c
tests_unit_test_pattern_kind_allreduce_CPPFLAGS = $(SB_KIND_CPPFLAGS) -DSB_KIND_FILE='"sb_allreduce.c"' -DSB_KIND_DESC=sb_allreduce
tests_unit_test_pattern_kind_allreduce_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_pattern_kind_allreduce_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_pattern_kind_reduce_scatter_SOURCES = tests/unit/test_pattern_kind.c
tests_unit_test_pattern_kind_reduce_scatter_CPPFLAGS = $(SB_KIND_CPPFLAGS) -DSB_KIND_FILE='"sb_reduce_scatter.c"' -DSB_KIND_DESC=sb_reduce_scatter
tests_unit_test_pattern_kind_reduce_scatter_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_pattern_kind_reduce_scatter_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_pattern_kind_alltoall_SOURCES = tests/unit/test_pattern_kind.c
tests_unit_test_pattern_kind_alltoall_CPPFLAGS = $(SB_KIND_CPPFLAGS) -DSB_KIND_FILE='"sb_alltoall.c"' -DSB_KIND_DESC=sb_alltoall
tests_unit_test_pattern_kind_alltoall_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_pattern_kind_alltoall_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_pattern_kind_allgather_SOURCES = tests/unit/test_pattern_kind.c
tests_unit_test_pattern_kind_allgather_CPPFLAGS = $(SB_KIND_CPPFLAGS) -DSB_KIND_FILE='"sb_allgather.c"' -DSB_KIND_DESC=sb_allgather
tests_unit_test_pattern_kind_allgather_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_pattern_kind_allgather_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_pattern_kind_broadcast_SOURCES = tests/unit/test_pattern_kind.c
tests_unit_test_pattern_kind_broadcast_CPPFLAGS = $(SB_KIND_CPPFLAGS) -DSB_KIND_FILE='"sb_broadcast.c"' -DSB_KIND_DESC=sb_broadcast
tests_unit_test_pattern_kind_broadcast_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_pattern_kind_broadcast_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_pattern_kind_sendrecv_SOURCES = tests/unit/test_pattern_kind.c
tests_unit_test_pattern_kind_sendrecv_CPPFLAGS = $(SB_KIND_CPPFLAGS) -DSB_KIND_FILE='"sb_sendrecv.c"' -DSB_KIND_DESC=sb_sendrecv
tests_unit_test_pattern_kind_sendrecv_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_pattern_kind_sendrecv_LDADD = $(SB_UNIT_LIBS)
tests_unit_test_pattern_kind_pairs_SOURCES = tests/unit/test_pattern_kind.c
tests_unit_test_pattern_kind_pairs_CPPFLAGS = $(SB_KIND_CPPFLAGS) -DSB_KIND_FILE='"sb_pairs.c"' -DSB_KIND_DESC=sb_pairs
tests_unit_test_pattern_kind_pairs_CFLAGS = $(SB_UNIT_CFLAGS)
tests_unit_test_pattern_kind_pairs_LDADD = $(SB_UNIT_LIBS)

# The threads control plane (the build without MPI), built from its source in every build: the
# collectives of comm.h on 1, 2, 3 and 5 threads.
check_PROGRAMS += tests/unit/test_comm_threads
TESTS += tests/unit/test_comm_threads
tests_unit_test_comm_threads_SOURCES = tests/unit/test_comm_threads.c common/comm_threads.c common/comm.h
tests_unit_test_comm_threads_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_comm_threads_LDADD = $(CMOCKA_LIBS) -lpthread


# ---- integration tests (real mpirun runs; TAP from shell)
harness_integration_tests = tests/integration/collectives.sh tests/integration/bad_input.sh \
	tests/integration/corrupt.sh tests/integration/hang.sh tests/integration/placement.sh \
	tests/integration/more_collectives.sh tests/integration/gpu.sh tests/integration/per_rank.sh \
	tests/integration/pairs.sh tests/integration/congestion.sh tests/integration/mpi_device.sh \
	tests/integration/timing_modes.sh tests/integration/slurm.sh tests/integration/off_cache.sh \
	tests/integration/sync_window.sh
EXTRA_DIST += tests/integration/lib.sh $(harness_integration_tests) tests/integration/fault_inject.c
# The build without MPI: -g N (one process, N threads); SKIP in an MPI build, which checks
# instead that -g 2 is refused.
TESTS += tests/integration/nompi.sh
EXTRA_DIST += tests/integration/nompi.sh

check_DATA =
if HAVE_MPI
TESTS += $(harness_integration_tests)
# The fault-injection PMPI wrapper (test only; LD_PRELOADed by the tests).
check_DATA += tests/integration/libsbfault.so
CLEANFILES += tests/integration/libsbfault.so
tests/integration/libsbfault.so: $(top_srcdir)/tests/integration/fault_inject.c
	@mkdir -p tests/integration
	$(AM_V_CC)$(CC) -shared -fPIC $(SB_CFLAGS) -o $@ $<
endif

# An NCCL wrapper that corrupts AllReduce results (test only; LD_PRELOADed by gpu.sh on a GPU).
if HAVE_NCCL
check_DATA += tests/integration/libsbncclfault.so
CLEANFILES += tests/integration/libsbncclfault.so
tests/integration/libsbncclfault.so: $(top_srcdir)/tests/integration/nccl_fault.c
	@mkdir -p tests/integration
	$(AM_V_CC)$(CC) -shared -fPIC $(SB_CFLAGS) $(NCCL_CPPFLAGS) $(CUDA_CPPFLAGS) -o $@ $< $(CUDA_LDFLAGS) \
		$(CUDA_LIBS) -ldl
endif
EXTRA_DIST += tests/integration/nccl_fault.c

# fakegpu: CPU test doubles of libcudart.so.13 and libnccl.so.2 (tests/fakegpu/, test only), put
# before the real ones with LD_LIBRARY_PATH by tests/integration/fakegpu.sh, so that the GPU code
# paths of the real benchmarks run on a machine without a GPU.  Their SONAMEs are the real ones;
# the NCCL double moves data through MPI in an MPI build (mpicc is CC there), else between threads.
fakegpu_sources = tests/fakegpu/fake_cudart.c tests/fakegpu/fake_nccl.c tests/fakegpu/fakegpu.h \
	tests/fakegpu/cudart.map tests/fakegpu/nvidia-smi
EXTRA_DIST += $(fakegpu_sources) tests/integration/fakegpu.sh tests/fakegpu/fakegpu_probe.c
if HAVE_NCCL
fakegpu_libs = tests/fakegpu/lib/libcudart.so.13 tests/fakegpu/lib/libnccl.so.2 tests/fakegpu/lib-old/libnccl.so.2
check_DATA += $(fakegpu_libs)
CLEANFILES += $(fakegpu_libs)
TESTS += tests/integration/fakegpu.sh
check_PROGRAMS += tests/fakegpu/fakegpu_probe
tests_fakegpu_fakegpu_probe_SOURCES = tests/fakegpu/fakegpu_probe.c
tests_fakegpu_fakegpu_probe_CPPFLAGS = $(AM_CPPFLAGS) $(CUDA_CPPFLAGS) $(NCCL_CPPFLAGS)
tests_fakegpu_fakegpu_probe_LDADD = $(NCCL_LDFLAGS) $(NCCL_LIBS) $(CUDA_LDFLAGS) $(CUDA_LIBS) -lpthread
FAKEGPU_CFLAGS = $(SB_CFLAGS) -O2 -I$(top_srcdir)/common $(CUDA_CPPFLAGS) $(NCCL_CPPFLAGS)
if HAVE_MPI
FAKEGPU_TRANSPORT = -DFAKEGPU_WITH_MPI
endif
tests/fakegpu/lib/libcudart.so.13: $(top_srcdir)/tests/fakegpu/fake_cudart.c $(top_srcdir)/tests/fakegpu/fakegpu.h \
		$(top_srcdir)/tests/fakegpu/cudart.map $(top_srcdir)/common/pattern_formula.h
	@mkdir -p tests/fakegpu/lib
	$(AM_V_CC)$(CC) -shared -fPIC $(FAKEGPU_CFLAGS) -Wl,--as-needed -Wl,-soname,libcudart.so.13 \
		-Wl,--version-script=$(top_srcdir)/tests/fakegpu/cudart.map -o $@ $(top_srcdir)/tests/fakegpu/fake_cudart.c -lpthread
tests/fakegpu/lib/libnccl.so.2: $(top_srcdir)/tests/fakegpu/fake_nccl.c $(top_srcdir)/tests/fakegpu/fakegpu.h \
		tests/fakegpu/lib/libcudart.so.13
	@mkdir -p tests/fakegpu/lib
	$(AM_V_CC)$(CC) -shared -fPIC $(FAKEGPU_CFLAGS) $(FAKEGPU_TRANSPORT) -Wl,-soname,libnccl.so.2 -o $@ \
		$(top_srcdir)/tests/fakegpu/fake_nccl.c tests/fakegpu/lib/libcudart.so.13 -lpthread
# An NCCL older than the headers the benchmarks were built with: no ncclAlltoAll, no ncclCommSplit.
tests/fakegpu/lib-old/libnccl.so.2: $(top_srcdir)/tests/fakegpu/fake_nccl.c $(top_srcdir)/tests/fakegpu/fakegpu.h \
		tests/fakegpu/lib/libcudart.so.13
	@mkdir -p tests/fakegpu/lib-old
	$(AM_V_CC)$(CC) -shared -fPIC $(FAKEGPU_CFLAGS) $(FAKEGPU_TRANSPORT) -DFAKEGPU_OLD_NCCL -Wl,-soname,libnccl.so.2 \
		-o $@ $(top_srcdir)/tests/fakegpu/fake_nccl.c tests/fakegpu/lib/libcudart.so.13 -lpthread
endif

# A stand-in NVML for tests/unit/test_gpuinfo (loaded through SB_NVML_LIBRARY; test only).
check_DATA += tests/unit/libsbfakenvml.so
CLEANFILES += tests/unit/libsbfakenvml.so
EXTRA_DIST += tests/unit/fake_nvml.c tests/unit/avg_reference.h
tests/unit/libsbfakenvml.so: $(top_srcdir)/tests/unit/fake_nvml.c
	@mkdir -p tests/unit
	$(AM_V_CC)$(CC) -shared -fPIC $(SB_CFLAGS) -o $@ $<
