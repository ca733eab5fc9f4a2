import ArgumentParser
import Foundation
import Kernels

/// `entropyinfer kernel-selftest`: every kernel at every instruction-set level this CPU has,
/// against its Swift reference. Exits non-zero on any mismatch. Tests run it under QEMU CPU models
/// without AVX-512 / AVX2 to prove the generic paths execute nothing their level lacks.
struct KernelSelfTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel-selftest",
        abstract: "Check every SIMD kernel against its plain Swift reference on this CPU.",
        shouldDisplay: false)

    @Flag(name: .long, help: "Print one line per kernel family.")
    var verbose = false

    func run() throws {
        let report = KernelSelfTest.run { line in
            if verbose || line.hasPrefix("FAIL") || line.hasPrefix("cpu") { print(line) }
        }
        print("kernel self-test: best level \(KernelISA.best), \(report.checkCount) checks, \(report.failures.count) failures")
        if !report.passed { throw ExitCode(1) }
    }
}
