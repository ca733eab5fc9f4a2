/// Why KV memory could not satisfy a request.
public enum KVMemoryError: Error, Equatable, CustomStringConvertible {
    /// Not enough free blocks right now (the scheduler may wait or preempt).
    case outOfBlocks(needed: Int, free: Int)
    /// The configured budget cannot hold even one block per stream.
    case budgetTooSmall(budgetBytes: Int, minimumBytes: Int)

    public var description: String {
        switch self {
        case .outOfBlocks(let needed, let free):
            return "KV memory is full: \(needed) more blocks needed, \(free) free"
        case .budgetTooSmall(let budget, let minimum):
            return "KV memory budget of \(budget) bytes is below the minimum of \(minimum) bytes for this model"
        }
    }
}
