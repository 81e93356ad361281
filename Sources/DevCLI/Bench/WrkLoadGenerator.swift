import Foundation
import TradesKit

/// wrk (https://github.com/wg/wrk) as the load generator of `trades bench http`, when it is installed: hello world, the
/// mix and each kind alone. The login storm stays with the built-in generator, which times reads and logins apart.
///
/// Each phase is a Lua script written for it (``Script``): the fixture's tokens and job ids as tables, and a `request()`
/// that picks each request as the built-in generator does (the same twentieths of the mix, spread over users and jobs).
/// New bids take (contractor, job) pairs from the run's ``BidAllocator``: a thread's `k`-th bid takes pair
/// `offset + thread + k × threads`, so no two threads, and no two runs, submit the same pair. The script's `done()`
/// prints one line of figures that ``Run/parse(_:)`` reads (wrk's own report is text for people).
///
/// A phase is two runs of wrk: the warm-up, whose figures are dropped, then the measured one. As wrk always does, each run
/// opens its connections at its start, inside its seconds.
struct WrkLoadGenerator: Sendable {
    /// The most connections a phase runs on wrk; above, the built-in generator runs it. wrk opens every connection at
    /// the start of its run, inside the measured seconds, and the server accepts a burst slowly while it serves (an event
    /// loop accepts a few connections per turn): at 2000 connections hello world's p99 measured 4–7 s under wrk, the
    /// wait to be accepted, against about 0.2 s once connected. The built-in generator connects first and warms up on
    /// the same connections before it measures.
    static let maximumConnections = 256

    let executable: URL
    let host: String
    let port: Int
    let threads: Int

    /// What one phase of wrk measured.
    struct PhaseResult: Sendable {
        var connections: Int
        /// The measured run.
        var measured: Run
        /// Answers of the warm-up and the measured run together (what the server's CPU time is divided by).
        var answered: Int
        /// CPU seconds wrk spent (user and system, both runs).
        var generatorCPUSeconds: Double?
    }

    /// The figures of one run of wrk, from the script's `done()`.
    struct Run: Sendable, Equatable {
        var requests: Int
        var durationSeconds: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        /// wrk's error counts by kind (`status` counts answers other than 2xx and 3xx), the zero ones left out.
        var errors: [String: Int]
        /// The most new bids one thread submitted.
        var bidsPerThread: Int

        var requestsPerSecond: Double { durationSeconds > 0 ? Double(requests) / durationSeconds : 0 }

        static let marker = "tradeskit-wrk"

        /// The line `done()` printed, among everything wrk printed.
        static func parse(_ output: String) -> Run? {
            guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(marker + " ") }) else { return nil }
            var fields: [String: Double] = [:]
            for pair in line.dropFirst(marker.count + 1).split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, let value = Double(parts[1]) else { return nil }
                fields[String(parts[0])] = value
            }
            guard let requests = fields["requests"], let duration = fields["duration_us"], let p50 = fields["p50_us"],
                let p99 = fields["p99_us"], let bids = fields["bids_per_thread"]
            else { return nil }
            var errors: [String: Int] = [:]
            for kind in ["connect", "read", "write", "status", "timeout"] {
                if let count = fields[kind], count > 0 { errors["wrk \(kind)"] = Int(count) }
            }
            return Run(
                requests: Int(requests), durationSeconds: duration / 1e6, p50Milliseconds: p50 / 1e3, p99Milliseconds: p99 / 1e3,
                errors: errors, bidsPerThread: Int(bids))
        }
    }

    /// Runs `script` on `connections` connections: `warmup` seconds whose figures are dropped, then `duration` measured.
    /// `timeout` is how long wrk waits for an answer before counting a timeout error.
    func run(_ script: Script, connections: Int, warmup: Double, duration: Double, timeout: Double, bids: BidAllocator) async throws
        -> PhaseResult
    {
        let threads = min(threads, connections)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tradeskit-wrk-\(UUID().uuidString).lua")
        // The script holds the fixture's access tokens: readable by this user only, and gone after the phase.
        guard
            FileManager.default.createFile(
                atPath: file.path, contents: Data(script.lua(threads: threads).utf8), attributes: [.posixPermissions: 0o600])
        else { throw HTTPBenchError("could not write wrk's script to \(file.path)") }
        defer { try? FileManager.default.removeItem(at: file) }
        let cpuBefore = ProcessCPU.waitedForChildrenSeconds()
        var answered = 0
        if warmup > 0 {
            let warm = try await once(file, threads: threads, connections: connections, seconds: warmup, timeout: timeout, bids: bids)
            answered += warm.requests
        }
        let measured = try await once(file, threads: threads, connections: connections, seconds: duration, timeout: timeout, bids: bids)
        answered += measured.requests
        let cpuAfter = ProcessCPU.waitedForChildrenSeconds()
        return PhaseResult(
            connections: connections, measured: measured, answered: answered,
            generatorCPUSeconds: ProcessCPU.elapsed(from: cpuBefore, to: cpuAfter))
    }

    private func once(_ script: URL, threads: Int, connections: Int, seconds: Double, timeout: Double, bids: BidAllocator) async throws -> Run {
        let arguments = [
            "--threads", "\(threads)", "--connections", "\(connections)", "--duration", "\(max(1, Int(seconds.rounded())))s",
            "--timeout", "\(max(1, Int(timeout.rounded())))s", "--script", script.path, "http://\(host):\(port)/",
            "--", "\(bids.handedOut)",
        ]
        let output = try await Subprocess.run(executable, arguments)
        guard output.status == 0, let run = Run.parse(output.text) else {
            throw HTTPBenchError("wrk failed (exit status \(output.status)): \(output.text.suffix(800))")
        }
        // Every pair a thread may have taken, whether or not its answer came back inside the run.
        bids.advance(by: run.bidsPerThread * threads)
        return run
    }
}

