/// Partial selection shared by sparse prefill (block selection) and KV compression (entry
/// selection): no full sort, deterministic ties.
public enum TopK {
    /// Indices of the `count` largest `values` among those `eligible`, best first (value
    /// descending, then index ascending, so ties go to the lower index). A bounded min-heap whose
    /// root is the worst kept index: O(n log count).
    public static func largest(_ values: [Float], count: Int, eligible: (Int) -> Bool = { _ in true }) -> [Int32] {
        guard count > 0 else { return [] }
        var heap: [Int32] = []
        heap.reserveCapacity(count)
        @inline(__always) func better(_ a: Int32, _ b: Int32) -> Bool { precedes(values, a, b) }
        for index in values.indices where eligible(index) {
            let candidate = Int32(index)
            if heap.count < count {
                heap.append(candidate)
                var node = heap.count - 1
                while node > 0 {
                    let parent = (node - 1) / 2
                    guard better(heap[parent], heap[node]) else { break }
                    heap.swapAt(parent, node)
                    node = parent
                }
            } else if better(candidate, heap[0]) {
                heap[0] = candidate
                var node = 0
                while true {
                    let left = 2 * node + 1, right = left + 1
                    var worst = node
                    if left < heap.count && better(heap[worst], heap[left]) { worst = left }
                    if right < heap.count && better(heap[worst], heap[right]) { worst = right }
                    if worst == node { break }
                    heap.swapAt(node, worst)
                    node = worst
                }
            }
        }
        return heap.sorted(by: better)
    }

    /// Every index of `indices`, best first in `largest`'s order (a full sort, for rankings that
    /// are walked whole).
    public static func ranked(_ values: [Float], _ indices: Range<Int>) -> [Int32] {
        indices.map { Int32($0) }.sorted { precedes(values, $0, $1) }
    }

    /// The order of `largest` and `ranked`: a before b when its value is larger, or equal with a
    /// lower index.
    @inline(__always) static func precedes(_ values: [Float], _ a: Int32, _ b: Int32) -> Bool {
        let va = values[Int(a)], vb = values[Int(b)]
        return va > vb || (va == vb && a < b)
    }
}
