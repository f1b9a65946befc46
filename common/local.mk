# The harness library, linked into every benchmark.
noinst_LIBRARIES += common/libsbharness.a
common_libsbharness_a_CPPFLAGS = $(AM_CPPFLAGS) $(HWLOC_CFLAGS) $(JANSSON_CFLAGS)
common_libsbharness_a_SOURCES = \
	common/dtype.c common/dtype.h common/stdout_status.h \
	common/stats.c common/stats.h \
	common/options.c common/options.h \
	common/sweep.c common/sweep.h \
	common/pattern.c common/pattern.h common/pattern_formula.h \
	common/check.c common/check.h \
	common/timing.c common/timing.h \
	common/report.c common/report.h \
	common/sysinfo.c common/sysinfo.h \
	common/harness.c common/run.h common/collective.h common/collective.c \
	common/pairwise.c common/congestion.c common/schedule.c common/schedule.h \
	common/placement.c common/placement.h \
	common/watchdog.c common/watchdog.h \
	common/progress.c common/progress.h \
	common/straggler.c common/straggler.h \
	common/preflight.c common/preflight.h \
	common/comm.h \
	common/backend.h common/backend.c \
	common/gpuinfo.h common/gpuinfo.c common/gpuinfo_nvml.c

# The control plane and the MPI backend with MPI; without it (configure found no mpicc, or
# --without-mpi) the ranks are threads of one process (comm_threads.c) and NCCL is the backend.
if HAVE_MPI
common_libsbharness_a_SOURCES += common/comm_mpi.c common/backend_mpi.c
else
common_libsbharness_a_SOURCES += common/comm_threads.c
EXTRA_DIST += common/comm_mpi.c common/backend_mpi.c
endif

# The pairs verdict (sb_pairs' summary) is the models' outlier rule (models/pairs.c).
SB_HARNESS_LIBS = common/libsbharness.a models/libsbmodel.a $(SB_TOPO_LIBS) $(HWLOC_LIBS) $(JANSSON_LIBS) $(NUMA_LIBS) -ldl -lpthread -lm

# The NCCL backend, only where configure found CUDA and NCCL (common/backend.c asks for it),
# and the NCCL version for the header (gpuinfo_nccl.c, or gpuinfo_nonccl.c saying "not built").
if HAVE_NCCL
common_libsbharness_a_SOURCES += common/backend_nccl.c common/gpuinfo_nccl.c
common_libsbharness_a_CPPFLAGS += $(NCCL_CPPFLAGS)
SB_HARNESS_LIBS += $(NCCL_LDFLAGS) $(NCCL_LIBS)
EXTRA_DIST += common/gpuinfo_nonccl.c
else
common_libsbharness_a_SOURCES += common/gpuinfo_nonccl.c
EXTRA_DIST += common/backend_nccl.c common/gpuinfo_nccl.c
endif

# Where configure found CUDA: the MPI backend on device and pinned memory, the choice of GPU,
# and the CUDA runtime's view of the GPUs for the header (else gpuinfo_nocuda.c saying "built
# without CUDA"); the NCCL backend needs the runtime too (HAVE_NCCL implies HAVE_CUDA).
if HAVE_CUDA
common_libsbharness_a_SOURCES += common/gpu_select.c common/gpu_select.h common/gpuinfo_cuda.c
common_libsbharness_a_CPPFLAGS += $(CUDA_CPPFLAGS)
SB_HARNESS_LIBS += $(CUDA_LDFLAGS) $(CUDA_LIBS)
EXTRA_DIST += common/gpuinfo_nocuda.c
if HAVE_MPI
common_libsbharness_a_SOURCES += common/backend_mpi_device.c
else
EXTRA_DIST += common/backend_mpi_device.c
endif
else
common_libsbharness_a_SOURCES += common/gpuinfo_nocuda.c
EXTRA_DIST += common/backend_mpi_device.c common/gpu_select.c common/gpu_select.h common/gpuinfo_cuda.c
endif

# Filling and checking device buffers on the device (the backends' fill, poison and count_wrong
# hooks), where configure found nvcc; without it the hooks stay NULL and the harness fills and
# checks a host staging copy.  Compiled by the .cu rule of benchmarks/local_bw.mk; the object
# needs libcudart only (no libstdc++: see SB_NVCCFLAGS in configure.ac).
if HAVE_NVCC
common_libsbharness_a_SOURCES += common/kernels.cu common/kernels.h
else
EXTRA_DIST += common/kernels.cu common/kernels.h
endif
common/kernels.$(OBJEXT): $(top_srcdir)/common/kernels.h $(top_srcdir)/common/pattern_formula.h \
	$(top_srcdir)/common/dtype.h
