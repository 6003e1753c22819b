/// Which HTTP answers are worth trying again, for the Devices API client and every receiver
/// alike: 408 (the server timed out waiting), 429 (rate-limited; honour `Retry-After`) and every
/// 5xx. Anything else that is not 2xx is permanent: the same request will fail the same way.
public enum RetryableStatus {
    public static func contains(_ status: Int) -> Bool {
        status == 408 || status == 429 || (500..<600).contains(status)
    }
}
