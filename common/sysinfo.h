/* Facts about the machine and the run for the header record. */
#ifndef SB_SYSINFO_H
#define SB_SYSINFO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

void sb_host_name(char *buf, size_t len);
/* CPU model of the first package as hwloc reports it ("unknown" if none). */
void sb_cpu_model(char *buf, size_t len);
void sb_hwloc_version(char *buf, size_t len);
/* Memory the kernel says can be allocated without swapping, in bytes (0 if unknown). */
uint64_t sb_available_memory(void);
/* Current UTC time as ISO 8601. */
void sb_utc_now(char *buf, size_t len);
/* The environment variables that tune what is measured (NCCL_*, UCX_*, OMPI_MCA_* but not the
 * launcher's own plumbing, FI_*, NVSHMEM_*, MPICH_*, I_MPI_*, SB_*, CUDA_VISIBLE_DEVICES and a
 * few other CUDA_*), name to value, sorted: the run header keeps them so that two runs can be
 * told apart by their settings. */
json_t *sb_tuning_environment(void);
/* The batch job this run belongs to, read from the scheduler's variables: Slurm
 * ({"scheduler": "slurm", "job_id", "job_name", "step_id", "partition", "cluster", "nodelist",
 * "tasks"}), PBS/Torque, LSF or Flux (scheduler, job_id, job_name, queue); only the fields set.
 * JSON null outside a batch job. Kept apart from the tuning environment: a job id changes every
 * night and says nothing of the settings. */
json_t *sb_batch_job(void);
/* "slurm job 1234 (name), step 0, partition p, nodes n[01-04]" or "" for null. */
void sb_batch_job_summary(json_t *job, char *buf, size_t len);
/* "NAME=value NAME=value ..." of such an object, cut to len. */
void sb_environment_summary(json_t *env, char *buf, size_t len);

#endif
