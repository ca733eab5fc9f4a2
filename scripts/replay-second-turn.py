#!/usr/bin/env python3
"""Replays the evaluation's second-turn needle samples against a running OpenAI-compatible server.

    entropyinfer eval --model M --context 32000 --kv-compression entropy --tasks second-turn \\
        --haystacks text --depths 50 --export-samples /tmp/second-turn.jsonl
    scripts/replay-second-turn.py /tmp/second-turn.jsonl [--base-url http://127.0.0.1:8080]
                                  [--model M] [--kv-compression JSON] [--summary-tokens 48]
                                  [--answer-tokens 32]

Each sample is a real conversation: turn 1 sends the long document and asks for a summary
(greedy, --summary-tokens); turn 2 resends the history with the server's summary and asks for the
needle. The answer is scored as `eval` scores second-turn (the first number in the answer must
be the needle's). The evaluation's own second-turn row continues the *compressed* cache of turn 1
(a question-agnostic stress test); a server receives turn 2 as a new request, so what it answers
from depends on what it kept: entropyinfer reuses the uncompressed prompt blocks its prefix
cache still holds (reported as cached_tokens) or recomputes the prompt. Prints one JSON line per
sample and a summary line. --kv-compression adds the request's `kv_compression` field (a JSON
value, e.g. '"none"' or '{"policy": "entropy", "budget": 512}'); without it the server's
default applies.
"""
import argparse
import json
import re
import sys
import time
import urllib.request


def chat(base_url, body):
    request = urllib.request.Request(base_url.rstrip("/") + "/v1/chat/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=7200) as response:
        reply = json.load(response)
    return reply, time.monotonic() - started


def first_number(text):
    match = re.search(r"\d+", text)
    return match.group(0) if match else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("samples", help="JSON lines written by `entropyinfer eval --export-samples`")
    parser.add_argument("--base-url", default="http://127.0.0.1:8080")
    parser.add_argument("--model", default=None, help="model id (default: the server's first)")
    parser.add_argument("--kv-compression", default=None, help="JSON value of the request's kv_compression field")
    parser.add_argument("--summary-tokens", type=int, default=48)
    parser.add_argument("--answer-tokens", type=int, default=32)
    options = parser.parse_args()

    model = options.model
    if model is None:
        with urllib.request.urlopen(options.base_url.rstrip("/") + "/v1/models", timeout=60) as response:
            model = json.load(response)["data"][0]["id"]
    extra = {"kv_compression": json.loads(options.kv_compression)} if options.kv_compression else {}

    correct = total = 0
    with open(options.samples) as lines:
        for line in lines:
            sample = json.loads(line)
            if sample["task"] != "second-turn":
                continue
            messages = sample["messages"]
            first, first_seconds = chat(options.base_url, {"model": model, "messages": messages, "temperature": 0,
                                                           "max_tokens": options.summary_tokens, **extra})
            summary = first["choices"][0]["message"]["content"]
            messages = messages + [{"role": "assistant", "content": summary}, {"role": "user", "content": sample["question"]}]
            second, second_seconds = chat(options.base_url, {"model": model, "messages": messages, "temperature": 0,
                                                             "max_tokens": options.answer_tokens, **extra})
            answer = second["choices"][0]["message"]["content"]
            hit = first_number(answer) == sample["expected"][0]
            correct += hit
            total += 1
            print(json.dumps({
                "context": sample["context"], "depth": sample["depth"], "sample": sample["sample"],
                "correct": hit, "expected": sample["expected"][0], "answer": answer, "summary": summary,
                "turn1_seconds": round(first_seconds, 2), "turn2_seconds": round(second_seconds, 2),
                "turn1_usage": first.get("usage"), "turn2_usage": second.get("usage"),
            }), flush=True)
    print(json.dumps({"samples": total, "correct": correct}))
    return 0 if total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
