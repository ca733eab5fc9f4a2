import Evaluation
import Foundation
import Testing

@Suite struct HaystackTests {
    @Test func sentenceUnitsReassembleTheTextExactly() {
        let text = "  GNU GENERAL PUBLIC LICENSE\n   Version 3, 29 June 2007\n\n Copyright (C) 2007 Free Software Foundation, Inc. Everyone is permitted: to copy.\nEnd of terms!   Next? yes e.g. this"
        let units = Haystack.sentenceUnits(of: text)
        #expect(units.joined() == text)
        #expect(units == [
            "  GNU GENERAL PUBLIC LICENSE\n   Version 3, 29 June 2007\n\n ",
            "Copyright (C) 2007 Free Software Foundation, Inc. ",
            "Everyone is permitted: ", "to copy.\n", "End of terms!   ", "Next? ", "yes e.g. ", "this",
        ])
    }

    @Test func longRunsWithoutSentenceEndsAreCutAtLineEnds() {
        let line = String(repeating: "word ", count: 30) + "\n"   // 151 characters, no sentence end
        let units = Haystack.sentenceUnits(of: String(repeating: line, count: 10))
        #expect(units.count > 2)
        #expect(units.allSatisfy { $0.count <= 400 + line.count })
    }

    @Test func unitsWrapAroundTheSource() {
        let haystack = Haystack.noise
        let units = Array(haystack.units(from: 3, count: 7))
        #expect(units == ["Here we go. ", "There and back again. ", "The grass is green. ", "The sky is blue. ",
                          "The sun is yellow. ", "Here we go. ", "There and back again. "])
    }

    @Test func corpusTakesRegularFilesSortedAndSkipsSymlinks() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corpus-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "second".write(toFile: directory + "/b-2", atomically: true, encoding: .utf8)
        try "first\n".write(toFile: directory + "/B-1", atomically: true, encoding: .utf8)
        try "third".write(toFile: directory + "/c", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: directory + "/a-link", withDestinationPath: directory + "/c")
        try FileManager.default.createDirectory(atPath: directory + "/d", withIntermediateDirectories: false)
        #expect(try LicenseCorpus.fileNames(in: directory) == ["B-1", "b-2", "c"])
        #expect(try LicenseCorpus.load(directory: directory) == "first\n\n\nsecond\n\nthird")
    }

    @Test func aMissingCorpusSaysWhatToDo() {
        #expect(throws: EvaluationError.self) { try LicenseCorpus.load(directory: "/nonexistent/licenses") }
        let message = EvaluationError.corpusUnavailable(path: "/x", reason: "cannot list the directory").description
        #expect(message.contains("--corpus"))
    }
}
