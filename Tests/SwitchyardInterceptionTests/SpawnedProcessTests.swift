// SpawnedProcess: what the iptables runner and the tests start their children with.
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SwitchyardSubprocess
import SwitchyardTestSupport
import Testing

@Suite("SpawnedProcess: child processes that inherit nothing", .dedicatedThread)
struct SpawnedProcessTests {
    @Test("a child gets standard input, output and error only, even while a pipe of ours without close-on-exec is open")
    func inheritsNoDescriptor() throws {
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)  // no O_CLOEXEC: what Foundation's Pipe makes
        defer { ends.forEach { close($0) } }
        // The shell lists its own descriptors (the directory listing itself adds none in dash).
        let result = try SpawnedProcess.run(["/bin/sh", "-c", "ls /proc/$$/fd"])
        #expect(result.status == 0, "\(result)")
        let listed = result.stdout.split(separator: "\n").compactMap { Int32($0) }.sorted()
        #expect(listed.contains(0) && listed.contains(1) && listed.contains(2), "\(listed)")
        #expect(!listed.contains(ends[0]) && !listed.contains(ends[1]), "the child holds our pipe: \(listed)")
        #expect(listed.allSatisfy { $0 <= 2 || $0 == 10 }, "descriptors beyond stdio: \(listed)")  // dash keeps 10 for the script
    }

    @Test("exit status, a signal as 128 + its number, standard error apart or merged, input from text")
    func statusAndOutput() throws {
        let failed = try SpawnedProcess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(failed.status == 3)
        #expect(failed.stdout == "out\n")
        #expect(failed.stderr == "err\n")
        let merged = try SpawnedProcess.run(["/bin/sh", "-c", "echo out; echo err >&2"], errorOutput: .merged)
        #expect(merged.stdout == "out\nerr\n")
        let killed = try SpawnedProcess.run(["/bin/sh", "-c", "kill -TERM $$"])
        #expect(killed.status == 128 + SIGTERM)
        let echoed = try SpawnedProcess.run(["cat"], input: "line one\nline two\n")
        #expect(echoed.stdout == "line one\nline two\n")
    }

    @Test("a command that outlives its timeout is killed and named in the error; a missing program is named")
    func timeoutAndMissingProgram() throws {
        let started = Date()
        #expect {
            try SpawnedProcess.run(["/bin/sleep", "30"], timeout: 0.5)
        } throws: { error in
            "\(error)".contains("did not finish in 0.5 s: /bin/sleep 30")
        }
        #expect(Date().timeIntervalSince(started) < 25)
        #expect {
            try SpawnedProcess.run(["no-such-program-switchyard"])
        } throws: { error in
            "\(error)".contains("no-such-program-switchyard: not found")
        }
    }

    @Test("standard input held open: the child reads what is written, and end of input when it is closed")
    func heldOpenInput() async throws {
        let child = try SpawnedProcess(["/bin/cat"], input: .heldOpen)
        defer { child.kill(); child.removeFiles() }
        #expect(child.write("first\n"))
        #expect(await eventually { child.stdout == "first\n" })
        #expect(child.isRunning, "cat ended before its input did")
        child.closeInput()
        #expect(await child.waitForExit(timeout: 20))
        #expect(child.exitStatus == 0)
    }

    private func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<2000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
