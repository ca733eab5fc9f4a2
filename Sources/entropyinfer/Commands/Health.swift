import ArgumentParser
import Foundation
import HTTPServer
import Server

/// `entropyinfer health`: GET /health of a running server; exit 0 when it answers 200. The
/// container image's HEALTHCHECK uses it (the slim image has no curl).
struct Health: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a running server's /health; exit 0 when it is ready.",
        discussion: """
            Without --url, the URL comes from the same configuration `serve` reads (config file,
            ENTROPYINFER_* environment): http://<host>:<port>/health, with 0.0.0.0 and :: checked
            on the loopback address.
            """)

    @Option(help: "URL to check, e.g. http://127.0.0.1:8080/health.")
    var url: String?

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 5

    func run() throws {
        let target: String
        if let url {
            target = url
        } else {
            let configuration: Configuration
            do {
                configuration = try ConfigurationLoader().load(arguments: [], environment: ProcessInfo.processInfo.environment).configuration
            } catch {
                FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
                throw ExitCode(2)
            }
            var host = configuration.host
            if host == "0.0.0.0" || host.isEmpty { host = "127.0.0.1" }
            if host == "::" { host = "::1" }
            if host.contains(":") { host = "[\(host)]" }
            target = "http://\(host):\(configuration.port)/health"
        }
        do {
            let reply = try HTTPProbe.get(target, timeout: timeout)
            guard reply.status == 200 else {
                FileHandle.standardError.write(Data("unhealthy: \(target) answered \(reply.status)\n".utf8))
                throw ExitCode(1)
            }
            print("ok: \(target)")
        } catch let error as HTTPServerError {
            FileHandle.standardError.write(Data("unhealthy: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}
