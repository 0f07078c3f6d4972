import NIOCore

/// Counts the peer's RST_STREAM frames in fixed windows; `record` says when there were too
/// many (the rapid-reset attack, CVE-2023-44487: open and cancel streams faster than the
/// server can notice).
struct RapidResetGuard {
    let limit: Int
    let window: TimeAmount
    private var windowStart: NIODeadline = .uptimeNanoseconds(0)
    private var count = 0

    init(limit: Int, window: TimeAmount) {
        self.limit = limit
        self.window = window
    }

    /// Counts one reset at `now`; true when the limit is exceeded.
    mutating func record(now: NIODeadline) -> Bool {
        if now - windowStart > window {
            windowStart = now
            count = 0
        }
        count += 1
        return count > limit
    }
}
