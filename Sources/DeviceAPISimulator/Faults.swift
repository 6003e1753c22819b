/// Misbehaviour the simulator injects into Devices API answers (never into `/_sim/` calls).
public struct Faults: Sendable, Equatable {
    /// Added before every answer, in seconds.
    public var latency: Double = 0
    /// Fraction of requests answered with `errorStatus`.
    public var errorRate: Double = 0
    public var errorStatus: Int = 503
    /// Every Nth request is answered 429 with `Retry-After` (0: never).
    public var rateLimitEvery: Int = 0
    /// Seconds sent in `Retry-After` with a 429.
    public var retryAfter: Double = 1
    /// Fraction of successful answers whose body is not JSON.
    public var malformedRate: Double = 0
    /// Fraction of successful answers cut off mid-body, the connection closed.
    public var truncateRate: Double = 0

    public init() {}

    static let keys: Set<String> = [
        "latency", "error_rate", "error_status", "rate_limit_every", "retry_after", "malformed_rate", "truncate_rate",
    ]

    init(_ cursor: JSONCursor) throws {
        let fields = try cursor.object(allowing: Self.keys)
        latency = try fields["latency"]?.duration() ?? 0
        errorRate = try fields["error_rate"]?.fraction() ?? 0
        errorStatus = try fields["error_status"]?.integer(in: 400...599) ?? 503
        rateLimitEvery = try fields["rate_limit_every"]?.integer(in: 0...1_000_000) ?? 0
        retryAfter = try fields["retry_after"]?.duration() ?? 1
        malformedRate = try fields["malformed_rate"]?.fraction() ?? 0
        truncateRate = try fields["truncate_rate"]?.fraction() ?? 0
    }
}
