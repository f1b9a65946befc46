# One small descriptor file per collective; main() is one line into the harness.
sb_collectives = benchmarks/sb_allreduce benchmarks/sb_alltoall benchmarks/sb_allgather \
	benchmarks/sb_reduce_scatter benchmarks/sb_broadcast benchmarks/sb_sendrecv benchmarks/sb_pairs
bin_PROGRAMS += $(sb_collectives)
benchmarks_sb_allreduce_SOURCES = benchmarks/sb_allreduce.c
benchmarks_sb_allreduce_LDADD = $(SB_HARNESS_LIBS)
benchmarks_sb_alltoall_SOURCES = benchmarks/sb_alltoall.c
benchmarks_sb_alltoall_LDADD = $(SB_HARNESS_LIBS)
benchmarks_sb_allgather_SOURCES = benchmarks/sb_allgather.c
benchmarks_sb_allgather_LDADD = $(SB_HARNESS_LIBS)
benchmarks_sb_reduce_scatter_SOURCES = benchmarks/sb_reduce_scatter.c
benchmarks_sb_reduce_scatter_LDADD = $(SB_HARNESS_LIBS)
benchmarks_sb_broadcast_SOURCES = benchmarks/sb_broadcast.c
benchmarks_sb_broadcast_LDADD = $(SB_HARNESS_LIBS)
benchmarks_sb_sendrecv_SOURCES = benchmarks/sb_sendrecv.c
benchmarks_sb_sendrecv_LDADD = $(SB_HARNESS_LIBS)
benchmarks_sb_pairs_SOURCES = benchmarks/sb_pairs.c
benchmarks_sb_pairs_LDADD = $(SB_HARNESS_LIBS)
