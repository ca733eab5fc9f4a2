import CKernels
import Foundation
import Synchronization

/// A persistent pool of worker threads for data-parallel kernels.
///
/// The calling thread takes part in every job, so a pool of `threadCount` runs `threadCount - 1`
/// workers. Workers spin briefly between jobs (decode issues hundreds of small jobs per token)
/// and then sleep. Tasks are handed out dynamically, but a task's result never depends on which
/// thread runs it, so outputs are deterministic.
///
/// A job ends when its tasks are done. Workers *join* a job before taking tasks, and the caller
/// waits only for workers that joined: a worker the OS has descheduled (more runnable threads
/// than cores) does not hold every job up; when it runs again it finds the job closed and skips it.
///
/// Only one thread at a time may submit jobs (the engine thread owns the pool).
public final class ThreadPool: @unchecked Sendable {
    public let threadCount: Int

    /// Bumped once per job; workers watch it.
    private let generation = Atomic<Int>(0)
    /// Next task index to hand out in the current job.
    private let nextTask = Atomic<Int>(0)
    /// Bit w - 1: worker w joined the current job; `closedBit`: the job takes no more workers.
    private let joined = Atomic<UInt64>(0)
    /// Bit w - 1: worker w finished its part of the current job.
    private let finished = Atomic<UInt64>(0)
    private static let closedBit: UInt64 = 1 << 63
    private let sleepingWorkers = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)
    private let exitedWorkers = Atomic<Int>(0)
    private let wakeUp = NSCondition()

    // The current job; written by the submitting thread before `joined` is reset (release).
    private var taskCount = 0
    private var job: ((Int, Int) -> Void)?
    /// The submitter's kernel-ISA override (-1: none); workers adopt it for the job, so a thread
    /// that lowered its level (tests) gets that level in every task, and no other thread does.
    private var jobISAOverride: Int32 = -1

    /// Spin iterations before a worker sleeps (a few hundred microseconds).
    private let spinLimit = 20_000
    private var threads: [Thread] = []

    /// - Parameter threadCount: total threads including the caller (1...64).
    public init(threadCount: Int) {
        precondition((1...64).contains(threadCount), "a thread pool needs 1 to 64 threads")
        self.threadCount = threadCount
        joined.store(Self.closedBit, ordering: .relaxed)
        for index in 1..<threadCount {
            let thread = Thread { [unowned(unsafe) self] in self.workerLoop(index) }
            thread.name = "entropyinfer-worker-\(index)"
            thread.stackSize = 1 << 20
            threads.append(thread)
            thread.start()
        }
    }

    deinit {
        shuttingDown.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeUp.lock(); wakeUp.broadcast(); wakeUp.unlock()
        // Workers hold `unowned(unsafe) self`; wait for them to leave before memory goes away.
        while exitedWorkers.load(ordering: .acquiring) != threadCount - 1 { sched_yield() }
    }

    /// Runs `body(task)` for every task in `0..<taskCount`, spread over the pool; returns when all
    /// are done.
    public func run(tasks taskCount: Int, _ body: (Int) -> Void) {
        run(tasks: taskCount) { task, _ in body(task) }
    }

    /// Runs `body(task, thread)` for every task; `thread` in `0..<threadCount` identifies the
    /// executing thread (for per-thread scratch). No two tasks run on the same thread at once.
    public func run(tasks taskCount: Int, _ body: (_ task: Int, _ thread: Int) -> Void) {
        if taskCount <= 0 { return }
        if threadCount == 1 || taskCount == 1 {
            for task in 0..<taskCount { body(task, 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            self.job = escapable
            self.taskCount = taskCount
            self.jobISAOverride = ei_thread_isa_override()
            nextTask.store(0, ordering: .relaxed)
            finished.store(0, ordering: .relaxed)
            joined.store(0, ordering: .releasing)            // open: publishes job, taskCount, counters
            generation.add(1, ordering: .sequentiallyConsistent)
            if sleepingWorkers.load(ordering: .sequentiallyConsistent) > 0 {
                wakeUp.lock(); wakeUp.broadcast(); wakeUp.unlock()
            }
            drainTasks(escapable, taskCount, thread: 0)
            // Close the job; wait for the workers that joined it to finish their tasks.
            let participants = joined.bitwiseOr(Self.closedBit, ordering: .acquiringAndReleasing).oldValue
            var spins = 0
            while finished.load(ordering: .acquiring) != participants {
                spins += 1
                if spins < 2_000 { ei_cpu_relax() } else { sched_yield() }
            }
            self.job = nil
        }
    }

    /// Splits `0..<count` into one contiguous range per task, each a multiple of `granularity`
    /// (except the last), with about `tasksPerThread` tasks per thread for balance.
    public func parallelRanges(_ count: Int, granularity: Int = 1, tasksPerThread: Int = 1,
                               _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let units = (count + granularity - 1) / granularity
        let taskCount = min(units, threadCount * tasksPerThread)
        run(tasks: taskCount) { task in
            let startUnit = units * task / taskCount
            let endUnit = units * (task + 1) / taskCount
            let range = min(count, startUnit * granularity)..<min(count, endUnit * granularity)
            if !range.isEmpty { body(range) }
        }
    }

    @inline(__always)
    private func drainTasks(_ body: (Int, Int) -> Void, _ taskCount: Int, thread: Int) {
        while true {
            let task = nextTask.add(1, ordering: .relaxed).oldValue
            if task >= taskCount { return }
            body(task, thread)
        }
    }

    /// Joins the open job unless it is closed or this worker already took part.
    private func join(_ bit: UInt64) -> Bool {
        var state = joined.load(ordering: .acquiring)
        while state & (Self.closedBit | bit) == 0 {
            let (exchanged, original) = joined.compareExchange(expected: state, desired: state | bit,
                                                               ordering: .acquiringAndReleasing)
            if exchanged { return true }
            state = original
        }
        return false
    }

    private func workerLoop(_ index: Int) {
        let bit: UInt64 = 1 << UInt64(index - 1)
        var seen = 0
        while true {
            // Wait for a new job: spin (yielding now and then), then sleep.
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                if spins < spinLimit {
                    spins += 1
                    if spins % 256 == 0 { sched_yield() } else { ei_cpu_relax() }
                } else {
                    wakeUp.lock()
                    sleepingWorkers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen {
                        wakeUp.wait()
                    }
                    sleepingWorkers.subtract(1, ordering: .sequentiallyConsistent)
                    wakeUp.unlock()
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if shuttingDown.load(ordering: .acquiring) {
                exitedWorkers.add(1, ordering: .releasing)
                return
            }
            if join(bit) {
                // Joined: the job, its task count and counters are those of the open job, and the
                // submitter waits for this worker's bit in `finished` before closing it down.
                ei_set_thread_isa_override(jobISAOverride)
                if let job { drainTasks(job, taskCount, thread: index) }
                finished.bitwiseOr(bit, ordering: .releasing)
            }
        }
    }
}
