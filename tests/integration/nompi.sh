#!/bin/sh
# -g N: one process driving N GPUs with N threads, in the build without MPI.  An MPI build must
# refuse -g N (exit 2, one line); a build without MPI must refuse --backend mpi, and without a
# GPU say so in one line (exit 2); with GPUs it runs the collectives on them exactly.  Never
# passes for lack of a GPU: those runs are SKIP then.
. "$(dirname "$0")/lib.sh"
AR="$BENCH/sb_allreduce"

"$AR" -g 0 >/dev/null 2>"$TMP/g0"; rc=$?
check "-g 0: exit 2 (got $rc) naming the range" sh -c "[ $rc -eq 2 ] && grep -q 'invalid --gpus.*1 to 1024' '$TMP/g0'"
"$AR" --gpus 1025 >/dev/null 2>"$TMP/g1025"; rc=$?
check "--gpus 1025: exit 2 (got $rc)" sh -c "[ $rc -eq 2 ] && grep -q 'invalid --gpus' '$TMP/g1025'"

if grep -q '^#define SB_HAVE_MPI 1' "$top_builddir/config.h"; then
  "$AR" -g 2 --sizes 8 >"$TMP/m.out" 2>"$TMP/m.err"; rc=$?
  check "MPI build: -g 2 exits 2 (got $rc) with one line saying -g is for builds without MPI" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/m.err') -eq 1 ] && grep -q -- '-g N is for builds without MPI (one process, N GPUs); under MPI use one rank per GPU' '$TMP/m.err'"
  mpi 2 "$AR" -g 2 --sizes 8 >"$TMP/m2.out" 2>"$TMP/m2.err"; rc=$?
  check "MPI build, 2 ranks: -g 2 exits 2 (got $rc), said once (rank 0)" \
    sh -c "[ $rc -eq 2 ] && [ \$(grep -c -- '-g N is for builds' '$TMP/m2.err') -eq 1 ]"
  "$AR" -g 1 --sizes 8 -n 2 -w 0 --json "$TMP/m1.jsonl" >/dev/null 2>&1; rc=$?
  check "MPI build: -g 1 is the usual singleton (exit $rc), launch \"mpi\"" \
    sh -c "[ $rc -eq 0 ] && jq -s -e '.[0].launch == \"mpi\"' '$TMP/m1.jsonl' >/dev/null"
  skip "runs without MPI: this build has MPI (configure --without-mpi builds one)"
  done_testing
fi

# ---- the build without MPI
"$AR" --backend mpi --sizes 8 >/dev/null 2>"$TMP/b.err"; rc=$?
check "no MPI: --backend mpi exits 2 (got $rc), one line saying so" \
  sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/b.err') -eq 1 ] && grep -q 'this build has no MPI (configure found no mpicc): use --backend nccl -g N' '$TMP/b.err'"
"$AR" --help >"$TMP/help" 2>&1; rc=$?
check "no MPI: --help (exit $rc) lists -g" sh -c "[ $rc -eq 0 ] && grep -q -- '-g, --gpus N' '$TMP/help'"
"$BENCH/sb_topo" >"$TMP/topo" 2>&1; rc=$?
check "no MPI: sb_topo runs as a 1-rank job (exit $rc)" [ "$rc" -eq 0 ]

timeout -k 10 "${SB_TEST_TIMEOUT:-180}" "$AR" -g 2 --sizes 8 >"$TMP/g.out" 2>"$TMP/g.err"; rc=$?
if grep -q 'needs a GPU: no CUDA device visible' "$TMP/g.err"; then
  check "no GPU here: -g 2 exits 2 (got $rc) with one line saying so" \
    sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/g.err') -eq 1 ]"
  skip "-g N runs on GPUs: no CUDA device on this machine"
  done_testing
fi

# A GPU machine: every GPU driven by a thread of one process, every collective, exact
# (SB_TEST_GPU_SIZES replaces the sweep's sizes, as in gpu.sh).
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
[ "$gpus" -ge 1 ] || gpus=1
for b in allreduce alltoall allgather reduce_scatter broadcast sendrecv; do
  ops=""; [ "$b" = allreduce ] || [ "$b" = reduce_scatter ] && ops="-o all"
  # shellcheck disable=SC2086
  timeout -k 10 "${SB_TEST_TIMEOUT:-180}" "$BENCH/sb_$b" -g "$gpus" --sizes "${SB_TEST_GPU_SIZES:-8,4K,1M,64M}" -n 5 -d all $ops \
    --json "$TMP/$b.jsonl" >"$TMP/$b.out" 2>&1
  rc=$?
  check "-g $gpus sb_$b: exit 0 (got $rc)" [ "$rc" -eq 0 ]
  check "-g $gpus sb_$b: wrong == 0 everywhere, nccl on $gpus ranks" \
    jq_all "$TMP/$b.jsonl" ".wrong == 0 and .backend == \"nccl\" and .ranks == $gpus"
done
check "-g $gpus: the header says launch threads, no MPI, one node" \
  jqs ".[0].launch == \"threads\" and (.[0].mpi_library | test(\"no MPI\")) and .[0].nodes == 1" "$TMP/allreduce.jsonl"
timeout -k 10 "${SB_TEST_TIMEOUT:-180}" "$AR" -g $((gpus + 1)) --sizes 8 >/dev/null 2>"$TMP/over.err"; rc=$?
check "-g $((gpus + 1)) on $gpus GPU(s): exit 2 (got $rc), one line" \
  sh -c "[ $rc -eq 2 ] && [ \$(wc -l <'$TMP/over.err') -eq 1 ] && grep -q 'would drive the same GPU' '$TMP/over.err'"
done_testing
