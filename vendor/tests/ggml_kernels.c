// Checks the matrix products that callscope's whisper.cpp patches changed, through ggml's own API
// on the CPU backend, against a reference computed here in double precision:
//
// - F32 products C = A·Bᵀ with a short inner dimension (llamafile/sgemm.cpp, sgemm_short_k, on
//   AVX-512: the encoder's attention scores) and with a long one (tinyBLAS), at shapes whose rows
//   and columns do not fill a whole tile, on 1, 2 and 3 threads;
// - Q8_0 weights repacked eight rows at a time (repack.cpp and arch/x86/repack.cpp: the AVX2 and
//   the AVX-512 VNNI kernels), matrix-vector and matrix-matrix, with rows left after the last
//   group of eight, and the repacked tensor's row lookups (GGML_OP_GET_ROWS). On a CPU where ggml
//   does not repack Q8_0 (AMX, AVX-512 without VNNI, GGML_Q8_0_REPACK=0) that part says so and is
//   skipped.
//
// Built and run by vendor/tests/run.sh (CI runs it). Prints one line per case and exits 1 on the
// first product outside its tolerance.
#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long rng_state = 0x9E3779B97F4A7C15ull;

static float uniform(void) {  // in [-1, 1)
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (float) ((rng_state >> 40) * (2.0 / 16777216.0) - 1.0);
}

static void fill(float * x, size_t n) {
    for (size_t i = 0; i < n; i++) {
        x[i] = uniform();
    }
}

static int failures = 0;

// |got - want| within a relative tolerance of the sum of the products' magnitudes.
static void compare(const char * what, const float * got, const double * want, const double * scale, size_t n,
                    double rel) {
    double worst = 0.0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        const double err = fabs((double) got[i] - want[i]) / (scale[i] + 1e-30);
        if (!(err <= worst)) {  // NaN counts as worst
            worst = err;
            at = i;
        }
    }
    const int ok = worst <= rel;
    printf("%s %s: worst relative error %.2e at %zu (tolerance %.0e)\n", ok ? "ok  " : "FAIL", what, worst, at, rel);
    if (!ok) {
        failures++;
    }
}

// C (m × n) = A (m rows of k) · B (n rows of k)ᵀ through ggml_mul_mat on n_threads.
static void check_f32(int64_t k, int64_t m, int64_t n, int n_threads) {
    const size_t mem = (size_t) (k * m + k * n + m * n) * sizeof(float) + 3 * ggml_tensor_overhead() +
                       ggml_graph_overhead() + 1024 * 1024;
    struct ggml_init_params params = { mem, NULL, false };
    struct ggml_context * ctx = ggml_init(params);
    struct ggml_tensor * a = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, m);
    struct ggml_tensor * b = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, n);
    fill((float *) a->data, (size_t) (k * m));
    fill((float *) b->data, (size_t) (k * n));
    struct ggml_tensor * c = ggml_mul_mat(ctx, a, b);
    struct ggml_cgraph * gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, c);
    if (ggml_graph_compute_with_ctx(ctx, gf, n_threads) != GGML_STATUS_SUCCESS) {
        printf("FAIL f32 k=%lld m=%lld n=%lld: compute failed\n", (long long) k, (long long) m, (long long) n);
        failures++;
        ggml_free(ctx);
        return;
    }
    double * want = malloc(sizeof(double) * (size_t) (m * n));
    double * scale = malloc(sizeof(double) * (size_t) (m * n));
    const float * A = (const float *) a->data;
    const float * B = (const float *) b->data;
    for (int64_t j = 0; j < n; j++) {
        for (int64_t i = 0; i < m; i++) {
            double s = 0.0, t = 0.0;
            for (int64_t l = 0; l < k; l++) {
                s += (double) A[i * k + l] * B[j * k + l];
                t += fabs((double) A[i * k + l] * B[j * k + l]);
            }
            want[j * m + i] = s;
            scale[j * m + i] = t;
        }
    }
    char what[96];
    snprintf(what, sizeof(what), "f32 k=%lld m=%lld n=%lld threads=%d", (long long) k, (long long) m, (long long) n,
             n_threads);
    // float sums of up to 1,500 products: a few 1e-6 of their magnitudes; a wrong row, column or
    // lane is off by the order of 1
    compare(what, (const float *) c->data, want, scale, (size_t) (m * n), 1e-4);
    free(want);
    free(scale);
    ggml_free(ctx);
}

