// llama-greedy: llama.cpp's token ids for a text, or its greedy continuation of a prompt with the
// logits emlab's reference tests compare against. `scripts/llama-reference.py` runs it and writes
// the reference files (docs/numerics.md, "Making a reference file"); emlab and its tests never run it.
//
// Build against a llama.cpp build tree L (headers in L/include and L/ggml/include, libraries in
// L/build/bin):
//   cc -O2 -o /tmp/llama-greedy scripts/llama-greedy.c -I$L/include -I$L/ggml/include
//      -L$L/build/bin -lllama -lggml -lggml-base -Wl,-rpath,$L/build/bin   (one line)
// Run:
//   llama-greedy tokenize MODEL.gguf TEXT_FILE          ids of the file's bytes (special tokens parsed,
//                                                       BOS as the model's file says)
//   llama-greedy greedy MODEL.gguf TEXT_FILE STEPS      the prompt's ids, then greedy steps
// Output lines: `IDS id...`; `TOP id logit` (first step's top 10); `STEP id logit runner_up logit`
// (stops after an end-of-generation token or STEPS steps); `PIECE id hex` for every token named.
// Context: 4096 positions, the whole prompt in one decode call, flash attention on, 2 threads (the
// settings smollm2-greedy.txt was recorded with).
#include "llama.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what) {
    fprintf(stderr, "llama-greedy: %s\n", what);
    exit(1);
}

static char *read_file(const char *path, int *len) {
    FILE *f = fopen(path, "rb");
    if (!f) fail("cannot open the text file");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) fail("cannot read the text file");
    fclose(f);
    buf[n] = 0;
    *len = (int)n;
    return buf;
}

static void piece(const struct llama_vocab *vocab, llama_token id) {
    char buf[512];
    int n = llama_token_to_piece(vocab, id, buf, sizeof buf, 0, 1);
    if (n < 0) fail("piece too long");
    printf("PIECE %d ", id);
    if (n == 0) printf("-");
    for (int i = 0; i < n; i++) printf("%02x", (unsigned char)buf[i]);
    printf("\n");
}

int main(int argc, char **argv) {
    if (argc < 4) fail("usage: llama-greedy tokenize|greedy MODEL.gguf TEXT_FILE [STEPS]");
    const int greedy = strcmp(argv[1], "greedy") == 0;
    const int steps = greedy ? (argc > 4 ? atoi(argv[4]) : 48) : 0;

    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    struct llama_model *model = llama_model_load_from_file(argv[2], mp);
    if (!model) fail("cannot load the model");
    const struct llama_vocab *vocab = llama_model_get_vocab(model);

    int len = 0;
    char *text = read_file(argv[3], &len);
    int cap = len + 16;
    llama_token *ids = malloc(sizeof(llama_token) * (size_t)cap);
    int n = llama_tokenize(vocab, text, len, ids, cap, llama_vocab_get_add_bos(vocab), 1);
    if (n < 0) fail("tokenize failed");
    printf("IDS");
    for (int i = 0; i < n; i++) printf(" %d", ids[i]);
    printf("\n");
    for (int i = 0; i < n; i++) piece(vocab, ids[i]);
    if (!greedy) return 0;

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 4096;
    cp.n_batch = 4096;
    cp.n_threads = 2;
    cp.n_threads_batch = 2;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) fail("cannot create a context");
    const int nv = llama_vocab_n_tokens(vocab);

    if (llama_decode(ctx, llama_batch_get_one(ids, n)) != 0) fail("llama_decode failed");
    for (int s = 0; s < steps; s++) {
        const float *logits = llama_get_logits_ith(ctx, -1);
        int top[10];
        const int k = s == 0 ? 10 : 2;
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int i = 0; i < nv; i++) {
                int taken = 0;
                for (int q = 0; q < j; q++) taken |= top[q] == i;
                if (!taken && (best < 0 || logits[i] > logits[best])) best = i;
            }
            top[j] = best;
        }
        if (s == 0) {
            for (int j = 0; j < 10; j++) {
                printf("TOP %d %.4f\n", top[j], logits[top[j]]);
                piece(vocab, top[j]);
            }
        }
        printf("STEP %d %.4f %d %.4f\n", top[0], logits[top[0]], top[1], logits[top[1]]);
        piece(vocab, top[0]);
        piece(vocab, top[1]);
        if (llama_vocab_is_eog(vocab, top[0])) break;
        llama_token next = top[0];
        if (llama_decode(ctx, llama_batch_get_one(&next, 1)) != 0) fail("llama_decode failed");
    }
    llama_free(ctx);
    llama_model_free(model);
    free(ids);
    free(text);
    return 0;
}
