import ArgumentParser
import Foundation

/// `trades bench …`: benchmarks that report ratios against baselines measured in the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks (build with -c release).",
        subcommands: [StorageBenchCommand.self, HTTPBenchCommand.self, HTTPBenchServerCommand.self])
}

/// Wall-clock timing and latency percentiles.
struct Stopwatch {
    private let start = ContinuousClock.now

    var elapsedSeconds: Double {
        let duration = ContinuousClock.now - start
        return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Times `body`, returning its latency in milliseconds.
    static func milliseconds(_ body: () async throws -> Void) async rethrows -> Double {
        let watch = Stopwatch()
        try await body()
        return watch.elapsedSeconds * 1_000
    }
}

extension Array where Element == Double {
    /// The `p`th percentile (0…100) by nearest rank.
    func percentile(_ p: Double) -> Double {
        guard !isEmpty else { return 0 }
        let sorted = self.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
        return sorted[Swift.max(0, Swift.min(sorted.count - 1, rank))]
    }
}

/// What the machine is, for the report.
enum MachineInfo {
    static var summary: String {
        let cpu =
            (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        let memory = ProcessInfo.processInfo.physicalMemory / 1_073_741_824
        return
            "\(ProcessInfo.processInfo.activeProcessorCount) cores (\(cpu)), \(memory) GiB RAM, "
            + ProcessInfo.processInfo.operatingSystemVersionString
    }
}
