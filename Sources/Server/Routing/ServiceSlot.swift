import Engine
import Foundation

/// Holds the generation service once the model has loaded. The HTTP server starts first (so
/// `/health` answers 503 while the model loads), then `serve` installs the service.
public final class ServiceSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var installed: (any GenerationService)?

    public init(_ service: (any GenerationService)? = nil) { installed = service }

    public func install(_ service: any GenerationService) { lock.withLock { installed = service } }

    /// The service when it exists and reports ready.
    public var ready: (any GenerationService)? {
        let service = lock.withLock { installed }
        guard let service, service.isReady else { return nil }
        return service
    }

    public var current: (any GenerationService)? { lock.withLock { installed } }
}
