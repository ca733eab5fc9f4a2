/// How a session's KV cache is compressed while it decodes: which entries each (layer, KV head)
/// stream keeps, and when. Chosen per request (`"kv_compression"` extension field) or by the
/// server's configured default. The policy is pure configuration; `KVCompressionSelection` turns
/// scores into keep lists and `KVSequence.compact` applies them.
///
/// Budget semantics: `budget` is the mean number of entries kept per KV head per layer; a layer
/// holds `budget × kvHeads` entries in all, shared out between its heads by the policy. The two
/// baselines that expand GQA as their released code does (`snapkv`, `latent` with `expandGQA`)
/// keep `budget` entries per *query head*, so they hold `group ×` the bytes at the same budget
/// (the flaw the issue measures); `expand_gqa: false` gives them the grouped layout instead.
public struct KVCompressionPolicy: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// Keep everything (the uncompressed cache).
        case none
        /// StreamingLLM: the first `sinkTokens` entries and the most recent ones, re-evicted
        /// whenever a stream grows past `budget + slackTokens`.
        case streaming
        /// SnapKV (FasterDecoding/SnapKV `update_kv`): once, right after prefill, scored by the
        /// last `windowTokens` prompt queries; pooled top-k plus the last `windowTokens` entries.
        case snapkv
        /// The released EntropyInfer decode compression (arXiv 2606.09508, `compress_kv`): once,
        /// at decode step `decodeGap + 1`, scored by the last `windowTokens − decodeGap` prompt
        /// queries plus the first `decodeGap` generated ones; otherwise SnapKV's selection.
        case latent
        /// Ours: per KV head (scores aggregated over the query group, GQA never expanded),
        /// per-head budgets from how concentrated each head's attention is, sinks and the recent
        /// window always kept, re-compression every `slackTokens` so memory stays bounded, a share
        /// of large budgets kept for the most novel keys (`noveltyShare`), and an optional first
        /// pass at the end of prefill for prompts far beyond the budget.
        case entropy
    }

    /// How scores are smoothed along the entries before top-k (SnapKV's `pooling`).
    public enum Pooling: String, Sendable, CaseIterable {
        /// `avg_pool1d(kernel, stride 1, padding kernel/2)`, zero padding counted (PyTorch's default).
        case avg
        /// `max_pool1d(kernel, stride 1, padding kernel/2)`.
        case max
    }

    /// How the `entropy` policy shares a layer's `budget × kvHeads` entries between its heads.
    public enum Allocation: String, Sendable, CaseIterable {
        /// Every head retains the same fraction of its estimated attention mass (max-min): a
        /// concentrated (low-entropy) head reaches it with few entries, a flat one needs many.
        case coverage
        /// AdaKV: the layer's best entries across heads (normalised scores) win, each head keeping
        /// at least its floor.
        case adakv
        /// Budgets proportional to each head's effective support exp(entropy), within the bounds.
        case entropy
        /// The same budget for every head (ablation).
        case uniform
    }

    /// Where the `entropy` policy's chunks (`chunkTokens`) start.
    public enum ChunkAlignment: String, Sendable, CaseIterable {
        /// Fixed chunks [c·chunk, (c+1)·chunk) (ChunkKV): a span can be cut at a chunk boundary.
        case aligned
        /// A chunk may start at any entry: windows [i, i+chunk) ranked by their score sums, so
        /// the best chunk around a span is found wherever the span lies.
        case sliding
    }

    /// How the `entropy` policy aggregates the scores of a KV head's query group.
    public enum GroupReduction: String, Sendable, CaseIterable {
        case mean
        case max
    }

    /// How the `entropy` policy combines its scoring queries' attention into an entry's score.
    public enum ObservationReduction: String, Sendable, CaseIterable {
        /// The (weighted) mean over every scoring query.
        case mean
        /// The largest of the means of blocks of `windowTokens` queries.
        case max
        /// Per KV head, the mean over every scoring query or over the newest block alone, whichever
        /// would have kept more of the newest block's attention had it chosen one block earlier
        /// (`KVCompressionSelection.recencyChoice`).
        case adaptive
    }

    public var kind: Kind
    /// Mean entries kept per KV head per layer (per query head for GQA-expanding baselines).
    public var budget = 1024
    /// Observation window: queries that score the cache, and the most recent entries that are
    /// always kept (SnapKV's and the released code's `window_size`).
    public var windowTokens = 32
    /// `entropy`: the queries that score the cache at each round are those of the last
    /// max(`windowTokens`, this) processed tokens: at the output-aware round `decodeGap` generated
    /// ones and the rest from the prompt's end, so a question asked further back than the recent
    /// window scores the cache too. The always-kept recent window stays `windowTokens` (0: score
    /// with `windowTokens` queries, as the baselines do).
    ///
    /// 128 by measurement (Qwen2.5-Coder-0.5B, docs/BENCHMARKS.md): 16K decode-kl KL 0.251 /
    /// 0.205 / 0.141 at budgets 512 / 1,024 / 2,048 against 0.278 / 0.217 / 0.164 with 32 queries
    /// (32K: 0.357 / 0.259 / 0.184 against 0.369 / 0.253 / 0.170); multi-query answers equal to
    /// the uncompressed cache's at every budget over ten 16K prompts (32 queries lost a number at
    /// 512: the first listed key sat outside the last 32 tokens). The output-aware round scores
    /// 4× the queries (0.46 s instead of 0.18 s at 16K with the AVX-512 scoring kernels).
    public var observationTokens = 128
    /// `entropy`: the weight of a scoring query older than the last `windowTokens` processed
    /// tokens, relative to the recent ones' 1 (the scores are the weighted mean of the queries'
    /// attention). 1: every scoring query counts the same; 0: only the last `windowTokens` score,
    /// like `observation_tokens` 0, while the rounds still wait for the same queries. nil (the
    /// default): set by the round's mean budget per head, `olderQueryWeight(meanBudget:)`.
    public var olderQueryWeight: Double?
    /// From a mean budget of `recencyWeightBudget` entries per head up, the default weight of the
    /// older scoring queries is `defaultOlderQueryWeight`; below it, 1.
    ///
    /// By measurement (Qwen2.5-Coder-0.5B, decode-kl KL over 256 teacher-forced tokens,
    /// docs/BENCHMARKS.md): at 2,048, 0.5 lowered the mean KL on every set of windows — 16K
    /// license text (3 windows) 0.178 against 0.213, 16K Python source (2) 0.041 against 0.047,
    /// 32K (license and 2 Python) 0.229 against 0.231 — and answered ten 16K second turns and 17
    /// multi-query prompts as weight 1 did, prompt by prompt. At 1,024 it lowered
    /// KL too (0.365 / 0.092 / 0.284 against 0.367 / 0.104 / 0.295) but its needle answers were
    /// not all compared; at 512 it raised KL on Python (0.272 against 0.253).
    public static let recencyWeightBudget = 2048
    public static let defaultOlderQueryWeight = 0.5

    /// The older scoring queries' weight a round uses when it keeps `meanBudget` entries per head
    /// on average (always 1 when `observationReduction` is not `mean`).
    public func olderQueryWeight(meanBudget: Int) -> Double {
        if let olderQueryWeight { return olderQueryWeight }
        guard observationReduction == .mean else { return 1 }
        return meanBudget >= Self.recencyWeightBudget ? Self.defaultOlderQueryWeight : 1
    }
    /// `entropy`: how the scoring queries' attention combines into an entry's score. `mean`: the
    /// (weighted) mean over all of them. `max`: the queries form blocks of `windowTokens`,
    /// counted back from the newest, each block's mean is taken, and an entry scores the largest,
    /// so what the recent queries need is not diluted by the older ones, and the reverse.
    /// `adaptive`: per KV head, the mean over all of them or the newest block's alone, chosen by
    /// a backtest one block back (`ObservationReduction.adaptive`).
    ///
    /// `mean` for now. Measured like `olderQueryWeight`, `max` lowered the 16K mean KL on the
    /// license text (0.561 / 0.364 / 0.195) and on Python at 1,024 and 2,048 (0.087 / 0.042)
    /// but raised it on Python at 512 (0.264); the needle tasks have not been run with it.
    /// `adaptive` lowered it on Python at 512 and 2,048 (0.238 / 0.106 / 0.044 against 0.253 /
    /// 0.104 / 0.047) but raised it on the license text at 512 (16K window 0: 0.265 against
    /// 0.251; 32K: 0.367 against 0.358), so no default closes the 512 bars (docs/BENCHMARKS.md).
    public var observationReduction = ObservationReduction.mean
    /// `latent` and `entropy`: generated tokens whose queries join the window before the
    /// output-aware compression (the released `decode_gap`, N_D).
    public var decodeGap = 16
    /// Smoothing of the scores along the entries (1: none).
    public var poolingKernel = 5
    public var pooling = Pooling.avg
    /// `streaming` and `entropy`: the first entries of every stream, always kept.
    public var sinkTokens = 4
    /// `streaming` and `entropy`: a stream is compressed again once it holds this many entries
    /// more than its budget.
    public var slackTokens = 128
    /// `entropy`: prompts longer than `prefillBudgetFactor × budget` are compressed to that many
    /// entries at the end of prefill (scored by the prompt's tail), then to `budget` once
    /// `decodeGap` generated queries exist. 0 (the default) turns the first pass off: measured
    /// with `eval --kv-compression` (docs/BENCHMARKS.md), a prompt-only pass to 2× the budget
    /// lost needle items that the output-aware round alone keeps, while skipping it costs only
    /// `decodeGap` decode steps over the whole cache.
    public var prefillBudgetFactor: Double = 0
    /// `entropy`: how a layer's entries are shared between its KV heads. `adakv` by measurement:
    /// on Qwen2.5-Coder-0.5B at 16K it had the lowest decode-kl KL of the four (0.305 / 0.230 /
    /// 0.190 nats at budgets 512 / 1,024 / 2,048 against `coverage`'s 0.320 / 0.249 / 0.201) and
    /// kept every listing-task item `coverage` kept (docs/BENCHMARKS.md).
    public var allocation = Allocation.adakv
    /// `entropy`: entries are also ranked in aligned chunks of this many (ChunkKV): a chunk's
    /// score is the sum of its entries' scores, and a head keeps whole chunks, best first, so a
    /// kept entry keeps its neighbours. 1 (the default): entry by entry only; `forwardDecay`
    /// keeps the entries after an attended span instead, and measured better (docs/BENCHMARKS.md).
    public var chunkTokens = 1
    /// `entropy` with `chunkTokens` > 1: the share of each head's kept candidates taken from the
    /// chunk ranking; the rest come from the entry ranking, best first
    /// (`KVCompressionSelection.rankedCandidates`). 1: chunks only (ChunkKV).
    ///
    /// 16 × 0.25 was the default until forward spreading replaced it (Qwen2.5-Coder-0.5B,
    /// 16,000-token prompts, docs/BENCHMARKS.md): entries alone lost the needle of a
    /// question-agnostic second turn at every budget (the summary's queries keep its first digits
    /// only); chunks alone lost multi-query items at 512 and 1,024; the mix kept the needle at
    /// 2,048 with decode-kl KL 0.287 / 0.240 / 0.203 at budgets 512 / 1,024 / 2,048.
    public var chunkShare: Double = 0.25
    /// `entropy` with `chunkTokens` > 1: where chunks start.
    public var chunkAlignment = ChunkAlignment.aligned
    /// `entropy`: each candidate's pooled score is raised to at least `forwardDecay`^gap times
    /// the raised score of the entry before it, gap positions earlier
    /// (`KVCompressionSelection.spreadForward`), so the entries that follow an attended span rank
    /// near it: a passage being copied, or a number being read, is attended one entry further on
    /// at every generated token. 0: off. nil (the default): set by the round's mean budget per
    /// head, `forwardDecay(meanBudget:)`.
    public var forwardDecay: Double?
    /// From a mean budget of `longSpreadBudget` entries per head up, the default spread reaches
    /// about budget / `forwardPassages` entries past an attended one (1 / (1 − decay)), so a
    /// head's budget holds about this many attended passages whatever its size: decay 0.96875 /
    /// 0.984375 at budgets 1,024 / 2,048. Below it, `shortForwardDecay`.
    ///
    /// By measurement (Qwen2.5-Coder-0.5B and SmolLM2, decode-kl over every window of the license
    /// text, needle tasks on ten 16K prompts; docs/BENCHMARKS.md): a fixed 0.9 kept passages too
    /// short where the continuation copies earlier text (16K mean KL 0.480 / 0.377 at 1,024 /
    /// 2,048 against 0.367 / 0.179 with the rule), while at 512 the rule's 0.9375 lowered KL
    /// only in copying windows, raised it at 32K and lost a multi-query number.
    public static let forwardPassages = 32
    public static let longSpreadBudget = 1024
    public static let shortForwardDecay = 0.9

    /// The forward decay a round uses when it keeps `meanBudget` entries per head on average.
    public func forwardDecay(meanBudget: Int) -> Double {
        if let forwardDecay { return forwardDecay }
        guard meanBudget >= Self.longSpreadBudget else { return Self.shortForwardDecay }
        return 1 - Double(Self.forwardPassages) / Double(meanBudget)
    }
    /// `entropy`: the share of each head's kept candidates ranked by key novelty (`KeyNovelty`,
    /// KeyDiff: 1 − cosine to the stream's mean key) instead of attention: a reserve for entries
    /// no query has attended yet, such as the fact a question asked in a later turn needs. 0: off.
    /// nil (the default): set by the round's mean budget per head, `noveltyShare(meanBudget:)`.
    public var noveltyShare: Double?
    /// From a mean budget of `noveltyBudget` entries per head up, the default novelty share is
    /// `defaultNoveltyShare`; below it, 0.
    ///
    /// By measurement (Qwen2.5-Coder-0.5B, 16,000-token prompts, docs/BENCHMARKS.md): at 2,048 a
    /// quarter answered the eval's question-agnostic second turn on 6 of 10 prompts (attention
    /// alone 3), left multi-query answers unchanged on twenty prompts, and raised decode-kl KL in
    /// the window that copies earlier text only (mean 0.213 against 0.179, `latent` 0.343); at
    /// 1,024 it answered none of the prompts it was tried on and cost KL (0.421 against 0.367).
    public static let noveltyBudget = 2048
    public static let defaultNoveltyShare = 0.25
    /// `entropy`: the novelty scores are max-pooled over this many entries (odd), so a novel
    /// entry's neighbours (the rest of a number, a name) rank with it. 5 by measurement
    /// (Qwen2.5-Coder-0.5B, 16K, budget 2,048, docs/BENCHMARKS.md): 11 answered one more of ten
    /// question-agnostic second turns (7 against 6) but raised decode-kl KL (0.140 against 0.126).
    public var noveltyKernel = 5

    /// The novelty share a round uses when it keeps `meanBudget` entries per head on average.
    public func noveltyShare(meanBudget: Int) -> Double {
        if let noveltyShare { return noveltyShare }
        return meanBudget >= Self.noveltyBudget ? Self.defaultNoveltyShare : 0
    }
    /// `entropy`: bounds of a head's budget, as fractions/multiples of `budget`.
    public var minimumHeadFraction: Double = 0.25
    public var maximumHeadFactor: Double = 4
    public var groupReduction = GroupReduction.mean
    /// `snapkv` and `latent`: select per query head and expand the cache to the query heads, as
    /// their released code does (false: select per KV head on group-averaged scores).
    public var expandGQA = true
    /// Prompts shorter than this are not compressed (policies chosen by configuration only; a
    /// policy named in a request applies at any length).
    public var minimumPromptTokens = 0

    public init(kind: Kind) {
        self.kind = kind
    }

    public static let none = KVCompressionPolicy(kind: .none)

    public var isNone: Bool { kind == .none }

    /// Whether the policy scores entries with observation queries (and so needs them recorded).
    public var needsObservations: Bool {
        switch kind {
        case .none, .streaming: return false
        case .snapkv, .latent, .entropy: return true
        }
    }

    /// The queries that score the cache at a round: the last this many processed tokens.
    public var scoringTokens: Int { kind == .entropy ? max(windowTokens, observationTokens) : windowTokens }

    /// Relative weights of scoring queries at `positions` (ascending) when the newest processed
    /// token is at `newest`, for a round keeping `meanBudget` entries per head on average: 1
    /// within the last `windowTokens`, `olderQueryWeight(meanBudget:)` before; nil when every
    /// query counts the same.
    public func scoringWeights(positions: [Int], newest: Int, meanBudget: Int) -> [Float]? {
        let older = olderQueryWeight(meanBudget: meanBudget)
        guard older != 1 else { return nil }
        return positions.map { newest - $0 < windowTokens ? 1 : Float(older) }
    }

    /// Blocks of scoring queries at `positions` (ascending) when the newest processed token is at
    /// `newest`, for `observationReduction` `max` and `adaptive`: block b holds the queries
    /// b·`windowTokens` to (b+1)·`windowTokens` − 1 tokens before the newest, numbered from 0 for
    /// the oldest block; nil for `mean`.
    public func scoringBlocks(positions: [Int], newest: Int) -> [Int]? {
        guard observationReduction != .mean, let oldest = positions.first else { return nil }
        let last = (newest - oldest) / windowTokens
        return positions.map { last - (newest - $0) / windowTokens }
    }

    /// Tokens whose queries a session must have recorded (and a prefix-cache hit must recompute)
    /// before its rounds: `latent` scores with the `windowTokens` queries before the newest one.
    public var observedTokens: Int { needsObservations ? scoringTokens + 1 : 0 }

    /// Whether the policy splits each KV head's stream into one per query head.
    public var expandsGQA: Bool { (kind == .snapkv || kind == .latent) && expandGQA }

    /// Entries kept in the always-kept recent window.
    public var recentTokens: Int {
        switch kind {
        case .streaming: return max(0, budget - sinkTokens)
        default: return windowTokens
        }
    }

    /// `policy:budget` (the command-line form), or `none`.
    public var shortDescription: String { kind == .none ? "none" : "\(kind.rawValue):\(budget)" }

    public var description: String {
        switch kind {
        case .none:
            return "none"
        case .streaming:
            return "streaming(budget=\(budget),sink=\(sinkTokens),slack=\(slackTokens))"
        case .snapkv:
            return "snapkv(budget=\(budget),window=\(windowTokens),pool=\(pooling.rawValue)\(poolingKernel),gqa=\(expandGQA ? "expand" : "group"))"
        case .latent:
            return "latent(budget=\(budget),window=\(windowTokens),gap=\(decodeGap),pool=\(pooling.rawValue)\(poolingKernel),gqa=\(expandGQA ? "expand" : "group"))"
        case .entropy:
            return "entropy(budget=\(budget),window=\(windowTokens),gap=\(decodeGap),pool=\(pooling.rawValue)\(poolingKernel),sink=\(sinkTokens),slack=\(slackTokens),prefill=\(prefillBudgetFactor),alloc=\(allocation.rawValue),chunk=\(chunkTokens)x\(chunkShare)\(chunkAlignment == .aligned ? "" : "@" + chunkAlignment.rawValue),forward=\(forwardDecay.map { "\($0)" } ?? "auto"),heads=\(minimumHeadFraction)...\(maximumHeadFactor),group=\(groupReduction.rawValue),observe=\(scoringTokens)\(observationReduction == .mean ? "@" + (olderQueryWeight.map { "\($0)" } ?? "auto") : "/" + observationReduction.rawValue),novelty=\(noveltyShare.map { "\($0)" } ?? "auto")x\(noveltyKernel))"
        }
    }
}

