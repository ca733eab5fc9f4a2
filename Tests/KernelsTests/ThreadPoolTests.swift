import Foundation
import Kernels
import Synchronization
import Testing

@Suite struct ThreadPoolTests {
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
