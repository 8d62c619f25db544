#!/usr/bin/env python3
"""Writes llama.cpp's reference token ids and greedy runs for the Qwen2.5-Coder tests.

    python3 scripts/llama-reference.py LLAMA_GREEDY MODEL.gguf OUT_PREFIX

LLAMA_GREEDY is scripts/llama-greedy.c built against llama.cpp (docs/numerics.md says how).
Writes OUT_PREFIX-tokens.txt (each text and its ids) and OUT_PREFIX-greedy.txt (prompts, first-step
top-10 logits and greedy steps, in the layout of shared/reference/smollm2-greedy.txt, which
TestSupport's GreedyReference reads). The texts and prompts are ours, written for these tests.
"""
import os
import subprocess
import sys
import tempfile

QWEN_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


def chatml(user, system=QWEN_SYSTEM):
    """The prompt Qwen2.5's GGUF template renders for [system?, user] with the generation prompt."""
    return (f"<|im_start|>system\n{system}<|im_end|>\n"
            f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n")


# (title, text): tokenized with special tokens parsed and no BOS (Qwen's file adds none).
TEXTS = [
    ("code python", "def add(a, b):\n    return a + b\n\nprint(add(2, 3))  # 5\n"),
    ("code javascript", "function square(x) {\n\treturn x ** 2;\n}\nconsole.log([1,2,3].map(square));\n"),
    ("chinese", "我们今天学习如何用Python写一个排序函数。"),
    ("chinese and english", "递归(recursion)是函数调用自身的技巧，例如计算n!。"),
    ("emoji", "Great job! 🎉🚀 Let's ship it 👍🏽 ❤️"),
    ("numbers", "In 2024, 1234567 people paid $3.14 each; 0.5% = 1/200, ½ and ٣."),
    ("whitespace runs", "a  b   c\t\tend\n\n\n   indented\r\n\r\nx    "),
    ("trailing newlines after punctuation", "Hello!!!\n\nWorld...\n  \n(done)"),
    ("contractions in capitals", "I'M SURE THEY'LL SAY YOU'RE RIGHT, DON'T YOU? It's, we've, I'd"),
    ("other scripts", "Привет, мир! Γειά σου. こんにちは世界 안녕하세요"),
    ("accents", "naïve café résumé e\u0301te\u0301"),
    ("special tokens", "<|im_start|>user\nhi<|im_end|>\n<tool_call>\n{\"name\": \"f\", \"arguments\": {}}\n</tool_call>"),
    ("chat prompt", chatml("If you were ruler of the world, what are some things you'd do?")),
]

# (title, prompt text, steps)
PROMPTS = [
    ("qwen ruler (chat, default system prompt as the GGUF template renders it)",
     chatml("If you were ruler of the world, what are some things you'd do?"), 64),
    ("qwen prime (chat, default system prompt)",
     chatml("Write a Python function that checks whether a number is prime."), 40),
    ("qwen chinese (chat, default system prompt)", chatml("用一句话解释什么是递归。"), 40),
    ("qwen sky (chat with a system message)",
     chatml("Why is the sky blue?", system="You answer in one short sentence."), 40),
    ("qwen code (raw text, no template)", "# Return the n-th Fibonacci number\ndef fib(n):", 40),
]


def quote(data: bytes) -> str:
    """A double-quoted literal with the escapes GreedyReference.unquote reads: \\n \\t \\" \\\\, other
    control bytes and bytes that are not whole UTF-8 characters (a piece may hold half of one) as \\xHH."""
    out, i = [], 0
    while i < len(data):
        b = data[i]
        if b < 0x80:
            esc = {0x0A: "\\n", 0x09: "\\t", 0x22: '\\"', 0x5C: "\\\\"}.get(b)
            out.append(esc or (f"\\x{b:02x}" if b < 0x20 or b == 0x7F else chr(b)))
            i += 1
            continue
        for k in (2, 3, 4):
            try:
                out.append(data[i:i + k].decode("utf-8"))
                i += k
                break
            except UnicodeDecodeError:
                pass
        else:
            out.append(f"\\x{b:02x}")
            i += 1
    return '"' + "".join(out) + '"'


def run(binary, mode, model, text, steps=None):
    with tempfile.NamedTemporaryFile("wb", delete=False) as f:
        f.write(text.encode())
        path = f.name
    try:
        args = [binary, mode, model, path] + ([str(steps)] if steps else [])
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    ids, top, steps_, pieces = [], [], [], {}
    for line in out.splitlines():
        f = line.split()
        if f[0] == "IDS": ids = [int(x) for x in f[1:]]
        elif f[0] == "TOP": top.append((int(f[1]), f[2]))
        elif f[0] == "STEP": steps_.append((int(f[1]), f[2], int(f[3]), f[4]))
        elif f[0] == "PIECE": pieces[int(f[1])] = b"" if f[2] == "-" else bytes.fromhex(f[2])
    return ids, top, steps_, pieces


def main():
    binary, model, prefix = sys.argv[1:4]
    with open(prefix + "-tokens.txt", "w", encoding="utf-8") as out:
        out.write("# llama.cpp's token ids (special tokens parsed, no BOS); scripts/llama-reference.py\n")
        for title, text in TEXTS:
            ids, _, _, _ = run(binary, "tokenize", model, text)
            out.write(f"### {title}\nTEXT {quote(text.encode())}\nIDS ({len(ids)}) {ids}\n\n")
    with open(prefix + "-greedy.txt", "w", encoding="utf-8") as out:
        for title, prompt, n in PROMPTS:
            ids, top, steps, pieces = run(binary, "greedy", model, prompt, n)
            p = lambda i: quote(pieces[i])
            out.write(f"### {title}\nPROMPT_TEXT {quote(prompt.encode())}\nPROMPT_IDS ({len(ids)}) {ids}\n")
            out.write("TOP10_FIRST_STEP " + " ".join(f"[{i} {p(i)} {l}]" for i, l in top) + "\n")
            for k, (i, l, r, rl) in enumerate(steps):
                out.write(f"STEP {k:2d} id={i:6d} piece={p(i)} logit={l} runner_up={r}({rl}) "
                          f"margin={float(l) - float(rl):.4f}\n")
            gen = [s[0] for s in steps]
            out.write(f"GEN_IDS ({len(gen)}) {gen}\n")
            out.write(f"GEN_TEXT {quote(b''.join(pieces[i] for i in gen))}\n\n")


if __name__ == "__main__":
    main()
