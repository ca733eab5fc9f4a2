import Engine

/// The `/metrics` document: vLLM's metric names with the `entropyinfer:` prefix and vLLM's
/// labels (`model_name`, `engine`), plus a few of our own (KV blocks, engine steps, sparse
/// attention work, HTTP responses by status).
public enum MetricsExposition {
    public static let prefix = "entropyinfer:"

    public static func render(engine: EngineMetrics, server: ServerMetrics, modelName: String) -> String {
        var out = PrometheusText(labels: [("model_name", modelName), ("engine", "0")])
        let p = prefix

        out.gauge(p + "num_requests_running", "Number of requests in model execution batches.", Double(engine.requestsRunning))
        out.gauge(p + "num_requests_decoding", "Running requests past their prompt (generating).", Double(engine.requestsDecoding))
        out.gauge(p + "num_requests_waiting", "Number of requests waiting to be processed.", Double(engine.requestsWaiting))
        let usage = engine.kvBlocksTotal > 0 ? Double(engine.kvBlocksUsed) / Double(engine.kvBlocksTotal) : 0
        out.gauge(p + "kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.", usage)
        out.counter(p + "prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.",
                    Double(engine.prefixCacheQueriesTotal))
        out.counter(p + "prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.",
                    Double(engine.prefixCacheHitsTotal))
        out.counter(p + "num_preemptions_total", "Cumulative number of preemption from the engine.",
                    Double(engine.preemptionsTotal))
        out.counter(p + "prompt_tokens_total", "Number of prefill tokens processed.", Double(engine.promptTokensTotal))
        out.counter(p + "generation_tokens_total", "Number of generation tokens processed.",
                    Double(engine.generationTokensTotal))
        let successes = server.successCountsByReason
        out.counter(p + "request_success_total", "Count of successfully processed requests.", label: "finished_reason",
                    ServerMetrics.finishedReasons.map { ($0, Double(successes[$0] ?? 0)) })

        out.histogram(p + "request_prompt_tokens", "Number of prefill tokens processed.", server.requestPromptTokens)
        out.histogram(p + "request_generation_tokens", "Number of generation tokens processed.",
                      server.requestGenerationTokens)
        out.histogram(p + "request_params_n", "Histogram of the n request parameter.", server.requestParamsN)
        out.histogram(p + "time_to_first_token_seconds", "Histogram of time to first token in seconds.",
                      server.timeToFirstToken)
        out.histogram(p + "inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
                      server.interTokenLatency)
        out.histogram(p + "e2e_request_latency_seconds", "Histogram of e2e request latency in seconds.",
                      server.endToEndLatency)
        out.histogram(p + "request_queue_time_seconds", "Histogram of time spent in WAITING phase for request.",
                      server.queueTime)
        out.histogram(p + "request_prefill_time_seconds", "Histogram of time spent in PREFILL phase for request.",
                      server.prefillTime)
        out.histogram(p + "request_decode_time_seconds", "Histogram of time spent in DECODE phase for request.",
                      server.decodeTime)

        out.histogram(p + "iteration_tokens_total", "Histogram of the number of tokens per engine step.",
                      bounds: EngineMetrics.stepBucketBounds, bucketCounts: engine.stepTokenBuckets,
                      sum: Double(engine.stepTokensTotal))

        // Ours (no vLLM equivalent).
        out.histogram(p + "iteration_sessions", "Histogram of the number of sessions batched per engine step.",
                      bounds: EngineMetrics.stepBucketBounds, bucketCounts: engine.stepSessionBuckets,
                      sum: Double(engine.stepSessionsTotal))
        let queried = engine.prefixCacheQueriesTotal
        out.gauge(p + "prefix_cache_hit_ratio", "Prefix cache hits over queries, in tokens, since start.",
                  queried > 0 ? Double(engine.prefixCacheHitsTotal) / Double(queried) : 0)
        out.gauge(p + "kv_cache_blocks_free", "KV memory blocks free.", Double(engine.kvBlocksTotal - engine.kvBlocksUsed))
        out.gauge(p + "kv_cache_blocks_cached", "KV memory blocks held by the prefix cache for reuse.",
                  Double(engine.kvBlocksCached))
        out.gauge(p + "kv_cache_blocks_used", "KV memory blocks in use.", Double(engine.kvBlocksUsed))
        out.gauge(p + "kv_cache_blocks_total", "KV memory blocks in the pool.", Double(engine.kvBlocksTotal))
        out.gauge(p + "kv_cache_bytes_used", "KV memory bytes in use.", Double(engine.kvBytesUsed))
        out.gauge(p + "kv_cache_bytes_total", "KV memory budget in bytes.", Double(engine.kvBytesTotal))
        out.gauge(p + "kv_cache_session_bytes", "KV bytes held by running and waiting sessions (after compression).",
                  Double(engine.kvSessionBytes))
        out.gauge(p + "kv_cache_session_bytes_uncompressed",
                  "KV bytes the same sessions' positions would hold without compression.",
                  Double(engine.kvSessionBytesUncompressed))
        out.counter(p + "kv_compressions_total", "KV compression rounds run (a round compacts a session's streams).",
                    Double(engine.kvCompressionsTotal))
        out.counter(p + "kv_compression_evicted_entries_total", "KV entries evicted by compression, over every stream.",
                    Double(engine.kvCompressionEvictedEntriesTotal))
        out.counter(p + "kv_compression_seconds_total", "Wall time of KV compression rounds (scoring, selection, compaction).",
                    engine.kvCompressionSecondsTotal)
        out.counter(p + "engine_steps_total", "Engine steps (batched forward passes) run.", Double(engine.stepsTotal))
        out.counter(p + "engine_step_tokens_total", "Tokens processed by engine steps.", Double(engine.stepTokensTotal))
        out.counter(p + "attention_pairs_total", "Query-key pairs attention would compute densely.",
                    Double(engine.attentionPairsTotal))
        out.counter(p + "attention_pairs_skipped_total", "Query-key pairs skipped by sparse prefill.",
                    Double(engine.attentionPairsSkippedTotal))
        let responses = server.responseCountsByStatus.sorted { $0.key < $1.key }
        out.counter(p + "http_responses_total", "HTTP responses by status code.", label: "status",
                    responses.map { (String($0.key), Double($0.value)) })
        return out.text
    }
}
