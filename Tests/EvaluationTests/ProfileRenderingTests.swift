import Evaluation
import Foundation
import JSON
import Testing

@Suite struct ProfileRenderingTests {
    /// 3 layers × 2 KV heads × 6 segments of 512 (block 8): layer 0 dense (not profiled), head
    /// (1, 0) rigid, the others with rising entropy; budgets where sparse.
    func syntheticProfile() -> AttentionProfile {
        var heads: [AttentionProfile.Head] = []
        for layer in 0..<3 {
            for kvHead in 0..<2 {
                if layer == 0 {
                    heads.append(.init(layer: layer, kvHead: kvHead, entropy: Array(repeating: nil, count: 6),
                                       budgetTokens: Array(repeating: nil, count: 6), isRigid: false))
                    continue
                }
                let rigid = layer == 1 && kvHead == 0
                let entropy: [Double?] = [nil] + (1..<6).map { rigid ? 1e-7 : Double($0) * 0.5 + Double(kvHead) }
                let budget: [Int?] = [nil, nil, 2048, 2048, rigid ? 2048 : 3072, rigid ? 2048 : 4096]
                heads.append(.init(layer: layer, kvHead: kvHead, entropy: entropy, budgetTokens: budget, isRigid: rigid))
            }
        }
        return AttentionProfile(model: "test<&>model", policy: "entropy(seg=512)", promptTokens: 3000, segmentTokens: 512,
                                blockTokens: 8, layerCount: 3, kvHeadCount: 2, heads: heads)
    }

    func occurrences(_ needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// The (x, y) points of the entropy line of one cell.
    func entropyPoints(_ svg: String, cell: String) -> [(Double, Double)] {
        let start = svg.range(of: "id=\"\(cell)\"")!.upperBound
        let body = svg[start...]
        let end = body.range(of: "</g>")!.lowerBound
        let group = body[..<end]
        guard let line = group.range(of: "class=\"entropy\"") else { return [] }
        let points = group[line.upperBound...].range(of: "points=\"")!
        let values = group[points.upperBound...].prefix { $0 != "\"" }
        return values.split(separator: " ").map { pair in
            let parts = pair.split(separator: ",")
            return (Double(parts[0])!, Double(parts[1])!)
        }
    }

    @Test func everyHeadIsOneChartAndRigidHeadsAreMarked() {
        let profile = syntheticProfile()
        #expect(profile.segmentCount == 6)
        #expect(profile.rigidHeadCount == 1)
        let svg = ProfileSVGRenderer().render(profile)
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(occurrences("<g class=\"cell", in: svg) == 6)
        #expect(occurrences("<g class=\"cell rigid\" id=\"L1H0\"", in: svg) == 1)
        // Dense segments: layer 0 has 6 per head, the other layers 2 per head.
        #expect(occurrences("class=\"dense\"", in: svg) == 2 * 6 + 4 * 2)
        #expect(occurrences("class=\"budget\"", in: svg) == 4 * 4)
        #expect(svg.contains("test&lt;&amp;&gt;model"))
        #expect(!svg.contains("test<&>model"))
        #expect(svg.contains("1 of 6 heads rigid"))
        // A legend names every mark.
        for label in ["entropy (nats", "largest possible", "budget (tokens", "segment ran dense", "rigid head"] {
            #expect(svg.contains(label), "legend lacks \(label)")
        }
    }

    @Test func entropyLinesFollowTheValues() {
        let profile = syntheticProfile()
        let svg = ProfileSVGRenderer().render(profile)
        #expect(entropyPoints(svg, cell: "L0H0").isEmpty)
        let rising = entropyPoints(svg, cell: "L2H1")
        #expect(rising.count == 5)
        // Later segments are further right and (higher entropy) further up.
        #expect(zip(rising, rising.dropFirst()).allSatisfy { $1.0 > $0.0 && $1.1 < $0.1 })
        let rigid = entropyPoints(svg, cell: "L1H0")
        #expect(rigid.count == 5)
        // Near-zero entropy sits on the chart's floor, below every point of the rising head
        // beside it (same layer row, so the same vertical placement).
        let neighbour = entropyPoints(svg, cell: "L1H1")
        #expect(rigid.allSatisfy { point in neighbour.allSatisfy { point.1 > $0.1 } }, "rigid \(rigid), neighbour \(neighbour)")
        #expect(Set(rigid.map(\.1)).count == 1)
        // One scale for every chart: the top covers the largest possible entropy, ln(5·64).
        #expect(ProfileSVGRenderer.entropyScale(profile) == (log(320.0)).rounded(.up))
        #expect(ProfileSVGRenderer.budgetScale(profile) == 4096)
    }

    @Test func jsonCarriesEveryNumber() throws {
        let profile = syntheticProfile()
        let parsed = try JSONValue.parse(profile.json().prettyPrinted())
        let object = parsed.objectValue!
        #expect(object["segments"]?.intValue == 6)
        #expect(object["rigid_heads"]?.intValue == 1)
        let layers = object["layers"]!.arrayValue!
        #expect(layers.count == 3)
        let head = layers[2].objectValue!["heads"]!.arrayValue![1].objectValue!
        #expect(head["rigid"]?.boolValue == false)
        #expect(head["entropy"]!.arrayValue!.map(\.doubleValue) == [nil, 1.5, 2, 2.5, 3, 3.5])
        #expect(head["budget_tokens"]!.arrayValue!.map(\.intValue) == [nil, nil, 2048, 2048, 3072, 4096])
    }
}

@Suite struct AttentionProfileRecorderTests {
    @Test func segmentsFillInAndRigidityComesFromTheCallersRule() {
        let recorder = AttentionProfileRecorder(layerCount: 2, kvHeadCount: 2)
        // Layer 0 runs dense (never reported); layer 1 reports segments 1–3 out of order.
        recorder.record(layer: 1, segment: 3, entropy: [3.0, 0], budgetTokens: [2048, 512])
        recorder.record(layer: 1, segment: 1, entropy: [2.0, 0], budgetTokens: [nil, nil])
        recorder.record(layer: 1, segment: 2, entropy: [2.5, 1e-7], budgetTokens: [1024, 512])
        var seen: [[Double?]] = []
        let profile = recorder.profile(model: "m", policy: "p", promptTokens: 2000, segmentTokens: 512, blockTokens: 8) {
            seen.append($0)
            return $0.allSatisfy { ($0 ?? 0) < 1e-5 }
        }
        #expect(profile.segmentCount == 4)
        #expect(profile.head(layer: 1, kvHead: 0).entropy == [nil, 2.0, 2.5, 3.0])
        #expect(profile.head(layer: 1, kvHead: 0).budgetTokens == [nil, nil, 1024, 2048])
        #expect(!profile.head(layer: 1, kvHead: 0).isRigid)
        #expect(profile.head(layer: 1, kvHead: 1).isRigid)
        // Unprofiled heads are never rigid, and the rule is not asked about them.
        #expect(!profile.head(layer: 0, kvHead: 1).isRigid)
        #expect(profile.head(layer: 0, kvHead: 1).entropy == [nil, nil, nil, nil])
        #expect(seen.count == 2)
        #expect(profile.rigidHeadCount == 1)
    }
}
