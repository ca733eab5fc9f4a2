import KVMemory

/// Scheduler knobs.
public struct SchedulerConfiguration: Sendable, Equatable {
    /// Tokens per step: decode tokens of running sessions plus prefill chunks.
    public var maxBatchTokens: Int = 512
    /// Sessions admitted at once.
    public var maxRunningSessions: Int = 16
    /// Prefill chunks end on multiples of this absolute position when they do not finish the
    /// prompt, so segment-based sparse prefill can run inside chunked prefill.
    public var chunkAlignment: Int = 512
    /// Prefills with at most this many tokens left go before longer ones (and may use half of
    /// the step budget while a long prefill runs), so a short request is never stuck behind a
    /// long prompt for more than about one step. 0: strict arrival order.
    public var shortPrefillTokens: Int = 256
    /// Rows of logits a session needing prompt logprobs may ask for in one step.
    public var promptLogprobChunkTokens: Int = 64

    public init() {}
}

/// One session's share of a step.
struct ScheduledChunk {
    let session: Session
    let tokenCount: Int
}

/// Decides which sessions run in a step and how many of their tokens: one decode token for every
/// running session that has one, then prefill chunks, oldest session first, within the token
/// budget and the KV memory. It reserves KV blocks for what it schedules; when memory runs out it
/// preempts the most recently admitted session (its blocks are freed and it is recomputed later),
/// so the oldest session always makes progress. It never touches tensors.
final class Scheduler {
    let configuration: SchedulerConfiguration
    private(set) var waiting: [Session] = []
    /// Admission order: the first is the oldest.
    private(set) var running: [Session] = []
    private(set) var preemptionCount = 0

    init(configuration: SchedulerConfiguration) {
        self.configuration = configuration
    }

    var isIdle: Bool { waiting.isEmpty && running.isEmpty }

    func enqueue(_ session: Session) { waiting.append(session) }

    /// Removes a session from whichever queue holds it and frees its cache.
    func remove(_ session: Session) {
        running.removeAll { $0 === session }
        waiting.removeAll { $0 === session }
        session.kv?.releaseAll()
        session.kv = nil
    }

    /// Plans one step. `admit` gives a session about to be admitted its cache (possibly starting
    /// from a cached prefix); `reclaim(blocks)` frees pool blocks held only by the prefix cache
    /// until `blocks` are free, before anyone is preempted.
    ///
    /// Order within the token budget: every running decode, then short prefills (at most
    /// `shortPrefillTokens` left: running ones, then waiting ones in arrival order), then long
    /// prefills oldest first, then the rest of the queue. Short prefills may use at most half of
    /// the budget while a long prefill runs, so a 6,000-token prompt delays a short request by
    /// about one step and short requests can never starve it.
    func schedule(pool: KVBlockPool, admit: (Session) -> Void, reclaim: (Int) -> Void) -> [ScheduledChunk] {
        var plan: [ScheduledChunk] = []
        var budget = configuration.maxBatchTokens

        for session in running where budget > 0 && session.state == .running && session.unprocessedCount == 1 {
            var returned = 0
            if reserve(session, 1, pool: pool, plan: &plan, reclaim: reclaim, returnedTokens: &returned) {
                plan.append(ScheduledChunk(session: session, tokenCount: 1))
                budget -= 1
            }
            budget += returned
        }

        // A decode has one unprocessed token; prefills have more. 0 turns short-first off.
        let shortLimit = max(1, configuration.shortPrefillTokens)
        let longRunning = running.contains { $0.state == .running && $0.unprocessedCount > shortLimit }
        var shortBudget = longRunning ? budget - min(budget, configuration.maxBatchTokens / 2) : budget
        var memoryShort = false

        /// Plans a prefill chunk of a running session within `cap`; false when memory is short.
        func runPrefill(_ session: Session, cap: Int) -> Int? {
            let count = chunkSize(for: session, budget: min(budget, cap))
            var returned = 0
            defer { budget += returned }
            guard reserve(session, count, pool: pool, plan: &plan, reclaim: reclaim, returnedTokens: &returned) else { return nil }
            plan.append(ScheduledChunk(session: session, tokenCount: count))
            budget -= count
            return count
        }

        for session in running where shortBudget > 0 && budget > 0 && session.state == .running
            && session.unprocessedCount > 1 && session.unprocessedCount <= shortLimit {
            guard let count = runPrefill(session, cap: shortBudget) else { memoryShort = true; break }
            shortBudget -= count
        }
        var index = 0
        while !memoryShort, shortBudget > 0, budget > 0, index < waiting.count {
            guard waiting[index].unprocessedCount <= shortLimit else { index += 1; continue }
            guard let count = admitWaiting(at: index, budget: min(budget, shortBudget), pool: pool, admit: admit,
                                           reclaim: reclaim, plan: &plan) else { memoryShort = true; break }
            budget -= count
            shortBudget -= count
        }
        for session in running where !memoryShort && budget > 0 && session.state == .running
            && session.unprocessedCount > shortLimit {
            if runPrefill(session, cap: budget) == nil { memoryShort = true }
        }
        while !memoryShort, budget > 0, !waiting.isEmpty {
            guard let count = admitWaiting(at: 0, budget: budget, pool: pool, admit: admit, reclaim: reclaim, plan: &plan)
            else { break }
            budget -= count
        }
        return plan
    }

