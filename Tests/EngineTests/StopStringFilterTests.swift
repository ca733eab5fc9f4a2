import Engine
import Testing

@Suite struct StopStringFilterTests {
    /// Feeds pieces and returns (emitted text, matched stop).
    func run(_ stops: [String], _ pieces: [String]) -> (String, String?) {
        var filter = StopStringFilter(stops: stops)
        var out = ""
        for piece in pieces { out += filter.push(piece) }
        out += filter.finish()
        return (out, filter.matched)
    }

    @Test func cases() {
        #expect(run([], ["Hello", " world"]) == ("Hello world", nil))
        #expect(run(["STOP"], ["Hello ST", "OP there"]) == ("Hello ", "STOP"))
        #expect(run(["STOP"], ["Hello ST", "ART"]) == ("Hello START", nil))
        #expect(run(["\n"], ["line one\r", "\nline two"]) == ("line one\r", "\n"))
        #expect(run(["ab", "b"], ["xab"]) == ("x", "ab"))               // earliest occurrence wins
        #expect(run(["abc"], ["ab"]) == ("ab", nil))                     // held prefix released at the end
        #expect(run(["é!"], ["caf", "é", "!"]) == ("caf", "é!"))
        #expect(run(["<|end|>"], ["text<|", "end", "|>more"]) == ("text", "<|end|>"))
    }

    @Test func holdsOnlyWhatCouldStartAStop() {
        var filter = StopStringFilter(stops: ["###"])
        #expect(filter.push("a#") == "a")
        #expect(filter.push("b") == "#b")
        #expect(filter.push("##") == "")
        #expect(filter.push("#") == "")
        #expect(filter.matched == "###")
        #expect(filter.push("after") == "")
    }
}
