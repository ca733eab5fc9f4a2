import JSON
import Testing

@Suite("JSON")
struct JSONTests {
    @Test func parsesEveryTypeKeepingKeyOrder() throws {
        let value = try JSONValue.parse(#"{"z": 1, "a": [true, false, null, 2.5, "x"], "m": {"b": -3, "a": 1e3}}"#)
        guard case .object(let object) = value else { Issue.record("not an object"); return }
        #expect(object.keys == ["z", "a", "m"])
        #expect(object["z"] == .int(1))
        #expect(object["a"] == [true, false, nil, 2.5, "x"])
        #expect(value["m"]?["b"] == .int(-3))
        #expect(value["m"]?["a"] == .double(1000))
        #expect(value["m"]?.objectValue?.keys == ["b", "a"])
    }

    @Test func stringsKeepUnicodeEscapesAndNUL() throws {
        let value = try JSONValue.parse(#"["\u00fc\u6f22 😀", "a\u0000b", "tab\there\n"]"#)
        #expect(value == ["ü漢 😀", "a\u{0}b", "tab\there\n"])
        #expect(value.arrayValue?[1].stringValue?.utf8.count == 3)
    }

    @Test func serializesCompactAndRoundTrips() throws {
        let value: JSONValue = ["b": 1, "a": ["x\"y\\z\n\u{1}", 0.1, -0.0, 1e300, .float(-0.1), .float(0.3)], "c": nil, "d": [:]]
        let text = value.jsonText
        #expect(text == #"{"b":1,"a":["x\"y\\z\n\u0001",0.1,-0.0,1e+300,-0.1,0.3],"c":null,"d":{}}"#)
        #expect(try JSONValue.parse(text) == value)
    }

    @Test func nonFiniteNumbersBecomeNull() {
        #expect(JSONValue.array([.double(.nan), .double(.infinity)]).jsonText == "[null,null]")
    }

    @Test func prettyPrintingIndentsTwoSpaces() {
        let value: JSONValue = ["a": [1, 2], "b": [:]]
        #expect(value.prettyPrinted() == "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}")
    }

    @Test func syntaxErrorsReportLineColumnAndPosition() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\": 1,\n  \"b\": ]}") }
        do {
            _ = try JSONValue.parse("{\"a\": 1,\n  \"b\": ]}")
        } catch {
            #expect(error.line == 2)
            #expect(error.column == 8)
            #expect(error.position == 17)  // jansson: the byte after the offending token
            #expect(error.message.contains("unexpected token"))
        }
    }

    @Test func rejectsEmptyTruncatedAndInvalidUTF8Documents() {
        #expect(throws: JSONParseError.self) { try JSONValue.parse("") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse("{\"a\": ") }
        #expect(throws: JSONParseError.self) { try JSONValue.parse([UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")]) }
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)) }
    }

    @Test func topLevelScalarsParse() throws {
        #expect(try JSONValue.parse("42") == 42)
        #expect(try JSONValue.parse("\"s\"") == "s")
    }

    @Test func integralRealsReadAsIntegers() {
        #expect(JSONValue.double(2.0).intValue == 2)
        #expect(JSONValue.double(2.5).intValue == nil)
        #expect(JSONValue.int(3).doubleValue == 3)
    }

    @Test func objectSetReplacesInPlaceAndRemoves() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = 3
        object["c"] = 4
        object["b"] = nil
        #expect(object.keys == ["a", "c"])
        #expect(object["a"] == 3)
    }

    @Test func largeObjectsKeepOrderWithTheirIndex() {
        var object = JSONObject()
        for index in 0..<100 { object["k\(index)"] = .int(index) }
        object["k50"] = nil
        object["k7"] = .int(-7)
        #expect(object.count == 99)
        #expect(object["k99"] == .int(99))
        #expect(object["k50"] == nil)
        #expect(object["k7"] == .int(-7))
        #expect(object.keys.first == "k0" && object.keys.last == "k99")
    }
}

@Suite("JSON fields")
struct JSONFieldsTests {
    let fields = JSONFields(["n": 2, "t": 0.5, "s": "x", "b": true, "nul": nil, "f": 2.0, "list": ["a", "b"],
                             "nested": ["k": "v"], "bad": ["x", 1]])

    @Test func absentAndNullReadAsNil() throws {
        #expect(try fields.int("missing") == nil)
        #expect(try fields.string("nul") == nil)
        #expect(!fields.contains("nul"))
    }

    @Test func typedReads() throws {
        #expect(try fields.int("n") == 2)
        #expect(try fields.int("f") == 2)
        #expect(try fields.double("n") == 2)
        #expect(try fields.double("t", .closed(0, 1)) == 0.5)
        #expect(try fields.bool("b") == true)
        #expect(try fields.strings("s") == ["x"])
        #expect(try fields.strings("list") == ["a", "b"])
        #expect(try fields.fields("nested")?.string("k") == "v")
    }

    @Test func wrongTypeNamesTheParameterAndTheExpectedType() {
        #expect(throws: JSONFieldError.invalidType("s", expected: "an integer", got: "x")) { try fields.int("s") }
        #expect(throws: JSONFieldError.invalidType("t", expected: "an integer", got: 0.5)) { try fields.int("t") }
        #expect(throws: JSONFieldError.invalidType("bad[1]", expected: "a string", got: 1)) { try fields.strings("bad") }
        #expect(throws: JSONFieldError.invalidType("nested.k", expected: "a boolean", got: "v")) {
            try fields.fields("nested")?.bool("k")
        }
        do {
            _ = try fields.bool("n")
        } catch {
            #expect(error.message == "Invalid type for 'n': expected a boolean, but got an integer instead.")
        }
    }

    @Test func outOfRangeIsAnInvalidValue() {
        do {
            _ = try fields.int("n", .closed(3, 5))
            Issue.record("no error")
        } catch {
            #expect(error.kind == .invalidValue)
            #expect(error.parameter == "n")
            #expect(error.message == "Invalid value for 'n': expected an integer between 3 and 5, but got 2.")
        }
        #expect(throws: JSONFieldError.self) { try fields.double("t", .greaterThan(0.5)) }
        #expect(throws: JSONFieldError.missing("absent")) { try fields.requiredString("absent") }
    }
}
