#!/bin/sh
# Launching under Slurm: a private one-node Slurm (its own munged, slurmctld and slurmd, on their
# own ports, sockets and state directories under $TMP, so a site's Slurm is never touched) runs
# the benchmarks with srun --mpi=pmix (the job forms, the header records the batch job), refuses
# tasks started without an MPI plugin before MPI_Init (exit 2, one line), runs a singleton inside
# an `sbatch -n 4` script (one process, not "N separate jobs"), and runs sb-nightly with
# --launcher srun. SKIP where Slurm or munge is not installed, or when not root.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
  skip "not root: the private slurmd needs root"
  done_testing
fi
for tool in slurmctld slurmd srun sbatch sinfo munged; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    skip "$tool not installed (Debian: slurm-wlm, munge): no Slurm launch tests here"
    done_testing
  fi
done
S="$TMP/slurm"
mkdir -p "$S/state" "$S/spool" "$S/log"
chmod 700 "$S"
node=$(hostname -s)
# Ports unlikely to be in use, different per test run.
base=$((20000 + $$ % 20000))
export SLURM_CONF="$S/slurm.conf"
# Clean up whatever happens: the daemons by their pid files.
stop_slurm() {
  for pid in "$S/slurmd.pid" "$S/slurmctld.pid" "$S/munged.pid"; do
    [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null
  done
  sleep 1
  rm -rf "$TMP"
}
trap stop_slurm EXIT
trap 'exit 1' INT TERM HUP

dd if=/dev/urandom of="$S/munge.key" bs=1024 count=1 2>/dev/null
chmod 400 "$S/munge.key"
munged --force --socket="$S/munge.sock" --key-file="$S/munge.key" --pid-file="$S/munged.pid" \
  --log-file="$S/log/munged.log" --seed-file="$S/munge.seed" 2>"$S/log/munged.err"
cat >"$SLURM_CONF" <<EOF
ClusterName=sbtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SrunPortRange=$((base + 2))-$((base + 200))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$S/munge.sock
CredType=cred/munge
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=8 Boards=1 SocketsPerBoard=1 CoresPerSocket=8 ThreadsPerCore=1 RealMemory=2000 State=UNKNOWN
PartitionName=sbtest Nodes=$node Default=YES MaxTime=10 State=UP OverSubscribe=YES
EOF
# srun lists its MPI plugins only with a configuration to read (none on a machine without a
# Slurm of its own): asked here, with the private one.
if ! srun --mpi=list 2>&1 | grep -q pmix; then
  skip "this Slurm has no pmix MPI plugin (srun --mpi=list: $(srun --mpi=list 2>&1 | tr '\n' ' ' | head -c 200))"
  done_testing
fi
slurmctld -f "$SLURM_CONF" 2>"$S/log/slurmctld.err"
slurmd -f "$SLURM_CONF" 2>"$S/log/slurmd.err"
up=0
for _ in $(seq 40); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then up=1; break; fi
  sleep 0.5
done
if [ "$up" -ne 1 ]; then
  # Slurm installed but its daemons cannot run in this container: say why, do not fail.
  skip "the private Slurm did not come up ($(tail -n 2 "$S/log/slurmctld.log" "$S/log/slurmd.log" 2>/dev/null | tr '\n' ' ' | head -c 300))"
  done_testing
fi
ok "a private one-node Slurm is up (node $node, ports $base..)"

# Ranks outnumber the cores: let waiting ranks yield, as mpirun's oversubscribe would.
export OMPI_MCA_mpi_yield_when_idle=1
run_srun() { timeout -k 10 "${SB_TEST_TIMEOUT:-180}" srun "$@"; }

# 1. srun --mpi=pmix forms one job; the header records the batch job
run_srun -n 2 --mpi=pmix -J sbtest-ar "$BENCH/sb_allreduce" -b 8 -e 64K -n 5 --json "$TMP/ar.jsonl" \
  >"$TMP/ar.out" 2>"$TMP/ar.err"
rc=$?
check "srun -n 2 --mpi=pmix sb_allreduce: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "srun -n 2: one job of 2 ranks, every point verified" \
  jqs '.[0].ranks == 2 and ([.[] | select(.type == "result") | .wrong] | length > 0 and all(. == 0))' "$TMP/ar.jsonl"
check "srun -n 2: batch_job names Slurm, the job name and the node" \
  jqs --arg node "$node" '.[0].batch_job | .scheduler == "slurm" and .job_name == "sbtest-ar"
    and (.job_id | test("^[0-9]+$")) and .nodelist == $node and .step_id == "0"' "$TMP/ar.jsonl"
check "srun -n 2: the table says the batch job" grep -q "^# Batch job: slurm job [0-9]* (sbtest-ar), step 0" "$TMP/ar.out"
check "srun -n 2: the batch job is not in the tuning environment" \
  jqs '.[0].environment | keys | all(startswith("SLURM_") | not)' "$TMP/ar.jsonl"

run_srun -n 4 --mpi=pmix "$BENCH/sb_alltoall" --sizes 1K,64K -n 5 --json "$TMP/a2a.jsonl" >/dev/null 2>"$TMP/a2a.err"
rc=$?
check "srun -n 4 --mpi=pmix sb_alltoall: exit 0 (got $rc), 4 ranks, 0 wrong" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '.[0].ranks == 4 and ([.[] | select(.type == \"result\") | .wrong] | length == 4 and all(. == 0))' '$TMP/a2a.jsonl' >/dev/null"

# srun's own binding (task/affinity, --cpu-bind=cores) is kept and recorded as the launcher's
run_srun -n 2 --mpi=pmix --cpu-bind=cores "$BENCH/sb_allreduce" --sizes 8 -n 6 --json "$TMP/bind.jsonl" \
  >/dev/null 2>"$TMP/bind.err"
rc=$?
check "srun --cpu-bind=cores: exit 0 (got $rc), every rank's binding recorded as the launcher's, on distinct cores" \
  sh -c "[ $rc -eq 0 ] && jq -s -e '.[0].rank_placement | all(.bind == \"launcher\") and (map(.cpuset) | unique | length) == 2' '$TMP/bind.jsonl' >/dev/null"

# 2. Tasks without an MPI plugin: refused before MPI_Init, exit 2, one line from the first task
run_srun -n 3 --mpi=none "$BENCH/sb_allreduce" -b 8 -e 1K -n 5 >"$TMP/none.out" 2>"$TMP/none.err"
rc=$?
lines=$(grep -c '^sb_allreduce:' "$TMP/none.err")
check "srun -n 3 --mpi=none: exit 2 (got $rc), one line naming --mpi=pmix (got $lines: $(head -c 200 "$TMP/none.err"))" \
  sh -c "[ $rc -eq 2 ] && [ $lines -eq 1 ] && grep -q 'without an MPI plugin.*srun --mpi=pmix' '$TMP/none.err'"
check "srun -n 3 --mpi=none: nothing measured" sh -c "! grep -q '^ ' '$TMP/none.out'"
run_srun -n 2 --mpi=none "$BENCH/sb_topo" >/dev/null 2>"$TMP/topo.err"
rc=$?
check "srun -n 2 --mpi=none sb_topo: exit 2 (got $rc), one line" \
  sh -c "[ $rc -eq 2 ] && [ \$(grep -c '^sb_topo:' '$TMP/topo.err') -eq 1 ]"

# 3. A singleton inside an `sbatch -n 4` script is one process: it runs (SLURM_NTASKS=4 there)
cat >"$TMP/job.sh" <<EOF
#!/bin/sh
"$BENCH/sb_allreduce" -b 8 -e 1K -n 3 --json "$TMP/batch.jsonl" >"$TMP/batch.out" 2>&1
echo \$? >"$TMP/batch.rc"
EOF
chmod +x "$TMP/job.sh"
timeout 120 sbatch --wait -n 4 -o "$TMP/sbatch.log" "$TMP/job.sh" >/dev/null 2>&1
rc=$(cat "$TMP/batch.rc" 2>/dev/null || echo none)
check "sbatch -n 4, a singleton in the script: exit 0 (got $rc: $(head -c 200 "$TMP/batch.out"))" [ "$rc" = 0 ]
check "sbatch -n 4, a singleton: 1 rank, batch_job without a step, tasks 4" \
  jqs '.[0].ranks == 1 and .[0].batch_job.scheduler == "slurm" and (.[0].batch_job | has("step_id") | not)
    and .[0].batch_job.tasks == "4"' "$TMP/batch.jsonl"

# 4. sb-nightly with --launcher srun
timeout -k 10 300 "$top_srcdir/scripts/sb-nightly" --builddir "$top_builddir" --launcher srun \
  --launcher-args "--mpi=pmix" --np 2 --collectives allreduce -b 1K -e 64K -n 5 \
  --save-baseline "$TMP/base.jsonl" --out "$TMP/night" >"$TMP/night.out" 2>&1
rc=$?
check "sb-nightly --launcher srun --launcher-args --mpi=pmix, first night: exit 0 (got $rc: $(tail -n 2 "$TMP/night.out" | tr '\n' ' '))" \
  [ "$rc" -eq 0 ]
check "sb-nightly --launcher srun: the results are of a 2-rank Slurm job" \
  sh -c "cat '$TMP/night/results.jsonl' | jq -s -e '[.[] | select(.type == \"run\")] | length > 0 and all(.ranks == 2 and .batch_job.scheduler == \"slurm\")' >/dev/null"

done_testing
