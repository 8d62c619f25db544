// llama-logits: llama.cpp's first-step logits for a prompt given as token ids, under the settings
// that move them (flash attention on/off, how many prompt tokens go into one llama_decode call).
// It is a measuring aid for emlab's notes on llama.cpp's numerics (docs/numerics.md); emlab and
// its tests never need it.
//
// Build against a llama.cpp build tree L (headers in L/include and L/ggml/include, libraries in
// L/build/bin):
//   cc -O2 -o /tmp/llama-logits scripts/llama-logits.c -I$L/include -I$L/ggml/include
//      -L$L/build/bin -lllama -lggml -lggml-base -Wl,-rpath,$L/build/bin   (one line)
// Run:
//   /tmp/llama-logits MODEL.gguf FLASH(0|1) STEP OUT.f32 ID...
// STEP is how many prompt tokens each decode call takes (0: all at once). OUT.f32 receives the
// whole vocabulary's logits at the last prompt position as little-endian float32; stdout gets the
// top 10 as "id logit" lines.
#include "llama.h"
#include <stdio.h>
#include <stdlib.h>

static void fail(const char *what) {
    fprintf(stderr, "llama-logits: %s\n", what);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc < 6) fail("usage: llama-logits MODEL.gguf FLASH(0|1) STEP OUT.f32 ID...");
    const int n = argc - 5;
    llama_token *ids = malloc(sizeof(llama_token) * (size_t)n);
    for (int i = 0; i < n; i++) ids[i] = (llama_token)atoi(argv[5 + i]);
    int step = atoi(argv[3]);
    if (step <= 0) step = n;

    llama_backend_init();
    struct llama_model *model = llama_model_load_from_file(argv[1], llama_model_default_params());
    if (!model) fail("cannot load the model");
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 512;
    cp.n_batch = 512;
    cp.flash_attn_type = atoi(argv[2]) ? LLAMA_FLASH_ATTN_TYPE_ENABLED : LLAMA_FLASH_ATTN_TYPE_DISABLED;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) fail("cannot create a context");

    for (int i = 0; i < n; i += step) {
        const int m = n - i < step ? n - i : step;
        if (llama_decode(ctx, llama_batch_get_one(ids + i, m)) != 0) fail("llama_decode failed");
    }
    const float *logits = llama_get_logits_ith(ctx, -1);
    const int vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));

    FILE *out = fopen(argv[4], "wb");
    if (!out || fwrite(logits, sizeof(float), (size_t)vocab, out) != (size_t)vocab || fclose(out) != 0)
        fail("cannot write the logits file");

    // Top 10 by repeated selection (vocabularies are small enough).
    int top[10];
    for (int k = 0; k < 10; k++) {
        int best = -1;
        for (int i = 0; i < vocab; i++) {
            int taken = 0;
            for (int j = 0; j < k; j++) taken |= top[j] == i;
            if (!taken && (best < 0 || logits[i] > logits[best])) best = i;
        }
        top[k] = best;
        printf("%d %.4f\n", best, logits[best]);
    }
    llama_free(ctx);
    llama_model_free(model);
    free(ids);
    return 0;
}