/// Building a `KVCompressionPolicy` from a name and knob values (the request's
/// `"kv_compression"` object, the server configuration, `--kv-compression`), with errors a user
/// can act on.
public struct KVCompressionPolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension KVCompressionPolicy {
    public static let policyNames = Kind.allCases.map(\.rawValue)

    /// The policy called `name` with its default knobs.
    public static func named(_ name: String) throws(KVCompressionPolicyError) -> KVCompressionPolicy {
        guard let kind = Kind(rawValue: name) else {
            throw KVCompressionPolicyError("unknown KV compression policy '\(name)'; expected one of \(policyNames.joined(separator: ", "))")
        }
        return KVCompressionPolicy(kind: kind)
    }

    /// `policy`, `policy:budget`, then any `:knob=value` (the command-line form, knobs named as
    /// in the request's object), e.g. `entropy:1024:prefill_budget_factor=2`.
    public static func parse(_ text: String) throws(KVCompressionPolicyError) -> KVCompressionPolicy {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        var policy = try named(parts[0])
        for (index, part) in parts.enumerated().dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 1 {
                guard index == 1, let budget = Int(part) else {
                    throw KVCompressionPolicyError("expected POLICY[:BUDGET][:knob=value...], got '\(text)'; the budget after ':' must be a whole number")
                }
                try policy.set("budget", integer: budget)
                continue
            }
            let (knob, value) = (pair[0], pair[1])
            if booleanKnobs.contains(knob) {
                guard let flag = Bool(value) else { throw KVCompressionPolicyError("KV compression knob '\(knob)' takes true or false, got '\(value)'") }
                try policy.set(knob, boolean: flag)
            } else if stringKnobs[knob] != nil {
                try policy.set(knob, string: value)
            } else if let integer = Int(value) {
                try policy.set(knob, integer: integer)
            } else if let number = Double(value) {
                try policy.set(knob, number: number)
            } else {
                throw KVCompressionPolicyError("KV compression knob '\(knob)' takes a number, got '\(value)'")
            }
        }
        return try policy.validated()
    }

    /// Knob names (snake_case, as in JSON) and the range each accepts.
    public static let integerKnobs: [String: ClosedRange<Int>] = [
        "budget": 1...16_777_216, "window_tokens": 1...4096, "decode_gap": 0...4096, "pooling_kernel": 1...255,
        "sink_tokens": 0...65_536, "slack_tokens": 0...16_777_216, "minimum_prompt_tokens": 0...16_777_216,
        "chunk_tokens": 1...4096, "observation_tokens": 0...4096, "novelty_kernel": 1...255,
    ]
    public static let numberKnobs: [String: ClosedRange<Double>] = [
        "prefill_budget_factor": 0...1024, "minimum_head_fraction": 0...1, "maximum_head_factor": 1...1024,
        "chunk_share": 0...1, "forward_decay": 0...0.999, "novelty_share": 0...1, "older_query_weight": 0...1,
    ]
    public static let booleanKnobs: Set<String> = ["expand_gqa"]
    public static let stringKnobs: [String: [String]] = [
        "pooling": Pooling.allCases.map(\.rawValue), "allocation": Allocation.allCases.map(\.rawValue),
        "group_reduction": GroupReduction.allCases.map(\.rawValue), "observation_reduction": ObservationReduction.allCases.map(\.rawValue),
        "chunk_alignment": ChunkAlignment.allCases.map(\.rawValue),
    ]

    public mutating func set(_ knob: String, integer value: Int) throws(KVCompressionPolicyError) {
        guard let range = Self.integerKnobs[knob] else {
            if Self.numberKnobs[knob] != nil { try set(knob, number: Double(value)); return }
            throw Self.unknownKnob(knob)
        }
        guard range.contains(value) else {
            throw KVCompressionPolicyError("KV compression knob '\(knob)' must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        switch knob {
        case "budget": budget = value
        case "window_tokens": windowTokens = value
        case "decode_gap": decodeGap = value
        case "pooling_kernel", "novelty_kernel":
            guard value % 2 == 1 else {
                throw KVCompressionPolicyError("KV compression knob '\(knob)' must be odd (the window is centred), got \(value)")
            }
            if knob == "pooling_kernel" { poolingKernel = value } else { noveltyKernel = value }
        case "sink_tokens": sinkTokens = value
        case "slack_tokens": slackTokens = value
        case "chunk_tokens": chunkTokens = value
        case "observation_tokens": observationTokens = value
        default: minimumPromptTokens = value
        }
    }

    public mutating func set(_ knob: String, number value: Double) throws(KVCompressionPolicyError) {
        guard let range = Self.numberKnobs[knob] else {
            if Self.integerKnobs[knob] != nil {
                guard value.rounded() == value, let integer = Int(exactly: value) else {
                    throw KVCompressionPolicyError("KV compression knob '\(knob)' takes a whole number, got \(value)")
                }
                try set(knob, integer: integer)
                return
            }
            throw Self.unknownKnob(knob)
        }
        guard value.isFinite, range.contains(value) else {
            throw KVCompressionPolicyError("KV compression knob '\(knob)' must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
        switch knob {
        case "prefill_budget_factor":
            guard value == 0 || value >= 1 else {
                throw KVCompressionPolicyError("KV compression knob 'prefill_budget_factor' must be 0 (off) or at least 1, got \(value)")
            }
            prefillBudgetFactor = value
        case "minimum_head_fraction": minimumHeadFraction = value
        case "chunk_share": chunkShare = value
        case "forward_decay": forwardDecay = value
        case "novelty_share": noveltyShare = value
        case "older_query_weight": olderQueryWeight = value
        default: maximumHeadFactor = value
        }
    }

    public mutating func set(_ knob: String, boolean value: Bool) throws(KVCompressionPolicyError) {
        guard Self.booleanKnobs.contains(knob) else { throw Self.unknownKnob(knob) }
        expandGQA = value
    }

    public mutating func set(_ knob: String, string value: String) throws(KVCompressionPolicyError) {
        guard let choices = Self.stringKnobs[knob] else { throw Self.unknownKnob(knob) }
        guard choices.contains(value) else {
            throw KVCompressionPolicyError("KV compression knob '\(knob)' must be one of \(choices.joined(separator: ", ")), got '\(value)'")
        }
        switch knob {
        case "pooling": pooling = Pooling(rawValue: value)!
        case "allocation": allocation = Allocation(rawValue: value)!
        case "chunk_alignment": chunkAlignment = ChunkAlignment(rawValue: value)!
        case "observation_reduction": observationReduction = ObservationReduction(rawValue: value)!
        default: groupReduction = GroupReduction(rawValue: value)!
        }
    }

    /// Checks the knobs together (bounds that depend on each other).
    public func validated() throws(KVCompressionPolicyError) -> KVCompressionPolicy {
        switch kind {
        case .none:
            break
        case .streaming:
            if budget <= sinkTokens {
                throw KVCompressionPolicyError("KV compression 'budget' (\(budget)) must exceed 'sink_tokens' (\(sinkTokens)) for the streaming policy")
            }
        case .snapkv, .latent, .entropy:
            // SnapKV asserts max_capacity_prompt − window_size > 0.
            if budget <= windowTokens {
                throw KVCompressionPolicyError("KV compression 'budget' (\(budget)) must exceed 'window_tokens' (\(windowTokens)): the recent window is always kept")
            }
            if kind != .snapkv && decodeGap > scoringTokens {
                let knob = scoringTokens == windowTokens ? "window_tokens" : "observation_tokens"
                throw KVCompressionPolicyError("KV compression 'decode_gap' (\(decodeGap)) must not exceed '\(knob)' (\(scoringTokens)): the scoring queries hold the generated ones")
            }
            if kind == .entropy && observationReduction != .mean, let olderQueryWeight, olderQueryWeight != 1 {
                throw KVCompressionPolicyError("KV compression knob 'older_query_weight' applies to 'observation_reduction' mean only: with \(observationReduction.rawValue) every block of queries is scored on its own")
            }
            if kind == .entropy && budget <= windowTokens + sinkTokens {
                throw KVCompressionPolicyError("KV compression 'budget' (\(budget)) must exceed 'window_tokens' + 'sink_tokens' (\(windowTokens + sinkTokens))")
            }
        }
        return self
    }

    private static func unknownKnob(_ knob: String) -> KVCompressionPolicyError {
        let known = (Array(integerKnobs.keys) + Array(numberKnobs.keys) + Array(booleanKnobs) + Array(stringKnobs.keys)).sorted()
        return KVCompressionPolicyError("unknown KV compression knob '\(knob)'; known knobs: policy, \(known.joined(separator: ", "))")
    }
}
