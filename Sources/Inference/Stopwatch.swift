import Foundation

/// Monotonic time for statistics and benchmarks.
public enum Stopwatch {
    public static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }
    public static func seconds(since start: UInt64) -> Double { Double(now - start) / 1e9 }
}
