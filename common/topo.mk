# Topology, binding and memory placement (hwloc, libnuma): libsbtopo, the sb_topo tool and
# their tests.  SB_TOPO_LIBS goes on every benchmark's link line (see common/local.mk).
noinst_LIBRARIES += common/libsbtopo.a
common_libsbtopo_a_CPPFLAGS = $(AM_CPPFLAGS) $(HWLOC_CFLAGS) $(JANSSON_CFLAGS)
common_libsbtopo_a_SOURCES = \
	common/topo.c common/topo.h \
	common/memory.c common/memory.h
SB_TOPO_LIBS = common/libsbtopo.a

# sb_topo: the machine as scalebench sees it (uses the harness's control plane: comm_mpi.c, or
# comm_threads.c as a 1-rank job in a build without MPI).
bin_PROGRAMS += benchmarks/sb_topo
benchmarks_sb_topo_SOURCES = benchmarks/sb_topo.c
benchmarks_sb_topo_CPPFLAGS = $(AM_CPPFLAGS) $(HWLOC_CFLAGS) $(JANSSON_CFLAGS)
benchmarks_sb_topo_LDADD = common/libsbharness.a $(SB_HARNESS_LIBS)

# Unit tests: placement on saved hwloc XML machines; memory placement on this one.
topo_unit_tests = tests/unit/test_topo tests/unit/test_memory
check_PROGRAMS += $(topo_unit_tests)
TESTS += $(topo_unit_tests)
tests_unit_test_topo_CPPFLAGS = $(AM_CPPFLAGS) -DSB_FIXTURES='"$(abs_top_srcdir)/tests/fixtures"'
tests_unit_test_topo_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(HWLOC_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_topo_LDADD = common/libsbtopo.a $(HWLOC_LIBS) $(JANSSON_LIBS) $(NUMA_LIBS) $(CMOCKA_LIBS)
tests_unit_test_memory_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_memory_LDADD = common/libsbtopo.a $(HWLOC_LIBS) $(JANSSON_LIBS) $(NUMA_LIBS) $(CMOCKA_LIBS)

# Integration: sb_topo under mpirun against hwloc-bind, numactl and /proc/PID/numa_maps.
topo_integration_tests = tests/integration/topo_binding.sh tests/integration/topo_memory.sh \
	tests/integration/topo_tool.sh
if HAVE_MPI
TESTS += $(topo_integration_tests)
endif
EXTRA_DIST += $(topo_integration_tests) tests/fixtures/make_fixtures.py \
	tests/fixtures/dgx-h100.xml tests/fixtures/pcigpu-2p2n.xml tests/fixtures/vm-1n.xml
