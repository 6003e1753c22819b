import Crypto
import Foundation

/// The identity of an alert instance: the first 16 bytes of SHA-256 over
/// `workspace NUL rule-id NUL device-id`, as 32 lowercase hex digits.
///
/// Stable across restarts, versions and hosts, so it serves as PagerDuty's `dedup_key`
/// (at most 255 characters) and as the base of signed webhooks' `webhook-id`.
public enum Fingerprint {
    public static func of(workspace: String, ruleID: String, deviceID: String) -> String {
        var data = Data(workspace.utf8)
        data.append(0)
        data.append(contentsOf: ruleID.utf8)
        data.append(0)
        data.append(contentsOf: deviceID.utf8)
        return hex(SHA256.hash(data: data).prefix(16))
    }

    /// A notification group's identity (receiver and group key): 32 hex digits of SHA-256.
    public static func ofGroup(_ groupID: String) -> String {
        hex(SHA256.hash(data: Data(("group\u{0}" + groupID).utf8)).prefix(16))
    }

    /// One life of a notification group, from its first alert until everything it told has
    /// resolved: its identity and when it began (to the millisecond). Notification ids are this
    /// plus a sequence number, so a group that ends and fires again days later never reuses an id.
    public static func ofGroup(_ groupID: String, createdAt: Date) -> String {
        ofGroup(groupID + "\u{0}" + String(Int64((createdAt.timeIntervalSince1970 * 1000).rounded())))
    }

    /// Lowercase hex of bytes.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
