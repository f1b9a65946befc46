/* The GPU facts of the run header (common/gpuinfo*.c): where there is no GPU, no NVML or no CUDA
 * every part says available:false with a one-line reason; with the test-only fake NVML
 * (tests/unit/fake_nvml.c, through SB_NVML_LIBRARY) the NVML path and the summary line are
 * checked value by value.  On a GPU node the real parts are checked for shape only. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpuinfo.h"

static void assert_one_line(const char *s)
{
    assert_non_null(s);
    assert_true(strlen(s) > 0);
    assert_null(strchr(s, '\n'));
}

static void assert_unavailable(json_t *part)
{
    assert_non_null(part);
    assert_true(json_is_false(json_object_get(part, "available")));
    assert_one_line(json_string_value(json_object_get(part, "why")));
}

static void fake_nvml(char *path, size_t len)
{
    const char *top = getenv("top_builddir");
    snprintf(path, len, "%s/tests/unit/libsbfakenvml.so", top && *top ? top : ".");
    setenv("SB_NVML_LIBRARY", path, 1);
}

static void pci_ids_are_written_as_hwloc_does(void **state)
{
    (void)state;
    char out[32];
    sb_gpuinfo_pci_normalize("00000000:1B:00.0", out, sizeof out);
    assert_string_equal(out, "0000:1b:00.0");
    sb_gpuinfo_pci_normalize("0000:18:00.0", out, sizeof out);
    assert_string_equal(out, "0000:18:00.0");
    sb_gpuinfo_pci_normalize("00000001:AC:00.0", out, sizeof out);
    assert_string_equal(out, "0001:ac:00.0");
    sb_gpuinfo_pci_normalize("NOT-A-BUS-ID", out, sizeof out);
    assert_string_equal(out, "not-a-bus-id");
    sb_gpuinfo_pci_normalize("", out, sizeof out);
    assert_string_equal(out, "");
}

/* The default library: absent on a machine without the NVIDIA driver; on a GPU node, present. */
static void nvml_default_library(void **state)
{
    (void)state;
    unsetenv("SB_NVML_LIBRARY");
    json_t *n = sb_gpuinfo_nvml_json();
    if (json_is_true(json_object_get(n, "available"))) {
        assert_true(json_is_array(json_object_get(n, "gpus")));
    } else {
        assert_unavailable(n);
        assert_non_null(strstr(json_string_value(json_object_get(n, "why")), "libnvidia-ml.so.1"));
    }
    json_decref(n);
}

static void nvml_missing_path_is_named(void **state)
{
    (void)state;
    const char *path = "/nonexistent/scalebench-test/libnvidia-ml.so.1";
    setenv("SB_NVML_LIBRARY", path, 1);
    json_t *n = sb_gpuinfo_nvml_json();
    assert_unavailable(n);
    assert_non_null(strstr(json_string_value(json_object_get(n, "why")), path));
    assert_null(json_object_get(n, "gpus"));
    json_decref(n);
    unsetenv("SB_NVML_LIBRARY");
}

/* A library that loads but is not NVML: the missing function is named. */
static void nvml_wrong_library_names_the_symbol(void **state)
{
    (void)state;
    setenv("SB_NVML_LIBRARY", "libm.so.6", 1);
    json_t *n = sb_gpuinfo_nvml_json();
    assert_unavailable(n);
    assert_non_null(strstr(json_string_value(json_object_get(n, "why")), "lacks nvmlInit_v2"));
    json_decref(n);
    unsetenv("SB_NVML_LIBRARY");
}

static void nvml_init_failure_is_reported(void **state)
{
    (void)state;
    char path[4096];
    fake_nvml(path, sizeof path);
    setenv("SB_FAKE_NVML_INIT_FAIL", "1", 1);
    json_t *n = sb_gpuinfo_nvml_json();
    unsetenv("SB_FAKE_NVML_INIT_FAIL");
    assert_unavailable(n);
    const char *why = json_string_value(json_object_get(n, "why"));
    assert_non_null(strstr(why, "nvmlInit_v2 failed"));
    assert_non_null(strstr(why, "Driver Not Loaded"));
    json_decref(n);
    unsetenv("SB_NVML_LIBRARY");
}