static ggml_backend_buffer_type_t repack_buft(void) {
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    ggml_backend_dev_get_extra_bufts_t get = (ggml_backend_dev_get_extra_bufts_t) ggml_backend_reg_get_proc_address(
        ggml_backend_dev_backend_reg(dev), "ggml_backend_dev_get_extra_bufts");
    if (get == NULL) {
        return NULL;
    }
    for (ggml_backend_buffer_type_t * b = get(dev); b != NULL && *b != NULL; b++) {
        if (strcmp(ggml_backend_buft_name(*b), "CPU_REPACK") == 0) {
            return *b;
        }
    }
    return NULL;
}

// Q8_0 weights (m rows of k) in the repack buffer times n F32 activation rows (which ggml quantizes
// to Q8_0 as the kernels read them), and rows looked up from the same tensor. The reference uses the
// same quantized values (the activations through the CPU backend's own quantizer): their integer
// products are exact, so only float rounding separates the two.
// Returns 0 when this CPU does not repack Q8_0 weights.
static int check_q8_0(ggml_backend_t backend, ggml_backend_buffer_type_t buft, int64_t k, int64_t m, int64_t n) {
    struct ggml_init_params wparams = { ggml_tensor_overhead(), NULL, true };
    struct ggml_context * wctx = ggml_init(wparams);
    struct ggml_tensor * w = ggml_new_tensor_2d(wctx, GGML_TYPE_Q8_0, k, m);
    ggml_backend_buffer_t wbuf = ggml_backend_alloc_ctx_tensors_from_buft(wctx, buft);
    if (w->extra == NULL) {  // the repack buffer does not take this tensor here
        ggml_backend_buffer_free(wbuf);
        ggml_free(wctx);
        return 0;
    }
    float * wf = malloc(sizeof(float) * (size_t) (k * m));
    fill(wf, (size_t) (k * m));
    void * wq = malloc(ggml_row_size(GGML_TYPE_Q8_0, k) * (size_t) m);
    ggml_quantize_chunk(GGML_TYPE_Q8_0, wf, wq, 0, m, k, NULL);
    ggml_backend_tensor_set(w, wq, 0, ggml_nbytes(w));

    struct ggml_init_params params = { 8 * ggml_tensor_overhead() + ggml_graph_overhead(), NULL, true };
    struct ggml_context * ctx = ggml_init(params);
    struct ggml_tensor * x = ggml_new_tensor_2d(ctx, GGML_TYPE_F32, k, n);
    struct ggml_tensor * ids = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, 3);
    struct ggml_tensor * y = ggml_mul_mat(ctx, w, x);
    struct ggml_tensor * rows = ggml_get_rows(ctx, w, ids);
    struct ggml_cgraph * gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, y);
    ggml_build_forward_expand(gf, rows);
    ggml_backend_buffer_t buf = ggml_backend_alloc_ctx_tensors(ctx, backend);
    float * xf = malloc(sizeof(float) * (size_t) (k * n));
    fill(xf, (size_t) (k * n));
    ggml_backend_tensor_set(x, xf, 0, ggml_nbytes(x));
    const int32_t want_ids[3] = { 0, (int32_t) (m - 1), (int32_t) (m / 2) };  // m - 1: a tail row when m % 8 != 0
    ggml_backend_tensor_set(ids, want_ids, 0, sizeof(want_ids));
    if (ggml_backend_graph_compute(backend, gf) != GGML_STATUS_SUCCESS) {
        printf("FAIL q8_0 k=%lld m=%lld n=%lld: compute failed\n", (long long) k, (long long) m, (long long) n);
        failures++;
        return 1;
    }
    float * got = malloc(sizeof(float) * (size_t) (m * n));
    ggml_backend_tensor_get(y, got, 0, sizeof(float) * (size_t) (m * n));
    float * got_rows = malloc(sizeof(float) * (size_t) (3 * k));
    ggml_backend_tensor_get(rows, got_rows, 0, sizeof(float) * (size_t) (3 * k));

    // the reference: the same Q8_0 values, dequantized (exact in float), times the activations
    // quantized to Q8_0 and dequantized the same way
    const struct ggml_type_traits * q8 = ggml_get_type_traits(GGML_TYPE_Q8_0);
    float * wd = malloc(sizeof(float) * (size_t) (k * m));
    q8->to_float(wq, wd, k * m);
    void * xq = malloc(ggml_row_size(GGML_TYPE_Q8_0, k) * (size_t) n);
    const struct ggml_type_traits_cpu * q8_cpu = ggml_get_type_traits_cpu(GGML_TYPE_Q8_0);
    for (int64_t j = 0; j < n; j++) {  // the CPU backend's own quantizer, as the product uses it
        q8_cpu->from_float(xf + j * k, (char *) xq + j * ggml_row_size(GGML_TYPE_Q8_0, k), k);
    }
    float * xd = malloc(sizeof(float) * (size_t) (k * n));
    q8->to_float(xq, xd, k * n);
    double * want = malloc(sizeof(double) * (size_t) (m * n));
    double * scale = malloc(sizeof(double) * (size_t) (m * n));
    for (int64_t j = 0; j < n; j++) {
        for (int64_t i = 0; i < m; i++) {
            double s = 0.0, t = 0.0;
            for (int64_t l = 0; l < k; l++) {
                s += (double) wd[i * k + l] * xd[j * k + l];
                t += fabs((double) wd[i * k + l] * xd[j * k + l]);
            }
            want[j * m + i] = s;
            scale[j * m + i] = t;
        }
    }
    char what[96];
    snprintf(what, sizeof(what), "q8_0 repacked k=%lld m=%lld n=%lld", (long long) k, (long long) m, (long long) n);
    // the integer products are exact and the reference reads the same quantized values: only float
    // rounding is left (about 1e-7 of the magnitudes). One quantum off in one block's sum is about
    // 1e-5 of them, a wrong row, block or sign of the order of 1
    compare(what, got, want, scale, (size_t) (m * n), 1e-6);

    int rows_ok = 1;
    for (int r = 0; r < 3; r++) {
        rows_ok &= memcmp(got_rows + r * k, wd + (int64_t) want_ids[r] * k, sizeof(float) * (size_t) k) == 0;
    }
    printf("%s q8_0 repacked k=%lld m=%lld: rows 0, %d and %d looked up as stored\n", rows_ok ? "ok  " : "FAIL",
           (long long) k, (long long) m, want_ids[1], want_ids[2]);
    failures += !rows_ok;

    free(wf), free(wq), free(xf), free(got), free(got_rows), free(wd), free(xq), free(xd), free(want), free(scale);
    ggml_backend_buffer_free(buf);
    ggml_backend_buffer_free(wbuf);
    ggml_free(ctx);
    ggml_free(wctx);
    return 1;
}

