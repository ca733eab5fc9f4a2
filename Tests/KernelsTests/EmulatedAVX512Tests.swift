import Foundation
import Kernels
import TestSupport
import Testing

/// The AVX-512 kernels verified without AVX-512 hardware: scripts/check-avx512-emulated.sh
/// compiles Sources/CKernels against SIMDe's portable AVX-512 intrinsics and compares every AVX-512
/// (and AVX2) kernel with the portable path bit for bit. On an AVX-512 CPU the other tests run the
/// real instructions as well.
@Suite struct EmulatedAVX512Tests {
    @Test func avx512KernelsMatchThePortablePath() throws {
        let script = TestModels.repositoryRoot.appendingPathComponent("scripts/check-avx512-emulated.sh").path
        var (status, output) = try KernelSelfTestUnderQEMUTests.run("/bin/bash", [script])
        if status == 2 {   // no compiler or no SIMDe headers: try installing them once
            let install = TestModels.repositoryRoot.appendingPathComponent("scripts/install-system-deps.sh").path
            _ = try? KernelSelfTestUnderQEMUTests.run("/bin/bash", [install])
            (status, output) = try KernelSelfTestUnderQEMUTests.run("/bin/bash", [script])
        }
        if status == 2 {
            print("skipping the emulated AVX-512 check: \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
            return
        }
        #expect(status == 0, "\(output)")
        #expect(output.contains(" 0 differences"), "\(output)")
    }
}
