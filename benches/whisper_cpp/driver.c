// A standalone driver of the vendored whisper.cpp: transcribes one channel (16 kHz mono f32 raw)
// with word-level DTW times, as callscope asks for them (greedy, English, no context, flash
// attention off), several times, and prints the best wall time, the best encoder-window and
// decoder-step times, and a hash of the text, DTW times and token probabilities. Two builds that
// print the same hash gave the same words, times and probabilities, bit for bit.
//
// Built and run by run.sh (see benches/README.md, "Exact changes to whisper.cpp's CPU path").
#include "whisper.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char ** argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s MODEL RAW_F32_16K THREADS REPEATS DTW_PRESET\n", argv[0]);
        return 2;
    }
    const char * model = argv[1];
    const int n_threads = atoi(argv[3]);
    const int reps = atoi(argv[4]);

    FILE * f = fopen(argv[2], "rb");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    const long n = ftell(f) / (long) sizeof(float);
    fseek(f, 0, SEEK_SET);
    float * pcm = malloc(n * sizeof(float));
    if (!pcm || fread(pcm, sizeof(float), n, f) != (size_t) n) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 1;
    }
    fclose(f);

    struct whisper_context_params cp = whisper_context_default_params();
    cp.use_gpu = 0;
    cp.flash_attn = 0;
    cp.dtw_token_timestamps = 1;
    cp.dtw_aheads_preset = (enum whisper_alignment_heads_preset) atoi(argv[5]);
    struct whisper_context * ctx = whisper_init_from_file_with_params(model, cp);
    if (!ctx) {
        fprintf(stderr, "cannot load %s\n", model);
        return 1;
    }

    struct whisper_full_params p = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
    p.n_threads = n_threads;
    p.print_progress = 0;
    p.print_realtime = 0;
    p.token_timestamps = 1;
    p.language = "en";
    p.no_context = 1;

    double best = 1e9, enc = 1e9, dec = 1e9;
    for (int r = 0; r < reps; r++) {
        whisper_reset_timings(ctx);
        const double t0 = now();
        if (whisper_full(ctx, p, pcm, (int) n) != 0) {
            fprintf(stderr, "whisper_full failed\n");
            return 1;
        }
        const double t = now() - t0;
        const struct whisper_timings * tm = whisper_get_timings(ctx);
        best = t < best ? t : best;
        enc = tm->encode_ms < enc ? tm->encode_ms : enc;
        dec = tm->decode_ms < dec ? tm->decode_ms : dec;
    }

    unsigned h = 0;
    const int ns = whisper_full_n_segments(ctx);
    for (int i = 0; i < ns; i++) {
        for (const char * s = whisper_full_get_segment_text(ctx, i); *s; s++) {
            h = h * 31 + (unsigned char) *s;
        }
        const int nt = whisper_full_n_tokens(ctx, i);
        for (int j = 0; j < nt; j++) {
            const whisper_token_data d = whisper_full_get_token_data(ctx, i, j);
            h = h * 31 + (unsigned) d.t_dtw;
            h = h * 31 + (unsigned) (d.p * 1e6);
        }
    }
    printf("best %.3f s  encoder window %.0f ms  decoder step %.2f ms  segments %d  hash %08x\n", best, enc, dec, ns, h);
    whisper_free(ctx);
    free(pcm);
    return 0;
}
