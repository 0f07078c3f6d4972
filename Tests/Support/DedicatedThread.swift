import Foundation
import Testing

/// Runs each test of a suite (or one test) on a thread of its own instead of Swift's
/// cooperative pool.
///
/// The cooperative pool has one thread per core: two on the machines this runs on. A test that
/// blocks its thread (waiting for a child process, `usleep` in a polling loop, a blocking
/// `recv`) takes one of the two away from every other test for as long as it waits; two such
/// tests at once stop all the async ones, whose clients then miss the proxies' timeouts. Tests
/// that block carry this trait; their bodies run on a dedicated thread (a task executor
/// preference, SE-0417), and at most `limit` of them at a time.
public struct DedicatedThread: TestTrait, SuiteTrait, TestScoping {
    /// How many tests with this trait run at once.
    public static let limit = 4

    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        // Scopes are provided for the suite, for each test and for each of its cases: only a
        // case runs code (a test's scope taking a slot too would hold one while its cases wait).
        guard testCase != nil, !test.isSuite else { return try await function() }
        await DedicatedThread.slots.acquire()
        let executor = ThreadExecutor(name: "test: \(test.name.prefix(40))")
        defer {
            executor.stop()
            Task { await DedicatedThread.slots.release() }
        }
        try await withTaskExecutorPreference(executor) {
            try await function()
        }
    }

    private static let slots = Slots(limit)
}

extension Trait where Self == DedicatedThread {
    /// Runs the test (each test of the suite) on a thread of its own, so that it may block.
    public static var dedicatedThread: Self { DedicatedThread() }
}

/// A counting semaphore whose waiters suspend instead of blocking.
actor Slots {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ count: Int) { free = count }

    func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            free += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// A task executor with one thread that runs its jobs in order.
final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []  // guarded by condition
    private var stopped = false  // guarded by condition

    init(name: String) {
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs queued so far have run.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
