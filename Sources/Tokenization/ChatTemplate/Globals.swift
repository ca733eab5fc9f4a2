import Foundation

// The global functions of HF's chat template environment: jinja2's `range`, `namespace`,
// `dict`, and HF's `raise_exception(message)` and `strftime_now(format)`.

extension Interpreter {
    func callGlobal(_ function: BuiltinFunction, _ args: CallArguments) throws(ChatTemplateError) -> Value {
        switch function {
        case .range:
            guard args.keyword.isEmpty, (1...3).contains(args.positional.count) else {
                throw ChatTemplateError("range() takes 1 to 3 integer arguments")
            }
            var bounds: [Int] = []
            for value in args.positional {
                guard case .int(let i)? = value.numeric, !value.isDoubleValue else {
                    throw ChatTemplateError("'\(value.typeName)' object cannot be interpreted as an integer")
                }
                bounds.append(i)
            }
            let (start, stop, step) = bounds.count == 1 ? (0, bounds[0], 1)
                : (bounds[0], bounds[1], bounds.count == 3 ? bounds[2] : 1)
            guard step != 0 else { throw ChatTemplateError("range() arg 3 must not be zero") }
            // Counted in Double: the Int differences can overflow for extreme bounds.
            let span = (Double(stop) - Double(start)) / Double(step)
            let count = span > 0 ? Int(min(span.rounded(.up), 1e9)) : 0
            guard count <= 100_000 else {
                throw ChatTemplateError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
            }
            return .list((0..<count).map { .int(start + $0 * step) })
        case .namespace, .dict:
            var attributes = OrderedDict()
            guard args.positional.count <= 1 else {
                throw ChatTemplateError("\(function.rawValue)() takes at most 1 positional argument")
            }
            if let initial = args.positional.first {
                switch initial {
                case .dict(let dict): attributes = dict
                case .list(let pairs), .tuple(let pairs):
                    for pair in pairs {
                        let items = pair.listItems
                        guard items.count == 2, items[0].isHashable else {
                            throw ChatTemplateError("\(function.rawValue)() needs (key, value) pairs")
                        }
                        attributes[items[0]] = items[1]
                    }
                default: throw ChatTemplateError("'\(initial.typeName)' object is not iterable")
                }
            }
            for (name, value) in args.keyword { attributes[name] = value }
            guard function == .namespace else { return .dict(attributes) }
            if let name = attributes.keys.first(where: { $0.text?.hasPrefix("_") ?? false }) {
                throw ChatTemplateError("chat templates cannot store underscore-prefixed attributes on a namespace (\(name.pythonRepr))")
            }
            return .namespace(Namespace(attributes))
        case .raiseException:
            let a = try args.bind("raise_exception", ["message"])
            guard let message = a[0] else { throw ChatTemplateError("raise_exception() missing 1 required positional argument: 'message'") }
            throw ChatTemplateError(message.pythonString, kind: .raised)
        case .strftimeNow:
            let a = try args.bind("strftime_now", ["format"])
            guard case .string(let format)? = a[0] else { throw ChatTemplateError("strftime_now() argument must be str") }
            return .string(try strftime(format, now))
        }
    }

    /// Python's `datetime.now().strftime(format)`: C `strftime` in local time and the C locale
    /// (Python leaves LC_TIME at "C"), plus `%f` (microseconds), which only Python knows.
    private func strftime(_ format: String, _ date: Date) throws(ChatTemplateError) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        let microseconds = Int(((interval - interval.rounded(.down)) * 1_000_000).rounded(.down))
        var parts = tm()
        guard localtime_r(&seconds, &parts) != nil else { throw ChatTemplateError("strftime_now: cannot read the local time") }
        let expanded = format.replacingOccurrences(of: "%f", with: String(format: "%06d", microseconds))
        guard !expanded.isEmpty else { return "" }
        var buffer = [CChar](repeating: 0, count: 256 + expanded.utf8.count * 16)
        let written = Foundation.strftime(&buffer, buffer.count, expanded, &parts)
        guard written > 0 else { return "" }
        return String(decoding: buffer[..<written].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
