/* The JSON result record: every schema field present with the right value; algbw and busbw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#define main sb_allreduce_main
#include "../../benchmarks/sb_allreduce.c"
#undef main
#include "report.h"
#include "sysinfo.h"

static struct sb_record sample_record(struct sb_size *size, struct sb_timing *t)
{
    *size = (struct sb_size){.requested = 1000000, .bytes = 1000000, .layout = {250000, 250000, 250000, 250000}};
    memset(t, 0, sizeof *t);
    t->n = 100;
    t->max = (struct sb_stats){.n = 100, .min = 90, .median = 100, .mean = 101, .p99 = 120, .max = 130, .stddev = 5};
    t->mean = (struct sb_stats){.n = 100, .min = 80, .median = 95, .mean = 96, .p99 = 110, .max = 125, .stddev = 4};
    t->precision_reached = true;
    return (struct sb_record){.coll = &sb_allreduce, .backend = "mpi", .memory = "host", .op_impl = "native",
                              .timing_label = "per-call: barrier, then the call; max over ranks per iteration",
                              .dtype = SB_FLOAT, .op = SB_SUM, .in_place = true, .ranks = 4, .nodes = 1,
                              .ranks_per_node = 4, .size = size, .timing = t, .warmup = 10, .wrong = 0};
}

static void bandwidths_use_the_median_and_the_factor(void **state)
{
    (void)state;
    struct sb_size size;
    struct sb_timing t;
    struct sb_record rec = sample_record(&size, &t);
    /* 1e6 bytes in 100 us = 10 GB/s; busbw = 10 * 2 * 3 / 4 = 15 */
    assert_true(sb_record_algbw(&rec) > 9.999999 && sb_record_algbw(&rec) < 10.000001);
    assert_true(sb_record_busbw(&rec) > 14.999999 && sb_record_busbw(&rec) < 15.000001);
}

