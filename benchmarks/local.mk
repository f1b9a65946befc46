# One small descriptor file per collective; main() is one line into the harness.
bin_PROGRAMS += benchmarks/sb_allreduce benchmarks/sb_alltoall
benchmarks_sb_allreduce_SOURCES = benchmarks/sb_allreduce.c
benchmarks_sb_allreduce_LDADD = $(SB_HARNESS_LIBS)
benchmarks_sb_alltoall_SOURCES = benchmarks/sb_alltoall.c
benchmarks_sb_alltoall_LDADD = $(SB_HARNESS_LIBS)
