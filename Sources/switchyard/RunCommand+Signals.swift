import Dispatch
import Foundation
import Logging

extension RunCommand {
    /// The daemon's signals, on a Dispatch queue of their own: SIGHUP runs `onReload` there;
    /// the first SIGTERM or SIGINT ends `termination()`; a second one while draining exits at
    /// once with status 1. Only the executable touches signal dispositions.
    ///
    /// (`@unchecked Sendable`: the sources and the count are touched only on `queue`, or in
    /// `init` and `cancel()`, which Dispatch allows from any thread.)
    final class SignalHandler: @unchecked Sendable {
        private let queue = DispatchQueue(label: "switchyard.signals")
        private var sources: [any DispatchSourceSignal] = []
        private let terminations: AsyncStream<String>
        private var terminationCount = 0

        /// Ignores SIGTERM, SIGINT and SIGHUP's default actions and handles them from now on.
        init(logger: Logger, onReload: @escaping @Sendable () -> Void) {
            let (stream, continuation) = AsyncStream.makeStream(of: String.self)
            terminations = stream
            for (number, name) in [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { [unowned self] in
                    terminationCount += 1
                    if terminationCount == 1 {
                        continuation.yield(name)
                    } else {
                        logger.warning("\(name) while draining: exiting now")
                        Foundation.exit(1)
                    }
                }
                sources.append(source)
            }
            signal(SIGHUP, SIG_IGN)
            let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
            hangup.setEventHandler(handler: onReload)
            sources.append(hangup)
            for source in sources { source.resume() }
        }

        /// Returns the name of the first SIGTERM or SIGINT received.
        func termination() async -> String {
            for await name in terminations { return name }
            return "end of signals"
        }

        /// Stops handling (the dispositions stay ignored).
        func cancel() {
            for source in sources { source.cancel() }
        }
    }
}
