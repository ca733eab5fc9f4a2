import Evaluation
import Testing

@Suite struct TaskRandomTests {
    @Test func drawsAreInRangeAndCoverIt() {
        var random = TaskRandom(seed: 1)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<7000 { counts[random.integer(below: 7)] += 1 }
        #expect(counts.allSatisfy { (850...1150).contains($0) }, "\(counts)")
        for _ in 0..<100 { #expect((1_000_000...9_999_999).contains(random.integer(in: 1_000_000...9_999_999))) }
    }

    @Test func streamsDependOnSeedAndCoordinates() {
        var a = TaskRandom(seed: 5, stream: [1, 2, 3])
        var b = TaskRandom(seed: 5, stream: [1, 2, 3])
        var c = TaskRandom(seed: 5, stream: [1, 2, 4])
        var d = TaskRandom(seed: 6, stream: [1, 2, 3])
        let x = (0..<4).map { _ in a.integer(below: 1 << 30) }
        #expect(x == (0..<4).map { _ in b.integer(below: 1 << 30) })
        #expect(x != (0..<4).map { _ in c.integer(below: 1 << 30) })
        #expect(x != (0..<4).map { _ in d.integer(below: 1 << 30) })
    }

    @Test func distinctDrawsAreDistinct() {
        var random = TaskRandom(seed: 9)
        let values = random.distinctIntegers(10, below: 10)
        #expect(values.sorted() == Array(0..<10))
    }
}
