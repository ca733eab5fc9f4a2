import CKernels
import Foundation
import Kernels
import Synchronization
import Testing

@Suite struct ThreadPoolTests {
    /// A thread that lowers its kernel level gets it in every task of its jobs, whichever thread
    /// runs them, and no other thread sees it (tests lowering the level run beside other tests).
    @Test func kernelLevelOverrideIsScopedToTheSubmittersJobs() throws {
        let best = ei_cpu_best_isa()
        let pool = ThreadPool(threadCount: 3)
        let seen = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: 64)
        defer { seen.deallocate() }
        ei_set_active_isa(EI_ISA_PORTABLE)
        pool.run(tasks: 64) { task in
            if task % 3 == 0 { usleep(200) }       // spread the tasks over the workers
            seen[task] = ei_active_isa().rawValue
        }
        #expect(seen.allSatisfy { $0 == EI_ISA_PORTABLE.rawValue })
        // Another thread never sees this thread's override.
        let other = Atomic<UInt32>(UInt32.max)
        let thread = Thread { other.store(ei_active_isa().rawValue, ordering: .releasing) }
        thread.start()
        for _ in 0..<10_000 where other.load(ordering: .acquiring) == UInt32.max { usleep(100) }
        #expect(other.load(ordering: .acquiring) == best.rawValue)
        ei_set_thread_isa_override(-1)
        #expect(ei_active_isa() == best)
        pool.run(tasks: 64) { task in seen[task] = ei_active_isa().rawValue }
        #expect(seen.allSatisfy { $0 == best.rawValue })
    }

    @Test func runsEveryTaskExactlyOnce() {
        for threads in [1, 2, 3] {
            let pool = ThreadPool(threadCount: threads)
            for taskCount in [0, 1, 2, 7, 100] {
                let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(taskCount, 1))
                hits.initialize(repeating: 0)
                pool.run(tasks: taskCount) { hits[$0] += 1 }
                #expect(hits.prefix(taskCount).allSatisfy { $0 == 1 })
                hits.deallocate()
            }
        }
    }

    @Test func rangesCoverEverythingOnce() {
        let pool = ThreadPool(threadCount: 2)
        for count in [1, 5, 16, 17, 1000] {
            for granularity in [1, 4, 16] {
                let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
                hits.initialize(repeating: 0)
                pool.parallelRanges(count, granularity: granularity, tasksPerThread: 3) { range in
                    #expect(range.lowerBound % granularity == 0)
                    for i in range { hits[i] += 1 }
                }
                #expect(hits.allSatisfy { $0 == 1 })
                hits.deallocate()
            }
        }
    }

    @Test func manySmallJobsAndSleepWake() throws {
        let pool = ThreadPool(threadCount: 2)
        let total = Atomic<Int>(0)
        for round in 0..<20_000 {
            pool.run(tasks: 4) { _ in total.add(1, ordering: .relaxed) }
            if round % 5000 == 0 { usleep(5000) }  // let workers fall asleep, then wake them
        }
        #expect(total.load(ordering: .relaxed) == 80_000)
    }
}

@Suite struct ThreadPoolLateWorkerTests {
    /// Jobs complete (every task exactly once, results visible to the caller) even when workers join
    /// late or not at all: a job waits only for the workers that joined it.
    @Test func jobsCompleteWhileWorkersAreBusyElsewhere() {
        let pool = ThreadPool(threadCount: 4)   // more threads than this machine may give us
        let hits = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64)
        defer { hits.deallocate() }
        for round in 0..<5_000 {
            hits.initialize(repeating: 0)
            pool.run(tasks: 64) { task, _ in hits[task] += 1 }
            if !hits.allSatisfy({ $0 == 1 }) {
                Issue.record("round \(round): tasks ran \(hits.filter { $0 != 1 }.count) times wrong")
                return
            }
            if round % 1_000 == 0 { usleep(2_000) }
        }
        // Thread indices stay in range and no two tasks run on one thread at once.
        let busy = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4)
        defer { busy.deallocate() }
        busy.initialize(repeating: 0)
        let overlaps = Atomic<Int>(0)
        pool.run(tasks: 400) { _, thread in
            busy[thread] += 1
            if busy[thread] != 1 { overlaps.add(1, ordering: .relaxed) }
            for _ in 0..<100 { ei_cpu_relax() }
            busy[thread] -= 1
        }
        #expect(overlaps.load(ordering: .relaxed) == 0)
    }
}