    /// Admits `waiting[index]` with its first chunk (within `budget`) and returns the chunk's
    /// token count, or leaves it waiting (nil) when the running-session limit or memory says no.
    ///
    /// Memory says no unless the pool can hold the rest of this session's prompt *and* the rest
    /// of every prompt still being prefilled (lookahead admission, as vLLM reserves a prompt's
    /// blocks up front): admitting on the first chunk alone lets several long prefills start
    /// together under a tight budget and then preempt each other, recomputing whole prompts.
    /// Decode growth is not reserved; it preempts the youngest session when memory runs out.
    private func admitWaiting(at index: Int, budget: Int, pool: KVBlockPool, admit: (Session) -> Void,
                              reclaim: (Int) -> Void, plan: inout [ScheduledChunk]) -> Int? {
        guard running.count < configuration.maxRunningSessions else { return nil }
        let session = waiting[index]
        admit(session)
        let count = chunkSize(for: session, budget: budget)
        let kv = session.kv!
        let prefilling = running.reduce(0) { total, other in
            total + (other.state == .running && other.unprocessedCount > 1 ? other.kv?.blocksNeeded(appending: other.unprocessedCount) ?? 0 : 0)
        }
        let needed = kv.blocksNeeded(appending: session.unprocessedCount) + prefilling
        if pool.freeBlockCount < needed { reclaim(needed) }
        guard pool.freeBlockCount >= needed, (try? kv.reserve(appending: count)) != nil else {
            // A waiting session holds nothing: drop the cached prefix it adopted.
            kv.releaseAll()
            session.cacheCursor = nil
            return nil
        }
        waiting.remove(at: index)
        session.state = .running
        running.append(session)
        plan.append(ScheduledChunk(session: session, tokenCount: count))
        return count
    }

    /// Tokens of `session` to run now: all of a decode, or a prefill chunk that fits the budget
    /// and ends on an alignment boundary unless it finishes the sequence.
    private func chunkSize(for session: Session, budget: Int) -> Int {
        var limit = budget
        if !session.promptLogprobsDone { limit = min(limit, configuration.promptLogprobChunkTokens) }
        let start = session.processedCount
        let remaining = session.unprocessedCount
        if remaining <= limit { return remaining }
        switch session.attention.kind {
        case .dense:
            break
        case .reference:
            // Its rigid-head test needs every segment of the prompt: one pass.
            return remaining
        case .entropy, .uniform:
            // Prompt logprobs keep their small chunks (logit rows cost memory); the pieces are
            // still cut at segment boundaries and profiled against the segment's own start.
            if !session.promptLogprobsDone { break }
            // Whole query segments (the segment is the profile's unit): as many as the budget
            // holds, at least the rest of the current one even if that overruns the budget.
            let segment = session.attention.segmentTokens
            let nextBoundary = (start / segment + 1) * segment
            let alignedEnd = (start + limit) / segment * segment
            return min(max(alignedEnd, nextBoundary), start + remaining) - start
        }
        let alignment = configuration.chunkAlignment
        let alignedEnd = (start + limit) / alignment * alignment
        return alignedEnd > start ? alignedEnd - start : limit
    }

    /// Reserves blocks for `count` tokens of `session`, preempting younger sessions if memory is
    /// short. False when even that is not enough. The tokens of chunks already planned for a
    /// preempted session are added to `returnedTokens`, for the caller to give back to the budget.
    private func reserve(_ session: Session, _ count: Int, pool: KVBlockPool, plan: inout [ScheduledChunk],
                         reclaim: (Int) -> Void, returnedTokens: inout Int) -> Bool {
        guard let kv = session.kv else { return false }
        while true {
            if (try? kv.reserve(appending: count)) != nil { return true }
            reclaim(kv.blocksNeeded(appending: count))
            if (try? kv.reserve(appending: count)) != nil { return true }
            guard let victim = running.last, victim !== session else { return false }
            preempt(victim)
            returnedTokens += plan.lazy.filter { $0.session === victim }.map(\.tokenCount).reduce(0, +)
            plan.removeAll { $0.session === victim }
        }
    }

    /// Frees a session's cache and puts it back at the head of the queue; its prompt and the
    /// tokens it generated so far are recomputed when it is admitted again.
    private func preempt(_ session: Session) {
        running.removeAll { $0 === session }
        session.kv?.releaseAll()
        session.compressor?.reset()
        session.cacheCursor = nil
        session.state = .waiting
        session.preemptions += 1
        preemptionCount += 1
        waiting.insert(session, at: 0)
    }
}