extension WrkLoadGenerator {
    /// The requests of one phase, as a wrk Lua script.
    struct Script: Sendable {
        /// Which kinds of request, in twentieths (or any proportion): `request()` walks the list.
        let slots: [HTTPBenchRequestKind]
        let fixture: HTTPBenchFixture?

        static let hello = Script(slots: [.hello], fixture: nil)
        static let oneRead = Script(slots: [.oneRead], fixture: nil)

        static func mix(_ fixture: HTTPBenchFixture) -> Script { Script(slots: HTTPBenchWorkload.mixSlots, fixture: fixture) }

        static func only(_ kind: HTTPBenchRequestKind, _ fixture: HTTPBenchFixture) -> Script { Script(slots: [kind], fixture: fixture) }

        func lua(threads: Int) -> String {
            func table(_ values: [String]) -> String { "{" + values.map(Self.quoted).joined(separator: ", ") + "}" }
            func ids(_ values: [JobID]?) -> String { table((values ?? []).map { $0.uuidString.lowercased() }) }
            // A baseline is one fixed request: wrk formats it once and sends it as is, its cheapest way to load a server.
            if slots == [.hello] {
                return """
                    -- Written by `trades bench http` for one phase; see WrkLoadGenerator.
                    wrk.path = \(Self.quoted(BenchmarkRoute.helloPath))

                    \(Self.done)
                    """
            }
            if slots == [.oneRead] {
                return """
                    -- Written by `trades bench http` for one phase; see WrkLoadGenerator.
                    wrk.path = \(Self.quoted(BenchmarkRoute.readPath))
                    wrk.headers["X-Tenant"] = \(Self.quoted(HTTPBenchFixture.tenantSlug))

                    \(Self.done)
                    """
            }
            return """
                -- Written by `trades bench http` for one phase; see WrkLoadGenerator.
                local slots = \(table(slots.map(\.rawValue)))
                local contractors = \(table(fixture?.contractorTokens ?? []))
                local homeowner = \(Self.quoted(fixture?.homeownerToken ?? ""))
                local openJobs = \(ids(fixture?.openJobs))
                local bidTargets = \(ids(fixture?.bidTargets))
                local awardedJobs = \(ids(fixture?.awardedJobs))
                local threadCount = \(threads)
                local bidBody = \(Self.quoted(HTTPBenchWorkload.bidBody))
                local messageBody = \(Self.quoted(HTTPBenchWorkload.messageBody))

                \(Self.done)

                -- Each thread's state: its requests, in turn.
                local offset = 0
                local sent = 0
                bids = 0
                function init(args)
                  offset = tonumber(args[1]) or 0
                end

                local function get(path, token)
                  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
                end

                local function post(path, token, body)
                  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
                end

                function request()
                  sent = sent + 1
                  local kind = slots[(sent + id * 7) % #slots + 1]
                  local spread = sent * 17 + id * 31
                  local contractor = contractors[spread % #contractors + 1]
                  if kind == "searchJobs" then
                    return get("/v1/jobs?status=open&limit=20", contractor)
                  elseif kind == "jobDetail" then
                    return get("/v1/jobs/" .. openJobs[spread % #openJobs + 1], contractor)
                  elseif kind == "listBids" then
                    return get("/v1/jobs/" .. openJobs[spread % #openJobs + 1] .. "/bids", homeowner)
                  elseif kind == "listMessages" then
                    return get("/v1/jobs/" .. awardedJobs[spread % #awardedJobs + 1] .. "/messages", homeowner)
                  elseif kind == "postMessage" then
                    return post("/v1/jobs/" .. awardedJobs[spread % #awardedJobs + 1] .. "/messages", homeowner, messageBody)
                  else
                    -- submitBid: a pair no other thread or run takes; consecutive bids go to different jobs.
                    local pair = (offset + id + bids * threadCount) % (#contractors * #bidTargets)
                    bids = bids + 1
                    local token = contractors[math.floor(pair / #bidTargets) + 1]
                    return post("/v1/jobs/" .. bidTargets[pair % #bidTargets + 1] .. "/bids", token, bidBody)
                  end
                end

                """
        }

        /// The main state's part: number the threads, and print the figures at the end.
        static let done = """
            local started = {}
            function setup(thread)
              thread:set("id", #started)
              table.insert(started, thread)
            end

            function done(summary, latency, requests)
              local most = 0
              for _, thread in ipairs(started) do
                local count = thread:get("bids") or 0
                if count > most then most = count end
              end
              local e = summary.errors
              io.write(string.format(
                "\(Run.marker) requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p99_us=%d bids_per_thread=%d\\n",
                summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
                latency:percentile(50), latency:percentile(99), most))
            end
            """

        /// A Lua string literal.
        static func quoted(_ text: String) -> String {
            var literal = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\\": literal += "\\\\"
                case "\"": literal += "\\\""
                case "\n": literal += "\\n"
                case "\r": literal += "\\r"
                default:
                    if scalar.value < 0x20 || scalar.value == 0x7F {
                        literal += "\\" + String(format: "%03d", scalar.value)
                    } else {
                        literal.unicodeScalars.append(scalar)
                    }
                }
            }
            return literal + "\""
        }
    }
}
