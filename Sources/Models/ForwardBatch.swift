import Attention
import KVMemory

/// Tokens of one or more sessions computed together in one forward pass.
///
/// Each segment is a run of consecutive tokens of one session, continuing its KV cache: the
/// first token sits at position `kv.positionCount`. The caller reserves KV capacity for every
/// segment before the pass (so it never fails half-way) and the pass advances each cache.
public struct ForwardBatch {
    public struct Segment {
        public var kv: KVSequence
        /// Index of the segment's first token in `tokens`.
        public var tokenStart: Int
        public var tokenCount: Int
        /// Prefill attention policy of this session (decode steps always attend densely).
        public var attention: AttentionPolicy
        /// Query segments starting at or after this position attend densely under a sparse
        /// policy (the prompt's last segment when the policy keeps it dense).
        public var denseFromPosition: Int
        /// Records the post-RoPE queries of the segment's last tokens in every layer (sessions
        /// under a KV compression policy that scores the cache).
        public var observation: ObservationWindow?

        public init(kv: KVSequence, tokenStart: Int, tokenCount: Int, attention: AttentionPolicy = .dense,
                    denseFromPosition: Int = .max, observation: ObservationWindow? = nil) {
            self.kv = kv; self.tokenStart = tokenStart; self.tokenCount = tokenCount; self.attention = attention
            self.denseFromPosition = denseFromPosition
            self.observation = observation
        }
    }

    public var tokens: [Int32]
    public var segments: [Segment]
    /// Indices into `tokens` whose next-token logits are wanted, in output order.
    public var logitRows: [Int]

    public init(tokens: [Int32], segments: [Segment], logitRows: [Int]) {
        self.tokens = tokens; self.segments = segments; self.logitRows = logitRows
    }

    /// One session's tokens, with logits for the last one.
    public static func single(_ tokens: [Int32], kv: KVSequence, allLogits: Bool = false,
                              attention: AttentionPolicy = .dense, denseFromPosition: Int = .max,
                              observation: ObservationWindow? = nil) -> ForwardBatch {
        ForwardBatch(tokens: tokens, segments: [Segment(kv: kv, tokenStart: 0, tokenCount: tokens.count, attention: attention,
                                                        denseFromPosition: denseFromPosition, observation: observation)],
                     logitRows: allLogits ? Array(tokens.indices) : [tokens.count - 1])
    }
}