static void nvml_fake_gpus_are_read(void **state)
{
    (void)state;
    char path[4096];
    fake_nvml(path, sizeof path);
    json_t *n = sb_gpuinfo_nvml_json();
    assert_true(json_is_true(json_object_get(n, "available")));
    assert_string_equal(json_string_value(json_object_get(n, "driver_version")), "999.99-fake");
    json_t *gpus = json_object_get(n, "gpus");
    assert_int_equal(json_array_size(gpus), 2);
    json_t *a = json_array_get(gpus, 0), *b = json_array_get(gpus, 1);
    assert_string_equal(json_string_value(json_object_get(a, "name")), "Fake GPU A");
    assert_string_equal(json_string_value(json_object_get(a, "pci_bus_id")), "0000:1b:00.0");
    assert_int_equal(json_integer_value(json_object_get(a, "memory_total_bytes")), 85899345920LL);
    json_t *nv = json_object_get(a, "nvlink");
    assert_int_equal(json_integer_value(json_object_get(nv, "links_active")), 17);
    assert_int_equal(json_integer_value(json_object_get(nv, "links_total_probed")), 18);
    assert_string_equal(json_string_value(json_array_get(json_object_get(nv, "state"), 5)), "down");
    assert_string_equal(json_string_value(json_array_get(json_object_get(nv, "state"), 0)), "up");
    assert_null(json_object_get(nv, "why"));
    json_t *pcie = json_object_get(a, "pcie");
    assert_int_equal(json_integer_value(json_object_get(pcie, "gen_max")), 5);
    assert_int_equal(json_integer_value(json_object_get(pcie, "width_max")), 16);
    assert_int_equal(json_integer_value(json_object_get(pcie, "gen_current")), 1);
    assert_true(json_is_null(json_object_get(pcie, "width_current"))); /* the fake has no such symbol */
    /* gen 5 x16: 32 GT/s x 16 lanes x 128/130 / 8 = 63.0 GB/s one way */
    assert_true(fabs(json_number_value(json_object_get(pcie, "peak_gbps")) - 32.0 * 16 * 128 / 130 / 8) < 1e-9);
    assert_string_equal(json_string_value(json_object_get(b, "pci_bus_id")), "0001:ac:00.0");
    nv = json_object_get(b, "nvlink");
    assert_int_equal(json_integer_value(json_object_get(nv, "links_total_probed")), 0);
    assert_non_null(strstr(json_string_value(json_object_get(nv, "why")), "Not Supported"));
    json_decref(n);
    unsetenv("SB_NVML_LIBRARY");
}

static void pcie_lane_rates(void **state)
{
    (void)state;
    assert_true(fabs(sb_gpuinfo_pcie_lane_gbps(1) - 0.25) < 1e-12);    /* 2.5 GT/s, 8b/10b */
    assert_true(fabs(sb_gpuinfo_pcie_lane_gbps(3) - 0.984615) < 1e-6); /* 8 GT/s, 128b/130b */
    assert_true(fabs(sb_gpuinfo_pcie_lane_gbps(4) * 16 - 31.5077) < 1e-3);
    assert_true(sb_gpuinfo_pcie_lane_gbps(0) == 0 && sb_gpuinfo_pcie_lane_gbps(7) == 0);
    json_t *none = json_pack("{s:{s:b}}", "nvml", "available", 0);
    assert_true(sb_gpuinfo_pcie_peak(none, 0) == 0);
    json_decref(none);
}

/* No device here (or not built with CUDA): a reason; on a GPU node, the devices. */
static void cuda_part(void **state)
{
    (void)state;
    json_t *c = sb_gpuinfo_cuda_json();
    if (json_is_true(json_object_get(c, "available")))
        assert_true(json_array_size(json_object_get(c, "devices")) > 0);
    else
        assert_unavailable(c);
    json_decref(c);
}

static void nccl_version_or_reason(void **state)
{
    (void)state;
    char v[128];
    int rc = sb_gpuinfo_nccl_version(v, sizeof v);
    assert_one_line(v);
    if (rc == 0) {
        unsigned a, b, c;
        assert_int_equal(sscanf(v, "%u.%u.%u", &a, &b, &c), 3);
    } else {
        assert_int_equal(rc, -1);
    }
}