static void quiet(enum ggml_log_level level, const char * text, void * user) {  // warnings and errors only
    if (level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR) {
        fputs(text, stderr);
    }
    (void) user;
}

int main(void) {
    ggml_log_set(quiet, NULL);
    printf("ggml CPU kernels built for: AVX2 %d, AVX-512 %d, AVX-512 VNNI %d, AMX %d\n", ggml_cpu_has_avx2(),
           ggml_cpu_has_avx512(), ggml_cpu_has_avx512_vnni(), ggml_cpu_has_amx_int8());
    // F32: short k (the attention scores' 64; the edge of the short path, 128; odd sizes) and long k
    // (tinyBLAS), rows that leave part of a 64-row block (1500 = 23 × 64 + 28) and columns that
    // leave part of a 6-column tile.
    const int64_t f32_cases[][3] = {
        { 64, 1500, 1500 }, { 64, 64, 6 }, { 64, 70, 7 }, { 100, 130, 13 }, { 128, 65, 11 },
        { 1, 64, 6 }, { 129, 64, 64 }, { 1500, 64, 1500 }, { 240, 80, 30 },
    };
    for (size_t c = 0; c < sizeof(f32_cases) / sizeof(f32_cases[0]); c++) {
        for (int t = 1; t <= 3; t++) {
            check_f32(f32_cases[c][0], f32_cases[c][1], f32_cases[c][2], t);
        }
    }

    ggml_backend_t backend = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(backend, 2);
    ggml_backend_buffer_type_t buft = repack_buft();
    // k: whole blocks only (32, 384, 1536); m: groups of eight, with 1 to 7 rows left; n: one row
    // (matrix-vector), four (one gemm tile) and rows left after whole tiles of four
    const int64_t q8_cases[][3] = {
        { 32, 8, 1 }, { 384, 384, 1 }, { 384, 75, 1 }, { 384, 64, 4 }, { 384, 75, 5 },
        { 1536, 384, 7 }, { 384, 1537, 9 }, { 32, 15, 8 },
    };
    int repacked = 0;
    for (size_t c = 0; buft != NULL && c < sizeof(q8_cases) / sizeof(q8_cases[0]); c++) {
        repacked += check_q8_0(backend, buft, q8_cases[c][0], q8_cases[c][1], q8_cases[c][2]);
    }
    if (repacked == 0) {
        printf("skip q8_0: ggml does not repack Q8_0 weights on this CPU (or GGML_Q8_0_REPACK=0)\n");
    }
    ggml_backend_free(backend);

    if (failures > 0) {
        printf("%d case(s) failed\n", failures);
        return 1;
    }
    printf("all cases within tolerance\n");
    return 0;
}
