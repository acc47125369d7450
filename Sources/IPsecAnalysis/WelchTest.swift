/// Welch's t-test between two classes of measurements (Welch 1947): t = (m₀ − m₁) / √(s₀²/n₀ + s₁²/n₁), with the
/// sample variances s² = M₂ / (n − 1). Means and M₂ are kept online by Welford's method (Knuth, TAOCP vol. 2,
/// §4.2.2), so a test takes measurements one at a time, in any order, without storing them — as dudect does.
public struct WelchTest: Hashable, Sendable {
    public private(set) var count0 = 0
    public private(set) var count1 = 0
    public private(set) var mean0 = 0.0
    public private(set) var mean1 = 0.0
    private var m2of0 = 0.0
    private var m2of1 = 0.0

    public init() {}

    /// Adds one measurement of class 0 (`second == false`) or class 1.
    public mutating func push(_ x: Double, second: Bool) {
        if second {
            count1 += 1
            let delta = x - mean1
            mean1 += delta / Double(count1)
            m2of1 += delta * (x - mean1)
        } else {
            count0 += 1
            let delta = x - mean0
            mean0 += delta / Double(count0)
            m2of0 += delta * (x - mean0)
        }
    }

    /// The unbiased sample variance of each class (nil with fewer than two measurements).
    public var variance0: Double? { count0 > 1 ? m2of0 / Double(count0 - 1) : nil }
    public var variance1: Double? { count1 > 1 ? m2of1 / Double(count1 - 1) : nil }

    /// The t statistic; nil until each class has two measurements. Two classes without any spread give 0 when their
    /// means are equal and ±infinity when they differ (the classes are told apart perfectly).
    public var t: Double? {
        guard let v0 = variance0, let v1 = variance1 else { return nil }
        let difference = mean0 - mean1
        let standardError = (v0 / Double(count0) + v1 / Double(count1)).squareRoot()
        if standardError == 0 { return difference == 0 ? 0 : (difference > 0 ? .infinity : -.infinity) }
        return difference / standardError
    }

    /// The t statistic of two samples at once.
    public static func t(_ class0: [Double], _ class1: [Double]) -> Double? {
        var test = WelchTest()
        for x in class0 { test.push(x, second: false) }
        for x in class1 { test.push(x, second: true) }
        return test.t
    }
}