static void combined_serializes_and_summarizes(void **state)
{
    (void)state;
    unsetenv("SB_NVML_LIBRARY");
    json_t *info = sb_gpuinfo_json();
    assert_non_null(json_object_get(info, "cuda"));
    assert_non_null(json_object_get(info, "nvml"));
    json_t *nccl = json_object_get(info, "nccl_version");
    assert_true(json_is_string(nccl) || (json_is_null(nccl) && json_is_string(json_object_get(info, "nccl_why"))));
    char *text = json_dumps(info, JSON_COMPACT);
    assert_non_null(text);
    free(text);
    char line[1024];
    sb_gpuinfo_summary(info, line, sizeof line);
    assert_one_line(line);
    int no_gpu = !json_is_true(json_object_get(json_object_get(info, "cuda"), "available")) &&
                 !json_is_true(json_object_get(json_object_get(info, "nvml"), "available"));
    if (no_gpu)
        assert_int_equal(strncmp(line, "no GPU: CUDA: ", 14), 0);
    json_decref(info);
}

/* The fake NVML and whatever CUDA says here (no device on a machine without a GPU). */
static void summary_from_fake_nvml(void **state)
{
    (void)state;
    char path[4096], line[1024];
    fake_nvml(path, sizeof path);
    json_t *info = sb_gpuinfo_json();
    unsetenv("SB_NVML_LIBRARY");
    sb_gpuinfo_summary(info, line, sizeof line);
    assert_one_line(line);
    assert_non_null(strstr(line, "driver 999.99-fake"));
    if (!json_is_true(json_object_get(json_object_get(info, "cuda"), "available"))) {
        assert_non_null(strstr(line, "GPU0 Fake GPU A 0000:1b:00.0 80.0 GiB, 17/18 NVLink up; "
                                     "GPU1 Fake GPU B 0001:ac:00.0 16.0 GiB, no NVLink; driver"));
        assert_null(json_object_get(json_array_get(json_object_get(json_object_get(info, "nvml"), "gpus"), 0),
                                    "cuda_index"));
    }
    json_decref(info);
}

/* A CUDA device matched to its NVML GPU by bus id, from a hand-made record. */
static void summary_joins_cuda_and_nvml(void **state)
{
    (void)state;
    json_t *info = json_pack(
        "{s:{s:b, s:s, s:s, s:[{s:i, s:s, s:s, s:I, s:s}]}, s:{s:b, s:s, s:[{s:i, s:s, s:{s:i, s:i}}]}, s:s}",
        "cuda", "available", 1, "runtime_version", "13.0", "driver_version", "13.1", "devices", "index", 0, "name",
        "X", "pci_bus_id", "0000:18:00.0", "memory_total_bytes", (json_int_t)85899345920LL, "compute_capability",
        "9.0", "nvml", "available", 1, "driver_version", "580.1", "gpus", "index", 3, "pci_bus_id", "0000:18:00.0",
        "nvlink", "links_active", 18, "links_total_probed", 18, "nccl_version", "2.28.9");
    assert_non_null(info);
    char line[256], tiny[8];
    sb_gpuinfo_summary(info, line, sizeof line);
    assert_string_equal(line, "GPU0 X 0000:18:00.0 80.0 GiB, 18/18 NVLink up; driver 580.1, CUDA runtime 13.0 (driver "
                              "supports 13.1), NCCL 2.28.9");
    sb_gpuinfo_summary(info, tiny, sizeof tiny);
    assert_string_equal(tiny, "GPU0 X ");
    sb_gpuinfo_summary(info, tiny, 1);
    assert_string_equal(tiny, "");
    json_decref(info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pci_ids_are_written_as_hwloc_does),
        cmocka_unit_test(nvml_default_library),
        cmocka_unit_test(nvml_missing_path_is_named),
        cmocka_unit_test(nvml_wrong_library_names_the_symbol),
        cmocka_unit_test(nvml_init_failure_is_reported),
        cmocka_unit_test(nvml_fake_gpus_are_read),
        cmocka_unit_test(pcie_lane_rates),
        cmocka_unit_test(cuda_part),
        cmocka_unit_test(nccl_version_or_reason),
        cmocka_unit_test(combined_serializes_and_summarizes),
        cmocka_unit_test(summary_from_fake_nvml),
        cmocka_unit_test(summary_joins_cuda_and_nvml),
    };
    return cmocka_run_group_tests_name("gpuinfo", tests, NULL, NULL);
}
