import Logging
import NIOCore
import NIOPosix
import SwitchyardAdmin

extension RunCommand {
    /// systemd's watchdog (`WatchdogSec=`): when `WATCHDOG_USEC` is set for this process
    /// (`WATCHDOG_PID` unset or this PID, per sd_watchdog_enabled(3)), sends `WATCHDOG=1` every
    /// half of it for as long as the task returned runs; nil when no watchdog is asked for.
    ///
    /// Each ping follows a round trip through every event loop of `group`, so a loop that is
    /// stuck (a handler blocking it) stops the pings and systemd restarts the daemon once
    /// `WatchdogSec` passes without one.
    static func startWatchdog(_ notifier: SystemdNotifier, group: MultiThreadedEventLoopGroup,
                              logger: Logger) -> Task<Void, Never>? {
        guard notifier.isEnabled, let interval = notifier.watchdogInterval else { return nil }
        logger.info("systemd watchdog: WATCHDOG=1 every \(interval)")
        return Task {
            while !Task.isCancelled {
                var alive = true
                for loop in group.makeIterator() {
                    do {
                        try await loop.submit {}.get()
                    } catch {
                        alive = false  // the group is shutting down
                    }
                }
                guard alive, !Task.isCancelled else { return }
                notify(logger) { try notifier.watchdog() }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
