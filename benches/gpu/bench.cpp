// Times whisper.cpp (the version whisper-rs 0.16 builds) on raw 16 kHz s16 PCM
// channels with callscope's settings: greedy, English, token timestamps, DTW
// (tiny.en heads). Usage: bench MODEL USE_GPU THREADS FILE.s16...
#include "whisper.h"
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <vector>

static std::vector<float> read_pcm(const char *path) {
    std::ifstream f(path, std::ios::binary);
    std::vector<char> raw((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<float> out(raw.size() / 2);
    for (size_t i = 0; i < out.size(); i++) {
        int16_t s = (int16_t)((unsigned char)raw[2 * i] | ((unsigned char)raw[2 * i + 1] << 8));
        out[i] = s / 32768.0f;
    }
    return out;
}

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: bench MODEL USE_GPU THREADS FILE.s16...\n"); return 2; }
    whisper_log_set([](enum ggml_log_level, const char *, void *) {}, nullptr);
    whisper_context_params cp = whisper_context_default_params();
    cp.use_gpu = atoi(argv[2]) != 0;
    cp.dtw_token_timestamps = true;
    cp.dtw_aheads_preset = WHISPER_AHEADS_TINY_EN;
    auto t0 = std::chrono::steady_clock::now();
    whisper_context *ctx = whisper_init_from_file_with_params(argv[1], cp);
    if (!ctx) { fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::vector<std::vector<float>> files;
    double audio = 0;
    for (int i = 4; i < argc; i++) { files.push_back(read_pcm(argv[i])); audio += files.back().size() / 16000.0; }
    whisper_full_params p = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
    p.n_threads = atoi(argv[3]);
    p.language = "en";
    p.token_timestamps = true;
    p.no_context = true;
    p.print_progress = false; p.print_realtime = false; p.print_timestamps = false; p.print_special = false;
    whisper_full(ctx, p, files[0].data(), (int)files[0].size());  // warm-up
    auto t1 = std::chrono::steady_clock::now();
    int words = 0;
    for (auto &f : files) {
        if (whisper_full(ctx, p, f.data(), (int)f.size()) != 0) { fprintf(stderr, "whisper_full failed\n"); return 1; }
        for (int s = 0; s < whisper_full_n_segments(ctx); s++) words += whisper_full_n_tokens(ctx, s);
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
    printf("gpu=%s threads=%s: model load %.2f s; %.1f s of audio in %.3f s = %.1fx real time (%d tokens)\n",
           argv[2], argv[3], load, audio, wall, audio / wall, words);
    whisper_free(ctx);
    return 0;
}
