import Evaluation
import Testing
import TestSupport

/// The pulled SmolLM2-135M-Instruct, or a recorded issue saying how to get it.
func smolLM2Path() throws -> String {
    guard let path = TestModels.path(TestModels.smolLM2) else {
        Issue.record(Comment(rawValue: TestModels.missingMessage(TestModels.smolLM2)))
        throw EvaluationError.invalidOption("missing model")
    }
    return path
}
