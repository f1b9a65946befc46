# The harness library, linked into every benchmark.
noinst_LIBRARIES += common/libsbharness.a
common_libsbharness_a_CPPFLAGS = $(AM_CPPFLAGS) $(HWLOC_CFLAGS) $(JANSSON_CFLAGS)
common_libsbharness_a_SOURCES = \
	common/dtype.c common/dtype.h \
	common/stats.c common/stats.h \
	common/options.c common/options.h \
	common/sweep.c common/sweep.h \
	common/pattern.c common/pattern.h \
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
	common/comm.h common/comm_mpi.c \
	common/backend.h common/backend.c common/backend_mpi.c

# The pairs verdict (sb_pairs' summary) is the models' outlier rule (models/pairs.c).
SB_HARNESS_LIBS = common/libsbharness.a models/libsbmodel.a $(SB_TOPO_LIBS) $(HWLOC_LIBS) $(JANSSON_LIBS) $(NUMA_LIBS) -lpthread -lm

# The NCCL backend, only where configure found CUDA and NCCL (common/backend.c asks for it).
if HAVE_NCCL
common_libsbharness_a_SOURCES += common/backend_nccl.c
common_libsbharness_a_CPPFLAGS += $(CUDA_CPPFLAGS) $(NCCL_CPPFLAGS)
SB_HARNESS_LIBS += $(NCCL_LDFLAGS) $(NCCL_LIBS) $(CUDA_LDFLAGS) $(CUDA_LIBS)
else
EXTRA_DIST += common/backend_nccl.c
endif