static void json_record_has_every_schema_field(void **state)
{
    (void)state;
    struct sb_size size;
    struct sb_timing t;
    struct sb_record rec = sample_record(&size, &t);
    json_t *o = sb_record_json(&rec, false);
    static const char *fields[] = {"schema", "type", "collective", "backend", "memory", "dtype", "op", "in_place",
                                   "ranks", "nodes", "ranks_per_node", "bytes", "bytes_per_peer", "count",
                                   "iterations", "warmup", "time_us", "time_us_rank_mean", "algbw_gbps",
                                   "busbw_gbps", "wrong", "timing"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (!json_object_get(o, fields[i]))
            fail_msg("field %s missing", fields[i]);
    assert_string_equal(json_string_value(json_object_get(o, "schema")), "scalebench/1");
    assert_string_equal(json_string_value(json_object_get(o, "type")), "result");
    assert_string_equal(json_string_value(json_object_get(o, "collective")), "allreduce");
    assert_true(json_is_true(json_object_get(o, "in_place")));
    assert_int_equal(json_integer_value(json_object_get(o, "bytes")), 1000000);
    assert_int_equal(json_integer_value(json_object_get(o, "count")), 250000);
    assert_int_equal(json_integer_value(json_object_get(o, "iterations")), 100);
    json_t *tu = json_object_get(o, "time_us");
    static const char *stats[] = {"min", "median", "mean", "p99", "max", "stddev"};
    for (size_t i = 0; i < sizeof stats / sizeof *stats; i++)
        assert_non_null(json_object_get(tu, stats[i]));
    assert_true(json_real_value(json_object_get(tu, "median")) == 100);
    assert_true(json_real_value(json_object_get(json_object_get(o, "time_us_rank_mean"), "median")) == 95);
    assert_int_equal(json_integer_value(json_object_get(o, "wrong")), 0);
    assert_null(json_object_get(o, "samples_us"));
    json_decref(o);
}

static void unchecked_is_null_and_samples_on_request(void **state)
{
    (void)state;
    struct sb_size size;
    struct sb_timing t;
    struct sb_record rec = sample_record(&size, &t);
    double samples[100] = {0};
    t.max_us = t.mean_us = samples;
    rec.wrong = -1;
    json_t *o = sb_record_json(&rec, true);
    assert_true(json_is_null(json_object_get(o, "wrong")));
    assert_true(json_is_null(json_object_get(o, "check")));
    assert_int_equal(json_array_size(json_object_get(o, "samples_us")), 100);
    json_decref(o);
}

/* `check` says where wrong was counted: "host" unless the record says otherwise. */
static void check_says_host_or_device(void **state)
{
    (void)state;
    struct sb_size size;
    struct sb_timing t;
    struct sb_record rec = sample_record(&size, &t);
    json_t *o = sb_record_json(&rec, false);
    assert_string_equal(json_string_value(json_object_get(o, "check")), "host");
    json_decref(o);
    rec.check = "device";
    o = sb_record_json(&rec, false);
    assert_string_equal(json_string_value(json_object_get(o, "check")), "device");
    json_decref(o);
}

/* The run header's environment: the tuning knobs, sorted, not the launcher's plumbing. */
static void environment_keeps_the_knobs_not_the_plumbing(void **state)
{
    (void)state;
    setenv("NCCL_PROTO", "Simple", 1);
    setenv("NCCL_ALGO", "Ring", 1);
    setenv("OMPI_MCA_btl", "self,vader", 1);
    setenv("OMPI_MCA_orte_hnp_uri", "1234.0;tcp://10.0.0.1:5", 1);
    setenv("CUDA_VISIBLE_DEVICES", "3", 1);
    setenv("CUDA_HOME", "/usr/local/cuda", 1);
    json_t *env = sb_tuning_environment();
    assert_string_equal(json_string_value(json_object_get(env, "NCCL_ALGO")), "Ring");
    assert_string_equal(json_string_value(json_object_get(env, "OMPI_MCA_btl")), "self,vader");
    assert_string_equal(json_string_value(json_object_get(env, "CUDA_VISIBLE_DEVICES")), "3");
    assert_null(json_object_get(env, "OMPI_MCA_orte_hnp_uri"));
    assert_null(json_object_get(env, "CUDA_HOME"));
    assert_null(json_object_get(env, "HOME"));
    char line[512];
    sb_environment_summary(env, line, sizeof line);
    const char *algo = strstr(line, "NCCL_ALGO=Ring"), *proto = strstr(line, "NCCL_PROTO=Simple");
    assert_non_null(algo);
    assert_non_null(proto);
    assert_true(algo < proto); /* sorted by name */
    char tiny[12];
    sb_environment_summary(env, tiny, sizeof tiny); /* cut, still a string */
    assert_true(strlen(tiny) < sizeof tiny);
    json_decref(env);
}

/* The run header's batch_job: the scheduler's job, not part of the tuning environment. */
static void batch_job_from_the_scheduler(void **state)
{
    (void)state;
    unsetenv("SLURM_JOB_ID");
    unsetenv("PBS_JOBID");
    unsetenv("LSB_JOBID");
    unsetenv("FLUX_JOB_ID");
    json_t *none = sb_batch_job();
    assert_true(json_is_null(none));
    char line[256];
    sb_batch_job_summary(none, line, sizeof line);
    assert_string_equal(line, "");
    json_decref(none);

    setenv("SLURM_JOB_ID", "4242", 1);
    setenv("SLURM_JOB_NAME", "nightly", 1);
    setenv("SLURM_JOB_NODELIST", "gpu[01-04]", 1);
    unsetenv("SLURM_STEP_ID"); /* a batch script, not an srun step */
    unsetenv("SLURM_JOB_PARTITION");
    json_t *job = sb_batch_job();
    assert_string_equal(json_string_value(json_object_get(job, "scheduler")), "slurm");
    assert_string_equal(json_string_value(json_object_get(job, "job_id")), "4242");
    assert_null(json_object_get(job, "step_id"));
    sb_batch_job_summary(job, line, sizeof line);
    assert_string_equal(line, "slurm job 4242 (nightly), nodes gpu[01-04]");
    json_t *env = sb_tuning_environment();
    assert_null(json_object_get(env, "SLURM_JOB_ID"));
    json_decref(env);
    char tiny[10];
    sb_batch_job_summary(job, tiny, sizeof tiny); /* cut, still a string */
    assert_true(strlen(tiny) < sizeof tiny);
    json_decref(job);

    unsetenv("SLURM_JOB_ID");
    setenv("PBS_JOBID", "77.pbs01", 1);
    setenv("PBS_QUEUE", "gpu", 1);
    job = sb_batch_job();
    assert_string_equal(json_string_value(json_object_get(job, "scheduler")), "pbs");
    sb_batch_job_summary(job, line, sizeof line);
    assert_string_equal(line, "pbs job 77.pbs01, queue gpu");
    json_decref(job);
    unsetenv("PBS_JOBID");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bandwidths_use_the_median_and_the_factor),
        cmocka_unit_test(json_record_has_every_schema_field),
        cmocka_unit_test(unchecked_is_null_and_samples_on_request),
        cmocka_unit_test(check_says_host_or_device),
        cmocka_unit_test(environment_keeps_the_knobs_not_the_plumbing),
        cmocka_unit_test(batch_job_from_the_scheduler),
    };
    return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
