import Attention
import JSON

/// Text generated from `ConfigurationTable`: the options part of `serve --help`, the table in
/// `docs/CONFIGURATION.md` and the example file `config/entropyinfer.json`.
public enum ConfigurationDocumentation {
    /// Option lines for `--help`.
    public static func helpText() -> String {
        var lines: [String] = []
        for key in ConfigurationTable.keys {
            var flag = key.flag
            if key.type == .boolean {
                flag = "\(key.flag), --no-\(key.flag.dropFirst(2))"
            } else {
                flag += " <\(key.valuePlaceholder)>"
            }
            var details = "env \(key.environmentName)"
            if let value = key.defaultValue, value != .strings([]) { details += ", default \(value)" }
            if key.type == .stringList { details += ", repeatable" }
            lines.append("  \(flag)\n" + wrap("\(key.help) (\(details))", indent: 8, width: 80))
        }
        return lines.joined(separator: "\n")
    }

    /// Word-wraps `text` to `width` columns, every line indented by `indent` spaces.
    static func wrap(_ text: String, indent: Int, width: Int) -> String {
        let prefix = String(repeating: " ", count: indent)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && prefix.count + line.count + 1 + word.count > width {
                lines.append(prefix + line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(prefix + line) }
        return lines.joined(separator: "\n")
    }

    /// The Markdown document `docs/CONFIGURATION.md` (a test keeps the file equal to this).
    public static func markdown() -> String {
        var text = """
        # Configuration

        <!-- Generated from Sources/Server/Configuration/ConfigurationTable.swift by
             `entropyinfer serve --print-config-docs`; a test fails when this file is stale. -->

        `entropyinfer serve` reads each setting from, in increasing precedence: the built-in default,
        the JSON config file (`--config FILE` or `ENTROPYINFER_CONFIG`), the `ENTROPYINFER_*`
        environment variable, and the command-line flag. The effective configuration is logged once
        at start, with secrets shown as `<redacted>`.

        - Unknown keys in the config file are errors that name the key. A key set to `null` in the file
          is left as the lower layers set it. `config/entropyinfer.json` lists every key at its default.
        - Unknown `ENTROPYINFER_*` variables are logged as warnings and otherwise ignored (Kubernetes
          injects `<SERVICE>_PORT`-style variables; set `enableServiceLinks: false`).
        - Lists are JSON arrays in the file, comma-separated in the environment, and a repeated flag on
          the command line. Booleans accept `true/false/1/0/yes/no/on/off` in the environment and
          `--flag`, `--no-flag`, `--flag=false` on the command line. An empty environment value unsets
          a key that has no default.


        """
        text += "| Key (file) | Environment | Flag | Type | Default | Description |\n"
        text += "|---|---|---|---|---|---|\n"
        for key in ConfigurationTable.keys {
            let defaultText: String
            if let value = key.defaultValue {
                defaultText = value == .strings([]) ? "`[]`" : "`\(value)`"
            } else {
                defaultText = "unset"
            }
            let keyText = key.allowedInFile ? "`\(key.name)`" : "— (`\(key.name)`, not in the file)"
            text += "| \(keyText) | `\(key.environmentName)` | `\(key.flag)` | \(key.typeDescription) | \(defaultText) | \(escape(key.help)) |\n"
        }
        text += "\nOther environment variables read by EntropyInfer (not configuration keys):\n\n"
        for (name, help) in ConfigurationTable.otherEnvironmentVariables.sorted(by: { $0.key < $1.key }) {
            text += "- `\(name)`: \(help)\n"
        }
        text += attentionSection
        text += kvCompressionSection
        return text
    }

    /// How sparse prefill is chosen and what its knobs do (request field and config keys); the
    /// defaults are read from `AttentionPolicy`.
    static var attentionSection: String {
        let entropy = AttentionPolicy(kind: .entropy), reference = AttentionPolicy(kind: .reference)
        let uniform = AttentionPolicy(kind: .uniform)
        return """

        ## Sparse prefill attention

        On long prompts, dense attention is most of the prefill time. A sparse policy cuts the
        prompt into query segments of `segment_tokens` and lets each KV head of a segment attend to
        the past KV blocks (16 tokens) it selects, plus the segment itself.

        - Requests that name no policy get `attention_policy` when their prompt has at least
          `attention_min_prompt_tokens` tokens; shorter prompts run dense.
        - A request chooses its own with the extension field `attention`, at any prompt length:
          `"attention": {"policy": "entropy", "coverage": 0.98}` (OpenAI clients send it with
          `extra_body`). Bad values are answered with 400 and `param` naming the field.
        - The command line takes the same knobs as `POLICY:knob=value:...`, e.g.
          `entropyinfer eval --policies dense,entropy:coverage=0.98`.
        - `usage.attention` reports the pairs of query and key computed against dense, `/metrics`
          the totals. The prefix cache keys KV by policy and knobs, so dense and sparse KV never mix.

        | Policy | What each KV head of a segment attends to |
        |---|---|
        | `dense` | every earlier token (the oracle) |
        | `entropy` | the sink and local window, then the past blocks of largest estimated attention mass until they cover `coverage` of it, within [`minimum_budget_tokens`, `maximum_budget_tokens`]. With `profile_queries` > 0 the mass is measured on that many of the segment's own queries (exact softmax, evenly spaced); with 0, on one pooled max/min query per head as released |
        | `reference` | the released algorithm: one budget per segment (maximum over heads) from the entropy recurrence, unchunked prefill |
        | `uniform` | the `uniform_budget_tokens` blocks of largest pooled-query mass (CritiPrefill-style ablation) |

        | Knob | Default | Policies | Meaning |
        |---|---|---|---|
        | `segment_tokens` | \(entropy.segmentTokens) | sparse | query segment length (a multiple of 16) |
        | `dense_below_tokens` | \(entropy.denseBelowTokens) | sparse | segments starting before this position run dense |
        | `dense_layers` | \(entropy.denseLayers) | sparse | layers below this index run dense |
        | `dense_last_segment` | \(entropy.denseLastSegment) | entropy, uniform | the prompt's last segment (where the question usually is) runs dense; `reference` always does |
        | `profile_queries` | \(entropy.profileQueries) | entropy | sampled queries per segment that measure the block mass (0: pooled query) |
        | `coverage` | \(entropy.coverage) | entropy | share of the estimated mass the selection covers |
        | `minimum_budget_tokens` / `maximum_budget_tokens` | \(entropy.minimumBudgetTokens) / \(entropy.maximumBudgetTokens) | entropy | bounds of a head's selected past, in tokens |
        | `sink_tokens` / `local_window_tokens` | \(entropy.sinkTokens) / \(entropy.localWindowTokens) | entropy | always attended: the first tokens and those just before the segment |
        | `rigid_entropy_threshold` | \(reference.rigidEntropyThreshold) | reference | rigid-head entropy (nats, unscaled scores) |
        | `base_budget_tokens` / `maximum_budget_factor` | \(reference.baseBudgetTokens) / \(reference.maximumBudgetFactor) | reference | base budget and its largest multiple |
        | `alpha` / `delta_threshold` | \(reference.alpha) / \(reference.deltaThreshold) | reference | step gain and pivot of the budget recurrence |
        | `uniform_budget_tokens` | \(uniform.uniformBudgetTokens) | uniform | past tokens every head selects |
        | `minimum_prompt_tokens` | 0 | sparse | (configuration default only) shorter prompts run dense |

        """
    }

    /// How KV compression is chosen and what its knobs do (request field and config keys).
    static let kvCompressionSection = """

        ## KV cache compression during decoding

        On a CPU, decoding a long context is bound by memory traffic: every generated token reads the
        whole KV cache. A compression policy keeps a subset of each (layer, KV head) stream's entries
        (with their original positions and RoPE) and returns the freed blocks to the pool at once.

        - Requests that name no policy get `kv_compression_policy` with `kv_compression_budget` when
          their prompt has at least `kv_compression_min_prompt_tokens` tokens (default: `entropy`,
          1,024 entries, from 8,192 prompt tokens: shorter chats keep every entry and run exactly as
          without compression, at the same speed; it is the same threshold as sparse prefill's).
        - A request chooses its own with the extension field `kv_compression`, at any prompt length:
          `"kv_compression": "snapkv"` or an object `{"policy": "entropy", "budget": 512, ...knobs}`;
          `"none"` turns it off. Bad values are answered with 400 and `param` naming the field.
        - `usage.kv_compression` reports the policy, budget, rounds, entries evicted and the KV bytes
          held at the end against what the same positions hold uncompressed; `GET /slots` shows each
          session's `kv_bytes`, `kv_bytes_uncompressed`, `kv_compression` and `kv_compressions`;
          `/metrics` has `entropyinfer:kv_cache_session_bytes`,
          `entropyinfer:kv_cache_session_bytes_uncompressed`, `entropyinfer:kv_compressions_total`,
          `entropyinfer:kv_compression_evicted_entries_total` and
          `entropyinfer:kv_compression_seconds_total` (wall time of the rounds: each pauses its
          session's decode step).

        `budget` is the mean number of entries kept per KV head per layer: a layer holds
        `budget × KV heads` entries, shared between its heads by the policy. The policies:

        | Policy | When it compresses | What it keeps |
        |---|---|---|
        | `none` | never | everything |
        | `streaming` | end of prefill, then whenever a stream exceeds `budget + slack_tokens` | the first `sink_tokens` and the most recent entries (StreamingLLM) |
        | `snapkv` | once, at the end of prefill | per query head: top `budget − window_tokens` of the pooled attention of the last `window_tokens` prompt queries, plus the last `window_tokens` entries (SnapKV `update_kv`) |
        | `latent` | once, after decode step `decode_gap + 1` | as `snapkv`, scored by the last `window_tokens − decode_gap` prompt queries and the first `decode_gap` generated ones (the released EntropyInfer `compress_kv`, its window mask shifted by one as released) |
        | `entropy` | after `decode_gap` generated tokens, then whenever a head exceeds its budget by `slack_tokens` (with `prefill_budget_factor` > 0, first at the end of prefill to that many × budget for longer prompts) | per KV head, scored by the last max(`window_tokens`, `observation_tokens`) queries aggregated over the query group (GQA never expanded); per-head budgets by `allocation`; sinks and the last `window_tokens` entries always |

        `snapkv` and `latent` select per query head and expand the cache to the query heads as their
        released code does (`expand_gqa`, default true), so at the same `budget` they hold
        `query heads / KV heads` times the bytes of the others; `expand_gqa: false` selects per KV
        head on the group's mean scores instead. Their budget then counts entries per query head.

        | Knob | Default | Policies | Meaning |
        |---|---|---|---|
        | `budget` | 1024 | all | mean entries kept per KV head and layer |
        | `window_tokens` | 32 | snapkv, latent, entropy | observation queries, and the recent entries always kept |
        | `observation_tokens` | 128 | entropy | queries that score the cache at each round: those of the last max(`window_tokens`, this) processed tokens (at the output-aware round `decode_gap` generated, the rest the prompt's end), so a question asked further back than the recent window scores the cache too; 0 scores with `window_tokens` queries. The recent window kept stays `window_tokens`. A session records this many tokens' queries (Qwen2.5-Coder-0.5B: 11 MiB), and a prefix-cache hit recomputes them. Measured on Qwen2.5-Coder-0.5B (docs/BENCHMARKS.md): 16K decode-kl KL 0.251 / 0.205 / 0.141 at budgets 512 / 1024 / 2048 against 0.278 / 0.217 / 0.164 with 32 (32K: 0.357 / 0.259 / 0.184 against 0.369 / 0.253 / 0.170); multi-query answers of ten 16K prompts equal to the uncompressed cache's at every budget (32 queries lost a number at 512); the output-aware round at 16K takes 0.81 s instead of 0.27 s |
        | `older_query_weight` | 1; 0.5 from budget 2048 | entropy | weight of a scoring query older than the last `window_tokens` processed tokens, relative to the recent ones (the scores are the weighted mean of the queries' attention): 1 counts every scoring query the same, 0 scores with the recent `window_tokens` only; by default 1 below a round's mean budget of 2048 and 0.5 from it up (always 1 with `observation_reduction` other than `mean`). On Qwen2.5-Coder-0.5B (docs/BENCHMARKS.md) 0.5 lowered decode-kl KL at 2048 on license text and Python source at 16K and 32K and kept the needle answers of the second turn and multi-query; at 1024 it lowered KL too but answered none of the five second turns it was tried on (the default answers one of ten), and at 512 it raised KL on Python |
        | `observation_reduction` | `mean` | entropy | how the scoring queries' attention combines: `mean` over all of them, or `max`: the queries form blocks of `window_tokens` counted back from the newest and an entry scores its largest block mean, so what the recent queries need is not diluted by the older ones; or `adaptive`: per KV head, the mean over all of them or over the newest block alone, whichever would have kept more of the newest block's attention had it chosen one block earlier (neither with `older_query_weight`). `max` measured like `older_query_weight`, with the same pattern; not yet the default |
        | `decode_gap` | 16 | latent, entropy | generated tokens whose queries join the window before the output-aware round |
        | `pooling` / `pooling_kernel` | `avg` / 5 | snapkv, latent, entropy | smoothing of the scores along the entries (PyTorch `avg_pool1d`/`max_pool1d`, zero padding counted) |
        | `sink_tokens` | 4 | streaming, entropy | first entries always kept |
        | `slack_tokens` | 128 | streaming, entropy | growth allowed past the budget before compressing again |
        | `prefill_budget_factor` | 0 | entropy | first pass at the end of prefill to this × budget for longer prompts (saves memory and the first `decode_gap` steps' time, but the prompt-only scores lose needles the output-aware round keeps: off by default, see docs/BENCHMARKS.md) |
        | `allocation` | `adakv` | entropy | how a layer's entries are shared between heads: `adakv` (AdaKV: the next entry goes to the head whose best remaining entry holds the largest share of its attention mass, so concentrated heads stop early and flat heads take more; the lowest decode-kl KL at 16K, docs/BENCHMARKS.md), `coverage` (every head retains the same share of its attention mass), `entropy` (proportional to exp(entropy)), `uniform` |
        | `chunk_tokens` | 1 | entropy | also rank entries in aligned chunks of this many (ChunkKV: a chunk scores the sum of its entries, heads keep whole chunks), so a kept entry keeps its neighbours; 1 ranks entry by entry only (the default: `forward_decay` keeps what follows an attended span and measured better) |
        | `chunk_share` | 0.25 | entropy | with `chunk_tokens` > 1, share of each head's kept entries taken from the chunk ranking, the rest from the entry ranking (1: chunks only) |
        | `chunk_alignment` | `aligned` | entropy | where chunks start: `aligned` (fixed chunks, ChunkKV) or `sliding` (any entry: the windows of `chunk_tokens` entries with the largest score sums, so a span an aligned boundary would cut is kept whole) |
        | `forward_decay` | 0.9; 1 − 32/budget from budget 1024 | entropy | each candidate's score is raised to at least this^gap times the (raised) score of the entry gap positions before it, so the entries after an attended span rank near it (a passage being copied or a number being read is attended one entry further on at each generated token); 0 turns it off. By default 0.9 below budget 1024 and 1 − 32/budget from 1024 up (0.96875 at 1024, 0.984375 at 2048), so a large budget keeps longer passages: measured on Qwen2.5-Coder-0.5B and SmolLM2 (docs/BENCHMARKS.md), a much lower mean decode-kl KL at 1024 and 2048 than a fixed 0.9, most of it where the continuation copies earlier text; at 512 a longer spread did not help |
        | `novelty_share` | 0; 0.25 from budget 2048 | entropy | share of each head's kept entries chosen by key novelty (KeyDiff: 1 − cosine to the stream's mean key, max-pooled over `novelty_kernel` entries) instead of attention, after the budgets are shared out by attention: a reserve for what no query has attended yet, such as the fact a question in a later turn asks for. By default 0 below budget 2048 and 0.25 from 2048 up: on Qwen2.5-Coder-0.5B at 16K, a question-agnostic second turn was answered on 6 of 10 prompts at 2048 where attention alone answered 3 (`latent`, holding 93 % of the bytes, 6), with multi-query answers unchanged and a higher decode-kl KL only in the window that copies earlier text; at 1024 it did not bring the answers back (docs/BENCHMARKS.md) |
        | `novelty_kernel` | 5 | entropy | entries the key novelty is max-pooled over (odd), so a novel entry's neighbours (the rest of a number, a name) are kept with it. Measured on Qwen2.5-Coder-0.5B at 16K, budget 2048 (docs/BENCHMARKS.md): 11 answered one more of ten question-agnostic second turns than 5 (7 against 6), but raised decode-kl KL (0.140 against 0.126 over two windows; 7: 0.141), so 5 stays the default |
        | `minimum_head_fraction` / `maximum_head_factor` | 0.25 / 4 | entropy | bounds of a head's budget relative to `budget` |
        | `group_reduction` | `mean` | entropy | how a KV head's query group combines scores (`mean`, `max`) |
        | `expand_gqa` | true | snapkv, latent | select per query head and expand the cache, as released |
        | `minimum_prompt_tokens` | 0 | all | (configuration default only) shorter prompts are not compressed |

        """

    /// A config file with every file key at its default (`null` where unset).
    public static func exampleFile() -> String {
        var object = JSONObject()
        for key in ConfigurationTable.keys where key.allowedInFile {
            object[key.name] = key.defaultValue?.json ?? .null
        }
        return JSONValue.object(object).prettyPrinted() + "\n"
    }

    private static func escape(_ text: String) -> String {
        text.split(separator: "|", omittingEmptySubsequences: false).joined(separator: "\\|")
    }
}
